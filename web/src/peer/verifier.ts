// The browser peer's second worker. It holds no node and no storage; started by worker.ts
// (`startSecondWorker`), it does two things for the first worker, which stores:
//
// - It checks the signatures of large sync batches (`verifiedHashes`, the node's own rule in
//   service::hub) and answers the entries' hashes: the first worker's node then stores them
//   without checking their signatures again (engine.ts, `verify`).
// - It holds the WebSockets to native nodes (`SocketRequest`, `SocketEvent`), and checks each
//   large message that arrives before it hands the message on, with its hashes. A socket's
//   messages are read by the thread that owns it, and Chromium assembles a large message
//   a piece at a time on that thread: on the first worker, which stores for 40–60 ms at a
//   time, the peer's next batch came in only once the worker had nothing left to store
//   (`npm run measure`, traced: 170 ms after the credit for it was sent). Here the next
//   batches arrive, and are checked, while the one before is stored.

import init, { verifiedHashes, warmUp } from 'virtual:pandafest-wasm'
import { VERIFY_FROM } from './engine'

/** Check these entries' signatures (a message over a data channel, relayed by the page). */
export interface VerifyRequest {
  t: 'verify'
  id: number
  bytes: ArrayBuffer
}

export interface VerifyReply {
  t: 'verified'
  id: number
  hashes: ArrayBuffer
}

/** From the first worker: open, send on or close socket `sock`. */
export type SocketRequest =
  | { t: 'ws-open'; sock: number; url: string }
  | { t: 'ws-send'; sock: number; bytes: ArrayBuffer }
  | { t: 'ws-close'; sock: number; code?: number; reason?: string }

/**
 * To the first worker, in the order they happened on socket `sock`. A message of
 * `VERIFY_FROM` bytes or more comes with `hashes`: those of its entries if every signature
 * holds, else none (the node then verifies as it stores).
 */
export type SocketEvent =
  | { t: 'ws-opened'; sock: number }
  | { t: 'ws-message'; sock: number; bytes: ArrayBuffer; hashes?: ArrayBuffer }
  | { t: 'ws-error'; sock: number }
  | { t: 'ws-closed'; sock: number; code: number; reason: string }

/**
 * From the first worker, once: the wasm module it compiled (a module posted to a worker shares
 * its compiled code), or none if it has not one (this worker then loads its own).
 */
export interface ModuleOffer {
  t: 'module'
  module: WebAssembly.Module | null
}

interface SecondScope {
  postMessage(msg: VerifyReply | SocketEvent, transfer: Transferable[]): void
  addEventListener(type: 'message', f: (ev: MessageEvent<VerifyRequest | SocketRequest | ModuleOffer>) => void): void
}

const scope = self as unknown as SecondScope
/** Entries checked at start (`warmUp`). */
const WARM_UP = 128
// The first batch of a sync used to be checked by code compiled for a quick start (the
// browser compiles a wasm function for speed once it has run a while): 60 ms for 256 entries.
// Checking entries signed here first, while the first worker opens its database, takes that
// out of the first sync.
let offered: (module: WebAssembly.Module | null) => void = () => {}
const offer = new Promise<WebAssembly.Module | null>((resolve) => (offered = resolve))
const loaded = offer.then((module) => (module ? init({ module_or_path: module }) : init())).then(() => {
  try {
    warmUp(WARM_UP)
  } catch {
    // Only a head start: the checks themselves run as before.
  }
})

/** The hashes of a message's entries if all their signatures hold; none if not (or unloaded). */
function hashesOf(bytes: ArrayBuffer, ok: boolean): ArrayBuffer {
  try {
    if (ok) return verifiedHashes(new Uint8Array(bytes)).slice().buffer
  } catch {
    // The first worker's node verifies it as it stores.
  }
  return new ArrayBuffer(0)
}

const sockets = new Map<number, WebSocket>()
// Every socket event goes out through this chain, so that they leave in the order they came;
// a large message waits for the module (the first ones may come while it loads) and is
// checked and posted in one step: as a chain of steps per message, the messages that came
// while the module loaded were all checked before the first was posted.
let chain: Promise<void> = Promise.resolve()

function emit(event: SocketEvent) {
  chain = chain.then(() => scope.postMessage(event, []))
}

function open(sock: number, url: string) {
  let ws: WebSocket
  try {
    ws = new WebSocket(url)
  } catch {
    emit({ t: 'ws-error', sock })
    emit({ t: 'ws-closed', sock, code: 1006, reason: '' })
    return
  }
  ws.binaryType = 'arraybuffer'
  sockets.set(sock, ws)
  ws.onopen = () => emit({ t: 'ws-opened', sock })
  ws.onerror = () => emit({ t: 'ws-error', sock })
  ws.onclose = (ev) => {
    sockets.delete(sock)
    emit({ t: 'ws-closed', sock, code: ev.code, reason: ev.reason })
  }
  ws.onmessage = (ev) => {
    if (!(ev.data instanceof ArrayBuffer)) return
    const bytes = ev.data
    if (bytes.byteLength < VERIFY_FROM) {
      chain = chain.then(() => scope.postMessage({ t: 'ws-message', sock, bytes }, [bytes]))
      return
    }
    const post = (ok: boolean) => {
      const hashes = hashesOf(bytes, ok)
      scope.postMessage({ t: 'ws-message', sock, bytes, hashes }, [bytes, hashes])
    }
    chain = chain.then(() => loaded).then(
      () => post(true),
      () => post(false),
    )
  }
}

scope.addEventListener('message', (ev) => {
  const msg = ev.data
  switch (msg.t) {
    case 'module':
      return offered(msg.module)
    case 'verify': {
      const { id, bytes } = msg
      void loaded.then(
        () => answer(id, hashesOf(bytes, true)),
        () => answer(id, hashesOf(bytes, false)),
      )
      return
    }
    case 'ws-open':
      return open(msg.sock, msg.url)
    case 'ws-send': {
      const ws = sockets.get(msg.sock)
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(msg.bytes)
      return
    }
    case 'ws-close':
      sockets.get(msg.sock)?.close(msg.code, msg.reason)
      return
  }
})

function answer(id: number, hashes: ArrayBuffer) {
  scope.postMessage({ t: 'verified', id, hashes }, [hashes])
}
