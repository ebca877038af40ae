import type { Festival } from '../client/types'
import { dayKey, daysBetween, nextDayKey } from './time'

/** The days a festival's timeline offers: its own days, or from today on if it has no dates. */
export function festivalDays(f: Festival, now = Date.now(), openEnded = 7): string[] {
  if (f.start && f.end) return daysBetween(Date.parse(f.start), Date.parse(f.end), f.timezone)
  const today = dayKey(now, f.timezone)
  return Array.from({ length: openEnded }, (_, i) => nextDayKey(today, i))
}

/** Split days into pages of `size`; the first page to show holds today if it can. */
export function dayPages(days: string[], size: number, today: string): { pages: string[][]; start: number } {
  const pages: string[][] = []
  for (let i = 0; i < days.length; i += size) pages.push(days.slice(i, i + size))
  const start = Math.max(0, pages.findIndex((p) => p.includes(today)))
  return { pages, start }
}
