import { describe, expect, it } from 'vitest'
import {
  dayKey,
  dayStart,
  daysBetween,
  formatRange,
  formatTimeRange,
  HOUR,
  nextDayKey,
  offsetLabel,
  utcToZonedInput,
  zonedInputToUtc,
} from '../lib/time'

describe('reading times in the festival zone', () => {
  it('converts wall-clock input to UTC, summer and winter', () => {
    expect(zonedInputToUtc('2026-07-01T18:00', 'Europe/Berlin')).toBe('2026-07-01T16:00:00Z')
    expect(zonedInputToUtc('2026-01-15T18:00', 'Europe/Berlin')).toBe('2026-01-15T17:00:00Z')
    expect(zonedInputToUtc('2026-07-01T09:00', 'Asia/Kolkata')).toBe('2026-07-01T03:30:00Z')
    expect(zonedInputToUtc('2026-07-01T09:00', 'America/New_York')).toBe('2026-07-01T13:00:00Z')
    expect(zonedInputToUtc('2026-07-01T09:00', 'UTC')).toBe('2026-07-01T09:00:00Z')
  })

  it('moves a time skipped by daylight saving forward', () => {
    // 02:30 does not exist in New York on 8 March 2026: it becomes 03:30 EDT.
    expect(zonedInputToUtc('2026-03-08T02:30', 'America/New_York')).toBe('2026-03-08T07:30:00Z')
    expect(zonedInputToUtc('2026-03-29T02:30', 'Europe/Berlin')).toBe('2026-03-29T01:30:00Z')
  })

  it('rejects empty or malformed input', () => {
    expect(zonedInputToUtc('', 'Europe/Berlin')).toBeNull()
    expect(zonedInputToUtc('tomorrow', 'Europe/Berlin')).toBeNull()
  })

  it('round-trips through the input format', () => {
    for (const tz of ['Europe/Berlin', 'Asia/Tokyo', 'America/Los_Angeles', 'Australia/Adelaide']) {
      const v = utcToZonedInput('2026-07-01T16:00:00Z', tz)
      expect(zonedInputToUtc(v, tz)).toBe('2026-07-01T16:00:00Z')
    }
    expect(utcToZonedInput('2026-07-01T16:00:00Z', 'Asia/Tokyo')).toBe('2026-07-02T01:00')
  })
})

describe('showing times', () => {
  it('shows a range on one day compactly and across days in full', () => {
    expect(formatTimeRange('2026-07-01T16:00:00Z', '2026-07-01T18:00:00Z', 'Europe/Berlin')).toBe('18:00–20:00')
    expect(formatRange('2026-07-01T16:00:00Z', '2026-07-01T18:00:00Z', 'Europe/Berlin')).toBe('Wed 1 Jul, 18:00–20:00')
    expect(formatRange('2026-07-01T20:00:00Z', '2026-07-02T00:00:00Z', 'Europe/Berlin')).toBe(
      'Wed 1 Jul 22:00 – Thu 2 Jul 02:00',
    )
    // Ending at midnight stays on the same day.
    expect(formatTimeRange('2026-07-01T20:00:00Z', '2026-07-01T22:00:00Z', 'Europe/Berlin')).toBe('22:00–00:00')
  })

  it('labels offsets', () => {
    expect(offsetLabel('Europe/Berlin', Date.parse('2026-07-01T12:00:00Z'))).toBe('UTC+02:00')
    expect(offsetLabel('Asia/Kolkata', Date.parse('2026-07-01T12:00:00Z'))).toBe('UTC+05:30')
    expect(offsetLabel('America/New_York', Date.parse('2026-01-01T12:00:00Z'))).toBe('UTC−05:00')
  })
})

describe('days', () => {
  it('lists the days of a frame in its zone', () => {
    const days = daysBetween(Date.parse('2026-07-01T10:00:00Z'), Date.parse('2026-07-03T22:00:00Z'), 'Europe/Berlin')
    expect(days).toEqual(['2026-07-01', '2026-07-02', '2026-07-03'])
    // 22:00Z on 3 July is already 4 July in Tokyo.
    expect(daysBetween(Date.parse('2026-07-01T10:00:00Z'), Date.parse('2026-07-03T22:00:00Z'), 'Asia/Tokyo')).toEqual([
      '2026-07-01',
      '2026-07-02',
      '2026-07-03',
      '2026-07-04',
    ])
  })

  it('knows a day of daylight-saving change is 23 hours long', () => {
    const d = '2026-03-29'
    expect(dayStart(nextDayKey(d), 'Europe/Berlin') - dayStart(d, 'Europe/Berlin')).toBe(23 * HOUR)
    expect(dayKey('2026-03-28T23:30:00Z', 'Europe/Berlin')).toBe('2026-03-29')
    expect(nextDayKey('2026-12-31')).toBe('2027-01-01')
  })
})
