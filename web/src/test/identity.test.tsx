import { screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { LocalClient } from '../client/local'
import { alone, renderApp } from './fixture'

describe('identity', () => {
  it('edits the display name and shows the public key', async () => {
    const user = userEvent.setup()
    const client = new LocalClient() // a fresh node, no name yet
    renderApp(client, '/me')
    const name = await screen.findByLabelText('Name others see')
    await user.type(name, 'Ana')
    await user.click(screen.getByRole('button', { name: 'Save' }))
    expect(await screen.findByText(/Saved\./)).toBeInTheDocument()
    expect((await client.identity()).name).toBe('Ana')
    expect(screen.getByLabelText('Public key')).toHaveValue(client.node.publicKey())
    // The top bar now greets by name.
    expect(await screen.findByRole('link', { name: 'Ana' })).toBeInTheDocument()
  })

  it('shows the secret key only after a warning', async () => {
    const user = userEvent.setup()
    const client = await alone()
    const secret = await client.exportSecretKey()
    renderApp(client, '/me')
    await user.click(await screen.findByRole('button', { name: 'Show my secret key…' }))
    expect(screen.getByRole('alert')).toHaveTextContent('Anyone who sees this key can act as you')
    expect(screen.queryByDisplayValue(secret)).not.toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'I understand, show it' }))
    expect(await screen.findByLabelText('Secret key (keep it private)')).toHaveValue(secret)
    await user.click(screen.getByRole('button', { name: 'Hide it' }))
    expect(screen.queryByDisplayValue(secret)).not.toBeInTheDocument()
  })
})
