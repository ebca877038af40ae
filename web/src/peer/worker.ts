// The browser peer's dedicated worker: loads the wasm node (docs/browser.md), opens it on
// OPFS (or in memory, with a warning, where OPFS is missing or taken), and runs a PeerEngine
// (engine.ts) that answers the page and syncs with native nodes over WebSockets. Started by
// client/peer.ts as `new Worker(new URL('../peer/worker.ts', import.meta.url), { type: 'module' })`.

import init, { WasmNode as WasmNodeExport } from 'virtual:pandafest-wasm'
import wasmUrl from 'virtual:pandafest-wasm-url'
import { PeerEngine, type SocketLike } from './engine'
import { indexedDbNodeStore } from './idb'
import type { FromWorker, PeerInfo, ToWorker } from './protocol'
import type { ModuleOffer, SocketEvent, SocketRequest, VerifyReply, VerifyRequest } from './verifier'
import type { WasmNodeApi, WasmNodeStatics } from './wasm'

interface WorkerScope {
  postMessage(msg: unknown, transfer?: Transferable[]): void
  addEventListener(type: 'message', f: (ev: MessageEvent<ToWorker>) => void): void
}

const scope = self as unknown as WorkerScope
const WasmNode = WasmNodeExport as WasmNodeStatics
const post = (msg: FromWorker, transfer?: Transferable[]) => scope.postMessage(msg, transfer ?? [])

// Messages that arrive while the node is starting wait here, in order.
const queue: ToWorker[] = []
let engine: PeerEngine | null = null
let failed: string | null = null
let initNodes: string[] | null = null

