import type { RequestStatus, ResourceRequest } from '../client/types'
import { RequestsByFestival } from '../components/RequestList'
import { EmptyState, ErrorNote, Loading } from '../components/ui'
import { useData } from '../lib/useData'
import { useFestivalIndex } from '../lib/useFestivalIndex'

const GROUPS: { title: string; statuses: RequestStatus[] }[] = [
  { title: 'Waiting for the owner', statuses: ['pending'] },
  { title: 'Confirmed', statuses: ['confirmed'] },
  { title: 'Not confirmed', statuses: ['denied', 'invalid'] },
  { title: 'Ended', statuses: ['released', 'withdrawn'] },
]

export function MyRequestsScreen() {
  const mine = useData((c) => c.requests({ mine: true }), [])
  const { byId, error } = useFestivalIndex()
  return (
    <section>
      <h1>My requests</h1>
      <p className="lead">What your events asked for, and what the owners said.</p>
      <ErrorNote message={mine.error ?? error} />
      {!mine.data || !byId ? (
        mine.error ? null : <Loading what="your requests" />
      ) : mine.data.length === 0 ? (
        <EmptyState>
          <p>You have not requested anything yet. Plan an event in a festival and pick the resources it needs.</p>
        </EmptyState>
      ) : (
        GROUPS.map((g) => {
          const list: ResourceRequest[] = mine.data!.filter((q) => g.statuses.includes(q.status))
          if (!list.length) return null
          return (
            <section key={g.title} className="status-group">
              <h2>
                {g.title} <span className="count-plain">({list.length})</span>
              </h2>
              <RequestsByFestival requests={list} festivals={byId} heading="event" festivalHeadings={false} />
            </section>
          )
        })
      )}
    </section>
  )
}
