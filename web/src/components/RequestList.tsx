import { useTranslation } from 'react-i18next'
import type { Festival, Id, ResourceRequest } from '../client/types'
import { href } from '../lib/router'
import { isTicketRequest } from '../lib/tickets'
import { RequestCard, type RequestCardProps } from './RequestCard'

/** Requests grouped by festival, each shown in its festival's time zone. */
export function RequestsByFestival({
  requests,
  festivals,
  festivalHeadings = true,
  ...card
}: {
  requests: ResourceRequest[]
  festivals: Map<Id, Festival>
  /** Festival names as h2 headings (else as plain labels, under another heading). */
  festivalHeadings?: boolean
} & Omit<RequestCardProps, 'request' | 'timeZone' | 'application' | 'ticketed'>) {
  const { t } = useTranslation()
  const groups = new Map<Id, ResourceRequest[]>()
  for (const q of requests) groups.set(q.festival, [...(groups.get(q.festival) ?? []), q])
  const several = groups.size > 1
  return (
    <>
      {[...groups.entries()].map(([fid, list]) => {
        const f = festivals.get(fid)
        const tz = f?.timezone ?? 'UTC'
        const Title = festivalHeadings ? 'h2' : 'p'
        return (
          <section key={fid} className="group">
            {several || f ? (
              <Title className="group-title">
                {f ? <a href={href('/festivals', f.id)}>{f.name}</a> : t('requests.anotherFestival')}
                <span className="muted">{t('requests.timesIn', { zone: tz.replace(/_/g, ' ') })}</span>
              </Title>
            ) : null}
            <ul className="list">
              {list.map((q) => (
                <RequestCard key={q.id} request={q} timeZone={tz} application={isTicketRequest(q, f)} ticketed={Boolean(f?.ticket)} {...card} />
              ))}
            </ul>
          </section>
        )
      })}
    </>
  )
}
