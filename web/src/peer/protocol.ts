// The messages between the page (client/peer.ts, peer/rtc.ts) and the worker (peer/worker.ts,
// peer/engine.ts). Structured-clone data only; byte arrays travel as transferred ArrayBuffers.

import type { SyncStatus } from '../client/types'

/** One call of the page; the worker answers it with a `reply` of the same id. */
export type Op =
  /** The API of docs/api.md without the /api/v1 prefix (body: a JSON value, not text). */
  | { op: 'request'; method: string; path: string; body: unknown }
  | { op: 'exportKey' }
  | { op: 'importKey'; hex: string }
  | { op: 'syncStatus' }
  /** The native nodes this browser connects to (remembered in IndexedDB). */
  | { op: 'nodes' }
  | { op: 'connectNode'; url: string }
  | { op: 'forgetNode'; url: string }
  /** WebRTC signalling (`{"sdp": ...}` as text) to `to`, through the peer of session `via`. */
  | { op: 'signal'; via: number; to: string; data: string }

export type ToWorker =
  /** Sent once, first: the nodes of `?node=` to connect to (and remember). */
  | { t: 'init'; nodes: string[] }
  | { t: 'call'; id: number; call: Op }
  /** A WebRTC data channel `conn` opened to `peer`: open a sync session over it. */
  /** `maxMessageSize`: the data channel's (`RTCSctpTransport.maxMessageSize`); larger messages are lost. */
  | { t: 'rtc-open'; conn: number; peer: string; initiator: boolean; maxMessageSize?: number }
  | { t: 'rtc-data'; conn: number; bytes: ArrayBuffer }
  | { t: 'rtc-closed'; conn: number; reason: string }

export type Storage = 'opfs' | 'memory'

/** Why the data does not persist, for the page to say in its language: no OPFS, another tab
 * holds the storage, or the storage could not be opened (`detail`: the error). */
export type PeerWarning = { kind: 'memory' } | { kind: 'otherTab' } | { kind: 'notOpened'; detail: string }

/** How the browser peer started. */
export interface PeerInfo {
  publicKey: string
  storage: Storage
  /** Set when the data does not persist. */
  warning: PeerWarning | null
}

/** A remembered native node: a WebSocket URL, and why it is remembered. */
export interface NodeEntry {
  url: string
  /** `node`: added by hand (or `?node=`); `join`: a peer of a joined festival. */
  source: 'node' | 'join'
  /** Connected right now (a sync session is open over it). */
  connected: boolean
  /** The last problem with it, in words, or null. */
  error: string | null
}

export interface ApiAnswer {
  status: number
  body: unknown
}

export type Reply =
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; status: number; error: string }

export type FromWorker =
  | ({ t: 'ready' } & PeerInfo)
  /** The node could not start at all (e.g. the wasm is missing): every call fails with this. */
  | { t: 'failed'; error: string }
  | Reply
  | { t: 'changes'; changes: { festivals: string[]; kinds: string[] }[] }
  | { t: 'sync'; status: SyncStatus }
  /** `peer` shares a festival with us and is reachable through session `via`'s peer. */
  | { t: 'introduce'; via: number; peer: string }
  | { t: 'signal'; via: number; from: string; data: string }
  | { t: 'rtc-send'; conn: number; bytes: ArrayBuffer }
  /** The sync session over `conn` ended: close the data channel. */
  | { t: 'rtc-close'; conn: number; reason: string }
  /** The key changed (key import): every WebRTC connection belongs to the old key. */
  | { t: 'identity'; publicKey: string }


/**
 * What a write by this page changed when the node's own summary names nothing (a name set
 * before writing in any festival, a join): the screens refetch what it may touch.
 */
export function changedByWrite(path: string): string {
  if (path.startsWith('/identity')) return 'profile'
  if (path.startsWith('/join')) return 'festival'
  return '*'
}
