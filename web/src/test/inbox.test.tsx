import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { fixture, renderApp } from './fixture'

describe("the owner's inbox", () => {
  it('shows what waits, with the conflict and the policy, and refuses a conflicting confirm in words', async () => {
    const user = userEvent.setup()
    const { ana, opening } = await fixture()
    renderApp(ana, '/inbox')
    const card = await screen.findByRole('listitem', { name: 'Jam session: Main stage' })
    expect(card).toHaveTextContent('Wed 1 Jul, 19:00–21:00')
    expect(card).toHaveTextContent('Asked by Chidi · Policy: Owner decides')
    expect(within(card).getByText('Waiting for you')).toBeInTheDocument()
    expect(await within(card).findByText('Taken by Opening 18:00–20:00')).toBeInTheDocument()
    // A taken time: Confirm is not offered as the obvious next step...
    expect(within(card).getByRole('button', { name: 'Confirm' })).not.toHaveClass('primary')

    await user.click(within(card).getByRole('button', { name: 'Confirm' }))
    expect(await within(card).findByRole('alert')).toHaveTextContent(
      /cannot confirm: overlaps confirmed request [0-9a-f]{8} \(Opening, 2026-07-01 18:00–20:00\)/,
    )

    // Once the Opening is released, the same confirm works and the inbox empties.
    await ana.release(opening.requests[0].id)
    await waitFor(() => expect(within(card).queryByText(/Taken by/)).not.toBeInTheDocument())
    // ...and is, once the time is free.
    expect(within(card).getByRole('button', { name: 'Confirm' })).toHaveClass('primary')
    await user.click(within(card).getByRole('button', { name: 'Confirm' }))
    expect(await screen.findByText(/Nothing is waiting for you/)).toBeInTheDocument()
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

    await user.click(screen.getByRole('button', { name: /All requests/ }))
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

  it('counts what waits in the top bar', async () => {
    const { ana } = await fixture()
    renderApp(ana, '/')
    const nav = screen.getByRole('navigation', { name: 'Main' })
    expect(await within(nav).findByText('1')).toBeInTheDocument()
  })
})
