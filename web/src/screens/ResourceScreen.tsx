import { useMemo, useState } from 'react'
import { useClient } from '../client/context'
import { errorMessage, type Festival, type Resource } from '../client/types'
import { CalendarLinkBox } from '../components/CalendarLinkBox'
import { osmLink } from '../lib/geo'
import { Timeline } from '../components/Timeline'
import { ErrorNote, Loading } from '../components/ui'
import { dayPages, festivalDays } from '../lib/days'
import { href, newEventHref } from '../lib/router'
import { dayKey, formatRange } from '../lib/time'
import { useData } from '../lib/useData'
import { useNow } from '../lib/useNow'
import { KIND_TEXT, personName, policyText } from '../lib/words'

export function ResourceScreen({ id }: { id: string }) {
  const res = useData((c) => c.resource(id), [id])
  const fest = useData((c) => (res.data ? c.festival(res.data.festival) : Promise.resolve(null)), [res.data?.festival])
  const r = res.data
  if (!r) return res.error ? <ErrorNote message={res.error} /> : <Loading what="the resource" />
  if (!fest.data) return fest.error ? <ErrorNote message={fest.error} /> : <Loading />
  return <ResourceView resource={r} festival={fest.data} />
}

function ResourceView({ resource: r, festival: f }: { resource: Resource; festival: Festival }) {
  const tz = f.timezone
  return (
    <section>
      <nav className="crumbs" aria-label="Where this is">
        <a href="#/">Festivals</a> › <a href={href('/festivals', f.id)}>{f.name}</a> ›{' '}
        <a href={href('/festivals', f.id, 'resources')}>Resources</a>
      </nav>
      <div className="page-head">
        <h1>
          {r.name} {r.retired ? <span className="badge status-withdrawn">Retired</span> : null}
        </h1>
        <div className="head-actions">
          {!r.retired ? (
            <a className="button primary" href={newEventHref(f.id, { resource: r.id })}>
              Request it for an event
            </a>
          ) : null}
          {r.mine && !r.retired ? (
            <a className="button" href={href('/resources', r.id, 'edit')}>
              Edit
            </a>
          ) : null}
        </div>
      </div>
      <dl className="facts-list card">
        <dt>Kind</dt>
        <dd>{KIND_TEXT[r.kind]}</dd>
        <dt>Owner</dt>
        <dd>{personName(r.owner_name, r.owner, r.mine)}</dd>
        <dt>How requests are decided</dt>
        <dd>{policyText(r.policy)}</dd>
        {r.description ? (
          <>
            <dt>About</dt>
            <dd>{r.description}</dd>
          </>
        ) : null}
        {r.address ? (
          <>
            <dt>Address</dt>
            <dd>{r.address}</dd>
          </>
        ) : null}
        {r.location ? (
          <>
            <dt>GPS</dt>
            <dd>
              <span className="mono">
                {r.location.lat.toFixed(5)}, {r.location.lon.toFixed(5)}
              </span>{' '}
              <a href={osmLink(r.location.lat, r.location.lon)} target="_blank" rel="noreferrer">
                Open in OpenStreetMap
              </a>
            </dd>
          </>
        ) : null}
        {r.url ? (
          <>
            <dt>Online at</dt>
            <dd>
              <a href={r.url} target="_blank" rel="noreferrer">
                {r.url}
              </a>
            </dd>
          </>
        ) : null}
        <dt>Available</dt>
        <dd>
          {r.availability === 'always' ? (
            'Any time'
          ) : (
            <ul className="plain">
              {r.availability.map((w) => (
                <li key={w.start}>{formatRange(w.start, w.end, tz)}</li>
              ))}
            </ul>
          )}
        </dd>
      </dl>
      <h2>When it is free</h2>
      <ResourceCalendar resource={r} festival={f} />
      <h2>Calendar</h2>
      <CalendarLinkBox target={{ resource: r.id }} name={r.name} />
      {r.mine && !r.retired ? <RetireBox resource={r} /> : null}
    </section>
  )
}

function ResourceCalendar({ resource, festival: f }: { resource: Resource; festival: Festival }) {
  const now = useNow()
  const days = useMemo(() => festivalDays(f, now, 14), [f, now])
  const { pages, start } = useMemo(() => dayPages(days, 7, dayKey(now, f.timezone)), [days, f.timezone, now])
  const [page, setPage] = useState<number | null>(null)
  const current = page ?? start
  return (
    <div>
      {pages.length > 1 ? (
        <div className="pager">
          <button type="button" onClick={() => setPage(current - 1)} disabled={current === 0}>
            ← Earlier
          </button>
          <button type="button" onClick={() => setPage(current + 1)} disabled={current >= pages.length - 1}>
            Later →
          </button>
        </div>
      ) : null}
      <Timeline timeZone={f.timezone} festival={f.id} resources={[resource]} days={pages[current] ?? []} byDay />
    </div>
  )
}

function RetireBox({ resource: r }: { resource: Resource }) {
  const client = useClient()
  const [asking, setAsking] = useState(false)
  const [error, setError] = useState<string | null>(null)
  async function retire() {
    setError(null)
    try {
      await client.retireResource(r.id)
      setAsking(false)
    } catch (e) {
      setError(errorMessage(e))
    }
  }
  return (
    <section className="card danger-zone">
      <h2>Retire {r.name}</h2>
      <p>A retired resource can no longer be requested. Bookings already confirmed stay in the schedule.</p>
      {asking ? (
        <div className="actions">
          <button type="button" className="danger" onClick={retire}>
            Yes, retire {r.name}
          </button>
          <button type="button" onClick={() => setAsking(false)}>
            Keep it
          </button>
        </div>
      ) : (
        <button type="button" onClick={() => setAsking(true)}>
          Retire…
        </button>
      )}
      <ErrorNote message={error} />
    </section>
  )
}
