import type { Slot } from '../client/types'
import { listText, t } from '../i18n'
import { dayStart, formatTime, nextDayKey, wallClock, zonedToMs } from './time'

/** The free part of one day, "12:00–24:00"; null when it is free all day. */
export function freeRange(slot: { start: string; end: string }, timeZone: string, d0: number, d1: number): string | null {
  const a = Math.max(Date.parse(slot.start), d0)
  const b = Math.min(Date.parse(slot.end), d1)
  if (a === d0 && b === d1) return null
  return `${formatTime(a, timeZone)}–${b === d1 ? '24:00' : formatTime(b, timeZone)}`
}

/** "Free all day", or the free part of one day: "Free 12:00–24:00". */
export function freeText(slot: { start: string; end: string }, timeZone: string, d0: number, d1: number): string {
  const range = freeRange(slot, timeZone, d0, d1)
  return range === null ? t('timeline.freeAllDay') : t('timeline.freeRange', { range })
}

/** Holds may overlap each other: give each the first lane where it fits. */
export function lanes(slots: Slot[]): { slot: Slot; lane: number }[] {
  const ends: number[] = []
  return [...slots]
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start))
    .map((slot) => {
      let lane = ends.findIndex((e) => e <= Date.parse(slot.start))
      if (lane < 0) lane = ends.length
      ends[lane] = Date.parse(slot.end)
      return { slot, lane }
    })
}

// ---- The hours a timeline shows ------------------------------------------------------------
//
// A timeline's rows are calendar days in the festival's zone: a slot crossing midnight is
// drawn on both days, its part before midnight on the first and the rest on the next. All
// rows share one axis of wall-clock hours, cropped to the hours where something happens
// (bookings, holds, the event being planned, limited availability): a run of whole hours,
// or two runs when the activity goes on past midnight (21:00–02:00 shows 00:00–02:00 and
// 21:00–24:00, with the empty hours between them left out).

/** Whole hours [from, to) of a day, 0 ≤ from < to ≤ 24. */
export type HourRun = [number, number]

/** The whole day. */
export const ALL_DAY: HourRun[] = [[0, 24]]

/** The fewest hours shown. */
export const MIN_HOURS = 6
/** Empty stretches shorter than this between active hours are kept, so the axis reads as one. */
export const MIN_GAP = 6

type Frame = { start: string | number; end: string | number }
const ms = (t: string | number) => (typeof t === 'number' ? t : Date.parse(t))

/** Wall-clock hours since the day's midnight (`day` is "2026-07-01"), up to 24 at the next midnight. */
function hourOfDay(t: number, day: string, timeZone: string): number {
  if (t >= dayStart(nextDayKey(day), timeZone)) return 24
  if (t <= dayStart(day, timeZone)) return 0
  const w = wallClock(t, timeZone)
  return w.hour + w.minute / 60 + w.second / 3600
}

/**
 * The hours to show for these days: the active hours of every frame, rounded out to whole
 * hours, at least MIN_HOURS, in one run or, over midnight, two (see above). `limits` (a
 * resource's availability) count only on the days where they begin or end: available all
 * day says nothing about when things happen. Nothing active: the whole day.
 */
export function activeHours(frames: Frame[], days: string[], timeZone: string, limits: Frame[] = []): HourRun[] {
  const on = new Array<boolean>(24).fill(false)
  for (const day of days) {
    const d0 = dayStart(day, timeZone)
    const d1 = dayStart(nextDayKey(day), timeZone)
    const all = [...frames, ...limits.filter((f) => !(ms(f.start) <= d0 && ms(f.end) >= d1))]
    for (const f of all) {
      const a = Math.max(ms(f.start), d0)
      const b = Math.min(ms(f.end), d1)
      if (!(a < b)) continue
      const h0 = Math.floor(hourOfDay(a, day, timeZone))
      const h1 = Math.ceil(hourOfDay(b, day, timeZone))
      for (let h = h0; h < Math.max(h1, h0 + 1) && h < 24; h++) on[h] = true
    }
  }
  if (!on.includes(true)) return ALL_DAY
  const first = on.indexOf(true)
  const last = on.lastIndexOf(true)
  // Interior gaps: keep the longest (if long enough) hidden, fill the others.
  const gaps: HourRun[] = []
  for (let h = first; h <= last; h++) {
    if (on[h]) continue
    const from = h
    while (!on[h]) h++
    gaps.push([from, h])
  }
  const len = ([a, b]: HourRun) => b - a
  const longest = gaps.reduce<HourRun | null>((m, g) => (len(g) >= MIN_GAP && (!m || len(g) > len(m)) ? g : m), null)
  for (const g of gaps) if (g !== longest) for (let h = g[0]; h < g[1]; h++) on[h] = true
  // At least MIN_HOURS: grow the shown hours at their edges, later first, then earlier.
  for (let i = 0; on.filter(Boolean).length < Math.min(MIN_HOURS, 24); i++) {
    const later = on.findIndex((v, h) => !v && h > 0 && on[h - 1])
    const earlier = on.findLastIndex((v, h) => !v && h < 23 && on[h + 1])
    const pick = i % 2 === 0 ? (later >= 0 ? later : earlier) : earlier >= 0 ? earlier : later
    on[pick] = true
  }
  const runs: HourRun[] = []
  for (let h = 0; h < 24; h++) {
    if (!on[h]) continue
    const from = h
    while (h < 24 && on[h]) h++
    runs.push([from, h])
  }
  return runs
}

