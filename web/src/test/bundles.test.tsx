// All or nothing, needed resources and deadlines (issue 14, "bundles"): a resource that needs
// another, an event created through the form with the needed resource added by the node,
// "x of y confirmed", and the rest withdrawn by the organiser's node when one is denied.

import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { fixture, renderApp } from './fixture'

describe('an event that is all or nothing', () => {
  it('adds what a resource needs, is booked only when all are confirmed, and shows deadlines', async () => {
    const user = userEvent.setup()
    const { world, ana, bo, chidi, fest, pa } = await fixture()
    const engineer = await bo.createResource(fest.id, { name: 'Sound engineer', kind: 'skill', policy: 'manual' })
    await world.share(fest.id)

    // Ana says in the PA's form that it needs the sound engineer.
    let view = renderApp(ana, `/resources/${pa.id}/edit`)
    const needs = await screen.findByRole('group', { name: 'Needs' })
    expect(within(needs).queryByRole('checkbox', { name: /PA system/ })).not.toBeInTheDocument()
    await user.click(within(needs).getByRole('checkbox', { name: /Sound engineer/ }))
    await user.click(screen.getByRole('button', { name: 'Save changes' }))
    expect(await screen.findByRole('heading', { level: 1, name: /PA system/ })).toBeInTheDocument()
    expect(await screen.findByRole('link', { name: 'Sound engineer' })).toHaveAttribute('href', `#/resources/${engineer.id}`)
    expect((await ana.resource(pa.id)).needs).toEqual([engineer.id])
    view.unmount()

    // Chidi plans a concert with the PA: the form says the engineer comes with it.
    view = renderApp(chidi, `/festivals/${fest.id}/events/new?start=2026-07-02T10:00:00Z&end=2026-07-02T12:00:00Z`)
    await user.type(await screen.findByLabelText('Title'), 'Concert')
    // The PA's list (loaded before Ana's change reached this form's data) is read afresh.
    await user.click(await screen.findByRole('checkbox', { name: /PA system/ }))
    expect(await screen.findByText('PA system needs Sound engineer: it will be requested too, all or nothing.')).toBeInTheDocument()
    const engineerRow = screen.getByRole('checkbox', { name: /Sound engineer/ }).closest('li')!
    expect(engineerRow).toHaveTextContent('requested too: PA system needs it')
    // It is requested whatever one ticks: shown ticked, and fixed.
    expect(screen.getByRole('checkbox', { name: /Sound engineer/ })).toBeChecked()
    expect(screen.getByRole('checkbox', { name: /Sound engineer/ })).toBeDisabled()
    const aon = screen.getByRole('checkbox', { name: 'All or nothing' })
    expect(aon).toBeChecked()
    expect(aon).toBeDisabled()
    await user.type(screen.getByLabelText('Withdraw requests still waiting at (optional)'), '2027-01-10T12:00')
    await user.click(screen.getByRole('button', { name: 'Create event and send 2 requests' }))

    expect(await screen.findByRole('heading', { level: 1, name: /Concert/ })).toBeInTheDocument()
    const bundle = screen.getByRole('status', { name: 'How far the event is booked' })
    expect(bundle).toHaveTextContent('0 of 2 confirmed — all or nothing: booked only when all are confirmed')
    const engineerCard = screen.getByRole('listitem', { name: 'Concert: Sound engineer' })
    expect(engineerCard).toHaveTextContent(/Waits until Sun 10 Jan( 2027)?, 12:00: if it is not decided by then, the organiser's node withdraws it\./)
    const [concert] = (await chidi.events(fest.id)).filter((e) => e.title === 'Concert')
    expect(concert).toMatchObject({ all_or_nothing: true, requested: 2, confirmed: 0, booked: false })
    expect(concert.requests.map((q) => [q.resource_name, q.until])).toEqual([
      ['PA system', '2027-01-10T11:00:00Z'],
      ['Sound engineer', '2027-01-10T11:00:00Z'],
    ])

    // Ana confirms the PA: one of two; Bo the engineer: booked.
    await ana.confirm(concert.requests[0].id)
    await waitFor(() => expect(bundle).toHaveTextContent('1 of 2 confirmed — all or nothing'))
    expect(bundle).not.toHaveTextContent('Booked')
    await bo.confirm(concert.requests[1].id)
    await waitFor(() => expect(bundle).toHaveTextContent('2 of 2 confirmed — all or nothing: booked only when all are confirmed. Booked: it is in the programme.'))
    expect(engineerCard).not.toHaveTextContent('Waits until')
  })

  it("withdraws the rest when one owner says no, and the organiser's page says why", async () => {
    const user = userEvent.setup()
    const { world, ana, bo, chidi, fest, stage, pa } = await fixture()
    const engineer = await bo.createResource(fest.id, { name: 'Sound engineer', kind: 'skill', policy: 'manual' })
    await ana.updateResource(pa.id, { needs: [engineer.id] })
    await world.share(fest.id)
    const gig = await chidi.createEvent(fest.id, {
      title: 'Gig',
      start: '2026-07-02T18:00:00Z',
      end: '2026-07-02T20:00:00Z',
      requests: [{ resource: stage.id }, { resource: pa.id }],
    })
    // The node added the engineer and made it all or nothing.
    expect(gig.all_or_nothing).toBe(true)
    expect(gig.requests.map((q) => q.resource_name)).toEqual(['Main stage', 'PA system', 'Sound engineer'])
    await ana.confirm(gig.requests[0].id)

    const inbox = renderApp(bo, '/inbox')
    const card = await screen.findByRole('listitem', { name: 'Gig: Sound engineer' })
    await user.click(within(card).getByRole('button', { name: 'Deny…' }))
    await user.type(within(card).getByLabelText(/Reason/), 'I am on the other stage')
    await user.click(within(card).getByRole('button', { name: 'Deny' }))
    await waitFor(() => expect(screen.queryByRole('listitem', { name: 'Gig: Sound engineer' })).not.toBeInTheDocument())

    const after = await chidi.event(gig.id)
    expect(after.requests.map((q) => [q.resource_name, q.status, q.holds_slot])).toEqual([
      ['Main stage', 'withdrawn', false],
      ['PA system', 'withdrawn', false],
      ['Sound engineer', 'denied', false],
    ])
    inbox.unmount()
    renderApp(chidi, `/events/${gig.id}`)
    expect(await screen.findByRole('status', { name: 'How far the event is booked' })).toHaveTextContent(
      'Not booked Sound engineer: Denied. All or nothing: the other requests were withdrawn.',
    )
    // Each withdrawn card says why, in the node's words.
    expect(screen.getByRole('listitem', { name: 'Gig: Main stage' })).toHaveTextContent(
      /Withdrawn.*Withdrawn by the organiser's node: all or nothing: Sound engineer/,
    )
    expect(screen.getByRole('listitem', { name: 'Gig: PA system' })).toHaveTextContent(
      /Withdrawn.*Withdrawn by the organiser's node: all or nothing: Sound engineer/,
    )
    expect(screen.getByRole('listitem', { name: 'Gig: Sound engineer' })).toHaveTextContent('Reason: I am on the other stage')
  })
})
