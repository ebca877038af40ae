// pandafest's service worker: once the app has loaded, it opens without a network (on
// localhost or HTTPS), the browser peer included. vite.config.ts writes it to dist/sw.js with
// VERSION (a hash of the build) and PRECACHE (every file of the build) filled in.
//
// - Installing caches the whole build (index.html, JS, CSS, the .wasm) under this version;
//   activating deletes the caches of other versions.
// - Pages (navigations): the network first, so index.html is never stale while the network
//   answers; without an answer, the cached index.html of this version.
// - The build's files: the cache first (their names carry their content hash), else the network.
// - Never touched: the API (/api/), the sync socket (/sync), other origins, anything but GET.

const VERSION = '__VERSION__'
const PRECACHE = [] /* __PRECACHE__ */
const CACHE = `pandafest-${VERSION}`
const NAVIGATION_TIMEOUT_MS = 6000

const scope = () => self.registration.scope
const shellUrl = () => new URL('./', scope()).href

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE)
      await cache.addAll(PRECACHE.map((path) => new Request(new URL(path, scope()).href, { cache: 'reload' })))
      await self.skipWaiting()
    })(),
  )
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith('pandafest-') && key !== CACHE) await caches.delete(key)
      }
      await self.clients.claim()
    })(),
  )
})

/** Requests the service worker leaves alone. */
function bypass(request, url) {
  if (request.method !== 'GET') return true
  if (url.origin !== self.location.origin) return true
  if (url.pathname.startsWith('/api/') || url.pathname.includes('/api/v1/')) return true
  if (url.pathname === '/sync' || url.pathname.endsWith('/sync')) return true
  return false
}

self.addEventListener('fetch', (event) => {
  const request = event.request
  const url = new URL(request.url)
  if (bypass(request, url)) return
  if (request.mode === 'navigate') event.respondWith(page(request))
  else event.respondWith(file(request))
})

async function page(request) {
  try {
    return await withTimeout(fetch(request), NAVIGATION_TIMEOUT_MS)
  } catch (error) {
    const cache = await caches.open(CACHE)
    const cached = (await cache.match(shellUrl())) || (await cache.match(new URL('index.html', scope()).href))
    if (cached) return cached
    throw error
  }
}

async function file(request) {
  const cache = await caches.open(CACHE)
  const cached = await cache.match(request, { ignoreSearch: true })
  if (cached) return cached
  return fetch(request)
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the network did not answer in time')), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
