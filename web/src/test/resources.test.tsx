import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { fixture, renderApp } from './fixture'

describe('resources', () => {
  it('shares a place with a GPS point, availability in the festival zone and a policy', async () => {
    const user = userEvent.setup()
    const { ana, fest } = await fixture()
    renderApp(ana, `/festivals/${fest.id}/resources/new`)

    await user.type(await screen.findByLabelText('Name'), 'Garden')
    await user.click(screen.getByRole('radio', { name: /Place/ }))
    await user.type(screen.getByLabelText('Street address (optional)'), 'Hofweg 2')
    await user.type(screen.getByLabelText('Latitude (optional)'), '52,5')
    await user.type(screen.getByLabelText('Longitude (optional)'), '13.4')
    await user.click(screen.getByRole('radio', { name: 'Only at these times' }))
    // The first window is prefilled with the festival's frame; change it to 1 July 09:00–12:00 Berlin.
    const from = screen.getByLabelText('From (time 1)')
    const until = screen.getByLabelText('Until (time 1)')
    await user.clear(from)
    await user.type(from, '2026-07-01T09:00')
    await user.clear(until)
    await user.type(until, '2026-07-01T12:00')
    await user.click(screen.getByRole('radio', { name: /Automatic/ }))
    await user.click(screen.getByRole('button', { name: 'Share it' }))

    expect(await screen.findByRole('heading', { level: 1, name: /Garden/ })).toBeInTheDocument()
    expect(screen.getByText(/First come, first served/)).toBeInTheDocument()
    expect(screen.getByText('Wed 1 Jul, 09:00–12:00')).toBeInTheDocument()
    const garden = (await ana.resources(fest.id)).find((r) => r.name === 'Garden')!
    expect(garden).toMatchObject({
      kind: 'location',
      address: 'Hofweg 2',
      location: { lat: 52.5, lon: 13.4 },
      policy: 'fcfs',
      availability: [{ start: '2026-07-01T07:00:00Z', end: '2026-07-01T10:00:00Z' }],
      mine: true,
    })
  })

  it('refuses a latitude out of range with a sentence', async () => {
    const user = userEvent.setup()
    const { ana, fest } = await fixture()
    renderApp(ana, `/festivals/${fest.id}/resources/new`)
    await user.type(await screen.findByLabelText('Name'), 'Nowhere')
    await user.type(screen.getByLabelText('Latitude (optional)'), '123')
    await user.type(screen.getByLabelText('Longitude (optional)'), '13')
    await user.click(screen.getByRole('button', { name: 'Share it' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('The latitude must be a number between -90 and 90.')
    expect((await ana.resources(fest.id)).map((r) => r.name)).not.toContain('Nowhere')
  })

  it('lists resources with owner and policy, and only the owner may edit', async () => {
    const { ana, fest, stage, tent } = await fixture()
    renderApp(ana, `/festivals/${fest.id}/resources`)
    const list = await screen.findByRole('list', { name: 'Resources' })
    const stageRow = within(list).getByRole('link', { name: 'Main stage' }).closest('li')!
    expect(stageRow).toHaveTextContent('Ana (you) · Owner decides')
    const tentRow = within(list).getByRole('link', { name: 'Tent B' }).closest('li')!
    expect(tentRow).toHaveTextContent('Bo · Automatic (first come, first served) · Available Wed 1 Jul, 10:00–22:00')

    window.location.hash = `/resources/${stage.id}`
    expect(await screen.findByRole('link', { name: 'Edit' })).toBeInTheDocument()
    window.location.hash = `/resources/${tent.id}`
    expect(await screen.findByRole('heading', { level: 1, name: /Tent B/ })).toBeInTheDocument()
    expect(screen.queryByRole('link', { name: 'Edit' })).not.toBeInTheDocument()
  })
})

describe('editing a resource', () => {
  it('changes the policy and makes it available any time', async () => {
    const user = userEvent.setup()
    const { bo, tent } = await fixture()
    renderApp(bo, `/resources/${tent.id}/edit`)
    expect(await screen.findByRole('heading', { level: 1, name: 'Edit Tent B' })).toBeInTheDocument()
    // The form starts from the resource as it is, in the festival's zone.
    expect(screen.getByRole('radio', { name: /Automatic/ })).toBeChecked()
    expect(screen.getByLabelText('From (time 1)')).toHaveValue('2026-07-01T10:00')
    await user.click(screen.getByRole('radio', { name: 'Any time' }))
    await user.click(screen.getByRole('radio', { name: /I do/ }))
    await user.click(screen.getByRole('button', { name: 'Save changes' }))
    expect(await screen.findByText('The owner confirms or denies each request')).toBeInTheDocument()
    expect(await bo.resource(tent.id)).toMatchObject({ availability: 'always', policy: 'manual', name: 'Tent B' })
  })

  it('says first which waiting requests a narrower availability would turn away', async () => {
    const user = userEvent.setup()
    const { chidi, meadow, jam } = await fixture()
    renderApp(chidi, `/resources/${meadow.id}/edit`)
    expect(await screen.findByRole('heading', { level: 1, name: 'Edit Meadow' })).toBeInTheDocument()
    // Only the morning of 1 July: the Jam session (19:00–21:00) waits for the meadow.
    await user.click(screen.getByRole('radio', { name: 'Only at these times' }))
    const from = screen.getByLabelText('From (time 1)')
    const until = screen.getByLabelText('Until (time 1)')
    await user.clear(from)
    await user.type(from, '2026-07-01T08:00')
    await user.clear(until)
    await user.type(until, '2026-07-01T12:00')
    await user.click(screen.getByRole('button', { name: 'Save changes' }))
    const effects = await screen.findByRole('status', { name: 'What changes for others' })
    expect(effects).toHaveTextContent(
      "Jam session (Wed 1 Jul, 19:00–21:00), asked by Chidi: the requested time frame is outside the resource's availability",
    )
    const q = jam.requests.find((r) => r.resource === meadow.id)!
    expect((await chidi.request(q.id)).status).toBe('pending')
    await user.click(screen.getByRole('button', { name: 'Save anyway' }))
    await waitFor(async () => expect((await chidi.request(q.id)).status).toBe('denied'))
    expect((await chidi.resource(meadow.id)).availability).toEqual([
      { start: '2026-07-01T06:00:00Z', end: '2026-07-01T10:00:00Z' },
    ])
  })

  it('takes a recurring time: every day 14:00–01:00 for the festival’s days', async () => {
    const user = userEvent.setup()
    const { chidi, fest } = await fixture()
    renderApp(chidi, `/festivals/${fest.id}/resources/new`)
    await user.type(await screen.findByLabelText('Name'), 'Bar')
    await user.click(screen.getByRole('radio', { name: 'Every day at the same hours' }))
    // The festival's days are the default; the hours are typed.
    expect(screen.getByLabelText('First day')).toHaveValue('2026-07-01')
    expect(screen.getByLabelText('Last day')).toHaveValue('2026-07-03')
    await user.clear(screen.getByLabelText('From (every day)'))
    await user.type(screen.getByLabelText('From (every day)'), '14:00')
    await user.clear(screen.getByLabelText('Until (every day)'))
    await user.type(screen.getByLabelText('Until (every day)'), '01:00')
    await user.click(screen.getByRole('button', { name: 'Share it' }))
    expect(await screen.findByRole('heading', { level: 1, name: /Bar/ })).toBeInTheDocument()
    const bar = (await chidi.resources(fest.id)).find((r) => r.name === 'Bar')!
    // Berlin is UTC+2 in July: 14:00–01:00 is 12:00–23:00 UTC, one window a day.
    expect(bar.availability).toEqual([
      { start: '2026-07-01T12:00:00Z', end: '2026-07-01T23:00:00Z' },
      { start: '2026-07-02T12:00:00Z', end: '2026-07-02T23:00:00Z' },
      { start: '2026-07-03T12:00:00Z', end: '2026-07-03T23:00:00Z' },
    ])
  })
})
