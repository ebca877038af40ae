import { useState } from 'react'
import { RequestsByFestival } from '../components/RequestList'
import { EmptyState, ErrorNote, Loading } from '../components/ui'
import { useData } from '../lib/useData'
import { useFestivalIndex } from '../lib/useFestivalIndex'

export function InboxScreen() {
  const [all, setAll] = useState(false)
  const incoming = useData((c) => c.requests({ incoming: true }), [])
  const { byId, error } = useFestivalIndex()
  const waiting = (incoming.data ?? []).filter((q) => q.status === 'pending')
  const shown = all ? (incoming.data ?? []) : waiting

  return (
    <section>
      <h1>Inbox</h1>
      <p className="lead">Requests for the resources you own. Confirm the ones you agree to; the time is then booked for that event.</p>
      <div className="segmented" role="group" aria-label="Which requests">
        <button type="button" aria-pressed={!all} onClick={() => setAll(false)}>
          Waiting for you ({waiting.length})
        </button>
        <button type="button" aria-pressed={all} onClick={() => setAll(true)}>
          All requests ({incoming.data?.length ?? 0})
        </button>
      </div>
      <ErrorNote message={incoming.error ?? error} />
      {!incoming.data || !byId ? (
        incoming.error ? null : <Loading what="requests" />
      ) : shown.length === 0 ? (
        <EmptyState>
          <p>
            {all
              ? 'Nobody has requested your resources yet.'
              : 'Nothing is waiting for you. When someone requests one of your resources, it shows up here.'}
          </p>
        </EmptyState>
      ) : (
        <RequestsByFestival requests={shown} festivals={byId} heading="event" showConflicts />
      )}
    </section>
  )
}
