// The public programme of a festival, for visitors: read-only, no identity, nothing to
// decide. Only confirmed bookings are shown (see lib/programme.ts for what counts). Two
// views: a days × places grid (like pretalx's schedule) and a list by day and time; the list
// is the default on a phone. It prints: styles.css has its print rules (.programme).

import { useEffect, useMemo, useState, type CSSProperties } from 'react'
import { useTranslation } from 'react-i18next'
import { useClient } from '../client/context'
import { errorMessage, type Programme, type ProgrammePage } from '../client/types'
import { ErrorNote, Loading } from '../components/ui'
import { dateSpan } from '../lib/festivals'
import {
  gridDay,
  programmeDays,
  programmeItems,
  type Booking,
  type ProgrammeDay,
  type ProgrammeItem,
} from '../lib/programme'
import { href, programmeHref, type ProgrammeView } from '../lib/router'
import { dayKey, dayStart, formatDateTime, formatLongDay, formatTime, formatTimeRange, nextDayKey, offsetLabel } from '../lib/time'
import { useData } from '../lib/useData'
import { useNow } from '../lib/useNow'

const HOUR = 3_600_000
/** Narrower than this, the list is the default view. */
const NARROW = '(max-width: 600px)'
/** A programme of more events than this (the API's largest page) is shown a day at a time:
 * a festival of thousands of events a day would be megabytes to fetch and lay out at once. */
const WHOLE = 1000

