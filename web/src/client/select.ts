// Which client the page uses: `?demo` in the URL gives the in-memory demo, anything else the
// node's HTTP API on the same origin (with the token from `#token=`).

import { HttpClient, takeToken } from './http'
import type { PandafestClient } from './types'

export function isDemo(loc: Location = window.location): boolean {
  return new URLSearchParams(loc.search).has('demo')
}

export async function chooseClient(loc: Location = window.location): Promise<PandafestClient> {
  if (isDemo(loc)) {
    // The demo (and the mock behind it) is its own chunk: the real app does not load it.
    const { createDemo } = await import('./demo')
    return (await createDemo(Date.now(), { latencyMs: 60 })).client
  }
  return new HttpClient({ token: takeToken(loc) })
}
