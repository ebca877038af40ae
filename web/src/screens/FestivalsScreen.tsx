import { useState, type FormEvent } from 'react'
import { useClient } from '../client/context'
import { errorMessage, type Festival } from '../client/types'
import { EmptyState, ErrorNote, Loading } from '../components/ui'
import { dateSpan, festivalTree, type FestivalNode } from '../lib/festivals'
import { href, navigate } from '../lib/router'
import { useData } from '../lib/useData'

export function FestivalsScreen() {
  const festivals = useData((c) => c.festivals(), [])
  return (
    <section>
      <div className="page-head">
        <h1>Festivals</h1>
        <a className="button primary" href="#/festivals/new">
          New festival
        </a>
      </div>
      <ErrorNote message={festivals.error} />
      {festivals.data === undefined ? (
        festivals.error ? null : <Loading what="festivals" />
      ) : festivals.data.length === 0 ? (
        <EmptyState>
          <p>
            <strong>No festivals yet.</strong> Create one, or join one with an invite link someone sent you.
          </p>
        </EmptyState>
      ) : (
        <FestivalTree nodes={festivalTree(festivals.data)} />
      )}
      <JoinBox />
    </section>
  )
}

function FestivalTree({ nodes, nested = false }: { nodes: FestivalNode[]; nested?: boolean }) {
  return (
    <ul className={nested ? 'tree nested' : 'tree'} aria-label={nested ? undefined : 'Your festivals'}>
      {nodes.map((n) => (
        <li key={n.festival.id}>
          <FestivalCard festival={n.festival} />
          {n.children.length ? <FestivalTree nodes={n.children} nested /> : null}
        </li>
      ))}
    </ul>
  )
}

function FestivalCard({ festival: f }: { festival: Festival }) {
  return (
    <div className="card festival-card">
      <a className="title" href={href('/festivals', f.id)}>
        {f.name}
      </a>
      <p className="meta">
        {f.start && f.end ? <span>{dateSpan(f)} · </span> : null}
        <span>{f.timezone.replace(/_/g, ' ')} time</span>
        {f.children.length ? <span> · {f.children.length} inside</span> : null}
      </p>
      {f.description ? <p className="desc">{f.description}</p> : null}
    </div>
  )
}

function JoinBox() {
  const client = useClient()
  const [link, setLink] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [message, setMessage] = useState<string | null>(null)

  async function submit(e: FormEvent) {
    e.preventDefault()
    setError(null)
    setMessage(null)
    if (!link.trim()) {
      setError('Paste the invite link first.')
      return
    }
    setBusy(true)
    try {
      const r = await client.join(link.trim())
      setLink('')
      if (r.status === 'joined') navigate(href('/festivals', r.festival.id))
      else setMessage(r.message)
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="card join" onSubmit={submit}>
      <h2>Join a festival</h2>
      <div className="field">
        <label htmlFor="join-link">Invite link</label>
        <div className="copy-row">
          <input
            id="join-link"
            className="mono"
            placeholder="pandafest://join?…"
            value={link}
            onChange={(e) => setLink(e.target.value)}
            autoComplete="off"
            spellCheck={false}
          />
          <button type="submit" disabled={busy}>
            {busy ? 'Joining…' : 'Join'}
          </button>
        </div>
        <p className="hint">Someone in the festival can make this link on the festival's “Share” tab.</p>
      </div>
      <ErrorNote message={error} />
      {message ? (
        <p className="note ok" role="status">
          {message}
        </p>
      ) : null}
    </form>
  )
}
