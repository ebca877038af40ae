import { useState } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import type { Festival, Resource } from '../../client/types'
import { EmptyState, ErrorNote, Loading } from '../../components/ui'
import { href } from '../../lib/router'
import { useData } from '../../lib/useData'
import { capacityText, kindText, personName, policyShort } from '../../lib/words'
import { availabilitySummary } from '../../lib/resources'
import { listText } from '../../i18n'

export function ResourcesTab({ festival: f }: { festival: Festival }) {
  const { t } = useTranslation()
  const resources = useData((c) => c.resources(f.id), [f.id])
  const festivals = useData((c) => c.festivals(), [])
  const [showRetired, setShowRetired] = useState(false)
  if (!resources.data) return resources.error ? <ErrorNote message={resources.error} /> : <Loading what="resources" />
  const names = new Map((festivals.data ?? []).map((x) => [x.id, x.name]))
  const retired = resources.data.filter((r) => r.retired).length
  const list = resources.data
    .filter((r) => showRetired || !r.retired)
    .sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name))
  return (
    <div>
      {list.length === 0 ? (
        <EmptyState>
          <p>
            <Trans i18nKey="resourcesTab.empty" components={{ a: <a href={href('/festivals', f.id, 'resources', 'new')} /> }} />
          </p>
        </EmptyState>
      ) : (
        <ul className="list resources" aria-label={t('resourcesTab.list')}>
          {list.map((r) => (
            <ResourceRow
              key={r.id}
              resource={r}
              festival={f}
              from={r.festival !== f.id ? names.get(r.festival) : undefined}
              needs={r.needs.map((id) => resources.data!.find((x) => x.id === id)?.name ?? t('common.aResource'))}
            />
          ))}
        </ul>
      )}
      {retired ? (
        <label className="check">
          <input type="checkbox" checked={showRetired} onChange={(e) => setShowRetired(e.target.checked)} />{' '}
          {t('resourcesTab.showRetired', { count: retired })}
        </label>
      ) : null}
    </div>
  )
}

function ResourceRow({ resource: r, festival, from, needs }: { resource: Resource; festival: Festival; from?: string; needs: string[] }) {
  const { t } = useTranslation()
  return (
    <li className={`card resource-row${r.retired ? ' cancelled' : ''}`}>
      <span className={`kind kind-${r.kind}`}>{kindText(r.kind)}</span>
      <div className="what">
        <a className="title" href={href('/resources', r.id)}>
          {r.name}
        </a>
        {r.retired ? <span className="badge status-withdrawn">{t('common.retired')}</span> : null}
        {from ? <span className="badge from">{t('resourcesTab.from', { name: from })}</span> : null}
        {r.id === festival.ticket ? <span className="badge ticket">{t('tickets.ticketBadge')}</span> : null}
        {!r.admitted ? <span className="badge waiting-admission">{t('tickets.ownerWaiting')}</span> : null}
        <p className="meta">
          {personName(r.owner_name, r.owner, r.mine)} · {policyShort(r.policy)} · {availabilitySummary(r, festival.timezone)}
          {r.capacity !== 1 ? <> · {capacityText(r.capacity)}</> : null}
        </p>
        {needs.length ? <p className="meta">{t('resourcesTab.needs', { list: listText(needs) })}</p> : null}
        {r.description ? <p className="desc">{r.description}</p> : null}
      </div>
    </li>
  )
}
