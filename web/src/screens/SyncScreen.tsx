import { useCallback, useEffect, useState, type FormEvent } from 'react'
import { useClient } from '../client/context'
import { errorMessage, type BrowserPeer, type NodeLink, type Peer, type SyncStatus } from '../client/types'
import { EmptyState, ErrorNote, Loading, ShortKey } from '../components/ui'
import { useData } from '../lib/useData'
import { useFestivalIndex } from '../lib/useFestivalIndex'
import { plural } from '../lib/words'

export function SyncScreen() {
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
      <h1>Sync</h1>
      <p className="lead">
        pandafest has no server: your device exchanges the plan directly with other people's devices (peers). Everyone sees
        the same plan once their devices have exchanged it.
        {client.browser
          ? ' Here pandafest runs in this browser: it syncs with pandafest nodes, and through them directly with other browsers.'
          : null}
      </p>
      <ErrorNote message={loaded.error} />
      {!status ? (
        loaded.error ? null : <Loading what="sync status" />
      ) : (
        <SyncView status={status} festivalName={(id) => byId?.get(id)?.name ?? `${id.slice(0, 8)}…`} />
      )}
      {client.browser ? <NodesBox browser={client.browser} /> : null}
    </section>
  )
}

/** A browser peer's native nodes: connect to one by its address, forget one. */
function NodesBox({ browser }: { browser: BrowserPeer }) {
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
      setError('Type the address of a pandafest node first.')
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
      <h2>Connect to a pandafest node</h2>
      <p>
        A node is pandafest running on a computer (<span className="mono">pandafest serve</span>). This browser syncs with
        the nodes of the festivals you joined, and with any node you add here; it remembers them and reconnects when you
        come back.
      </p>
      <div className="field">
        <label htmlFor="node-address">Node address</label>
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
            {busy ? 'Connecting…' : 'Connect'}
          </button>
        </div>
      </div>
      <ErrorNote message={error} />
      {nodes && nodes.length ? (
        <ul className="list node-links" aria-label="Nodes this browser connects to">
          {nodes.map((n) => (
            <li key={n.url} className="node-link">
              <span className="mono">{n.url}</span>{' '}
              <span className="meta">
                {n.connected ? 'Connected' : n.error ? `Not connected: ${n.error}` : 'Connecting…'} ·{' '}
                {n.source === 'join' ? 'from an invite' : 'added here'}
              </span>{' '}
              <button type="button" className="small" onClick={() => forget(n.url)} aria-label={`Forget ${n.url}`}>
                Forget
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </form>
  )
}

function behindText(p: Peer): string {
  if (!p.connected) return p.error ? `Not connected: ${p.error}` : 'Not connected'
  if (p.behind === 0) return 'Up to date'
  return `${plural(p.behind, 'entry', 'entries')} still to fetch`
}

export function SyncView({ status, festivalName }: { status: SyncStatus; festivalName: (id: string) => string }) {
  const peers = status.peers
  if (!peers.length) {
    return (
      <EmptyState>
        <p>
          <strong>No peers yet.</strong> What you plan is on this device only. Share a festival's invite link (on its “Share”
          tab) so that others can sync with you; devices on the same network find each other by themselves.
        </p>
      </EmptyState>
    )
  }
  const connected = peers.filter((p) => p.connected).length
  const behind = peers.reduce((s, p) => s + (p.connected && p.behind ? p.behind : 0), 0)
  return (
    <>
      <p className="summary-line" role="status">
        Connected to {connected} of {plural(peers.length, 'peer')}.{' '}
        {behind > 0 ? `${plural(behind, 'entry', 'entries')} still to fetch.` : connected ? 'Everything is up to date.' : ''}
      </p>
      <ul className="list peers" aria-label="Peers">
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
                  Key <ShortKey value={p.key} /> ·{' '}
                </>
              ) : null}
              Festivals shared:{' '}
              {p.festivals.length ? p.festivals.map(festivalName).join(', ') : 'none'}
            </p>
          </li>
        ))}
      </ul>
    </>
  )
}
