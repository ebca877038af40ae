import type { Festival, FestivalEvent, Resource } from '../client/types'
import { latestApplication, ticketNamer } from './tickets'
import { useData } from './useData'

/** Why this node's key may organise here, if it may. */
export type AdmittedAs = 'free' | 'creator' | 'owner' | 'holder' | null

export interface Admission {
  /** The festival requires a ticket (named here or by a parent). */
  required: boolean
  /** Whether this node's key may organise and provide here: the node's answer
   * (`Festival.admitted`). */
  admitted: boolean
  /** Why, in words, once the node says so: this key started the festival that requires the
   * ticket, owns it, or holds it (a request for it is confirmed); none of these, it started
   * a festival naming the same ticket as its parent (the API cannot tell that from
   * inheriting it: `ticketNamer`). */
  as: AdmittedAs
  me: string
  /** This node's name, if it has one. */
  myName: string | null
  /** The ticket resource (null while this node does not hold it yet). */
  ticket: Resource | null
  /** The festival that names the ticket (its creator is admitted). */
  namer: Festival
  /** The festival's events, sub-festivals' included. */
  events: FestivalEvent[]
  /** This node's newest application here, if any. */
  application: FestivalEvent | null
  /** This node's key owns the ticket: it decides the applications. */
  decides: boolean
  /** This node's key created the festival or owns the ticket: it sees who is waiting. */
  oversees: boolean
}

/** Who may organise in festival `f`, as this node sees it (null while loading). */
export function useAdmission(f: Festival): { admission: Admission | null; error: string | null } {
  const data = useData(
    async (c) => {
      const [me, festivals, fresh, events, mine, ticket] = await Promise.all([
        c.identity(),
        c.festivals(),
        c.festival(f.id),
        c.events(f.id),
        f.ticket ? c.requests({ mine: true }) : Promise.resolve([]),
        f.ticket ? c.resource(f.ticket).catch(() => null) : Promise.resolve(null),
      ])
      return { me: me.public_key, myName: me.name ?? null, festivals, admitted: fresh.admitted === true, events, mine, ticket }
    },
    [f.id, f.ticket ?? ''],
  )
  const d = data.data
  if (!d) return { admission: null, error: data.error }
  const namer = ticketNamer(d.festivals, f)
  const decides = Boolean(d.ticket && d.ticket.owner === d.me)
  // The node decides whether this key is admitted; only the words for why are picked here.
  const as: AdmittedAs = !f.ticket
    ? 'free'
    : !d.admitted
      ? null
      : namer.creator === d.me
        ? 'creator'
        : decides
          ? 'owner'
          : d.mine.some((q) => q.resource === f.ticket && q.status === 'confirmed')
            ? 'holder'
            : 'creator'
  return {
    admission: {
      required: Boolean(f.ticket),
      admitted: d.admitted,
      as,
      me: d.me,
      myName: d.myName,
      ticket: d.ticket,
      namer,
      events: d.events,
      application: latestApplication(d.events),
      decides,
      oversees: Boolean(f.ticket) && (decides || f.creator === d.me || namer.creator === d.me),
    },
    error: data.error,
  }
}
