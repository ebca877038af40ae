// The hours a timeline shows, where a time is drawn on them, and the words of narrow blocks.

import { describe, expect, it } from 'vitest'
import { activeHours, dayAxis, hoursText, initials, tickStep, type HourRun } from '../lib/timeline'
import { formatDaySpan, offsetOfTyped, offsetText, zonedInputToUtc } from '../lib/time'

const TZ = 'Europe/Berlin'
/** A frame typed in Berlin wall-clock time. */
const f = (start: string, end: string) => ({ start: zonedInputToUtc(start, TZ)!, end: zonedInputToUtc(end, TZ)! })
const DAYS = ['2026-07-01', '2026-07-02']

describe('the hours a timeline shows', () => {
  it.each<[string, ReturnType<typeof f>[], HourRun[]]>([
    ['nothing planned: the whole day', [], [[0, 24]]],
    ['the active hours, rounded out to whole hours', [f('2026-07-01T10:30', '2026-07-01T22:15')], [[10, 23]]],
    ['the same hours on every day', [f('2026-07-01T12:00', '2026-07-01T14:00'), f('2026-07-02T19:00', '2026-07-02T23:00')], [[12, 23]]],
    ['at least six hours, around a short booking', [f('2026-07-01T18:00', '2026-07-01T20:00')], [[16, 22]]],
    ['at least six hours, at the end of the day', [f('2026-07-01T22:00', '2026-07-02T00:00')], [[18, 24]]],
    ['overnight only: both ends of the day', [f('2026-07-01T21:00', '2026-07-02T02:00')], [[0, 3], [21, 24]]],
    [
      'a night and a day: the empty morning is left out',
      [f('2026-07-01T21:00', '2026-07-02T02:00'), f('2026-07-02T12:00', '2026-07-02T18:00')],
      [[0, 2], [12, 24]],
    ],
    ['a short pause is kept', [f('2026-07-01T10:00', '2026-07-01T12:00'), f('2026-07-01T14:00', '2026-07-01T20:00')], [[10, 20]]],
    [
      'of two long pauses, only the longest is left out',
      [f('2026-07-01T00:00', '2026-07-01T01:00'), f('2026-07-01T08:00', '2026-07-01T09:00'), f('2026-07-01T20:00', '2026-07-01T21:00')],
      [[0, 9], [20, 21]],
    ],
    ['a day-long booking: the whole day', [f('2026-07-01T12:00', '2026-07-03T00:00')], [[0, 24]]],
  ])('%s', (_, frames, runs) => {
    expect(activeHours(frames, DAYS, TZ)).toEqual(runs)
  })

  it('counts availability only on the days where it begins or ends', () => {
    const booking = f('2026-07-02T18:00', '2026-07-02T20:00')
    // Available from 1 July 12:00 to 3 July: nothing begins or ends on 2 July.
    expect(activeHours([booking], ['2026-07-02'], TZ, [f('2026-07-01T12:00', '2026-07-03T00:00')])).toEqual([[16, 22]])
    // Available 10:00–22:00 on 2 July.
    expect(activeHours([booking], ['2026-07-02'], TZ, [f('2026-07-02T10:00', '2026-07-02T22:00')])).toEqual([[10, 22]])
  })

  it('reads hours in the festival zone, also on a day with 25 hours', () => {
    // 16:00–18:00 UTC is 01:00–03:00 in Tokyo.
    expect(activeHours([{ start: '2026-07-01T16:00:00Z', end: '2026-07-01T18:00:00Z' }], ['2026-07-02'], 'Asia/Tokyo')).toEqual([[0, 6]])
    // Berlin goes back from summer time on 25 October 2026: 20:00 is still 20:00.
    expect(activeHours([f('2026-10-25T20:00', '2026-10-25T22:00')], ['2026-10-25'], TZ)).toEqual([[18, 24]])
    const axis = dayAxis('2026-10-25', [[18, 24]], TZ)
    expect(axis.at(Date.parse(zonedInputToUtc('2026-10-25T20:00', TZ)!))).toBeCloseTo((2 / 6) * 100)
  })

  it('says which hours it shows', () => {
    expect(hoursText([[10, 22]])).toBe('10:00–22:00')
    expect(hoursText([[0, 2], [12, 24]])).toBe('00:00–02:00 and 12:00–24:00')
  })
})

