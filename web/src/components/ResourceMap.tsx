import { lazy, Suspense, useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { Resource } from '../client/types'
import { osmLink } from '../lib/geo'
import { href } from '../lib/router'
import { LocationPlot, type MapPoint } from './LocationPlot'

const LeafletMap = lazy(() => import('./LeafletMap'))

/**
 * Places with a GPS point: an OpenStreetMap map when online, else a plain plot; and always the
 * list with coordinates, which works for keyboards, screen readers and with no internet.
 */
export function ResourceMap({ resources, tiles = true }: { resources: Resource[]; tiles?: boolean }) {
  const { t } = useTranslation()
  const points: MapPoint[] = useMemo(
    () => resources.filter((r) => r.location).map((r) => ({ resource: r, lat: r.location!.lat, lon: r.location!.lon })),
    [resources],
  )
  const offline = typeof navigator !== 'undefined' && navigator.onLine === false
  const [failed, setFailed] = useState(false)
  const useTiles = tiles && !offline && !failed
  const elsewhere = resources.filter((r) => !r.location && (r.address || r.url) && r.kind === 'location')

  return (
    <div className="map">
      {points.length === 0 ? (
        <p className="empty">{t('map.empty')}</p>
      ) : useTiles ? (
        <Suspense fallback={<p className="muted">{t('loading.map')}</p>}>
          <LeafletMap points={points} onTilesFailed={() => setFailed(true)} />
        </Suspense>
      ) : (
        <>
          <p className="note" role="status">
            {tiles ? t('map.noTiles') : t('map.plotted')}
          </p>
          <LocationPlot points={points} />
        </>
      )}
      {points.length ? (
        <table className="coords">
          <caption>{t('map.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('map.place')}</th>
              <th scope="col">{t('map.coordinates')}</th>
              <th scope="col">{t('map.address')}</th>
            </tr>
          </thead>
          <tbody>
            {points.map((p) => (
              <tr key={p.resource.id}>
                <th scope="row">
                  <a href={href('/resources', p.resource.id)}>{p.resource.name}</a>
                </th>
                <td className="mono">
                  {p.lat.toFixed(5)}, {p.lon.toFixed(5)}{' '}
                  <a href={osmLink(p.lat, p.lon)} target="_blank" rel="noreferrer">
                    OpenStreetMap
                  </a>
                </td>
                <td>{p.resource.address || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {elsewhere.length ? (
        <>
          <h3>{t('map.withoutGps')}</h3>
          <ul className="list plain">
            {elsewhere.map((r) => (
              <li key={r.id}>
                <a href={href('/resources', r.id)}>{r.name}</a>: {r.address || r.url}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  )
}
