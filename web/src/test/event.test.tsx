import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { fixture, renderApp } from './fixture'

describe('an event page', () => {
  it('lets the organiser request one more resource, seeing first whether it is free', async () => {
    const user = userEvent.setup()
    const { chidi, jam } = await fixture()
    renderApp(chidi, `/events/${jam.id}`)
    expect(await screen.findByRole('heading', { level: 1, name: /Jam session/ })).toBeInTheDocument()
    expect(screen.getByText('Wed 1 Jul, 19:00–21:00', { selector: 'p.when.big' })).toBeInTheDocument()
    // Already requested resources are not offered again.
    const select = await screen.findByLabelText(/Resource \(for Wed 1 Jul, 19:00–21:00\)/)
    const offered = within(select).getAllByRole('option').map((o) => o.textContent)
    expect(offered).toEqual(['Choose…', 'PA system', 'Tent B'])
    await user.selectOptions(select, 'Tent B')
    // Tent B closes at 22:00 and is free at 19:00–21:00.
    const form = select.closest('form')!
    expect(await within(form).findByText('Free')).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Send request' }))
    // Tent B decides automatically (first come, first served).
    const card = await screen.findByRole('listitem', { name: 'Jam session: Tent B' })
    expect(within(card).getByText('Confirmed')).toBeInTheDocument()
  })

  it('cancels an event after asking, which frees its resources', async () => {
    const user = userEvent.setup()
    const { chidi, ana, jam, meadow } = await fixture()
    const q = jam.requests.find((r) => r.resource === meadow.id)!
    await chidi.confirm(q.id)
    renderApp(chidi, `/events/${jam.id}`)
    await user.click(await screen.findByRole('button', { name: 'Cancel event…' }))
    await user.click(screen.getByRole('button', { name: 'Yes, cancel Jam session' }))
    expect(await screen.findByText('Cancelled')).toBeInTheDocument()
    await waitFor(() => expect(screen.getAllByText('Withdrawn')).toHaveLength(2))
    expect((await ana.check({ resource: meadow.id, start: jam.start, end: jam.end })).conflicts).toEqual([])
  })

  it('does not offer the organiser’s buttons to others', async () => {
    const { bo, jam } = await fixture()
    renderApp(bo, `/events/${jam.id}`)
    expect(await screen.findByRole('heading', { level: 1, name: /Jam session/ })).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Cancel event…' })).not.toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Withdraw' })).not.toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Confirm' })).not.toBeInTheDocument()
  })
})
