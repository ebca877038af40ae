import { Trans, useTranslation } from 'react-i18next'
import type { Festival, FestivalEvent } from '../../client/types'
import { WaitingBadge } from '../../components/Tickets'
import { EmptyState, ErrorNote, Loading, StatusBadge } from '../../components/ui'
import { href, newEventHref } from '../../lib/router'
import { dayKey, formatLongDay, formatTimeRange } from '../../lib/time'
import { useData } from '../../lib/useData'
import { personName } from '../../lib/words'

/** The festival's whole programme: its events and those of the sub-festivals held here,
 * each of those labelled with its sub-festival. */
export function EventsTab({ festival: f }: { festival: Festival }) {
  const { t } = useTranslation()
  const events = useData((c) => c.events(f.id), [f.id])
  const festivals = useData((c) => c.festivals(), [])
  const names = new Map((festivals.data ?? []).map((x) => [x.id, x.name]))
  if (!events.data) return events.error ? <ErrorNote message={events.error} /> : <Loading what="events" />
  // Applications for a ticket are no events: the festival's page lists them (Tickets).
  const applications = events.data.filter((e) => e.application && !e.cancelled).length
  const list = events.data.filter((e) => !e.application)
  const hidden = applications ? <p className="hint">{t('tickets.applicationsHidden', { count: applications })}</p> : null
  if (!list.length) {
    return (
      <>
        <EmptyState>
          <p>
            <Trans i18nKey="eventsTab.empty" components={{ a: <a href={newEventHref(f.id)} /> }} />
          </p>
        </EmptyState>
        {hidden}
      </>
    )
  }
  const byDay = new Map<string, FestivalEvent[]>()
  for (const e of [...list].sort((a, b) => Date.parse(a.start) - Date.parse(b.start))) {
    const k = dayKey(e.start, f.timezone)
    byDay.set(k, [...(byDay.get(k) ?? []), e])
  }
  return (
    <div className="events">
      {[...byDay.entries()].map(([day, list]) => (
        <section key={day}>
          <h2 className="day-title">{formatLongDay(list[0].start, f.timezone)}</h2>
          <ul className="list">
            {list.map((e) => (
              <EventRow key={e.id} event={e} timeZone={f.timezone} within={e.festival === f.id ? null : (names.get(e.festival) ?? t('common.aSubFestival'))} />
            ))}
          </ul>
        </section>
      ))}
      {hidden}
    </div>
  )
}

function EventRow({ event: e, timeZone, within }: { event: FestivalEvent; timeZone: string; within: string | null }) {
  const { t } = useTranslation()
  return (
    <li className={`card event-row${e.cancelled ? ' cancelled' : ''}`}>
      <div className="when">{formatTimeRange(e.start, e.end, timeZone)}</div>
      <div className="what">
        <a className="title" href={href('/events', e.id)}>
          {e.title}
        </a>
        {e.cancelled ? <span className="badge status-withdrawn">{t('common.cancelled')}</span> : null}
        {!e.cancelled && !e.admitted ? <WaitingBadge event={e} /> : null}
        <p className="meta">
          {t('eventsTab.by', { name: personName(e.organiser_name, e.organiser, e.mine) })}
          {within ? <> · {t('eventsTab.in', { name: within })}</> : null}
        </p>
        {e.requests.length ? (
          <ul className="chips" aria-label={t('eventsTab.requested')}>
            {e.requests.map((r) => (
              <li key={r.id}>
                {r.resource_name} <StatusBadge status={r.status} />
              </li>
            ))}
          </ul>
        ) : (
          <p className="meta">{t('eventsTab.noResources')}</p>
        )}
      </div>
    </li>
  )
}
