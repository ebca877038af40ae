// The list of native nodes the browser peer connects to, in IndexedDB (workers have it), so
// that a reload reconnects. One record: the whole list.

import type { NodeStore, StoredNode } from './engine'

const DB = 'pandafest-peer'
const STORE = 'settings'
const KEY = 'nodes'

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1)
    req.onupgradeneeded = () => req.result.createObjectStore(STORE)
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error ?? new Error('IndexedDB cannot be opened'))
  })
}

export function indexedDbNodeStore(): NodeStore {
  let db: Promise<IDBDatabase> | null = null
  const get = () => (db ??= openDb())
  return {
    async load() {
      const d = await get()
      return new Promise<StoredNode[]>((resolve, reject) => {
        const req = d.transaction(STORE, 'readonly').objectStore(STORE).get(KEY)
        req.onsuccess = () => resolve(Array.isArray(req.result) ? (req.result as StoredNode[]) : [])
        req.onerror = () => reject(req.error)
      })
    },
    async save(nodes) {
      const d = await get()
      return new Promise<void>((resolve, reject) => {
        const tx = d.transaction(STORE, 'readwrite')
        tx.objectStore(STORE).put(nodes, KEY)
        tx.oncomplete = () => resolve()
        tx.onerror = () => reject(tx.error)
      })
    },
  }
}
