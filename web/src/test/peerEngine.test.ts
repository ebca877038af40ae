import { beforeEach, describe, expect, it } from 'vitest'
import { PeerEngine, VERIFY_FROM } from '../peer/engine'
import { syncUrl } from '../peer/engine'
import type { FromWorker, Op } from '../peer/protocol'
import { FakeSocket, FakeWasmNode, ManualClock, MemoryNodeStore } from './peerFakes'

const NODE = 'ws://127.0.0.1:7878/sync'
const OTHER = 'ws://10.0.0.2:7878/sync'

function setup(stored: { url: string; source: 'node' | 'join' }[] = []) {
  const node = new FakeWasmNode()
  const clock = new ManualClock()
  const store = new MemoryNodeStore(stored)
  const posted: FromWorker[] = []
  const engine = new PeerEngine({
    node,
    post: (m) => posted.push(m),
    socket: (url) => new FakeSocket(url),
    store,
    clock,
    random: () => 0.5, // no jitter
    statusEveryMs: 0,
  })
  const call = async (id: number, call: Op) => {
    await engine.handle({ t: 'call', id, call })
    const reply = posted.find((m) => m.t === 'reply' && m.id === id)
    if (!reply || reply.t !== 'reply') throw new Error(`no reply to call ${id}`)
    return reply
  }
  const of = <T extends FromWorker['t']>(t: T) => posted.filter((m): m is Extract<FromWorker, { t: T }> => m.t === t)
  return { node, clock, store, posted, engine, call, of }
}

const socketFor = (url: string) => FakeSocket.all.filter((s) => s.url === url).at(-1)!

beforeEach(() => {
  FakeSocket.all = []
})

describe('syncUrl', () => {
  it('takes ws URLs and node addresses', () => {
    expect(syncUrl('ws://127.0.0.1:7878/sync')).toBe('ws://127.0.0.1:7878/sync')
    expect(syncUrl('http://192.168.1.5:7878/')).toBe('ws://192.168.1.5:7878/sync')
    expect(syncUrl('https://fest.example')).toBe('wss://fest.example/sync')
    expect(syncUrl('192.168.1.5:7878')).toBe('ws://192.168.1.5:7878/sync')
    expect(syncUrl('  ')).toBeNull()
    expect(syncUrl('ftp://x/')).toBeNull()
    expect(syncUrl('ws://')).toBeNull()
  })
})

/** An engine over fake sockets whose large messages go to `verify`. */
function verifyingEngine(node: FakeWasmNode, verify: (bytes: Uint8Array) => Promise<Uint8Array>) {
  return new PeerEngine({
    node,
    post: () => {},
    socket: (url) => new FakeSocket(url),
    store: new MemoryNodeStore([]),
    clock: new ManualClock(),
    verify,
  })
}

