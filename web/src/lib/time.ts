// Time helpers. The API speaks UTC RFC 3339; people read and type times in the
// FESTIVAL's time zone, whatever the zone of their browser. Everything here goes
// through Intl, so no time-zone database is bundled.

import { locale, t } from '../i18n'

const MINUTE = 60_000
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR

const partsFormatters = new Map<string, Intl.DateTimeFormat>()

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = partsFormatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
    partsFormatters.set(timeZone, f)
  }
  return f
}

interface WallClock {
  year: number
  month: number // 1-12
  day: number
  hour: number
  minute: number
  second: number
}

/** The wall-clock reading in `timeZone` at instant `ms`. */
export function wallClock(ms: number, timeZone: string): WallClock {
  const out: Record<string, number> = {}
  for (const p of partsFormatter(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') out[p.type] = Number(p.value)
  }
  return {
    year: out.year,
    month: out.month,
    day: out.day,
    hour: out.hour === 24 ? 0 : out.hour,
    minute: out.minute,
    second: out.second,
  }
}

/** Offset of `timeZone` from UTC at instant `ms`, in milliseconds (Berlin in summer: +2h). */
export function zoneOffset(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone)
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second)
  return asUtc - Math.floor(ms / 1000) * 1000
}

/**
 * The instant at which the wall clock in `timeZone` reads the given time.
 * A time that does not exist (skipped by a daylight-saving change) moves forward
 * by the size of the gap, as most calendar programs do.
 */
export function zonedToMs(
  timeZone: string,
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
): number {
  const local = Date.UTC(year, month - 1, day, hour, minute)
  const off1 = zoneOffset(local, timeZone)
  const t1 = local - off1
  const off2 = zoneOffset(t1, timeZone)
  if (off2 === off1) return t1
  const t2 = local - off2
  const off3 = zoneOffset(t2, timeZone)
  if (off3 === off2) return t2
  // In a gap: use the offset from before the change.
  return local - Math.min(off2, off3)
}

const INPUT_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/

/**
 * `<input type="datetime-local">` value ("2026-07-01T18:00"), read in `timeZone`,
 * to a UTC RFC 3339 string ("2026-07-01T16:00:00Z"). Null if the input is empty or bad.
 */
export function zonedInputToUtc(value: string, timeZone: string): string | null {
  const m = INPUT_RE.exec(value.trim())
  if (!m) return null
  const [, y, mo, d, h, mi] = m
  const ms = zonedToMs(timeZone, +y, +mo, +d, h ? +h : 0, mi ? +mi : 0)
  return Number.isNaN(ms) ? null : toRfc3339(ms)
}

/** A UTC instant to an `<input type="datetime-local">` value in `timeZone`. */
export function utcToZonedInput(iso: string | number, timeZone: string): string {
  const w = wallClock(typeof iso === 'number' ? iso : Date.parse(iso), timeZone)
  return `${dateKeyOf(w)}T${pad(w.hour)}:${pad(w.minute)}`
}

export function toRfc3339(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z')
}

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

function dateKeyOf(w: { year: number; month: number; day: number }): string {
  return `${w.year}-${pad(w.month)}-${pad(w.day)}`
}

/** "2026-07-01": the calendar day in `timeZone` that contains the instant. */
export function dayKey(iso: string | number, timeZone: string): string {
  return dateKeyOf(wallClock(typeof iso === 'number' ? iso : Date.parse(iso), timeZone))
}

/** The instant a day ("2026-07-01") starts in `timeZone`. */
export function dayStart(key: string, timeZone: string): number {
  const [y, m, d] = key.split('-').map(Number)
  return zonedToMs(timeZone, y, m, d)
}

/** The next day's key ("2026-07-31" -> "2026-08-01"). */
export function nextDayKey(key: string, by = 1): string {
  const [y, m, d] = key.split('-').map(Number)
  const t = new Date(Date.UTC(y, m - 1, d + by))
  return dateKeyOf({ year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() })
}

/** Days (keys) from the one containing `start` up to the one containing `end` (exclusive end). */
export function daysBetween(startMs: number, endMs: number, timeZone: string, max = 366): string[] {
  const days: string[] = []
  let key = dayKey(startMs, timeZone)
  const last = dayKey(Math.max(startMs, endMs - 1), timeZone)
  while (days.length < max) {
    days.push(key)
    if (key >= last) break
    key = nextDayKey(key)
  }
  return days
}

// ---- Formatting for people -------------------------------------------------------------
//
// In the active language's locale (src/i18n: en-GB for English, de-DE for German), always in
// the festival's zone and on a 24-hour clock.

const formatters = new Map<string, Intl.DateTimeFormat>()

function fmt(timeZone: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const loc = locale()
  const k = `${loc}|${timeZone}|${JSON.stringify(opts)}`
  let f = formatters.get(k)
  if (!f) {
    f = new Intl.DateTimeFormat(loc, { timeZone, ...opts })
    formatters.set(k, f)
  }
  return f
}

const ms = (iso: string | number) => (typeof iso === 'number' ? iso : Date.parse(iso))
const english = () => locale().startsWith('en')

/** "18:00" */
export function formatTime(iso: string | number, timeZone: string): string {
  return fmt(timeZone, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ms(iso))
}

/** "Wed 1 Jul" (German: "Mi., 1. Juli") */
export function formatDay(iso: string | number, timeZone: string): string {
  return fmt(timeZone, { weekday: 'short', day: 'numeric', month: 'short' }).format(ms(iso))
}

/** "Wed" */
export function formatWeekday(iso: string | number, timeZone: string): string {
  return fmt(timeZone, { weekday: 'short' }).format(ms(iso))
}

