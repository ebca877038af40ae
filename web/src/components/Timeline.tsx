// The timeline: days × resources. Each resource's day is a track in the festival's time zone,
// cropped to the hours where something happens (lib/timeline.ts: activeHours), with a button
// for the whole day. A slot crossing midnight is drawn on both days. Booked (confirmed) time
// is solid, holds (pending requests, waiting for the owner) are hatched in lanes below, free
// time is green, and time outside the resource's availability stays grey. A resource of which
// several may be booked at once (a capacity) shows in its own lane how many are left in each
// piece of time ("3 of 10 left", from the calendar's `load`; full pieces as busy), and its
// bookings, which may overlap, in lanes below like holds. Every block is a
// list item whose link carries its full words (aria-label, and a tooltip), however narrow the
// block is drawn: narrow blocks drop the time, the narrowest show initials (styles.css). So the
// timeline reads as lists for screen readers, and keyboard users can tab to the events.

import { useTranslation } from 'react-i18next'
import { t } from '../i18n'
import { eventName } from '../lib/checks'
import { useLayoutEffect, useMemo, useRef, useState, type CSSProperties, type ReactNode } from 'react'
import type { Calendar, Id, Load, Resource, Slot, TimeFrame } from '../client/types'
import { href, newEventHref } from '../lib/router'
import {
  dayKey,
  dayStart,
  formatDay,
  formatTime,
  formatTimeRange,
  formatWeekday,
  HOUR,
  nextDayKey,
  toRfc3339,
} from '../lib/time'
import {
  activeHours,
  ALL_DAY,
  dayAxis,
  freeRange,
  freeText,
  hoursShown,
  hoursText,
  initials,
  lanes,
  tickStep,
  type DayAxis,
  type HourRun,
} from '../lib/timeline'
import { useData } from '../lib/useData'
import { useNow } from '../lib/useNow'
import { ErrorNote, Loading } from './ui'

export interface TimelineProps {
  timeZone: string
  festival: Id
  resources: Resource[]
  /** Day keys ("2026-07-01") in `timeZone`. */
  days: string[]
  /** A proposed frame to outline (the event being planned). */
  highlight?: TimeFrame | null
  /** One resource, one row per day (a resource's own calendar). */
  byDay?: boolean
  /** Free blocks link to a new event for that time (default true). */
  linkFree?: boolean
  now?: number
}

interface DayCalendar {
  resource: Resource
  calendar: Calendar
}

export function Timeline(props: TimelineProps) {
  const { t } = useTranslation()
  const { timeZone, resources, days, highlight } = props
  const from = days.length ? toRfc3339(dayStart(days[0], timeZone)) : ''
  const to = days.length ? toRfc3339(dayStart(nextDayKey(days[days.length - 1]), timeZone)) : ''
  const ids = resources.map((r) => r.id).join(',')
  const cals = useData(
    (c) =>
      Promise.all(
        resources.map(async (r): Promise<DayCalendar> => ({ resource: r, calendar: await c.calendar(r.id, from, to) })),
      ),
    [ids, from, to],
  )
  const [wholeDay, setWholeDay] = useState(false)
  const active = useMemo(() => {
    if (!cals.data) return ALL_DAY
    const frames: TimeFrame[] = cals.data.flatMap(({ calendar: c }) => [...c.confirmed, ...c.pending])
    if (highlight) frames.push(highlight)
    const limits = resources.flatMap((r) => (r.availability === 'always' ? [] : r.availability))
    return activeHours(frames, days, timeZone, limits)
  }, [cals.data, highlight, resources, days, timeZone])

  if (!days.length || !resources.length) return null
  if (!cals.data) return cals.error ? <ErrorNote message={cals.error} /> : <Loading what="timeline" />
  const cropped = hoursShown(active) < 24
  const runs = wholeDay ? ALL_DAY : active

  return (
    <div className="timeline">
      <Legend several={resources.some((r) => r.capacity !== 1)} />
      {cropped ? (
        <p className="hint tl-hours">
          {wholeDay ? t('timeline.showingAll') : t('timeline.showingSome', { hours: hoursText(active) })}{' '}
          <button type="button" className="link" onClick={() => setWholeDay(!wholeDay)}>
            {wholeDay ? t('timeline.showOnly') : t('timeline.showAll')}
          </button>
        </p>
      ) : null}
      <ErrorNote message={cals.error} />
      {props.byDay ? (
        <DayBlock {...props} runs={runs} title={null} rows={days.map((d) => ({ day: d, cal: cals.data![0] }))} />
      ) : (
        days.map((d) => (
          <DayBlock
            key={d}
            {...props}
            runs={runs}
            title={formatDay(dayStart(d, timeZone), timeZone)}
            rows={cals.data!.map((cal) => ({ day: d, cal }))}
          />
        ))
      )}
    </div>
  )
}

