// PandafestClient over the browser peer: a pandafest node running in this browser, in a Web
// Worker (peer/worker.ts, docs/browser.md). The API mapping is http.ts's (`ApiClient`); only
// the carrying differs: each call is a `postMessage` to the worker, which answers with the
// status and body the node's HTTP API would have answered, and changes come as messages
// instead of an event stream. The page also holds the WebRTC connections (peer/rtc.ts),
// which workers cannot.

import { t } from '../i18n'
import { RtcManager, type RtcOptions } from '../peer/rtc'
import type { FromWorker, NodeEntry, Op, PeerInfo, PeerWarning, ToWorker } from '../peer/protocol'
import { ApiClient, type ApiAnswer } from './http'
import {
  ApiError,
  type BrowserPeer,
  type Identity,
  type NodeLink,
  type SyncStatus,
} from './types'

/** The part of a Worker the client uses (a fake in the tests). */
export interface WorkerLike {
  postMessage(msg: ToWorker, transfer?: Transferable[]): void
  addEventListener(type: 'message', f: (ev: MessageEvent<FromWorker>) => void): void
  addEventListener(type: 'error', f: (ev: Event) => void): void
}

export interface PeerClientOptions {
  /** Native nodes to connect to at start (`?node=ws://...`). */
  nodes?: string[]
  /** WebRTC between browsers: on by default where the page has RTCPeerConnection; null: off. */
  rtc?: RtcOptions | null
}

export class PeerClient extends ApiClient {
  readonly kind = 'peer' as const
  readonly browser: BrowserPeer
  /** Resolves once the node in the worker started (or failed: then every call fails). */
  readonly ready: Promise<void>
  readonly rtc: RtcManager | null = null
  private info: PeerInfo | null = null
  private failure: string | null = null
  private readonly worker: WorkerLike
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>()
  private nextId = 1

  constructor(worker: WorkerLike, opts: PeerClientOptions = {}) {
    super()
    this.worker = worker
    let started!: () => void
    this.ready = new Promise((r) => (started = r))
    worker.addEventListener('message', (ev) => {
      const msg = ev.data
      if (msg.t === 'ready') {
        this.info = { publicKey: msg.publicKey, storage: msg.storage, warning: msg.warning }
        started()
      } else if (msg.t === 'failed') {
        this.failure = msg.error
        started()
        for (const [, w] of this.pending) w.reject(new ApiError(503, msg.error))
        this.pending.clear()
      } else this.received(msg)
    })
    worker.addEventListener('error', (ev) => {
      const text = (ev as ErrorEvent).message
      this.failure = text ? t('errors.peerStoppedWhy', { detail: text }) : t('errors.peerStopped')
      started()
      for (const [, w] of this.pending) w.reject(new ApiError(503, this.failure))
      this.pending.clear()
      this.emit({ type: 'connection', connected: false })
    })
    worker.postMessage({ t: 'init', nodes: opts.nodes ?? [] })

    const RTC = opts.rtc?.RTCPeerConnection ?? globalThis.RTCPeerConnection
    if (opts.rtc !== null && RTC) {
      this.rtc = new RtcManager(
        {
          post: (m, transfer) => this.worker.postMessage(m, transfer ?? []),
          signal: async (via, to, data) => {
            await this.rpc({ op: 'signal', via, to, data })
          },
          me: () => this.info?.publicKey ?? null,
        },
        { ...opts.rtc, RTCPeerConnection: RTC },
      )
    }

    const client = this
    this.browser = {
      get storage() {
        return client.info?.storage ?? 'memory'
      },
      get warning() {
        return warningText(client.info?.warning ?? null)
      },
      importSecretKey: async (hex: string): Promise<Identity> => {
        const key = hex.trim().toLowerCase()
        if (!/^[0-9a-f]{64}$/.test(key)) throw new ApiError(400, t('errors.badSecretKey'))
        const publicKey = (await this.rpc({ op: 'importKey', hex: key })) as string
        if (this.info) this.info = { ...this.info, publicKey }
        return this.identity()
      },
      nodes: async () => toLinks(await this.rpc({ op: 'nodes' })),
      connectNode: async (address: string) => toLinks(await this.rpc({ op: 'connectNode', url: address })),
      forgetNode: async (url: string) => toLinks(await this.rpc({ op: 'forgetNode', url })),
    }
  }

  /** The public key, once started. */
  get publicKey(): string | null {
    return this.info?.publicKey ?? null
  }

  private rpc(call: Op): Promise<unknown> {
    if (this.failure !== null) return Promise.reject(new ApiError(503, this.failure))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ t: 'call', id, call })
    })
  }

  private received(msg: FromWorker) {
    switch (msg.t) {
      case 'reply': {
        const w = this.pending.get(msg.id)
        if (!w) return
        this.pending.delete(msg.id)
        if (msg.ok) w.resolve(msg.value)
        else w.reject(new ApiError(msg.status, msg.error))
        return
      }
      case 'changes':
        for (const c of msg.changes) this.emit({ type: 'change', festivals: c.festivals ?? [], kinds: c.kinds ?? [] })
        return
      case 'sync':
        this.emit({ type: 'sync', sync: msg.status })
        return
      case 'identity':
        if (this.info) this.info = { ...this.info, publicKey: msg.publicKey }
        this.rtc?.handle(msg)
        return
      default:
        this.rtc?.handle(msg)
    }
  }

  protected async send(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const answer = (await this.rpc({ op: 'request', method, path, body: body ?? null })) as {
      status: number
      body: unknown
    }
    return { status: answer.status, data: answer.body ?? null }
  }

  async exportSecretKey(): Promise<string> {
    return (await this.rpc({ op: 'exportKey' })) as string
  }

  async sync(): Promise<SyncStatus> {
    const s = (await this.rpc({ op: 'syncStatus' })) as SyncStatus
    return { peers: Array.isArray(s?.peers) ? s.peers : [] }
  }

}

function toLinks(v: unknown): NodeLink[] {
  return Array.isArray(v) ? (v as NodeEntry[]).map((n) => ({ ...n })) : []
}

/** Starts the worker and the client over it. */
export function startPeer(opts: PeerClientOptions = {}): PeerClient {
  const worker = new Worker(new URL('../peer/worker.ts', import.meta.url), { type: 'module', name: 'pandafest-peer' })
  return new PeerClient(worker as unknown as WorkerLike, opts)
}

/** The worker's warning in words, in the active language. */
function warningText(w: PeerWarning | null): string | null {
  if (!w) return null
  if (w.kind === 'notOpened') return t('peerWarning.notOpened', { detail: w.detail })
  return t(`peerWarning.${w.kind}`)
}
