import { useTranslation } from 'react-i18next'
import type { RequestStatus, ResourceRequest } from '../client/types'
import { RequestsByFestival } from '../components/RequestList'
import { EmptyState, ErrorNote, Loading } from '../components/ui'
import { useData } from '../lib/useData'
import { useFestivalIndex } from '../lib/useFestivalIndex'

const GROUPS = [
  { title: 'myRequests.pending', statuses: ['pending'] },
  { title: 'myRequests.confirmed', statuses: ['confirmed'] },
  { title: 'myRequests.notConfirmed', statuses: ['denied', 'invalid'] },
  { title: 'myRequests.ended', statuses: ['released', 'withdrawn'] },
] as const satisfies { title: string; statuses: RequestStatus[] }[]

export function MyRequestsScreen() {
  const { t } = useTranslation()
  const mine = useData((c) => c.requests({ mine: true }), [])
  const { byId, error } = useFestivalIndex()
  return (
    <section>
      <h1>{t('myRequests.title')}</h1>
      <p className="lead">{t('myRequests.lead')}</p>
      <ErrorNote message={mine.error ?? error} />
      {!mine.data || !byId ? (
        mine.error ? null : <Loading what="yourRequests" />
      ) : mine.data.length === 0 ? (
        <EmptyState>
          <p>{t('myRequests.empty')}</p>
        </EmptyState>
      ) : (
        GROUPS.map((g) => {
          const list: ResourceRequest[] = mine.data!.filter((q) => (g.statuses as readonly RequestStatus[]).includes(q.status))
          if (!list.length) return null
          return (
            <section key={g.title} className="status-group">
              <h2>
                {t(g.title)} <span className="count-plain">({list.length})</span>
              </h2>
              <RequestsByFestival requests={list} festivals={byId} heading="event" festivalHeadings={false} />
            </section>
          )
        })
      )}
    </section>
  )
}
