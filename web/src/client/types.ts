// The ONE client interface of the web UI. Every screen talks to pandafest through a
// `PandafestClient` (given by <ClientProvider>), never through fetch. It is backed by the
// node's HTTP API (http.ts), by the browser peer in its worker (peer.ts), or by a node in this
// page's memory (local.ts: the demo and the tests); all three carry the same API calls to a
// real node.
//
// The shapes of what the API takes and answers are generated (api.gen.ts, by
// openapi-typescript in `npm run build`) from the OpenAPI document the node generates from
// its Rust types (openapi.json, kept equal to it by a test in crates/node): they are defined
// once, in Rust.

import { t } from '../i18n'
import type { components } from './api.gen'

type Schemas = components['schemas']

export type Id = string // 128 hex digits (an entry hash); a unique prefix of >= 6 also works
export type PublicKey = string // 64 hex digits
export type Rfc3339 = string // "2026-07-01T16:00:00Z"

export type Identity = Schemas['Identity']
export type Festival = Schemas['Festival']
export type Resource = Schemas['Resource']
export type ResourceKind = Resource['kind']
/** "fcfs" and "manual" ship; any other name is a custom policy. */
export type Policy = 'fcfs' | 'manual' | (string & {})
export type TimeFrame = Schemas['TimeFrame']
export type GeoPoint = Schemas['GeoPoint']
/** A request of an event for a resource ("Request" in docs/api.md). */
export type ResourceRequest = Schemas['Request']
export type RequestStatus = ResourceRequest['status']
/** An event ("Event" in docs/api.md). */
export type FestivalEvent = Schemas['Event']
export type Slot = Schemas['Slot']
export type SlotStatus = Slot['status']
export type Calendar = Schemas['Calendar']
export type CheckResult = Schemas['Check']
/** A request that moves with its event ("Move" in docs/api.md). */
export type Move = Schemas['Move']
export type EventUpdate = Schemas['EventUpdate']
/** A festival's public programme: events with a confirmed booking, sub-festivals included. */
export type Programme = Schemas['Programme']
/** A part of the programme (`GET /festivals/{id}/programme?start=&end=&limit=&after=`). */
export interface ProgrammePage {
  /** With `end`: only the events overlapping this range (RFC 3339). */
  start?: string
  end?: string
  /** At most this many events (1 to 1000); the answer's `next` is the next page's `after`. */
  limit?: number
  after?: string
}
/** What the owner should hear about ("Notices" in docs/api.md). */
export type Notices = Schemas['Notices']
export type Notice = Schemas['Notice']
/** An invite link with its peers, and whether anyone else could use it (`hint` says how). */
export type Invite = Schemas['Invite']
export type ProgrammeEvent = Schemas['ProgrammeEvent']
/** The formats other tools read: iCalendar, frab/Pentabarf XML, c3voc schedule.json. */
export type ExportFormat = 'ics' | 'xml' | 'json'
/** What a resource's change would mean for others ("ResourceChange" in docs/api.md). */
export type ResourceChange = Schemas['ResourceChange']
/** How many of a resource may be confirmed at once: a number (1: one at a time), or "unlimited". */
export type Capacity = Schemas['Capacity']
/** How many of a resource are booked in one piece of time, and how many are left (null: no limit). */
export type Load = Schemas['Load']
/** A collective of a festival: a key whose members vote on the requests for its resources. */
export type Collective = Schemas['Collective']
export type Member = Schemas['Member']
/** How a collective's members voted on a request (`Request.votes`). */
export type Votes = Schemas['Votes']
export type Peer = Schemas['PeerStatus']
export type SyncStatus = Schemas['SyncStatus']

// ---- Inputs --------------------------------------------------------------------------------

export type NewFestival = Schemas['NewFestival']
export type ResourceInput = Schemas['ResourceInput']
export type NewResource = ResourceInput & { name: string }
export type NewRequest = Schemas['NewRequest']
export type NewEvent = Schemas['NewEvent']
export type FestivalChange = Schemas['FestivalChange']
export type EventChange = Schemas['EventChange']
export type CheckInput = Schemas['CheckBody']
/** This node's key becomes a collective: its members (public keys) and the rule by which they decide. */
export type CollectiveInput = Schemas['CollectiveInput']
/** "any", "majority", "all", or a number of yes votes ("2"). */
export type CollectiveRule = 'any' | 'majority' | 'all' | `${number}`

export interface RequestFilter {
  mine?: boolean
  incoming?: boolean
  pending?: boolean
  festival?: Id
}

export type JoinResult =
  | { status: 'joined'; festival: Festival }
  /** 202: the node knows the festival's id and is fetching it from peers. */
  | { status: 'syncing'; message: string }

export interface CalendarLink {
  url: string
  /** True if a calendar app can subscribe to the URL (it stays up to date); else it is a one-off download. */
  subscribable: boolean
}

export type CalendarTarget = { festival: Id } | { resource: Id }

/** What changed: the client's live stream. */
export type Change =
  | { type: 'change'; festivals: Id[]; kinds: string[] }
  | { type: 'sync'; sync: SyncStatus }
  /** The live stream (re)connected or dropped. */
  | { type: 'connection'; connected: boolean }

export type ChangeListener = (change: Change) => void

/** A native pandafest node a browser peer syncs with (over a WebSocket). */
export interface NodeLink {
  /** ws://host:port/sync */
  url: string
  /** `node`: added by hand (or `?node=` in the address); `join`: a peer of a festival joined here. */
  source: 'node' | 'join'
  connected: boolean
  /** The last problem with it, in words. */
  error: string | null
}

