import type { CheckResult, Id, Slot } from '../client/types'
import { formatTimeRange } from './time'

export type CheckTone = 'free' | 'hold' | 'taken' | 'closed'

/** A slot's event; a slot with no event is one the owner confirmed for an event of a
 * festival not held here (a sub-festival not joined). */
export function eventName(s: Slot): string {
  return s.event_title ?? (s.event ? 'another event' : 'an event of a sub-festival')
}

function list(slots: Slot[], timeZone: string): string {
  const parts = slots.map((s) => `${eventName(s)} ${formatTimeRange(s.start, s.end, timeZone)}`)
  return parts.length <= 1 ? parts.join('') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`
}

/**
 * What a check means, in words: "Free", "Taken by Opening 18:00–20:00", "Not available at this
 * time (…)", or "Free, but also requested by …". `ignore`: a request not to count against itself.
 */
export function describeCheck(result: CheckResult, timeZone: string, ignore?: Id): { tone: CheckTone; text: string } {
  const confirmed = result.conflicts.filter((s) => !ignore || s.request !== ignore)
  const holds = result.holds.filter((s) => !ignore || s.request !== ignore)
  if (!result.free && confirmed.length) return { tone: 'taken', text: `Taken by ${list(confirmed, timeZone)}` }
  if (!result.free) {
    return { tone: 'closed', text: `Not available at this time${result.reason ? ` (${result.reason})` : ''}` }
  }
  if (holds.length) {
    return { tone: 'hold', text: `Free, but also requested for ${list(holds, timeZone)}: waiting for the owner` }
  }
  return { tone: 'free', text: 'Free' }
}
