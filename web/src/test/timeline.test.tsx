import { screen, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { Timeline } from '../components/Timeline'
import { lanes } from '../lib/timeline'
import type { Slot } from '../client/types'
import { fixture, renderWith } from './fixture'

function blocks(track: HTMLElement) {
  return within(track)
    .getAllByRole('listitem')
    .map((li) => ({ text: li.textContent, kind: li.className.replace('tl-block ', ''), left: li.style.left, width: li.style.width }))
}

describe('the timeline', () => {
  it('shows booked, held and free time of each resource in the festival zone', async () => {
    const { ana, fest } = await fixture()
    const resources = await ana.resources(fest.id)
    renderWith(ana, <Timeline timeZone="Europe/Berlin" festival={fest.id} resources={resources} days={['2026-07-01']} now={0} />)

    const stage = await screen.findByRole('list', { name: 'Main stage, Wed 1 Jul' })
    expect(blocks(stage)).toEqual([
      { text: 'Free 00:00–18:00', kind: 'tl-free', left: '0%', width: '75%' },
      { text: 'Free 20:00–24:00', kind: 'tl-free', left: `${(20 / 24) * 100}%`, width: `${(4 / 24) * 100}%` },
      { text: 'Booked: Opening 18:00–20:00', kind: 'tl-booked', left: '75%', width: `${(2 / 24) * 100}%` },
      { text: 'Hold, waiting for the owner: Jam session 19:00–21:00', kind: 'tl-hold', left: `${(19 / 24) * 100}%`, width: `${(2 / 24) * 100}%` },
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
    expect(blocks(meadow).map((b) => b.text)).toEqual(['Free all day', 'Hold, waiting for the owner: Jam session 19:00–21:00'])
    expect(screen.getByRole('list', { name: 'What the colours mean' })).toHaveTextContent('Hold: waiting for the owner')
  })

  it('draws the same booking on the day and at the hour of another zone', async () => {
    const { ana, fest, stage } = await fixture()
    const r = await ana.resource(stage.id)
    renderWith(ana, <Timeline timeZone="Asia/Tokyo" festival={fest.id} resources={[r]} days={['2026-07-02']} now={0} />)
    // 16:00–18:00 UTC is 01:00–03:00 the next day in Tokyo.
    const track = await screen.findByRole('list', { name: 'Main stage, Thu 2 Jul' })
    const booked = blocks(track).find((b) => b.kind === 'tl-booked')!
    expect(booked).toMatchObject({ text: 'Booked: Opening 01:00–03:00', left: `${(1 / 24) * 100}%` })
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
