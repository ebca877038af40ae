// The online map: Leaflet with OpenStreetMap tiles. Loaded only when the Map tab opens (its
// own chunk). If the tiles cannot load (offline), it tells the parent, which shows the plain
// plot instead.

import L from 'leaflet'
import 'leaflet/dist/leaflet.css'
import { useEffect, useRef } from 'react'
import { useTranslation } from 'react-i18next'
import { href } from '../lib/router'
import type { MapPoint } from './LocationPlot'

export default function LeafletMap({ points, onTilesFailed }: { points: MapPoint[]; onTilesFailed: () => void }) {
  const { t } = useTranslation()
  const attribution = t('map.attribution')
  const el = useRef<HTMLDivElement>(null)
  const failed = useRef(onTilesFailed)
  useEffect(() => {
    failed.current = onTilesFailed
  }, [onTilesFailed])

  useEffect(() => {
    if (!el.current) return
    const map = L.map(el.current, { scrollWheelZoom: false })
    let loaded = 0
    let errors = 0
    const tiles = L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png', {
      maxZoom: 19,
      attribution,
    })
    tiles.on('tileload', () => loaded++)
    tiles.on('tileerror', () => {
      errors++
      if (loaded === 0 && errors >= 2) failed.current()
    })
    tiles.addTo(map)
    const timer = setTimeout(() => {
      if (loaded === 0) failed.current()
    }, 8000)

    const latlngs: L.LatLngExpression[] = []
    for (const p of points) {
      latlngs.push([p.lat, p.lon])
      const link = document.createElement('a')
      link.href = href('/resources', p.resource.id)
      link.textContent = p.resource.name
      L.circleMarker([p.lat, p.lon], { radius: 9, color: '#1f5f4a', weight: 3, fillColor: '#f6c945', fillOpacity: 1 })
        .bindTooltip(p.resource.name, { permanent: true, direction: 'right', offset: [10, 0] })
        .bindPopup(link)
        .addTo(map)
    }
    if (latlngs.length === 1) map.setView(latlngs[0], 17)
    else map.fitBounds(L.latLngBounds(latlngs), { padding: [40, 40], maxZoom: 18 })

    return () => {
      clearTimeout(timer)
      map.remove()
    }
  }, [points, attribution])

  return <div ref={el} className="leaflet-box" role="region" aria-label={t('map.leaflet')} />
}
