// The public programme of a festival, laid out for visitors. What is on it is the node's
// rule (`State::programme` in crates/model, served as GET /festivals/{id}/programme, by the
// native node and the browser peer alike): events that are not cancelled and have a
// confirmed booking (or never asked for any resource), with their confirmed resources only;
// pending and denied requests never show. This file only arranges that answer.
//
// Events belong to the day (in the festival's zone) on which they start: a set from 23:00 to
// 02:00 is part of Friday's programme, as on a printed festival schedule.

import type { Festival, Id, Programme } from '../client/types'
import { t } from '../i18n'
import { dayKey } from './time'

/** A confirmed booking of one resource (for the event's time). */
export interface Booking {
  /** A key for its resource: its name, usable in an element id. */
  resource: string
  name: string
  location: boolean
  start: string
  end: string
}

export interface ProgrammeItem {
  id: Id
  title: string
  description: string
  start: string
  end: string
  /** The day (festival zone) it starts on: "2026-07-01". */
  day: string
  /** The sub-festival it belongs to (its name), or null when it is the festival's own. */
  within: string | null
  /** Confirmed bookings of locations (places). */
  locations: Booking[]
  /** Confirmed bookings of everything else (things, skills). */
  others: Booking[]
}

export interface ProgrammeDay {
  day: string
  items: ProgrammeItem[]
}

/** The node's programme of `festival` as items to lay out, sorted by start, then title. */
export function programmeItems(festival: Festival, programme: Programme): ProgrammeItem[] {
  const items = programme.events.map((e): ProgrammeItem => {
    // The resource's name, made safe as a part of an element id, keys its grid column.
    const booking = (location: boolean) => (name: string): Booking => ({
      resource: encodeURIComponent(name),
      name,
      location,
      start: e.start,
      end: e.end,
    })
    const byName = (a: Booking, b: Booking) => a.name.localeCompare(b.name)
    return {
      id: e.id,
      title: e.title,
      description: e.description,
      start: e.start,
      end: e.end,
      day: dayKey(e.start, festival.timezone),
      within: e.festival === festival.id ? null : (e.festival_name ?? t('common.aSubFestival')),
      locations: e.locations.map(booking(true)).sort(byName),
      others: e.resources.map(booking(false)).sort(byName),
    }
  })
  return items.sort((a, b) => Date.parse(a.start) - Date.parse(b.start) || a.title.localeCompare(b.title))
}

/** Items grouped by the day they start on, days in order. */
export function programmeDays(items: ProgrammeItem[]): ProgrammeDay[] {
  const days = new Map<string, ProgrammeItem[]>()
  for (const i of items) days.set(i.day, [...(days.get(i.day) ?? []), i])
  return [...days.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, list]) => ({ day, items: list }))
}

/** The column of events booked at no location. */
export const ELSEWHERE = 'elsewhere'

export interface GridColumn {
  /** A resource id, or ELSEWHERE. */
  key: string
  name: string
}

/** A block of the grid: one event in one column, in the frame of its booking there. */
export interface GridBlock {
  item: ProgrammeItem
  column: string
  /** Where it is drawn: the booking's frame, cut to the hours shown. */
  start: number
  end: number
  /** The booking's frame, as confirmed. */
  booked: { start: string; end: string }
  /** Side by side where blocks overlap within the column: this one's lane of `lanes`. */
  lane: number
  lanes: number
}

export interface GridDay {
  day: string
  columns: GridColumn[]
  blocks: GridBlock[]
  /** The instants of the first and the last whole hour shown. */
  from: number
  to: number
}

const HOUR = 3_600_000
/** A day's grid ends at the latest this long after its midnight (a festival night runs on;
 * an event lasting days is cut there). */
const LONGEST = 36 * HOUR

/**
 * One day of the days × locations grid: the locations with confirmed bookings that day (by
 * name), then "Elsewhere" for events with no location booked, when there are such.
 * `dayStartMs` is the day's midnight in the festival's zone.
 */
export function gridDay(day: ProgrammeDay, dayStartMs: number): GridDay {
  const cols = new Map<string, string>()
  const raw: Omit<GridBlock, 'lane' | 'lanes'>[] = []
  for (const item of day.items) {
    if (item.locations.length) {
      for (const b of item.locations) {
        cols.set(b.resource, b.name)
        raw.push({ item, column: b.resource, start: Date.parse(b.start), end: Date.parse(b.end), booked: b })
      }
    } else {
      raw.push({ item, column: ELSEWHERE, start: Date.parse(item.start), end: Date.parse(item.end), booked: item })
    }
  }
  const columns: GridColumn[] = [...cols.entries()]
    .map(([key, name]) => ({ key, name }))
    .sort((a, b) => a.name.localeCompare(b.name))
  if (raw.some((b) => b.column === ELSEWHERE)) columns.push({ key: ELSEWHERE, name: t('programme.elsewhere') })

  const first = Math.min(...raw.map((b) => b.start))
  const last = Math.max(...raw.map((b) => b.end))
  const from = dayStartMs + Math.floor((first - dayStartMs) / HOUR) * HOUR
  const to = Math.max(from + HOUR, Math.min(dayStartMs + LONGEST, dayStartMs + Math.ceil((last - dayStartMs) / HOUR) * HOUR))

  const blocks: GridBlock[] = []
  for (const col of columns) {
    const mine = raw
      .filter((b) => b.column === col.key)
      .map((b) => ({ ...b, booked: { start: b.booked.start, end: b.booked.end }, start: Math.max(b.start, from), end: Math.min(b.end, to) }))
      .sort((a, b) => a.start - b.start || a.end - b.end)
    // Lanes: each block takes the first lane free at its start; a cluster of overlapping
    // blocks shares the number of lanes it needed.
    let cluster: (typeof blocks)[number][] = []
    let clusterEnd = -Infinity
    let ends: number[] = []
    const close = () => {
      for (const b of cluster) b.lanes = ends.length
      cluster = []
      ends = []
    }
    for (const b of mine) {
      if (b.start >= clusterEnd) {
        close()
        clusterEnd = -Infinity
      }
      let lane = ends.findIndex((e) => e <= b.start)
      if (lane < 0) lane = ends.length
      ends[lane] = b.end
      clusterEnd = Math.max(clusterEnd, b.end)
      const block = { ...b, lane, lanes: 1 }
      cluster.push(block)
      blocks.push(block)
    }
    close()
  }
  return { day: day.day, columns, blocks, from, to }
}
