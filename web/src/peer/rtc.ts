// WebRTC between browsers, on the page (RTCPeerConnection does not exist in workers). The
// worker reports `introduce` (a peer of a shared festival, reachable through the peer of a
// session) and `signal` (signalling relayed by such a peer); this module holds the
// connections and relays data-channel messages to and from the worker, which runs one sync
// session per channel (docs/browser.md, "WebRTC").
//
// Of two introduced peers the one with the smaller key (hex order) makes the offer, so
// offers never cross. Signalling is `{"sdp": RTCSessionDescriptionInit}` with every ICE
// candidate gathered first (no trickle), `iceServers: []` (host and mDNS candidates: a LAN or
// one machine). One reliable, ordered channel `pandafest-sync` per connection.

import type { FromWorker, ToWorker } from './protocol'

export const CHANNEL = 'pandafest-sync'

/** What the manager needs from the page's side of the worker. */
export interface RtcHost {
  post(msg: ToWorker, transfer?: Transferable[]): void
  /** Sends signalling to `to` through the peer of session `via` (`syncSignal`). */
  signal(via: number, to: string, data: string): Promise<void>
  /** Our public key (hex), or null before the node started. */
  me(): string | null
}

export interface RtcOptions {
  RTCPeerConnection?: typeof RTCPeerConnection
  /** At most this many WebRTC peers (pending ones included). */
  max?: number
  /** A connection whose channel is not open by then is given up. */
  connectTimeoutMs?: number
  /** ICE gathering is cut short after this (what was gathered is sent). */
  gatherTimeoutMs?: number
  log?: (line: string) => void
}

interface Conn {
  id: number
  peer: string
  initiator: boolean
  pc: RTCPeerConnection
  channel: RTCDataChannel | null
  /** The worker has a sync session for it. */
  open: boolean
  timer: ReturnType<typeof setTimeout> | null
}

export class RtcManager {
  private readonly host: RtcHost
  private readonly PC: typeof RTCPeerConnection
  private readonly max: number
  private readonly connectTimeoutMs: number
  private readonly gatherTimeoutMs: number
  private readonly log: (line: string) => void
  private readonly byPeer = new Map<string, Conn>()
  private readonly byId = new Map<number, Conn>()
  private next = 1

  constructor(host: RtcHost, opts: RtcOptions = {}) {
    const PC = opts.RTCPeerConnection ?? globalThis.RTCPeerConnection
    if (!PC) throw new Error('this browser has no WebRTC')
    this.host = host
    this.PC = PC
    this.max = opts.max ?? 8
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 30_000
    this.gatherTimeoutMs = opts.gatherTimeoutMs ?? 10_000
    this.log = opts.log ?? (() => {})
  }

  /** How many WebRTC peers there are (connecting or open). */
  get size(): number {
    return this.byPeer.size
  }

  /** Peers with an open channel. */
  openPeers(): string[] {
    return [...this.byPeer.values()].filter((c) => c.open).map((c) => c.peer)
  }

  /** Handles the worker's messages that concern WebRTC; answers false for the others. */
  handle(msg: FromWorker): boolean {
    switch (msg.t) {
      case 'introduce':
        void this.introduced(msg.via, msg.peer)
        return true
      case 'signal':
        void this.signalled(msg.via, msg.from, msg.data)
        return true
      case 'rtc-send': {
        const c = this.byId.get(msg.conn)
        if (c?.channel?.readyState === 'open') {
          try {
            c.channel.send(msg.bytes)
          } catch (e) {
            this.close(c, `cannot send: ${errorText(e)}`, true)
          }
        }
        return true
      }
      case 'rtc-close': {
        const c = this.byId.get(msg.conn)
        if (c) this.close(c, msg.reason, false)
        return true
      }
      case 'identity':
        this.closeAll('this peer changed its key')
        return true
      default:
        return false
    }
  }

  closeAll(reason: string) {
    for (const c of [...this.byId.values()]) this.close(c, reason, true)
  }

  private async introduced(via: number, peer: string) {
    const me = this.host.me()
    if (!me || !/^[0-9a-f]{64}$/.test(peer) || peer === me) return
    // The smaller key offers; the other waits for the offer.
    if (!(me < peer)) return
    if (this.byPeer.has(peer)) return
    if (this.byPeer.size >= this.max) {
      this.log(`not connecting to ${short(peer)}: already ${this.max} WebRTC peers`)
      return
    }
    const c = this.create(peer, true)
    try {
      const channel = c.pc.createDataChannel(CHANNEL, { ordered: true })
      this.attach(c, channel)
      await c.pc.setLocalDescription(await c.pc.createOffer())
      await this.gathered(c.pc)
      if (!this.alive(c)) return
      await this.host.signal(via, peer, JSON.stringify({ sdp: c.pc.localDescription }))
      this.log(`offer sent to ${short(peer)}`)
    } catch (e) {
      this.close(c, `the offer failed: ${errorText(e)}`, true)
    }
  }

