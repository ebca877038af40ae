import type { Slot } from '../client/types'
import { formatTime } from './time'

/** "Free all day", or the free part of one day: "Free 12:00–24:00". */
export function freeText(slot: { start: string; end: string }, timeZone: string, d0: number, d1: number): string {
  const a = Math.max(Date.parse(slot.start), d0)
  const b = Math.min(Date.parse(slot.end), d1)
  if (a === d0 && b === d1) return 'Free all day'
  return `Free ${formatTime(a, timeZone)}–${b === d1 ? '24:00' : formatTime(b, timeZone)}`
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