function Legend({ several }: { several: boolean }) {
  const { t } = useTranslation()
  return (
    <ul className="legend" aria-label={t('timeline.legend')}>
      <li>
        <span className="swatch free" aria-hidden="true" /> {t('timeline.legendFree')}
      </li>
      {several ? (
        <li>
          <span className="swatch partly" aria-hidden="true" /> {t('timeline.legendPartly')}
        </li>
      ) : null}
      <li>
        <span className="swatch booked" aria-hidden="true" /> {t('timeline.legendBooked')}
      </li>
      <li>
        <span className="swatch hold" aria-hidden="true" /> {t('timeline.legendHold')}
      </li>
      <li>
        <span className="swatch closed" aria-hidden="true" /> {t('timeline.legendClosed')}
      </li>
    </ul>
  )
}

interface Row {
  day: string
  cal: DayCalendar
}

type AxisProps = TimelineProps & { runs: HourRun[] }

const pct = (n: number) => `${n}%`
/** Heights in rem (styles.css): the resource's own lane, and each lane of holds below it. */
const LANE0 = 2.7
const LANE = 2.5

function DayBlock(props: AxisProps & { title: string | null; rows: Row[] }) {
  const { timeZone, title, rows, highlight, runs } = props
  const first = rows[0]?.day
  const scroller = useRef<HTMLDivElement>(null)
  // On a narrow screen the day scrolls sideways: start at 08:00, or earlier if something
  // happens earlier (with the hours cropped, that is usually where the day starts).
  const focus = useMemo(() => {
    if (!first) return 0
    const d0 = dayStart(first, timeZone)
    const starts = rows.flatMap((r) => [...r.cal.calendar.confirmed, ...r.cal.calendar.pending].map((s) => Date.parse(s.start)))
    if (highlight) starts.push(Date.parse(highlight.start))
    const inDay = starts.filter((t) => t >= d0 && t < d0 + 24 * HOUR)
    const at8 = d0 + 8 * HOUR
    return dayAxis(first, runs, timeZone).at(Math.max(d0, Math.min(at8, ...inDay.map((t) => t - HOUR))))
  }, [first, rows, highlight, timeZone, runs])
  useLayoutEffect(() => {
    const el = scroller.current
    if (!el || el.scrollWidth <= el.clientWidth) return
    const track = el.querySelector('.tl-track') as HTMLElement | null
    if (track) el.scrollLeft = track.offsetLeft + (track.offsetWidth * focus) / 100 - 8
  }, [focus])
  return (
    <section className="tl-day" aria-label={title ?? undefined}>
      {title ? <h3 className="tl-day-title">{title}</h3> : null}
      <div className="tl-scroll" ref={scroller}>
        <div className="tl-table" style={{ '--tl-hours': hoursShown(runs) } as CSSProperties}>
          {first ? <Ruler axis={dayAxis(first, runs, timeZone)} hours={hoursShown(runs)} /> : null}
          {rows.map((row) => (
            <TrackRow key={`${row.day}-${row.cal.resource.id}`} {...props} row={row} />
          ))}
        </div>
      </div>
    </section>
  )
}

function Ruler({ axis, hours }: { axis: DayAxis; hours: number }) {
  return (
    <div className="tl-row tl-ruler" aria-hidden="true">
      <div className="tl-name" />
      <div className="tl-ticks">
        {axis.ticks(tickStep(hours)).map((t) => (
          <span key={t.hour} style={{ left: pct(t.left) }}>
            {String(t.hour).padStart(2, '0')}:00
          </span>
        ))}
        {axis.breaks.map((b) => (
          <i key={b} className="tl-break" style={{ left: pct(b) }} />
        ))}
      </div>
    </div>
  )
}