scope.addEventListener('message', (ev) => {
  const msg = ev.data
  if (msg.t === 'init') {
    initNodes = msg.nodes
    if (engine) void engine.start(msg.nodes)
    return
  }
  if (failed !== null) {
    if (msg.t === 'call') post({ t: 'reply', id: msg.id, ok: false, status: 503, error: failed })
    return
  }
  if (!engine) queue.push(msg)
  else void engine.handle(msg)
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function message(e: unknown): string {
  return e instanceof Error && e.message ? e.message : String(e)
}

/**
 * Holds the storage's Web Lock for as long as this worker lives: one tab at a time owns the
 * OPFS files. Answers false when another tab keeps it for `waitMs` (a page being reloaded
 * gives it up at once).
 */
function holdStorageLock(waitMs: number): Promise<boolean> {
  const locks = (self as unknown as { navigator?: { locks?: LockManager } }).navigator?.locks
  if (!locks?.request) return Promise.resolve(true)
  return new Promise((resolve) => {
    const ctrl = new AbortController()
    const timer = setTimeout(() => ctrl.abort(), waitMs)
    locks
      .request('pandafest-storage', { signal: ctrl.signal }, () => {
        clearTimeout(timer)
        resolve(true)
        return new Promise<never>(() => {}) // held until the worker ends
      })
      .catch(() => resolve(false))
  })
}

/** Opens the node on OPFS, or in memory with a warning where that cannot be. */
async function openNode(): Promise<{ node: WasmNodeApi } & Omit<PeerInfo, 'publicKey'>> {
  // The warnings are worded by the page (client/peer.ts), in its language.
  if (!WasmNode.opfsAvailable()) return { node: WasmNode.openInMemory(), storage: 'memory', warning: { kind: 'memory' } }
  if (!(await holdStorageLock(2500))) return { node: WasmNode.openInMemory(), storage: 'memory', warning: { kind: 'otherTab' } }
  // The files of a worker that just ended (a reload) may stay busy for a moment.
  const until = Date.now() + 3000
  let wait = 50
  for (;;) {
    try {
      return { node: await WasmNode.open('pandafest'), storage: 'opfs', warning: null }
    } catch (e) {
      if (Date.now() + wait > until) {
        return {
          node: WasmNode.openInMemory(),
          storage: 'memory',
          warning: { kind: 'notOpened', detail: message(e) },
        }
      }
      await sleep(wait)
      wait = Math.min(800, wait * 2)
    }
  }
}

/** A verifier that stops answering is not waited for longer than this. */
const VERIFY_TIMEOUT_MS = 10_000

/** What the second worker (verifier.ts) does for this one. */
interface SecondWorker {
  /** The hashes of the entries of a large message it verified, or none. */
  verify: (bytes: Uint8Array) => Promise<Uint8Array>
  /** A WebSocket it holds, whose large messages come checked (`ev.verified`). */
  socket: (url: string) => SocketLike
  /** Hands it the wasm module compiled here (none: it loads its own). */
  offer: (module: WebAssembly.Module | null) => void
  /** Ends it: this worker did not start, and nothing will use it. */
  stop: () => void
}

/**
 * Starts the second worker (verifier.ts), which checks large batches' signatures while this
 * one stores and holds the WebSockets to native nodes. When it cannot start, there is none:
 * this worker then opens its own WebSockets and its node verifies as it stores; when it fails
 * later, its sockets close (the engine dials again, with sockets of its own) and the answers
 * are none.
 */
function startSecondWorker(): SecondWorker | undefined {
  let worker: Worker
  try {
    worker = new Worker(new URL('./verifier.ts', import.meta.url), { type: 'module' })
  } catch {
    return undefined
  }
  const pending = new Map<number, (hashes: Uint8Array) => void>()
  const sockets = new Map<number, RelayedSocket>()
  let broken = false
  let next = 0
  const none = new Uint8Array(0)
  worker.onmessage = (ev: MessageEvent<VerifyReply | SocketEvent>) => {
    const m = ev.data
    if (m.t === 'verified') {
      pending.get(m.id)?.(new Uint8Array(m.hashes))
      pending.delete(m.id)
      return
    }
    const socket = sockets.get(m.sock)
    if (!socket) return
    if (m.t === 'ws-closed') sockets.delete(m.sock)
    socket.event(m)
  }
  worker.onerror = () => {
    broken = true
    for (const answer of pending.values()) answer(none)
    pending.clear()
    for (const [sock, socket] of sockets) socket.event({ t: 'ws-closed', sock, code: 1006, reason: 'the second worker stopped' })
    sockets.clear()
  }
  const send = (msg: VerifyRequest | SocketRequest | ModuleOffer, transfer: Transferable[] = []) =>
    worker.postMessage(msg, transfer)
  let nextSocket = 0
  return {
    offer: (module) => send({ t: 'module', module }),
    stop: () => {
      broken = true
      worker.terminate()
    },
    verify: (bytes) =>
      new Promise((resolve) => {
        if (broken) return resolve(none)
        const id = ++next
        const timer = setTimeout(() => {
          pending.delete(id)
          resolve(none)
        }, VERIFY_TIMEOUT_MS)
        pending.set(id, (hashes) => {
          clearTimeout(timer)
          resolve(hashes)
        })
        const copy = bytes.slice().buffer
        send({ t: 'verify', id, bytes: copy }, [copy])
      }),
    socket: (url) => {
      // Refused as WebSocket's constructor would, here and now rather than as a closing later.
      const parsed = new URL(url)
      if (!['ws:', 'wss:'].includes(parsed.protocol) || parsed.hash) throw new SyntaxError(`cannot open a WebSocket to ${url}`)
      if (broken) return new WebSocket(url) as unknown as SocketLike
      const sock = ++nextSocket
      const socket = new RelayedSocket(sock, send)
      sockets.set(sock, socket)
      send({ t: 'ws-open', sock, url })
      return socket
    },
  }
}

/** A WebSocket held by the second worker, as the engine sees it. */
class RelayedSocket implements SocketLike {
  binaryType = 'arraybuffer'
  readyState = 0
  onopen: SocketLike['onopen'] = null
  onmessage: SocketLike['onmessage'] = null
  onclose: SocketLike['onclose'] = null
  onerror: SocketLike['onerror'] = null

  private readonly sock: number
  private readonly relay: (msg: SocketRequest, transfer?: Transferable[]) => void

  constructor(sock: number, relay: (msg: SocketRequest, transfer?: Transferable[]) => void) {
    this.sock = sock
    this.relay = relay
  }

  send(data: Uint8Array | ArrayBuffer) {
    if (this.readyState !== 1) return
    const copy = data instanceof ArrayBuffer ? data.slice(0) : data.slice().buffer
    this.relay({ t: 'ws-send', sock: this.sock, bytes: copy }, [copy])
  }

  close(code?: number, reason?: string) {
    if (this.readyState >= 2) return
    this.readyState = 2
    this.relay({ t: 'ws-close', sock: this.sock, code, reason })
  }

  event(e: SocketEvent) {
    switch (e.t) {
      case 'ws-opened':
        this.readyState = 1
        return this.onopen?.({})
      case 'ws-message':
        return this.onmessage?.({ data: e.bytes, verified: e.hashes && new Uint8Array(e.hashes) })
      case 'ws-error':
        return this.onerror?.({})
      case 'ws-closed':
        this.readyState = 3
        return this.onclose?.({ code: e.code, reason: e.reason })
    }
  }
}

async function main() {
  // The second worker boots (its script, its module, a warm-up) while this one loads and
  // opens its database: started after, it opened its first WebSocket 57 ms after the page's
  // first join, and the festival's first batch waited for it (`npm run measure`, traced;
  // docs/browser.md).
  const second = startSecondWorker()
  try {
    // Compiled once, here, and shared: a module posted to a worker shares its compiled code.
    let module: WebAssembly.Module | null = null
    try {
      if (wasmUrl) module = await WebAssembly.compileStreaming(fetch(wasmUrl))
    } catch {
      module = null
    }
    second?.offer(module)
    await init(module ? { module_or_path: module } : undefined)
    const { node, storage, warning } = await openNode()
    engine = new PeerEngine({
      node,
      post,
      socket: second?.socket ?? ((url) => new WebSocket(url) as unknown as SocketLike),
      store: indexedDbNodeStore(),
      verify: second?.verify,
    })
    post({ t: 'ready', publicKey: node.publicKey(), storage, warning })
    // Calls first (the page waits for them), then the sync transports.
    for (const msg of queue.splice(0)) void engine.handle(msg)
    await engine.start(initNodes ?? [])
  } catch (e) {
    failed = message(e)
    // Started first, it would otherwise stay, its module loaded, for a node that never opened.
    if (!engine) second?.stop()
    post({ t: 'failed', error: failed })
    for (const msg of queue.splice(0)) if (msg.t === 'call') post({ t: 'reply', id: msg.id, ok: false, status: 503, error: failed })
  }
}

void main()
