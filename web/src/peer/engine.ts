// The browser peer's worker logic, without the worker: it answers the page's calls with the
// wasm node, drives the node's sync sessions over WebSockets to native nodes (with
// reconnection and backoff) and over WebRTC data channels held by the page (rtc.ts), and
// tells the page what changed. worker.ts gives it the real node, WebSocket, IndexedDB and
// timers; the unit tests give it fakes.

import type { Peer, SyncStatus } from '../client/types'
import { changedByWrite, type FromWorker, type NodeEntry, type Op, type ToWorker } from './protocol'
import { redialDelayMs, redialResetMs, syncUrl as wasmSyncUrl } from 'virtual:pandafest-wasm'
import type { SyncEvent, WasmNodeApi } from './wasm'

/** A node's sync endpoint from an address (the node's rule, `service::invite::sync_url`). */
export const syncUrl = (address: string): string | null => wasmSyncUrl(address) ?? null

/** A data channel's largest message when the page cannot tell (Chromium's `maxMessageSize`). */
export const RTC_MAX_MESSAGE = 256 * 1024

/** The largest message a session over a data channel may carry, from what the page read. */
export function rtcMaxMessage(reported: number | undefined): number {
  // Firefox may report a very large or infinite size; the session caps it at its own limit.
  if (reported === undefined || !Number.isFinite(reported) || reported <= 0) return RTC_MAX_MESSAGE
  return Math.min(Math.floor(reported), 0xffff_ffff)
}

/**
 * Messages from this size on are catch-up batches worth verifying on the second worker
 * (`EngineOptions.verify`); live pushes of an entry or two are checked where they are stored.
 */
export const VERIFY_FROM = 64 * 1024

/** The part of WebSocket the engine uses. */
export interface SocketLike {
  binaryType: string
  readonly readyState: number
  onopen: ((ev: unknown) => void) | null
  /** `verified`: the hashes of the message's entries, checked where the socket is held. */
  onmessage: ((ev: { data: unknown; verified?: Uint8Array }) => void) | null
  onclose: ((ev: { code?: number; reason?: string }) => void) | null
  onerror: ((ev: unknown) => void) | null
  send(data: Uint8Array | ArrayBuffer): void
  close(code?: number, reason?: string): void
}

export type SocketFactory = (url: string) => SocketLike

/** Where the list of nodes survives reloads (IndexedDB in the worker). */
export interface NodeStore {
  load(): Promise<StoredNode[]>
  save(nodes: StoredNode[]): Promise<void>
}

export interface StoredNode {
  url: string
  source: 'node' | 'join'
}

export interface Clock {
  now(): number
  setTimeout(f: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
  setInterval(f: () => void, ms: number): unknown
}

export interface EngineOptions {
  node: WasmNodeApi
  post: (msg: FromWorker, transfer?: Transferable[]) => void
  socket: SocketFactory
  store: NodeStore
  clock?: Clock
  random?: () => number
  tickMs?: number
  /** Sync status is posted at most this often while it changes. */
  statusEveryMs?: number
  /**
   * Checks the signatures of a large message's entries elsewhere (a second worker running
   * `verifiedHashes`), answering their hashes (64 bytes each; none if any is bad), so that
   * the next batch is verified while this worker stores the one before. Without it, the
   * node verifies as it stores.
   */
  verify?: (bytes: Uint8Array) => Promise<Uint8Array>
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (f, ms) => setTimeout(f, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  setInterval: (f, ms) => setInterval(f, ms),
}

/** A connection to a native node, kept up while the node is remembered. */
interface Dialer {
  url: string
  source: 'node' | 'join'
  socket: SocketLike | null
  session: number | null
  attempt: number
  timer: unknown
  readySince: number | null
  error: string | null
  /** Forgotten: do not reconnect. */
  gone: boolean
}

type Transport = { kind: 'ws'; dialer: Dialer } | { kind: 'rtc'; conn: number }

interface Session {
  id: number
  transport: Transport
  peer: string | null
  closed: boolean
  /** Messages received and not handed to the node yet, in order: the first waits for `verify`. */
  inbox: { bytes: Uint8Array; ready: boolean }[]
  /** The rest of the inbox is handed over in a task of its own (see `deliver`). */
  delivering: boolean
}


export class PeerEngine {
  private readonly node: WasmNodeApi
  private readonly post: EngineOptions['post']
  private readonly socket: SocketFactory
  private readonly store: NodeStore
  private readonly clock: Clock
  private readonly random: () => number
  private readonly statusEveryMs: number
  private readonly verify: EngineOptions['verify']
  private readonly dialers = new Map<string, Dialer>()
  private readonly sessions = new Map<number, Session>()
  private readonly rtcSessions = new Map<number, number>() // conn -> session id
  private lastStatus = ''
  private statusTimer: unknown = null
  private statusDue = 0
  private saving: Promise<void> = Promise.resolve()