describe('PeerEngine: signatures verified on a second worker', () => {
  it('verifies large messages first, and hands every message to the node in order', async () => {
    const node = new FakeWasmNode()
    const asked: { bytes: Uint8Array; answer: (hashes: Uint8Array) => void; fail: () => void }[] = []
    const verify = (bytes: Uint8Array) =>
      new Promise<Uint8Array>((answer, reject) => asked.push({ bytes, answer, fail: () => reject(new Error('gone')) }))
    const engine = verifyingEngine(node, verify)
    await engine.start([NODE])
    socketFor(NODE).open()
    const big = (tag: number) => {
      const b = new Uint8Array(VERIFY_FROM)
      b[0] = tag
      return b
    }
    const first = (n: number) => node.received.map((r) => r.bytes[0]).slice(0, n)
    socketFor(NODE).message([1]) // small: straight to the node
    socketFor(NODE).message([...big(2)])
    socketFor(NODE).message([3]) // waits behind the large one
    socketFor(NODE).message([...big(4)])
    expect(first(9)).toEqual([1])
    expect(asked.map((a) => a.bytes[0])).toEqual([2, 4])

    // The second answer comes first: nothing moves until the first.
    asked[1].answer(new Uint8Array([44]))
    await Promise.resolve()
    await new Promise((r) => setTimeout(r))
    expect(first(9)).toEqual([1])
    asked[0].answer(new Uint8Array([22]))
    await Promise.resolve()
    await Promise.resolve()
    // After a large message, with more ready behind it, the engine lets other events run
    // first: one that arrives now goes to the verifier before the next message is stored.
    expect(first(9)).toEqual([1, 2])
    socketFor(NODE).message([...big(5)])
    expect(asked.map((a) => a.bytes[0])).toEqual([2, 4, 5])
    expect(first(9)).toEqual([1, 2])
    await new Promise((r) => setTimeout(r))
    expect(first(9)).toEqual([1, 2, 3, 4])
    // Each message's hashes were marked before the node got it.
    expect(node.verified).toEqual([
      { hashes: [44], after: 1 },
      { hashes: [22], after: 1 },
    ])

    // A verifier that fails: the node gets the message anyway (and verifies it itself).
    socketFor(NODE).message([6])
    asked[2].fail()
    await new Promise((r) => setTimeout(r))
    await new Promise((r) => setTimeout(r))
    expect(first(9)).toEqual([1, 2, 3, 4, 5, 6])
    expect(node.verified).toHaveLength(2)
  })
})

describe('PeerEngine: messages checked where their socket is held', () => {
  it('stores a message that came verified without asking again, marked first, in order', async () => {
    const node = new FakeWasmNode()
    const asked: Uint8Array[] = []
    const engine = verifyingEngine(node, (bytes) => {
      asked.push(bytes)
      return new Promise<Uint8Array>(() => {})
    })
    await engine.start([NODE])
    socketFor(NODE).open()
    const big = (tag: number) => {
      const b = new Array<number>(VERIFY_FROM).fill(0)
      b[0] = tag
      return b
    }
    const first = () => node.received.map((r) => r.bytes[0])
    socketFor(NODE).message(big(1), [11])
    socketFor(NODE).message([2])
    // None: a signature did not hold there, and the node checks the batch as it stores it.
    socketFor(NODE).message(big(3), [])
    await new Promise((r) => setTimeout(r))
    await new Promise((r) => setTimeout(r))
    expect(first()).toEqual([1, 2, 3])
    expect(asked).toEqual([])
    expect(node.verified).toEqual([{ hashes: [11], after: 0 }])
  })
})

