// The mock must enforce the same rules as a node, or component tests would prove nothing.

import { describe, expect, it } from 'vitest'
import { MockClient, MockWorld } from '../client/mock'
import { ApiError } from '../client/types'
import { fixture } from './fixture'

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p
  } catch (e) {
    if (e instanceof ApiError) return e
    throw e
  }
  throw new Error('expected the call to fail')
}

describe('allocation rules in the mock', () => {
  it('refuses a confirm that overlaps an active confirm, with the reason, and allows it after a release', async () => {
    const { ana, stage, jam, opening } = await fixture()
    const jamOnStage = jam.requests.find((r) => r.resource === stage.id)!
    const err = await rejection(ana.confirm(jamOnStage.id))
    expect(err.status).toBe(409)
    expect(err.message).toMatch(/overlaps confirmed request [0-9a-f]{8} \(Opening, 2026-07-01 18:00–20:00\)/)

    await ana.release(opening.requests[0].id)
    const ok = await ana.confirm(jamOnStage.id)
    expect(ok.status).toBe('confirmed')
  })

  it('lets only the owner decide', async () => {
    const { bo, chidi, jam, meadow } = await fixture()
    const q = jam.requests.find((r) => r.resource === meadow.id)!
    const err = await rejection(bo.confirm(q.id))
    expect(err.status).toBe(409)
    expect(err.message).toContain('Only the owner of Meadow')
    expect((await chidi.confirm(q.id)).status).toBe('confirmed')
  })

  it('decides first-come-first-served requests at once, naming the conflict', async () => {
    const { ana, chidi, fest, tent } = await fixture()
    const first = await ana.createEvent(fest.id, {
      title: 'Talk',
      start: '2026-07-01T10:00:00Z',
      end: '2026-07-01T11:00:00Z',
      requests: [{ resource: tent.id }],
    })
    expect(first.requests[0].status).toBe('confirmed')
    const second = await chidi.createEvent(fest.id, {
      title: 'Workshop',
      start: '2026-07-01T10:30:00Z',
      end: '2026-07-01T12:00:00Z',
      requests: [{ resource: tent.id }],
    })
    expect(second.requests[0].status).toBe('denied')
    expect(second.requests[0].reason).toContain('(Talk, 2026-07-01 12:00–13:00)')
    // Touching frames do not overlap: [start, end) is half-open.
    const third = await chidi.createEvent(fest.id, {
      title: 'Next',
      start: '2026-07-01T11:00:00Z',
      end: '2026-07-01T12:00:00Z',
      requests: [{ resource: tent.id }],
    })
    expect(third.requests[0].status).toBe('confirmed')
  })

  it('checks availability', async () => {
    const { ana, fest, tent } = await fixture()
    const late = { resource: tent.id, start: '2026-07-01T19:00:00Z', end: '2026-07-01T21:00:00Z' }
    const check = await ana.check(late)
    expect(check.free).toBe(false)
    expect(check.reason).toContain('outside the times Tent B is available')
    const ev = await ana.createEvent(fest.id, { title: 'Late', start: late.start, end: late.end, requests: [{ resource: tent.id }] })
    expect(ev.requests[0].status).toBe('denied')
  })

  it('frees the slot when a request is withdrawn or its event cancelled', async () => {
    const { ana, bo, stage, opening, jam } = await fixture()
    const frame = { resource: stage.id, start: jam.start, end: jam.end }
    expect((await ana.check(frame)).free).toBe(false)
    await bo.withdraw(opening.requests[0].id)
    expect((await ana.check(frame)).free).toBe(true)

    const jamOnStage = jam.requests.find((r) => r.resource === stage.id)!
    await ana.confirm(jamOnStage.id)
    expect((await ana.check({ ...frame })).free).toBe(false)
    const chidi = ana.as(jam.organiser)
    const cancelled = await chidi.cancelEvent(jam.id)
    expect(cancelled.cancelled).toBe(true)
    expect(cancelled.requests.every((r) => r.status === 'withdrawn')).toBe(true)
    expect((await ana.check(frame)).free).toBe(true)
  })

  it('reports holds in a check and subtracts bookings from free time', async () => {
    const { ana, stage } = await fixture()
    const check = await ana.check({ resource: stage.id, start: '2026-07-01T18:30:00Z', end: '2026-07-01T19:30:00Z' })
    expect(check.free).toBe(true)
    expect(check.conflicts.map((s) => [s.event_title, s.status])).toEqual([['Jam session', 'pending']])

    const cal = await ana.calendar(stage.id, '2026-07-01T00:00:00Z', '2026-07-02T00:00:00Z')
    expect(cal.confirmed.map((s) => s.event_title)).toEqual(['Opening'])
    expect(cal.pending.map((s) => s.event_title)).toEqual(['Jam session'])
    expect(cal.free.map((s) => [s.start, s.end])).toEqual([
      ['2026-07-01T00:00:00Z', '2026-07-01T16:00:00Z'],
      ['2026-07-01T18:00:00Z', '2026-07-02T00:00:00Z'],
    ])
  })

  it('lists the resources of a festival and of its ancestors, and finds ids by prefix', async () => {
    const { ana, fest, stage } = await fixture()
    const sub = await ana.createFestival({ name: 'Kids', parent: fest.id, timezone: 'Europe/Berlin' })
    await ana.createResource(sub.id, { name: 'Sandbox', kind: 'location' })
    expect((await ana.resources(sub.id)).map((r) => r.name).sort()).toEqual(['Main stage', 'Meadow', 'PA system', 'Sandbox', 'Tent B'])
    expect((await ana.resources(fest.id)).map((r) => r.name)).not.toContain('Sandbox')
    expect((await ana.festival(fest.id)).children).toEqual([sub.id])
    expect((await ana.resource(stage.id.slice(0, 10))).name).toBe('Main stage')
    expect((await rejection(ana.resource('ffffffffffff'))).status).toBe(404)
  })

  it('validates input with sentences', async () => {
    const c = new MockClient(new MockWorld())
    expect((await rejection(c.createFestival({ name: ' ' }))).message).toBe('A festival needs a name.')
    expect((await rejection(c.createFestival({ name: 'X', timezone: 'Mars/Olympus' }))).status).toBe(400)
    const f = await c.createFestival({ name: 'X' })
    expect((await rejection(c.createResource(f.id, { name: 'R', lat: 91, lon: 0 }))).message).toMatch(/latitude/)
    expect(
      (await rejection(c.createEvent(f.id, { title: 'E', start: '2026-07-01T10:00:00Z', end: '2026-07-01T09:00:00Z' }))).message,
    ).toMatch(/end of the event must be after/)
  })

  it('filters requests like the API', async () => {
    const { ana, chidi } = await fixture()
    const incoming = await ana.requests({ incoming: true, pending: true })
    expect(incoming.map((r) => [r.event_title, r.resource_name])).toEqual([['Jam session', 'Main stage']])
    const mine = await chidi.requests({ mine: true })
    expect(mine.map((r) => r.resource_name).sort()).toEqual(['Main stage', 'Meadow'])
    expect(mine.every((r) => r.mine && r.author_name === 'Chidi')).toBe(true)
  })
})
