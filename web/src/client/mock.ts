// An in-memory PandafestClient that enforces the same rules as a node (docs/api.md and the
// allocation rules of the design): only a resource's owner confirms, denies or releases; a
// confirm must lie within the resource's availability and overlap no active confirm; fcfs
// resources decide at once; withdrawing or cancelling frees the slot.
//
// Several clients can share one `MockWorld` (`client.as(otherKey)`), like several devices that
// have synced: a confirm by one user reaches the others' subscribers. Used by the component
// tests and by the demo mode (`?demo`).

import { dayKey, formatTime, isValidTimeZone, toRfc3339 } from '../lib/time'
import {
  ApiError,
  type Calendar,
  type CalendarLink,
  type CalendarTarget,
  type Change,
  type ChangeListener,
  type CheckInput,
  type CheckResult,
  type Festival,
  type FestivalEvent,
  type GeoPoint,
  type Id,
  type Identity,
  type JoinResult,
  type NewEvent,
  type NewFestival,
  type NewRequest,
  type NewResource,
  type PandafestClient,
  type Policy,
  type PublicKey,
  type RequestFilter,
  type RequestStatus,
  type Resource,
  type ResourceInput,
  type ResourceKind,
  type ResourceRequest,
  type Slot,
  type SyncStatus,
  type TimeFrame,
} from './types'

interface FestivalRec {
  id: Id
  name: string
  description: string
  timezone: string
  parent: Id | null
  start: string | null
  end: string | null
  creator: PublicKey
}

interface ResourceRec {
  id: Id
  festival: Id
  owner: PublicKey
  name: string
  kind: ResourceKind
  description: string
  location: GeoPoint | null
  address: string
  url: string
  availability: 'always' | TimeFrame[]
  policy: Policy
  retired: boolean
}

interface EventRec {
  id: Id
  festival: Id
  organiser: PublicKey
  title: string
  description: string
  start: string
  end: string
  cancelled: boolean
}

interface RequestRec {
  id: Id
  event: Id
  resource: Id
  author: PublicKey
  start: string
  end: string
  status: RequestStatus
  reason: string | null
}

const KINDS: ResourceKind[] = ['location', 'thing', 'skill', 'other']

