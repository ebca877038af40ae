// The timeline: days × resources. Each resource's day is a track from 00:00 to 24:00 in the
// festival's time zone. Booked (confirmed) time is solid, holds (pending requests, waiting for
// the owner) are hatched in lanes below, free time is green, and time outside the resource's
// availability stays grey. Every block is a list item with its words, so the timeline reads
// as lists for screen readers and keyboard users can tab to the events.

import { useLayoutEffect, useMemo, useRef, type ReactNode } from 'react'
import type { Calendar, Id, Resource, Slot, TimeFrame } from '../client/types'
import { href, newEventHref } from '../lib/router'
import { dayStart, formatDay, formatTimeRange, HOUR, nextDayKey, toRfc3339, zonedInputToUtc } from '../lib/time'
import { freeText, lanes } from '../lib/timeline'
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
  const { timeZone, resources, days } = props
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

  if (!days.length || !resources.length) return null
  if (!cals.data) return cals.error ? <ErrorNote message={cals.error} /> : <Loading what="the timeline" />

  return (
    <div className="timeline">
      <Legend />
      <ErrorNote message={cals.error} />
      {props.byDay ? (
        <DayBlock {...props} title={null} rows={days.map((d) => ({ day: d, cal: cals.data![0] }))} />
      ) : (
        days.map((d) => (
          <DayBlock key={d} {...props} title={formatDay(dayStart(d, timeZone), timeZone)} rows={cals.data!.map((cal) => ({ day: d, cal }))} />
        ))
      )}
    </div>
  )
}

function Legend() {
  return (
    <ul className="legend" aria-label="What the colours mean">
      <li>
        <span className="swatch free" aria-hidden="true" /> Free
      </li>
      <li>
        <span className="swatch booked" aria-hidden="true" /> Booked (confirmed)
      </li>
      <li>
        <span className="swatch hold" aria-hidden="true" /> Hold: waiting for the owner
      </li>
      <li>
        <span className="swatch closed" aria-hidden="true" /> Not available
      </li>
    </ul>
  )
}

interface Row {
  day: string
  cal: DayCalendar
}

function DayBlock(props: TimelineProps & { title: string | null; rows: Row[] }) {
  const { timeZone, title, rows, highlight } = props
  const first = rows[0]?.day
  const scroller = useRef<HTMLDivElement>(null)
  // On a narrow screen the day scrolls sideways: start at 08:00, or earlier if something happens earlier.
  const focusHour = useMemo(() => {
    if (!first) return 8
    const d0 = dayStart(first, timeZone)
    const starts = rows.flatMap((r) =>
      [...r.cal.calendar.confirmed, ...r.cal.calendar.pending].map((s) => Date.parse(s.start)),
    )
    if (highlight) starts.push(Date.parse(highlight.start))
    const inDay = starts.filter((t) => t >= d0 && t < d0 + 24 * HOUR).map((t) => (t - d0) / HOUR)
    return Math.max(0, Math.min(8, ...inDay.map((h) => Math.floor(h) - 1)))
  }, [first, rows, highlight, timeZone])
  useLayoutEffect(() => {
    const el = scroller.current
    if (!el || el.scrollWidth <= el.clientWidth) return
    const track = el.querySelector('.tl-track') as HTMLElement | null
    if (track) el.scrollLeft = track.offsetLeft + (track.offsetWidth * focusHour) / 24 - 8
  }, [focusHour])
  return (
    <section className="tl-day" aria-label={title ?? undefined}>
      {title ? <h3 className="tl-day-title">{title}</h3> : null}
      <div className="tl-scroll" ref={scroller}>
        <div className="tl-table">
          {first ? <Ruler day={first} timeZone={timeZone} /> : null}
          {rows.map((row) => (
            <TrackRow key={`${row.day}-${row.cal.resource.id}`} {...props} row={row} />
          ))}
        </div>
      </div>
    </section>
  )
}

function Ruler({ day, timeZone }: { day: string; timeZone: string }) {
  const d0 = dayStart(day, timeZone)
  const d1 = dayStart(nextDayKey(day), timeZone)
  const ticks = [0, 3, 6, 9, 12, 15, 18, 21].map((h) => {
    const at = Date.parse(zonedInputToUtc(`${day}T${String(h).padStart(2, '0')}:00`, timeZone)!)
    return { h, left: ((at - d0) / (d1 - d0)) * 100 }
  })
  return (
    <div className="tl-row tl-ruler" aria-hidden="true">
      <div className="tl-name" />
      <div className="tl-ticks">
        {ticks.map((t) => (
          <span key={t.h} style={{ left: `${t.left}%` }}>
            {String(t.h).padStart(2, '0')}:00
          </span>
        ))}
      </div>
    </div>
  )
}

