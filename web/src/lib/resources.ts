import type { Resource } from '../client/types'
import { formatRange } from './time'

export function availabilitySummary(r: Resource, timeZone: string): string {
  if (r.availability === 'always') return 'Available any time'
  if (r.availability.length === 0) return 'Not available'
  if (r.availability.length === 1) return `Available ${formatRange(r.availability[0].start, r.availability[0].end, timeZone)}`
  return `Available at ${r.availability.length} times`
}