/** The time of a block: "18:00–20:00", or over midnight "Wed 21:00–Thu 02:00". */
function blockTime(s: { start: string; end: string }, timeZone: string): string {
  if (dayKey(s.start, timeZone) === dayKey(Date.parse(s.end) - 1, timeZone)) return formatTimeRange(s.start, s.end, timeZone)
  const at = (t: string) => `${formatWeekday(t, timeZone)} ${formatTime(t, timeZone)}`
  return `${at(s.start)}–${at(s.end)}`
}

function TrackRow(props: AxisProps & { row: Row }) {
  const { t } = useTranslation()
  const { timeZone, row, highlight, festival, byDay, runs } = props
  const { resource, calendar } = row.cal
  const d0 = dayStart(row.day, timeZone)
  const d1 = dayStart(nextDayKey(row.day), timeZone)
  const axis = dayAxis(row.day, runs, timeZone)
  const dayName = formatDay(d0, timeZone)
  const inDay = (s: Slot | TimeFrame) => Date.parse(s.start) < d1 && Date.parse(s.end) > d0
  /** Where a block goes; null if it lies in hours not shown. */
  const pos = (s: { start: string; end: string }): CSSProperties | null => {
    const p = axis.place({ start: Math.max(Date.parse(s.start), d0), end: Math.min(Date.parse(s.end), d1) })
    return p && { left: pct(p.left), width: pct(p.width) }
  }
  /** A slot going on from the day before or into the next day shows a cut edge there. */
  const cut = (s: Slot) =>
    `${Date.parse(s.start) < d0 ? ' tl-from-before' : ''}${Date.parse(s.end) > d1 ? ' tl-goes-on' : ''}`
  const shown = <T extends Slot>(list: T[]) =>
    list.filter(inDay).flatMap((s) => {
      const style = pos(s)
      return style ? [{ s, style }] : []
    })
  // Several at once: the free time in pieces, each saying how many are left; full pieces busy;
  // the bookings (which may overlap) in lanes below the resource's own.
  const several = resource.capacity !== 1
  const free = several ? shownPieces(piecesOfFree(calendar.free, calendar.load), inDay, pos) : shown(calendar.free).map((b) => ({ ...b, load: null }))
  const full = several ? shownPieces(calendar.load.filter((l) => l.left === 0), inDay, pos) : []
  const booked = several ? [] : shown(calendar.confirmed)
  const bookedLanes = several
    ? lanes(calendar.confirmed.filter(inDay)).flatMap(({ slot, lane }) => {
        const style = pos(slot)
        return style ? [{ s: slot, lane, style }] : []
      })
    : []
  const firstHoldLane = bookedLanes.reduce((m, h) => Math.max(m, h.lane + 1), 0)
  const holds = lanes(calendar.pending.filter(inDay)).flatMap(({ slot, lane }) => {
    const style = pos(slot)
    return style ? [{ s: slot, lane: firstHoldLane + lane, style }] : []
  })
  const laneCount = Math.max(firstHoldLane, holds.reduce((m, h) => Math.max(m, h.lane + 1), 0))
  const mounted = useNow()
  const now = props.now ?? mounted
  const nowAt = now >= d0 && now < d1 ? axis.place({ start: now, end: now + 60_000 }) : null
  const mark = highlight && inDay(highlight) ? pos(highlight) : null

  return (
    <div className="tl-row">
      <div className="tl-name">
        {byDay ? dayName : <a href={href('/resources', resource.id)}>{resource.name}</a>}
      </div>
      <ul className="tl-track" aria-label={`${resource.name}, ${dayName}`} style={{ height: `${LANE0 + LANE * laneCount}rem` }}>
        {free.map(({ s, style, load }) => {
          const partly = load !== null && load.booked > 0
          const range = freeRange(s, timeZone, d0, d1)
          const left = partly ? leftText(load, resource) : null
          const text = left ? `${left} ${range ?? t('timeline.allDay')}` : freeText(s, timeZone, d0, d1)
          return (
            <li key={`f${s.start}`} className={`tl-block tl-free${partly ? ' tl-partly' : ''}`} style={style}>
              {props.linkFree === false ? (
                <span title={text}>
                  <FreeLabel range={range} left={left} />
                </span>
              ) : (
                <a
                  href={newEventHref(festival, { resource: resource.id, start: toRfc3339(Math.max(Date.parse(s.start), d0)), end: freeEnd(s, d0) })}
                  aria-label={text}
                  title={t('timeline.planHere', { text })}
                >
                  <FreeLabel range={range} left={left} />
                </a>
              )}
            </li>
          )
        })}
        {full.map(({ s, style, load }) => {
          const label = t('timeline.full', { count: load!.booked, time: blockTime(s, timeZone) })
          return (
            <li key={`u${s.start}`} className="tl-block tl-booked tl-full" style={style} title={label}>
              <span aria-label={label}>
                <span className="tl-text">
                  <span className="tl-title">{t('timeline.fullTitle', { count: load!.booked })}</span>{' '}
                  <span className="t">{blockTime(s, timeZone)}</span>
                </span>
              </span>
            </li>
          )
        })}
        {bookedLanes.map(({ s, lane, style }) => {
          const label = t('timeline.booked', { event: eventName(s), time: formatTimeRange(s.start, s.end, timeZone) })
          return (
            <li
              key={`c${s.request ?? s.start}`}
              className={`tl-block tl-booked tl-lane${cut(s)}`}
              style={{ ...style, top: `${LANE0 + LANE * lane}rem` }}
              title={label}
            >
              <SlotLink slot={s} label={label}>
                <span className="sr-only">{t('timeline.bookedPrefix')}</span>{' '}
                <span className="tl-title">{s.event_title ?? (s.event ? t('timeline.bookedTitle') : t('timeline.subFestival'))}</span>{' '}
                <span className="t">{blockTime(s, timeZone)}</span>
              </SlotLink>
            </li>
          )
        })}
        {booked.map(({ s, style }) => {
          // A booking without an event is one the owner confirmed for a sub-festival not held here.
          const label = t('timeline.booked', { event: eventName(s), time: formatTimeRange(s.start, s.end, timeZone) })
          return (
            <li key={`c${s.request ?? s.start}`} className={`tl-block tl-booked${cut(s)}`} style={style} title={label}>
              <SlotLink slot={s} label={label}>
                <span className="sr-only">{t('timeline.bookedPrefix')}</span>{' '}
                <span className="tl-title">{s.event_title ?? (s.event ? t('timeline.bookedTitle') : t('timeline.subFestival'))}</span>{' '}
                <span className="t">{blockTime(s, timeZone)}</span>
              </SlotLink>
            </li>
          )
        })}
        {holds.map(({ s, lane, style }) => {
          const label = t('timeline.hold', { event: eventName(s), time: formatTimeRange(s.start, s.end, timeZone) })
          return (
            <li
              key={`p${s.request ?? s.start}`}
              className={`tl-block tl-hold${cut(s)}`}
              style={{ ...style, top: `${LANE0 + LANE * lane}rem` }}
              title={label}
            >
              <SlotLink slot={s} label={label}>
                <span className="sr-only">{t('timeline.holdPrefix')}</span>{' '}
                <span className="tl-title">{s.event_title ?? t('timeline.requested')}</span>{' '}
                <span className="t">{blockTime(s, timeZone)}</span>
              </SlotLink>
            </li>
          )
        })}
        {mark ? (
          <li className="tl-highlight" style={mark}>
            <span className="sr-only">{t('timeline.yourEvent', { time: formatTimeRange(highlight!.start, highlight!.end, timeZone) })}</span>
          </li>
        ) : null}
        {axis.breaks.map((b) => (
          <li key={`b${b}`} className="tl-break" style={{ left: pct(b) }} aria-hidden="true" />
        ))}
        {nowAt ? <li className="tl-now" style={{ left: pct(nowAt.left) }} aria-hidden="true" /> : null}
      </ul>
    </div>
  )
}