/** Deterministic hex ids, so demo screenshots and tests are stable. */
function makeRandom(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class MockWorld {
  readonly festivals = new Map<Id, FestivalRec>()
  readonly resources = new Map<Id, ResourceRec>()
  readonly events = new Map<Id, EventRec>()
  readonly requests = new Map<Id, RequestRec>()
  readonly names = new Map<PublicKey, string | null>()
  readonly secrets = new Map<PublicKey, string>()
  /** Festivals a (pretend) peer can hand over on `join`. */
  readonly joinable = new Map<Id, FestivalRec>()
  sync: SyncStatus = { peers: [] }
  private readonly listeners = new Set<ChangeListener>()
  private readonly random: () => number

  constructor(seed = 1) {
    this.random = makeRandom(seed)
  }

  hex(digits: number): string {
    let s = ''
    while (s.length < digits) s += Math.floor(this.random() * 16).toString(16)
    return s
  }

  newKey(name: string | null = null): PublicKey {
    const key = this.hex(64)
    this.names.set(key, name)
    this.secrets.set(key, this.hex(64))
    return key
  }

  listen(l: ChangeListener): () => void {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }

  emit(change: Change) {
    // Asynchronously, as a real stream would deliver it.
    queueMicrotask(() => {
      for (const l of [...this.listeners]) l(change)
    })
  }

  changed(festivals: Id[], kinds: string[]) {
    this.emit({ type: 'change', festivals: [...new Set(festivals)], kinds })
  }

  setSync(sync: SyncStatus) {
    this.sync = sync
    this.emit({ type: 'sync', sync })
  }
}

export interface MockClientOptions {
  /** Delay every answer by this many milliseconds (the demo uses a little, tests none). */
  latencyMs?: number
}

export class MockClient implements PandafestClient {
  readonly kind = 'mock' as const
  readonly world: MockWorld
  readonly me: PublicKey
  private readonly latencyMs: number

  constructor(world = new MockWorld(), me?: PublicKey, opts: MockClientOptions = {}) {
    this.world = world
    this.me = me ?? world.newKey(null)
    this.latencyMs = opts.latencyMs ?? 0
  }

  /** Another user on the same world, like a second device after a sync. */
  as(key: PublicKey): MockClient {
    return new MockClient(this.world, key, { latencyMs: this.latencyMs })
  }

  private async answer<T>(f: () => T): Promise<T> {
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs))
    else await Promise.resolve()
    return structuredClone(f())
  }

  // ---- lookups -----------------------------------------------------------------------------

  private find<T>(map: Map<Id, T>, id: Id, what: string): T {
    const exact = map.get(id)
    if (exact) return exact
    if (/^[0-9a-f]{6,}$/i.test(id)) {
      const hits = [...map.entries()].filter(([k]) => k.startsWith(id.toLowerCase()))
      if (hits.length === 1) return hits[0][1]
      if (hits.length > 1) throw new ApiError(400, `The id ${id} matches more than one ${what}; give more digits.`)
    }
    throw new ApiError(404, `No ${what} with the id ${id.slice(0, 8)}… is known here.`)
  }

  private nameOf(key: PublicKey): string | null {
    return this.world.names.get(key) ?? null
  }

  private who(key: PublicKey): string {
    return this.nameOf(key) ?? `someone (${key.slice(0, 8)})`
  }

  private ancestors(festival: Id): Id[] {
    const out: Id[] = []
    let f: FestivalRec | undefined = this.world.festivals.get(festival)
    while (f) {
      out.push(f.id)
      f = f.parent ? this.world.festivals.get(f.parent) : undefined
    }
    return out
  }

  private tzOfFestival(id: Id): string {
    return this.world.festivals.get(id)?.timezone ?? 'UTC'
  }

  // ---- views -------------------------------------------------------------------------------

  private festivalView(f: FestivalRec): Festival {
    return {
      ...f,
      creator_name: this.nameOf(f.creator),
      children: [...this.world.festivals.values()].filter((c) => c.parent === f.id).map((c) => c.id),
    }
  }

  private resourceView(r: ResourceRec): Resource {
    return { ...r, owner_name: this.nameOf(r.owner), mine: r.owner === this.me }
  }

  private requestView(q: RequestRec): ResourceRequest {
    const ev = this.world.events.get(q.event)!
    const res = this.world.resources.get(q.resource)!
    return {
      id: q.id,
      event: q.event,
      event_title: ev.title,
      resource: q.resource,
      resource_name: res.name,
      festival: ev.festival,
      author: q.author,
      author_name: this.nameOf(q.author),
      mine: q.author === this.me,
      incoming: res.owner === this.me,
      start: q.start,
      end: q.end,
      status: q.status,
      reason: q.reason,
      policy: res.policy,
    }
  }

  private eventView(e: EventRec): FestivalEvent {
    return {
      ...e,
      organiser_name: this.nameOf(e.organiser),
      mine: e.organiser === this.me,
      requests: [...this.world.requests.values()].filter((q) => q.event === e.id).map((q) => this.requestView(q)),
    }
  }

  private slotOf(q: RequestRec): Slot {
    const ev = this.world.events.get(q.event)!
    const res = this.world.resources.get(q.resource)!
    return {
      resource: res.id,
      resource_name: res.name,
      event: ev.id,
      event_title: ev.title,
      request: q.id,
      start: q.start,
      end: q.end,
      status: q.status === 'confirmed' ? 'confirmed' : 'pending',
    }
  }

  // ---- validation --------------------------------------------------------------------------

  private frame(start: unknown, end: unknown, what = 'time frame'): TimeFrame {
    if (typeof start !== 'string' || Number.isNaN(Date.parse(start))) {
      throw new ApiError(400, `The ${what} needs a start time.`)
    }
    if (typeof end !== 'string' || Number.isNaN(Date.parse(end))) {
      throw new ApiError(400, `The ${what} needs an end time.`)
    }
    if (Date.parse(end) <= Date.parse(start)) throw new ApiError(400, `The end of the ${what} must be after its start.`)
    return { start: toRfc3339(Date.parse(start)), end: toRfc3339(Date.parse(end)) }
  }

  private location(lat: unknown, lon: unknown): GeoPoint | null {
    const none = (v: unknown) => v === undefined || v === null
    if (none(lat) && none(lon)) return null
    if (none(lat) || none(lon)) throw new ApiError(400, 'A GPS point needs both a latitude and a longitude.')
    const la = Number(lat)
    const lo = Number(lon)
    if (!Number.isFinite(la) || la < -90 || la > 90) throw new ApiError(400, 'The latitude must be between -90 and 90.')
    if (!Number.isFinite(lo) || lo < -180 || lo > 180) throw new ApiError(400, 'The longitude must be between -180 and 180.')
    return { lat: la, lon: lo }
  }

  private availability(a: ResourceInput['availability']): 'always' | TimeFrame[] {
    if (a === undefined || a === 'always') return 'always'
    if (!Array.isArray(a)) throw new ApiError(400, 'Availability must be a list of time frames.')
    // As on the node: an empty list also means always.
    if (a.length === 0) return 'always'
    return a.map((w) => this.frame(w.start, w.end, 'availability window'))
  }

  private policy(p: unknown): Policy {
    if (p === undefined) return 'manual'
    if (typeof p !== 'string' || !p.trim()) throw new ApiError(400, 'The policy needs a name.')
    return p.trim()
  }

  /** Why a frame would not be confirmable for a resource now (null: it would). */
  private blocker(res: ResourceRec, f: TimeFrame, except?: Id): { reason: string | null; conflicts: RequestRec[] } {
    const tz = this.tzOfFestival(res.festival)
    if (res.retired) return { reason: `${res.name} has been retired by its owner.`, conflicts: [] }
    if (!withinAvailability(res.availability, f)) {
      return { reason: `outside the times ${res.name} is available`, conflicts: [] }
    }
    const conflicts = [...this.world.requests.values()].filter(
      (q) => q.resource === res.id && q.id !== except && q.status === 'confirmed' && overlap(q, f),
    )
    if (conflicts.length) {
      const c = conflicts[0]
      const title = this.world.events.get(c.event)?.title ?? 'an event'
      return {
        reason: `overlaps confirmed request ${c.id.slice(0, 8)} (${title}, ${dayKey(c.start, tz)} ${formatTime(c.start, tz)}–${formatTime(c.end, tz)})`,
        conflicts,
      }
    }
    return { reason: null, conflicts: [] }
  }

  /** The owner's policy agent: fcfs decides at once; manual and custom policies wait. */
  private applyPolicy(q: RequestRec) {
    const res = this.world.resources.get(q.resource)!
    if (res.policy !== 'fcfs' || q.status !== 'pending') return
    const { reason } = this.blocker(res, q)
    if (reason) {
      q.status = 'denied'
      q.reason = reason
    } else {
      q.status = 'confirmed'
      q.reason = null
    }
  }

  private ownResource(q: RequestRec, verb: string): ResourceRec {
    const res = this.world.resources.get(q.resource)!
    if (res.owner !== this.me) {
      throw new ApiError(409, `Only the owner of ${res.name} (${this.who(res.owner)}) can ${verb} requests for it.`)
    }
    return res
  }

  private touched(q: RequestRec, kinds = ['request']) {
    const ev = this.world.events.get(q.event)!
    const res = this.world.resources.get(q.resource)!
    this.world.changed([ev.festival, res.festival], kinds)
  }

  // ---- identity ----------------------------------------------------------------------------

  identity(): Promise<Identity> {
    return this.answer(() => ({ public_key: this.me, name: this.nameOf(this.me), data_dir: null, calendar_key: null }))
  }

  setName(name: string): Promise<Identity> {
    return this.answer(() => {
      const n = name.trim()
      if (n.length > 100) throw new ApiError(400, 'A name can have at most 100 characters.')
      this.world.names.set(this.me, n || null)
      this.world.changed([...this.world.festivals.keys()], ['profile'])
      return { public_key: this.me, name: n || null, data_dir: null, calendar_key: null }
    })
  }

  exportSecretKey(): Promise<string> {
    return this.answer(() => {
      let s = this.world.secrets.get(this.me)
      if (!s) {
        s = this.world.hex(64)
        this.world.secrets.set(this.me, s)
      }
      return s
    })
  }

  // ---- festivals ---------------------------------------------------------------------------

  festivals(): Promise<Festival[]> {
    return this.answer(() => [...this.world.festivals.values()].map((f) => this.festivalView(f)))
  }

  festival(id: Id): Promise<Festival> {
    return this.answer(() => this.festivalView(this.find(this.world.festivals, id, 'festival')))
  }

  createFestival(input: NewFestival): Promise<Festival> {
    return this.answer(() => {
      const name = (input.name ?? '').trim()
      if (!name) throw new ApiError(400, 'A festival needs a name.')
      const timezone = input.timezone ?? 'UTC'
      if (!isValidTimeZone(timezone)) throw new ApiError(400, `"${timezone}" is not a time zone this node knows.`)
      const parent = input.parent ? this.find(this.world.festivals, input.parent, 'festival').id : null
      let start: string | null = null
      let end: string | null = null
      if (input.start || input.end) {
        if (!input.start || !input.end) throw new ApiError(400, 'Give both a start and an end, or neither.')
        ;({ start, end } = this.frame(input.start, input.end, 'festival'))
      }
      const f: FestivalRec = {
        id: this.world.hex(128),
        name,
        description: input.description ?? '',
        timezone,
        parent,
        start,
        end,
        creator: this.me,
      }
      this.world.festivals.set(f.id, f)
      this.world.changed(parent ? [f.id, parent] : [f.id], ['festival'])
      return this.festivalView(f)
    })
  }

  invite(festival: Id): Promise<string> {
    return this.answer(() => {
      const f = this.find(this.world.festivals, festival, 'festival')
      return `pandafest://join?festival=${f.id}&peer=192.0.2.10:7313`
    })
  }

  join(link: string): Promise<JoinResult> {
    return this.answer((): JoinResult => {
      const text = link.trim()
      if (!text.startsWith('pandafest://join?')) {
        throw new ApiError(400, 'That is not a pandafest invite link: it should start with pandafest://join?')
      }
      const id = new URLSearchParams(text.slice('pandafest://join?'.length)).get('festival')
      if (!id || !/^[0-9a-f]{6,128}$/i.test(id)) throw new ApiError(400, 'The invite link names no festival.')
      const known = [...this.world.festivals.values()].find((f) => f.id.startsWith(id))
      if (known) return { status: 'joined', festival: this.festivalView(known) }
      const remote = [...this.world.joinable.values()].find((f) => f.id.startsWith(id))
      if (remote) {
        this.world.joinable.delete(remote.id)
        this.world.festivals.set(remote.id, remote)
        this.world.changed([remote.id], ['festival'])
        return { status: 'joined', festival: this.festivalView(remote) }
      }
      return {
        status: 'syncing',
        message: 'Joining: the festival is being fetched from peers. It shows up here when it arrives.',
      }
    })
  }

  // ---- resources ---------------------------------------------------------------------------

  resources(festival: Id): Promise<Resource[]> {
    return this.answer(() => {
      const f = this.find(this.world.festivals, festival, 'festival')
      const scope = this.ancestors(f.id)
      return [...this.world.resources.values()]
        .filter((r) => scope.includes(r.festival))
        .map((r) => this.resourceView(r))
    })
  }

  resource(id: Id): Promise<Resource> {
    return this.answer(() => this.resourceView(this.find(this.world.resources, id, 'resource')))
  }

  createResource(festival: Id, input: NewResource): Promise<Resource> {
    return this.answer(() => {
      const f = this.find(this.world.festivals, festival, 'festival')
      const name = (input.name ?? '').trim()
      if (!name) throw new ApiError(400, 'A resource needs a name.')
      const kind = input.kind ?? 'other'
      if (!KINDS.includes(kind)) throw new ApiError(400, `"${kind}" is not a kind of resource.`)
      const r: ResourceRec = {
        id: this.world.hex(128),
        festival: f.id,
        owner: this.me,
        name,
        kind,
        description: input.description ?? '',
        location: this.location(input.lat, input.lon),
        address: input.address ?? '',
        url: input.url ?? '',
        availability: this.availability(input.availability),
        policy: this.policy(input.policy),
        retired: false,
      }
      this.world.resources.set(r.id, r)
      this.world.changed([f.id], ['resource'])
      return this.resourceView(r)
    })
  }

  updateResource(id: Id, input: ResourceInput): Promise<Resource> {
    return this.answer(() => {
      const r = this.find(this.world.resources, id, 'resource')
      if (r.owner !== this.me) throw new ApiError(409, `Only the owner of ${r.name} can change it.`)
      const next = { ...r }
      if (input.name !== undefined) {
        if (!input.name.trim()) throw new ApiError(400, 'A resource needs a name.')
        next.name = input.name.trim()
      }
      if (input.kind !== undefined) {
        if (!KINDS.includes(input.kind)) throw new ApiError(400, `"${input.kind}" is not a kind of resource.`)
        next.kind = input.kind
      }
      if (input.description !== undefined) next.description = input.description
      if (input.lat !== undefined || input.lon !== undefined) next.location = this.location(input.lat, input.lon)
      if (input.address !== undefined) next.address = input.address
      if (input.url !== undefined) next.url = input.url
      if (input.availability !== undefined) next.availability = this.availability(input.availability)
      if (input.policy !== undefined) next.policy = this.policy(input.policy)
      this.world.resources.set(r.id, next)
      this.world.changed([r.festival], ['resource'])
      return this.resourceView(next)
    })
  }

  retireResource(id: Id): Promise<Resource> {
    return this.answer(() => {
      const r = this.find(this.world.resources, id, 'resource')
      if (r.owner !== this.me) throw new ApiError(409, `Only the owner of ${r.name} can retire it.`)
      r.retired = true
      this.world.changed([r.festival], ['resource'])
      return this.resourceView(r)
    })
  }

  calendar(resource: Id, start: string, end: string): Promise<Calendar> {
    return this.answer(() => {
      const r = this.find(this.world.resources, resource, 'resource')
      const range = this.frame(start, end, 'range')
      const active = [...this.world.requests.values()].filter(
        (q) =>
          q.resource === r.id &&
          (q.status === 'confirmed' || q.status === 'pending') &&
          !this.world.events.get(q.event)?.cancelled &&
          overlap(q, range),
      )
      const confirmed = active.filter((q) => q.status === 'confirmed')
      const pending = active.filter((q) => q.status === 'pending')
      const windows = r.retired
        ? []
        : r.availability === 'always'
          ? [range]
          : mergeFrames(r.availability).flatMap((w) => clip(w, range))
      const free = subtract(windows, confirmed).map((w) => ({
        resource: r.id,
        resource_name: r.name,
        event: null,
        event_title: null,
        request: null,
        start: w.start,
        end: w.end,
        status: 'free' as const,
      }))
      return {
        free,
        confirmed: confirmed.map((q) => this.slotOf(q)),
        pending: pending.map((q) => this.slotOf(q)),
      }
    })
  }

  // ---- events and requests -----------------------------------------------------------------

  events(festival: Id): Promise<FestivalEvent[]> {
    return this.answer(() => {
      const f = this.find(this.world.festivals, festival, 'festival')
      return [...this.world.events.values()]
        .filter((e) => e.festival === f.id)
        .sort((a, b) => a.start.localeCompare(b.start))
        .map((e) => this.eventView(e))
    })
  }

  event(id: Id): Promise<FestivalEvent> {
    return this.answer(() => this.eventView(this.find(this.world.events, id, 'event')))
  }

  createEvent(festival: Id, input: NewEvent): Promise<FestivalEvent> {
    return this.answer(() => {
      const f = this.find(this.world.festivals, festival, 'festival')
      const title = (input.title ?? '').trim()
      if (!title) throw new ApiError(400, 'An event needs a title.')
      const frame = this.frame(input.start, input.end, 'event')
      // Validate every request before writing anything.
      const scope = this.ancestors(f.id)
      const reqs = (input.requests ?? []).map((nr) => this.prepareRequest(scope, frame, nr))
      const e: EventRec = {
        id: this.world.hex(128),
        festival: f.id,
        organiser: this.me,
        title,
        description: input.description ?? '',
        ...frame,
        cancelled: false,
      }
      this.world.events.set(e.id, e)
      const touched = [f.id]
      for (const { res, frame: rf } of reqs) {
        const q = this.newRequest(e, res, rf)
        touched.push(res.festival)
        this.applyPolicy(q)
      }
      this.world.changed(touched, reqs.length ? ['event', 'request'] : ['event'])
      return this.eventView(e)
    })
  }

  private prepareRequest(scope: Id[], eventFrame: TimeFrame, nr: NewRequest) {
    const res = this.find(this.world.resources, nr.resource, 'resource')
    if (!scope.includes(res.festival)) {
      throw new ApiError(400, `${res.name} belongs to another festival and cannot be requested from here.`)
    }
    if (res.retired) throw new ApiError(409, `${res.name} has been retired by its owner.`)
    const frame = nr.start || nr.end ? this.frame(nr.start ?? eventFrame.start, nr.end ?? eventFrame.end, 'request') : eventFrame
    return { res, frame }
  }

  private newRequest(e: EventRec, res: ResourceRec, f: TimeFrame): RequestRec {
    const q: RequestRec = {
      id: this.world.hex(128),
      event: e.id,
      resource: res.id,
      author: this.me,
      start: f.start,
      end: f.end,
      status: 'pending',
      reason: null,
    }
    this.world.requests.set(q.id, q)
    return q
  }

  cancelEvent(id: Id): Promise<FestivalEvent> {
    return this.answer(() => {
      const e = this.find(this.world.events, id, 'event')
      if (e.organiser !== this.me) throw new ApiError(409, `Only the organiser of ${e.title} can cancel it.`)
      e.cancelled = true
      for (const q of this.world.requests.values()) {
        if (q.event === e.id && (q.status === 'pending' || q.status === 'confirmed')) {
          q.status = 'withdrawn'
          q.reason = 'the event was cancelled'
        }
      }
      this.world.changed([e.festival], ['event', 'request'])
      return this.eventView(e)
    })
  }

  addRequest(event: Id, input: NewRequest): Promise<ResourceRequest> {
    return this.answer(() => {
      const e = this.find(this.world.events, event, 'event')
      if (e.organiser !== this.me) throw new ApiError(409, `Only the organiser of ${e.title} can request resources for it.`)
      if (e.cancelled) throw new ApiError(409, `${e.title} is cancelled.`)
      const { res, frame } = this.prepareRequest(this.ancestors(e.festival), e, input)
      const q = this.newRequest(e, res, frame)
      this.applyPolicy(q)
      this.touched(q)
      return this.requestView(q)
    })
  }

  requests(filter: RequestFilter = {}): Promise<ResourceRequest[]> {
    return this.answer(() =>
      [...this.world.requests.values()]
        .map((q) => this.requestView(q))
        .filter(
          (v) =>
            (!filter.mine || v.mine) &&
            (!filter.incoming || v.incoming) &&
            (!filter.pending || v.status === 'pending') &&
            (!filter.festival || v.festival === filter.festival),
        )
        .sort((a, b) => a.start.localeCompare(b.start)),
    )
  }

  request(id: Id): Promise<ResourceRequest> {
    return this.answer(() => this.requestView(this.find(this.world.requests, id, 'request')))
  }

  confirm(id: Id): Promise<ResourceRequest> {
    return this.answer(() => {
      const q = this.find(this.world.requests, id, 'request')
      const res = this.ownResource(q, 'confirm')
      if (q.status === 'confirmed') return this.requestView(q)
      if (q.status !== 'pending' && q.status !== 'denied') {
        throw new ApiError(409, `This request was ${q.status}; it cannot be confirmed any more.`)
      }
      if (this.world.events.get(q.event)?.cancelled) throw new ApiError(409, 'The event was cancelled.')
      const { reason } = this.blocker(res, q, q.id)
      if (reason) throw new ApiError(409, `Cannot confirm: ${reason}.`)
      q.status = 'confirmed'
      q.reason = null
      this.touched(q)
      return this.requestView(q)
    })
  }

  deny(id: Id, reason?: string): Promise<ResourceRequest> {
    return this.answer(() => {
      const q = this.find(this.world.requests, id, 'request')
      this.ownResource(q, 'deny')
      if (q.status === 'confirmed') throw new ApiError(409, 'This request is confirmed: release it instead.')
      if (q.status !== 'pending' && q.status !== 'denied') {
        throw new ApiError(409, `This request was ${q.status}; it cannot be denied any more.`)
      }
      q.status = 'denied'
      q.reason = reason?.trim() || null
      this.touched(q)
      return this.requestView(q)
    })
  }

  release(id: Id): Promise<ResourceRequest> {
    return this.answer(() => {
      const q = this.find(this.world.requests, id, 'request')
      this.ownResource(q, 'release')
      if (q.status !== 'confirmed') throw new ApiError(409, 'Only a confirmed request can be released.')
      q.status = 'released'
      q.reason = null
      this.touched(q)
      return this.requestView(q)
    })
  }

  withdraw(id: Id): Promise<ResourceRequest> {
    return this.answer(() => {
      const q = this.find(this.world.requests, id, 'request')
      if (q.author !== this.me) throw new ApiError(409, 'Only the organiser of the event can withdraw its requests.')
      if (q.status !== 'pending' && q.status !== 'confirmed') {
        throw new ApiError(409, `This request was ${q.status}; there is nothing to withdraw.`)
      }
      q.status = 'withdrawn'
      q.reason = 'withdrawn by the organiser'
      this.touched(q)
      return this.requestView(q)
    })
  }

  check(input: CheckInput): Promise<CheckResult> {
    return this.answer(() => {
      const res = this.find(this.world.resources, input.resource, 'resource')
      const f = this.frame(input.start, input.end)
      const { reason, conflicts } = this.blocker(res, f)
      const holds = [...this.world.requests.values()].filter(
        (q) =>
          q.resource === res.id &&
          q.status === 'pending' &&
          !this.world.events.get(q.event)?.cancelled &&
          overlap(q, f),
      )
      return {
        free: reason === null,
        reason,
        conflicts: [...conflicts, ...holds].map((q) => this.slotOf(q)),
      }
    })
  }

  // ---- schedules ---------------------------------------------------------------------------

  schedule(festival: Id): Promise<Slot[]> {
    return this.answer(() => {
      const f = this.find(this.world.festivals, festival, 'festival')
      return [...this.world.requests.values()]
        .filter((q) => {
          const e = this.world.events.get(q.event)!
          return e.festival === f.id && !e.cancelled && (q.status === 'confirmed' || q.status === 'pending')
        })
        .map((q) => this.slotOf(q))
        .sort((a, b) => a.start.localeCompare(b.start))
    })
  }

  calendarLink(target: CalendarTarget): Promise<CalendarLink> {
    return this.answer(() => {
      const slots: Slot[] = []
      let name: string
      let tz: string
      if ('festival' in target) {
        const f = this.find(this.world.festivals, target.festival, 'festival')
        name = f.name
        tz = f.timezone
        for (const q of this.world.requests.values()) {
          const e = this.world.events.get(q.event)!
          if (e.festival === f.id && !e.cancelled && q.status === 'confirmed') slots.push(this.slotOf(q))
        }
      } else {
        const r = this.find(this.world.resources, target.resource, 'resource')
        name = r.name
        tz = this.tzOfFestival(r.festival)
        for (const q of this.world.requests.values()) {
          if (q.resource === r.id && q.status === 'confirmed') slots.push(this.slotOf(q))
        }
      }
      return { url: `data:text/calendar;charset=utf-8,${encodeURIComponent(ics(name, tz, slots))}`, subscribable: false }
    })
  }

  // ---- sync --------------------------------------------------------------------------------

  sync(): Promise<SyncStatus> {
    return this.answer(() => this.world.sync)
  }

  subscribe(listener: ChangeListener): () => void {
    return this.world.listen(listener)
  }
}

