// Tickets (issue 14): a festival where only ticket holders may organise. The creator makes a
// ticket in the festival's settings; someone not admitted sees why, applies (an event that
// asks only for the ticket) and waits; the ticket's owner admits them from the festival's
// page or the inbox; a released ticket takes their events out of the programme again. Every
// person is a real node (wasm, in memory), synced with the others.

import { act, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { LocalWorld } from '../client/local'
import { changeLanguage } from '../i18n'
import { renderApp } from './fixture'

/** The line that says who may organise here (its ticket's name is a link). */
const rule = () => screen.findByText((_, el) => el?.classList.contains('ticket-rule') ?? false)

/** The row (li) of a list whose class is `row` that links to `name`. */
function rowOf(name: string, row: string): Promise<HTMLElement> {
  return waitFor(() => {
    const li = screen
      .getAllByRole('link', { name })
      .map((a) => a.closest<HTMLElement>(`li.${row}`))
      .find(Boolean)
    if (!li) throw new Error(`no ${row} links to ${name}`)
    return li
  })
}

async function hillside() {
  const world = new LocalWorld()
  const ana = await world.person('Ana')
  const ben = await world.person('Ben')
  const fest = await ana.createFestival({
    name: 'Hillside',
    timezone: 'Europe/Berlin',
    start: '2027-07-01T10:00:00Z',
    end: '2027-07-03T22:00:00Z',
  })
  await world.share(fest.id)
  // Ana's stage decides by itself (first come, first served).
  const stage = await ana.createResource(fest.id, { name: 'Main stage', kind: 'location', policy: 'fcfs' })
  return { world, ana, ben, fest, stage }
}

describe('a festival where only ticket holders may organise', () => {
  it('the creator makes a ticket in one click; Ben waits, applies, is admitted and loses it again', async () => {
    const user = userEvent.setup()
    const { ana, ben, fest, stage } = await hillside()

    // Ana: Edit festival… → Only ticket holders → Create a ticket resource.
    let view = renderApp(ana, `/festivals/${fest.id}`)
    await user.click(await screen.findByRole('button', { name: 'Edit festival…' }))
    const form = screen.getByRole('form', { name: 'Edit festival' })
    const who = within(form).getByRole('group', { name: 'Who may organise here' })
    expect(within(who).getByRole('radio', { name: 'Anyone with the invite link' })).toBeChecked()
    await user.click(within(who).getByRole('radio', { name: 'Only ticket holders' }))
    await user.click(within(who).getByRole('button', { name: 'Create a ticket resource' }))
    expect(await within(who).findByRole('status')).toHaveTextContent('Organiser ticket created: only its holders may organise here now.')
    const ticket = (await ana.resources(fest.id)).find((r) => r.name === 'Organiser ticket')!
    expect(ticket).toMatchObject({ capacity: 'unlimited', policy: 'manual', kind: 'other' })
    expect((await ana.festival(fest.id)).ticket).toBe(ticket.id)
    await waitFor(() => expect(within(who).getByLabelText('The ticket')).toHaveValue(ticket.id))
    await user.click(within(form).getByRole('button', { name: 'Close' }))
    expect(await rule()).toHaveTextContent(
      'Ticket Only ticket holders may organise here: the ticket is Organiser ticket, and you decide who gets one. You may organise: you started Hillside.',
    )
    // Nobody waits yet; the ticket is no row of the timeline.
    expect(screen.queryByRole('heading', { name: 'Waiting for admission' })).not.toBeInTheDocument()
    expect(await screen.findByRole('list', { name: 'Main stage, Thu 1 Jul' })).toBeInTheDocument()
    expect(screen.queryByRole('list', { name: /^Organiser ticket/ })).not.toBeInTheDocument()
    view.unmount()

    // Ben is not admitted: the festival's page says why, the new-event form warns.
    view = renderApp(ben, `/festivals/${fest.id}`)
    expect(await screen.findByRole('heading', { name: 'This festival requires a ticket to organise or provide resources' })).toBeInTheDocument()
    expect(screen.getByText(/Until you hold one, your events are not in the programme/)).toHaveTextContent('Ana decides who gets a ticket.')
    view.unmount()
    view = renderApp(ben, `/festivals/${fest.id}/events/new?start=2027-07-01T16:00:00Z&end=2027-07-01T17:00:00Z`)
    expect(await screen.findByRole('note')).toHaveTextContent(
      'You are waiting for admission to Hillside: this event is kept, but not in the programme until you hold a ticket, and owners decide its requests by hand. Apply for a ticket.',
    )
    // The ticket is applied for, not requested by an event.
    expect(screen.queryByRole('checkbox', { name: /Organiser ticket/ })).not.toBeInTheDocument()
    await user.type(screen.getByLabelText('Title'), 'Bike workshop')
    await user.click(screen.getByRole('checkbox', { name: /Main stage/ }))
    await user.click(screen.getByRole('button', { name: 'Create event and send 1 request' }))
    expect(await screen.findByRole('heading', { level: 1, name: /Bike workshop/ })).toHaveTextContent(
      'Waiting for admission — not in the programme until you hold a ticket',
    )
    const workshop = (await ben.events(fest.id)).find((e) => e.title === 'Bike workshop')!
    // Ana's automatic stage leaves the request of someone not admitted alone.
    expect(workshop.requests[0].status).toBe('pending')
    view.unmount()

    // Ben applies with a message and sees it waiting.
    view = renderApp(ben, `/festivals/${fest.id}`)
    const apply = await screen.findByRole('region', { name: 'This festival requires a ticket to organise or provide resources' })
    expect(apply).toHaveTextContent('1 of your events is waiting for admission. Bike workshop')
    await user.type(within(apply).getByLabelText('A message for Ana (optional)'), 'I run the bike workshop every year')
    await user.click(within(apply).getByRole('button', { name: 'Apply for a ticket' }))
    expect(await within(apply).findByRole('status', { name: 'Your application' })).toHaveTextContent(
      'Waiting Your application is waiting for Ana to decide.',
    )
    expect(apply).toHaveTextContent('Your message: I run the bike workshop every year')
    expect(within(apply).queryByRole('button', { name: 'Apply for a ticket' })).not.toBeInTheDocument()
    // The application is no event of the festival's list.
    await user.click(screen.getByRole('link', { name: 'Events' }))
    expect(await rowOf('Bike workshop', 'event-row')).toHaveTextContent('Waiting for admission — not in the programme until you hold a ticket')
    expect(screen.queryByRole('link', { name: /applies to organise/ })).not.toBeInTheDocument()
    expect(screen.getByText('1 application for a ticket is not listed: applications are no events and never in the programme (see above).')).toBeInTheDocument()
    view.unmount()
    const application = (await ben.events(fest.id)).find((e) => e.application)!
    expect(application).toMatchObject({ title: 'Ben applies to organise', description: 'I run the bike workshop every year', admitted: false })
    expect(application.requests.map((q) => q.resource)).toEqual([ticket.id])

    // Ana sees Ben waiting on the festival's page, and the application in her inbox.
    view = renderApp(ana, `/festivals/${fest.id}`)
    const waiting = await screen.findByRole('list', { name: 'People waiting for admission' })
    const benRow = within(waiting).getByRole('listitem', { name: 'Ben' })
    expect(benRow).toHaveTextContent('Application: admits Ben to organise')
    expect(benRow).toHaveTextContent('Message: I run the bike workshop every year')
    expect(benRow).toHaveTextContent('1 event waiting: Bike workshop')
    expect(within(benRow).getByRole('button', { name: 'Admit' })).toBeInTheDocument()
    view.unmount()
    view = renderApp(ana, '/inbox')
    // The workshop's request for her automatic stage waits, and says why (once the card has
    // read its event, as for the application's message below).
    const workshopCard = await screen.findByRole('listitem', { name: 'Bike workshop: Main stage' })
    await waitFor(() =>
      expect(workshopCard).toHaveTextContent(
        'Ben is waiting for admission: until they hold a ticket, this event is not in the programme and no policy decides the request (you may still decide by hand).',
      ),
    )
    const card = await screen.findByRole('listitem', { name: 'Ben applies to organise: Organiser ticket' })
    expect(within(card).getByRole('heading', { level: 3 })).toHaveTextContent('Application: admits Ben to organise')
    await waitFor(() => expect(card).toHaveTextContent('Message: I run the bike workshop every year'))
    await user.click(within(card).getByRole('button', { name: 'Admit' }))
    await waitFor(() => expect(screen.queryByRole('listitem', { name: 'Ben applies to organise: Organiser ticket' })).not.toBeInTheDocument())
    view.unmount()

    // Admitted: Ben's event counts, Ana's stage decides its request, it is in the programme.
    await waitFor(async () => {
      const e = await ben.event(workshop.id)
      expect([e.admitted, e.requests[0].status, e.booked]).toEqual([true, 'confirmed', true])
    })
    expect((await ben.programme(fest.id)).events.map((e) => e.title)).toEqual(['Bike workshop'])
    view = renderApp(ben, `/festivals/${fest.id}`)
    expect(await screen.findByText('You hold a ticket: you may organise here.')).toBeInTheDocument()
    expect(screen.queryByRole('region', { name: /requires a ticket/ })).not.toBeInTheDocument()
    view.unmount()
    view = renderApp(ben, `/events/${workshop.id}`)
    expect(await screen.findByText('Booked: it is in the programme.')).toBeInTheDocument()
    expect(screen.getByRole('heading', { level: 1 })).not.toHaveTextContent('Waiting for admission')
    view.unmount()

    // Ana releases the ticket from the festival's page: Ben's event leaves the programme.
    view = renderApp(ana, `/festivals/${fest.id}`)
    // Nobody waits now: the card lists who holds a ticket.
    expect(await screen.findByRole('heading', { name: 'Holding a ticket (1)' })).toBeInTheDocument()
    expect(screen.queryByRole('heading', { name: 'Waiting for admission' })).not.toBeInTheDocument()
    const holder = within(screen.getByRole('list', { name: 'People holding a ticket' })).getByRole('listitem', { name: 'Ben' })
    await user.click(within(holder).getByRole('button', { name: 'Release the ticket' }))
    await waitFor(async () => expect((await ben.event(workshop.id)).admitted).toBe(false))
    expect((await ben.programme(fest.id)).events).toEqual([])
    // He waits again, with his workshop.
    const back = await within(await screen.findByRole('list', { name: 'People waiting for admission' })).findByRole('listitem', { name: 'Ben' })
    expect(back).toHaveTextContent('Their ticket was taken back; they may apply again.')
    expect(back).toHaveTextContent('1 event waiting: Bike workshop')
    view.unmount()
    view = renderApp(ben, `/events/${workshop.id}`)
    expect(await screen.findByRole('status', { name: 'How far the event is booked' })).toHaveTextContent(
      '1 of 1 confirmed Not in the programme while its organiser waits for admission.',
    )
    expect(screen.getByText(/Owners decide its requests by hand until then\./)).toHaveTextContent('Apply for a ticket on the festival\'s page.')
    view.unmount()
    renderApp(ben, `/festivals/${fest.id}`)
    const again = await screen.findByRole('region', { name: 'This festival requires a ticket to organise or provide resources' })
    expect(await within(again).findByRole('status', { name: 'Your application' })).toHaveTextContent(
      'Ticket taken back Your ticket was taken back: your events are out of the programme again.',
    )
    expect(within(again).getByRole('button', { name: 'Apply again' })).toBeInTheDocument()
    expect(stage.admitted).toBe(true)
    // A whole journey through Ana's and Ben's screens on wasm nodes: 4–6 s on an idle
    // 2-core machine; it ran out of vitest's default 5 s under load.
  }, 60_000)

  it('a denied application says why and may be made again; the creator who does not own the ticket sees who decides', async () => {
    const user = userEvent.setup()
    const { world, ana, ben, fest } = await hillside()
    const cleo = await world.person('Cleo')
    await world.share(fest.id)
    // Cleo's ticket: the creator names another person's resource.
    const ticket = await cleo.createResource(fest.id, { name: 'Crew pass', kind: 'other', policy: 'manual', capacity: 'unlimited' })
    await ana.updateFestival(fest.id, { ticket: ticket.id })
    const gig = await ben.createEvent(fest.id, { title: 'Late gig', start: '2027-07-02T20:00:00Z', end: '2027-07-02T21:00:00Z' })
    expect(gig.admitted).toBe(false)

    let view = renderApp(ben, `/festivals/${fest.id}`)
    const apply = await screen.findByRole('region', { name: /requires a ticket/ })
    expect(apply).toHaveTextContent('Cleo decides who gets a ticket.')
    await user.click(within(apply).getByRole('button', { name: 'Apply for a ticket' }))
    expect(await within(apply).findByRole('status', { name: 'Your application' })).toHaveTextContent('waiting for Cleo to decide')
    view.unmount()

    // Ana created the festival: she sees Ben waiting, but Cleo decides.
    view = renderApp(ana, `/festivals/${fest.id}`)
    const benRow = await within(await screen.findByRole('list', { name: 'People waiting for admission' })).findByRole('listitem', { name: 'Ben' })
    expect(benRow).toHaveTextContent('Application: admits Ben to organise')
    expect(benRow).toHaveTextContent('Cleo decides: the ticket is theirs.')
    expect(within(benRow).queryByRole('button', { name: 'Admit' })).not.toBeInTheDocument()
    expect(await rule()).toHaveTextContent('the ticket is Crew pass, and Cleo decides who gets one. You may organise: you started Hillside.')
    view.unmount()

    // Cleo turns it down on the festival's page, saying why.
    view = renderApp(cleo, `/festivals/${fest.id}`)
    const row = await within(await screen.findByRole('list', { name: 'People waiting for admission' })).findByRole('listitem', { name: 'Ben' })
    await user.click(within(row).getByRole('button', { name: 'Deny…' }))
    await user.type(within(row).getByLabelText('Reason (optional, the organiser sees it)'), 'crew only this year')
    await user.click(within(row).getByRole('button', { name: 'Deny' }))
    await waitFor(() => expect(row).toHaveTextContent('Their application was turned down. Reason: crew only this year'))
    expect(within(row).getByRole('button', { name: 'Admit after all' })).toBeInTheDocument()
    view.unmount()

    renderApp(ben, `/festivals/${fest.id}`)
    const denied = await screen.findByRole('region', { name: /requires a ticket/ })
    expect(await within(denied).findByRole('status', { name: 'Your application' })).toHaveTextContent('Denied Your application was turned down.')
    expect(denied).toHaveTextContent('Reason: crew only this year')
    await user.click(within(denied).getByRole('button', { name: 'Apply again' }))
    await waitFor(() => expect(within(denied).getByRole('status', { name: 'Your application' })).toHaveTextContent('waiting for Cleo to decide'))
    expect((await ben.events(fest.id)).filter((e) => e.application)).toHaveLength(2)
  })

  it('takes an existing resource as the ticket and drops it again; resources of people not admitted cannot be requested', async () => {
    const user = userEvent.setup()
    const { ana, ben, fest, stage } = await hillside()
    const pass = await ana.createResource(fest.id, { name: 'Day pass', kind: 'other', policy: 'fcfs', capacity: 'unlimited' })
    let view = renderApp(ana, `/festivals/${fest.id}`)
    await user.click(await screen.findByRole('button', { name: 'Edit festival…' }))
    let form = screen.getByRole('form', { name: 'Edit festival' })
    await user.click(within(form).getByRole('radio', { name: 'Only ticket holders' }))
    await user.click(within(form).getByRole('button', { name: 'Save changes' }))
    expect(await within(form).findByRole('alert')).toHaveTextContent('Choose the ticket, or create one.')
    await user.selectOptions(within(form).getByLabelText('The ticket'), pass.id)
    expect(within(form).getByLabelText('The ticket')).toHaveDisplayValue('Day pass (Ana (you))')
    await user.click(within(form).getByRole('button', { name: 'Save changes' }))
    await waitFor(() => expect(screen.queryByRole('form', { name: 'Edit festival' })).not.toBeInTheDocument())
    expect((await ana.festival(fest.id)).ticket).toBe(pass.id)
    await user.click(screen.getByRole('link', { name: 'Resources' }))
    expect(await rowOf('Day pass', 'resource-row')).toHaveTextContent(/Day pass\s*Ticket/)
    view.unmount()

    // Ben shares a van while he waits: nobody can request it yet.
    const van = await ben.createResource(fest.id, { name: 'Van', kind: 'thing', policy: 'manual' })
    expect(van.admitted).toBe(false)
    view = renderApp(ana, `/festivals/${fest.id}/events/new?start=2027-07-01T16:00:00Z&end=2027-07-01T17:00:00Z`)
    const vanBox = await screen.findByRole('checkbox', { name: /Van/ })
    expect(vanBox).toBeDisabled()
    // The node's check says why (its own words), next to the owner's badge.
    expect(vanBox.closest('li')).toHaveTextContent('Owner waiting for admission')
    expect(await within(vanBox.closest('li')!).findByText(/Van cannot be requested yet: its owner is waiting for admission/)).toBeInTheDocument()
    expect(screen.getByRole('checkbox', { name: /Main stage/ })).toBeEnabled()
    expect(screen.queryByRole('note')).not.toBeInTheDocument()
    view.unmount()
    view = renderApp(ana, `/resources/${van.id}`)
    expect(await screen.findByText('Ben is waiting for admission: this cannot be requested until they hold a ticket.')).toBeInTheDocument()
    expect(screen.queryByRole('link', { name: 'Request it' })).not.toBeInTheDocument()
    view.unmount()
    view = renderApp(ana, `/resources/${pass.id}`)
    expect(await screen.findByText(/This is the ticket of Hillside: a confirmed request for it admits its author/)).toBeInTheDocument()
    view.unmount()

    // Anyone may organise again: Ben's van can be requested.
    view = renderApp(ana, `/festivals/${fest.id}`)
    await user.click(await screen.findByRole('button', { name: 'Edit festival…' }))
    form = screen.getByRole('form', { name: 'Edit festival' })
    expect(within(form).getByRole('radio', { name: 'Only ticket holders' })).toBeChecked()
    await user.click(within(form).getByRole('radio', { name: 'Anyone with the invite link' }))
    await user.click(within(form).getByRole('button', { name: 'Save changes' }))
    await waitFor(async () => expect((await ana.festival(fest.id)).ticket ?? null).toBeNull())
    expect((await ana.resource(van.id)).admitted).toBe(true)
    await waitFor(() => expect(document.querySelector('.ticket-rule')).toBeNull())
    expect(stage.admitted).toBe(true)
  })

  it("the creator of a sub-festival that names the same ticket may organise there, as the node says", async () => {
    const { world, ana, ben, fest } = await hillside()
    const ticket = await ana.createResource(fest.id, { name: 'Organiser ticket', kind: 'other', policy: 'manual', capacity: 'unlimited' })
    await ana.updateFestival(fest.id, { ticket: ticket.id })
    const corner = await ben.createFestival({ name: "Ben's corner", parent: fest.id })
    await ben.updateFestival(corner.id, { ticket: ticket.id })
    await world.share(fest.id)
    // The node: Ben started the festival that requires the ticket there; not in Hillside.
    expect((await ben.festival(corner.id)).admitted).toBe(true)
    expect((await ben.festival(fest.id)).admitted).toBe(false)
    renderApp(ben, `/festivals/${corner.id}`)
    expect(await rule()).toHaveTextContent("You may organise: you started Ben's corner.")
    expect(screen.queryByRole('region', { name: /requires a ticket/ })).not.toBeInTheDocument()
  })

  it('speaks German to someone waiting for admission', async () => {
    const { ana, ben, fest } = await hillside()
    const ticket = await ana.createResource(fest.id, { name: 'Organiser ticket', kind: 'other', policy: 'manual', capacity: 'unlimited' })
    await ana.updateFestival(fest.id, { ticket: ticket.id })
    await act(() => changeLanguage('de'))
    renderApp(ben, `/festivals/${fest.id}`)
    const apply = await screen.findByRole('region', { name: 'Dieses Festival verlangt ein Ticket, um zu organisieren oder Ressourcen anzubieten' })
    expect(apply).toHaveTextContent('Ana entscheidet, wer ein Ticket bekommt.')
    expect(within(apply).getByRole('button', { name: 'Ticket beantragen' })).toBeInTheDocument()
    expect(within(apply).getByLabelText('Eine Nachricht an Ana (optional)')).toBeInTheDocument()
  })
})
