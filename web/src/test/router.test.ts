import { describe, expect, it } from 'vitest'
import { href, newEventHref, parseRoute } from '../lib/router'

describe('hash routes', () => {
  it('parses every screen', () => {
    expect(parseRoute('')).toEqual({ name: 'festivals' })
    expect(parseRoute('#/')).toEqual({ name: 'festivals' })
    expect(parseRoute('#/festivals/abc123')).toEqual({ name: 'festival', id: 'abc123', tab: 'timeline' })
    expect(parseRoute('#/festivals/abc123/map')).toEqual({ name: 'festival', id: 'abc123', tab: 'map' })
    expect(parseRoute('#/festivals/abc123/new-sub')).toEqual({ name: 'newFestival', parent: 'abc123' })
    expect(parseRoute('#/festivals/abc123/resources/new')).toEqual({ name: 'newResource', festival: 'abc123' })
    expect(parseRoute('#/resources/r1/edit')).toEqual({ name: 'editResource', id: 'r1' })
    expect(parseRoute('#/festivals/abc123/programme')).toEqual({ name: 'programme', id: 'abc123' })
    expect(parseRoute('#/festivals/abc123/programme?view=list')).toEqual({ name: 'programme', id: 'abc123', view: 'list' })
    expect(parseRoute('#/festivals/abc123/programme?view=nonsense')).toEqual({ name: 'programme', id: 'abc123' })
    expect(parseRoute('#/inbox')).toEqual({ name: 'inbox' })
    expect(parseRoute('#/me')).toEqual({ name: 'identity' })
    expect(parseRoute('#/nowhere')).toEqual({ name: 'notFound', path: '/nowhere' })
  })

  it('carries a preset into the new-event form', () => {
    const link = newEventHref('f1', { resource: 'r1', start: '2026-07-01T10:00:00Z' })
    expect(link).toBe('#/festivals/f1/events/new?resource=r1&start=2026-07-01T10%3A00%3A00Z')
    expect(parseRoute(link)).toEqual({
      name: 'newEvent',
      festival: 'f1',
      preset: { resource: 'r1', start: '2026-07-01T10:00:00Z' },
    })
    expect(href('/festivals', 'a b')).toBe('#/festivals/a%20b')
  })
})