describe('PeerEngine: WebSockets to native nodes', () => {
  it('connects to the remembered nodes and to ?node=, remembers them, and runs one session per connection', async () => {
    const { node, store, engine } = setup([{ url: OTHER, source: 'join' }])
    await engine.start(['127.0.0.1:7878'])
    expect(FakeSocket.all.map((s) => s.url)).toEqual([OTHER, NODE])
    expect(store.nodes).toEqual([
      { url: OTHER, source: 'join' },
      { url: NODE, source: 'node' },
    ])
    const ws = socketFor(NODE)
    expect(ws.binaryType).toBe('arraybuffer')
    expect(node.opened).toEqual([])
    ws.open()
    expect(node.opened).toEqual([{ id: 1, label: NODE, initiator: true }])
    // The session's Hello goes out at once; what arrives goes to the session.
    expect(ws.sent).toEqual([[0x82, 1, 1]])
    node.queue(1, { type: 'send', bytes: new Uint8Array([9, 9]) })
    ws.message([1, 2, 3])
    expect(node.received).toEqual([{ id: 1, bytes: [1, 2, 3] }])
    expect(ws.sent.at(-1)).toEqual([9, 9])
  })

  it('reconnects with a growing backoff, and starts over once a connection held', async () => {
    const { node, clock, engine } = setup()
    await engine.start([NODE])
    socketFor(NODE).drop()
    expect(clock.pending()).toEqual([1000])
    clock.advance(999)
    expect(FakeSocket.all).toHaveLength(1)
    clock.advance(1)
    expect(FakeSocket.all).toHaveLength(2)
    socketFor(NODE).drop()
    expect(clock.pending()).toEqual([2000])
    clock.advance(2000)
    socketFor(NODE).drop()
    expect(clock.pending()).toEqual([4000])
    clock.advance(4000)
    // This one opens, proves its peer and stays up a while: the next drop waits 1 s again.
    const ws = socketFor(NODE)
    ws.open()
    const id = node.opened.at(-1)!.id
    node.queue(id, { type: 'ready', peer: 'c'.repeat(64) })
    ws.message([0])
    clock.advance(15_000)
    ws.drop('bye')
    expect(node.closed.at(-1)).toEqual({ id, reason: 'the connection closed: bye' })
    expect(node.removed).toContain(id)
    expect(clock.pending()).toEqual([1000])
  })

  it('caps the backoff', async () => {
    const { clock, engine } = setup()
    await engine.start([NODE])
    for (let i = 0; i < 12; i++) {
      socketFor(NODE).drop()
      const [wait] = clock.pending()
      expect(wait).toBeLessThanOrEqual(60_000)
      clock.advance(wait)
    }
    socketFor(NODE).drop()
    expect(clock.pending()).toEqual([60_000])
  })

  it('closes the socket when the node ends the session, after sending its last words', async () => {
    const { node, clock, engine } = setup()
    await engine.start([NODE])
    const ws = socketFor(NODE)
    ws.open()
    node.queue(1, { type: 'send', bytes: new Uint8Array([0x83, 15, 3]) }, { type: 'closed', reason: 'the peer presents this peer’s own key' })
    ws.message([0])
    expect(ws.sent.at(-1)).toEqual([0x83, 15, 3])
    expect(ws.closedWith?.code).toBe(1000)
    expect(node.closed).toEqual([]) // the node ended it itself
    expect(node.removed).toEqual([1])
    expect(clock.pending()).toEqual([1000])
  })

  it('connects to the peers a join answers, and remembers them', async () => {
    const { node, store, engine, call, of } = setup()
    await engine.start()
    node.handler = (method, path, body) => {
      expect([method, path, body]).toEqual(['POST', '/join', { link: 'pandafest://join?festival=ab&peer=x' }])
      return { status: 202, body: { festival: 'ab', message: 'joining', peers: [OTHER, 'not a url at all'] } }
    }
    const reply = await call(1, { op: 'request', method: 'POST', path: '/join', body: { link: 'pandafest://join?festival=ab&peer=x' } })
    expect(reply).toMatchObject({ ok: true, value: { status: 202, body: { peers: [OTHER, 'not a url at all'] } } })
    expect(FakeSocket.all.map((s) => s.url)).toEqual([OTHER])
    await Promise.resolve()
    expect(store.nodes).toEqual([{ url: OTHER, source: 'join' }])
    // Joining stored no entry, but the screens must reload.
    expect(of('changes').at(-1)).toEqual({ t: 'changes', changes: [{ festivals: [], kinds: ['festival'] }] })
    const nodes = await call(2, { op: 'nodes' })
    expect(nodes).toMatchObject({ ok: true, value: [{ url: OTHER, source: 'join', connected: false }] })
  })

  it('adds and forgets nodes by hand', async () => {
    const { store, engine, call } = setup()
    await engine.start()
    const bad = await call(1, { op: 'connectNode', url: 'mailto:x' })
    expect(bad).toMatchObject({ ok: false, status: 400 })
    const added = await call(2, { op: 'connectNode', url: 'http://10.0.0.2:7878' })
    expect(added).toMatchObject({ ok: true, value: [{ url: OTHER, source: 'node' }] })
    expect(store.nodes).toEqual([{ url: OTHER, source: 'node' }])
    const ws = socketFor(OTHER)
    ws.open()
    const gone = await call(3, { op: 'forgetNode', url: OTHER })
    expect(gone).toMatchObject({ ok: true, value: [] })
    expect(ws.closedWith?.code).toBe(1000)
    expect(store.nodes).toEqual([])
  })

  it('shows remembered nodes that are not connected in the sync status, with what went wrong', async () => {
    const { node, engine, call } = setup()
    node.status = { peers: [{ address: 'webrtc:cccc', key: 'c'.repeat(64), connected: true, festivals: [], behind: 0 }] }
    await engine.start([NODE])
    socketFor(NODE).drop()
    const status = await call(1, { op: 'syncStatus' })
    expect(status).toMatchObject({
      ok: true,
      value: {
        peers: [
          { address: 'webrtc:cccc', connected: true },
          { address: NODE, key: null, connected: false, behind: 0, live: false, error: `cannot connect to ${NODE}` },
        ],
      },
    })
  })
})

