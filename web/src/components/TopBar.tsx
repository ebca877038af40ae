import { useEffect, useState } from 'react'
import { useClient } from '../client/context'
import type { Route } from '../lib/router'
import { useData } from '../lib/useData'
import { useNotices } from '../lib/useNotices'

const NAV: { to: string; label: string; short?: string; active: Route['name'][] }[] = [
  {
    to: '#/',
    label: 'Festivals',
    active: ['festivals', 'festival', 'programme', 'newFestival', 'newEvent', 'newResource', 'resource', 'editResource', 'event'],
  },
  { to: '#/inbox', label: 'Inbox', active: ['inbox'] },
  { to: '#/requests', label: 'My requests', short: 'Requests', active: ['requests'] },
  { to: '#/sync', label: 'Sync', active: ['sync'] },
  { to: '#/me', label: 'You', active: ['identity'] },
]

export function TopBar({ route }: { route: Route }) {
  const client = useClient()
  const waiting = useData((c) => c.requests({ incoming: true, pending: true }), [])
  const me = useData((c) => c.identity(), [])
  const count = waiting.data?.length ?? 0
  const { unseen } = useNotices(route.name === 'requests')
  // The public programme is for visitors: no one's name, inbox or planning screens.
  if (route.name === 'programme') {
    return (
      <header className="topbar">
        <a className="brand" href="#/">
          <img src="./favicon.svg" alt="" width="28" height="28" />
          pandafest
        </a>
      </header>
    )
  }
  return (
    <header className="topbar">
      <a className="brand" href="#/">
        <img src="./favicon.svg" alt="" width="28" height="28" />
        pandafest
      </a>
      {client.kind === 'peer' ? (
        <a className="where" href="#/me" title="pandafest runs in this browser: your data and your key are kept here">
          in this browser
        </a>
      ) : null}
      <nav aria-label="Main">
        <ul>
          {NAV.map((n) => {
            const current = n.active.includes(route.name)
            let label = n.label
            if (n.to === '#/me' && me.data?.name) label = me.data.name
            return (
              <li key={n.to}>
                <a href={n.to} aria-current={current ? 'page' : undefined}>
                  {n.short ? (
                    <>
                      <span className="wide-only">{label}</span>
                      <span className="narrow-only" aria-hidden="true">
                        {n.short}
                      </span>
                    </>
                  ) : (
                    <span className="nav-label">{label}</span>
                  )}
                  {n.to === '#/inbox' && count > 0 ? (
                    <span className="count" aria-label={`, ${count} waiting for you`}>
                      {count}
                    </span>
                  ) : null}
                  {n.to === '#/requests' && unseen.length > 0 ? (
                    <span className="count" aria-label={`, ${unseen.length} new decisions`}>
                      {unseen.length}
                    </span>
                  ) : null}
                </a>
              </li>
            )
          })}
        </ul>
      </nav>
    </header>
  )
}

export function DemoBanner() {
  return (
    <div className="banner demo">
      <strong>Demo</strong>: made-up data, kept only in this tab. Try anything — a reload starts over.{' '}
      <a href={window.location.pathname}>Leave the demo</a>
    </div>
  )
}

/** When pandafest runs in this browser without storage: nothing will be kept. */
export function BrowserPeerBanner() {
  const client = useClient()
  const warning = client.browser?.warning
  if (!warning) return null
  return (
    <div className="banner warn" role="alert">
      <strong>Not saved</strong>: {warning}
    </div>
  )
}

/** Says so when the live connection to the node drops (the client reconnects by itself). */
export function ConnectionBanner() {
  const client = useClient()
  const [connected, setConnected] = useState(true)
  useEffect(
    () =>
      client.subscribe((c) => {
        if (c.type === 'connection') setConnected(c.connected)
      }),
    [client],
  )
  if (connected) return null
  if (client.kind === 'peer') {
    return (
      <div className="banner warn" role="status">
        The pandafest peer in this browser stopped. Reload the page to start it again.
      </div>
    )
  }
  return (
    <div className="banner warn" role="status">
      Lost the connection to your pandafest node. Trying again… What you see may be out of date.
    </div>
  )
}
