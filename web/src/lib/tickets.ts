// Tickets (docs/protocol.md, "Tickets: who may organise"): a festival may require one. Who
// is admitted is computed by the node for each event and resource (`admitted`); for this
// node's own key, before it has written anything in the festival, the UI works it out from
// the same facts: the creator of the festival that names the ticket, the ticket's owner, and
// the authors of confirmed requests for the ticket are admitted.

import type { Festival, FestivalEvent, Id, Resource, ResourceRequest, TimeFrame } from '../client/types'
import { HOUR, toRfc3339 } from './time'

/**
 * The festival that names `f`'s ticket: `f` itself, or the nearest ancestor from which it
 * inherits it. The API gives each festival its ticket, named there or above, so the namer is
 * the first festival whose parent requires another ticket (or none). (One that names the
 * same ticket as its parent reads as inheriting it: the API cannot tell the two apart.)
 */
export function ticketNamer(festivals: Festival[], f: Festival): Festival {
  const byId = new Map(festivals.map((x) => [x.id, x]))
  let at = f
  const seen = new Set<Id>([f.id])
  while (at.parent && !seen.has(at.parent)) {
    const parent = byId.get(at.parent)
    if (!parent || parent.ticket !== at.ticket) break
    seen.add(parent.id)
    at = parent
  }
  return at
}

/** Why this node's key may organise here, if it may. */
export type AdmittedAs = 'free' | 'creator' | 'owner' | 'holder' | null

export interface AdmissionFacts {
  me: string
  festival: Festival
  festivals: Festival[]
  /** The ticket resource, once this node holds it. */
  ticket: Resource | null
  /** This node's own requests (any festival). */
  mine: ResourceRequest[]
  /** The festival's events (this node's among them say what the node computed). */
  events: FestivalEvent[]
}

/** Whether this node's key is admitted to the festival, and as what. */
export function admittedAs({ me, festival: f, festivals, ticket, mine, events }: AdmissionFacts): AdmittedAs {
  if (!f.ticket) return 'free'
  if (ticketNamer(festivals, f).creator === me) return 'creator'
  if (ticket && ticket.owner === me) return 'owner'
  if (mine.some((q) => q.resource === f.ticket && q.status === 'confirmed')) return 'holder'
  // The node's own word wins where it has one: an event of this key in this very festival.
  if (events.some((e) => e.mine && e.festival === f.id && e.admitted)) return 'holder'
  return null
}

/** A request for the festival's ticket: confirmed by the ticket's owner, it admits its author. */
export function isTicketRequest(q: ResourceRequest, festival: Festival | undefined): boolean {
  return Boolean(festival?.ticket && q.resource === festival.ticket)
}

/**
 * The time frame of an application (the node needs one, start before end; its request takes
 * it): the festival's first hour while it is ahead, else the current hour within it (the
 * first hour again once it is over), else the current hour.
 */
export function applicationFrame(f: Festival, now: number): TimeFrame {
  const start = f.start ? Date.parse(f.start) : NaN
  const end = f.end ? Date.parse(f.end) : NaN
  let s = Math.floor(now / HOUR) * HOUR
  if (!Number.isNaN(start) && (start > now || (!Number.isNaN(end) && end <= now))) s = start
  else if (!Number.isNaN(start)) s = Math.max(s, start)
  let e = s + HOUR
  if (!Number.isNaN(end) && end > s && end < e) e = end
  return { start: toRfc3339(s), end: toRfc3339(e) }
}

/** The newest of this node's applications (events asking only for the ticket), if any. */
export function latestApplication(events: FestivalEvent[]): FestivalEvent | null {
  const mine = events.filter((e) => e.mine && e.application && !e.cancelled)
  if (!mine.length) return null
  // Events carry no creation time: a later application is decided later, or still open; the
  // open one counts first, then the confirmed one, then the rest.
  const rank = (e: FestivalEvent) => {
    const s = e.requests[0]?.status
    return s === 'pending' ? 0 : s === 'confirmed' ? 1 : 2
  }
  return [...mine].sort((a, b) => rank(a) - rank(b))[0]
}

/** The request of an application for the ticket. */
export function ticketRequestOf(e: FestivalEvent, ticket: Id | null | undefined): ResourceRequest | undefined {
  return e.requests.find((q) => q.resource === ticket)
}
