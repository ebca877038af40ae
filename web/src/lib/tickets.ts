// Tickets (docs/protocol.md, "Tickets: who may organise"): a festival may require one. Who
// is admitted is the node's answer, never worked out here: each event and resource says
// whether its organiser or owner is (`admitted`), and each festival whether this node's key
// is (`Festival.admitted`).

import type { Festival, FestivalEvent, Id, ResourceRequest, TimeFrame } from '../client/types'
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