  constructor(opts: EngineOptions) {
    this.node = opts.node
    this.post = opts.post
    this.socket = opts.socket
    this.store = opts.store
    this.clock = opts.clock ?? realClock
    this.random = opts.random ?? Math.random
    this.statusEveryMs = opts.statusEveryMs ?? 250
    this.verify = opts.verify
    this.clock.setInterval(() => this.tick(), opts.tickMs ?? 1000)
  }

  /** Connects to the remembered nodes and to `extra` (from `?node=`, remembered too). */
  async start(extra: string[] = []): Promise<void> {
    let stored: StoredNode[] = []
    try {
      stored = await this.store.load()
    } catch {
      // no IndexedDB (private mode): this page's nodes only
    }
    for (const n of stored) this.addDialer(n.url, n.source)
    let added = false
    for (const raw of extra) {
      const url = syncUrl(raw)
      if (url && !this.dialers.has(url)) {
        this.addDialer(url, 'node')
        added = true
      }
    }
    if (added) this.persist()
    this.postStatus(true)
  }

  // ---- messages from the page ------------------------------------------------------------

  async handle(msg: ToWorker): Promise<void> {
    switch (msg.t) {
      case 'init':
        return // handled by worker.ts (start)
      case 'call':
        return this.call(msg.id, msg.call)
      case 'rtc-open': {
        const label = `webrtc:${msg.peer.slice(0, 16)}`
        const id = this.open(label, msg.initiator, { kind: 'rtc', conn: msg.conn }, rtcMaxMessage(msg.maxMessageSize))
        if (id !== null) this.rtcSessions.set(msg.conn, id)
        else this.post({ t: 'rtc-close', conn: msg.conn, reason: 'the browser peer could not open a sync session' })
        this.pumpAll()
        return
      }
      case 'rtc-data': {
        const id = this.rtcSessions.get(msg.conn)
        if (id === undefined) return
        this.receive(id, new Uint8Array(msg.bytes))
        return
      }
      case 'rtc-closed': {
        const id = this.rtcSessions.get(msg.conn)
        if (id !== undefined) this.closeSession(id, msg.reason || 'the WebRTC connection closed', 'remote')
        this.pumpAll()
        return
      }
    }
  }

  private async call(id: number, call: Op): Promise<void> {
    try {
      const value = await this.run(call)
      this.post({ t: 'reply', id, ok: true, value })
    } catch (e) {
      const status = e instanceof CallError ? e.status : 500
      this.post({ t: 'reply', id, ok: false, status, error: message(e) })
    }
    this.pumpAll()
  }

  private async run(call: Op): Promise<unknown> {
    switch (call.op) {
      case 'request': {
        const body = call.body === undefined || call.body === null ? null : JSON.stringify(call.body)
        const text = await this.node.request(call.method, call.path, body)
        const answer = JSON.parse(text) as { status: number; body: unknown }
        if (call.method !== 'GET' && answer.status < 300) {
          if (call.path === '/join' && call.method === 'POST') this.joined(answer.body)
          // A write that stored no entry (a name before any festival, a join) changed things
          // all the same: the screens reload.
          if (!this.flushChanges()) this.post({ t: 'changes', changes: [{ festivals: [], kinds: [changedByWrite(call.path)] }] })
        }
        return answer
      }
      case 'exportKey':
        return this.node.exportKey()
      case 'importKey': {
        try {
          await this.node.importKey(call.hex.trim())
        } catch (e) {
          throw new CallError(409, message(e))
        }
        this.newIdentity()
        return this.node.publicKey()
      }
      case 'syncStatus':
        return this.status()
      case 'nodes':
        return this.nodes()
      case 'connectNode': {
        const url = syncUrl(call.url)
        if (!url) throw new CallError(400, `“${call.url}” is not the address of a pandafest node (ws://host:port/sync).`)
        const known = this.dialers.get(url)
        if (known) {
          known.source = 'node'
          if (!known.socket) this.connect(known)
        } else this.addDialer(url, 'node')
        this.persist()
        await this.saving
        return this.nodes()
      }
      case 'forgetNode': {
        const d = this.dialers.get(call.url)
        if (d) {
          d.gone = true
          this.dialers.delete(call.url)
          this.clock.clearTimeout(d.timer)
          if (d.session !== null) this.closeSession(d.session, 'forgotten', 'local')
          d.socket?.close(1000, 'forgotten')
          d.socket = null
        }
        this.persist()
        await this.saving
        this.postStatus(true)
        return this.nodes()
      }
      case 'signal': {
        if (!this.sessions.has(call.via)) throw new CallError(404, 'that sync session has ended')
        this.node.syncSignal(call.via, call.to, call.data)
        return null
      }
    }
  }

