import { useTranslation } from 'react-i18next'
import type { CalendarTarget } from '../client/types'
import { useData } from '../lib/useData'
import { CopyField, ErrorNote } from './ui'

/** The iCal link of a festival or a resource: to subscribe in a calendar app, or download. */
export function CalendarLinkBox({ target, name }: { target: CalendarTarget; name: string }) {
  const { t } = useTranslation()
  const key = 'festival' in target ? `f${target.festival}` : `r${target.resource}`
  const link = useData((c) => c.calendarLink(target), [key])
  if (link.error) return <ErrorNote message={link.error} />
  if (!link.data) return null
  const file = `${name.replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '') || 'schedule'}.ics`
  return (
    <div className="ical">
      {link.data.subscribable ? (
        <CopyField label={t('calendar.link')} value={link.data.url} />
      ) : null}
      <p>
        <a className="button" href={link.data.url} download={file}>
          {t('calendar.download')}
        </a>
      </p>
    </div>
  )
}
