import { useMemo, useState } from 'react'
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
  const active = resources.data.filter((r) => !r.retired)
  if (!active.length) {
    return (
      <EmptyState>
        <p>
          No resources yet, so there is nothing to book.{' '}
          <a href={href('/festivals', f.id, 'resources', 'new')}>Share a resource</a>: a room, a tool, a skill.
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
          ← Earlier
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
          Later →
        </button>
      </div>
      <p className="hint">
        Times in {f.timezone.replace(/_/g, ' ')}. Choose a free (green) time to plan an event there, or a booking to see its event.
      </p>
      <Timeline timeZone={f.timezone} festival={f.id} resources={active} days={shown} />
    </div>
  )
}
