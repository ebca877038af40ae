import { beforeEach, describe, expect, it } from 'vitest'
import { PeerClient, type WorkerLike } from '../client/peer'
import { nodesRequested, peerRequested, probeOrigin } from '../client/select'
import { ApiError, type Change } from '../client/types'
import { PeerEngine } from '../peer/engine'
import type { FromWorker, ToWorker } from '../peer/protocol'
import { FakeSocket, FakeWasmNode, ManualClock, MemoryNodeStore } from './peerFakes'

/**
 * The page and the worker in one thread: the client's messages go to a PeerEngine over a
 * fake wasm node, through structuredClone (as postMessage would copy them), and back.
 */
function connected(node = new FakeWasmNode()) {
  const listeners: ((ev: MessageEvent<FromWorker>) => void)[] = []
  const errorListeners: ((ev: Event) => void)[] = []
  const toPage = (m: FromWorker) => {
    const copy = structuredClone(m)
    queueMicrotask(() => listeners.forEach((l) => l({ data: copy } as MessageEvent<FromWorker>)))
  }
  const engine = new PeerEngine({
    node,
    post: toPage,
    socket: (url) => new FakeSocket(url),
    store: new MemoryNodeStore(),
    clock: new ManualClock(),
  })
  const toWorker: ToWorker[] = []
  const worker: WorkerLike = {
    postMessage(msg) {
      toWorker.push(msg)
      const copy = structuredClone(msg)
      if (copy.t === 'init') {
        void engine.start(copy.nodes)
        return
      }
      queueMicrotask(() => void engine.handle(copy))
    },
    addEventListener(type: 'message' | 'error', f: (ev: never) => void) {
      if (type === 'message') listeners.push(f as (ev: MessageEvent<FromWorker>) => void)
      else errorListeners.push(f as (ev: Event) => void)
    },
  }
  const client = new PeerClient(worker, { nodes: ['ws://127.0.0.1:7878/sync'], rtc: null })
  toPage({ t: 'ready', publicKey: node.key, storage: 'opfs', warning: null })
  return { client, node, engine, toWorker, toPage, errorListeners }
}

beforeEach(() => {
  FakeSocket.all = []
})