// ---- frame arithmetic ------------------------------------------------------------------------

function overlap(a: TimeFrame, b: TimeFrame): boolean {
  return Date.parse(a.start) < Date.parse(b.end) && Date.parse(b.start) < Date.parse(a.end)
}

function mergeFrames(frames: TimeFrame[]): TimeFrame[] {
  const sorted = [...frames].sort((a, b) => Date.parse(a.start) - Date.parse(b.start))
  const out: TimeFrame[] = []
  for (const f of sorted) {
    const last = out[out.length - 1]
    if (last && Date.parse(f.start) <= Date.parse(last.end)) {
      if (Date.parse(f.end) > Date.parse(last.end)) last.end = f.end
    } else {
      out.push({ ...f })
    }
  }
  return out
}

function withinAvailability(availability: 'always' | TimeFrame[], f: TimeFrame): boolean {
  if (availability === 'always') return true
  return mergeFrames(availability).some(
    (w) => Date.parse(w.start) <= Date.parse(f.start) && Date.parse(f.end) <= Date.parse(w.end),
  )
}

function clip(w: TimeFrame, range: TimeFrame): TimeFrame[] {
  const s = Math.max(Date.parse(w.start), Date.parse(range.start))
  const e = Math.min(Date.parse(w.end), Date.parse(range.end))
  return s < e ? [{ start: toRfc3339(s), end: toRfc3339(e) }] : []
}

