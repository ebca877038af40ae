import { screen, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { LocalWorld } from '../client/local'
import type { ChangeListener, PandafestClient, Peer, SyncStatus } from '../client/types'
import { alone, renderApp } from './fixture'

/** A peer in the status, as the node words it. */
function peer(p: Partial<Peer> & { address: string }): Peer {
  return { key: null, direction: 'outgoing', connected: true, festivals: [], behind: 0, live: true, received: 0, sent: 0, error: null, ...p }
}

/**
 * A real node whose sync status is the one given: the states of connections (behind, not
 * connected) that nodes synced in memory never show, for the screen's wording. Only the
 * transport's state is made up; everything else is the node's.
 */
function withStatus(client: PandafestClient, status: SyncStatus) {
  const listeners = new Set<ChangeListener>()
  let current = status
  const proxy = new Proxy(client, {
    get(target, prop) {
      if (prop === 'sync') return async () => current
      if (prop === 'subscribe')
        return (l: ChangeListener) => {
          listeners.add(l)
          const off = target.subscribe(l)
          return () => {
            listeners.delete(l)
            off()
          }
        }
      const v = Reflect.get(target, prop, target)
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
  const set = (s: SyncStatus) => {
    current = s
    for (const l of [...listeners]) l({ type: 'sync', sync: s })
  }
  return { client: proxy as PandafestClient, set }
}

describe('sync status', () => {
  it("shows the node's real peers and the festivals they share", async () => {
    const world = new LocalWorld()
    const ana = await world.person('Ana')
    await world.person('Bo')
    const f = await ana.createFestival({ name: 'Fusion' })
    await world.share(f.id)
    renderApp(ana, '/sync')
    expect(await screen.findByText(/Connected to/)).toHaveTextContent('Connected to 1 of 1 peer. Everything is up to date.')
    const [row] = within(screen.getByRole('list', { name: 'Peers' })).getAllByRole('listitem')
    expect(row).toHaveTextContent('Up to date')
    expect(row).toHaveTextContent('Fusion')
  })

  it('words every state of a connection, and updates live', async () => {
    const ana = await alone()
    const f = await ana.createFestival({ name: 'Fusion' })
    const { client, set } = withStatus(ana, {
      peers: [
        peer({ address: '192.168.1.23:7313', key: 'ab'.repeat(32), festivals: [f.id] }),
        peer({ address: 'wss://relay.example.org', festivals: [f.id], behind: 42, live: false }),
        peer({ address: '192.168.1.40:7313', connected: false, festivals: [], live: false }),
      ],
    })
    renderApp(client, '/sync')
    expect(await screen.findByText(/Connected to/)).toHaveTextContent('Connected to 2 of 3 peers. 42 entries still to fetch.')
    const rows = within(screen.getByRole('list', { name: 'Peers' })).getAllByRole('listitem')
    expect(rows.map((r) => r.querySelector('.peer-state')!.textContent)).toEqual([
      ' Up to date',
      ' 42 entries still to fetch',
      ' Not connected',
    ])
    expect(rows[0]).toHaveTextContent('Fusion')
    expect(rows[2]).toHaveTextContent('Festivals shared: none')

    set({ peers: [peer({ address: 'wss://relay.example.org', festivals: [f.id] })] })
    expect(await screen.findByText('Connected to 1 of 1 peer. Everything is up to date.')).toBeInTheDocument()
  })

  it('explains what to do with no peers', async () => {
    renderApp(await alone(), '/sync')
    expect(await screen.findByText(/What you plan is on this device only/)).toBeInTheDocument()
  })
})