/** What only a peer running in this browser has (client/peer.ts). */
export interface BrowserPeer {
  /** `opfs`: the data stays in this browser across reloads; `memory`: it goes with the tab. */
  readonly storage: 'opfs' | 'memory'
  /** Why the data is not kept, in words (null when it is). */
  readonly warning: string | null
  /** Become the user of this secret key: only while this browser has written nothing. */
  importSecretKey(hex: string): Promise<Identity>
  /** The native nodes this browser connects to (remembered across reloads). */
  nodes(): Promise<NodeLink[]>
  connectNode(address: string): Promise<NodeLink[]>
  forgetNode(url: string): Promise<NodeLink[]>
}

// ---- The interface -------------------------------------------------------------------------

export interface PandafestClient {
  /** Which implementation this is: the node's HTTP API, a node in this page's memory (the
   * demo, the tests), or the browser peer in its worker. */
  readonly kind: 'http' | 'local' | 'peer'
  /** Set when pandafest runs in this browser: its storage, key import and nodes. */
  readonly browser?: BrowserPeer

  // identity
  identity(): Promise<Identity>
  setName(name: string): Promise<Identity>
  /** The secret key (64 hex). Whoever has it can act as this user. */
  exportSecretKey(): Promise<string>

  // festivals
  festivals(): Promise<Festival[]>
  festival(id: Id): Promise<Festival>
  createFestival(input: NewFestival): Promise<Festival>
  /** Change a festival (its creator only); absent fields stay. */
  updateFestival(id: Id, change: FestivalChange): Promise<Festival>
  invite(festival: Id): Promise<string>
  /** The invite link with its peers, and whether others could reach them. */
  inviteInfo(festival: Id): Promise<Invite>
  join(link: string): Promise<JoinResult>

  // resources (a festival's list includes its ancestors' resources)
  resources(festival: Id): Promise<Resource[]>
  resource(id: Id): Promise<Resource>
  createResource(festival: Id, input: NewResource): Promise<Resource>
  updateResource(id: Id, input: ResourceInput): Promise<Resource>
  /** What `updateResource` with `input` would mean for others; signs nothing. */
  previewResource(id: Id, input: ResourceInput): Promise<ResourceChange>
  retireResource(id: Id): Promise<Resource>
  /** Free, confirmed and pending slots of a resource within [start, end). */
  calendar(resource: Id, start: Rfc3339, end: Rfc3339): Promise<Calendar>

  // events and requests
  events(festival: Id): Promise<FestivalEvent[]>
  event(id: Id): Promise<FestivalEvent>
  createEvent(festival: Id, input: NewEvent): Promise<FestivalEvent>
  /** Change an event (its organiser only): requests that no longer fit move with it. With
   * `preview`, nothing is signed and the answer says what would move for whom. */
  updateEvent(id: Id, change: EventChange): Promise<EventUpdate>
  cancelEvent(id: Id): Promise<FestivalEvent>
  addRequest(event: Id, input: NewRequest): Promise<ResourceRequest>
  requests(filter?: RequestFilter): Promise<ResourceRequest[]>
  request(id: Id): Promise<ResourceRequest>
  confirm(request: Id): Promise<ResourceRequest>
  deny(request: Id, reason?: string): Promise<ResourceRequest>
  release(request: Id): Promise<ResourceRequest>
  withdraw(request: Id): Promise<ResourceRequest>
  /** Would a request for this resource and frame be confirmable now? */
  check(input: CheckInput): Promise<CheckResult>

  // collectives
  /** The collectives of a festival: keys whose members vote on the requests for their resources. */
  collectives(festival: Id): Promise<Collective[]>
  /** Make this node's key a collective in the festival (or change its members and rule). */
  setCollective(festival: Id, input: CollectiveInput): Promise<Collective>
  /** A member's vote on a request for a resource of their collective (409 for anyone else). */
  vote(request: Id, yes: boolean, reason?: string): Promise<ResourceRequest>

  // schedules
  /** Every confirmed and pending slot of the events of the festival and its sub-festivals. */
  schedule(festival: Id): Promise<Slot[]>
  /** An iCal (RFC 5545) link for a festival's or a resource's schedule. */
  calendarLink(target: CalendarTarget): Promise<CalendarLink>

  /** The public programme (only confirmed bookings; sub-festivals held here included); with
   * `page`, the events overlapping its range and at most its `limit` of them after `after`
   * (the previous page's `next`). */
  programme(festival: Id, page?: ProgrammePage): Promise<Programme>
  /** Notices in what arrived after `after` (none, and where to start, without it). */
  notices(after?: number): Promise<Notices>
  /** The programme page's address for visitors (`subscribable`: others can open it). */
  programmeLink(festival: Id): Promise<CalendarLink>
  /** The programme as a file other tools read. */
  exportSchedule(festival: Id, format: ExportFormat): Promise<string>

  // sync
  sync(): Promise<SyncStatus>

  /** Listen to changes; returns the function that stops listening. */
  subscribe(listener: ChangeListener): () => void
}

/** An error the API answered ({"error": "..."}), with its HTTP status (0: the node could not be reached). */
export class ApiError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.name = 'ApiError'
    this.status = status
  }
}

/** A sentence for a person, from anything thrown. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message
  if (e instanceof Error && e.message) return e.message
  return t('common.somethingWrong')
}
