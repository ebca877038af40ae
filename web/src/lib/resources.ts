import type { Resource } from '../client/types'
import { t } from '../i18n'
import { formatRange } from './time'

export function availabilitySummary(r: Resource, timeZone: string): string {
  if (r.availability === 'always') return t('availability.always')
  if (r.availability.length === 0) return t('availability.never')
  if (r.availability.length === 1) {
    return t('availability.once', { range: formatRange(r.availability[0].start, r.availability[0].end, timeZone) })
  }
  return t('availability.times', { count: r.availability.length })
}
