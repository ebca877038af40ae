// PandafestClient over the node's HTTP API (docs/api.md). `ApiClient` maps the API's routes
// and JSON onto the interface, whatever carries them; `HttpClient` carries them over HTTP:
// fetch for calls, EventSource on /api/v1/stream for live changes (peer.ts carries the same
// calls to the browser peer's worker). The access token comes from the URL fragment
// (`#token=...`, as printed by `pandafest serve`), is kept in localStorage and sent as
// `Authorization: Bearer` (and as `?token=` on the stream, where headers cannot go). iCal links
// never carry the token: they carry the identity's read-only `calendar_key` instead.

import { t } from '../i18n'
import {
  ApiError,
  type Calendar,
  type CalendarLink,
  type CalendarTarget,
  type Change,
  type ChangeListener,
  type CheckInput,
  type CheckResult,
  type Collective,
  type CollectiveInput,
  type EventChange,
  type ExportFormat,
  type EventUpdate,
  type FestivalChange,
  type Festival,
  type FestivalEvent,
  type Id,
  type Identity,
  type Invite,
  type JoinResult,
  type NewEvent,
  type Notices,
  type NewFestival,
  type NewRequest,
  type NewResource,
  type PandafestClient,
  type Programme,
  type ProgrammePage,
  type RequestFilter,
  type Resource,
  type ResourceChange,
  type ResourceInput,
  type ResourceRequest,
  type Slot,
  type SyncStatus,
} from './types'

export const TOKEN_KEY = 'pandafest.token'

type EventSourceCtor = new (url: string) => EventSource

export interface HttpClientOptions {
  /** Where the node is ("" = the page's own origin, the usual case). */
  baseUrl?: string
  token?: string | null
  /** A visitor's read-only key (a programme link's `key=`): opens what festivals publish. */
  visitorKey?: string | null
  fetch?: typeof fetch
  EventSource?: EventSourceCtor | null
}

/** A visitor's read-only key from a programme link (`#/festivals/ID/programme?key=K`). */
export function visitorKey(loc: Location = window.location): string | null {
  const m = /[?&]key=([^&]+)/.exec(loc.hash)
  return m ? decodeURIComponent(m[1]) : null
}

/**
 * Takes `token=...` out of the URL fragment (e.g. `#token=abc` or `#/festivals/x&token=abc`),
 * stores it, and removes it from the address bar so it is not shared by accident.
 * Returns the token to use: the new one, or the stored one.
 */
