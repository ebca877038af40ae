import { useState } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import { useClient } from '../../client/context'
import { errorMessage, type ExportFormat, type Festival } from '../../client/types'
import { CalendarLinkBox } from '../../components/CalendarLinkBox'
import { CopyField, ErrorNote } from '../../components/ui'
import { useData } from '../../lib/useData'

// iCalendar is the Calendar card's (a link to follow, or a download), not listed twice here.
// The labels name formats and apps: the same in every language.
const EXPORTS: { format: ExportFormat; label: string; file: string; type: string }[] = [
  { format: 'xml', label: 'frab/Pentabarf XML (Giggity, EventFahrplan)', file: 'schedule.xml', type: 'application/xml' },
  { format: 'json', label: 'c3voc schedule.json (info-beamer, EventFahrplan)', file: 'schedule.json', type: 'application/json' },
]

export function ShareTab({ festival: f }: { festival: Festival }) {
  const { t } = useTranslation()
  const client = useClient()
  const [link, setLink] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  // Whether anyone else can use this node's links: the node says, and how to fix it.
  const info = useData((c) => c.inviteInfo(f.id), [f.id])
  const programme = useData((c) => c.programmeLink(f.id), [f.id])

  async function makeInvite() {
    setBusy(true)
    setError(null)
    try {
      setLink(await client.invite(f.id))
    } catch (e) {
      setError(errorMessage(e))
    } finally {
      setBusy(false)
    }
  }

  async function download(format: ExportFormat, file: string, type: string) {
    setError(null)
    try {
      const text = await client.exportSchedule(f.id, format)
      const a = document.createElement('a')
      a.href = URL.createObjectURL(new Blob([text], { type }))
      a.download = `${f.name.replace(/[^\w.-]+/g, '-')}-${file}`
      a.click()
      URL.revokeObjectURL(a.href)
    } catch (e) {
      setError(errorMessage(e))
    }
  }

  return (
    <div className="share">
      {info.data && !info.data.reachable && info.data.hint ? (
        <p className="notice warning" role="note" aria-label={t('share.nobodyLabel')}>
          <Trans i18nKey="share.nobody" values={{ hint: info.data.hint }} components={{ b: <strong /> }} />
        </p>
      ) : null}
      <section className="card">
        <h2>{t('share.inviteTitle')}</h2>
        <p>{t('share.inviteText', { name: f.name })}</p>
        {link ? (
          <CopyField label={t('share.inviteLink')} value={link} />
        ) : (
          <button type="button" className="primary" onClick={makeInvite} disabled={busy}>
            {busy ? t('share.making') : t('share.make')}
          </button>
        )}
      </section>
      <section className="card">
        <h2>{t('share.programmeTitle')}</h2>
        <p>{t('share.programmeText', { name: f.name })}</p>
        {programme.data ? (
          programme.data.subscribable ? (
            <CopyField label={t('share.programmeLink')} value={programme.data.url} />
          ) : (
            <p>
              <Trans i18nKey="share.programmeOpen" components={{ a: <a href={programme.data.url} /> }} />
            </p>
          )
        ) : null}
        <h3>{t('share.apps')}</h3>
        <div className="actions">
          {EXPORTS.map((x) => (
            <button key={x.format} type="button" onClick={() => void download(x.format, x.file, x.type)}>
              {t('share.download', { format: x.label })}
            </button>
          ))}
        </div>
      </section>
      <section className="card">
        <h2>{t('share.calendarTitle')}</h2>
        <p>{t('share.calendarText', { name: f.name })}</p>
        <CalendarLinkBox target={{ festival: f.id }} name={f.name} />
      </section>
      <ErrorNote message={error} />
    </div>
  )
}
