import { screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { Timeline } from '../components/Timeline'
import { initials, lanes } from '../lib/timeline'
import { zonedInputToUtc } from '../lib/time'
import type { Slot } from '../client/types'
import { alone, fixture, renderWith } from './fixture'

/** The blocks of a track; left and width in percent of the hours shown. */
function blocks(track: HTMLElement) {
  return within(track)
    .getAllByRole('listitem')
    .map((li) => ({
      text: li.textContent,
      kind: li.className.replace('tl-block ', ''),
      left: parseFloat(li.style.left),
      width: parseFloat(li.style.width),
    }))
}

/** `n` percent, give or take rounding. */
const near = (n: number) => expect.closeTo(n, 6)
/** Hours `h` of a day showing `of` hours, in percent. */
const hrs = (h: number, of: number) => near((h / of) * 100)
const berlin = (wall: string) => zonedInputToUtc(wall, 'Europe/Berlin')!

describe('the timeline', () => {
  it('shows booked, held and free time of each resource in the festival zone', async () => {
    const { ana, fest } = await fixture()
    const resources = await ana.resources(fest.id)
    renderWith(ana, <Timeline timeZone="Europe/Berlin" festival={fest.id} resources={resources} days={['2026-07-01']} now={0} />)

    // The day is cropped to 10:00–22:00: Tent B's hours, the Opening and the Jam session.
    const stage = await screen.findByRole('list', { name: 'Main stage, Wed 1 Jul' })
    expect(screen.getByText(/Showing 10:00–22:00, the hours when something happens/)).toBeInTheDocument()
    expect(blocks(stage).filter((b) => b.kind !== 'tl-hold')).toEqual([
      { text: 'Free 00:00–18:00', kind: 'tl-free', left: 0, width: hrs(8, 12) },
      { text: 'Free 20:00–24:00', kind: 'tl-free', left: hrs(10, 12), width: hrs(2, 12) },
      { text: 'Booked: Opening 18:00–20:00', kind: 'tl-booked', left: hrs(8, 12), width: hrs(2, 12) },
    ])
    // A booking links to its event; free time links to a new event there.
    expect(within(stage).getByRole('link', { name: /Booked: Opening/ })).toHaveAttribute('href', expect.stringMatching(/^#\/events\//))
    expect(within(stage).getByRole('link', { name: 'Free 00:00–18:00' })).toHaveAttribute(
      'href',
      expect.stringContaining(`/events/new?resource=`),
    )

    // Tent B is only available 10:00–22:00: the rest of the day is not free.
    const tent = screen.getByRole('list', { name: 'Tent B, Wed 1 Jul' })
    expect(blocks(tent).map((b) => b.text)).toEqual(['Free 10:00–22:00'])
    const meadow = screen.getByRole('list', { name: 'Meadow, Wed 1 Jul' })
    expect(blocks(meadow)).toEqual([
      { text: 'Free all day', kind: 'tl-free', left: 0, width: hrs(12, 12) },
      { text: 'Hold, waiting for the owner: Jam session 19:00–21:00', kind: 'tl-hold', left: hrs(9, 12), width: hrs(2, 12) },
    ])
    expect(screen.getByRole('list', { name: 'What the colours mean' })).toHaveTextContent('Hold: waiting for the owner')

    // The whole day, on request.
    await userEvent.setup().click(screen.getByRole('button', { name: 'Show all 24 hours' }))
    expect(blocks(screen.getByRole('list', { name: 'Main stage, Wed 1 Jul' })).filter((b) => b.kind !== 'tl-hold')).toEqual([
      { text: 'Free 00:00–18:00', kind: 'tl-free', left: 0, width: hrs(18, 24) },
      { text: 'Free 20:00–24:00', kind: 'tl-free', left: hrs(20, 24), width: hrs(4, 24) },
      { text: 'Booked: Opening 18:00–20:00', kind: 'tl-booked', left: hrs(18, 24), width: hrs(2, 24) },
    ])
    expect(blocks(screen.getByRole('list', { name: 'Meadow, Wed 1 Jul' }))[1]).toMatchObject({ left: hrs(19, 24), width: hrs(2, 24) })
    expect(screen.getByRole('button', { name: 'Show only those hours' })).toBeInTheDocument()
  })

  it('draws an event past midnight on both days, and leaves out the empty hours between', async () => {
    const { ana, chidi, fest, meadow } = await fixture()
    const party = await ana.createEvent(fest.id, {
      title: 'Late party',
      start: berlin('2026-07-01T21:00'),
      end: berlin('2026-07-02T02:00'),
      requests: [{ resource: meadow.id }],
    })
    await chidi.confirm(party.requests[0].id)
    const r = await ana.resource(meadow.id)
    renderWith(ana, <Timeline timeZone="Europe/Berlin" festival={fest.id} resources={[r]} days={['2026-07-01', '2026-07-02']} now={0} />)

    // Active: the Jam session's hold 19:00–21:00 and the party until 02:00. Shown: 00:00–02:00
    // and 19:00–24:00, seven hours.
    const day1 = await screen.findByRole('list', { name: 'Meadow, Wed 1 Jul' })
    const day2 = screen.getByRole('list', { name: 'Meadow, Thu 2 Jul' })
    expect(screen.getByText(/Showing 00:00–02:00 and 19:00–24:00/)).toBeInTheDocument()
    const booked = (track: HTMLElement) => blocks(track).filter((b) => b.kind.startsWith('tl-booked'))
    expect(booked(day1)).toEqual([
      { text: 'Booked: Late party Wed 21:00–Thu 02:00', kind: 'tl-booked tl-goes-on', left: hrs(4, 7), width: hrs(3, 7) },
    ])
    expect(booked(day2)).toEqual([
      { text: 'Booked: Late party Wed 21:00–Thu 02:00', kind: 'tl-booked tl-from-before', left: 0, width: hrs(2, 7) },
    ])
    // Both parts link to the event with the whole time in their name and tooltip.
    for (const track of [day1, day2]) {
      const link = within(track).getByRole('link', { name: 'Booked: Late party Wed 1 Jul 21:00 – Thu 2 Jul 02:00' })
      expect(link).toHaveAttribute('href', `#/events/${party.id}`)
      expect(link.closest('li')).toHaveAttribute('title', 'Booked: Late party Wed 1 Jul 21:00 – Thu 2 Jul 02:00')
    }
    // The free time of 2 July after 02:00 starts right after the break.
    expect(blocks(day2).find((b) => b.text === 'Free 02:00–24:00')).toMatchObject({ left: hrs(2, 7), width: hrs(5, 7) })
  })

  it('draws the same booking on the day and at the hour of another zone', async () => {
    const { ana, fest, stage } = await fixture()
    const r = await ana.resource(stage.id)
    renderWith(ana, <Timeline timeZone="Asia/Tokyo" festival={fest.id} resources={[r]} days={['2026-07-02']} now={0} />)
    // 16:00–18:00 UTC is 01:00–03:00 the next day in Tokyo; the day shows 00:00–06:00.
    const track = await screen.findByRole('list', { name: 'Main stage, Thu 2 Jul' })
    expect(screen.getByText(/Showing 00:00–06:00/)).toBeInTheDocument()
    const booked = blocks(track).find((b) => b.kind === 'tl-booked')!
    expect(booked).toMatchObject({ text: 'Booked: Opening 01:00–03:00', left: hrs(1, 6), width: hrs(2, 6) })
  })

  it('names every block in full at 50 events on 8 resources over 3 days', async () => {
    const client = await alone()
    const fest = await client.createFestival({
      name: 'Summer Camp',
      timezone: 'Europe/Berlin',
      start: berlin('2027-07-01T10:00'),
      end: berlin('2027-07-04T03:00'),
    })
    const names = ['Main stage', 'Tent B', 'Workshop tent', 'Kitchen', 'Meadow', 'Cargo bike', 'PA system', 'Sewing machine']
    const resources = []
    for (const name of names) resources.push(await client.createResource(fest.id, { name, kind: 'location', policy: 'manual' }))
    const days = ['2027-07-01', '2027-07-02', '2027-07-03']
    const lengths = [15, 30, 60, 90]
    const planned: { title: string; start: string; end: string; confirm: boolean }[] = []
    const at = (d: number, h: number, m = 0) => Date.parse(berlin(`${days[d]}T${String(h).padStart(2, '0')}:00`)) + m * 60_000
    const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z')
    for (const [d] of days.entries()) {
      for (const [r, name] of names.entries()) {
        const m0 = at(d, 10 + (r % 4))
        planned.push({ title: `Workshop ${d}${r}: ${name} for beginners`, start: iso(m0), end: iso(m0 + lengths[r % 4] * 60_000), confirm: (d + r) % 2 === 0 })
        const e0 = at(d, 18 + (r % 3))
        planned.push({ title: `Evening ${d}${r} at the ${name}`, start: iso(e0), end: iso(e0 + 2 * 3600_000), confirm: (d + r) % 2 === 1 })
      }
    }
    // Two go on past midnight.
    planned.push({ title: 'Night dance', start: iso(at(0, 22, 30)), end: iso(at(1, 2)), confirm: true }) // on resource 0
    planned.push({ title: 'Night film', start: iso(at(1, 23)), end: iso(at(2, 1, 30)), confirm: false }) // on resource 1
    expect(planned).toHaveLength(50)
    for (const [i, p] of planned.entries()) {
      const r = i < 48 ? Math.floor(i / 2) % 8 : i - 48
      const ev = await client.createEvent(fest.id, { title: p.title, start: p.start, end: p.end, requests: [{ resource: resources[r].id }] })
      if (p.confirm) await client.confirm(ev.requests[0].id)
    }

    const shown = await client.resources(fest.id)
    renderWith(client, <Timeline timeZone="Europe/Berlin" festival={fest.id} resources={shown} days={days} now={0} />)
    await screen.findByRole('list', { name: 'Main stage, Thu 1 Jul' })
    // The empty early morning is left out.
    expect(screen.getByText(/Showing 00:00–02:00 and 10:00–24:00/)).toBeInTheDocument()

    const links = screen.getAllByRole('link', { name: /^(Booked|Hold, waiting for the owner): / })
    const titles = new Set<string>()
    for (const link of links) {
      const name = link.getAttribute('aria-label')!
      const title = planned.map((p) => p.title).find((t) => new RegExp(`^(Booked|Hold, waiting for the owner): ${t} \\S`).test(name))
      expect(title, name).toBeTruthy()
      titles.add(title!)
      // The tooltip says the same, and the narrowest drawing shows initials, never a lone "W…".
      const li = link.closest('li')!
      expect(li).toHaveAttribute('title', name)
      expect(link).toHaveAttribute('data-short', initials(title!))
      expect(link.querySelector('.tl-text')).toHaveTextContent(title!)
      expect(parseFloat(li.style.width)).toBeGreaterThan(0)
      expect(parseFloat(li.style.left) + parseFloat(li.style.width)).toBeLessThanOrEqual(100.000001)
    }
    expect([...titles].sort()).toEqual(planned.map((p) => p.title).sort())
    // 48 blocks, and the two night events twice (one part on each day).
    expect(links).toHaveLength(52)
    // The 15-minute workshops are held or booked: their block is narrow, their words whole.
    const short = screen.getByRole('link', { name: 'Booked: Workshop 00: Main stage for beginners 10:00–10:15' })
    expect(short.closest('li')!.className).toBe('tl-block tl-booked')
  })

  it('puts overlapping holds in separate lanes', () => {
    const slot = (start: string, end: string) => ({ start, end }) as Slot
    const out = lanes([
      slot('2026-07-01T10:00:00Z', '2026-07-01T12:00:00Z'),
      slot('2026-07-01T11:00:00Z', '2026-07-01T13:00:00Z'),
      slot('2026-07-01T12:00:00Z', '2026-07-01T14:00:00Z'),
    ])
    expect(out.map((x) => x.lane)).toEqual([0, 1, 0])
  })
})