/** "3 of 10 left", or without a limit "4 booked". */
function leftText(load: Load, resource: Resource): string {
  if (load.left === null || load.left === undefined || resource.capacity === 'unlimited') {
    return t('timeline.bookedCount', { count: load.booked })
  }
  return t('timeline.left', { left: load.left, count: resource.capacity })
}

/**
 * The free time of a resource of which several may be booked at once, cut where the number
 * booked changes: each piece with its load (null where the calendar says nothing).
 */
function piecesOfFree(free: Slot[], load: Load[]): { s: Slot; load: Load | null }[] {
  const out: { s: Slot; load: Load | null }[] = []
  for (const f of free) {
    const a = Date.parse(f.start)
    const b = Date.parse(f.end)
    let at = a
    for (const l of load) {
      const la = Math.max(Date.parse(l.start), a)
      const lb = Math.min(Date.parse(l.end), b)
      if (!(la < lb)) continue
      if (la > at) out.push({ s: { ...f, start: toRfc3339(at), end: toRfc3339(la) }, load: null })
      out.push({ s: { ...f, start: toRfc3339(la), end: toRfc3339(lb) }, load: l })
      at = lb
    }
    if (at < b) out.push({ s: { ...f, start: toRfc3339(at), end: toRfc3339(b) }, load: null })
  }
  // Neighbouring pieces with nothing booked read as one free block.
  const merged: typeof out = []
  for (const p of out) {
    const last = merged[merged.length - 1]
    const empty = (x: { load: Load | null }) => x.load === null || x.load.booked === 0
    if (last && empty(last) && empty(p) && Date.parse(last.s.end) === Date.parse(p.s.start)) {
      merged[merged.length - 1] = { s: { ...last.s, end: p.s.end }, load: null }
    } else merged.push(p)
  }
  return merged
}

