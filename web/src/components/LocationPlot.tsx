// Places plotted by their coordinates on a plain SVG: works with no internet at all (the map
// tiles need it). North is up; distances are true to scale (equirectangular around the middle).

import { useTranslation } from 'react-i18next'
import type { Resource } from '../client/types'
import { href } from '../lib/router'

export interface MapPoint {
  resource: Resource
  lat: number
  lon: number
}

const W = 600
const H = 360
const PAD = 48

export function LocationPlot({ points }: { points: MapPoint[] }) {
  const { t } = useTranslation()
  if (!points.length) return null
  const midLat = points.reduce((s, p) => s + p.lat, 0) / points.length
  const k = Math.cos((midLat * Math.PI) / 180)
  const xs = points.map((p) => p.lon * k)
  const ys = points.map((p) => -p.lat)
  const minX = Math.min(...xs)
  const maxX = Math.max(...xs)
  const minY = Math.min(...ys)
  const maxY = Math.max(...ys)
  const span = Math.max(maxX - minX, maxY - minY, 0.0005) // at least ~50 m across
  const scale = Math.min((W - 2 * PAD) / span, (H - 2 * PAD) / span)
  const cx = (minX + maxX) / 2
  const cy = (minY + maxY) / 2
  const at = (i: number) => ({ x: W / 2 + (xs[i] - cx) * scale, y: H / 2 + (ys[i] - cy) * scale })
  const bar = scaleBar(scale)

  return (
    <svg className="plot" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="plot-title">
      <title id="plot-title">{t('map.plotTitle')}</title>
      <rect x="0" y="0" width={W} height={H} className="plot-bg" />
      <text x={W - 16} y={26} className="plot-north" textAnchor="end">
        ↑ N
      </text>
      {points.map((p, i) => {
        const { x, y } = at(i)
        const right = x < W - 150
        return (
          <a key={p.resource.id} href={href('/resources', p.resource.id)}>
            <circle cx={x} cy={y} r={8} className={`plot-dot kind-${p.resource.kind}`} />
            <text x={right ? x + 13 : x - 13} y={y + 5} textAnchor={right ? 'start' : 'end'} className="plot-label">
              {p.resource.name}
            </text>
          </a>
        )
      })}
      {bar ? (
        <g className="plot-scale" transform={`translate(16 ${H - 20})`}>
          <line x1={0} x2={bar.px} y1={0} y2={0} />
          <line x1={0} x2={0} y1={-5} y2={5} />
          <line x1={bar.px} x2={bar.px} y1={-5} y2={5} />
          <text x={bar.px / 2} y={-8} textAnchor="middle">
            {bar.label}
          </text>
        </g>
      ) : null}
    </svg>
  )
}

/** A round distance that is 60–150 px long at this scale (px per degree of latitude). */
function scaleBar(pxPerDegree: number): { px: number; label: string } | null {
  const metresPerPx = 111_320 / pxPerDegree
  for (const m of [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000]) {
    const px = m / metresPerPx
    if (px >= 60) return { px, label: m >= 1000 ? `${m / 1000} km` : `${m} m` }
  }
  return null
}
