// Collectives (issue 14): a node's key made a collective in the festival's Collective tab, a
// resource decided by its members' votes, and members voting from their inboxes; the
// collective's node decides by the tally. Every person is a real node (wasm, in memory).

import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { fixture, renderApp } from './fixture'

describe('a collective', () => {
  it('is set up in the Collective tab, shares a resource its members decide, and they vote in their inboxes', async () => {
    const user = userEvent.setup()
    const { world, ana, bo, chidi, fest } = await fixture()
    const kollektiv = await world.person('Kollektiv')
    await world.share(fest.id)
    const anaKey = (await ana.identity()).public_key
    const boKey = (await bo.identity()).public_key

    let view = renderApp(kollektiv, `/festivals/${fest.id}/collective`)
    expect(await screen.findByText('No collective yet.')).toBeInTheDocument()
    const form = screen.getByRole('form', { name: "Make this node's key a collective" })
    const key = within(form).getByLabelText("A member's public key")
    await user.type(key, 'not a key')
    await user.click(within(form).getByRole('button', { name: 'Add' }))
    expect(within(form).getByRole('alert')).toHaveTextContent('A public key is 64 hex digits (0–9, a–f).')
    // A pasted key shows its name when the node knows it (Ana shares resources here).
    await user.clear(key)
    await user.type(key, anaKey.toUpperCase())
    await user.click(within(form).getByRole('button', { name: 'Add' }))
    const members = within(form).getByRole('list', { name: 'Members' })
    expect(members).toHaveTextContent(`Ana ${anaKey.slice(0, 8)}…`)
    // Or someone of the festival, by name.
    await user.selectOptions(within(form).getByLabelText('Or someone of this festival'), boKey)
    expect(members).toHaveTextContent(`Bo ${boKey.slice(0, 8)}…`)
    expect(within(form).getByRole('radio', { name: 'When a majority says yes' })).toBeChecked()
    await user.click(within(form).getByRole('button', { name: 'Make it a collective' }))
    expect(await within(form).findByRole('status')).toHaveTextContent(
      'Saved: your key is a collective of 2 members; a request is confirmed with a majority (2 of 2).',
    )
    const card = await screen.findByRole('listitem', { name: 'Kollektiv (you)' })
    expect(card).toHaveTextContent('this node')
    expect(card).toHaveTextContent('2 members; a request is confirmed with a majority (2 of 2).')
    // Members come in the order of their keys.
    const seen = await ana.collectives(fest.id)
    expect(seen.map((c) => [c.name, c.rule, c.members.map((m) => [m.name, m.me]).sort()])).toEqual([
      ['Kollektiv', 'majority', [['Ana', true], ['Bo', false]]],
    ])
    view.unmount()

    // The collective shares its van, decided by its members.
    view = renderApp(kollektiv, `/festivals/${fest.id}/resources/new`)
    await user.type(await screen.findByLabelText('Name'), 'Van')
    await user.click(screen.getByRole('radio', { name: /Thing/ }))
    await user.click(screen.getByRole('radio', { name: /Decided by the collective's members/ }))
    expect(await screen.findByText(/Your collective's members vote: (Bo, Ana|Ana, Bo); it takes a majority \(2 of 2\)/)).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Share it' }))
    expect(await screen.findByRole('heading', { level: 1, name: /Van/ })).toBeInTheDocument()
    expect(screen.getByText("Decided by the collective's members (votes)")).toBeInTheDocument()
    view.unmount()
    const van = (await chidi.resources(fest.id)).find((r) => r.name === 'Van')!
    const trip = await chidi.createEvent(fest.id, {
      title: 'Trip',
      start: '2026-07-02T08:00:00Z',
      end: '2026-07-02T10:00:00Z',
      requests: [{ resource: van.id }],
    })

    // Ana votes yes in her inbox: she is a member, not the owner, so she has no Confirm.
    view = renderApp(ana, '/inbox')
    let item = await screen.findByRole('listitem', { name: 'Trip: Van' })
    await waitFor(() => expect(item).toHaveTextContent('Waiting for your vote'))
    expect(item).toHaveTextContent('0 of 2 yes votes needed — no votes yet')
    expect(within(item).queryByRole('button', { name: 'Confirm' })).not.toBeInTheDocument()
    expect(within(item).queryByRole('checkbox')).not.toBeInTheDocument()
    await user.click(within(item).getByRole('button', { name: 'Vote yes' }))
    await waitFor(() => expect(item).toHaveTextContent('You voted yes.'))
    expect(item).toHaveTextContent('1 of 2 yes votes needed — Ana (you): yes')
    expect(item).toHaveTextContent("Waiting for the others' votes")
    view.unmount()

    // Bo votes no, saying why: a majority of two can no longer say yes, so the collective's
    // node denies the request with the reason.
    view = renderApp(bo, '/inbox')
    item = await screen.findByRole('listitem', { name: 'Trip: Van' })
    expect(item).toHaveTextContent('1 of 2 yes votes needed — Ana: yes')
    await user.click(await within(item).findByRole('button', { name: 'Vote no…' }))
    await user.type(within(item).getByLabelText('Why not? (optional, everyone sees it)'), 'we paint that day')
    await user.click(within(item).getByRole('button', { name: 'Vote no' }))
    await waitFor(() => expect(screen.queryByRole('listitem', { name: 'Trip: Van' })).not.toBeInTheDocument())
    view.unmount()
    const q = await chidi.request(trip.requests[0].id)
    expect(q.status).toBe('denied')
    expect(q.reason).toMatch(/we paint that day/)

    renderApp(ana, '/inbox')
    await user.selectOptions(await screen.findByLabelText('Show'), 'all')
    item = await screen.findByRole('listitem', { name: 'Trip: Van' })
    expect(item).toHaveTextContent('Denied')
    expect(item).toHaveTextContent('1 of 2 yes votes needed — Ana (you): yes, Bo: no (we paint that day) · the members said no')
    expect(within(item).queryByRole('button', { name: /Vote/ })).not.toBeInTheDocument()
  })

  it('leaves the decision to the owner: a member who is not the owner cannot confirm', async () => {
    const { world, ana, chidi, fest } = await fixture()
    const kollektiv = await world.person('Kollektiv')
    await world.share(fest.id)
    await kollektiv.setCollective(fest.id, { members: [(await ana.identity()).public_key], rule: 'any' })
    const van = await kollektiv.createResource(fest.id, { name: 'Van', kind: 'thing', policy: 'collective' })
    const trip = await chidi.createEvent(fest.id, {
      title: 'Trip',
      start: '2026-07-02T08:00:00Z',
      end: '2026-07-02T10:00:00Z',
      requests: [{ resource: van.id }],
    })
    const q = trip.requests[0]
    await expect(ana.confirm(q.id)).rejects.toThrow()
    await expect(chidi.vote(q.id, true)).rejects.toMatchObject({ status: 409 })
    // One yes of any member confirms.
    await ana.vote(q.id, true)
    await waitFor(async () => expect((await chidi.request(q.id)).status).toBe('confirmed'))
  })
})
