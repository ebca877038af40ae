// Which client the page uses:
// - `?demo` in the URL: the in-memory demo;
// - `?peer`: pandafest runs in this browser (client/peer.ts), with `&node=ws://host:port/sync`
//   (repeatable) to connect to native nodes at start;
// - otherwise the node's HTTP API on the page's origin (with the token from `#token=`), if
//   the origin has one: when `GET /api/v1/identity` answers no node identity (a static host),
//   the browser peer, as with `?peer`.

import { HttpClient, takeToken, visitorKey } from './http'
import type { PandafestClient } from './types'

/** Remembers that this origin ran the browser peer, for when it is offline (no answer at all). */
export const PEER_MODE_KEY = 'pandafest.peer'

export function isDemo(loc: Location = window.location): boolean {
  return new URLSearchParams(loc.search).has('demo')
}

export function peerRequested(loc: Location = window.location): boolean {
  return new URLSearchParams(loc.search).has('peer')
}

/** The `node=` values of the address (native nodes to connect to). */
export function nodesRequested(loc: Location = window.location): string[] {
  return new URLSearchParams(loc.search).getAll('node').filter(Boolean)
}

export type Probe = 'node' | 'none' | 'unreachable'

/**
 * Is there a pandafest node on this origin? `node`: it answered an identity (or asked for its
 * token, which only a node does); `none`: something else answered (a static host's page or
 * 404); `unreachable`: nothing answered (offline).
 */
export async function probeOrigin(fetchFn: typeof fetch = fetch, token: string | null = null, timeoutMs = 4000): Promise<Probe> {
  const ctrl = typeof AbortController === 'undefined' ? null : new AbortController()
  const timer = setTimeout(() => ctrl?.abort(), timeoutMs)
  try {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (token) headers.Authorization = `Bearer ${token}`
    const res = await fetchFn('/api/v1/identity', { headers, signal: ctrl?.signal })
    let body: unknown = null
    try {
      body = JSON.parse(await res.text())
    } catch {
      return 'none'
    }
    if (!body || typeof body !== 'object') return 'none'
    if (res.ok && typeof (body as { public_key?: unknown }).public_key === 'string') return 'node'
    if (res.status === 401 && typeof (body as { error?: unknown }).error === 'string') return 'node'
    return 'none'
  } catch {
    return 'unreachable'
  } finally {
    clearTimeout(timer)
  }
}

function storage(): Storage | null {
  try {
    return window.localStorage
  } catch {
    return null
  }
}

async function peerClient(loc: Location): Promise<PandafestClient> {
  try {
    storage()?.setItem(PEER_MODE_KEY, '1')
  } catch {
    // private mode
  }
  const { startPeer } = await import('./peer')
  const client = startPeer({ nodes: nodesRequested(loc) })
  // Start once the node runs (its storage is known then); a node slow to start still gets
  // the screens up, which wait for their answers.
  await Promise.race([client.ready, new Promise((r) => setTimeout(r, 15_000))])
  return client
}

export async function chooseClient(loc: Location = window.location): Promise<PandafestClient> {
  if (isDemo(loc)) {
    // The demo is its own chunk: the real app does not load it. Its people are nodes in
    // this page's memory: the browser peer's wasm module, loaded here.
    const { default: init } = await import('virtual:pandafest-wasm')
    await init()
    const { createDemo } = await import('./demo')
    return (await createDemo(Date.now())).client
  }
  if (peerRequested(loc)) return peerClient(loc)
  const token = takeToken(loc)
  // A visitor's programme link: read what the festival publishes, nothing else.
  const key = visitorKey(loc)
  if (!token && key) return new HttpClient({ visitorKey: key })
  const probe = await probeOrigin(undefined, token)
  if (probe === 'none' || (probe === 'unreachable' && storage()?.getItem(PEER_MODE_KEY) === '1')) return peerClient(loc)
  if (probe === 'node') storage()?.removeItem(PEER_MODE_KEY)
  return new HttpClient({ token })
}
