// One request, with what its reader can do about it: the owner confirms, denies or releases;
// a member of the collective that owns the resource votes; the organiser withdraws. Used by
// the inbox, "My requests" and the event page.

import { useId, useState, type FormEvent } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import { useClient } from '../client/context'
import { errorMessage, type ResourceRequest, type Votes } from '../client/types'
import { href } from '../lib/router'
import { formatDateTime, formatRange, formatTimeRange } from '../lib/time'
import { useData } from '../lib/useData'
import { personName, policyShort } from '../lib/words'
import { describeCheck, eventName } from '../lib/checks'
import { CheckNote } from './CheckNote'
import { ErrorNote, StatusBadge } from './ui'

export interface RequestCardProps {
  request: ResourceRequest
  timeZone: string
  /** Show the event's title as a heading (inbox, my requests) or the resource's (event page). */
  heading: 'event' | 'resource'
  /** Show whether the time is still free (the owner's inbox). */
  showConflicts?: boolean
  /** Bulk decisions (the inbox): the selected requests, and how to change the selection. */
  selected?: ReadonlySet<string>
  onSelect?: (id: string, on: boolean) => void
  /** A request for its festival's ticket: someone's application to organise there. */
  application?: boolean
  /** Its festival requires a ticket: say so when the organiser waits for admission. */
  ticketed?: boolean
}

