// Fakes for the browser peer's unit tests: a scripted WasmNode (docs/browser.md's API), a
// WebSocket, a manual clock, an in-memory node list, and RTCPeerConnection.

import type { Clock, NodeStore, SocketLike, StoredNode } from '../peer/engine'
import type { SyncEvent, WasmNodeApi } from '../peer/wasm'

type Handler = (method: string, path: string, body: unknown) => { status: number; body: unknown }

/** A WasmNode whose sessions emit what the test queues (`queue(id, ...events)`). */
export class FakeWasmNode implements WasmNodeApi {
  key = 'a'.repeat(64)
  secret = '5'.repeat(64)
  wrote = false
  calls: string[] = []
  opened: { id: number; label: string; initiator: boolean; maxMessageBytes?: number }[] = []
  received: { id: number; bytes: number[] }[] = []
  /** What `markVerified` was given, and when: the number of messages received before. */
  verified: { hashes: number[]; after: number }[] = []
  signals: { id: number; to: string; data: string }[] = []
  closed: { id: number; reason: string }[] = []
  removed: number[] = []
  changes: { festivals: string[]; kinds: string[] }[] = []
  events = new Map<number, SyncEvent[]>()
  status: { peers: unknown[] } = { peers: [] }
  handler: Handler = (method, path) => ({ status: 404, body: { error: `no ${method} ${path} here` } })
  private next = 0

  request(method: string, path: string, body: string | null): string {
    this.calls.push(`${method} ${path}`)
    const answer = this.handler(method, path, body === null ? null : JSON.parse(body))
    if (method !== 'GET' && answer.status < 300) this.wrote = true
    return JSON.stringify(answer)
  }
  takeChanges(): string {
    const c = this.changes
    this.changes = []
    return JSON.stringify(c)
  }
  exportKey(): string {
    return this.secret
  }
  importKey(hex: string): void {
    if (this.wrote) throw new Error('this browser has written already; a key can only be imported before')
    this.secret = hex
    this.key = `b${hex.slice(1)}`
  }
  markVerified(hashes: Uint8Array): void {
    this.verified.push({ hashes: [...hashes], after: this.received.length })
  }
  syncOpen(label: string, initiator: boolean, maxMessageBytes?: number): number {
    this.next += 1
    this.opened.push({ id: this.next, label, initiator, maxMessageBytes })
    // Like the real one: the session says Hello at once.
    this.queue(this.next, { type: 'send', bytes: new Uint8Array([0x82, 1, this.next]) })
    return this.next
  }
  syncReceive(id: number, bytes: Uint8Array): void {
    this.received.push({ id, bytes: [...bytes] })
  }
  syncPoll(id: number): SyncEvent[] {
    const e = this.events.get(id) ?? []
    this.events.delete(id)
    return e
  }
  syncSignal(id: number, to: string, data: string): void {
    this.signals.push({ id, to, data })
  }
  syncClose(id: number, reason: string): void {
    this.closed.push({ id, reason })
    this.queue(id, { type: 'send', bytes: new Uint8Array([0x83, 15]) })
  }
  syncRemove(id: number): void {
    this.removed.push(id)
  }
  syncStatus(): string {
    return JSON.stringify(this.status)
  }
  publicKey(): string {
    return this.key
  }

  queue(id: number, ...events: SyncEvent[]) {
    this.events.set(id, [...(this.events.get(id) ?? []), ...events])
  }
}

export class FakeSocket implements SocketLike {
  static all: FakeSocket[] = []
  binaryType = 'blob'
  readyState = 0
  onopen: ((ev: unknown) => void) | null = null
  onmessage: ((ev: { data: unknown; verified?: Uint8Array }) => void) | null = null
  onclose: ((ev: { code?: number; reason?: string }) => void) | null = null
  onerror: ((ev: unknown) => void) | null = null
  sent: number[][] = []
  closedWith: { code?: number; reason?: string } | null = null
  readonly url: string
  constructor(url: string) {
    this.url = url
    FakeSocket.all.push(this)
  }
  send(data: Uint8Array | ArrayBuffer) {
    this.sent.push([...(data instanceof ArrayBuffer ? new Uint8Array(data) : data)])
  }
  close(code?: number, reason?: string) {
    this.closedWith = { code, reason }
    this.readyState = 3
  }
  // what the network does
  open() {
    this.readyState = 1
    this.onopen?.({})
  }
  /** `verified`: as a socket held by the second worker hands a large message on (worker.ts). */
  message(bytes: number[], verified?: number[]) {
    this.onmessage?.({ data: new Uint8Array(bytes).buffer, verified: verified && new Uint8Array(verified) })
  }
  drop(reason = '') {
    this.readyState = 3
    this.onerror?.({})
    this.onclose?.({ code: 1006, reason })
  }
}

