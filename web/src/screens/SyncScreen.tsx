import { useEffect, useState } from 'react'
import { useClient } from '../client/context'
import type { Peer, SyncStatus } from '../client/types'
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
      </p>
      <ErrorNote message={loaded.error} />
      {!status ? (
        loaded.error ? null : <Loading what="sync status" />
      ) : (
        <SyncView status={status} festivalName={(id) => byId?.get(id)?.name ?? `${id.slice(0, 8)}…`} />
      )}
    </section>
  )
}

function behindText(p: Peer): string {
  if (!p.connected) return 'Not connected'
  if (p.behind === null || p.behind === undefined) return 'Connected'
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
              {Array.isArray(p.festivals)
                ? p.festivals.length
                  ? p.festivals.map(festivalName).join(', ')
                  : 'none'
                : plural(p.festivals, 'festival')}
            </p>
          </li>
        ))}
      </ul>
    </>
  )
}
