import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
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
import { capacityText, kindText, personName, policyText } from '../lib/words'

export function ResourceScreen({ id }: { id: string }) {
  const res = useData((c) => c.resource(id), [id])
  const fest = useData((c) => (res.data ? c.festival(res.data.festival) : Promise.resolve(null)), [res.data?.festival])
  const r = res.data
  if (!r) return res.error ? <ErrorNote message={res.error} /> : <Loading what="resource" />
  if (!fest.data) return fest.error ? <ErrorNote message={fest.error} /> : <Loading />
  return <ResourceView resource={r} festival={fest.data} />
}

function ResourceView({ resource: r, festival: f }: { resource: Resource; festival: Festival }) {
  const { t } = useTranslation()
  const tz = f.timezone
  return (
    <section>
      <nav className="crumbs" aria-label={t('common.whereThisIs')}>
        <a href="#/">{t('nav.festivals')}</a> › <a href={href('/festivals', f.id)}>{f.name}</a> ›{' '}
        <a href={href('/festivals', f.id, 'resources')}>{t('resource.resources')}</a>
      </nav>
      <div className="page-head">
        <h1>
          {r.name} {r.retired ? <span className="badge status-withdrawn">{t('common.retired')}</span> : null}
        </h1>
        <div className="head-actions">
          {!r.retired && r.admitted && r.id !== f.ticket ? (
            <a className="button primary" href={newEventHref(f.id, { resource: r.id })}>
              {t('resource.requestIt')}
            </a>
          ) : null}
          {r.mine && !r.retired ? (
            <a className="button" href={href('/resources', r.id, 'edit')}>
              {t('common.edit')}
            </a>
          ) : null}
        </div>
      </div>
      {r.id === f.ticket ? <p className="note ticket-note">{t('tickets.ticketNote', { name: f.name })}</p> : null}
      {!r.admitted ? (
        <p className="note warn">
          {r.mine ? t('tickets.ownerWaitingMine') : t('tickets.ownerWaitingNote', { name: personName(r.owner_name, r.owner) })}
        </p>
      ) : null}
      <dl className="facts-list card">
        <dt>{t('resource.kind')}</dt>
        <dd>{kindText(r.kind)}</dd>
        <dt>{t('resource.owner')}</dt>
        <dd>{personName(r.owner_name, r.owner, r.mine)}</dd>
        <dt>{t('resource.decided')}</dt>
        <dd>{policyText(r.policy)}</dd>
        <dt>{t('resource.capacity')}</dt>
        <dd>{capacityText(r.capacity)}</dd>
        {r.needs.length ? (
          <>
            <dt>{t('resource.needs')}</dt>
            <dd>
              <Needs resource={r} />
            </dd>
          </>
        ) : null}
        {r.description ? (
          <>
            <dt>{t('resource.about')}</dt>
            <dd>{r.description}</dd>
          </>
        ) : null}
        {r.address ? (
          <>
            <dt>{t('resource.address')}</dt>
            <dd>{r.address}</dd>
          </>
        ) : null}
        {r.location ? (
          <>
            <dt>{t('resource.gps')}</dt>
            <dd>
              <span className="mono">
                {r.location.lat.toFixed(5)}, {r.location.lon.toFixed(5)}
              </span>{' '}
              <a href={osmLink(r.location.lat, r.location.lon)} target="_blank" rel="noreferrer">
                {t('resource.openOsm')}
              </a>
            </dd>
          </>
        ) : null}
        {r.url ? (
          <>
            <dt>{t('resource.online')}</dt>
            <dd>
              <a href={r.url} target="_blank" rel="noreferrer">
                {r.url}
              </a>
            </dd>
          </>
        ) : null}
        <dt>{t('resource.available')}</dt>
        <dd>
          {r.availability === 'always' ? (
            t('resource.anyTime')
          ) : (
            <ul className="plain">
              {r.availability.map((w) => (
                <li key={w.start}>{formatRange(w.start, w.end, tz)}</li>
              ))}
            </ul>
          )}
        </dd>
      </dl>
      {/* The ticket's requests are applications: they have no time worth a calendar. */}
      {r.id === f.ticket ? null : (
        <>
          <h2>{t('resource.whenFree')}</h2>
          <ResourceCalendar resource={r} festival={f} />
        </>
      )}
      <h2>{t('resource.calendar')}</h2>
      <CalendarLinkBox target={{ resource: r.id }} name={r.name} />
      {r.mine && !r.retired ? <RetireBox resource={r} /> : null}
    </section>
  )
}

/** The resources this one needs, by name, each a link. */
function Needs({ resource: r }: { resource: Resource }) {
  const { t } = useTranslation()
  const all = useData((c) => c.resources(r.festival), [r.festival])
  const names = new Map((all.data ?? []).map((x) => [x.id, x.name]))
  return (
    <>
      {r.needs.map((id, i) => (
        <span key={id}>
          {i ? ', ' : ''}
          <a href={href('/resources', id)}>{names.get(id) ?? t('common.aResource')}</a>
        </span>
      ))}{' '}
      <span className="muted">{t('resource.needsHint')}</span>
    </>
  )
}

function ResourceCalendar({ resource, festival: f }: { resource: Resource; festival: Festival }) {
  const { t } = useTranslation()
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
            {t('common.earlier')}
          </button>
          <button type="button" onClick={() => setPage(current + 1)} disabled={current >= pages.length - 1}>
            {t('common.later')}
          </button>
        </div>
      ) : null}
      <Timeline timeZone={f.timezone} festival={f.id} resources={[resource]} days={pages[current] ?? []} byDay />
    </div>
  )
}

function RetireBox({ resource: r }: { resource: Resource }) {
  const { t } = useTranslation()
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
      <h2>{t('resource.retireTitle', { name: r.name })}</h2>
      <p>{t('resource.retireText')}</p>
      {asking ? (
        <div className="actions">
          <button type="button" className="danger" onClick={retire}>
            {t('resource.retireYes', { name: r.name })}
          </button>
          <button type="button" onClick={() => setAsking(false)}>
            {t('common.keepIt')}
          </button>
        </div>
      ) : (
        <button type="button" onClick={() => setAsking(true)}>
          {t('resource.retireOpen')}
        </button>
      )}
      <ErrorNote message={error} />
    </section>
  )
}
