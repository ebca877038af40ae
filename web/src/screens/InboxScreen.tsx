import { useId, useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { useClient } from '../client/context'
import { errorMessage, type Festival, type Id, type RequestStatus, type ResourceRequest } from '../client/types'
import { NotifyToggle } from '../components/NotifyToggle'
import { RequestsByFestival } from '../components/RequestList'
import { EmptyState, ErrorNote, Loading } from '../components/ui'
import { dayKey, formatLongDay } from '../lib/time'
import { useData } from '../lib/useData'
import { useFestivalIndex } from '../lib/useFestivalIndex'

type StatusFilter = 'waiting' | 'all' | RequestStatus

const STATUSES = [
  { value: 'waiting', label: 'inbox.waiting' },
  { value: 'confirmed', label: 'status.confirmed' },
  { value: 'denied', label: 'status.denied' },
  { value: 'withdrawn', label: 'status.withdrawn' },
  { value: 'all', label: 'inbox.all' },
] as const satisfies { value: StatusFilter; label: string }[]

/** The day of a request in its festival's time zone ("2026-07-01"). */
function dayOf(q: ResourceRequest, festivals: Map<Id, Festival>): string {
  return dayKey(q.start, festivals.get(q.festival)?.timezone ?? 'UTC')
}

export function InboxScreen() {
  const { t } = useTranslation()
  const incoming = useData((c) => c.requests({ incoming: true }), [])
  const { byId, error } = useFestivalIndex()
  const [status, setStatus] = useState<StatusFilter>('waiting')
  const [resource, setResource] = useState('')
  const [day, setDay] = useState('')
  const [selected, setSelected] = useState<ReadonlySet<Id>>(new Set())
  // What the last bulk decision did: kept here, since the decided requests may leave the list.
  const [report, setReport] = useState<{ text: string; problems: string[] } | null>(null)
  const ids = useId()

  const all = incoming.data ?? []
  const waiting = all.filter((q) => q.status === 'pending')
  const resources = useMemo(() => {
    const names = new Map<Id, string>()
    for (const q of all) names.set(q.resource, q.resource_name ?? q.resource.slice(0, 8))
    return [...names.entries()].sort((a, b) => a[1].localeCompare(b[1]))
  }, [all])
  const days = useMemo(() => (byId ? [...new Set(all.map((q) => dayOf(q, byId)))].sort() : []), [all, byId])
  const shown = all.filter(
    (q) =>
      (status === 'all' || (status === 'waiting' ? q.status === 'pending' : q.status === status)) &&
      (!resource || q.resource === resource) &&
      (!day || (byId && dayOf(q, byId) === day)),
  )
  // Only what is shown and can still be decided stays selected. Requests for a collective's
  // resources are decided by its members' votes, one by one.
  const decidable = new Set(shown.filter((q) => (q.status === 'pending' || q.status === 'denied') && !q.votes).map((q) => q.id))
  const chosen = [...selected].filter((id) => decidable.has(id))

  function select(id: Id, on: boolean) {
    setSelected((old) => {
      const next = new Set(old)
      if (on) next.add(id)
      else next.delete(id)
      return next
    })
  }

  return (
    <section>
      <h1>{t('inbox.title')}</h1>
      <p className="lead">{t('inbox.lead')}</p>
      <NotifyToggle />
      <div className="filters" role="group" aria-label={t('inbox.filters')}>
        <div className="field">
          <label htmlFor={`${ids}-status`}>{t('inbox.show')}</label>
          <select id={`${ids}-status`} value={status} onChange={(e) => setStatus(e.target.value as StatusFilter)}>
            {STATUSES.map((s) => (
              <option key={s.value} value={s.value}>
                {t(s.label)}
                {s.value === 'waiting' ? ` (${waiting.length})` : s.value === 'all' ? ` (${all.length})` : ''}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-resource`}>{t('inbox.resource')}</label>
          <select id={`${ids}-resource`} value={resource} onChange={(e) => setResource(e.target.value)}>
            <option value="">{t('inbox.allResources')}</option>
            {resources.map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-day`}>{t('inbox.day')}</label>
          <select id={`${ids}-day`} value={day} onChange={(e) => setDay(e.target.value)}>
            <option value="">{t('inbox.allDays')}</option>
            {days.map((d) => (
              <option key={d} value={d}>
                {formatLongDay(`${d}T12:00:00Z`, 'UTC')}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorNote message={incoming.error ?? error} />
      {report ? (
        <div className="bulk-report" role="status" aria-label={t('inbox.report')}>
          <p>{report.text}</p>
          {report.problems.length ? (
            <ul className="problems">
              {report.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {!incoming.data || !byId ? (
        incoming.error ? null : <Loading what="requests" />
      ) : shown.length === 0 ? (
        <EmptyState>
          <p>
            {status !== 'waiting' || resource || day
              ? t('inbox.noMatch')
              : all.length
                ? t('inbox.nothingWaiting')
                : t('inbox.nobody')}
          </p>
        </EmptyState>
      ) : (
        <>
          <BulkBar
            shown={shown.filter((q) => decidable.has(q.id))}
            chosen={chosen}
            onSelectAll={(on) => setSelected(on ? new Set(decidable) : new Set())}
            onStart={() => setReport(null)}
            onDone={(text, problems) => {
              setSelected(new Set())
              setReport({ text, problems })
            }}
          />
          <RequestsByFestival
            requests={shown}
            festivals={byId}
            heading="event"
            showConflicts
            selected={selected}
            onSelect={select}
          />
        </>
      )}
    </section>
  )
}

/** Confirm or deny many requests at once; each is decided on its own, and what a rule
 * refuses is said per request. */
function BulkBar({
  shown,
  chosen,
  onSelectAll,
  onStart,
  onDone,
}: {
  shown: ResourceRequest[]
  chosen: Id[]
  onSelectAll: (on: boolean) => void
  onStart: () => void
  onDone: (report: string, problems: string[]) => void
}) {
  const { t } = useTranslation()
  const client = useClient()
  const id = useId()
  const [reason, setReason] = useState('')
  const [busy, setBusy] = useState(false)
  if (!shown.length) return null

  async function decide(confirm: boolean) {
    setBusy(true)
    onStart()
    const failed: string[] = []
    let done = 0
    for (const q of shown.filter((q) => chosen.includes(q.id))) {
      try {
        await (confirm ? client.confirm(q.id) : client.deny(q.id, reason.trim() || undefined))
        done += 1
      } catch (e) {
        failed.push(
          t('inbox.failed', {
            event: q.event_title ?? t('inbox.aRequest'),
            resource: q.resource_name ?? t('common.aResource'),
            error: errorMessage(e),
          }),
        )
      }
    }
    setBusy(false)
    const decided = confirm ? t('inbox.confirmed', { count: done }) : t('inbox.denied', { count: done })
    onDone(
      failed.length
        ? t('inbox.doneRefused', { done: decided, refused: t('inbox.refused', { count: failed.length }) })
        : t('inbox.done', { done: decided }),
      failed,
    )
  }

  const all = chosen.length === shown.length
  return (
    <div className="card bulk" role="group" aria-label={t('inbox.bulk')}>
      <label className="check">
        <input type="checkbox" checked={all} onChange={(e) => onSelectAll(e.target.checked)} />{' '}
        {t('inbox.selectAll', { count: shown.length })}
      </label>
      <div className="field">
        <label htmlFor={id}>{t('inbox.reason')}</label>
        <input id={id} value={reason} onChange={(e) => setReason(e.target.value)} />
      </div>
      <div className="actions">
        <button type="button" disabled={busy || !chosen.length} onClick={() => void decide(true)}>
          {t('inbox.confirmSelected', { count: chosen.length })}
        </button>
        <button type="button" className="danger" disabled={busy || !chosen.length} onClick={() => void decide(false)}>
          {t('inbox.denySelected', { count: chosen.length })}
        </button>
      </div>
    </div>
  )
}
