// The screens when pandafest runs in this browser: a real node in memory seen as a browser
// peer (kind 'peer' and the `browser` controls, whose storage and connections are made up:
// the worker's transport), so the screens' wording and controls can be checked without a
// worker.

import { screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { LocalClient } from '../client/local'
import { ApiError, type BrowserPeer, type NodeLink, type PandafestClient, type SyncStatus } from '../client/types'
import { alone, renderApp } from './fixture'

function asBrowserPeer(node: LocalClient, browser: Partial<BrowserPeer> = {}) {
  let nodes: NodeLink[] = [{ url: 'ws://10.0.0.2:7878/sync', source: 'join', connected: true, error: null }]
  let wrote = false
  const controls: BrowserPeer & { imported: string[] } = {
    storage: 'opfs',
    warning: null,
    imported: [],
    async importSecretKey(hex) {
      if (wrote) throw new ApiError(409, 'this browser has written already')
      controls.imported.push(hex)
      return { ...(await node.identity()), public_key: 'c0ffee'.padEnd(64, '0') }
    },
    async nodes() {
      return nodes
    },
    async connectNode(address) {
      if (!address.startsWith('ws')) throw new ApiError(400, `“${address}” is not the address of a pandafest node`)
      nodes = [...nodes, { url: address, source: 'node', connected: false, error: null }]
      return nodes
    },
    async forgetNode(url) {
      nodes = nodes.filter((n) => n.url !== url)
      return nodes
    },
    ...browser,
  }
  const client = new Proxy(node, {
    get(target, prop) {
      if (prop === 'kind') return 'peer'
      if (prop === 'browser') return controls
      const v = Reflect.get(target, prop, target)
      return typeof v === 'function' ? v.bind(target) : v
    },
  }) as unknown as PandafestClient
  return { client, controls, write: () => (wrote = true) }
}

describe('the browser peer in the UI', () => {
  it('says in the top bar that pandafest runs in this browser', async () => {
    const { client } = asBrowserPeer(await alone())
    renderApp(client, '/')
    expect(await screen.findByRole('link', { name: 'in this browser' })).toHaveAttribute('href', '#/me')
    expect(screen.queryByRole('alert')).not.toBeInTheDocument()
  })

  it('warns on every screen when nothing is kept', async () => {
    const { client } = asBrowserPeer(await alone(), {
      storage: 'memory',
      warning: 'this browser gives pandafest no storage of its own (OPFS)',
    })
    renderApp(client, '/')
    expect(await screen.findByRole('alert')).toHaveTextContent('Not saved: this browser gives pandafest no storage of its own (OPFS)')
  })

  it('the identity screen: where the data is, key export and key import', async () => {
    const user = userEvent.setup()
    const { client, controls, write } = asBrowserPeer(await alone())
    renderApp(client, '/me')
    expect(await screen.findByRole('heading', { name: 'pandafest runs in this browser' })).toBeInTheDocument()
    expect(screen.getByText(/stored in this browser, on this device/)).toBeInTheDocument()
    expect(screen.getByText(/You are a key made in this browser/)).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Show my secret key…' })).toBeInTheDocument()
    const field = screen.getByLabelText('Secret key to import (64 hex digits)')
    expect(field).toHaveAttribute('type', 'password')
    await user.click(screen.getByRole('button', { name: 'Import key' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('Paste the secret key first.')
    await user.type(field, 'ab'.repeat(32))
    await user.click(screen.getByRole('button', { name: 'Import key' }))
    expect(await screen.findByText(/Done: this browser now acts as Ana, key c0ffee00…/)).toBeInTheDocument()
    expect(controls.imported).toEqual(['ab'.repeat(32)])
    expect(field).toHaveValue('')
    write()
    await user.type(field, 'cd'.repeat(32))
    await user.click(screen.getByRole('button', { name: 'Import key' }))
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'This browser has already written with its own key, so it cannot take another one (this browser has written already).',
    )
  })

  it('a node shows no browser controls', async () => {
    renderApp(await alone(), '/me')
    expect(await screen.findByText(/You are a key made on this device/)).toBeInTheDocument()
    expect(screen.queryByLabelText('Secret key to import (64 hex digits)')).not.toBeInTheDocument()
    expect(screen.queryByText('in this browser')).not.toBeInTheDocument()
  })

  it('the sync screen: connect to a node, forget one, see why one is not connected', async () => {
    const user = userEvent.setup()
    const status: SyncStatus = {
      peers: [
        { address: 'ws://10.0.0.2:7878/sync', key: 'ab'.repeat(32), direction: 'outgoing', connected: true, festivals: [], behind: 0, live: true, received: 0, sent: 0 },
        { address: 'ws://10.0.0.9:7878/sync', key: null, direction: 'outgoing', connected: false, festivals: [], behind: 0, live: false, received: 0, sent: 0, error: 'cannot connect to ws://10.0.0.9:7878/sync' },
      ],
    }
    const node = await alone()
    node.sync = async () => status
    const { client } = asBrowserPeer(node)
    renderApp(client, '/sync')
    expect(await screen.findByText(/it syncs with pandafest nodes, and through them directly with other browsers/)).toBeInTheDocument()
    const rows = within(await screen.findByRole('list', { name: 'Peers' })).getAllByRole('listitem')
    expect(rows[1]).toHaveTextContent('Not connected: cannot connect to ws://10.0.0.9:7878/sync')
    const nodes = await screen.findByRole('list', { name: 'Nodes this browser connects to' })
    expect(nodes).toHaveTextContent('ws://10.0.0.2:7878/sync Connected · from an invite')
    await user.type(screen.getByLabelText('Node address'), 'ftp://nope')
    await user.click(screen.getByRole('button', { name: 'Connect' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('is not the address of a pandafest node')
    await user.clear(screen.getByLabelText('Node address'))
    await user.type(screen.getByLabelText('Node address'), 'ws://10.0.0.3:7878/sync')
    await user.click(screen.getByRole('button', { name: 'Connect' }))
    expect(await within(nodes).findByText('ws://10.0.0.3:7878/sync')).toBeInTheDocument()
    expect(nodes).toHaveTextContent('ws://10.0.0.3:7878/sync Connecting… · added here')
    await user.click(screen.getByRole('button', { name: 'Forget ws://10.0.0.2:7878/sync' }))
    expect(within(nodes).queryByText('ws://10.0.0.2:7878/sync')).not.toBeInTheDocument()
  })
})
