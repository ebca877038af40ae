import { useCallback, useEffect, useState, type FormEvent } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import { useClient } from '../client/context'
import { errorMessage, type BrowserPeer, type NodeLink, type Peer, type SyncStatus } from '../client/types'
import { EmptyState, ErrorNote, Loading, ShortKey } from '../components/ui'
import { useData } from '../lib/useData'
import { useFestivalIndex } from '../lib/useFestivalIndex'
import { t as translate } from '../i18n'

export function SyncScreen() {
  const { t } = useTranslation()
  const client = useClient()
  const loaded = useData((c) => c.sync(), [])
  const [live, setLive] = useState<SyncStatus | null>(null)
  useEffect(
    () =>
      client.subscribe((c) => {
        if (c.type === 'sync') setLive(c.sync)
      }),
    [client],
  )
  const status = live ?? loaded.data
  const { byId } = useFestivalIndex()

  return (
    <section>
      <h1>{t('sync.title')}</h1>
      <p className="lead">
        {t('sync.lead')}
        {client.browser ? ` ${t('sync.leadBrowser')}` : null}
      </p>
      <ErrorNote message={loaded.error} />
      {!status ? (
        loaded.error ? null : <Loading what="sync" />
      ) : (
        <SyncView status={status} festivalName={(id) => byId?.get(id)?.name ?? `${id.slice(0, 8)}…`} />
      )}
      {client.browser ? <NodesBox browser={client.browser} /> : null}
    </section>
  )
}

/** A browser peer's native nodes: connect to one by its address, forget one. */
function NodesBox({ browser }: { browser: BrowserPeer }) {
  const { t } = useTranslation()
  const client = useClient()
  const [nodes, setNodes] = useState<NodeLink[] | null>(null)
  const [address, setAddress] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  const reload = useCallback(() => {
    browser.nodes().then(setNodes, (e: unknown) => setError(errorMessage(e)))
  }, [browser])
  useEffect(() => {
    reload()
    return client.subscribe((c) => {
      if (c.type === 'sync') reload()
    })
  }, [client, reload])

  async function connect(e: FormEvent) {
    e.preventDefault()
    setError(null)
    if (!address.trim()) {
      setError(t('sync.needAddress'))
      return
    }
    setBusy(true)
    try {
      setNodes(await browser.connectNode(address.trim()))
      setAddress('')
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }

  async function forget(url: string) {
    setError(null)
    try {
      setNodes(await browser.forgetNode(url))
    } catch (err) {
      setError(errorMessage(err))
    }
  }

  return (
    <form className="card form nodes" onSubmit={connect}>
      <h2>{t('sync.nodesTitle')}</h2>
      <p>
        <Trans i18nKey="sync.nodesText" components={{ mono: <span className="mono" /> }} />
      </p>
      <div className="field">
        <label htmlFor="node-address">{t('sync.address')}</label>
        <div className="copy-row">
          <input
            id="node-address"
            className="mono"
            placeholder="ws://192.168.1.20:7878/sync"
            value={address}
            onChange={(e) => setAddress(e.target.value)}
            autoComplete="off"
            spellCheck={false}
          />
          <button type="submit" disabled={busy}>
            {busy ? t('sync.connecting') : t('sync.connect')}
          </button>
        </div>
      </div>
      <ErrorNote message={error} />
      {nodes && nodes.length ? (
        <ul className="list node-links" aria-label={t('sync.nodes')}>
          {nodes.map((n) => (
            <li key={n.url} className="node-link">
              <span className="mono">{n.url}</span>{' '}
              <span className="meta">
                {n.connected
                  ? t('sync.connected')
                  : n.error
                    ? t('sync.notConnectedWhy', { error: n.error })
                    : t('sync.connecting')}{' '}
                · {n.source === 'join' ? t('sync.fromInvite') : t('sync.addedHere')}
              </span>{' '}
              <button type="button" className="small" onClick={() => forget(n.url)} aria-label={t('sync.forgetLabel', { url: n.url })}>
                {t('sync.forget')}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </form>
  )
}

function behindText(p: Peer): string {
  if (!p.connected) return p.error ? translate('sync.notConnectedWhy', { error: p.error }) : translate('sync.notConnected')
  if (p.behind === 0) return translate('sync.upToDate')
  return translate('sync.toFetch', { count: p.behind })
}

export function SyncView({ status, festivalName }: { status: SyncStatus; festivalName: (id: string) => string }) {
  const { t } = useTranslation()
  const peers = status.peers
  if (!peers.length) {
    return (
      <EmptyState>
        <p>
          <Trans i18nKey="sync.noPeers" components={{ b: <strong /> }} />
        </p>
      </EmptyState>
    )
  }
  const connected = peers.filter((p) => p.connected).length
  const behind = peers.reduce((s, p) => s + (p.connected && p.behind ? p.behind : 0), 0)
  return (
    <>
      <p className="summary-line" role="status">
        {t('sync.connectedTo', { connected, count: peers.length })}{' '}
        {behind > 0 ? t('sync.allToFetch', { count: behind }) : connected ? t('sync.allUpToDate') : ''}
      </p>
      <ul className="list peers" aria-label={t('sync.peers')}>
        {peers.map((p) => (
          <li key={`${p.address}-${p.key ?? ''}`} className="card peer">
            <div className="peer-head">
              <span className="mono address">{p.address}</span>
              <span className="peer-state">
                <span className={`dot ${p.connected ? (p.behind ? 'busy' : 'on') : 'off'}`} aria-hidden="true" /> {behindText(p)}
              </span>
            </div>
            <p className="meta">
              {p.key ? (
                <>
                  {t('sync.key')} <ShortKey value={p.key} /> ·{' '}
                </>
              ) : null}
              {t('sync.shared')}{' '}
              {p.festivals.length ? p.festivals.map(festivalName).join(', ') : t('sync.none')}
            </p>
          </li>
        ))}
      </ul>
    </>
  )
}
