// PandafestClient over a pandafest node in this page's own thread, in memory: the real node
// (crates/wasm, the same one the browser peer runs in a worker), for the demo (`?demo`) and
// the tests of the screens. The API mapping is http.ts's (`ApiClient`); only the carrying
// differs. `LocalWorld` holds one such node per person and syncs them with each other over
// real sync sessions at once after every write, like devices that have just met: what one
// person does, the others see, by the node's rules and nothing else.

import { initSync, WasmNode as WasmNodeExport } from 'virtual:pandafest-wasm'
import { changedByWrite } from '../peer/protocol'
import type { SyncEvent, WasmNodeApi, WasmNodeStatics } from '../peer/wasm'
import { ApiClient, type ApiAnswer } from './http'
import type { SyncStatus } from './types'

const WasmNode = WasmNodeExport as WasmNodeStatics

/** Loads the wasm module from its bytes (Node.js; a page uses the module's own loader). */
export function loadWasm(bytes: BufferSource): void {
  initSync({ module: bytes })
}

export class LocalClient extends ApiClient {
  readonly kind = 'local' as const
  readonly node: WasmNodeApi
  private world: LocalWorld | null = null

  constructor(node: WasmNodeApi = WasmNode.openInMemory()) {
    super()
    this.node = node
  }

  protected async send(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const text = await this.node.request(method, path, body === undefined ? null : JSON.stringify(body))
    const answer = JSON.parse(text) as { status: number; body: unknown }
    if (method !== 'GET') {
      // A write reaches everyone in the world (and this client's own screens), as the
      // browser peer's worker tells its page.
      const told = this.world ? this.world.sync(this) : this.flush()
      if (!told) this.emit({ type: 'change', festivals: [], kinds: [changedByWrite(path)] })
    }
    return { status: answer.status, data: answer.body ?? null }
  }

  /** Tells this client's listeners what changed in its node since the last time; answers
   * whether anything did. */
  flush(): boolean {
    let changes: { festivals?: string[]; kinds?: string[] }[] = []
    try {
      changes = JSON.parse(this.node.takeChanges() || '[]')
    } catch {
      return false
    }
    for (const c of changes) this.emit({ type: 'change', festivals: c.festivals ?? [], kinds: c.kinds ?? [] })
    return changes.length > 0
  }

  async exportSecretKey(): Promise<string> {
    return this.node.exportKey()
  }

  async sync(): Promise<SyncStatus> {
    const s = JSON.parse(this.node.syncStatus()) as SyncStatus
    return { peers: Array.isArray(s?.peers) ? s.peers : [] }
  }


  /** @internal */
  joinWorld(world: LocalWorld) {
    this.world = world
  }
}

/** A sync session between two people's nodes: one connection, each side's session id. */
interface Link {
  a: LocalClient
  b: LocalClient
  ids: [number, number]
}

/**
 * Several people, each with a node of their own, synced over real sessions: every pair of
 * nodes keeps a live session, and after every write every session is pumped until nothing
 * moves, so each node folds exactly what the others wrote (nothing is shared but entries).
 */
export class LocalWorld {
  /** Each person by name. */
  readonly people = new Map<string, LocalClient>()
  private readonly clients: LocalClient[] = []
  private readonly links: Link[] = []

  /** A person with a node of their own and a display name (set in the festivals they write in). */
  async person(name: string): Promise<LocalClient> {
    const client = new LocalClient()
    this.add(client)
    await client.setName(name)
    this.people.set(name, client)
    return client
  }

  /** Puts a client's node into the world, with a live session to everyone already there. */
  add(client: LocalClient): void {
    client.joinWorld(this)
    for (const other of this.clients) {
      const ids: [number, number] = [client.node.syncOpen('local peer', true), other.node.syncOpen('local peer', false)]
      this.links.push({ a: client, b: other, ids })
    }
    this.clients.push(client)
    this.sync()
  }

  /**
   * Everyone joins `festival` by its invite link (as people given the link would): only
   * then do their nodes sync it, since a festival's id is the capability to read it.
   */
  async share(festival: string): Promise<void> {
    let link: string | null = null
    for (const client of this.clients) {
      link = await client.invite(festival).catch(() => null)
      if (link) break
    }
    if (!link) throw new Error(`no one in the world holds festival ${festival.slice(0, 8)}`)
    for (const client of this.clients) {
      const holds = await client.festival(festival).then(
        () => true,
        () => false,
      )
      if (!holds) await client.join(link)
    }
  }

  /** Pumps every session until nothing moves, then tells every client what changed;
   * answers whether `writer` was told anything. */
  sync(writer?: LocalClient): boolean {
    for (let round = 0; round < 10_000; round++) {
      let moved = false
      for (const link of this.links) {
        moved = pump(link.a.node, link.ids[0], link.b.node, link.ids[1]) || moved
        moved = pump(link.b.node, link.ids[1], link.a.node, link.ids[0]) || moved
      }
      if (!moved) break
    }
    let told = false
    for (const client of this.clients) {
      const any = client.flush()
      if (client === writer) told = any
    }
    return told
  }
}

/** Delivers what `from`'s session `fromId` has to say to `to`'s session `toId`. */
function pump(from: WasmNodeApi, fromId: number, to: WasmNodeApi, toId: number): boolean {
  let moved = false
  for (const ev of from.syncPoll(fromId) as SyncEvent[]) {
    if (ev.type === 'send') {
      to.syncReceive(toId, ev.bytes)
      moved = true
    } else if (ev.type === 'closed') {
      throw new Error(`a sync session between two local nodes ended: ${ev.reason}`)
    }
  }
  return moved
}
