// One request, with what its reader can do about it: the owner confirms, denies or releases;
// the organiser withdraws. Used by the inbox, "My requests" and the event page.

import { useId, useState, type FormEvent } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import { useClient } from '../client/context'
import { errorMessage, type ResourceRequest } from '../client/types'
import { href } from '../lib/router'
import { formatRange, formatTimeRange } from '../lib/time'
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
}

export function RequestCard({ request: q, timeZone, heading, showConflicts, selected, onSelect }: RequestCardProps) {
  const { t } = useTranslation()
  const client = useClient()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [denying, setDenying] = useState(false)

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

  const canDecide = q.incoming && (q.status === 'pending' || q.status === 'denied')
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
  const title =
    heading === 'event' ? (
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
        {onSelect && canDecide ? (
          <input
            type="checkbox"
            className="select"
            aria-label={t('requests.select', { event: q.event_title ?? t('requests.thisRequest'), resource: q.resource_name ?? '' })}
            checked={selected?.has(q.id) ?? false}
            onChange={(e) => onSelect(q.id, e.target.checked)}
          />
        ) : null}
        <h3>{title}</h3>
        <StatusBadge status={q.status} forOwner={q.incoming} />
      </div>
      <p className="when">{formatRange(q.start, q.end, timeZone)}</p>
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
          // "the event was cancelled" / "withdrawn by the organiser" (+ "; the owner has not released the slot yet")
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
      {q.incoming && q.cannot_confirm ? (
        <p className="conflict">
          <strong>{t('requests.cannotConfirm')}</strong>
          {q.cannot_confirm}{' '}
          <button type="button" disabled={busy} onClick={() => act(() => client.deny(q.id, q.cannot_confirm ?? undefined))}>
            {t('requests.denyWithReason')}
          </button>
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
      <div className="actions">
        {canDecide ? (
          <button
            type="button"
            className={confirmable && q.status === 'pending' ? 'primary' : undefined}
            disabled={busy}
            onClick={() => act(() => client.confirm(q.id))}
          >
            {q.status === 'denied' ? t('requests.confirmAfterAll') : t('requests.confirm')}
          </button>
        ) : null}
        {q.incoming && q.status === 'pending' && !denying ? (
          <button type="button" disabled={busy} onClick={() => setDenying(true)}>
            {t('requests.denyOpen')}
          </button>
        ) : null}
        {q.incoming && q.status === 'confirmed' ? (
          <button type="button" disabled={busy} onClick={() => act(() => client.release(q.id))}>
            {t('requests.release')}
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
      <ErrorNote message={error} />
    </li>
  )
}

/** "the event was cancelled" -> "The event was cancelled." */
function sentence(text: string): string {
  const t = text.trim()
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.')
}

function DenyForm({ busy, onDeny, onCancel }: { busy: boolean; onDeny: (reason: string) => void; onCancel: () => void }) {
  const { t } = useTranslation()
  const id = useId()
  const [reason, setReason] = useState('')
  function submit(e: FormEvent) {
    e.preventDefault()
    onDeny(reason.trim())
  }
  return (
    <form className="deny" onSubmit={submit}>
      <label htmlFor={id}>{t('requests.denyReason')}</label>
      <input id={id} value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
      <div className="actions">
        <button type="submit" className="danger" disabled={busy}>
          {t('requests.deny')}
        </button>
        <button type="button" onClick={onCancel}>
          {t('common.back')}
        </button>
      </div>
    </form>
  )
}
