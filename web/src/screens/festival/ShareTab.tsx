import { useState } from 'react'
import { useClient } from '../../client/context'
import { errorMessage, type ExportFormat, type Festival } from '../../client/types'
import { CalendarLinkBox } from '../../components/CalendarLinkBox'
import { CopyField, ErrorNote } from '../../components/ui'
import { useData } from '../../lib/useData'

// iCalendar is the Calendar card's (a link to follow, or a download), not listed twice here.
const EXPORTS: { format: ExportFormat; label: string; file: string; type: string }[] = [
  { format: 'xml', label: 'frab/Pentabarf XML (Giggity, EventFahrplan)', file: 'schedule.xml', type: 'application/xml' },
  { format: 'json', label: 'c3voc schedule.json (info-beamer, EventFahrplan)', file: 'schedule.json', type: 'application/json' },
]

export function ShareTab({ festival: f }: { festival: Festival }) {
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
        <p className="notice warning" role="note" aria-label="Nobody else can use these links">
          <strong>Nobody else can use these links yet:</strong> {info.data.hint}.
        </p>
      ) : null}
      <section className="card">
        <h2>Invite people</h2>
        <p>
          Send this link to people who should see and plan {f.name}. They paste it into “Join a festival”. Anyone with
          the link can join.
        </p>
        {link ? (
          <CopyField label="Invite link" value={link} />
        ) : (
          <button type="button" className="primary" onClick={makeInvite} disabled={busy}>
            {busy ? 'Making the link…' : 'Make an invite link'}
          </button>
        )}
      </section>
      <section className="card">
        <h2>Programme for visitors</h2>
        <p>
          The confirmed programme of {f.name} and its sub-festivals, read-only, for a phone or to print. Visitors need no
          account; the link opens nothing else.
        </p>
        {programme.data ? (
          programme.data.subscribable ? (
            <CopyField label="Programme link" value={programme.data.url} />
          ) : (
            <p>
              <a href={programme.data.url}>Open the programme</a> (in this browser; print it, or export it below).
            </p>
          )
        ) : null}
        <h3>For schedule apps and other tools</h3>
        <div className="actions">
          {EXPORTS.map((x) => (
            <button key={x.format} type="button" onClick={() => void download(x.format, x.file, x.type)}>
              Download {x.label}
            </button>
          ))}
        </div>
      </section>
      <section className="card">
        <h2>Calendar</h2>
        <p>The confirmed programme of {f.name}, for calendar apps: one entry per event.</p>
        <CalendarLinkBox target={{ festival: f.id }} name={f.name} />
      </section>
      <ErrorNote message={error} />
    </div>
  )
}
