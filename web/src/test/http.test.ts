import { afterEach, describe, expect, it } from 'vitest'
import { HttpClient, takeToken, TOKEN_KEY } from '../client/http'
import { ApiError, type Change } from '../client/types'

interface Call {
  url: string
  method: string
  headers: Record<string, string>
  body: unknown
}

function fakeFetch(answer: (c: Call) => { status: number; body?: unknown }) {
  const calls: Call[] = []
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const call: Call = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    }
    calls.push(call)
    const a = answer(call)
    return new Response(a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body), {
      status: a.status,
    })
  }) as typeof fetch
  return { f, calls }
}

describe('HttpClient', () => {
  afterEach(() => localStorage.clear())

  it('sends JSON with the bearer token to /api/v1', async () => {
    const { f, calls } = fakeFetch(() => ({ status: 201, body: { id: 'e1', title: 'Opening', requests: [] } }))
    const c = new HttpClient({ token: 's3cret', fetch: f, EventSource: null })
    const ev = await c.createEvent('fest1', {
      title: 'Opening',
      start: '2026-07-01T16:00:00Z',
      end: '2026-07-01T18:00:00Z',
      requests: [{ resource: 'r1' }],
    })
    expect(ev.id).toBe('e1')
    expect(calls[0]).toMatchObject({
      url: '/api/v1/festivals/fest1/events',
      method: 'POST',
      body: { title: 'Opening', requests: [{ resource: 'r1' }] },
    })
    expect(calls[0].headers.Authorization).toBe('Bearer s3cret')
    expect(calls[0].headers['Content-Type']).toBe('application/json')
  })

  it('builds the request filters and the calendar range', async () => {
    const { f, calls } = fakeFetch(() => ({ status: 200, body: [] }))
    const c = new HttpClient({ baseUrl: 'http://node:7313/', fetch: f, EventSource: null })
    await c.requests({ incoming: true, pending: true, festival: 'abc' })
    await c.calendar('r1', '2026-07-01T00:00:00Z', '2026-07-02T00:00:00Z')
    await c.deny('q1', 'Sorry')
    expect(calls.map((x) => x.url)).toEqual([
      'http://node:7313/api/v1/requests?incoming=1&pending=1&festival=abc',
      'http://node:7313/api/v1/resources/r1/calendar?start=2026-07-01T00%3A00%3A00Z&end=2026-07-02T00%3A00%3A00Z',
      'http://node:7313/api/v1/requests/q1/deny',
    ])
    expect(calls[2].body).toEqual({ reason: 'Sorry' })
    expect(calls[0].headers.Authorization).toBeUndefined()
  })

  it('sets a collective, lists the collectives and votes, on their routes', async () => {
    const { f, calls } = fakeFetch(() => ({ status: 200, body: {} }))
    const c = new HttpClient({ token: 's3cret', fetch: f, EventSource: null })
    await c.setCollective('fest1', { members: ['k1', 'k2'], rule: 'majority' })
    await c.collectives('fest1')
    await c.vote('q1', true)
    await c.vote('q2', false, 'We paint that day')
    expect(calls.map((x) => [x.method, x.url, x.body])).toEqual([
      ['PUT', '/api/v1/festivals/fest1/collective', { members: ['k1', 'k2'], rule: 'majority' }],
      ['GET', '/api/v1/festivals/fest1/collectives', undefined],
      ['POST', '/api/v1/requests/q1/vote', { yes: true }],
      ['POST', '/api/v1/requests/q2/vote', { yes: false, reason: 'We paint that day' }],
    ])
  })

  it('turns {"error": ...} into an ApiError a person can read', async () => {
    const { f } = fakeFetch(() => ({ status: 409, body: { error: 'overlaps confirmed request 3fa9c2d1 (Opening)' } }))
    const c = new HttpClient({ fetch: f, EventSource: null })
    const err = await c.confirm('q1').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBe(409)
    expect((err as ApiError).message).toBe('overlaps confirmed request 3fa9c2d1 (Opening)')
  })

  it('explains a missing token and an unreachable node', async () => {
    const unauth = new HttpClient({ fetch: fakeFetch(() => ({ status: 401, body: 'nope' })).f, EventSource: null })
    await expect(unauth.festivals()).rejects.toThrow(/access token/)
    const down = new HttpClient({
      fetch: (async () => {
        throw new TypeError('Failed to fetch')
      }) as typeof fetch,
      EventSource: null,
    })
    await expect(down.festivals()).rejects.toThrow('Could not reach your pandafest node. Is it running?')
  })

  it('tells a page served without a node what to do', async () => {
    const c = new HttpClient({ fetch: fakeFetch(() => ({ status: 404, body: '<html>Not Found</html>' })).f, EventSource: null })
    await expect(c.festivals()).rejects.toThrow(/There is no pandafest node at this address/)
  })

  it('reports a join that is still syncing (202)', async () => {
    const { f } = fakeFetch(() => ({ status: 202, body: {} }))
    const r = await new HttpClient({ fetch: f, EventSource: null }).join('pandafest://join?festival=ab')
    expect(r.status).toBe('syncing')
  })

  it('puts the read-only calendar key, never the token, into iCal links', async () => {
    const { f, calls } = fakeFetch(() => ({
      status: 200,
      body: { public_key: 'ab', name: 'Ana', data_dir: '/d', calendar_key: 'k e y' },
    }))
    const c = new HttpClient({ token: 't o', fetch: f, EventSource: null })
    const link = await c.calendarLink({ resource: 'r1' })
    expect(link.subscribable).toBe(true)
    expect(link.url).toMatch(/\/api\/v1\/resources\/r1\/schedule\.ics\?key=k%20e%20y$/)
    expect(link.url).not.toMatch(/token|t%20o/)
    const festival = await c.calendarLink({ festival: 'f1' })
    expect(festival.url).toMatch(/\/api\/v1\/festivals\/f1\/schedule\.ics\?key=k%20e%20y$/)
    // The key is asked for once.
    expect(calls.filter((x) => x.url.endsWith('/identity'))).toHaveLength(1)
  })

  it('makes plain iCal links on a node without a token', async () => {
    const { f, calls } = fakeFetch(() => ({ status: 200 }))
    const c = new HttpClient({ fetch: f, EventSource: null })
    const link = await c.calendarLink({ festival: 'f1' })
    expect(link.url).toMatch(/\/api\/v1\/festivals\/f1\/schedule\.ics$/)
    expect(calls).toHaveLength(0)
  })

  it('refuses to make an iCal link with the token when the node gives no calendar key', async () => {
    const { f } = fakeFetch(() => ({ status: 200, body: { public_key: 'ab', name: null, data_dir: null, calendar_key: null } }))
    const c = new HttpClient({ token: 'secret', fetch: f, EventSource: null })
    await expect(c.calendarLink({ festival: 'f1' })).rejects.toThrow(/calendar key/)
  })

  it('listens to the event stream and passes changes on', async () => {
    const opened: FakeSource[] = []
    class FakeSource extends EventTarget {
      url: string
      closed = false
      constructor(url: string) {
        super()
        this.url = url
        opened.push(this)
      }
      close() {
        this.closed = true
      }
    }
    const c = new HttpClient({
      token: 'tok',
      fetch: fakeFetch(() => ({ status: 200 })).f,
      EventSource: FakeSource as unknown as new (url: string) => EventSource,
    })
    const seen: Change[] = []
    const off = c.subscribe((x) => seen.push(x))
    expect(opened).toHaveLength(1)
    expect(opened[0].url).toBe('/api/v1/stream?token=tok')
    opened[0].dispatchEvent(new MessageEvent('change', { data: '{"festivals":["f1"],"kinds":["request"]}' }))
    opened[0].dispatchEvent(new MessageEvent('sync', { data: '{"peers":[]}' }))
    opened[0].dispatchEvent(new Event('error'))
    // After a drop, the reconnection asks everyone to refetch what they may have missed.
    opened[0].dispatchEvent(new Event('open'))
    expect(seen).toEqual([
      { type: 'change', festivals: ['f1'], kinds: ['request'] },
      { type: 'sync', sync: { peers: [] } },
      { type: 'connection', connected: false },
      { type: 'connection', connected: true },
      { type: 'change', festivals: [], kinds: [] },
    ])
    off()
    expect(opened[0].closed).toBe(true)
  })
})

describe('the access token', () => {
  afterEach(() => {
    localStorage.clear()
    history.replaceState(null, '', '/')
  })

  it('is taken from the fragment, stored, and removed from the address bar', () => {
    history.replaceState(null, '', '/#token=abc123')
    expect(takeToken(window.location, localStorage)).toBe('abc123')
    expect(localStorage.getItem(TOKEN_KEY)).toBe('abc123')
    expect(window.location.hash).toBe('#/')
    // Next time it comes from storage.
    expect(takeToken(window.location, localStorage)).toBe('abc123')
  })

  it('can follow a route', () => {
    history.replaceState(null, '', '/#/inbox?token=xyz')
    expect(takeToken(window.location, localStorage)).toBe('xyz')
    expect(window.location.hash).toBe('#/inbox')
  })
})