export function RequestCard({
  request: q,
  timeZone,
  heading,
  showConflicts,
  selected,
  onSelect,
  application = false,
  ticketed = false,
}: RequestCardProps) {
  const { t } = useTranslation()
  const client = useClient()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [denying, setDenying] = useState(false)
  const [votingNo, setVotingNo] = useState(false)

  async function act(f: () => Promise<unknown>) {
    setBusy(true)
    setError(null)
    try {
      await f()
      setDenying(false)
      setVotingNo(false)
    } catch (e) {
      setError(errorMessage(e))
    } finally {
      setBusy(false)
    }
  }

  // A request for a collective's resource: its members vote, its owner (the collective's
  // node) decides. `incoming` is true for both; the node says which this is (`voter`).
  const member = q.voter
  const owner = q.incoming && !q.voter
  const canDecide = owner && (q.status === 'pending' || q.status === 'denied')
  // A pending request carries the node's verdict (`cannot_confirm`, which counts the old slot
  // of a moved request as free, and `competing`). A denied one the owner may confirm after
  // all: is its time free now? (That decides whether "Confirm" is the obvious next step.)
  const check = useData(
    (c) =>
      showConflicts && q.incoming && q.status === 'denied'
        ? c.check({ resource: q.resource, start: q.start, end: q.end })
        : Promise.resolve(null),
    [q.id, q.start, q.end, q.status, showConflicts],
  )
  const tone = check.data ? describeCheck(check.data, timeZone, q.id).tone : null
  const confirmable =
    q.status === 'pending' ? !q.cannot_confirm : tone === null || tone === 'free' || tone === 'hold'
  // An application's message is its event's description; in a festival that requires a
  // ticket, the event says whether its organiser is admitted (the owner's policy waits).
  const askEvent = application || (ticketed && q.incoming && q.status === 'pending')
  const ev = useData((c) => (askEvent ? c.event(q.event) : Promise.resolve(null)), [q.event, askEvent])
  const message = application ? ev.data?.description : null
  const waitsForAdmission = !application && ev.data?.admitted === false && q.status === 'pending'
  const title =
    application && heading === 'event' ? (
      <a href={href('/events', q.event)}>
        {q.mine ? t('tickets.yourApplication') : t('tickets.applicationFrom', { name: personName(q.author_name, q.author) })}
      </a>
    ) : heading === 'event' ? (
      <Trans
        i18nKey="requests.wants"
        values={{ event: q.event_title, resource: q.resource_name }}
        components={{
          event: <a href={href('/events', q.event)} />,
          muted: <span className="muted" />,
          resource: <a href={href('/resources', q.resource)} />,
        }}
      />
    ) : (
      <a href={href('/resources', q.resource)}>{q.resource_name}</a>
    )

  return (
    <li className={`card request status-${q.status}`} aria-label={`${q.event_title}: ${q.resource_name}`}>
      <div className="request-head">
        {onSelect && canDecide && !q.votes ? (
          <input
            type="checkbox"
            className="select"
            aria-label={t('requests.select', { event: q.event_title ?? t('requests.thisRequest'), resource: q.resource_name ?? '' })}
            checked={selected?.has(q.id) ?? false}
            onChange={(e) => onSelect(q.id, e.target.checked)}
          />
        ) : null}
        <h3>{title}</h3>
        {member && q.status === 'pending' ? (
          <span className="badge status-pending">{q.votes?.mine == null ? t('votes.waitingForYourVote') : t('votes.waitingForOthers')}</span>
        ) : (
          <StatusBadge status={q.status} forOwner={owner} />
        )}
      </div>
      {/* An application's time says nothing: it is the ticket's, not an event's. */}
      {application ? null : <p className="when">{formatRange(q.start, q.end, timeZone)}</p>}
      {message ? (
        <p className="message">
          {t('tickets.message')}
          <q>{message}</q>
        </p>
      ) : null}
      {waitsForAdmission ? <p className="note warn">{t('tickets.requestWaiting', { name: personName(q.author_name, q.author) })}</p> : null}
      {/* Who asked: not on the event's own page, nor on one's own requests. */}
      {heading === 'event' && (q.incoming || !q.mine) ? (
        <p className="meta">
          {t('requests.askedBy', { name: personName(q.author_name, q.author, q.mine) })}
          {q.incoming ? <> · {t('requests.policy', { policy: policyShort(q.policy) })}</> : null}
        </p>
      ) : q.incoming ? (
        <p className="meta">{t('requests.policy', { policy: policyShort(q.policy) })}</p>
      ) : null}
      {q.reason ? (
        q.status === 'withdrawn' ? (
          // The node's reason, in its words: "the event was cancelled", "withdrawn by the
          // organiser" (+ "; the owner has not released the slot yet"), or what the organiser's
          // node withdrew on its own: "withdrawn by the organiser's node: all or nothing: …",
          // "… the deadline passed while it was pending".
          <p className="reason">{sentence(q.reason)}</p>
        ) : (
          <p className="reason">
            <strong>
              {q.status === 'denied' ? t('requests.reason') : q.status === 'invalid' ? t('requests.whyInvalid') : t('requests.note')}
            </strong>
            {q.reason}
          </p>
        )
      ) : null}
      {q.moved_from ? (
        <p className="moved">
          <Trans
            i18nKey={q.incoming && q.status === 'pending' ? 'requests.movedPending' : 'requests.moved'}
            values={{ from: formatRange(q.moved_from.start, q.moved_from.end, timeZone), to: formatRange(q.start, q.end, timeZone) }}
            components={{ b: <strong /> }}
          />
        </p>
      ) : null}
      {q.until && q.status === 'pending' ? (
        <p className="deadline">{t('requests.until', { time: formatDateTime(q.until, timeZone) })}</p>
      ) : null}
      {q.votes ? <Tally votes={q.votes} /> : null}
      {q.incoming && q.cannot_confirm ? (
        <p className="conflict">
          <strong>{t('requests.cannotConfirm')}</strong>
          {q.cannot_confirm}{' '}
          {owner ? (
            <button type="button" disabled={busy} onClick={() => act(() => client.deny(q.id, q.cannot_confirm ?? undefined))}>
              {t('requests.denyWithReason')}
            </button>
          ) : null}
        </p>
      ) : null}
      {q.incoming && q.status === 'pending' && q.competing.length ? (
        <p className="competing">
          {t('requests.competing', {
            list: q.competing.map((c) => `${eventName(c)} (${formatTimeRange(c.start, c.end, timeZone)})`).join(', '),
          })}
        </p>
      ) : null}
      {showConflicts && check.data && !confirmable ? (
        <p className="conflict">
          <CheckNote result={check.data} timeZone={timeZone} ignore={q.id} />
        </p>
      ) : null}
      {member && q.votes && q.status === 'pending' && q.votes.mine != null ? (
        <p className="voted" role="status">
          {q.votes.mine ? t('votes.youVotedYes') : t('votes.youVotedNo')}
        </p>
      ) : null}
      <div className="actions">
        {member && q.status === 'pending' && q.votes?.mine !== true ? (
          <button type="button" className="primary" disabled={busy} onClick={() => act(() => client.vote(q.id, true))}>
            {q.votes?.mine === false ? t('votes.yesInstead') : t('votes.yes')}
          </button>
        ) : null}
        {member && q.status === 'pending' && q.votes?.mine !== false && !votingNo ? (
          <button type="button" disabled={busy} onClick={() => setVotingNo(true)}>
            {q.votes?.mine === true ? t('votes.noInstead') : t('votes.noOpen')}
          </button>
        ) : null}
        {canDecide ? (
          <button
            type="button"
            className={confirmable && q.status === 'pending' ? 'primary' : undefined}
            disabled={busy}
            onClick={() => act(() => client.confirm(q.id))}
          >
            {application
              ? q.status === 'denied'
                ? t('tickets.admitAfterAll')
                : t('tickets.admit')
              : q.status === 'denied'
                ? t('requests.confirmAfterAll')
                : t('requests.confirm')}
          </button>
        ) : null}
        {owner && q.status === 'pending' && !denying ? (
          <button type="button" disabled={busy} onClick={() => setDenying(true)}>
            {t('requests.denyOpen')}
          </button>
        ) : null}
        {owner && q.status === 'confirmed' ? (
          <button type="button" disabled={busy} onClick={() => act(() => client.release(q.id))}>
            {application ? t('tickets.release') : t('requests.release')}
          </button>
        ) : null}
        {q.mine && (q.status === 'pending' || q.status === 'confirmed') ? (
          <button type="button" disabled={busy} onClick={() => act(() => client.withdraw(q.id))}>
            {t('requests.withdraw')}
          </button>
        ) : null}
      </div>
      {denying ? (
        <DenyForm busy={busy} onCancel={() => setDenying(false)} onDeny={(reason) => act(() => client.deny(q.id, reason))} />
      ) : null}
      {votingNo ? (
        <DenyForm
          busy={busy}
          label={t('votes.noReason')}
          submit={t('votes.no')}
          onCancel={() => setVotingNo(false)}
          onDeny={(reason) => act(() => client.vote(q.id, false, reason || undefined))}
        />
      ) : null}
      <ErrorNote message={error} />
    </li>
  )
}