  /** POST /join answered the peers of the festival: connect to them, and remember them. */
  private joined(body: unknown) {
    const peers = body && typeof body === 'object' && 'peers' in body ? (body as { peers: unknown }).peers : null
    if (!Array.isArray(peers)) return
    let added = false
    for (const p of peers) {
      const url = typeof p === 'string' ? syncUrl(p) : null
      if (!url) continue
      const known = this.dialers.get(url)
      if (known) {
        // Joining is a good moment to try again at once.
        if (!known.socket) {
          known.attempt = 0
          this.clock.clearTimeout(known.timer)
          this.connect(known)
        }
      } else {
        this.addDialer(url, 'join')
        added = true
      }
    }
    if (added) this.persist()
  }

  private nodes(): NodeEntry[] {
    return [...this.dialers.values()].map((d) => ({
      url: d.url,
      source: d.source,
      connected: d.session !== null && d.readySince !== null,
      error: d.error,
    }))
  }

  private persist() {
    const list: StoredNode[] = [...this.dialers.values()].map((d) => ({ url: d.url, source: d.source }))
    this.saving = this.saving.then(() => this.store.save(list)).catch(() => {})
  }

  /** The key changed: sessions of the old key end; native nodes are dialled again at once. */
  private newIdentity() {
    for (const id of [...this.sessions.keys()]) this.closeSession(id, 'this peer changed its key', 'local')
    for (const d of this.dialers.values()) {
      d.socket?.close(1000, 'new key')
      d.socket = null
      d.session = null
      d.attempt = 0
      this.clock.clearTimeout(d.timer)
      this.connect(d)
    }
    this.post({ t: 'identity', publicKey: this.node.publicKey() })
    this.post({ t: 'changes', changes: [{ festivals: [], kinds: ['*'] }] })
  }

  // ---- WebSockets to native nodes ---------------------------------------------------------

  private addDialer(url: string, source: 'node' | 'join') {
    if (this.dialers.has(url)) return
    const d: Dialer = {
      url,
      source,
      socket: null,
      session: null,
      attempt: 0,
      timer: null,
      readySince: null,
      error: null,
      gone: false,
    }
    this.dialers.set(url, d)
    this.connect(d)
  }

  private connect(d: Dialer) {
    if (d.gone || d.socket) return
    d.timer = null
    let ws: SocketLike
    try {
      ws = this.socket(d.url)
    } catch (e) {
      d.error = message(e)
      this.retry(d)
      return
    }
    d.socket = ws
    ws.binaryType = 'arraybuffer'
    ws.onopen = () => {
      if (d.socket !== ws) return
      d.session = this.open(d.url, true, { kind: 'ws', dialer: d })
      if (d.session === null) ws.close(1011, 'no session')
      this.pumpAll()
    }
    ws.onmessage = (ev) => {
      if (d.socket !== ws || d.session === null) return
      const bytes = toBytes(ev.data)
      if (!bytes) return
      this.receive(d.session, bytes, ev.verified)
    }
    ws.onerror = () => {
      // A close follows; it says more.
      if (d.socket === ws && d.session === null) d.error = `cannot connect to ${d.url}`
    }
    ws.onclose = (ev) => {
      if (d.socket !== ws) return
      d.socket = null
      if (d.session !== null) {
        const reason = ev.reason ? `the connection closed: ${ev.reason}` : 'the connection closed'
        this.closeSession(d.session, reason, 'remote')
        if (!d.error) d.error = reason
      } else if (!d.error) d.error = `cannot connect to ${d.url}`
      this.retry(d)
      this.pumpAll()
    }
  }

  private retry(d: Dialer) {
    if (d.gone) return
    // The redial rule is the node's (service::hub::redial_delay_ms), native and here alike.
    if (d.readySince !== null && this.clock.now() - d.readySince >= redialResetMs()) d.attempt = 0
    d.readySince = null
    const delay = redialDelayMs(d.attempt, this.random())
    d.attempt += 1
    this.clock.clearTimeout(d.timer)
    d.timer = this.clock.setTimeout(() => this.connect(d), delay)
    this.postStatus(false)
  }