function TrackRow(props: TimelineProps & { row: Row }) {
  const { timeZone, row, highlight, festival, byDay } = props
  const { resource, calendar } = row.cal
  const d0 = dayStart(row.day, timeZone)
  const d1 = dayStart(nextDayKey(row.day), timeZone)
  const dayName = formatDay(d0, timeZone)
  const inDay = (s: Slot | TimeFrame) => Date.parse(s.start) < d1 && Date.parse(s.end) > d0
  const pos = (s: { start: string; end: string }) => {
    const a = Math.max(Date.parse(s.start), d0)
    const b = Math.min(Date.parse(s.end), d1)
    return { left: `${((a - d0) / (d1 - d0)) * 100}%`, width: `${((b - a) / (d1 - d0)) * 100}%` }
  }
  const free = calendar.free.filter(inDay)
  const booked = calendar.confirmed.filter(inDay)
  const holds = lanes(calendar.pending.filter(inDay))
  const laneCount = holds.reduce((m, h) => Math.max(m, h.lane + 1), 0)
  const mounted = useNow()
  const now = props.now ?? mounted
  const showNow = now >= d0 && now < d1

  return (
    <div className="tl-row">
      <div className="tl-name">
        {byDay ? dayName : <a href={href('/resources', resource.id)}>{resource.name}</a>}
      </div>
      <ul
        className="tl-track"
        aria-label={`${resource.name}, ${dayName}`}
        style={{ height: `${2 + 1.6 * laneCount}rem` }}
      >
        {free.map((s) => (
          <li key={`f${s.start}`} className="tl-block tl-free" style={pos(s)}>
            {props.linkFree === false ? (
              <FreeLabel slot={s} timeZone={timeZone} d0={d0} d1={d1} />
            ) : (
              <a
                href={newEventHref(festival, { resource: resource.id, start: toRfc3339(Math.max(Date.parse(s.start), d0)), end: freeEnd(s, d0) })}
                title={`${freeText(s, timeZone, d0, d1)}: plan an event here`}
              >
                <FreeLabel slot={s} timeZone={timeZone} d0={d0} d1={d1} />
              </a>
            )}
          </li>
        ))}
        {booked.map((s) => (
          <li
            key={`c${s.request ?? s.start}`}
            className="tl-block tl-booked"
            style={pos(s)}
            title={`Booked: ${s.event_title ?? 'an event'} ${formatTimeRange(s.start, s.end, timeZone)}`}
          >
            <SlotLink slot={s}>
              <span className="sr-only">Booked:</span> {s.event_title ?? 'Booked'} <span className="t">{formatTimeRange(s.start, s.end, timeZone)}</span>
            </SlotLink>
          </li>
        ))}
        {holds.map(({ slot: s, lane }) => (
          <li
            key={`p${s.request ?? s.start}`}
            className="tl-block tl-hold"
            style={{ ...pos(s), top: `${2 + 1.6 * lane}rem` }}
            title={`Hold, waiting for the owner: ${s.event_title ?? 'an event'} ${formatTimeRange(s.start, s.end, timeZone)}`}
          >
            <SlotLink slot={s}>
              <span className="sr-only">Hold, waiting for the owner:</span> {s.event_title ?? 'Requested'} <span className="t">{formatTimeRange(s.start, s.end, timeZone)}</span>
            </SlotLink>
          </li>
        ))}
        {highlight && inDay(highlight) ? (
          <li className="tl-highlight" style={pos(highlight)}>
            <span className="sr-only">Your event: {formatTimeRange(highlight.start, highlight.end, timeZone)}</span>
          </li>
        ) : null}
        {showNow ? <li className="tl-now" style={{ left: pos({ start: toRfc3339(now), end: toRfc3339(now) }).left }} aria-hidden="true" /> : null}
      </ul>
    </div>
  )
}

/** "Free all day", or the free part of this day: "Free 12:00–24:00". */
function FreeLabel({ slot, timeZone, d0, d1 }: { slot: Slot; timeZone: string; d0: number; d1: number }) {
  const text = freeText(slot, timeZone, d0, d1)
  if (text === 'Free all day') return <span>{text}</span>
  return (
    <span>
      Free <span className="t">{text.slice('Free '.length)}</span>
    </span>
  )
}

function SlotLink({ slot, children }: { slot: Slot; children: ReactNode }) {
  if (!slot.event) return <span>{children}</span>
  return <a href={href('/events', slot.event)}>{children}</a>
}

/** A suggestion for a new event in a free window: its first two hours on this day. */
function freeEnd(s: Slot, d0: number): string {
  const start = Math.max(Date.parse(s.start), d0)
  return toRfc3339(Math.min(Date.parse(s.end), start + 2 * HOUR))
}
