import { useMemo, useState } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import type { Festival } from '../../client/types'
import { Timeline } from '../../components/Timeline'
import { EmptyState, ErrorNote, Loading } from '../../components/ui'
import { dayPages, festivalDays } from '../../lib/days'
import { href } from '../../lib/router'
import { dayKey, dayStart, formatDay, nextDayKey } from '../../lib/time'
import { useData } from '../../lib/useData'
import { useNow } from '../../lib/useNow'

const PAGE = 3

export function TimelineTab({ festival: f }: { festival: Festival }) {
  const { t } = useTranslation()
  const resources = useData((c) => c.resources(f.id), [f.id])
  const now = useNow()
  const [extra, setExtra] = useState(0) // days added after the festival's end, for open-ended browsing
  const days = useMemo(() => {
    const base = festivalDays(f, now)
    const more = Array.from({ length: extra }, (_, i) => nextDayKey(base[base.length - 1], i + 1))
    return [...base, ...more]
  }, [f, extra, now])
  const { pages, start } = useMemo(() => dayPages(days, PAGE, dayKey(now, f.timezone)), [days, f.timezone, now])
  const [page, setPage] = useState<number | null>(null)
  const current = Math.min(page ?? start, pages.length - 1)
  const shown = pages[current] ?? []

  if (!resources.data) return resources.error ? <ErrorNote message={resources.error} /> : <Loading what="resources" />
  // The ticket is no place or thing in time: its requests are applications, no events.
  const active = resources.data.filter((r) => !r.retired && r.id !== f.ticket)
  if (!active.length) {
    return (
      <EmptyState>
        <p>
          <Trans i18nKey="timelineTab.empty" components={{ a: <a href={href('/festivals', f.id, 'resources', 'new')} /> }} />
        </p>
      </EmptyState>
    )
  }
  const label = (d: string) => formatDay(dayStart(d, f.timezone), f.timezone)
  const range = shown.length > 1 ? `${label(shown[0])} – ${label(shown[shown.length - 1])}` : shown[0] ? label(shown[0]) : ''
  const canLater = current < pages.length - 1 || !(f.start && f.end)

  return (
    <div>
      <div className="pager">
        <button type="button" onClick={() => setPage(current - 1)} disabled={current === 0}>
          {t('common.earlier')}
        </button>
        <strong aria-live="polite">{range}</strong>
        <button
          type="button"
          onClick={() => {
            if (current >= pages.length - 1) setExtra((x) => x + PAGE)
            setPage(current + 1)
          }}
          disabled={!canLater}
        >
          {t('common.later')}
        </button>
      </div>
      <p className="hint">{t('timelineTab.hint', { zone: f.timezone.replace(/_/g, ' ') })}</p>
      <Timeline timeZone={f.timezone} festival={f.id} resources={active} days={shown} />
    </div>
  )
}
