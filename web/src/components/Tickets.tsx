// Tickets on the festival's page (docs/protocol.md, "Tickets: who may organise"): who may
// organise here; for someone not admitted, what that means and "Apply for a ticket" (an event
// that asks only for the ticket) with the application's state; for the festival's creator and
// the ticket's owner, who is waiting for admission, deciding the applications, and who holds
// a ticket.

import { useId, useState, type FormEvent } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import { useClient } from '../client/context'
import { errorMessage, type Festival, type FestivalEvent, type ResourceRequest } from '../client/types'
import { href } from '../lib/router'
import { applicationFrame, ticketRequestOf } from '../lib/tickets'
import { useAdmission, type Admission } from '../lib/useAdmission'
import { useData } from '../lib/useData'
import { personName } from '../lib/words'
import { DenyForm } from './RequestCard'
import { ErrorNote } from './ui'

/** Everything about the festival's ticket on its page; nothing when none is required. */
export function Tickets({ festival: f }: { festival: Festival }) {
  const { admission: a, error } = useAdmission(f)
  if (!f.ticket) return null
  if (!a) return <ErrorNote message={error} />
  return (
    <>
      <TicketRule festival={f} admission={a} />
      {a.admitted ? null : <ApplyBox festival={f} admission={a} />}
      {a.oversees ? <Waiting festival={f} admission={a} /> : null}
    </>
  )
}

function ownerName(a: Admission, fallback: string): string {
  return a.ticket ? personName(a.ticket.owner_name, a.ticket.owner, a.ticket.mine) : fallback
}

/** "Only ticket holders may organise here: the ticket is Organiser ticket, and Ana decides…" */
function TicketRule({ festival: f, admission: a }: { festival: Festival; admission: Admission }) {
  const { t } = useTranslation()
  const you =
    a.as === 'creator'
      ? t('tickets.youCreator', { name: a.namer.creator === a.me ? a.namer.name : f.name })
      : a.as === 'owner'
        ? t('tickets.youOwner')
        : a.as === 'holder'
          ? t('tickets.youHolder')
          : null
  return (
    <p className="ticket-rule">
      <span className="badge ticket">{t('tickets.ticketBadge')}</span>{' '}
      {a.ticket ? (
        <Trans
          i18nKey={a.ticket.mine ? 'tickets.ruleMine' : 'tickets.rule'}
          values={{ ticket: a.ticket.name, owner: ownerName(a, '') }}
          components={{ a: <a href={href('/resources', a.ticket.id)} /> }}
        />
      ) : (
        t('tickets.ruleUnknown')
      )}
      {a.namer.id !== f.id ? <> {t('tickets.ruleFrom', { name: a.namer.name })}</> : null}
      {you ? <strong className="you"> {you}</strong> : null}
    </p>
  )
}

/** For someone not admitted: why, their application's state, and applying (again). */
function ApplyBox({ festival: f, admission: a }: { festival: Festival; admission: Admission }) {
  const { t } = useTranslation()
  const client = useClient()
  const id = useId()
  const [message, setMessage] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const owner = ownerName(a, t('tickets.theOwner'))
  const app = a.application
  const q = app ? ticketRequestOf(app, f.ticket) : undefined
  const open = q?.status === 'pending'
  const waitingEvents = a.events.filter((e) => e.mine && !e.application && !e.admitted && !e.cancelled)

  async function apply(ev: FormEvent) {
    ev.preventDefault()
    if (!f.ticket) return
    setBusy(true)
    setError(null)
    try {
      const frame = applicationFrame(f, Date.now())
      await client.createEvent(f.id, {
        title: t('tickets.applicationTitle', { name: a.myName || t('tickets.someone') }),
        description: message.trim(),
        ...frame,
        requests: [{ resource: f.ticket }],
      })
      setMessage('')
    } catch (e) {
      setError(errorMessage(e))
    } finally {
      setBusy(false)
    }
  }
  async function withdraw(e: FestivalEvent) {
    setBusy(true)
    setError(null)
    try {
      await client.cancelEvent(e.id)
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <section className="card admission apply" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('tickets.requiredTitle')}</h2>
      <p>{t('tickets.requiredText', { owner })}</p>
      <EventLinks label={t('tickets.eventsWaiting', { count: waitingEvents.length })} events={waitingEvents} />
      {app && q ? <ApplicationState event={app} request={q} owner={owner} /> : null}
      {open && app ? (
        <div className="actions">
          <button type="button" disabled={busy} onClick={() => void withdraw(app)}>
            {t('tickets.withdraw')}
          </button>
        </div>
      ) : (
        <form className="form apply-form" onSubmit={apply}>
          <div className="field">
            <label htmlFor={`${id}-message`}>{t('tickets.applyMessage', { owner })}</label>
            <textarea
              id={`${id}-message`}
              rows={2}
              value={message}
              onChange={(e) => setMessage(e.target.value)}
              aria-describedby={`${id}-hint`}
            />
            <p className="hint" id={`${id}-hint`}>
              {t('tickets.applyHint')}
            </p>
          </div>
          <div className="actions">
            <button type="submit" className="primary" disabled={busy}>
              {busy ? t('tickets.applying') : app ? t('tickets.applyAgain') : t('tickets.apply')}
            </button>
          </div>
        </form>
      )}
      <ErrorNote message={error} />
    </section>
  )
}