export function takeToken(loc: Location = window.location, storage: Storage | null = safeStorage()): string | null {
  const m = /(^#|[#?&/])token=([^&]+)/.exec(loc.hash)
  if (m) {
    const token = decodeURIComponent(m[2])
    try {
      storage?.setItem(TOKEN_KEY, token)
    } catch {
      // private mode: keep it for this page only
    }
    let rest = loc.hash.replace(m[0], m[1] === '#' ? '#' : '').replace(/^#&/, '#')
    if (rest === '#' || rest === '') rest = '#/'
    try {
      history.replaceState(null, '', loc.pathname + loc.search + rest)
    } catch {
      // not fatal
    }
    return token
  }
  return storage?.getItem(TOKEN_KEY) ?? null
}

function safeStorage(): Storage | null {
  try {
    return window.localStorage
  } catch {
    return null
  }
}

const p = encodeURIComponent

/** What a festival publishes, which a visitor's read-only key opens (the node's guard). */
const PUBLISHED = /^\/festivals\/[^/?]+\/(programme|schedule\.(ics|xml|json))(\?|$)/

/** A raw answer of the API: its status and its parsed JSON body (null if none). */
export interface ApiAnswer {
  status: number
  data: unknown
}

/**
 * The API of docs/api.md mapped onto PandafestClient, over any way of carrying a request:
 * HTTP (`HttpClient`, below) or messages to the browser peer's worker (`PeerClient`,
 * peer.ts). Subclasses send requests and deliver changes; the mapping lives here only.
 */
export abstract class ApiClient implements PandafestClient {
  abstract readonly kind: PandafestClient['kind']

  /**
   * Sends one API call (`path` without the /api/v1 prefix) and answers its status and body,
   * whatever the status; throws `ApiError(0, ...)` when the node cannot be reached.
   */
  protected abstract send(method: string, path: string, body?: unknown): Promise<ApiAnswer>

  /** The listeners of this client's changes; subclasses `emit` what they learn. */
  protected readonly listeners = new Listeners()

  subscribe(listener: ChangeListener): () => void {
    return this.listeners.add(listener)
  }

  protected emit(change: Change) {
    this.listeners.emit(change)
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; data: T }> {
    const { status, data } = await this.send(method, path, body)
    if (status >= 400) {
      const said = data && typeof data === 'object' && 'error' in data ? String((data as { error: unknown }).error) : null
      throw new ApiError(status, said ?? fallbackMessage(status))
    }
    return { status, data: data as T }
  }

  protected async get<T>(path: string): Promise<T> {
    return (await this.call<T>('GET', path)).data
  }

  protected async post<T>(path: string, body?: unknown): Promise<T> {
    return (await this.call<T>('POST', path, body ?? {})).data
  }

  protected async put<T>(path: string, body: unknown): Promise<T> {
    return (await this.call<T>('PUT', path, body)).data
  }

  identity(): Promise<Identity> {
    return this.get('/identity')
  }
  setName(name: string): Promise<Identity> {
    return this.put('/identity', { name })
  }
  async exportSecretKey(): Promise<string> {
    return (await this.get<{ secret_key: string }>('/identity/secret')).secret_key
  }

  festivals(): Promise<Festival[]> {
    return this.get('/festivals')
  }
  festival(id: Id): Promise<Festival> {
    return this.get(`/festivals/${p(id)}`)
  }
  createFestival(input: NewFestival): Promise<Festival> {
    return this.post('/festivals', input)
  }
  updateFestival(id: Id, change: FestivalChange): Promise<Festival> {
    return this.put(`/festivals/${p(id)}`, change)
  }
  async invite(festival: Id): Promise<string> {
    return (await this.inviteInfo(festival)).link
  }
  inviteInfo(festival: Id): Promise<Invite> {
    return this.get(`/festivals/${p(festival)}/invite`)
  }
  async join(link: string): Promise<JoinResult> {
    const { status, data } = await this.call<Festival | { message?: string } | null>('POST', '/join', { link })
    if (status === 202 || !data || !('id' in data)) {
      const message = data && 'message' in data && data.message ? data.message : null
      return {
        status: 'syncing',
        message: message ?? t('festivals.joinSyncing'),
      }
    }
    return { status: 'joined', festival: data }
  }

  resources(festival: Id): Promise<Resource[]> {
    return this.get(`/festivals/${p(festival)}/resources`)
  }
  resource(id: Id): Promise<Resource> {
    return this.get(`/resources/${p(id)}`)
  }
  createResource(festival: Id, input: NewResource): Promise<Resource> {
    return this.post(`/festivals/${p(festival)}/resources`, input)
  }
  updateResource(id: Id, input: ResourceInput): Promise<Resource> {
    return this.put(`/resources/${p(id)}`, input)
  }
  previewResource(id: Id, input: ResourceInput): Promise<ResourceChange> {
    return this.post(`/resources/${p(id)}/preview`, input)
  }
  retireResource(id: Id): Promise<Resource> {
    return this.post(`/resources/${p(id)}/retire`)
  }
  calendar(resource: Id, start: string, end: string): Promise<Calendar> {
    return this.get(`/resources/${p(resource)}/calendar?start=${p(start)}&end=${p(end)}`)
  }

  events(festival: Id): Promise<FestivalEvent[]> {
    return this.get(`/festivals/${p(festival)}/events`)
  }
  event(id: Id): Promise<FestivalEvent> {
    return this.get(`/events/${p(id)}`)
  }
  createEvent(festival: Id, input: NewEvent): Promise<FestivalEvent> {
    return this.post(`/festivals/${p(festival)}/events`, input)
  }
  updateEvent(id: Id, change: EventChange): Promise<EventUpdate> {
    return this.put(`/events/${p(id)}`, change)
  }
  cancelEvent(id: Id): Promise<FestivalEvent> {
    return this.post(`/events/${p(id)}/cancel`)
  }
  addRequest(event: Id, input: NewRequest): Promise<ResourceRequest> {
    return this.post(`/events/${p(event)}/requests`, input)
  }
  requests(filter: RequestFilter = {}): Promise<ResourceRequest[]> {
    const q = new URLSearchParams()
    if (filter.mine) q.set('mine', '1')
    if (filter.incoming) q.set('incoming', '1')
    if (filter.pending) q.set('pending', '1')
    if (filter.festival) q.set('festival', filter.festival)
    const qs = q.toString()
    return this.get(`/requests${qs ? `?${qs}` : ''}`)
  }
  request(id: Id): Promise<ResourceRequest> {
    return this.get(`/requests/${p(id)}`)
  }
  confirm(id: Id): Promise<ResourceRequest> {
    return this.post(`/requests/${p(id)}/confirm`)
  }
  deny(id: Id, reason?: string): Promise<ResourceRequest> {
    return this.post(`/requests/${p(id)}/deny`, reason ? { reason } : {})
  }
  release(id: Id): Promise<ResourceRequest> {
    return this.post(`/requests/${p(id)}/release`)
  }
  withdraw(id: Id): Promise<ResourceRequest> {
    return this.post(`/requests/${p(id)}/withdraw`)
  }
  check(input: CheckInput): Promise<CheckResult> {
    return this.post('/check', input)
  }

  collectives(festival: Id): Promise<Collective[]> {
    return this.get(`/festivals/${p(festival)}/collectives`)
  }
  setCollective(festival: Id, input: CollectiveInput): Promise<Collective> {
    return this.put(`/festivals/${p(festival)}/collective`, input)
  }
  vote(id: Id, yes: boolean, reason?: string): Promise<ResourceRequest> {
    return this.post(`/requests/${p(id)}/vote`, reason ? { yes, reason } : { yes })
  }

  schedule(festival: Id): Promise<Slot[]> {
    return this.get(`/festivals/${p(festival)}/schedule`)
  }
  sync(): Promise<SyncStatus> {
    return this.get('/sync')
  }
  notices(after?: number): Promise<Notices> {
    return this.get(after === undefined ? '/notices' : `/notices?after=${after}`)
  }
  programme(festival: Id, page?: ProgrammePage): Promise<Programme> {
    const query = new URLSearchParams()
    for (const [k, v] of Object.entries(page ?? {})) if (v !== undefined) query.set(k, String(v))
    const q = query.size ? `?${query}` : ''
    return this.get(`/festivals/${p(festival)}/programme${q}`)
  }
  /** The programme page of this browser: it works here only (print it, or export the programme). */
  async programmeLink(festival: Id): Promise<CalendarLink> {
    const here = typeof window === 'undefined' ? '/' : window.location.href.split('#')[0]
    return { url: `${here}#/festivals/${festival}/programme`, subscribable: false }
  }
  /** A node without HTTP answers export paths with `{"text": ...}`; `HttpClient` fetches the file. */
  async exportSchedule(festival: Id, format: ExportFormat): Promise<string> {
    const body = await this.get<{ text?: string } | string>(`/festivals/${p(festival)}/schedule.${format}`)
    return typeof body === 'string' ? body : (body?.text ?? '')
  }

  /**
   * Where no server can be subscribed to (a node in this browser), the schedule is a one-off
   * download: the node answers `.ics` paths with `{"text": ...}`. `HttpClient` gives a link.
   */
  async calendarLink(target: CalendarTarget): Promise<CalendarLink> {
    const path =
      'festival' in target
        ? `/festivals/${p(target.festival)}/schedule.ics`
        : `/resources/${p(target.resource)}/schedule.ics`
    const body = await this.get<{ text?: string } | string>(path)
    const text = typeof body === 'string' ? body : (body?.text ?? '')
    if (!text.startsWith('BEGIN:VCALENDAR')) throw new ApiError(500, t('errors.noCalendar'))
    return { url: `data:text/calendar;charset=utf-8,${p(text)}`, subscribable: false }
  }
}

/** The listeners of a client's changes. */
class Listeners {
  private readonly all = new Set<ChangeListener>()

  get size(): number {
    return this.all.size
  }

  add(listener: ChangeListener): () => void {
    this.all.add(listener)
    return () => {
      this.all.delete(listener)
    }
  }

  emit(change: Change) {
    for (const l of [...this.all]) l(change)
  }
}

export class HttpClient extends ApiClient {
  readonly kind = 'http' as const
  private readonly base: string
  private readonly token: string | null
  private readonly visitorKey: string | null
  private readonly fetchFn: typeof fetch
  private readonly EventSourceCtor: EventSourceCtor | null
  private stream: EventSource | null = null

  constructor(opts: HttpClientOptions = {}) {
    super()
    this.base = (opts.baseUrl ?? '').replace(/\/$/, '')
    this.token = opts.token ?? null
    this.visitorKey = opts.token ? null : (opts.visitorKey ?? null)
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init))
    this.EventSourceCtor =
      opts.EventSource !== undefined ? opts.EventSource : typeof EventSource === 'undefined' ? null : EventSource
  }

  private url(path: string, withToken = false): string {
    const u = `${this.base}/api/v1${path}`
    // A visitor without the token reads what festivals publish with the read-only key.
    if (this.visitorKey) return `${u}${u.includes('?') ? '&' : '?'}key=${p(this.visitorKey)}`
    if (!withToken || !this.token) return u
    return `${u}${u.includes('?') ? '&' : '?'}token=${p(this.token)}`
  }

  /** The programme's address for visitors: with the read-only key, never the token. */
  override async programmeLink(festival: Id): Promise<CalendarLink> {
    const route = `#/festivals/${festival}/programme`
    const here = typeof window === 'undefined' ? '/' : `${window.location.origin}/`
    if (!this.token) return { url: `${here}${route}`, subscribable: true }
    const key = await this.calendarKey()
    if (!key) throw new ApiError(501, t('errors.noProgrammeKey'))
    return { url: `${here}${route}?key=${p(key)}`, subscribable: true }
  }

  protected async send(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    // A visitor's key opens what festivals publish and nothing else: other calls are not
    // even sent (the node would refuse them).
    if (this.visitorKey && (method !== 'GET' || !PUBLISHED.test(path))) {
      return { status: 401, data: { error: t('errors.visitorOnly') } }
    }
    const res = await this.fetchApi(method, path, body)
    const text = await res.text()
    let data: unknown = null
    if (text) {
      try {
        data = JSON.parse(text)
      } catch {
        data = null
      }
    }
    return { status: res.status, data }
  }

  /** One call to the node, with the token (or the visitor's key); the raw answer. */
  private async fetchApi(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    // The node takes changes only as JSON (no form of another site can send that).
    const write = method !== 'GET'
    if (write) headers['Content-Type'] = 'application/json'
    if (this.token) headers.Authorization = `Bearer ${this.token}`
    try {
      return await this.fetchFn(this.url(path), {
        method,
        headers,
        body: write ? JSON.stringify(body ?? {}) : undefined,
      })
    } catch {
      throw new ApiError(0, t('errors.unreachable'))
    }
  }

  /**
   * The iCal link. A calendar app keeps the link for good (and may copy it to a cloud), so it
   * never carries the token: on a node with a token it carries the identity's read-only
   * `calendar_key` as `?key=`, which opens the `.ics` feeds and nothing else.
   */
  async calendarLink(target: CalendarTarget): Promise<CalendarLink> {
    const path =
      'festival' in target
        ? `/festivals/${p(target.festival)}/schedule.ics`
        : `/resources/${p(target.resource)}/schedule.ics`
    let relative = this.url(path)
    if (this.token) {
      const key = await this.calendarKey()
      if (!key) {
        throw new ApiError(501, t('errors.noCalendarKey'))
      }
      relative += `?key=${p(key)}`
    }
    const absolute = typeof window === 'undefined' ? relative : new URL(relative, window.location.href).toString()
    return { url: absolute, subscribable: true }
  }

  /** The native node serves export files as they are (XML, JSON, iCalendar): read the text. */
  override async exportSchedule(festival: Id, format: ExportFormat): Promise<string> {
    const res = await this.fetchApi('GET', `/festivals/${p(festival)}/schedule.${format}`)
    const text = await res.text()
    if (!res.ok) throw new ApiError(res.status, fallbackMessage(res.status))
    return text
  }

  private calendarKeyPromise: Promise<string | null> | null = null

  /** The identity's calendar key (it does not change while the node runs), asked once. */
  private calendarKey(): Promise<string | null> {
    if (!this.calendarKeyPromise) {
      this.calendarKeyPromise = this.identity().then(
        (me) => me.calendar_key ?? null,
        (e: unknown) => {
          this.calendarKeyPromise = null
          throw e
        },
      )
    }
    return this.calendarKeyPromise
  }

  /** The first listener opens the node's event stream; the last one to leave closes it. */
  subscribe(listener: ChangeListener): () => void {
    const remove = super.subscribe(listener)
    this.openStream()
    return () => {
      remove()
      if (this.listeners.size === 0) this.closeStream()
    }
  }

  private openStream() {
    // A visitor's read-only key opens no live stream: the programme is read once.
    if (this.stream || !this.EventSourceCtor || this.visitorKey) return
    const es = new this.EventSourceCtor(this.url('/stream', true))
    this.stream = es
    let dropped = false
    es.addEventListener('open', () => {
      this.emit({ type: 'connection', connected: true })
      // Changes made while the stream was down were not announced: have every screen refetch.
      if (dropped) this.emit({ type: 'change', festivals: [], kinds: [] })
      dropped = false
    })
    es.addEventListener('error', () => {
      dropped = true
      this.emit({ type: 'connection', connected: false })
    })
    es.addEventListener('change', (ev) => {
      const body = parse((ev as MessageEvent).data) as { festivals?: Id[]; kinds?: string[] } | null
      this.emit({ type: 'change', festivals: body?.festivals ?? [], kinds: body?.kinds ?? [] })
    })
    es.addEventListener('sync', (ev) => {
      const body = parse((ev as MessageEvent).data) as SyncStatus | null
      if (body && Array.isArray(body.peers)) this.emit({ type: 'sync', sync: body })
    })
  }

  private closeStream() {
    this.stream?.close()
    this.stream = null
  }
}

function parse(s: unknown): unknown {
  if (typeof s !== 'string') return null
  try {
    return JSON.parse(s)
  } catch {
    return null
  }
}

function fallbackMessage(status: number): string {
  switch (status) {
    case 401:
      return t('errors.needToken')
    case 404:
      // A 404 without the API's {"error"} body: there is no pandafest API at this address.
      return t('errors.noNode')
    case 409:
      return t('errors.forbidden')
    default:
      return status >= 500 ? t('errors.nodeProblem', { status }) : t('errors.refused', { status })
  }
}
