import { useState } from 'react'
import { useClient } from '../../client/context'
import { errorMessage, type Festival } from '../../client/types'
import { CalendarLinkBox } from '../../components/CalendarLinkBox'
import { CopyField, ErrorNote } from '../../components/ui'

export function ShareTab({ festival: f }: { festival: Festival }) {
  const client = useClient()
  const [link, setLink] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

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

  return (
    <div className="share">
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
        <ErrorNote message={error} />
      </section>
      <section className="card">
        <h2>Calendar</h2>
        <p>The confirmed schedule of {f.name}, for calendar apps.</p>
        <CalendarLinkBox target={{ festival: f.id }} name={f.name} />
      </section>
    </div>
  )
}
