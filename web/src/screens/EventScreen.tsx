import { useState, type FormEvent } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import { useClient } from '../client/context'
import { errorMessage, type EventChange, type EventUpdate, type Festival, type FestivalEvent } from '../client/types'
import { CheckNote } from '../components/CheckNote'
import { RequestCard } from '../components/RequestCard'
import { ApplicationNote, WaitingBadge } from '../components/Tickets'
import { DateTimeInput } from '../components/TimeInputs'
import { Timeline } from '../components/Timeline'
import { ErrorNote, Loading } from '../components/ui'
import { href } from '../lib/router'
import { dayKey, formatRange, utcToZonedInput } from '../lib/time'
import { useData } from '../lib/useData'
import { personName, statusText } from '../lib/words'

export function EventScreen({ id }: { id: string }) {
  const ev = useData((c) => c.event(id), [id])
  const fest = useData((c) => (ev.data ? c.festival(ev.data.festival) : Promise.resolve(null)), [ev.data?.festival])
  if (!ev.data) return ev.error ? <ErrorNote message={ev.error} /> : <Loading what="event" />
  if (!fest.data) return fest.error ? <ErrorNote message={fest.error} /> : <Loading />
  return <EventView event={ev.data} festival={fest.data} />
}

function EventView({ event: e, festival: f }: { event: FestivalEvent; festival: Festival }) {
  const { t } = useTranslation()
  const tz = f.timezone
  return (
    <section>
      <nav className="crumbs" aria-label={t('common.whereThisIs')}>
        <a href="#/">{t('nav.festivals')}</a> › <a href={href('/festivals', f.id)}>{f.name}</a> ›{' '}
        <a href={href('/festivals', f.id, 'events')}>{t('event.events')}</a>
      </nav>
      <div className="page-head">
        <h1>
          {e.title} {e.cancelled ? <span className="badge status-withdrawn">{t('common.cancelled')}</span> : null}
          {!e.cancelled && !e.admitted && !e.application ? <WaitingBadge event={e} /> : null}
        </h1>
      </div>
      <p className="when big">{formatRange(e.start, e.end, tz)}</p>
      <p className="meta">
        {t('event.organisedBy', { name: personName(e.organiser_name, e.organiser, e.mine), zone: tz.replace(/_/g, ' ') })}
      </p>
      {e.description ? <p className="desc">{e.description}</p> : null}
      {e.application ? (
        <ApplicationNote event={e} festival={f} />
      ) : !e.cancelled && !e.admitted ? (
        <p className="note warn">
          {e.mine ? (
            <Trans i18nKey="tickets.eventWaitingMine" components={{ a: <a href={href('/festivals', f.id)} /> }} />
          ) : (
            t('tickets.eventWaitingOther', { name: personName(e.organiser_name, e.organiser) })
          )}
        </p>
      ) : null}
      {!e.application && !e.cancelled && (e.requested > 0 || e.all_or_nothing) ? <BundleNote event={e} /> : null}

      <h2>{t('event.requested')}</h2>
      {e.requests.length ? (
        <ul className="list">
          {e.requests.map((q) => (
            <RequestCard key={q.id} request={q} timeZone={tz} heading="resource" showConflicts application={q.resource === f.ticket} ticketed={Boolean(f.ticket)} />
          ))}
        </ul>
      ) : (
        <p className="muted">{t('event.noRequests')}</p>
      )}
      {!e.cancelled && !e.application && e.requests.length ? <EventDay event={e} festival={f} /> : null}
      {e.mine && !e.cancelled ? <EditEvent key={`${e.title}|${e.start}|${e.end}|${e.description}|${e.all_or_nothing}`} event={e} festival={f} /> : null}
      {e.mine && !e.cancelled && !e.application ? <AddRequest event={e} festival={f} /> : null}
      {e.mine && !e.cancelled ? <CancelBox event={e} /> : null}
    </section>
  )
}

/**
 * "2 of 3 confirmed — all or nothing: booked only when all are confirmed", and when a request
 * of an all-or-nothing event was turned down, that the organiser's node withdrew the rest.
 */
function BundleNote({ event: e }: { event: FestivalEvent }) {
  const { t } = useTranslation()
  const broken = e.all_or_nothing
    ? e.requests.find((q) => q.status === 'denied' || q.status === 'released' || q.status === 'invalid')
    : undefined
  if (broken) {
    // One was turned down: the event will not take place as planned, whatever is confirmed.
    const withdrawn = e.requests.some((q) => q.status === 'withdrawn')
    const values = { name: broken.resource_name ?? t('common.aResource'), status: statusText(broken.status) }
    return (
      <div className="bundle broken">
        <p role="status" aria-label={t('event.bundleLabel')}>
          <span className="badge">{t('event.notBookedBadge')}</span>{' '}
          {withdrawn ? t('event.bundleBroken', values) : t('event.bundleBreaking', values)}
        </p>
      </div>
    )
  }
  return (
    <div className={`bundle${e.booked ? ' booked' : ''}`}>
      <p role="status" aria-label={t('event.bundleLabel')}>
        <span className="badge">{t('event.confirmedOf', { confirmed: e.confirmed, count: e.requested })}</span>
        {e.all_or_nothing ? <> — {t('event.allOrNothing')}</> : null}{' '}
        {!e.admitted ? t('tickets.notInProgramme') : e.booked ? t('event.booked') : e.all_or_nothing ? null : e.requested ? t('event.notBooked') : null}
      </p>
    </div>
  )
}

