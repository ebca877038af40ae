// Resources of which several may be booked at once (issue 14, "capacity"): the form, the
// lists, the timeline's "3 of 10 left" and the new-event form's check, on the real node.

import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { Timeline } from '../components/Timeline'
import { EventForm } from '../screens/NewEventScreen'
import { fixture, renderApp, renderWith } from './fixture'

function statusOf(name: string): HTMLElement {
  const row = screen.getByRole('checkbox', { name: new RegExp(name) }).closest('li')!
  return within(row).getByTestId(/^check-/)
}

describe('a resource of which several may be booked at once', () => {
  it('is shared with how many at once, or without a limit, and listed so', async () => {
    const user = userEvent.setup()
    const { ana, fest } = await fixture()
    let view = renderApp(ana, `/festivals/${fest.id}/resources/new`)
    await user.type(await screen.findByLabelText('Name'), 'Bikes')
    await user.click(screen.getByRole('radio', { name: /Thing/ }))
    const many = screen.getByLabelText('How many at once')
    expect(many).toHaveValue(1)
    await user.clear(many)
    await user.type(many, '0')
    await user.click(screen.getByRole('button', { name: 'Share it' }))
    expect(await screen.findByRole('alert')).toHaveTextContent(/How many at once: give a whole number of at least 1/)
    await user.clear(many)
    await user.type(many, '10')
    await user.click(screen.getByRole('button', { name: 'Share it' }))
    expect(await screen.findByRole('heading', { level: 1, name: /Bikes/ })).toBeInTheDocument()
    expect(screen.getByText('10 at a time')).toBeInTheDocument()

    // Tickets: no limit.
    view.unmount()
    view = renderApp(ana, `/festivals/${fest.id}/resources/new`)
    await user.type(await screen.findByLabelText('Name'), 'Tickets')
    await user.click(screen.getByRole('checkbox', { name: /No limit/ }))
    expect(screen.getByLabelText('How many at once')).toBeDisabled()
    await user.click(screen.getByRole('button', { name: 'Share it' }))
    expect(await screen.findByRole('heading', { level: 1, name: /Tickets/ })).toBeInTheDocument()
    expect(screen.getByText('No limit')).toBeInTheDocument()

    const all = await ana.resources(fest.id)
    expect(all.filter((r) => r.capacity !== 1).map((r) => [r.name, r.capacity])).toEqual([
      ['Bikes', 10],
      ['Tickets', 'unlimited'],
    ])
    view.unmount()
    view = renderApp(ana, `/festivals/${fest.id}/resources`)
    const list = await screen.findByRole('list', { name: 'Resources' })
    expect(within(list).getByRole('link', { name: 'Bikes' }).closest('li')).toHaveTextContent('· 10 at a time')
    expect(within(list).getByRole('link', { name: 'Tickets' }).closest('li')).toHaveTextContent('· No limit')
    expect(within(list).getByRole('link', { name: 'Main stage' }).closest('li')).not.toHaveTextContent(/at a time|No limit/)

    // Editing keeps the number, and changes it.
    const bikes = all.find((r) => r.name === 'Bikes')!
    view.unmount()
    renderApp(ana, `/resources/${bikes.id}/edit`)
    const field = await screen.findByLabelText('How many at once')
    expect(field).toHaveValue(10)
    await user.clear(field)
    await user.type(field, '3')
    await user.click(screen.getByRole('button', { name: 'Save changes' }))
    await waitFor(async () => expect((await ana.resource(bikes.id)).capacity).toBe(3))
  })

  it('shows how many are left in each piece of the day, and in the check of a new event', async () => {
    const { ana, bo, fest } = await fixture()
    const bikes = await ana.createResource(fest.id, { name: 'Bikes', kind: 'thing', policy: 'manual', capacity: 3 })
    // Two rides overlap 11:00–12:00 UTC (13:00–14:00 Berlin); Ana confirms both.
    for (const [title, start, end] of [
      ['Ride one', '2026-07-01T10:00:00Z', '2026-07-01T12:00:00Z'],
      ['Ride two', '2026-07-01T11:00:00Z', '2026-07-01T13:00:00Z'],
    ]) {
      const e = await bo.createEvent(fest.id, { title, start, end, requests: [{ resource: bikes.id }] })
      await ana.confirm(e.requests[0].id)
    }
    const r = await ana.resource(bikes.id)
    renderWith(ana, <Timeline timeZone="Europe/Berlin" festival={fest.id} resources={[r]} days={['2026-07-01']} now={0} />)
    const track = await screen.findByRole('list', { name: 'Bikes, Wed 1 Jul' })
    const free = within(track)
      .getAllByRole('listitem')
      .filter((li) => li.classList.contains('tl-free'))
      .map((li) => [li.textContent, li.classList.contains('tl-partly')])
    expect(free).toEqual([
      ['Free 00:00–12:00', false],
      ['2 of 3 left 12:00–13:00', true],
      ['1 of 3 left 13:00–14:00', true],
      ['2 of 3 left 14:00–15:00', true],
      ['Free 15:00–24:00', false],
    ])
    // The bookings overlap, so each has a lane of its own below the free time.
    expect(within(track).getByRole('link', { name: 'Booked: Ride one 12:00–14:00' })).toBeInTheDocument()
    expect(within(track).getByRole('link', { name: 'Booked: Ride two 13:00–15:00' })).toBeInTheDocument()
    expect(screen.getByRole('list', { name: 'What the colours mean' })).toHaveTextContent('Partly booked: how many are left')

    // A third ride fills the bikes from 13:00 to 14:00: that piece is full.
    const third = await bo.createEvent(fest.id, {
      title: 'Ride three',
      start: '2026-07-01T11:00:00Z',
      end: '2026-07-01T12:00:00Z',
      requests: [{ resource: bikes.id }],
    })
    await ana.confirm(third.requests[0].id)
    await waitFor(() => expect(within(track).getByText('Full (3)')).toBeInTheDocument())
    expect(within(track).getByLabelText('Full: all 3 booked 13:00–14:00')).toBeInTheDocument()

    // The new-event form says how many are left over the whole time asked for.
    const resources = await bo.resources(fest.id)
    renderWith(
      bo,
      <EventForm festival={fest} resources={resources} preset={{ start: '2026-07-01T10:00:00Z', end: '2026-07-01T11:00:00Z' }} debounceMs={0} />,
    )
    await waitFor(() => expect(statusOf('Bikes')).toHaveTextContent(/^✓ Free: 2 of 3 left$/))
    expect(statusOf('Bikes').closest('li')).toHaveTextContent('3 at a time')
    const start = screen.getByLabelText('Starts')
    const user = userEvent.setup()
    await user.clear(start)
    await user.type(start, '2026-07-01T13:00')
    // (Two slots with the same start come in the order of their ids.)
    await waitFor(() =>
      expect(statusOf('Bikes')).toHaveTextContent(
        /^✗ All 3 are booked: Ride one 12:00–14:00, (Ride two 13:00–15:00 and Ride three 13:00–14:00|Ride three 13:00–14:00 and Ride two 13:00–15:00)$/,
      ),
    )
  })

  it('says "no limit" for tickets', async () => {
    const { ana, bo, fest } = await fixture()
    const tickets = await ana.createResource(fest.id, { name: 'Tickets', kind: 'thing', policy: 'fcfs', capacity: 'unlimited' })
    await bo.createEvent(fest.id, { title: 'Gig', start: '2026-07-01T10:00:00Z', end: '2026-07-01T12:00:00Z', requests: [{ resource: tickets.id }] })
    const resources = await bo.resources(fest.id)
    renderWith(
      bo,
      <EventForm festival={fest} resources={resources} preset={{ start: '2026-07-01T10:00:00Z', end: '2026-07-01T11:00:00Z' }} debounceMs={0} />,
    )
    await waitFor(() => expect(statusOf('Tickets')).toHaveTextContent(/^✓ Free \(no limit\)$/))
    const r = await bo.resource(tickets.id)
    renderWith(bo, <Timeline timeZone="Europe/Berlin" festival={fest.id} resources={[r]} days={['2026-07-01']} now={0} />)
    const track = await screen.findByRole('list', { name: 'Tickets, Wed 1 Jul' })
    expect(within(track).getByText('1 booked')).toBeInTheDocument()
  })
})