/** "Waiting: your application is waiting for Ana to decide." and the message sent. */
/** "label: A, B, C" with a link to each event; nothing when there are none. */
function EventLinks({ label, events }: { label: string; events: { id: string; title: string }[] }) {
  if (!events.length) return null
  return (
    <p className="meta">
      {label}{' '}
      {events.map((e, i) => (
        <span key={e.id}>
          {i ? ', ' : ''}
          <a href={href('/events', e.id)}>{e.title}</a>
        </span>
      ))}
    </p>
  )
}

function ApplicationState({ event: e, request: q, owner }: { event: FestivalEvent; request: ResourceRequest; owner: string }) {
  const { t } = useTranslation()
  const [badge, text, tone] =
    q.status === 'pending'
      ? [t('tickets.stateWaiting'), t('tickets.waiting', { owner }), 'pending']
      : q.status === 'confirmed'
        ? [t('tickets.stateAdmitted'), t('tickets.admittedNow'), 'confirmed']
        : q.status === 'released'
          ? [t('tickets.stateReleased'), t('tickets.released'), 'denied']
          : q.status === 'denied'
            ? [t('tickets.stateDenied'), t('tickets.denied'), 'denied']
            : [null, null, null]
  if (!badge) return null
  return (
    <div className="application-state">
      <p role="status" aria-label={t('tickets.stateLabel')}>
        <span className={`badge status-${tone}`}>{badge}</span> {text}
      </p>
      {q.status === 'denied' && q.reason ? (
        <p className="reason">
          <strong>{t('requests.reason')}</strong>
          {q.reason}
        </p>
      ) : null}
      {e.description ? (
        <p className="meta">
          {t('tickets.yourMessage')}
          <q>{e.description}</q>
        </p>
      ) : null}
    </div>
  )
}

interface Person {
  key: string
  name: string
  /** Events (not applications) waiting for admission. */
  events: FestivalEvent[]
  /** Their applications, the open one first. */
  applications: { event: FestivalEvent; request: ResourceRequest }[]
}

/** For the festival's creator and the ticket's owner: who waits, who holds a ticket. */
function Waiting({ festival: f, admission: a }: { festival: Festival; admission: Admission }) {
  const { t } = useTranslation()
  const id = useId()
  const people = new Map<string, Person>()
  const holders = new Map<string, ResourceRequest[]>()
  const person = (e: FestivalEvent): Person => {
    let p = people.get(e.organiser)
    if (!p) {
      p = { key: e.organiser, name: personName(e.organiser_name, e.organiser, e.mine), events: [], applications: [] }
      people.set(e.organiser, p)
    }
    return p
  }
  for (const e of a.events) {
    for (const q of e.requests) {
      if (q.resource === f.ticket && q.status === 'confirmed') holders.set(q.author, [...(holders.get(q.author) ?? []), q])
    }
    if (e.cancelled || e.admitted) continue
    const q = e.application ? ticketRequestOf(e, f.ticket) : undefined
    if (q) person(e).applications.push({ event: e, request: q })
    else if (!e.application) person(e).events.push(e)
  }
  const rank = (s: string) => (s === 'pending' ? 0 : s === 'denied' ? 1 : 2)
  for (const p of people.values()) p.applications.sort((x, y) => rank(x.request.status) - rank(y.request.status))
  const waiting = [...people.values()].sort(
    (x, y) =>
      rank(x.applications[0]?.request.status ?? 'none') - rank(y.applications[0]?.request.status ?? 'none') ||
      x.name.localeCompare(y.name),
  )
  if (!waiting.length && !holders.size) return null
  const owner = ownerName(a, t('tickets.theOwner'))
  const holderList = (
    <ul className="list" aria-label={t('tickets.holdersLabel')}>
      {[...holders.values()].map((qs) => (
        <Holder key={qs[0].author} requests={qs} decides={a.decides} />
      ))}
    </ul>
  )
  if (!waiting.length) {
    // Nobody waits: who holds a ticket, under its own heading.
    return (
      <section className="card admission queue holders" aria-labelledby={`${id}-title`}>
        <h2 id={`${id}-title`}>{t('tickets.holders', { count: holders.size })}</h2>
        {holderList}
      </section>
    )
  }
  return (
    <section className="card admission queue" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('tickets.queueTitle')}</h2>
      <p className="hint">{t('tickets.queueLead')}</p>
      <ul className="list waiting-people" aria-label={t('tickets.queueLabel')}>
        {waiting.map((p) => (
          <WaitingPerson key={p.key} person={p} decides={a.decides} owner={owner} />
        ))}
      </ul>
      {holders.size ? (
        <details className="holders">
          <summary>{t('tickets.holders', { count: holders.size })}</summary>
          {holderList}
        </details>
      ) : null}
    </section>
  )
}

