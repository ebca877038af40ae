// The programme in the formats other tools read, made by the real node (wasm, in memory) and
// read back by independent parsers: ical.js (Mozilla's iCalendar parser), Ajv with the rules
// of the c3voc schedule schema (c3voc-schedule.schema.json, written from the published one),
// and fast-xml-parser for the frab/Pentabarf XML, checked against the structure of its XSD.

import Ajv from 'ajv'
import addFormats from 'ajv-formats'
import { XMLParser } from 'fast-xml-parser'
import ICAL from 'ical.js'
import { describe, expect, it } from 'vitest'
import schema from './c3voc-schedule.schema.json'
import { fixture } from './fixture'

async function world() {
  const f = await fixture()
  const { world, ana, bo, fest, stage, pa } = f
  // A sub-festival's event with the PA confirmed; an event that asks for nothing; an event
  // that was booked, then cancelled.
  const tent = await bo.createFestival({ name: 'Workshop tent', parent: fest.id })
  await world.share(fest.id)
  await world.share(tent.id)
  const repair = await bo.createEvent(tent.id, {
    title: 'Repair café',
    start: '2026-07-02T09:00:00Z',
    end: '2026-07-02T11:00:00Z',
    requests: [{ resource: pa.id }],
  })
  await world.share(tent.id)
  await ana.confirm(repair.requests[0].id)
  // A description may hold control characters; the feeds must stay readable.
  await bo.createEvent(fest.id, {
    title: 'Night walk',
    description: 'Bring a torch\u0001\u0007.\nMeet at the gate.',
    start: '2026-07-02T21:00:00Z',
    end: '2026-07-02T23:30:00Z',
  })
  const rain = await bo.createEvent(fest.id, {
    title: 'Rain dance',
    start: '2026-07-03T10:00:00Z',
    end: '2026-07-03T11:00:00Z',
    requests: [{ resource: stage.id }],
  })
  await world.share(fest.id)
  await ana.confirm(rain.requests[0].id)
  await world.share(fest.id)
  await bo.cancelEvent(rain.id)
  await world.share(fest.id)
  return { ...f, tent }
}

describe('the exported programme', () => {
  it('is iCalendar with one VEVENT per event, as ical.js reads it', async () => {
    const { bo, fest, opening } = await world()
    const text = await bo.exportSchedule(fest.id, 'ics')
    const cal = new ICAL.Component(ICAL.parse(text))
    const events = cal.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v))
    const seen = events.map((e) => [e.summary, e.location ?? null, String(e.component.getFirstPropertyValue('status'))])
    // Pending and denied requests never show (the Jam session); a booked, cancelled event does, as CANCELLED.
    expect(seen).toEqual([
      ['Opening', 'Main stage', 'CONFIRMED'],
      ['Repair café', null, 'CONFIRMED'],
      ['Night walk', null, 'CONFIRMED'],
      ['Rain dance', null, 'CANCELLED'],
    ])
    const o = events[0]
    expect(o.uid).toBe(`${opening.id}@pandafest`)
    expect(o.startDate.toJSDate().toISOString()).toBe('2026-07-01T16:00:00.000Z')
    expect(o.endDate.toJSDate().toISOString()).toBe('2026-07-01T18:00:00.000Z')
    expect(o.sequence).toBe(0)
    expect(events[1].description).toBe('With: PA system')
    expect(events[2].description).toBe('Bring a torch.\nMeet at the gate.')
    expect(events[3].sequence).toBe(1)

    // A change keeps the UID and bumps SEQUENCE.
    await bo.updateEvent(opening.id, { title: 'Grand opening' })
    const again = new ICAL.Component(ICAL.parse(await bo.exportSchedule(fest.id, 'ics')))
    const changed = again.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v)).find((e) => e.uid === o.uid)!
    expect([changed.summary, changed.sequence]).toEqual(['Grand opening', 1])
  })

  it('is a c3voc schedule.json that the schema rules accept', async () => {
    const { bo, fest } = await world()
    const data = JSON.parse(await bo.exportSchedule(fest.id, 'json'))
    const ajv = new Ajv({ allErrors: true, strict: false })
    addFormats(ajv)
    const valid = ajv.validate(schema, data)
    expect(ajv.errors ?? []).toEqual([])
    expect(valid).toBe(true)
    const c = data.schedule.conference
    expect([c.title, c.acronym, c.start, c.end, c.daysCount, c.time_zone_name]).toEqual([
      'Fusion', 'fusion', '2026-07-01', '2026-07-03', 3, 'Europe/Berlin',
    ])
    const byDay = c.days.map((d: { date: string; rooms: Record<string, { title: string; start: string; duration: string }[]> }) => [
      d.date,
      Object.entries(d.rooms).map(([room, list]) => [room, list.map((e) => `${e.start} ${e.duration} ${e.title}`)]),
    ])
    expect(byDay).toEqual([
      ['2026-07-01', [['Main stage', ['18:00 02:00 Opening']]]],
      // Rooms are the keys of an object (in no meaningful order); without a location, the
      // event's own (sub-)festival is its room.
      ['2026-07-02', [['Fusion', ['23:00 02:30 Night walk']], ['Workshop tent', ['11:00 02:00 Repair café']]]],
      ['2026-07-03', []],
    ])
    // A broken document fails the same rules: the check can fail.
    data.schedule.conference.days[0].rooms['Main stage'][0].duration = '2h'
    expect(ajv.validate(schema, data)).toBe(false)
  })

  it('is frab/Pentabarf schedule XML with the structure of its XSD', async () => {
    const { bo, fest } = await world()
    const xml = await bo.exportSchedule(fest.id, 'xml')
    const parser = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '@',
      parseTagValue: false,
      isArray: (name) => ['day', 'room', 'event', 'person'].includes(name),
    })
    // A strict XML 1.0 parse (jsdom's): a control character would make it a parser error.
    const strict = new DOMParser().parseFromString(xml, 'application/xml')
    expect(strict.getElementsByTagName('parsererror')).toHaveLength(0)
    expect(strict.getElementsByTagName('event')).toHaveLength(3)
    const doc = parser.parse(xml, true)
    const s = doc.schedule
    expect(Object.keys(s.conference).sort()).toEqual(['acronym', 'days', 'end', 'start', 'timeslot_duration', 'title'])
    expect(s.conference.start).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    const events = s.day.flatMap((d: { room?: { event: Record<string, unknown>[] }[] }) => (d.room ?? []).flatMap((r) => r.event))
    expect(events.map((e: Record<string, unknown>) => e.title)).toEqual(['Opening', 'Repair café', 'Night walk'])
    const required = ['room', 'title', 'type', 'date', 'start', 'duration', 'abstract', 'slug', 'subtitle', 'track']
    for (const e of events as Record<string, unknown>[]) {
      for (const k of required) expect(e, `event ${e.title} has <${k}>`).toHaveProperty(k)
      expect(String(e['@id'])).toMatch(/^[1-9]\d*$/)
      expect(String(e.start)).toMatch(/^[0-2]\d:[0-5]\d$/)
      expect(String(e.duration)).toMatch(/^\d{1,2}:\d{2}$/)
      expect(String(e.date)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/)
    }
    for (const k of ['@id', '@guid', 'slug']) {
      const values = events.map((e: Record<string, unknown>) => e[k])
      expect(new Set(values).size, `${k} is unique`).toBe(values.length)
    }
  })
})
