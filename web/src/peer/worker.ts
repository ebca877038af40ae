// The browser peer's dedicated worker: loads the wasm node (docs/browser.md), opens it on
// OPFS (or in memory, with a warning, where OPFS is missing or taken), and runs a PeerEngine
// (engine.ts) that answers the page and syncs with native nodes over WebSockets. Started by
// client/peer.ts as `new Worker(new URL('../peer/worker.ts', import.meta.url), { type: 'module' })`.

import init, { WasmNode as WasmNodeExport } from 'virtual:pandafest-wasm'
import { PeerEngine, type SocketLike } from './engine'
import { indexedDbNodeStore } from './idb'
import type { FromWorker, PeerInfo, ToWorker } from './protocol'
import type { VerifyReply, VerifyRequest } from './verifier'
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

/**
 * Starts the second worker (verifier.ts) that checks large batches' signatures while this
 * one stores; its answers: the hashes of the entries it verified, or none. When it cannot
 * start, fails or is late, the answer is none, and the node verifies as it stores.
 */
function startVerifier(): ((bytes: Uint8Array) => Promise<Uint8Array>) | undefined {
  let worker: Worker
  try {
    worker = new Worker(new URL('./verifier.ts', import.meta.url), { type: 'module' })
  } catch {
    return undefined
  }
  const pending = new Map<number, (hashes: Uint8Array) => void>()
  let broken = false
  let next = 0
  const none = new Uint8Array(0)
  worker.onmessage = (ev: MessageEvent<VerifyReply>) => {
    pending.get(ev.data.id)?.(new Uint8Array(ev.data.hashes))
    pending.delete(ev.data.id)
  }
  worker.onerror = () => {
    broken = true
    for (const answer of pending.values()) answer(none)
    pending.clear()
  }
  return (bytes) =>
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
      const request: VerifyRequest = { id, bytes: copy }
      worker.postMessage(request, [copy])
    })
}

async function main() {
  try {
    await init()
    const { node, storage, warning } = await openNode()
    engine = new PeerEngine({
      node,
      post,
      socket: (url) => new WebSocket(url) as unknown as SocketLike,
      store: indexedDbNodeStore(),
      verify: startVerifier(),
    })
    post({ t: 'ready', publicKey: node.publicKey(), storage, warning })
    // Calls first (the page waits for them), then the sync transports.
    for (const msg of queue.splice(0)) void engine.handle(msg)
    await engine.start(initNodes ?? [])
  } catch (e) {
    failed = message(e)
    post({ t: 'failed', error: failed })
    for (const msg of queue.splice(0)) if (msg.t === 'call') post({ t: 'reply', id: msg.id, ok: false, status: 503, error: failed })
  }
}

void main()
