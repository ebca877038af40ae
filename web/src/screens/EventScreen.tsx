import { useState, type FormEvent } from 'react'
import { useClient } from '../client/context'
import { errorMessage, type Festival, type FestivalEvent } from '../client/types'
import { CheckNote } from '../components/CheckNote'
import { RequestCard } from '../components/RequestCard'
import { Timeline } from '../components/Timeline'
import { ErrorNote, Loading } from '../components/ui'
import { href } from '../lib/router'
import { dayKey, formatRange } from '../lib/time'
import { useData } from '../lib/useData'
import { personName } from '../lib/words'

export function EventScreen({ id }: { id: string }) {
  const ev = useData((c) => c.event(id), [id])
  const fest = useData((c) => (ev.data ? c.festival(ev.data.festival) : Promise.resolve(null)), [ev.data?.festival])
  if (!ev.data) return ev.error ? <ErrorNote message={ev.error} /> : <Loading what="the event" />
  if (!fest.data) return fest.error ? <ErrorNote message={fest.error} /> : <Loading />
  return <EventView event={ev.data} festival={fest.data} />
}

function EventView({ event: e, festival: f }: { event: FestivalEvent; festival: Festival }) {
  const tz = f.timezone
  return (
    <section>
      <nav className="crumbs" aria-label="Where this is">
        <a href="#/">Festivals</a> › <a href={href('/festivals', f.id)}>{f.name}</a> ›{' '}
        <a href={href('/festivals', f.id, 'events')}>Events</a>
      </nav>
      <div className="page-head">
        <h1>
          {e.title} {e.cancelled ? <span className="badge status-withdrawn">Cancelled</span> : null}
        </h1>
      </div>
      <p className="when big">{formatRange(e.start, e.end, tz)}</p>
      <p className="meta">
        Organised by {personName(e.organiser_name, e.organiser, e.mine)} · times in {tz.replace(/_/g, ' ')}
      </p>
      {e.description ? <p className="desc">{e.description}</p> : null}

      <h2>Requested resources</h2>
      {e.requests.length ? (
        <ul className="list">
          {e.requests.map((q) => (
            <RequestCard key={q.id} request={q} timeZone={tz} heading="resource" showConflicts />
          ))}
        </ul>
      ) : (
        <p className="muted">This event has not requested any resources.</p>
      )}
      {!e.cancelled && e.requests.length ? <EventDay event={e} festival={f} /> : null}
      {e.mine && !e.cancelled ? <AddRequest event={e} festival={f} /> : null}
      {e.mine && !e.cancelled ? <CancelBox event={e} /> : null}
    </section>
  )
}

/** The requested resources on the event's day, with the event outlined. */
function EventDay({ event: e, festival: f }: { event: FestivalEvent; festival: Festival }) {
  const ids = [...new Set(e.requests.map((q) => q.resource))]
  const resources = useData((c) => Promise.all(ids.map((id) => c.resource(id))), [ids.join(',')])
  if (!resources.data) return null
  return (
    <section>
      <h2>That day for these resources</h2>
      <Timeline
        timeZone={f.timezone}
        festival={f.id}
        resources={resources.data}
        days={[dayKey(e.start, f.timezone)]}
        highlight={e}
        linkFree={false}
      />
    </section>
  )
}

function AddRequest({ event: e, festival: f }: { event: FestivalEvent; festival: Festival }) {
  const client = useClient()
  const resources = useData((c) => c.resources(f.id), [f.id])
  const [resource, setResource] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const check = useData(
    (c) => (resource ? c.check({ resource, start: e.start, end: e.end }) : Promise.resolve(null)),
    [resource, e.start, e.end],
  )
  const requested = new Set(e.requests.filter((q) => q.status === 'pending' || q.status === 'confirmed').map((q) => q.resource))
  const options = (resources.data ?? []).filter((r) => !r.retired && !requested.has(r.id))

  async function submit(ev: FormEvent) {
    ev.preventDefault()
    if (!resource) return setError('Choose a resource.')
    setBusy(true)
    setError(null)
    try {
      await client.addRequest(e.id, { resource })
      setResource('')
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }

  if (!options.length) return null
  return (
    <form className="card form add-request" onSubmit={submit}>
      <h2>Request another resource</h2>
      <div className="field">
        <label htmlFor="add-res">Resource (for {formatRange(e.start, e.end, f.timezone)})</label>
        <select id="add-res" value={resource} onChange={(x) => setResource(x.target.value)}>
          <option value="">Choose…</option>
          {options.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </select>
        {resource && check.data ? (
          <p className="hint">
            <CheckNote result={check.data} timeZone={f.timezone} />
          </p>
        ) : null}
      </div>
      <ErrorNote message={error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || !resource}>
          Send request
        </button>
      </div>
    </form>
  )
}

function CancelBox({ event: e }: { event: FestivalEvent }) {
  const client = useClient()
  const [asking, setAsking] = useState(false)
  const [error, setError] = useState<string | null>(null)
  async function cancel() {
    setError(null)
    try {
      await client.cancelEvent(e.id)
      setAsking(false)
    } catch (err) {
      setError(errorMessage(err))
    }
  }
  return (
    <section className="card danger-zone">
      <h2>Cancel this event</h2>
      <p>Its requests are withdrawn and every booked resource becomes free again.</p>
      {asking ? (
        <div className="actions">
          <button type="button" className="danger" onClick={cancel}>
            Yes, cancel {e.title}
          </button>
          <button type="button" onClick={() => setAsking(false)}>
            Keep it
          </button>
        </div>
      ) : (
        <button type="button" onClick={() => setAsking(true)}>
          Cancel event…
        </button>
      )}
      <ErrorNote message={error} />
    </section>
  )
}