function WaitingPerson({ person: p, decides, owner }: { person: Person; decides: boolean; owner: string }) {
  const { t } = useTranslation()
  const client = useClient()
  const [busy, setBusy] = useState(false)
  const [denying, setDenying] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const app = p.applications[0]
  const q = app?.request
  async function act(f: () => Promise<unknown>) {
    setBusy(true)
    setError(null)
    try {
      await f()
      setDenying(false)
    } catch (e) {
      setError(errorMessage(e))
    } finally {
      setBusy(false)
    }
  }
  return (
    <li className="waiting-person" aria-label={p.name}>
      <div className="request-head">
        <h3>
          {q?.status === 'pending' ? (
            <a href={href('/events', app.event.id)}>{t('tickets.applicationFrom', { name: p.name })}</a>
          ) : (
            p.name
          )}
        </h3>
        {q?.status === 'pending' ? (
          <span className="badge status-pending">{decides ? t('status.waitingForYou') : t('tickets.stateWaiting')}</span>
        ) : null}
      </div>
      {q?.status === 'pending' && app.event.description ? (
        <p className="message">
          {t('tickets.message')}
          <q>{app.event.description}</q>
        </p>
      ) : null}
      {!q ? <p className="meta">{t('tickets.noApplication')}</p> : null}
      {q?.status === 'released' ? <p className="meta">{t('tickets.applicationReleased')}</p> : null}
      {q?.status === 'denied' ? (
        <p className="meta">
          {t('tickets.applicationDenied')}
          {q.reason ? <> {t('requests.reason')}{q.reason}</> : null}
        </p>
      ) : null}
      <EventLinks label={t('tickets.theirEvents', { count: p.events.length })} events={p.events} />
      {q && (q.status === 'pending' || q.status === 'denied') ? (
        decides ? (
          <div className="actions">
            <button
              type="button"
              className={q.status === 'pending' ? 'primary' : undefined}
              disabled={busy}
              onClick={() => act(() => client.confirm(q.id))}
            >
              {q.status === 'denied' ? t('tickets.admitAfterAll') : t('tickets.admit')}
            </button>
            {q.status === 'pending' && !denying ? (
              <button type="button" disabled={busy} onClick={() => setDenying(true)}>
                {t('requests.denyOpen')}
              </button>
            ) : null}
          </div>
        ) : q.status === 'pending' ? (
          <p className="meta">{t('tickets.ownerDecides', { owner })}</p>
        ) : null
      ) : null}
      {denying && q ? (
        <DenyForm busy={busy} onCancel={() => setDenying(false)} onDeny={(reason) => act(() => client.deny(q.id, reason || undefined))} />
      ) : null}
      <ErrorNote message={error} />
    </li>
  )
}

function Holder({ requests, decides }: { requests: ResourceRequest[]; decides: boolean }) {
  const { t } = useTranslation()
  const client = useClient()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const q = requests[0]
  const name = personName(q.author_name, q.author, q.mine)
  async function release() {
    setBusy(true)
    setError(null)
    try {
      for (const r of requests) await client.release(r.id)
    } catch (e) {
      setError(errorMessage(e))
    } finally {
      setBusy(false)
    }
  }
  return (
    <li className="holder" aria-label={name}>
      <span>{name}</span>{' '}
      <a className="muted" href={href('/events', q.event)}>
        {q.event_title}
      </a>
      {decides ? (
        <button type="button" disabled={busy} onClick={() => void release()}>
          {t('tickets.release')}
        </button>
      ) : null}
      <ErrorNote message={error} />
    </li>
  )
}

/** On an event whose organiser waits for admission: "Waiting for admission — not in the
 * programme until you hold a ticket" (their own), or "Waiting for admission". */
export function WaitingBadge({ event: e }: { event: FestivalEvent }) {
  const { t } = useTranslation()
  return <span className="badge waiting-admission">{e.mine ? t('tickets.badgeMine') : t('tickets.badgeOther')}</span>
}

/** On an application's page: what it is, and who decides. */
export function ApplicationNote({ event: e, festival: f }: { event: FestivalEvent; festival: Festival }) {
  const { t } = useTranslation()
  const ticket = useData((c) => (f.ticket ? c.resource(f.ticket).catch(() => null) : Promise.resolve(null)), [f.ticket ?? ''])
  const r = ticket.data
  return (
    <p className="note application-note">
      {t('tickets.applicationNote', {
        owner: r ? personName(r.owner_name, r.owner, r.mine) : t('tickets.theOwner'),
        name: personName(e.organiser_name, e.organiser, e.mine),
      })}
    </p>
  )
}

/** Above a form that creates an event or shares a resource, for someone not admitted. */
export function AdmissionWarning({ festival: f, what }: { festival: Festival; what: 'event' | 'resource' }) {
  const { admission: a } = useAdmission(f)
  if (!f.ticket || !a || a.admitted) return null
  return (
    <p className="note warn admission-warning" role="note">
      <Trans
        i18nKey={what === 'event' ? 'tickets.formWarning' : 'tickets.resourceWarning'}
        values={{ name: f.name }}
        components={{ a: <a href={href('/festivals', f.id)} /> }}
      />
    </p>
  )
}