/** "the event was cancelled" -> "The event was cancelled." */
function sentence(text: string): string {
  const t = text.trim()
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.')
}

/** "1 of 2 yes votes needed — Ana: yes, Bo: no (we paint that day)". */
function Tally({ votes: v }: { votes: Votes }) {
  const { t } = useTranslation()
  const cast = [
    ...v.yes.map((m) => t('votes.saidYes', { name: personName(m.name, m.key, m.me) })),
    ...v.no.map(({ member: m, reason }) =>
      reason.trim()
        ? t('votes.saidNoWhy', { name: personName(m.name, m.key, m.me), reason: reason.trim() })
        : t('votes.saidNo', { name: personName(m.name, m.key, m.me) }),
    ),
  ]
  const count = t('votes.count', { yes: v.yes.length, count: v.needed })
  const outcome = v.outcome === true ? t('votes.outcomeYes') : v.outcome === false ? t('votes.outcomeNo') : null
  return (
    <p className="votes">
      <strong>{count}</strong>
      {' — '}
      {cast.length ? cast.join(', ') : t('votes.none')}
      {outcome ? <span className="outcome"> · {outcome}</span> : null}
    </p>
  )
}

export function DenyForm({
  busy,
  onDeny,
  onCancel,
  label,
  submit: submitText,
}: {
  busy: boolean
  onDeny: (reason: string) => void
  onCancel: () => void
  label?: string
  submit?: string
}) {
  const { t } = useTranslation()
  const id = useId()
  const [reason, setReason] = useState('')
  function submit(e: FormEvent) {
    e.preventDefault()
    onDeny(reason.trim())
  }
  return (
    <form className="deny" onSubmit={submit}>
      <label htmlFor={id}>{label ?? t('requests.denyReason')}</label>
      <input id={id} value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
      <div className="actions">
        <button type="submit" className="danger" disabled={busy}>
          {submitText ?? t('requests.deny')}
        </button>
        <button type="button" onClick={onCancel}>
          {t('common.back')}
        </button>
      </div>
    </form>
  )
}