describe('where a time is drawn', () => {
  const at = (s: string) => Date.parse(zonedInputToUtc(s, TZ)!)

  it('spreads the hours shown over the track', () => {
    const axis = dayAxis('2026-07-01', [[10, 22]], TZ)
    expect(axis.at(at('2026-07-01T16:00'))).toBeCloseTo(50)
    expect(axis.at(at('2026-07-01T08:00'))).toBe(0)
    expect(axis.at(at('2026-07-01T23:00'))).toBe(100)
    // Free from midnight to 18:00: drawn from the left edge.
    const free = axis.place({ start: at('2026-07-01T00:00'), end: at('2026-07-01T18:00') })!
    expect(free.left).toBe(0)
    expect(free.width).toBeCloseTo((8 / 12) * 100)
    expect(axis.place({ start: at('2026-07-01T05:00'), end: at('2026-07-01T09:00') })).toBeNull()
    expect(axis.breaks).toEqual([])
  })

  it('leaves out the hours between the night and the day, and marks the break', () => {
    const axis = dayAxis('2026-07-02', [[0, 3], [20, 24]], TZ)
    expect(axis.at(at('2026-07-02T01:00'))).toBeCloseTo((1 / 7) * 100)
    expect(axis.at(at('2026-07-02T12:00'))).toBeCloseTo((3 / 7) * 100)
    expect(axis.at(at('2026-07-02T21:00'))).toBeCloseTo((4 / 7) * 100)
    expect(axis.place({ start: at('2026-07-02T05:00'), end: at('2026-07-02T09:00') })).toBeNull()
    expect(axis.breaks.map((b) => Math.round(b * 100) / 100)).toEqual([Math.round((3 / 7) * 10000) / 100])
    expect(axis.ticks(1).map((t) => t.hour)).toEqual([0, 1, 2, 20, 21, 22, 23])
  })

  it.each([
    [6, 1],
    [12, 2],
    [24, 3],
  ])('marks every hour up to 8 hours shown, then every 2 or 3 (%i hours: every %i)', (hours, step) => {
    expect(tickStep(hours)).toBe(step)
  })
})

describe('the words of narrow blocks', () => {
  it.each([
    ['Bike repair workshop', 'BR'],
    ['Opening', 'O'],
    ['Late-night DJ set', 'LN'],
    ['"Yoga" by the river', 'YB'],
    ['', ''],
  ])('%j is shortened to %j', (title, short) => {
    expect(initials(title)).toBe(short)
  })
})

describe('offsets and spans of the dates entered', () => {
  it.each([
    ['Europe/Berlin', ['2027-07-01T10:00', '2027-07-03T18:00'], 'UTC+02:00'],
    ['Europe/Berlin', ['2027-01-10T10:00', ''], 'UTC+01:00'],
    ['America/New_York', ['', '2027-07-01T10:00'], 'UTC−04:00'],
    ['Europe/Berlin', ['2026-10-24T10:00', '2026-10-26T18:00'], 'UTC+02:00, then UTC+01:00 from Sun 25 Oct'],
  ])('%s for %j: %s', (tz, values, text) => {
    // `now` (December) is only used when nothing can be read.
    expect(offsetOfTyped(tz, values, Date.parse('2026-12-01T12:00:00Z'))).toBe(text)
  })

  it('uses now when no date is entered yet', () => {
    expect(offsetOfTyped('Europe/Berlin', ['', ''], Date.parse('2026-07-01T12:00:00Z'))).toBe('UTC+02:00')
    expect(offsetText('Europe/Berlin', Date.parse('2026-12-01T12:00:00Z'))).toBe('UTC+01:00')
  })

  it.each([
    ['2027-07-01T00:00', '2027-07-04T00:00', '1–3 July 2027'],
    ['2027-06-30T00:00', '2027-07-03T00:00', '30 June – 2 July 2027'],
    ['2026-12-30T00:00', '2027-01-02T00:00', '30 December 2026 – 1 January 2027'],
    ['2027-07-01T00:00', '2027-07-02T00:00', '1 July 2027'],
    ['2026-07-01T12:00', '2026-07-04T00:00', '1 July 2026 12:00 – 3 July 2026 24:00'],
  ])('%s – %s is %s', (start, end, text) => {
    expect(formatDaySpan(zonedInputToUtc(start, TZ)!, zonedInputToUtc(end, TZ)!, TZ)).toBe(text)
  })
})