describe('PeerEngine: calls, changes, identity', () => {
  it('answers requests with status and body, and posts the changes of a write', async () => {
    const { node, engine, call, of } = setup()
    await engine.start()
    node.handler = (method, path, body) => {
      node.changes.push({ festivals: ['f1'], kinds: ['festival'] })
      return { status: 201, body: { id: 'f1', method, path, body } }
    }
    const reply = await call(1, { op: 'request', method: 'POST', path: '/festivals', body: { name: 'Fest' } })
    expect(reply).toEqual({
      t: 'reply',
      id: 1,
      ok: true,
      value: { status: 201, body: { id: 'f1', method: 'POST', path: '/festivals', body: { name: 'Fest' } } },
    })
    expect(of('changes')).toEqual([{ t: 'changes', changes: [{ festivals: ['f1'], kinds: ['festival'] }] }])
  })

  it('passes API errors on as answers, and thrown errors as failed calls', async () => {
    const { node, engine, call } = setup()
    await engine.start()
    expect(await call(1, { op: 'request', method: 'GET', path: '/festivals/zz', body: null })).toMatchObject({
      ok: true,
      value: { status: 404, body: { error: 'no GET /festivals/zz here' } },
    })
    node.handler = () => {
      throw new Error('the database is locked')
    }
    expect(await call(2, { op: 'request', method: 'GET', path: '/festivals', body: null })).toEqual({
      t: 'reply',
      id: 2,
      ok: false,
      status: 500,
      error: 'the database is locked',
    })
  })

  it('imports a key only before writing; then every session starts over with the new key', async () => {
    const { node, engine, call, of } = setup()
    await engine.start([NODE])
    socketFor(NODE).open()
    const imported = await call(1, { op: 'importKey', hex: ` ${'7'.repeat(64)} ` })
    expect(imported).toEqual({ t: 'reply', id: 1, ok: true, value: `b${'7'.repeat(63)}` })
    expect(node.closed).toEqual([{ id: 1, reason: 'this peer changed its key' }])
    expect(FakeSocket.all).toHaveLength(2) // dialled again at once
    expect(of('identity')).toEqual([{ t: 'identity', publicKey: `b${'7'.repeat(63)}` }])
    expect(of('changes').at(-1)).toEqual({ t: 'changes', changes: [{ festivals: [], kinds: ['*'] }] })
    node.wrote = true
    const refused = await call(2, { op: 'importKey', hex: '8'.repeat(64) })
    expect(refused).toMatchObject({ ok: false, status: 409, error: expect.stringMatching(/written already/) })
    expect(await call(3, { op: 'exportKey' })).toMatchObject({ ok: true, value: '7'.repeat(64) })
  })

})

