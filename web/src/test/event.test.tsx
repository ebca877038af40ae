import { cleanup, screen, waitFor, within } from '@testing-library/react'
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
    // Resources requested and still pending or confirmed are not offered again; the stage,
    // which Ana's node denied (taken by the Opening), is.
    const select = await screen.findByLabelText(/Resource \(for Wed 1 Jul, 19:00–21:00\)/)
    const offered = within(select).getAllByRole('option').map((o) => o.textContent)
    expect(offered).toEqual(['Choose…', 'Main stage', 'PA system', 'Tent B'])
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

  it('edits an event: the node says first what moves for whom, then the requests follow', async () => {
    const user = userEvent.setup()
    const { bo, opening } = await fixture()
    renderApp(bo, `/events/${opening.id}`)
    await user.click(await screen.findByRole('button', { name: 'Edit event…' }))
    const form = screen.getByRole('form', { name: 'Edit event' })
    const start = within(form).getByLabelText(/Starts/)
    await user.clear(start)
    await user.type(start, '2026-07-01T19:00')
    const end = within(form).getByLabelText('Ends')
    await user.clear(end)
    await user.type(end, '2026-07-01T21:00')
    await user.click(within(form).getByRole('button', { name: 'Review changes' }))
    const preview = await within(form).findByRole('status', { name: 'What changes for others' })
    expect(preview).toHaveTextContent(
      'Main stage (Ana): moved from Wed 1 Jul, 18:00–20:00 to Wed 1 Jul, 19:00–21:00. The booked slot stays yours until Ana decides the new time.',
    )
    // Nothing is signed before saving.
    expect((await bo.event(opening.id)).start).toBe('2026-07-01T16:00:00Z')
    await user.click(within(form).getByRole('button', { name: 'Save changes' }))
    expect(await screen.findByText('Wed 1 Jul, 19:00–21:00', { selector: 'p.when.big' })).toBeInTheDocument()
    const e = await bo.event(opening.id)
    expect(e.requests.map((q) => [q.status, q.holds_slot, q.moved_from?.start ?? null])).toEqual([
      ['withdrawn', true, null],
      ['pending', false, '2026-07-01T16:00:00Z'],
    ])
  })

  it('lets the organiser pick another time for a request that moves', async () => {
    const user = userEvent.setup()
    const { bo, opening } = await fixture()
    renderApp(bo, `/events/${opening.id}`)
    await user.click(await screen.findByRole('button', { name: 'Edit event…' }))
    const form = screen.getByRole('form', { name: 'Edit event' })
    const start = within(form).getByLabelText(/Starts/)
    await user.clear(start)
    await user.type(start, '2026-07-01T19:00')
    const end = within(form).getByLabelText('Ends')
    await user.clear(end)
    await user.type(end, '2026-07-01T22:00')
    await user.click(within(form).getByRole('button', { name: 'Review changes' }))
    await user.click(await within(form).findByRole('button', { name: 'Another time for Main stage…' }))
    const from = within(form).getByLabelText('From')
    await user.clear(from)
    await user.type(from, '2026-07-01T19:30')
    const until = within(form).getByLabelText('until')
    await user.clear(until)
    await user.type(until, '2026-07-01T21:00')
    await user.click(within(form).getByRole('button', { name: 'Use this time for Main stage' }))
    await user.click(within(form).getByRole('button', { name: 'Review changes' }))
    expect(await within(form).findByRole('status', { name: 'What changes for others' })).toHaveTextContent(
      'Main stage (Ana): moved from Wed 1 Jul, 18:00–20:00 to Wed 1 Jul, 19:30–21:00.',
    )
    await user.click(within(form).getByRole('button', { name: 'Save changes' }))
    await waitFor(async () => {
      const e = await bo.event(opening.id)
      expect(e.requests.map((q) => [q.status, q.start, q.end])).toEqual([
        ['withdrawn', '2026-07-01T16:00:00Z', '2026-07-01T18:00:00Z'],
        ['pending', '2026-07-01T17:30:00Z', '2026-07-01T19:00:00Z'],
      ])
    })
  })

  it('lets only the festival’s creator change it', async () => {
    const user = userEvent.setup()
    const { ana, bo, fest } = await fixture()
    renderApp(bo, `/festivals/${fest.id}`)
    await user.click(await screen.findByRole('button', { name: 'Edit festival…' }))
    const form = screen.getByRole('form', { name: 'Edit festival' })
    await user.clear(within(form).getByLabelText('Name'))
    await user.type(within(form).getByLabelText('Name'), 'Fusion 2026')
    await user.click(within(form).getByRole('button', { name: 'Save changes' }))
    expect(await screen.findByRole('heading', { level: 1, name: 'Fusion 2026' })).toBeInTheDocument()
    expect((await bo.festival(fest.id)).timezone).toBe('Europe/Berlin')
    cleanup()
    renderApp(ana, `/festivals/${fest.id}`)
    expect(await screen.findByRole('heading', { level: 1, name: 'Fusion 2026' })).toBeInTheDocument()
    // Ana's identity has arrived (her name is in the top bar): the button would be there now.
    const nav = screen.getByRole('navigation', { name: 'Main' })
    expect(await within(nav).findByRole('link', { name: 'Ana' })).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Edit festival…' })).not.toBeInTheDocument()
  })
})