  // ---- sessions ---------------------------------------------------------------------------

  private open(label: string, initiator: boolean, transport: Transport, maxMessageBytes?: number): number | null {
    let id: number
    try {
      id = this.node.syncOpen(label, initiator, maxMessageBytes)
    } catch (e) {
      if (transport.kind === 'ws') transport.dialer.error = message(e)
      return null
    }
    this.sessions.set(id, { id, transport, peer: null, closed: false, inbox: [], delivering: false })
    return id
  }

  /**
   * A message from session `id`'s peer. A large one goes to `verify` first, unless it came
   * `verified` (its entries' hashes, if all their signatures hold; none if not, and the node
   * verifies as it stores); messages behind it wait, so that the node gets them in order.
   * Meanwhile the node stores what came before.
   */
  private receive(id: number, bytes: Uint8Array, verified?: Uint8Array) {
    const s = this.sessions.get(id)
    if (!s) return
    // Checked where the socket is held already (worker.ts): marked now, stored in its turn.
    if (verified?.byteLength) this.node.markVerified?.(verified)
    const item = { bytes, ready: verified !== undefined || !this.verify || bytes.byteLength < VERIFY_FROM }
    s.inbox.push(item)
    if (!item.ready) {
      this.verify!(bytes).then(
        (hashes) => {
          if (hashes.byteLength) this.node.markVerified?.(hashes)
        },
        () => {}, // the node verifies it itself
      ).finally(() => {
        item.ready = true
        this.deliver(s)
      })
    }
    this.deliver(s)
  }

  /**
   * Hands the session's ready messages to the node, in order. After a large one (a batch
   * that took a while to store), when more are ready, it sends what the node says (the
   * credit the peer waits for) and lets the worker's queued events run first: a batch that
   * came meanwhile goes to `verify` then, not once every ready batch is stored. Stored back
   * to back, three ready batches of 2048 kept the second worker idle and the peer's next
   * batch unsent for their 300 ms (`npm run measure`).
   */
  private deliver(s: Session) {
    if (s.delivering) return
    let any = false
    while (s.inbox.length && s.inbox[0].ready) {
      const { bytes } = s.inbox.shift()!
      if (s.closed || this.sessions.get(s.id) !== s) continue
      this.node.syncReceive(s.id, bytes)
      any = true
      if (bytes.byteLength >= VERIFY_FROM && s.inbox[0]?.ready) {
        s.delivering = true
        setTimeout(() => {
          s.delivering = false
          this.deliver(s)
        })
        break
      }
    }
    if (any) this.pumpAll()
  }

  /**
   * Ends a session. `local`: this side ends it (the node's Close message is sent first);
   * `remote`: the connection is gone already; `ended`: the node ended it (its Close went out).
   * Then the connection is closed and the node forgets the session.
   */
  private closeSession(id: number, reason: string, how: 'local' | 'remote' | 'ended') {
    const s = this.sessions.get(id)
    if (!s || s.closed) return
    s.closed = true
    if (how !== 'ended') {
      try {
        this.node.syncClose(id, reason)
      } catch {
        // the node already forgot it
      }
    }
    if (how === 'local') {
      // Flush what the node says last (its Close), while the connection is still up.
      try {
        for (const ev of this.node.syncPoll(id) ?? []) if (ev.type === 'send') this.transmit(s, ev.bytes)
      } catch {
        // nothing more to say
      }
    }
    this.sessions.delete(id)
    try {
      this.node.syncRemove?.(id)
    } catch {
      // gone already
    }
    if (s.transport.kind === 'ws') {
      const d = s.transport.dialer
      if (d.session === id) d.session = null
      if (how !== 'remote' && d.socket) {
        const ws = d.socket
        d.socket = null
        ws.close(1000, reason.slice(0, 120))
        this.retry(d)
      }
    } else {
      this.rtcSessions.delete(s.transport.conn)
      if (how !== 'remote') this.post({ t: 'rtc-close', conn: s.transport.conn, reason })
    }
  }

  private transmit(s: Session, data: unknown) {
    const bytes = toBytes(data)
    if (!bytes) return
    if (s.transport.kind === 'ws') {
      const ws = s.transport.dialer.socket
      if (ws && ws.readyState === 1) ws.send(bytes)
    } else {
      const copy = bytes.slice().buffer
      this.post({ t: 'rtc-send', conn: s.transport.conn, bytes: copy }, [copy])
    }
  }