/** How many hours the runs show. */
export function hoursShown(runs: HourRun[]): number {
  return runs.reduce((n, [a, b]) => n + b - a, 0)
}

/** "10:00–24:00", or "00:00–02:00 and 21:00–24:00". */
export function hoursText(runs: HourRun[]): string {
  const hh = (h: number) => `${String(h).padStart(2, '0')}:00`
  return listText(runs.map(([a, b]) => `${hh(a)}–${hh(b)}`))
}

/** The instant the wall clock reads `hour`:00 on `day` (24 is the next midnight). */
function atHour(day: string, hour: number, timeZone: string): number {
  if (hour >= 24) return dayStart(nextDayKey(day), timeZone)
  const [y, m, d] = day.split('-').map(Number)
  return zonedToMs(timeZone, y, m, d, hour)
}

/** One day's axis: where an instant is drawn, in percent of the track. */
export interface DayAxis {
  /** Percent from the left for an instant; hidden hours take no room. */
  at(t: number): number
  /** Left and width in percent of a frame, cut to this day; null if none of it is shown. */
  place(f: Frame): { left: number; width: number } | null
  /** Where the hidden hours between two runs are (percent), for a break mark. */
  breaks: number[]
  /** Hour marks: `step` hours apart within each run. */
  ticks(step: number): { hour: number; left: number }[]
}

export function dayAxis(day: string, runs: HourRun[], timeZone: string): DayAxis {
  const total = hoursShown(runs)
  const segs = runs.map(([h0, h1]) => ({ h0, h1, a: atHour(day, h0, timeZone), b: atHour(day, h1, timeZone) }))
  const at = (t: number) => {
    let done = 0
    for (const s of segs) {
      if (t <= s.a) break
      if (t < s.b) return ((done + ((t - s.a) / (s.b - s.a)) * (s.h1 - s.h0)) / total) * 100
      done += s.h1 - s.h0
    }
    return (done / total) * 100
  }
  const breaks: number[] = []
  let done = 0
  for (const s of segs.slice(0, -1)) {
    done += s.h1 - s.h0
    breaks.push((done / total) * 100)
  }
  return {
    at,
    place(f) {
      const left = at(ms(f.start))
      const right = at(ms(f.end))
      return right > left ? { left, width: right - left } : null
    },
    breaks,
    ticks(step) {
      return segs.flatMap((s) => {
        const out: { hour: number; left: number }[] = []
        for (let h = s.h0; h < s.h1; h += step) out.push({ hour: h, left: at(atHour(day, h, timeZone)) })
        return out
      })
    },
  }
}

/** Hours between marks on the ruler: every hour for a short day, else every 2 or 3. */
export function tickStep(hours: number): number {
  return hours <= 8 ? 1 : hours <= 16 ? 2 : 3
}

/** A short stand-in for a title in a block too narrow for it: "Bike repair workshop" → "BR". */
export function initials(title: string): string {
  const words = title.split(/[\s\-–—/]+/).map((w) => w.replace(/^[^\p{L}\p{N}]+/u, '')).filter(Boolean)
  return words
    .slice(0, 2)
    .map((w) => [...w][0])
    .join('')
    .toUpperCase()
}
