import { screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { fixture, renderApp } from './fixture'

describe('my requests', () => {
  it('shows each state in words, with the reason of a denied one', async () => {
    const { chidi, bo, fest, tent } = await fixture()
    // Chidi asks for the tent too late in the day: fcfs denies it, naming why.
    await chidi.createEvent(fest.id, {
      title: 'Night talk',
      start: '2026-07-01T21:00:00Z',
      end: '2026-07-01T22:00:00Z',
      requests: [{ resource: tent.id }],
    })
    void bo
    renderApp(chidi, '/requests')
    // Waiting: the meadow. Not confirmed: the night talk, and the stage, which Ana's node
    // denied at once because the Opening has it.
    const waiting = await screen.findByRole('heading', { name: /Waiting for the owner/ })
    expect(waiting).toHaveTextContent('(1)')
    const notConfirmed = screen.getByRole('heading', { name: /Not confirmed/ })
    expect(notConfirmed).toHaveTextContent('(2)')
    const stage = screen.getByRole('listitem', { name: 'Jam session: Main stage' })
    expect(stage).toHaveTextContent(/Reason: overlaps confirmed request [0-9a-f]{8} \(Opening, 2026-07-01 18:00–20:00\)/)
    const night = screen.getByRole('listitem', { name: 'Night talk: Tent B' })
    expect(night).toHaveTextContent('Denied')
    expect(night).toHaveTextContent("Reason: the requested time frame is outside the resource's availability")
    // 21:00–22:00 UTC is 23:00–00:00 in Berlin: ending at midnight stays on the same day.
    expect(night).toHaveTextContent('Wed 1 Jul, 23:00–00:00')
  })

  it('updates live when the owner decides on another device', async () => {
    const { chidi, ana, opening, jam, stage } = await fixture()
    renderApp(chidi, '/requests')
    const card = await screen.findByRole('listitem', { name: 'Jam session: Main stage' })
    expect(within(card).getByText('Denied')).toBeInTheDocument()

    // Ana, elsewhere, releases the Opening and confirms the Jam session after all. No reload here.
    await ana.release(opening.requests[0].id)
    await ana.confirm(jam.requests.find((r) => r.resource === stage.id)!.id)
    await waitFor(() =>
      expect(within(screen.getByRole('listitem', { name: 'Jam session: Main stage' })).getByText('Confirmed')).toBeInTheDocument(),
    )
    expect(screen.getByRole('heading', { name: /^Confirmed/ })).toHaveTextContent('(1)')
  })

  it('withdraws a request', async () => {
    const { chidi } = await fixture()
    renderApp(chidi, '/requests')
    const card = await screen.findByRole('listitem', { name: 'Jam session: Meadow' })
    within(card).getByRole('button', { name: 'Withdraw' }).click()
    await waitFor(() => expect(screen.getByRole('heading', { name: /Ended/ })).toBeInTheDocument())
    const withdrawn = screen.getByRole('listitem', { name: 'Jam session: Meadow' })
    expect(withdrawn).toHaveTextContent('Withdrawn')
    // The node says why a request was withdrawn; the card says it as a sentence.
    expect(withdrawn).toHaveTextContent('Withdrawn by the organiser.')
  })

  it('says when a request was withdrawn because its event was cancelled', async () => {
    const { chidi, jam } = await fixture()
    await chidi.cancelEvent(jam.id)
    renderApp(chidi, '/requests')
    const card = await screen.findByRole('listitem', { name: 'Jam session: Meadow' })
    expect(card).toHaveTextContent('The event was cancelled.')
    expect(card).not.toHaveTextContent('Note:')
  })
})
