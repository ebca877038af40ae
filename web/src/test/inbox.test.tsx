import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { fixture, renderApp } from './fixture'

describe("the owner's inbox", () => {
  it('shows what the node turned away and why, and confirms after all once the time is free', async () => {
    const user = userEvent.setup()
    const { ana, opening } = await fixture()
    renderApp(ana, '/inbox')
    // The Jam session asked for the stage the Opening has: Ana's node denied it at once.
    expect(await screen.findByText(/Nothing is waiting for you/)).toBeInTheDocument()
    await user.selectOptions(screen.getByLabelText('Show'), 'denied')
    const card = await screen.findByRole('listitem', { name: 'Jam session: Main stage' })
    expect(card).toHaveTextContent('Wed 1 Jul, 19:00–21:00')
    expect(card).toHaveTextContent('Asked by Chidi · Policy: Owner decides')
    expect(card).toHaveTextContent(/Reason: overlaps confirmed request [0-9a-f]{8} \(Opening, 2026-07-01 18:00–20:00\)/)
    expect(await within(card).findByText('Taken by Opening 18:00–20:00')).toBeInTheDocument()

    await user.click(within(card).getByRole('button', { name: 'Confirm after all' }))
    expect(await within(card).findByRole('alert')).toHaveTextContent(
      /cannot confirm: overlaps confirmed request [0-9a-f]{8} \(Opening, 2026-07-01 18:00–20:00\)/,
    )

    // Once the Opening is released, the same confirm works.
    await ana.release(opening.requests[0].id)
    await waitFor(() => expect(within(card).queryByText(/Taken by/)).not.toBeInTheDocument())
    await user.click(within(card).getByRole('button', { name: 'Confirm after all' }))
    await waitFor(() => expect(screen.queryByRole('listitem', { name: 'Jam session: Main stage' })).not.toBeInTheDocument())
    const q = (await ana.requests({ incoming: true })).find((r) => r.event_title === 'Jam session')!
    expect(q.status).toBe('confirmed')
  })

  it('denies with a reason the organiser can read', async () => {
    const user = userEvent.setup()
    const { chidi, jam } = await fixture()
    renderApp(chidi, '/inbox')
    const card = await screen.findByRole('listitem', { name: 'Jam session: Meadow' })
    await user.click(within(card).getByRole('button', { name: 'Deny…' }))
    await user.type(within(card).getByLabelText(/Reason/), 'The grass is wet')
    await user.click(within(card).getByRole('button', { name: 'Deny' }))
    await waitFor(() => expect(screen.queryByRole('listitem', { name: 'Jam session: Meadow' })).not.toBeInTheDocument())

    await user.selectOptions(screen.getByLabelText('Show'), 'all')
    const denied = await screen.findByRole('listitem', { name: 'Jam session: Meadow' })
    expect(denied).toHaveTextContent('Denied')
    expect(denied).toHaveTextContent('Reason: The grass is wet')
    // The owner may still change their mind (the meadow is free).
    const again = within(denied).getByRole('button', { name: 'Confirm after all' })
    expect(again).not.toHaveClass('primary')
    expect(denied).not.toHaveTextContent(/Taken by|✓ Free/)
    const q = await chidi.request(jam.requests.find((r) => r.resource_name === 'Meadow')!.id)
    expect(q).toMatchObject({ status: 'denied', reason: 'The grass is wet' })
  })

  it('shows which competing requests a confirm would turn away, filters, and denies several at once', async () => {
    const user = userEvent.setup()
    const { world, bo, chidi, fest, meadow } = await fixture()
    // Bo's Picnic (20:00–22:00 Berlin) competes with the Jam session (19:00–21:00) for the meadow.
    await bo.createEvent(fest.id, {
      title: 'Picnic',
      start: '2026-07-01T18:00:00Z',
      end: '2026-07-01T20:00:00Z',
      requests: [{ resource: meadow.id }],
    })
    await bo.createEvent(fest.id, {
      title: 'Breakfast',
      start: '2026-07-02T07:00:00Z',
      end: '2026-07-02T08:00:00Z',
      requests: [{ resource: meadow.id }],
    })
    await world.share(fest.id)
    renderApp(chidi, '/inbox')
    const jam = await screen.findByRole('listitem', { name: 'Jam session: Meadow' })
    const picnic = await screen.findByRole('listitem', { name: 'Picnic: Meadow' })
    expect(jam).toHaveTextContent('Confirming this turns away: Picnic (20:00–22:00)')
    expect(picnic).toHaveTextContent('Confirming this turns away: Jam session (19:00–21:00)')

    // The day filter leaves the 1 July requests.
    await user.selectOptions(screen.getByLabelText('Day'), '2026-07-01')
    expect(screen.queryByRole('listitem', { name: 'Breakfast: Meadow' })).not.toBeInTheDocument()
    await user.selectOptions(screen.getByLabelText('Day'), '')
    expect(await screen.findByRole('listitem', { name: 'Breakfast: Meadow' })).toBeInTheDocument()

    await user.click(within(jam).getByRole('checkbox', { name: /Select Jam session/ }))
    await user.click(within(picnic).getByRole('checkbox', { name: /Select Picnic/ }))
    const bulk = screen.getByRole('group', { name: 'Decide several requests' })
    await user.type(within(bulk).getByLabelText(/Reason for a deny/), 'The meadow is being mowed')
    await user.click(within(bulk).getByRole('button', { name: 'Deny selected (2)' }))
    expect(await screen.findByRole('status', { name: 'What the bulk decision did' })).toHaveTextContent('2 denied.')
    await waitFor(() => expect(screen.queryByRole('listitem', { name: 'Picnic: Meadow' })).not.toBeInTheDocument())
    expect(screen.getByRole('listitem', { name: 'Breakfast: Meadow' })).toBeInTheDocument()
    const mine = await chidi.requests({ incoming: true })
    expect(mine.filter((q) => q.status === 'denied').map((q) => [q.event_title, q.reason])).toEqual([
      ['Jam session', 'The meadow is being mowed'],
      ['Picnic', 'The meadow is being mowed'],
    ])
  })

  it('shows a moved request as one item, moved from … to …, and keeps the old slot until it is decided', async () => {
    const user = userEvent.setup()
    const { world, ana, bo, fest, opening, stage } = await fixture()
    const moved = await bo.updateEvent(opening.id, { start: '2026-07-01T17:00:00Z', end: '2026-07-01T19:00:00Z' })
    expect(moved.moves.map((m) => [m.resource_name, m.confirmed])).toEqual([['Main stage', true]])
    await world.share(fest.id)
    renderApp(ana, '/inbox')
    const card = await screen.findByRole('listitem', { name: 'Opening: Main stage' })
    expect(card).toHaveTextContent(
      'Moved from Wed 1 Jul, 18:00–20:00 to Wed 1 Jul, 19:00–21:00: the old time stays booked for it until you decide.',
    )
    expect(screen.getAllByRole('listitem', { name: /: Main stage$/ })).toHaveLength(1)
    // The old slot still counts for everyone else until Ana decides.
    const held = await ana.check({ resource: stage.id, start: '2026-07-01T16:00:00Z', end: '2026-07-01T17:00:00Z' })
    expect(held.free).toBe(false)

    await user.click(within(card).getByRole('button', { name: 'Confirm' }))
    expect(await screen.findByText(/Nothing is waiting for you/)).toBeInTheDocument()
    const after = await ana.calendar(stage.id, '2026-07-01T00:00:00Z', '2026-07-02T00:00:00Z')
    expect(after.confirmed.map((s) => [s.event_title, s.start, s.end])).toEqual([
      ['Opening', '2026-07-01T17:00:00Z', '2026-07-01T19:00:00Z'],
    ])
  })

  it('counts what waits in the top bar', async () => {
    const { chidi } = await fixture()
    renderApp(chidi, '/')
    const nav = screen.getByRole('navigation', { name: 'Main' })
    expect(await within(nav).findByText('1')).toBeInTheDocument()
  })
})
