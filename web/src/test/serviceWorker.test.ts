// The service worker (src/sw/service-worker.js, written to dist/sw.js by vite.config.ts) run
// against fake `caches` and `fetch`: what it caches, what it serves, what it leaves alone.

import { describe, expect, it } from 'vitest'
import source from '../sw/service-worker.js?raw'

const SCOPE = 'http://127.0.0.1:7878/'

class FakeCache {
  entries = new Map<string, Response>()
  added: Request[] = []
  async addAll(requests: Request[]) {
    for (const r of requests) {
      this.added.push(r)
      this.entries.set(r.url, new Response(`cached ${new URL(r.url).pathname}`))
    }
  }
  async put(url: string, res: Response) {
    this.entries.set(url, res)
  }
  async match(req: Request | string, opts?: { ignoreSearch?: boolean }) {
    let url = typeof req === 'string' ? req : req.url
    if (opts?.ignoreSearch) url = url.split('?')[0]
    return this.entries.get(url)?.clone()
  }
}

function load({ network }: { network: (req: Request) => Promise<Response> }) {
  const handlers: Record<string, (ev: unknown) => void> = {}
  const stores = new Map<string, FakeCache>()
  const caches = {
    async open(name: string) {
      if (!stores.has(name)) stores.set(name, new FakeCache())
      return stores.get(name)!
    },
    async keys() {
      return [...stores.keys()]
    },
    async delete(name: string) {
      return stores.delete(name)
    },
  }
  const self = {
    registration: { scope: SCOPE },
    location: new URL(`${SCOPE}sw.js`),
    clients: { claim: async () => {} },
    skipWaiting: async () => {},
    addEventListener: (type: string, f: (ev: unknown) => void) => (handlers[type] = f),
  }
  const code = source.replace("'__VERSION__'", '"v1"').replace('[] /* __PRECACHE__ */', JSON.stringify(['./', 'index.html', 'assets/index-abc.js', 'assets/pandafest_wasm_bg-def.wasm']))
  new Function('self', 'caches', 'fetch', code)(self, caches, (req: Request) => network(req))

  async function lifecycle(type: 'install' | 'activate') {
    let done: Promise<unknown> = Promise.resolve()
    handlers[type]({ waitUntil: (p: Promise<unknown>) => (done = p) })
    await done
  }
  /** Dispatches a fetch: the response the worker gave, or null if it left the request alone. */
  async function request(url: string, init: { method?: string; mode?: string } = {}) {
    const answer: { p: Promise<Response> | null } = { p: null }
    const req = { url: new URL(url, SCOPE).href, method: init.method ?? 'GET', mode: init.mode ?? 'cors' } as Request
    handlers.fetch({ request: req, respondWith: (p: Promise<Response>) => (answer.p = p) })
    return answer.p ? await answer.p : null
  }
  return { stores, lifecycle, request }
}

describe('the service worker', () => {
  it('caches the whole build at install, under its version, and drops older versions at activation', async () => {
    const sw = load({ network: async () => new Response('net') })
    const old = new FakeCache()
    sw.stores.set('pandafest-v0', old)
    sw.stores.set('someone-else', new FakeCache())
    await sw.lifecycle('install')
    const cache = sw.stores.get('pandafest-v1')!
    expect(cache.added.map((r) => r.url)).toEqual([
      SCOPE,
      `${SCOPE}index.html`,
      `${SCOPE}assets/index-abc.js`,
      `${SCOPE}assets/pandafest_wasm_bg-def.wasm`,
    ])
    expect(cache.added.every((r) => r.cache === 'reload')).toBe(true)
    await sw.lifecycle('activate')
    expect([...sw.stores.keys()].sort()).toEqual(['pandafest-v1', 'someone-else'])
  })

  it('never touches the API, the sync socket, other origins or writes', async () => {
    const sw = load({ network: async () => new Response('net') })
    await sw.lifecycle('install')
    expect(await sw.request('/api/v1/festivals')).toBeNull()
    expect(await sw.request('/api/v1/stream')).toBeNull()
    expect(await sw.request('/sync')).toBeNull()
    expect(await sw.request('https://tile.openstreetmap.org/1/1/1.png')).toBeNull()
    expect(await sw.request('/index.html', { method: 'POST' })).toBeNull()
  })

  it('pages: the network first, the cached index.html only without it', async () => {
    let online = true
    const sw = load({
      network: async (req) => {
        if (!online) throw new TypeError('Failed to fetch')
        return new Response(`fresh ${new URL(req.url).search}`)
      },
    })
    await sw.lifecycle('install')
    const fresh = await sw.request('/?peer&node=ws://x/sync', { mode: 'navigate' })
    expect(await fresh!.text()).toBe('fresh ?peer&node=ws://x/sync')
    online = false
    const offline = await sw.request('/?peer', { mode: 'navigate' })
    expect(await offline!.text()).toBe('cached /')
  })

  it("the build's files: from the cache, else from the network", async () => {
    const fetched: string[] = []
    const sw = load({
      network: async (req) => {
        fetched.push(req.url)
        return new Response('net')
      },
    })
    await sw.lifecycle('install')
    expect(await (await sw.request('/assets/pandafest_wasm_bg-def.wasm'))!.text()).toBe('cached /assets/pandafest_wasm_bg-def.wasm')
    expect(await (await sw.request('/assets/other-123.js'))!.text()).toBe('net')
    expect(fetched).toEqual([`${SCOPE}assets/other-123.js`])
  })
})
