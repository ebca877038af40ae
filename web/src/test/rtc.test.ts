import { beforeEach, describe, expect, it } from 'vitest'
import type { ToWorker } from '../peer/protocol'
import { CHANNEL, RtcManager } from '../peer/rtc'
import { FakeChannel, FakePeerConnection } from './peerFakes'

const ME = '5'.repeat(64)
const BIGGER = '9'.repeat(64)
const SMALLER = '1'.repeat(64)

function setup(opts: { max?: number; connectTimeoutMs?: number } = {}) {
  const posted: { msg: ToWorker; transfer?: Transferable[] }[] = []
  const signals: { via: number; to: string; data: string }[] = []
  const rtc = new RtcManager(
    {
      post: (msg, transfer) => posted.push({ msg, transfer }),
      signal: async (via, to, data) => {
        signals.push({ via, to, data })
      },
      me: () => ME,
    },
    { RTCPeerConnection: FakePeerConnection as unknown as typeof RTCPeerConnection, ...opts },
  )
  return { rtc, posted, signals }
}

const settle = (ms = 10) => new Promise((r) => setTimeout(r, ms))

beforeEach(() => {
  FakePeerConnection.all = []
})

describe('RtcManager', () => {
  it('offers to an introduced peer with a greater key, after gathering ICE, with no STUN server', async () => {
    const { rtc, signals } = setup()
    rtc.handle({ t: 'introduce', via: 3, peer: BIGGER })
    await settle()
    expect(FakePeerConnection.all).toHaveLength(1)
    const pc = FakePeerConnection.all[0]
    expect(pc.config).toEqual({ iceServers: [] })
    expect(pc.channels.map((c) => [c.label, c.init])).toEqual([[CHANNEL, { ordered: true }]])
    expect(signals).toEqual([{ via: 3, to: BIGGER, data: JSON.stringify({ sdp: { type: 'offer', sdp: 'v=0 offer +candidates' } }) }])
    // The answer comes back through the same relay.
    rtc.handle({ t: 'signal', via: 3, from: BIGGER, data: JSON.stringify({ sdp: { type: 'answer', sdp: 'v=0 answer' } }) })
    await settle()
    expect(pc.remoteDescription).toEqual({ type: 'answer', sdp: 'v=0 answer' })
  })

  it('leaves the offer to a peer with a smaller key, and to itself', async () => {
    const { rtc, signals } = setup()
    rtc.handle({ t: 'introduce', via: 3, peer: SMALLER })
    rtc.handle({ t: 'introduce', via: 3, peer: ME })
    rtc.handle({ t: 'introduce', via: 3, peer: 'not a key' })
    await settle()
    expect(FakePeerConnection.all).toHaveLength(0)
    expect(signals).toEqual([])
  })

  it('answers an offer from a smaller key, and relays the channel to the worker', async () => {
    const { rtc, posted, signals } = setup()
    rtc.handle({ t: 'signal', via: 4, from: SMALLER, data: JSON.stringify({ sdp: { type: 'offer', sdp: 'v=0 offer' } }) })
    await settle()
    const pc = FakePeerConnection.all[0]
    expect(pc.remoteDescription).toEqual({ type: 'offer', sdp: 'v=0 offer' })
    expect(signals).toEqual([{ via: 4, to: SMALLER, data: JSON.stringify({ sdp: { type: 'answer', sdp: 'v=0 answer +candidates' } }) }])
    const channel = pc.remoteChannel()
    expect(posted).toEqual([])
    channel.open()
    // With the channel's largest message, which the session must not exceed.
    expect(posted.map((p) => p.msg)).toEqual([
      { t: 'rtc-open', conn: 1, peer: SMALLER, initiator: false, maxMessageSize: 262_144 },
    ])
    expect(channel.binaryType).toBe('arraybuffer')
    // Peer -> worker (transferred), worker -> peer.
    const bytes = new Uint8Array([1, 2, 3]).buffer
    channel.receive(bytes)
    expect(posted[1].msg).toEqual({ t: 'rtc-data', conn: 1, bytes })
    expect(posted[1].transfer).toEqual([bytes])
    channel.receive('text is not the protocol')
    expect(posted).toHaveLength(2)
    rtc.handle({ t: 'rtc-send', conn: 1, bytes: new Uint8Array([7]).buffer })
    expect(channel.sent).toHaveLength(1)
    expect(rtc.openPeers()).toEqual([SMALLER])
  })

  it('ignores offers from greater keys, answers to nothing, and signalling that is not SDP', async () => {
    const { rtc, signals } = setup()
    rtc.handle({ t: 'signal', via: 4, from: BIGGER, data: JSON.stringify({ sdp: { type: 'offer', sdp: 'v=0' } }) })
    rtc.handle({ t: 'signal', via: 4, from: SMALLER, data: JSON.stringify({ sdp: { type: 'answer', sdp: 'v=0' } }) })
    rtc.handle({ t: 'signal', via: 4, from: SMALLER, data: 'not json' })
    rtc.handle({ t: 'signal', via: 4, from: SMALLER, data: JSON.stringify({ candidate: 'x' }) })
    await settle()
    expect(FakePeerConnection.all).toHaveLength(0)
    expect(signals).toEqual([])
  })

  it('tells the worker when a channel closes, and closes when the worker ends the session', async () => {
    const { rtc, posted } = setup()
    for (const from of [SMALLER, '2'.repeat(64)]) {
      rtc.handle({ t: 'signal', via: 4, from, data: JSON.stringify({ sdp: { type: 'offer', sdp: 'v=0' } }) })
    }
    await settle()
    const [a, b] = FakePeerConnection.all
    const ca = a.remoteChannel()
    const cb = b.remoteChannel()
    ca.open()
    cb.open()
    ca.lose()
    expect(posted.at(-1)!.msg).toEqual({ t: 'rtc-closed', conn: 1, reason: 'the data channel closed' })
    expect(a.closed).toBe(true)
    const before = posted.length
    rtc.handle({ t: 'rtc-close', conn: 2, reason: 'caught up' })
    expect(b.closed).toBe(true)
    expect(cb.closed).toBe(true)
    expect(posted).toHaveLength(before) // the worker knows
    expect(rtc.size).toBe(0)
  })

  it('closes a connection that fails', async () => {
    const { rtc, posted } = setup()
    rtc.handle({ t: 'introduce', via: 3, peer: BIGGER })
    await settle()
    const pc = FakePeerConnection.all[0]
    ;(pc.channels[0] as FakeChannel).open()
    pc.fail()
    expect(pc.closed).toBe(true)
    expect(posted.at(-1)!.msg).toEqual({ t: 'rtc-closed', conn: 1, reason: 'the WebRTC connection failed' })
    // A new introduction may try again.
    rtc.handle({ t: 'introduce', via: 3, peer: BIGGER })
    await settle()
    expect(FakePeerConnection.all).toHaveLength(2)
  })

  it('gives up on a connection that does not open in time', async () => {
    const { rtc, posted } = setup({ connectTimeoutMs: 30 })
    rtc.handle({ t: 'introduce', via: 3, peer: BIGGER })
    await settle(60)
    expect(FakePeerConnection.all[0].closed).toBe(true)
    expect(rtc.size).toBe(0)
    expect(posted).toEqual([]) // it never opened: the worker never had a session
  })

  it('holds at most `max` WebRTC peers', async () => {
    const { rtc } = setup({ max: 2 })
    for (const k of ['6', '7', '8']) rtc.handle({ t: 'introduce', via: 3, peer: k.repeat(64) })
    rtc.handle({ t: 'signal', via: 4, from: SMALLER, data: JSON.stringify({ sdp: { type: 'offer', sdp: 'v=0' } }) })
    await settle()
    expect(FakePeerConnection.all).toHaveLength(2)
    expect(rtc.size).toBe(2)
  })

  it('starts again when the same peer offers again, and drops everything on a new key', async () => {
    const { rtc } = setup()
    const offer = JSON.stringify({ sdp: { type: 'offer', sdp: 'v=0' } })
    rtc.handle({ t: 'signal', via: 4, from: SMALLER, data: offer })
    await settle()
    rtc.handle({ t: 'signal', via: 4, from: SMALLER, data: offer })
    await settle()
    const [first, second] = FakePeerConnection.all
    expect(first.closed).toBe(true)
    expect(second.closed).toBe(false)
    rtc.handle({ t: 'identity', publicKey: '3'.repeat(64) })
    expect(second.closed).toBe(true)
    expect(rtc.size).toBe(0)
  })
})