/** "Wednesday 1 July 2026" (German: "Mittwoch, 1. Juli 2026") */
export function formatLongDay(iso: string | number, timeZone: string): string {
  const text = fmt(timeZone, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(ms(iso))
  // English reads without the comma some versions of Intl put after the weekday.
  return english() ? text.replace(',', '') : text
}

/** "Wed 1 Jul, 18:00" */
export function formatDateTime(iso: string | number, timeZone: string): string {
  return `${formatDay(iso, timeZone)}, ${formatTime(iso, timeZone)}`
}

/** "18:00–20:00" when both are on the same day, else "Wed 1 Jul 22:00 – Thu 2 Jul 02:00". */
export function formatTimeRange(start: string | number, end: string | number, timeZone: string): string {
  if (sameDay(start, end, timeZone)) {
    return `${formatTime(start, timeZone)}–${formatTime(end, timeZone)}`
  }
  return `${formatDay(start, timeZone)} ${formatTime(start, timeZone)} – ${formatDay(end, timeZone)} ${formatTime(end, timeZone)}`
}

/** "Wed 1 Jul, 18:00–20:00" or "Wed 1 Jul 22:00 – Thu 2 Jul 02:00". */
export function formatRange(start: string | number, end: string | number, timeZone: string): string {
  if (sameDay(start, end, timeZone)) {
    return `${formatDay(start, timeZone)}, ${formatTimeRange(start, end, timeZone)}`
  }
  return formatTimeRange(start, end, timeZone)
}

/** True if `end` (exclusive) falls on the day of `start`; an end at midnight counts as the same day. */
function sameDay(start: string | number, end: string | number, timeZone: string): boolean {
  return dayKey(start, timeZone) === dayKey(ms(end) - 1, timeZone)
}

/** "UTC+02:00" at the given instant. */
export function offsetLabel(timeZone: string, at: number = Date.now()): string {
  const off = Math.round(zoneOffset(at, timeZone) / MINUTE)
  const sign = off < 0 ? '−' : '+'
  const a = Math.abs(off)
  return `UTC${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`
}

/**
 * The offset of `timeZone` over a frame (the dates being entered): "UTC+02:00", or, when
 * daylight saving time changes within it, "UTC+02:00, then UTC+01:00 from Sun 25 Oct".
 */
export function offsetText(timeZone: string, start: number, end: number = start): string {
  const first = offsetLabel(timeZone, start)
  if (!(end > start) || offsetLabel(timeZone, end) === first) return first
  // The first change: bisect to the minute.
  let a = start
  let b = end
  while (b - a > MINUTE) {
    const m = a + Math.floor((b - a) / 2)
    if (offsetLabel(timeZone, m) === first) a = m
    else b = m
  }
  return t('time.offsetChange', { first, next: offsetLabel(timeZone, b), day: formatDay(b, timeZone) })
}

/**
 * The offset for times typed into a form (datetime-local values, read in `timeZone`), from
 * the earliest to the latest of them; `now`'s if none can be read yet.
 */
export function offsetOfTyped(timeZone: string, values: string[], now: number): string {
  const at = values.flatMap((v) => {
    const t = zonedInputToUtc(v, timeZone)
    return t ? [Date.parse(t)] : []
  })
  if (!at.length) return offsetLabel(timeZone, now)
  return offsetText(timeZone, Math.min(...at), Math.max(...at))
}

/**
 * The days of a frame in words: "1–3 July 2027", "30 June – 2 July 2027", or with the hours
 * when it does not start and end at midnight: "1 July 2027 12:00 – 3 July 2027 24:00".
 */
export function formatDaySpan(start: string | number, end: string | number, timeZone: string): string {
  const s = ms(start)
  const e = ms(end)
  const first = wallClock(s, timeZone)
  const last = wallClock(Math.max(s, e - 1), timeZone)
  const date = (t: number) => fmt(timeZone, { day: 'numeric', month: 'long', year: 'numeric' }).format(t)
  const midnight = (t: number) => formatTime(t, timeZone) === '00:00'
  if (!midnight(s) || !midnight(e)) {
    const endTime = midnight(e) ? '24:00' : formatTime(e, timeZone)
    return `${date(s)} ${formatTime(s, timeZone)} – ${date(Math.max(s, e - 1))} ${endTime}`
  }
  // English keeps its compact "1–3 July 2027"; other languages as Intl writes a range ("1.–3. Juli 2027").
  if (!english()) return fmt(timeZone, { day: 'numeric', month: 'long', year: 'numeric' }).formatRange(s, Math.max(s, e - 1))
  if (first.year !== last.year) return `${date(s)} – ${date(e - 1)}`
  const dayMonth = (t: number) => fmt(timeZone, { day: 'numeric', month: 'long' }).format(t)
  if (first.month !== last.month) return `${dayMonth(s)} – ${dayMonth(e - 1)} ${first.year}`
  if (first.day !== last.day) return `${first.day}–${date(e - 1)}`
  return date(s)
}

/** The browser's time zone, or UTC. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
  } catch {
    return 'UTC'
  }
}

let zones: string[] | null = null

/** Every IANA zone this browser knows (plus UTC), sorted. */
export function timeZones(): string[] {
  if (!zones) {
    let list: string[] = []
    try {
      list = Intl.supportedValuesOf('timeZone')
    } catch {
      list = []
    }
    zones = Array.from(new Set(['UTC', ...list])).sort()
  }
  return zones
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

/** Half-open frames overlap iff a.start < b.end && b.start < a.end. */
export function overlaps(a: { start: string; end: string }, b: { start: string; end: string }): boolean {
  return Date.parse(a.start) < Date.parse(b.end) && Date.parse(b.start) < Date.parse(a.end)
}