/** The pieces of this day that are shown, with where they go. */
function shownPieces<T extends { start: string; end: string }>(
  pieces: { s: T; load: Load | null }[] | Load[],
  inDay: (s: TimeFrame) => boolean,
  pos: (s: { start: string; end: string }) => CSSProperties | null,
): { s: Slot; style: CSSProperties; load: Load | null }[] {
  return pieces.flatMap((p) => {
    const piece = 's' in p ? p : { s: p as unknown as T, load: p as Load }
    if (!inDay(piece.s)) return []
    const style = pos(piece.s)
    return style ? [{ s: piece.s as unknown as Slot, style, load: piece.load }] : []
  })
}

/** "Free all day", or the free part of this day: "Free 12:00–24:00"; "3 of 10 left 12:00–14:00". */
function FreeLabel({ range, left }: { range: string | null; left?: string | null }) {
  const { t } = useTranslation()
  if (left)
    return (
      <span className="tl-text">
        <span className="tl-title">{left}</span> {range ? <span className="t">{range}</span> : null}
      </span>
    )
  if (range === null)
    return (
      <span className="tl-text">
        <span className="tl-title">{t('timeline.freeAllDay')}</span>
      </span>
    )
  return (
    <span className="tl-text">
      <span className="tl-title">{t('timeline.free')}</span> <span className="t">{range}</span>
    </span>
  )
}

/**
 * A booking's or a hold's words: a link to its event named with the full text. The text in
 * the block may be cut by the block's width (styles.css); `data-short` (initials) stands in
 * when even the title cannot be read.
 */
function SlotLink({ slot, label, children }: { slot: Slot; label: string; children: ReactNode }) {
  const short = initials(slot.event_title ?? '')
  const text = <span className="tl-text">{children}</span>
  if (!slot.event)
    return (
      <span data-short={short} title={label}>
        {text}
      </span>
    )
  return (
    <a href={href('/events', slot.event)} aria-label={label} data-short={short}>
      {text}
    </a>
  )
}

/** A suggestion for a new event in a free window: its first two hours on this day. */
function freeEnd(s: Slot, d0: number): string {
  const start = Math.max(Date.parse(s.start), d0)
  return toRfc3339(Math.min(Date.parse(s.end), start + 2 * HOUR))
}
