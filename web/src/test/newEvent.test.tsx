import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { EventForm } from '../screens/NewEventScreen'
import { fixture, renderApp, renderWith } from './fixture'

function statusOf(name: string): HTMLElement {
  const row = screen.getByRole('checkbox', { name: new RegExp(name) }).closest('li')!
  return within(row).getByTestId(/^check-/)
}

describe('creating an event', () => {
  it('shows per resource whether it is free, taken (by what), held or outside availability, before sending', async () => {
    const user = userEvent.setup()
    const { ana, fest } = await fixture()
    const resources = await ana.resources(fest.id)
    renderWith(
      ana,
      <EventForm
        festival={fest}
        resources={resources}
        preset={{ start: '2026-07-01T17:30:00Z', end: '2026-07-01T20:30:00Z' }}
        debounceMs={0}
      />,
    )
    // 19:30–22:30 Berlin: the stage is taken by the Opening until 20:00; the tent closes at 22:00;
    // the meadow is free but also requested by the Jam session (a hold, not confirmed), and
    // the PA is free.
    expect(screen.getByLabelText('Starts')).toHaveValue('2026-07-01T19:30')
    expect(screen.getByLabelText('Ends')).toHaveValue('2026-07-01T22:30')
    await waitFor(() => expect(statusOf('Main stage')).toHaveTextContent('Taken by Opening 18:00–20:00'))
    expect(statusOf('Tent B')).toHaveTextContent(/Not available at this time/)
    expect(statusOf('Meadow')).toHaveTextContent(
      '◐ Free, but also requested for Jam session 19:00–21:00: waiting for the owner',
    )
    expect(statusOf('PA system')).toHaveTextContent(/^✓ Free$/)

    // Moving the event after the Opening frees the stage; the duration stays.
    const start = screen.getByLabelText('Starts')
    await user.clear(start)
    await user.type(start, '2026-07-01T20:00')
    expect(screen.getByLabelText('Ends')).toHaveValue('2026-07-01T23:00')
    await waitFor(() => expect(statusOf('Main stage')).toHaveTextContent(/^✓ Free$/))

    // The chosen resources are summed up.
    await user.click(screen.getByRole('checkbox', { name: /PA system/ }))
    expect(await screen.findByRole('status')).toHaveTextContent('The chosen resource is free.')
    await user.click(screen.getByRole('checkbox', { name: /Tent B/ }))
    expect(await screen.findByRole('status')).toHaveTextContent('1 of 2 chosen resources free.')
  })

  it('creates the event with its requests and shows their state', async () => {
    const user = userEvent.setup()
    const { ana, fest, tent, pa } = await fixture()
    renderApp(ana, `/festivals/${fest.id}/events/new?start=2026-07-01T10:00:00Z&end=2026-07-01T11:00:00Z&resource=${tent.id}`)
    await user.type(await screen.findByLabelText('Title'), 'Breakfast talk')
    await user.click(screen.getByRole('checkbox', { name: /PA system/ }))
    expect(screen.getByRole('checkbox', { name: /Tent B/ })).toBeChecked()
    await user.click(screen.getByRole('button', { name: 'Create event and send 2 requests' }))

    expect(await screen.findByRole('heading', { level: 1, name: /Breakfast talk/ })).toBeInTheDocument()
    expect(screen.getByText('Wed 1 Jul, 12:00–13:00', { selector: 'p.when.big' })).toBeInTheDocument()
    // Tent B is first-come-first-served and free: confirmed at once. The PA waits for its owner (Ana).
    const tentCard = await screen.findByRole('listitem', { name: 'Breakfast talk: Tent B' })
    expect(within(tentCard).getByText('Confirmed')).toBeInTheDocument()
    const paCard = screen.getByRole('listitem', { name: 'Breakfast talk: PA system' })
    expect(within(paCard).getByText('Waiting for you')).toBeInTheDocument()
    const [ev] = (await ana.events(fest.id)).filter((e) => e.title === 'Breakfast talk')
    expect(ev.requests.map((r) => [r.resource, r.start, r.end]).sort()).toEqual(
      [
        [tent.id, '2026-07-01T10:00:00Z', '2026-07-01T11:00:00Z'],
        [pa.id, '2026-07-01T10:00:00Z', '2026-07-01T11:00:00Z'],
      ].sort(),
    )
  })

  it('shows the error of the API in words', async () => {
    const user = userEvent.setup()
    const { ana, fest, stage } = await fixture()
    await ana.retireResource(stage.id) // retired after the form loaded its list
    const resources = (await ana.resources(fest.id)).map((r) => (r.id === stage.id ? { ...r, retired: false } : r))
    renderWith(ana, <EventForm festival={fest} resources={resources} debounceMs={0} preset={{ start: '2026-07-02T10:00:00Z' }} />)
    await user.type(screen.getByLabelText('Title'), 'Late idea')
    await user.click(screen.getByRole('checkbox', { name: /Main stage/ }))
    await user.click(screen.getByRole('button', { name: /Create event/ }))
    expect(await screen.findByRole('alert')).toHaveTextContent('cannot request Main stage: the resource is retired')
  })

  it('previews an event past midnight on both days', async () => {
    const { ana, fest } = await fixture()
    const resources = await ana.resources(fest.id)
    // 21:00–02:30 Berlin.
    renderWith(ana, <EventForm festival={fest} resources={resources} preset={{ start: '2026-07-01T19:00:00Z', end: '2026-07-02T00:30:00Z' }} debounceMs={0} />)
    expect(screen.getByRole('heading', { name: 'Those days at a glance' })).toBeInTheDocument()
    for (const day of ['Wed 1 Jul', 'Thu 2 Jul']) {
      const track = await screen.findByRole('list', { name: `Main stage, ${day}` })
      expect(within(track).getByText('Your event: Wed 1 Jul 21:00 – Thu 2 Jul 02:30')).toBeInTheDocument()
    }
  })

  // Fusion runs from 1 July 12:00 to 3 July 24:00, Berlin time.
  const FUSION = 'This is outside Fusion (1 July 2026 12:00 – 3 July 2026 24:00). You can still create it.'
  it.each([
    ['inside the festival', '2026-07-02T10:00:00Z', '2026-07-02T12:00:00Z', null],
    ['starting before it', '2026-07-01T08:00:00Z', '2026-07-01T11:00:00Z', FUSION],
    ['ending after it', '2026-07-03T21:00:00Z', '2026-07-03T23:00:00Z', FUSION],
    ['years later', '2030-07-01T10:00:00Z', '2030-07-01T12:00:00Z', FUSION],
  ])('warns about an event outside the festival: %s', async (_, start, end, warning) => {
    const { ana, fest } = await fixture()
    renderWith(ana, <EventForm festival={fest} resources={[]} preset={{ start, end }} debounceMs={0} />)
    if (warning) expect(screen.getByText(warning)).toHaveAttribute('id', 'e-outside')
    else expect(screen.queryByText(/This is outside/)).toBeNull()
    expect(screen.getByLabelText('Starts')).toHaveAccessibleDescription(expect.stringContaining(warning ?? 'the festival\'s time zone'))
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('still creates an event outside the festival, after the warning', async () => {
    const user = userEvent.setup()
    const { ana, fest } = await fixture()
    renderApp(ana, `/festivals/${fest.id}/events/new?start=2030-07-01T10:00:00Z&end=2030-07-01T11:00:00Z`)
    expect(await screen.findByText(FUSION)).toBeInTheDocument()
    await user.type(screen.getByLabelText('Title'), 'Reunion')
    await user.click(screen.getByRole('button', { name: 'Create event' }))
    expect(await screen.findByRole('heading', { level: 1, name: /Reunion/ })).toBeInTheDocument()
  })

  it('clears a fixed problem and shows only the current one', async () => {
    const user = userEvent.setup()
    const { ana, fest } = await fixture()
    renderWith(ana, <EventForm festival={fest} resources={[]} debounceMs={0} preset={{ start: '2026-07-02T10:00:00Z' }} />)
    await user.click(screen.getByRole('button', { name: 'Create event' }))
    expect(screen.getByRole('alert')).toHaveTextContent('Give the event a title.')
    await user.type(screen.getByLabelText('Title'), 'Talk')
    expect(screen.queryByRole('alert')).toBeNull()
    // A new problem: the end before the start (12:00–11:00).
    const endField = screen.getByLabelText('Ends')
    await user.clear(endField)
    await user.type(endField, '2026-07-02T11:00')
    expect(screen.getByRole('alert')).toHaveTextContent(/^The end must be after the start\.$/)
    await user.clear(endField)
    await user.type(endField, '2026-07-02T13:00')
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('clears what the node said when the form changes', async () => {
    const user = userEvent.setup()
    const { ana, fest, stage } = await fixture()
    await ana.retireResource(stage.id)
    const resources = (await ana.resources(fest.id)).map((r) => (r.id === stage.id ? { ...r, retired: false } : r))
    renderWith(ana, <EventForm festival={fest} resources={resources} debounceMs={0} preset={{ start: '2026-07-02T10:00:00Z' }} />)
    await user.type(screen.getByLabelText('Title'), 'Late idea')
    await user.click(screen.getByRole('checkbox', { name: /Main stage/ }))
    await user.click(screen.getByRole('button', { name: /Create event/ }))
    expect(await screen.findByRole('alert')).toHaveTextContent('the resource is retired')
    await user.click(screen.getByRole('checkbox', { name: /Main stage/ }))
    expect(screen.queryByRole('alert')).toBeNull()
  })
})
