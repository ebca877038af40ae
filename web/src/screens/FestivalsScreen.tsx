import { useState, type FormEvent } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import { useClient } from '../client/context'
import { errorMessage, type Festival } from '../client/types'
import { EmptyState, ErrorNote, Loading } from '../components/ui'
import { dateSpan, festivalTree, type FestivalNode } from '../lib/festivals'
import { href, navigate } from '../lib/router'
import { useData } from '../lib/useData'

export function FestivalsScreen() {
  const { t } = useTranslation()
  const festivals = useData((c) => c.festivals(), [])
  return (
    <section>
      <div className="page-head">
        <h1>{t('festivals.title')}</h1>
        <a className="button primary" href="#/festivals/new">
          {t('festivals.new')}
        </a>
      </div>
      <ErrorNote message={festivals.error} />
      {festivals.data === undefined ? (
        festivals.error ? null : <Loading what="festivals" />
      ) : festivals.data.length === 0 ? (
        <EmptyState>
          <p>
            <Trans i18nKey="festivals.empty" components={{ b: <strong /> }} />
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
  const { t } = useTranslation()
  return (
    <ul className={nested ? 'tree nested' : 'tree'} aria-label={nested ? undefined : t('festivals.list')}>
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
  const { t } = useTranslation()
  return (
    <div className="card festival-card">
      <a className="title" href={href('/festivals', f.id)}>
        {f.name}
      </a>
      <p className="meta">
        {f.start && f.end ? <span>{dateSpan(f)} · </span> : null}
        <span>{t('festivals.zoneTime', { zone: f.timezone.replace(/_/g, ' ') })}</span>
        {f.children.length ? <span> · {t('festivals.inside', { count: f.children.length })}</span> : null}
      </p>
      {f.description ? <p className="desc">{f.description}</p> : null}
    </div>
  )
}

function JoinBox() {
  const { t } = useTranslation()
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
      setError(t('festivals.pasteFirst'))
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
      <h2>{t('festivals.joinTitle')}</h2>
      <div className="field">
        <label htmlFor="join-link">{t('festivals.inviteLink')}</label>
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
            {busy ? t('festivals.joining') : t('festivals.join')}
          </button>
        </div>
        <p className="hint">{t('festivals.joinHint')}</p>
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