  private async signalled(via: number, from: string, data: string) {
    let sdp: RTCSessionDescriptionInit | null = null
    try {
      const parsed = JSON.parse(data) as { sdp?: RTCSessionDescriptionInit }
      sdp = parsed.sdp ?? null
    } catch {
      // not ours
    }
    if (!sdp || (sdp.type !== 'offer' && sdp.type !== 'answer') || typeof sdp.sdp !== 'string') {
      this.log(`ignored signalling from ${short(from)}: not {"sdp": offer|answer}`)
      return
    }
    if (sdp.type === 'answer') {
      const c = this.byPeer.get(from)
      if (!c || !c.initiator || c.pc.signalingState !== 'have-local-offer') return
      try {
        await c.pc.setRemoteDescription(sdp)
        this.log(`answer from ${short(from)} set`)
      } catch (e) {
        this.close(c, `the answer failed: ${errorText(e)}`, true)
      }
      return
    }
    // An offer: only a smaller key offers to us.
    const me = this.host.me()
    if (!me || !(from < me)) return
    const old = this.byPeer.get(from)
    if (old) {
      // It starts again (it reloaded, or gave up on the last try): the old one is stale.
      this.close(old, 'the peer connects again', true)
    }
    if (this.byPeer.size >= this.max) {
      this.log(`not answering ${short(from)}: already ${this.max} WebRTC peers`)
      return
    }
    const c = this.create(from, false)
    c.pc.ondatachannel = (ev) => {
      if (ev.channel.label === CHANNEL && !c.channel) this.attach(c, ev.channel)
      else ev.channel.close()
    }
    try {
      await c.pc.setRemoteDescription(sdp)
      await c.pc.setLocalDescription(await c.pc.createAnswer())
      await this.gathered(c.pc)
      if (!this.alive(c)) return
      await this.host.signal(via, from, JSON.stringify({ sdp: c.pc.localDescription }))
      this.log(`answer sent to ${short(from)}`)
    } catch (e) {
      this.close(c, `the answer failed: ${errorText(e)}`, true)
    }
  }

  private create(peer: string, initiator: boolean): Conn {
    const pc = new this.PC({ iceServers: [] })
    const c: Conn = { id: this.next++, peer, initiator, pc, channel: null, open: false, timer: null }
    this.byPeer.set(peer, c)
    this.byId.set(c.id, c)
    c.timer = setTimeout(() => {
      if (!c.open) this.close(c, 'the WebRTC connection did not open in time', true)
    }, this.connectTimeoutMs)
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
        this.close(c, `the WebRTC connection ${pc.connectionState}`, true)
      }
    }
    return c
  }

  private attach(c: Conn, channel: RTCDataChannel) {
    c.channel = channel
    channel.binaryType = 'arraybuffer'
    channel.onopen = () => {
      if (!this.alive(c) || c.open) return
      c.open = true
      if (c.timer) clearTimeout(c.timer)
      c.timer = null
      this.log(`channel open with ${short(c.peer)}`)
      // Chromium drops a message above the SCTP transport's maximum (256 KiB) without an
      // error: the session must never send one.
      const maxMessageSize = c.pc.sctp?.maxMessageSize
      this.host.post({ t: 'rtc-open', conn: c.id, peer: c.peer, initiator: c.initiator, maxMessageSize })
    }
    channel.onmessage = (ev: MessageEvent) => {
      if (!c.open) return
      const data = ev.data
      if (data instanceof ArrayBuffer) this.host.post({ t: 'rtc-data', conn: c.id, bytes: data }, [data])
      else if (ArrayBuffer.isView(data)) {
        const copy = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice().buffer
        this.host.post({ t: 'rtc-data', conn: c.id, bytes: copy }, [copy])
      }
      // A text or Blob message is not the protocol: ignored.
    }
    channel.onclose = () => this.close(c, 'the data channel closed', true)
    channel.onerror = (ev) => {
      const err = (ev as RTCErrorEvent).error
      this.close(c, `the data channel failed${err?.message ? `: ${err.message}` : ''}`, true)
    }
  }

  private alive(c: Conn): boolean {
    return this.byId.get(c.id) === c
  }

  /** Closes a connection; tells the worker unless the worker asked for it. */
  private close(c: Conn, reason: string, tellWorker: boolean) {
    if (!this.alive(c)) return
    this.byId.delete(c.id)
    if (this.byPeer.get(c.peer) === c) this.byPeer.delete(c.peer)
    if (c.timer) clearTimeout(c.timer)
    this.log(`closed ${short(c.peer)}: ${reason}`)
    if (c.open && tellWorker) this.host.post({ t: 'rtc-closed', conn: c.id, reason })
    c.open = false
    if (c.channel) {
      c.channel.onopen = c.channel.onmessage = c.channel.onclose = c.channel.onerror = null
      try {
        c.channel.close()
      } catch {
        // already closed
      }
    }
    c.pc.onconnectionstatechange = null
    c.pc.ondatachannel = null
    try {
      c.pc.close()
    } catch {
      // already closed
    }
  }

  /** Resolves when ICE gathering is complete (or after the gathering timeout). */
  private gathered(pc: RTCPeerConnection): Promise<void> {
    if (pc.iceGatheringState === 'complete') return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        pc.removeEventListener('icegatheringstatechange', check)
        resolve()
      }
      const check = () => {
        if (pc.iceGatheringState === 'complete') done()
      }
      const timer = setTimeout(done, this.gatherTimeoutMs)
      pc.addEventListener('icegatheringstatechange', check)
    })
  }
}

function short(key: string): string {
  return key.slice(0, 8)
}

function errorText(e: unknown): string {
  return e instanceof Error && e.message ? e.message : String(e)
}