/** Timers that run when the test advances the clock. */
export class ManualClock implements Clock {
  t = 1_000_000
  private timers: { at: number; f: () => void; every: number | null; id: number }[] = []
  private nextId = 1
  now() {
    return this.t
  }
  setTimeout(f: () => void, ms: number) {
    const id = this.nextId++
    this.timers.push({ at: this.t + ms, f, every: null, id })
    return id
  }
  clearTimeout(h: unknown) {
    this.timers = this.timers.filter((x) => x.id !== h)
  }
  setInterval(f: () => void, ms: number) {
    const id = this.nextId++
    this.timers.push({ at: this.t + ms, f, every: ms, id })
    return id
  }
  /** Pending one-off timers, by delay from now. */
  pending(): number[] {
    return this.timers.filter((x) => x.every === null).map((x) => x.at - this.t)
  }
  advance(ms: number) {
    const end = this.t + ms
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0]
      if (!due) break
      this.t = due.at
      if (due.every) due.at += due.every
      else this.timers = this.timers.filter((x) => x !== due)
      due.f()
    }
    this.t = end
  }
}

export class MemoryNodeStore implements NodeStore {
  saved: StoredNode[][] = []
  nodes: StoredNode[]
  constructor(nodes: StoredNode[] = []) {
    this.nodes = nodes
  }
  async load() {
    return this.nodes.map((n) => ({ ...n }))
  }
  async save(nodes: StoredNode[]) {
    this.nodes = nodes.map((n) => ({ ...n }))
    this.saved.push(this.nodes)
  }
}

// ---- WebRTC ------------------------------------------------------------------------------

export class FakeChannel extends EventTarget {
  readyState: RTCDataChannelState = 'connecting'
  binaryType = 'blob'
  onopen: ((ev: Event) => void) | null = null
  onmessage: ((ev: MessageEvent) => void) | null = null
  onclose: ((ev: Event) => void) | null = null
  onerror: ((ev: Event) => void) | null = null
  sent: unknown[] = []
  closed = false
  readonly label: string
  readonly init?: RTCDataChannelInit
  constructor(label: string, init?: RTCDataChannelInit) {
    super()
    this.label = label
    this.init = init
  }
  send(data: unknown) {
    if (this.readyState !== 'open') throw new Error('not open')
    this.sent.push(data)
  }
  close() {
    this.closed = true
    this.readyState = 'closed'
  }
  // what the network does
  open() {
    this.readyState = 'open'
    this.onopen?.(new Event('open'))
  }
  receive(data: unknown) {
    this.onmessage?.(new MessageEvent('message', { data }))
  }
  lose() {
    this.readyState = 'closed'
    this.onclose?.(new Event('close'))
  }
}

export class FakePeerConnection extends EventTarget {
  static all: FakePeerConnection[] = []
  localDescription: RTCSessionDescriptionInit | null = null
  remoteDescription: RTCSessionDescriptionInit | null = null
  signalingState: RTCSignalingState = 'stable'
  iceGatheringState: RTCIceGatheringState = 'new'
  connectionState: RTCPeerConnectionState = 'new'
  onconnectionstatechange: (() => void) | null = null
  ondatachannel: ((ev: { channel: FakeChannel }) => void) | null = null
  channels: FakeChannel[] = []
  closed = false
  /** Chromium 148 reports 256 KiB, and drops larger messages without an error. */
  sctp = { maxMessageSize: 262_144 }
  readonly config: RTCConfiguration
  constructor(config: RTCConfiguration) {
    super()
    this.config = config
    FakePeerConnection.all.push(this)
  }
  createDataChannel(label: string, init?: RTCDataChannelInit) {
    const c = new FakeChannel(label, init)
    this.channels.push(c)
    return c
  }
  async createOffer() {
    return { type: 'offer' as const, sdp: 'v=0 offer' }
  }
  async createAnswer() {
    return { type: 'answer' as const, sdp: 'v=0 answer' }
  }
  async setLocalDescription(d: RTCSessionDescriptionInit) {
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable'
    this.localDescription = { type: d.type, sdp: `${d.sdp} +candidates` }
    this.iceGatheringState = 'gathering'
    setTimeout(() => {
      this.iceGatheringState = 'complete'
      this.dispatchEvent(new Event('icegatheringstatechange'))
    }, 1)
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.remoteDescription = d
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable'
  }
  close() {
    this.closed = true
    this.connectionState = 'closed'
  }
  // what the network does
  fail() {
    this.connectionState = 'failed'
    this.onconnectionstatechange?.()
  }
  remoteChannel(label = 'pandafest-sync') {
    const c = new FakeChannel(label)
    this.channels.push(c)
    this.ondatachannel?.({ channel: c })
    return c
  }
}
