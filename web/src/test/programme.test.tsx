import { fireEvent, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { ELSEWHERE, gridDay, programmeDays, type ProgrammeItem } from '../lib/programme'
import { dayStart } from '../lib/time'
import { fixture, renderApp } from './fixture'

/**
 * The fixture (Opening confirmed on the main stage, Jam session waiting) and more, in every
 * state: on 2 July a Film night with the stage confirmed and the PA still waiting, a denied
 * Picnic, a Campfire that asked for nothing (on the programme as it is) and a cancelled Talk; a sub-festival, Kids'
 * corner, with a Puppet theatre in its own tent (booked automatically) and a Storytelling
 * booked with the PA only (no place). Seen by a visitor, whose node holds both festivals and
 * owns nothing.
 */
async function programmeWorld() {
  const f = await fixture()
  const { world, ana, bo, chidi, fest, stage, pa, meadow } = f
  const film = await bo.createEvent(fest.id, {
    title: 'Film night',
    description: 'Bring a blanket.',
    start: '2026-07-02T18:00:00Z',
    end: '2026-07-02T20:00:00Z',
    requests: [{ resource: stage.id }, { resource: pa.id }],
  })
  await ana.confirm(film.requests.find((r) => r.resource === stage.id)!.id)
  const picnic = await bo.createEvent(fest.id, {
    title: 'Picnic',
    start: '2026-07-02T10:00:00Z',
    end: '2026-07-02T12:00:00Z',
    requests: [{ resource: meadow.id }],
  })
  await chidi.deny(picnic.requests[0].id, 'mowing day')
  await bo.createEvent(fest.id, { title: 'Campfire', start: '2026-07-02T20:00:00Z', end: '2026-07-02T22:00:00Z', requests: [] })
  const talk = await bo.createEvent(fest.id, {
    title: 'Talk',
    start: '2026-07-03T10:00:00Z',
    end: '2026-07-03T11:00:00Z',
    requests: [{ resource: stage.id }],
  })
  await ana.confirm(talk.requests[0].id)
  await bo.cancelEvent(talk.id)

  const kids = await chidi.createFestival({ name: "Kids' corner", parent: fest.id })
  await world.share(kids.id)
  const puppetTent = await chidi.createResource(kids.id, { name: 'Puppet tent', kind: 'location', policy: 'fcfs' })
  await chidi.createEvent(kids.id, {
    title: 'Puppet theatre',
    start: '2026-07-02T08:00:00Z',
    end: '2026-07-02T09:00:00Z',
    requests: [{ resource: puppetTent.id }],
  })
  const story = await chidi.createEvent(kids.id, {
    title: 'Storytelling',
    start: '2026-07-02T09:00:00Z',
    end: '2026-07-02T10:00:00Z',
    requests: [{ resource: pa.id }],
  })
  await ana.confirm(story.requests[0].id)

  const visitor = await world.person('Visitor Vera')
  await world.share(fest.id)
  await world.share(kids.id)
  return { ...f, visitor, kids }
}

// The Campfire asked for nothing: it is on the programme as it is (the node's rule).
const NOT_SHOWN = ['Jam session', 'Picnic', 'Talk']

describe('the public programme', () => {
  it('lists confirmed events by day and time, sub-festivals included, and nothing pending or denied', async () => {
    const { visitor, fest } = await programmeWorld()
    renderApp(visitor, `/festivals/${fest.id}/programme?view=list`)
    expect(await screen.findByRole('heading', { level: 1, name: 'Fusion' })).toBeInTheDocument()
    expect(screen.getByText(/Times in Europe\/Berlin \(UTC\+02:00\)/)).toBeInTheDocument()

    // Grouped by day, in the festival's zone.
    const day1 = await screen.findByRole('region', { name: 'Wednesday 1 July 2026' })
    const day2 = screen.getByRole('region', { name: 'Thursday 2 July 2026' })
    expect(screen.queryByRole('region', { name: /Friday 3 July/ })).not.toBeInTheDocument() // only the cancelled Talk

    const titles = (day: HTMLElement) => within(day).getAllByRole('heading', { level: 3 }).map((h) => h.textContent)
    expect(titles(day1)).toEqual(['Opening'])
    expect(titles(day2)).toEqual(['Puppet theatre', 'Storytelling', 'Film night', 'Campfire'])

    const opening = within(day1).getByRole('listitem')
    expect(opening).toHaveTextContent('18:00–20:00')
    expect(opening).toHaveTextContent('at Main stage')

    // The stage is confirmed for the Film night, the PA is not: it is not named.
    const film = within(day2).getAllByRole('listitem')[2]
    expect(film).toHaveTextContent('20:00–22:00')
    expect(film).toHaveTextContent('at Main stage')
    expect(film).toHaveTextContent('Bring a blanket.')
    expect(film).not.toHaveTextContent('PA system')

    // Sub-festival events say where they belong.
    const [puppets, story] = within(day2).getAllByRole('listitem')
    expect(puppets).toHaveTextContent("at Puppet tent")
    expect(puppets).toHaveTextContent("Kids' corner")
    expect(story).toHaveTextContent('with PA system')

    for (const t of NOT_SHOWN) expect(screen.queryAllByText(t)).toEqual([])
    expect(screen.queryAllByText(/Waiting|Denied|Pending|Cancelled/i)).toEqual([])
  })

  it('shows a programme of more than 1000 events a day at a time, and a long day a page at a time', async () => {
    // The fixture's Opening (1 July) and 1,001 sets on 2 July that asked for nothing (on the
    // programme as they are): 1,002 events, more than one page of the API.
    const { bo, fest } = await fixture()
    for (let i = 0; i < 1001; i++) {
      // From 10:00 Berlin time, one every 50 s: all start on 2 July there.
      const start = Date.parse('2026-07-02T08:00:00Z') + i * 50_000
      await bo.createEvent(fest.id, {
        title: `Set ${String(i).padStart(4, '0')}`,
        start: new Date(start).toISOString(),
        end: new Date(start + 30 * 60_000).toISOString(),
        requests: [],
      })
    }
    renderApp(bo, `/festivals/${fest.id}/programme?view=list`)
    expect(await screen.findByText(/More than 1000 events: the programme is shown a day at a time/)).toBeInTheDocument()
    // It opens on the first event's day (the festival is over), the first of the festival.
    const day1 = await screen.findByRole('region', { name: 'Wednesday 1 July 2026' })
    expect(within(day1).getAllByRole('heading', { level: 3 }).map((h) => h.textContent)).toEqual(['Opening'])
    expect(screen.getByRole('button', { name: '← Previous day' })).toBeDisabled()

    fireEvent.click(screen.getByRole('button', { name: 'Next day →' }))
    const day2 = await screen.findByRole('region', { name: 'Thursday 2 July 2026' })
    expect(screen.queryByRole('region', { name: /1 July/ })).not.toBeInTheDocument()
    await waitFor(() => expect(within(day2).getAllByRole('listitem')).toHaveLength(1000))
    expect(within(day2).getAllByRole('listitem')[0]).toHaveTextContent('Set 0000')
    fireEvent.click(screen.getByRole('button', { name: 'Show more of this day' }))
    await waitFor(() => expect(within(day2).getAllByRole('listitem')).toHaveLength(1001))
    expect(within(day2).getAllByRole('listitem')[1000]).toHaveTextContent('Set 1000')
    expect(screen.queryByRole('button', { name: 'Show more of this day' })).not.toBeInTheDocument()

    fireEvent.click(screen.getByRole('button', { name: 'Next day →' }))
    expect(await screen.findByText('Nothing confirmed starts on this day.')).toBeInTheDocument()
    expect(screen.getByRole('region', { name: 'Friday 3 July 2026' })).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Next day →' })).toBeDisabled()
  }, 120_000)

  it('shows a grid of places per day, with an Elsewhere column for events without a place', async () => {
    const { visitor, fest } = await programmeWorld()
    renderApp(visitor, `/festivals/${fest.id}/programme?view=grid`)
    const day2 = await screen.findByRole('region', { name: 'Thursday 2 July 2026' })
    // Columns: the places booked that day, then Elsewhere.
    expect(within(day2).getAllByRole('heading', { level: 3 }).map((h) => h.textContent)).toEqual([
      'Main stage',
      'Puppet tent',
      'Elsewhere',
    ])
    const column = (name: string) => within(day2).getByRole('list', { name })
    expect(within(column('Main stage')).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      'Film night20:00–22:00',
    ])
    expect(within(column('Puppet tent')).getByRole('listitem')).toHaveTextContent("Puppet theatre10:00–11:00Kids' corner")
    const elsewhere = within(column('Elsewhere')).getAllByRole('listitem')
    expect(elsewhere[0]).toHaveTextContent('Storytelling11:00–12:00')
    expect(elsewhere[0]).toHaveTextContent('with PA system')
    expect(elsewhere[1]).toHaveTextContent(/^Campfire22:00–/)

    // The day runs 10:00–22:00: the Puppet theatre at the top, the Film night 10 hours down.
    const top = (li: HTMLElement) => li.style.top
    expect(top(within(column('Puppet tent')).getByRole('listitem'))).toBe('calc(0 * var(--pg-hour))')
    expect(top(within(column('Main stage')).getByRole('listitem'))).toBe('calc(10 * var(--pg-hour))')

    const day1 = screen.getByRole('region', { name: 'Wednesday 1 July 2026' })
    expect(within(day1).getAllByRole('heading', { level: 3 }).map((h) => h.textContent)).toEqual(['Main stage'])
    for (const t of NOT_SHOWN) expect(screen.queryAllByText(t)).toEqual([])
  })

  it('is read-only and names no one: no decisions, no edits, no identity, no planning menu', async () => {
    const { visitor, ana, fest } = await programmeWorld()
    for (const [client, view] of [
      [visitor, 'list'],
      [visitor, 'grid'],
      [ana, 'grid'], // the owner of the stage sees what visitors see
    ] as const) {
      const { unmount } = renderApp(client, `/festivals/${fest.id}/programme?view=${view}`)
      await screen.findByText('Opening')
      const buttons = screen.queryAllByRole('button').map((b) => b.textContent)
      expect(buttons).toEqual(['Print'])
      for (const a of screen.getAllByRole('link')) {
        expect(a.getAttribute('href')).not.toMatch(/\/new|\/edit|^#\/events\//)
      }
      expect(screen.queryByRole('textbox')).not.toBeInTheDocument()
      expect(screen.queryByRole('navigation', { name: 'Main' })).not.toBeInTheDocument()
      expect(screen.queryAllByText(/Visitor Vera|Inbox|Ana|Bo\b|Chidi/)).toEqual([])
      unmount()
    }
  })

  it('says so when nothing is confirmed yet, and is reached from the festival page', async () => {
    const { chidi, world } = await fixture()
    const empty = await chidi.createFestival({ name: 'Quiet days', timezone: 'Europe/Berlin' })
    await world.share(empty.id)
    renderApp(chidi, `/festivals/${empty.id}`)
    const link = await screen.findByRole('link', { name: 'Programme' })
    expect(link).toHaveAttribute('href', `#/festivals/${empty.id}/programme`)
    window.location.hash = link.getAttribute('href')!
    expect(await screen.findByText(/Nothing is confirmed yet/)).toBeInTheDocument()
  })
})

describe('a day of the grid', () => {
  const item = (id: string, start: string, end: string, place?: string): ProgrammeItem => ({
    id,
    title: id,
    description: '',
    start,
    end,
    day: start.slice(0, 10),
    within: null,
    locations: place ? [{ resource: place, name: place, location: true, start, end }] : [],
    others: [],
  })

  it('puts overlapping events without a place side by side, and runs past midnight', () => {
    const [day] = programmeDays([
      item('a', '2026-07-01T20:00:00Z', '2026-07-01T22:00:00Z'),
      item('b', '2026-07-01T21:00:00Z', '2026-07-01T23:00:00Z'),
      item('c', '2026-07-01T22:00:00Z', '2026-07-02T00:30:00Z'),
      item('d', '2026-07-01T23:30:00Z', '2026-07-02T01:30:00Z', 'Stage'),
    ])
    const g = gridDay(day, dayStart('2026-07-01', 'UTC'))
    expect(g.columns).toEqual([
      { key: 'Stage', name: 'Stage' },
      { key: ELSEWHERE, name: 'Elsewhere' },
    ])
    expect(g.blocks.map((b) => [b.item.id, b.lane, b.lanes])).toEqual([
      ['d', 0, 1],
      ['a', 0, 2],
      ['b', 1, 2],
      ['c', 0, 2],
    ])
    // 20:00 to 02:00 the next morning: the set past midnight belongs to this day.
    expect(new Date(g.from).toISOString()).toBe('2026-07-01T20:00:00.000Z')
    expect(new Date(g.to).toISOString()).toBe('2026-07-02T02:00:00.000Z')
  })
})
