import type { CheckResult, Id, Slot } from '../client/types'
import { listText, t } from '../i18n'
import { formatTimeRange } from './time'

export type CheckTone = 'free' | 'hold' | 'taken' | 'closed'

/** A slot's event; a slot with no event is one the owner confirmed for an event of a
 * festival not held here (a sub-festival not joined). */
export function eventName(s: Slot): string {
  return s.event_title ?? (s.event ? t('check.anotherEvent') : t('check.subFestivalEvent'))
}

function list(slots: Slot[], timeZone: string): string {
  return listText(slots.map((s) => `${eventName(s)} ${formatTimeRange(s.start, s.end, timeZone)}`))
}

/**
 * What a check means, in words: "Free", "Taken by Opening 18:00–20:00", "Not available at this
 * time (…)", or "Free, but also requested by …". For a resource of which several may be booked
 * at once: "Free: 3 of 10 left", "All 10 are booked: …". `ignore`: a request not to count
 * against itself.
 */
export function describeCheck(result: CheckResult, timeZone: string, ignore?: Id): { tone: CheckTone; text: string } {
  const confirmed = result.conflicts.filter((s) => !ignore || s.request !== ignore)
  const holds = result.holds.filter((s) => !ignore || s.request !== ignore)
  const several = result.capacity !== 1
  if (!result.free && several && result.left === 0 && confirmed.length) {
    return { tone: 'taken', text: t('check.full', { capacity: result.capacity, list: list(confirmed, timeZone) }) }
  }
  if (!result.free && !several && confirmed.length) return { tone: 'taken', text: t('check.taken', { list: list(confirmed, timeZone) }) }
  if (!result.free) {
    return { tone: 'closed', text: result.reason ? t('check.closedWhy', { reason: result.reason }) : t('check.closed') }
  }
  const free = !several
    ? t('check.free')
    : result.capacity === 'unlimited' || result.left === null || result.left === undefined
      ? t('check.freeUnlimited')
      : t('check.freeLeft', { left: result.left, capacity: result.capacity })
  if (holds.length) {
    return { tone: 'hold', text: several ? t('check.holdLeft', { free, list: list(holds, timeZone) }) : t('check.hold', { list: list(holds, timeZone) }) }
  }
  return { tone: 'free', text: free }
}
