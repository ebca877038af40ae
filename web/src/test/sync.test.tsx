import { screen, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { MockClient, MockWorld } from '../client/mock'
import { renderApp } from './fixture'

describe('sync status', () => {
  it('shows the peers, how far behind, and updates live', async () => {
    const world = new MockWorld()
    const client = new MockClient(world)
    const f = await client.createFestival({ name: 'Fusion' })
    world.sync = {
      peers: [
        { address: '192.168.1.23:7313', key: 'ab'.repeat(32), connected: true, festivals: [f.id], behind: 0 },
        { address: 'wss://relay.example.org', key: null, connected: true, festivals: [f.id], behind: 42 },
        { address: '192.168.1.40:7313', key: null, connected: false, festivals: 2, behind: null },
      ],
    }
    renderApp(client, '/sync')
    expect(await screen.findByText(/Connected to/)).toHaveTextContent('Connected to 2 of 3 peers. 42 entries still to fetch.')
    const rows = within(screen.getByRole('list', { name: 'Peers' })).getAllByRole('listitem')
    expect(rows.map((r) => r.querySelector('.peer-state')!.textContent)).toEqual([
      ' Up to date',
      ' 42 entries still to fetch',
      ' Not connected',
    ])
    expect(rows[0]).toHaveTextContent('Fusion')
    expect(rows[2]).toHaveTextContent('2 festivals')

    world.setSync({ peers: [{ ...world.sync.peers[1], behind: 0 }] })
    expect(await screen.findByText('Connected to 1 of 1 peer. Everything is up to date.')).toBeInTheDocument()
  })

  it('explains what to do with no peers', async () => {
    renderApp(new MockClient(new MockWorld()), '/sync')
    expect(await screen.findByText(/What you plan is on this device only/)).toBeInTheDocument()
  })
})