describe('PeerClient', () => {
  it('maps the API onto requests to the worker, as the HTTP client does', async () => {
    const { client, node, toWorker } = connected()
    await client.ready
    expect(client.kind).toBe('peer')
    expect(toWorker[0]).toEqual({ t: 'init', nodes: ['ws://127.0.0.1:7878/sync'] })
    expect(FakeSocket.all.map((s) => s.url)).toEqual(['ws://127.0.0.1:7878/sync'])
    const seen: unknown[] = []
    node.handler = (method, path, body) => {
      seen.push([method, path, body])
      if (path.startsWith('/requests')) return { status: 200, body: [] }
      return { status: 201, body: { id: 'e1', title: 'Opening', requests: [] } }
    }
    const ev = await client.createEvent('fest1', { title: 'Opening', start: '2026-07-01T16:00:00Z', end: '2026-07-01T18:00:00Z' })
    expect(ev.id).toBe('e1')
    await client.requests({ incoming: true, pending: true, festival: 'abc' })
    await client.deny('q1', 'Sorry')
    await client.setCollective('fest1', { members: ['k1'], rule: 'any' })
    await client.collectives('fest1')
    await client.vote('q1', false, 'We paint that day')
    expect(seen).toEqual([
      ['POST', '/festivals/fest1/events', { title: 'Opening', start: '2026-07-01T16:00:00Z', end: '2026-07-01T18:00:00Z' }],
      ['GET', '/requests?incoming=1&pending=1&festival=abc', null],
      ['POST', '/requests/q1/deny', { reason: 'Sorry' }],
      ['PUT', '/festivals/fest1/collective', { members: ['k1'], rule: 'any' }],
      ['GET', '/festivals/fest1/collectives', null],
      ['POST', '/requests/q1/vote', { yes: false, reason: 'We paint that day' }],
    ])
  })

  it("throws the API's errors as ApiError with their status and sentence", async () => {
    const { client, node } = connected()
    node.handler = () => ({ status: 409, body: { error: 'the slot is taken by Opening 18:00–20:00' } })
    const e = await client.confirm('q1').catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ApiError)
    expect(e).toMatchObject({ status: 409, message: 'the slot is taken by Opening 18:00–20:00' })
  })

  it('joins: 202 is "syncing" with the message', async () => {
    const { client, node } = connected()
    node.handler = () => ({ status: 202, body: { festival: 'ab', message: 'joining: fetching the festival from 1 peer(s)', peers: [] } })
    expect(await client.join('pandafest://join?festival=ab&peer=ws%3A%2F%2Fx')).toEqual({
      status: 'syncing',
      message: 'joining: fetching the festival from 1 peer(s)',
    })
  })

  it('exports the key, shows the sync status, and makes the calendar a download', async () => {
    const { client, node } = connected()
    expect(await client.exportSecretKey()).toBe('5'.repeat(64))
    node.status = { peers: [{ address: 'webrtc:x', key: null, connected: true, festivals: [], behind: 0 }] }
    const s = await client.sync()
    expect(s.peers[0]).toMatchObject({ address: 'webrtc:x', connected: true })
    node.handler = (_m, path) => ({ status: 200, body: { text: `BEGIN:VCALENDAR\r\nX-PATH:${path}\r\nEND:VCALENDAR\r\n` } })
    const link = await client.calendarLink({ resource: 'r1' })
    expect(link.subscribable).toBe(false)
    expect(link.url.startsWith('data:text/calendar;charset=utf-8,')).toBe(true)
    expect(decodeURIComponent(link.url.split(',')[1])).toContain('X-PATH:/resources/r1/schedule.ics')
  })

  it('delivers changes and sync status to subscribers', async () => {
    const { client, toPage } = connected()
    await client.ready
    await new Promise((r) => setTimeout(r, 0)) // the engine's first status went by
    const got: Change[] = []
    const off = client.subscribe((c) => got.push(c))
    toPage({ t: 'changes', changes: [{ festivals: ['f1'], kinds: ['request'] }, { festivals: [], kinds: ['*'] }] })
    toPage({ t: 'sync', status: { peers: [] } })
    await new Promise((r) => setTimeout(r, 0))
    expect(got).toEqual([
      { type: 'change', festivals: ['f1'], kinds: ['request'] },
      { type: 'change', festivals: [], kinds: ['*'] },
      { type: 'sync', sync: { peers: [] } },
    ])
    off()
    toPage({ t: 'changes', changes: [{ festivals: ['f2'], kinds: ['event'] }] })
    await new Promise((r) => setTimeout(r, 0))
    expect(got).toHaveLength(3)
  })

  it('imports a key (checking it looks like one first) and manages nodes', async () => {
    const { client, node } = connected()
    await client.ready
    node.handler = (_m, path) => ({ status: 200, body: { public_key: node.key, name: null, data_dir: null, calendar_key: null, path } })
    await expect(client.browser.importSecretKey('not a key')).rejects.toMatchObject({ status: 400 })
    const me = await client.browser.importSecretKey('7'.repeat(64).toUpperCase())
    expect(me.public_key).toBe(`b${'7'.repeat(63)}`)
    expect(client.publicKey).toBe(`b${'7'.repeat(63)}`)
    node.wrote = true
    await expect(client.browser.importSecretKey('8'.repeat(64))).rejects.toMatchObject({ status: 409 })
    expect(client.browser.storage).toBe('opfs')
    const nodes = await client.browser.connectNode('10.0.0.2:7878')
    expect(nodes.map((n) => n.url)).toEqual(['ws://127.0.0.1:7878/sync', 'ws://10.0.0.2:7878/sync'])
    expect((await client.browser.forgetNode('ws://127.0.0.1:7878/sync')).map((n) => n.url)).toEqual(['ws://10.0.0.2:7878/sync'])
  })

  it('fails every call with the reason when the node could not start', async () => {
    const listeners: ((ev: MessageEvent<FromWorker>) => void)[] = []
    const worker: WorkerLike = {
      postMessage() {},
      addEventListener(type: 'message' | 'error', f: (ev: never) => void) {
        if (type === 'message') listeners.push(f as (ev: MessageEvent<FromWorker>) => void)
      },
    }
    const client = new PeerClient(worker, { rtc: null })
    const pending = client.festivals()
    listeners.forEach((l) => l({ data: { t: 'failed', error: 'Run "cargo xtask wasm".' } } as MessageEvent<FromWorker>))
    await client.ready
    await expect(pending).rejects.toMatchObject({ status: 503, message: 'Run "cargo xtask wasm".' })
    await expect(client.identity()).rejects.toMatchObject({ status: 503, message: 'Run "cargo xtask wasm".' })
  })

  it('says so when the worker dies', async () => {
    const { client, errorListeners } = connected()
    const got: Change[] = []
    client.subscribe((c) => got.push(c))
    errorListeners.forEach((l) => l(Object.assign(new Event('error'), { message: 'out of memory' })))
    expect(got).toEqual([{ type: 'connection', connected: false }])
    await expect(client.festivals()).rejects.toMatchObject({ status: 503, message: expect.stringMatching(/out of memory/) })
  })
})

describe('choosing the browser peer', () => {
  const loc = (search: string) => ({ search }) as Location

  it('reads ?peer and ?node=', () => {
    expect(peerRequested(loc('?peer'))).toBe(true)
    expect(peerRequested(loc('?peer&node=ws://a/sync'))).toBe(true)
    expect(peerRequested(loc('?demo'))).toBe(false)
    expect(nodesRequested(loc('?peer&node=ws%3A%2F%2Fa%2Fsync&node=ws://b/sync'))).toEqual(['ws://a/sync', 'ws://b/sync'])
  })

  it('asks the origin whether a node is there', async () => {
    const answer = (status: number, body: string) => (async () => new Response(body, { status })) as typeof fetch
    expect(await probeOrigin(answer(200, JSON.stringify({ public_key: 'ab', name: null })))).toBe('node')
    expect(await probeOrigin(answer(401, JSON.stringify({ error: 'this node needs its token' })))).toBe('node')
    expect(await probeOrigin(answer(200, '<!doctype html><html></html>'))).toBe('none') // a static host's index.html
    expect(await probeOrigin(answer(404, 'Not Found'))).toBe('none')
    expect(await probeOrigin(answer(200, JSON.stringify({ something: 'else' })))).toBe('none')
    expect(
      await probeOrigin((async () => {
        throw new TypeError('Failed to fetch')
      }) as typeof fetch),
    ).toBe('unreachable')
  })

  it('sends the token with the probe', async () => {
    let auth: string | undefined
    const f = (async (_u: RequestInfo | URL, init?: RequestInit) => {
      auth = (init?.headers as Record<string, string>).Authorization
      return new Response('{"public_key":"ab"}', { status: 200 })
    }) as typeof fetch
    expect(await probeOrigin(f, 's3cret')).toBe('node')
    expect(auth).toBe('Bearer s3cret')
  })
})