export function ProgrammeScreen({ id, view }: { id: string; view?: ProgrammeView }) {
  const { t, i18n } = useTranslation()
  // One call, which a visitor's read-only key opens too: the whole programme, or the first
  // page of a larger one.
  const data = useData((c) => c.programme(id, { limit: WHOLE }), [id])
  const now = useNow()
  const large = data.data?.next != null
  const tz = data.data?.festival.timezone ?? 'UTC'
  const [chosen, setChosen] = useState<string | null>(null)
  const day = large && data.data ? (chosen ?? firstDay(data.data, now)) : null
  const oneDay = useDay(id, day, tz)
  // Laid out again on a switch of language (the days' and the sub-festivals' words).
  const laidOut = useMemo(() => {
    const programme = data.data
    if (!programme) return null
    const festival = programme.festival
    const subs = [
      ...new Map(
        programme.events
          .filter((e) => e.festival !== id)
          .map((e) => [e.festival, { id: e.festival, name: e.festival_name ?? t('common.aSubFestival') }]),
      ).values(),
    ]
    if (day === null) return { festival, subs, items: programmeItems(festival, programme) }
    // A day at a time: the events starting that day (those from the day before that still
    // run are on the day before, as in the whole programme).
    const events = oneDay.events ?? []
    const items = programmeItems(festival, { ...programme, events }).filter((i) => i.day === day)
    return { festival, subs, items }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [data.data, oneDay.events, day, id, i18n.language])
  const narrow = useMedia(NARROW)
  if (!laidOut) return data.error ? <ErrorNote message={data.error} /> : <Loading what="programme" />
  const { festival: f, subs, items } = laidOut
  const shown: ProgrammeView = view ?? (narrow ? 'list' : 'grid')
  const days = programmeDays(items)
  const first = f.start ? dayKey(f.start, tz) : null
  // The end is exclusive: a festival ending at midnight ends the day before.
  const last = f.end ? dayKey(Date.parse(f.end) - 1, tz) : null

  return (
    <article className={`programme programme-${shown}`} aria-labelledby="programme-title">
      <header className="pg-header">
        <p className="pg-kicker">{t('programme.kicker')}</p>
        <h1 id="programme-title">{f.name}</h1>
        {f.description ? <p className="desc">{f.description}</p> : null}
        <p className="meta">
          {f.start && f.end ? <span>{dateSpan(f)} · </span> : null}
          <span>{t('programme.timesIn', { zone: tz.replace(/_/g, ' '), offset: offsetLabel(tz, f.start ? Date.parse(f.start) : now) })}</span>
          {subs.length ? <span> · {t('programme.with', { names: subs.map((s) => s.name).join(', ') })}</span> : null}
        </p>
        <p className="meta pg-asof">{t('programme.asOf', { time: formatDateTime(now, tz) })}</p>
      </header>

      <div className="pg-controls">
        <nav className="pg-views" aria-label={t('programme.views')}>
          <a href={programmeHref(f.id, 'grid')} aria-current={shown === 'grid' ? 'page' : undefined}>
            {t('programme.grid')}
          </a>
          <a href={programmeHref(f.id, 'list')} aria-current={shown === 'list' ? 'page' : undefined}>
            {t('programme.list')}
          </a>
        </nav>
        <button type="button" onClick={() => window.print()}>
          {t('programme.print')}
        </button>
        <a className="pg-planning" href={href('/festivals', f.id)}>
          {t('programme.planning')}
        </a>
      </div>

      {day !== null ? (
        <nav className="pg-days" aria-label={t('programme.byDay', { count: WHOLE })}>
          <p className="meta">{t('programme.byDay', { count: WHOLE })}</p>
          <button type="button" onClick={() => setChosen(nextDayKey(day, -1))} disabled={first !== null && day <= first}>
            {t('programme.previousDay')}
          </button>{' '}
          <button type="button" onClick={() => setChosen(nextDayKey(day, 1))} disabled={last !== null && day >= last}>
            {t('programme.nextDay')}
          </button>
        </nav>
      ) : null}

      {day !== null && oneDay.error ? <ErrorNote message={oneDay.error} /> : null}
      {day !== null && days.length === 0 ? (
        oneDay.events === null ? (
          <Loading what="programme" />
        ) : (
          <section className="pg-day" aria-labelledby="pg-day-empty">
            <h2 className="pg-day-title" id="pg-day-empty">
              {formatLongDay(dayStart(day, tz), tz)}
            </h2>
            <div className="empty">
              <p>{t('programme.dayEmpty')}</p>
            </div>
          </section>
        )
      ) : days.length === 0 ? (
        <div className="empty">
          <p>{t('programme.empty')}</p>
        </div>
      ) : (
        days.map((d) => (
          <section key={d.day} className="pg-day" aria-labelledby={`pg-day-${d.day}`}>
            <h2 className="pg-day-title" id={`pg-day-${d.day}`}>
              {formatLongDay(dayStart(d.day, tz), tz)}
            </h2>
            {shown === 'grid' ? <GridView day={d} timeZone={tz} /> : <ListView day={d} timeZone={tz} />}
          </section>
        ))
      )}
      {day !== null && oneDay.more ? (
        <button type="button" className="pg-more" onClick={oneDay.loadMore}>
          {t('programme.more')}
        </button>
      ) : null}
    </article>
  )
}

/** The day a large programme opens on: today while the festival runs, else its first event's. */
function firstDay(programme: Programme, now: number): string {
  const f = programme.festival
  const tz = f.timezone
  if (f.start && f.end && Date.parse(f.start) <= now && now < Date.parse(f.end)) return dayKey(now, tz)
  const first = programme.events[0]
  return dayKey(first ? first.start : now, tz)
}

/** The programme of one day (`null`: none), a page at a time: `loadMore` adds the next. */
function useDay(id: string, day: string | null, timeZone: string) {
  const client = useClient()
  const range = (d: string): ProgrammePage => ({
    start: new Date(dayStart(d, timeZone)).toISOString(),
    end: new Date(dayStart(nextDayKey(d, 1), timeZone)).toISOString(),
    limit: WHOLE,
  })
  const page = useData((c) => (day === null ? Promise.resolve(null) : c.programme(id, range(day))), [id, day, timeZone])
  const [later, setLater] = useState<{ day: string | null; pages: Programme[]; error: string | null }>({
    day: null,
    pages: [],
    error: null,
  })
  const pages = later.day === day ? later.pages : []
  const events = useMemo(
    () => (page.data ? [page.data, ...pages].flatMap((p) => p.events) : null),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [page.data, later],
  )
  const next = (pages.length ? pages[pages.length - 1] : page.data)?.next ?? null
  const loadMore = () => {
    if (day === null || next === null) return
    client.programme(id, { ...range(day), after: next }).then(
      (p) => setLater({ day, pages: [...pages, p], error: null }),
      (e: unknown) => setLater({ day, pages, error: errorMessage(e) }),
    )
  }
  const error = page.error ?? (later.day === day ? later.error : null)
  return { events, more: next !== null, loadMore, error }
}

/** The places of one day side by side, time running down, like a printed festival schedule. */
function GridView({ day, timeZone }: { day: ProgrammeDay; timeZone: string }) {
  const { t } = useTranslation()
  const g = gridDay(day, dayStart(day.day, timeZone))
  const hours = Math.round((g.to - g.from) / HOUR)
  const at = (t: number) => (t - g.from) / HOUR
  const style = { '--pg-hours': hours, '--pg-cols': g.columns.length } as CSSProperties
  return (
    <div className="pg-scroll">
      <div className="pg-grid" style={style}>
        <div className="pg-corner" aria-hidden="true" />
        {g.columns.map((c) => (
          <h3 key={c.key} className="pg-head" id={`pg-${day.day}-${c.key}`}>
            {c.name}
          </h3>
        ))}
        <div className="pg-times" aria-hidden="true">
          {Array.from({ length: hours }, (_, i) => (
            <span key={i} style={{ top: `calc(${i} * var(--pg-hour))` }}>
              {formatTime(g.from + i * HOUR, timeZone)}
            </span>
          ))}
        </div>
        {g.columns.map((c) => (
          <ol key={c.key} className="pg-track" aria-labelledby={`pg-${day.day}-${c.key}`}>
            {g.blocks
              .filter((b) => b.column === c.key)
              .map((b) => {
                const when = formatTimeRange(b.booked.start, b.booked.end, timeZone)
                const others = b.item.others.map((o) => o.name).join(', ')
                const place: CSSProperties = {
                  top: `calc(${at(b.start)} * var(--pg-hour))`,
                  height: `calc(${at(b.end) - at(b.start)} * var(--pg-hour))`,
                  left: `${(b.lane / b.lanes) * 100}%`,
                  width: `${100 / b.lanes}%`,
                }
                const tip = [
                  b.item.title,
                  when,
                  b.item.within ? t('programme.in', { name: b.item.within }) : '',
                  others ? t('programme.with', { names: others }) : '',
                  b.item.description,
                ]
                  .filter(Boolean)
                  .join('\n')
                return (
                  <li key={`${b.item.id}-${c.key}`} className="pg-block" style={place} title={tip}>
                    <span className="pg-title">{b.item.title}</span>
                    <span className="pg-when">{when}</span>
                    {b.item.within ? <span className="pg-within">{b.item.within}</span> : null}
                    {others ? <span className="pg-with">{t('programme.with', { names: others })}</span> : null}
                  </li>
                )
              })}
          </ol>
        ))}
      </div>
    </div>
  )
}

/** One day's events in order of time. */
function ListView({ day, timeZone }: { day: ProgrammeDay; timeZone: string }) {
  return (
    <ol className="pg-list">
      {day.items.map((i) => (
        <ListItem key={i.id} item={i} timeZone={timeZone} />
      ))}
    </ol>
  )
}

function ListItem({ item: i, timeZone }: { item: ProgrammeItem; timeZone: string }) {
  const { t } = useTranslation()
  // A booking for part of the event says when.
  const name = (b: Booking) =>
    b.start === i.start && b.end === i.end ? b.name : `${b.name} (${formatTimeRange(b.start, b.end, timeZone)})`
  return (
    <li className="pg-item">
      <div className="pg-item-when">{formatTimeRange(i.start, i.end, timeZone)}</div>
      <div className="pg-item-what">
        <h3 className="pg-item-title">{i.title}</h3>
        <p className="pg-item-where">
          {i.locations.length ? <span>{t('programme.at', { names: i.locations.map(name).join(', ') })}</span> : null}
          {i.locations.length && i.others.length ? ' · ' : null}
          {i.others.length ? <span>{t('programme.with', { names: i.others.map(name).join(', ') })}</span> : null}
          {i.within ? <span className="pg-within">{i.within}</span> : null}
        </p>
        {i.description ? <p className="pg-item-desc">{i.description}</p> : null}
      </div>
    </li>
  )
}

/** Whether a media query matches (false where the browser cannot tell). */
function useMedia(query: string): boolean {
  const get = () => typeof window.matchMedia === 'function' && window.matchMedia(query).matches
  const [matches, setMatches] = useState(get)
  useEffect(() => {
    if (typeof window.matchMedia !== 'function') return
    const m = window.matchMedia(query)
    const on = () => setMatches(m.matches)
    on()
    m.addEventListener('change', on)
    return () => m.removeEventListener('change', on)
  }, [query])
  return matches
}