function subtract(windows: TimeFrame[], taken: TimeFrame[]): TimeFrame[] {
  let out = windows
  for (const t of taken) {
    const ts = Date.parse(t.start)
    const te = Date.parse(t.end)
    out = out.flatMap((w) => {
      const ws = Date.parse(w.start)
      const we = Date.parse(w.end)
      if (te <= ws || we <= ts) return [w]
      const parts: TimeFrame[] = []
      if (ws < ts) parts.push({ start: w.start, end: toRfc3339(ts) })
      if (te < we) parts.push({ start: toRfc3339(te), end: w.end })
      return parts
    })
  }
  return out
}

function ics(name: string, tz: string, slots: Slot[]): string {
  const stamp = (iso: string) => iso.replace(/[-:]/g, '').replace(/\.\d+/, '')
  const esc = (s: string) => s.replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//pandafest//demo//EN', `X-WR-CALNAME:${esc(name)}`, `X-WR-TIMEZONE:${tz}`]
  for (const s of slots) {
    lines.push(
      'BEGIN:VEVENT',
      `UID:${s.request}@pandafest`,
      `DTSTAMP:${stamp(new Date().toISOString())}`,
      `DTSTART:${stamp(s.start)}`,
      `DTEND:${stamp(s.end)}`,
      `SUMMARY:${esc(s.event_title ?? '')}`,
      `LOCATION:${esc(s.resource_name)}`,
      'END:VEVENT',
    )
  }
  lines.push('END:VCALENDAR')
  return lines.join('\r\n') + '\r\n'
}

// Exposed for the demo seed.
export type { EventRec, FestivalRec, RequestRec, ResourceRec }