describe('PeerEngine: WebRTC sessions and signalling', () => {
  const PEER = 'c'.repeat(64)

  it('passes introductions and signalling to the page, and signalling from the page to the node', async () => {
    const { node, engine, call, of } = setup()
    await engine.start([NODE])
    socketFor(NODE).open()
    node.queue(1, { type: 'ready', peer: 'd'.repeat(64) }, { type: 'introduce', peer: PEER }, { type: 'signal', from: PEER, data: '{"sdp":{}}' })
    socketFor(NODE).message([0])
    expect(of('introduce')).toEqual([{ t: 'introduce', via: 1, peer: PEER }])
    expect(of('signal')).toEqual([{ t: 'signal', via: 1, from: PEER, data: '{"sdp":{}}' }])
    expect(await call(1, { op: 'signal', via: 1, to: PEER, data: '{"sdp":{"type":"answer"}}' })).toMatchObject({ ok: true })
    expect(node.signals).toEqual([{ id: 1, to: PEER, data: '{"sdp":{"type":"answer"}}' }])
    expect(await call(2, { op: 'signal', via: 99, to: PEER, data: '{}' })).toMatchObject({ ok: false, status: 404 })
  })

  it('does not pass on introductions of peers it is connected to', async () => {
    const { node, engine, of } = setup()
    await engine.start([NODE])
    await engine.handle({ t: 'rtc-open', conn: 7, peer: PEER, initiator: true })
    node.queue(2, { type: 'ready', peer: PEER })
    await engine.handle({ t: 'rtc-data', conn: 7, bytes: new Uint8Array([1]).buffer })
    socketFor(NODE).open()
    node.queue(1, { type: 'introduce', peer: PEER }, { type: 'introduce', peer: node.key })
    socketFor(NODE).message([0])
    expect(of('introduce')).toEqual([])
  })

  it('runs a session over a data channel the page holds', async () => {
    const { node, engine, of } = setup()
    await engine.start()
    await engine.handle({ t: 'rtc-open', conn: 7, peer: PEER, initiator: false, maxMessageSize: 262_144 })
    // Within the channel's largest message: Chromium drops larger ones without an error.
    expect(node.opened).toEqual([
      { id: 1, label: `webrtc:${PEER.slice(0, 16)}`, initiator: false, maxMessageBytes: 262_144 },
    ])
    const hello = of('rtc-send')[0]
    expect(hello.conn).toBe(7)
    expect([...new Uint8Array(hello.bytes)]).toEqual([0x82, 1, 1])
    await engine.handle({ t: 'rtc-data', conn: 7, bytes: new Uint8Array([4, 5]).buffer })
    expect(node.received).toEqual([{ id: 1, bytes: [4, 5] }])
    // The node ends it: the page closes the channel.
    node.queue(1, { type: 'closed', reason: 'done' })
    await engine.handle({ t: 'rtc-data', conn: 7, bytes: new Uint8Array([6]).buffer })
    expect(of('rtc-close')).toEqual([{ t: 'rtc-close', conn: 7, reason: 'done' }])
    expect(node.removed).toEqual([1])
    // Data for a closed channel goes nowhere.
    await engine.handle({ t: 'rtc-data', conn: 7, bytes: new Uint8Array([8]).buffer })
    expect(node.received).toHaveLength(2)
  })

  it('sizes sessions to their transport', async () => {
    const { node, engine } = setup()
    await engine.start([NODE])
    socketFor(NODE).open()
    await engine.handle({ t: 'rtc-open', conn: 1, peer: PEER, initiator: true })
    await engine.handle({ t: 'rtc-open', conn: 2, peer: 'd'.repeat(64), initiator: true, maxMessageSize: Infinity })
    await engine.handle({ t: 'rtc-open', conn: 3, peer: 'e'.repeat(64), initiator: true, maxMessageSize: 65_536.5 })
    // A WebSocket: the wasm node's browser limits; a channel that says nothing or too much:
    // Chromium's 256 KiB.
    expect(node.opened.map((o) => o.maxMessageBytes)).toEqual([undefined, 262_144, 262_144, 65_536])
  })

  it('ends the session when the page reports the channel closed', async () => {
    const { node, engine, of } = setup()
    await engine.start()
    await engine.handle({ t: 'rtc-open', conn: 3, peer: PEER, initiator: true })
    await engine.handle({ t: 'rtc-closed', conn: 3, reason: 'the data channel closed' })
    expect(node.closed).toEqual([{ id: 1, reason: 'the data channel closed' }])
    expect(node.removed).toEqual([1])
    expect(of('rtc-close')).toEqual([])
  })
})