/** The requested resources on the event's day, with the event outlined. */
function EventDay({ event: e, festival: f }: { event: FestivalEvent; festival: Festival }) {
  const ids = [...new Set(e.requests.map((q) => q.resource))]
  const resources = useData((c) => Promise.all(ids.map((id) => c.resource(id))), [ids.join(',')])
  const { t } = useTranslation()
  if (!resources.data) return null
  return (
    <section>
      <h2>{t('event.thatDay')}</h2>
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
  const { t } = useTranslation()
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
  // The ticket is asked for by applying (on the festival's page), not by an event.
  const options = (resources.data ?? []).filter((r) => !r.retired && !requested.has(r.id) && r.id !== f.ticket)

  async function submit(ev: FormEvent) {
    ev.preventDefault()
    if (!resource) return setError(t('event.addChoose'))
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
      <h2>{t('event.addTitle')}</h2>
      <div className="field">
        <label htmlFor="add-res">{t('event.addLabel', { when: formatRange(e.start, e.end, f.timezone) })}</label>
        <select id="add-res" value={resource} onChange={(x) => setResource(x.target.value)}>
          <option value="">{t('event.addPlaceholder')}</option>
          {options.map((r) => (
            <option key={r.id} value={r.id} disabled={!r.admitted}>
              {r.admitted ? r.name : `${r.name} (${t('tickets.ownerWaiting')})`}
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
          {t('event.addSend')}
        </button>
      </div>
    </form>
  )
}

/**
 * The organiser changes the event. Before anything is signed, the node says what changes for
 * others: which requests move (each is requested anew for the new time, replacing the old
 * one; a booked slot stays held until its owner decides the new time).
 */
function EditEvent({ event: e, festival: f }: { event: FestivalEvent; festival: Festival }) {
  const { t } = useTranslation()
  const client = useClient()
  const tz = f.timezone
  const [open, setOpen] = useState(false)
  const [title, setTitle] = useState(e.title)
  const [description, setDescription] = useState(e.description)
  const [start, setStart] = useState(utcToZonedInput(e.start, tz))
  const [end, setEnd] = useState(utcToZonedInput(e.end, tz))
  const [allOrNothing, setAllOrNothing] = useState(e.all_or_nothing)
  const [preview, setPreview] = useState<EventUpdate | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  // Times the organiser picks for moving requests, by resource (else the node's choice).
  const [picks, setPicks] = useState<Record<string, { start: string; end: string }>>({})

  function change(): EventChange {
    const c: EventChange = {}
    const moves = Object.entries(picks).map(([resource, t]) => ({ resource, start: t.start, end: t.end }))
    if (moves.length) c.moves = moves
    if (title !== e.title) c.title = title
    if (description !== e.description) c.description = description
    if (allOrNothing !== e.all_or_nothing) c.all_or_nothing = allOrNothing
    if (start !== utcToZonedInput(e.start, tz) || end !== utcToZonedInput(e.end, tz)) {
      c.start = start
      c.end = end
    }
    return c
  }
  // A changed field makes the preview (and any error) stale.
  function edited(set: (v: string) => void) {
    return (v: string) => {
      set(v)
      setPreview(null)
      setError(null)
    }
  }
  async function run(signed: boolean) {
    setBusy(true)
    setError(null)
    try {
      const answer = await client.updateEvent(e.id, { ...change(), preview: !signed })
      if (signed) {
        setPreview(null)
        setOpen(false)
      } else setPreview(answer)
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  function review(ev: FormEvent) {
    ev.preventDefault()
    void run(false)
  }

  if (!open) {
    return (
      <div className="actions">
        <button type="button" onClick={() => setOpen(true)}>
          {t('event.editOpen')}
        </button>
      </div>
    )
  }
  const nothing = Object.keys(change()).length === 0
  return (
    <form className="card form edit-event" onSubmit={review} aria-label={t('event.editLabel')}>
      <h2>{t('event.editTitle', { title: e.title })}</h2>
      <div className="field">
        <label htmlFor="edit-title">{t('event.title')}</label>
        <input id="edit-title" value={title} onChange={(x) => edited(setTitle)(x.target.value)} required />
      </div>
      <div className="field">
        <label htmlFor="edit-desc">{t('common.description')}</label>
        <textarea id="edit-desc" value={description} onChange={(x) => edited(setDescription)(x.target.value)} />
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor="edit-start">{t('event.startsIn', { zone: tz.replace(/_/g, ' ') })}</label>
          <DateTimeInput id="edit-start" value={start} onChange={edited(setStart)} required />
        </div>
        <div className="field">
          <label htmlFor="edit-end">{t('common.ends')}</label>
          <DateTimeInput id="edit-end" value={end} onChange={edited(setEnd)} required />
        </div>
      </div>
      <label className="check">
        <input
          type="checkbox"
          checked={allOrNothing}
          onChange={(x) => {
            setAllOrNothing(x.target.checked)
            setPreview(null)
            setError(null)
          }}
        />{' '}
        <span>{t('event.allOrNothingEdit')}</span>
      </label>
      <ErrorNote message={error} />
      {preview ? (
        <MovePreview
          update={preview}
          timeZone={tz}
          picks={picks}
          onPick={(resource, t) => {
            setPicks((old) => {
              const next = { ...old }
              if (t) next[resource] = t
              else delete next[resource]
              return next
            })
            setPreview(null)
          }}
        />
      ) : null}
      <div className="actions">
        {preview ? (
          <button type="button" className="primary" disabled={busy} onClick={() => void run(true)}>
            {t('common.saveChanges')}
          </button>
        ) : (
          <button type="submit" className="primary" disabled={busy || nothing}>
            {t('event.review')}
          </button>
        )}
        <button type="button" onClick={() => setOpen(false)}>
          {t('common.close')}
        </button>
      </div>
    </form>
  )
}

/** What saving would change for others, as the node's preview says; the organiser may pick
 * another time for each moving request (then reviews again). */
function MovePreview({
  update,
  timeZone,
  picks,
  onPick,
}: {
  update: EventUpdate
  timeZone: string
  picks: Record<string, { start: string; end: string }>
  onPick: (resource: string, time: { start: string; end: string } | null) => void
}) {
  const { t } = useTranslation()
  return (
    <div className="preview" role="status" aria-label={t('event.changes')}>
      <h3>{t('event.changes')}</h3>
      {update.moves.length ? (
        <ul>
          {update.moves.map((m) => (
            <li key={m.request}>
              <Trans
                i18nKey={m.owner_name ? 'event.move' : 'event.moveAnon'}
                values={{
                  resource: m.resource_name ?? t('common.AResource'),
                  owner: m.owner_name,
                  from: formatRange(m.from.start, m.from.end, timeZone),
                  to: formatRange(m.to.start, m.to.end, timeZone),
                }}
                components={{ b: <strong /> }}
              />{' '}
              {m.confirmed
                ? m.owner_name
                  ? t('event.moveConfirmed', { owner: m.owner_name })
                  : t('event.moveConfirmedAnon')
                : m.owner_name
                  ? t('event.moveAsked', { owner: m.owner_name })
                  : t('event.moveAskedAnon')}{' '}
              <MovePick move={m} timeZone={timeZone} picked={picks[m.resource]} onPick={(t) => onPick(m.resource, t)} />
            </li>
          ))}
        </ul>
      ) : (
        <p>{t('event.noMoves')}</p>
      )}
    </div>
  )
}

/** "Another time for the Cargo bike…": two times, then Review changes again. */
function MovePick({
  move: m,
  timeZone,
  picked,
  onPick,
}: {
  move: EventUpdate['moves'][number]
  timeZone: string
  picked?: { start: string; end: string }
  onPick: (time: { start: string; end: string } | null) => void
}) {
  const { t } = useTranslation()
  const [open, setOpen] = useState(false)
  const [start, setStart] = useState(picked?.start ?? utcToZonedInput(m.to.start, timeZone))
  const [end, setEnd] = useState(picked?.end ?? utcToZonedInput(m.to.end, timeZone))
  const name = m.resource_name ?? t('event.thisResource')
  if (!open) {
    return (
      <button type="button" className="link" onClick={() => setOpen(true)}>
        {t('event.pickOpen', { name })}
      </button>
    )
  }
  return (
    <span className="move-pick">
      <label>
        {t('event.pickFrom')} <DateTimeInput id={`pick-s-${m.request}`} value={start} onChange={setStart} />
      </label>{' '}
      <label>
        {t('event.pickUntil')} <DateTimeInput id={`pick-e-${m.request}`} value={end} onChange={setEnd} />
      </label>{' '}
      <button type="button" onClick={() => onPick({ start, end })}>
        {t('event.pickUse', { name })}
      </button>
    </span>
  )
}

function CancelBox({ event: e }: { event: FestivalEvent }) {
  const { t } = useTranslation()
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
      <h2>{t('event.cancelTitle')}</h2>
      <p>{t('event.cancelText')}</p>
      {asking ? (
        <div className="actions">
          <button type="button" className="danger" onClick={cancel}>
            {t('event.cancelYes', { title: e.title })}
          </button>
          <button type="button" onClick={() => setAsking(false)}>
            {t('common.keepIt')}
          </button>
        </div>
      ) : (
        <button type="button" onClick={() => setAsking(true)}>
          {t('event.cancelOpen')}
        </button>
      )}
      <ErrorNote message={error} />
    </section>
  )
}