  /** Drains every session's events, then reports changes and status. */
  private pumpAll() {
    // Events of one session (a stored batch) can make others send (live entries): loop
    // until nothing more comes, with a bound in case a session keeps producing.
    for (let round = 0; round < 8; round++) {
      let any = false
      for (const id of [...this.sessions.keys()]) if (this.pump(id)) any = true
      if (!any) break
    }
    this.flushChanges()
    this.postStatus(false)
  }

  private pump(id: number): boolean {
    const s = this.sessions.get(id)
    if (!s) return false
    let events: SyncEvent[]
    try {
      events = this.node.syncPoll(id) ?? []
    } catch (e) {
      this.closeSession(id, message(e), 'ended')
      return true
    }
    for (const ev of events) {
      if (s.closed) break
      this.act(s, ev)
    }
    return events.length > 0
  }

  private act(s: Session, ev: SyncEvent) {
    switch (ev.type) {
      case 'send':
        this.transmit(s, ev.bytes)
        return
      case 'ready':
        s.peer = ev.peer
        if (s.transport.kind === 'ws') {
          s.transport.dialer.readySince = this.clock.now()
          s.transport.dialer.error = null
        }
        this.postStatus(true)
        return
      case 'introduce': {
        // Already connected to it: nothing to do.
        if (ev.peer === this.node.publicKey() || this.connectedTo(ev.peer)) return
        this.post({ t: 'introduce', via: s.id, peer: ev.peer })
        return
      }
      case 'signal':
        this.post({ t: 'signal', via: s.id, from: ev.from, data: ev.data })
        return
      case 'closed':
        if (s.transport.kind === 'ws') s.transport.dialer.error = ev.reason || null
        this.closeSession(s.id, ev.reason, 'ended')
        this.postStatus(true)
        return
    }
  }

  private connectedTo(peer: string): boolean {
    for (const s of this.sessions.values()) if (s.peer === peer) return true
    return false
  }

  /** Once a second: sessions whose peer never proved its key end; a request whose deadline
   * came is withdrawn; whatever a session may have to say goes out (a safety net). */
  private tick() {
    try {
      this.node.syncExpire?.()
    } catch {
      // nothing to expire
    }
    try {
      if (this.node.runDue?.()) this.flushChanges()
    } catch {
      // the agent reports through its writes; nothing to do here
    }
    this.pumpAll()
  }

  /** Posts what changed since the last time; answers whether anything did. */
  private flushChanges(): boolean {
    let changes: { festivals: string[]; kinds: string[] }[]
    try {
      changes = JSON.parse(this.node.takeChanges() || '[]')
    } catch {
      return false
    }
    if (!Array.isArray(changes) || !changes.length) return false
    this.post({ t: 'changes', changes })
    return true
  }

  private status(): SyncStatus {
    const parsed = JSON.parse(this.node.syncStatus()) as SyncStatus
    const peers = Array.isArray(parsed?.peers) ? parsed.peers : []
    // Remembered nodes not connected right now are peers too (with what went wrong).
    const listed = new Set(peers.map((p) => p.address))
    const waiting: Peer[] = [...this.dialers.values()]
      .filter((d) => !listed.has(d.url))
      .map((d) => ({
        address: d.url,
        key: null,
        direction: 'outgoing' as const,
        connected: false,
        festivals: [],
        behind: 0,
        live: false,
        received: 0,
        sent: 0,
        error: d.error,
      }))
    return { peers: [...peers, ...waiting] }
  }

  /** Posts the sync status when it changed, at most every `statusEveryMs` (now if `urgent`). */
  private postStatus(urgent: boolean) {
    const now = this.clock.now()
    if (!urgent && now < this.statusDue) {
      if (this.statusTimer === null) {
        this.statusTimer = this.clock.setTimeout(() => {
          this.statusTimer = null
          this.postStatus(true)
        }, this.statusDue - now)
      }
      return
    }
    this.statusDue = now + this.statusEveryMs
    let status: SyncStatus
    try {
      status = this.status()
    } catch {
      return
    }
    const text = JSON.stringify(status)
    if (text === this.lastStatus) return
    this.lastStatus = text
    this.post({ t: 'sync', status })
  }
}

class CallError extends Error {
  readonly status: number
  constructor(status: number, msg: string) {
    super(msg)
    this.status = status
  }
}

function message(e: unknown): string {
  if (e instanceof Error && e.message) return e.message
  if (typeof e === 'string' && e) return e
  return 'Something went wrong in the browser peer.'
}

/** The kind of object a write path touches, as the change stream names them. */

function toBytes(data: unknown): Uint8Array | null {
  if (data instanceof Uint8Array) return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  if (Array.isArray(data)) return Uint8Array.from(data as number[])
  return null
}
