import { screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { LocalWorld } from '../client/local'
import { alone, fixture, renderApp } from './fixture'

describe('festivals', () => {
  it('creates a festival in the chosen time zone, converting its times to UTC', async () => {
    const user = userEvent.setup()
    const client = await alone()
    renderApp(client, '/festivals/new')

    await user.type(await screen.findByLabelText('Name'), 'Tokyo Jam')
    await user.type(screen.getByLabelText('Description (optional)'), 'Music under the cherry trees')
    await user.selectOptions(screen.getByLabelText('Time zone'), 'Asia/Tokyo')
    // datetime-local inputs take "YYYY-MM-DDTHH:mm"; read in Tokyo time (UTC+9).
    await user.type(screen.getByLabelText('Starts'), '2026-04-01T10:00')
    await user.type(screen.getByLabelText('Ends'), '2026-04-03T18:00')
    await user.click(screen.getByRole('button', { name: 'Create festival' }))

    expect(await screen.findByRole('heading', { level: 1, name: 'Tokyo Jam' })).toBeInTheDocument()
    expect(screen.getByText('Asia/Tokyo')).toBeInTheDocument()
    const [f] = await client.festivals()
    expect(f).toMatchObject({
      name: 'Tokyo Jam',
      timezone: 'Asia/Tokyo',
      start: '2026-04-01T01:00:00Z',
      end: '2026-04-03T09:00:00Z',
    })
    expect(window.location.hash).toBe(`#/festivals/${f.id}`)
  })

  it('says what is missing instead of sending a bad festival', async () => {
    const user = userEvent.setup()
    const client = await alone()
    renderApp(client, '/festivals/new')
    await user.type(await screen.findByLabelText('Name'), 'Half')
    await user.type(screen.getByLabelText('Starts'), '2026-04-01T10:00')
    await user.click(screen.getByRole('button', { name: 'Create festival' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('Give both a start and an end, or leave both empty.')
    expect(await client.festivals()).toEqual([])
  })

  it('nests a festival inside another and shows the tree', async () => {
    const user = userEvent.setup()
    const { ana, fest } = await fixture()
    renderApp(ana, `/festivals/${fest.id}/new-sub`)
    expect(await screen.findByRole('heading', { name: 'New festival inside Fusion' })).toBeInTheDocument()
    // The parent's time zone is the default.
    expect(screen.getByLabelText('Time zone')).toHaveValue('Europe/Berlin')
    await user.type(screen.getByLabelText('Name'), 'Kids corner')
    await user.click(screen.getByRole('button', { name: 'Create festival' }))
    expect(await screen.findByRole('heading', { level: 1, name: 'Kids corner' })).toBeInTheDocument()
    // Breadcrumbs lead back to the parent.
    expect(screen.getByRole('navigation', { name: 'Festivals around this one' })).toHaveTextContent('Fusion')

    window.location.hash = '/'
    const tree = await screen.findByRole('list', { name: 'Your festivals' })
    const fusion = within(tree).getByRole('link', { name: 'Fusion' }).closest('li')!
    const nested = within(fusion).getByRole('list')
    expect(within(nested).getByRole('link', { name: 'Kids corner' })).toBeInTheDocument()
  })

  it('joins from a pasted invite link, and explains a wrong one', async () => {
    const user = userEvent.setup()
    // Bo's festival reaches Ana by its link alone: her node names it to his.
    const world = new LocalWorld()
    const ana = await world.person('Ana')
    const bo = await world.person('Bo')
    const swap = await bo.createFestival({ name: 'Swap market' })
    const link = await bo.invite(swap.id)
    renderApp(ana, '/')
    const box = await screen.findByLabelText('Invite link')
    await user.type(box, 'https://example.org/hello')
    await user.click(screen.getByRole('button', { name: 'Join' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('"https://example.org/hello" is not an invite link')

    await user.clear(box)
    await user.type(box, link)
    await user.click(screen.getByRole('button', { name: 'Join' }))
    expect(await screen.findByRole('link', { name: 'Swap market' })).toBeInTheDocument()
  })
})
