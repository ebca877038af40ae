// Every time is shown in the FESTIVAL's zone, whatever the browser's zone is.

import { screen, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { alone, renderApp } from './fixture'

async function festivalIn(timezone: string) {
  const client = await alone()
  const f = await client.createFestival({ name: `Fest in ${timezone}`, timezone })
  await client.createEvent(f.id, { title: 'Opening', start: '2026-07-01T16:00:00Z', end: '2026-07-01T18:00:00Z' })
  return { client, f }
}

describe('time zones', () => {
  it.each([
    ['Europe/Berlin', 'Wednesday 1 July 2026', '18:00–20:00'],
    ['America/New_York', 'Wednesday 1 July 2026', '12:00–14:00'],
    ['Asia/Tokyo', 'Thursday 2 July 2026', '01:00–03:00'],
  ])('shows an event at 16:00 UTC in %s as %s, %s', async (tz, day, time) => {
    const { client, f } = await festivalIn(tz)
    renderApp(client, `/festivals/${f.id}/events`)
    const heading = await screen.findByRole('heading', { level: 2, name: day })
    const list = heading.nextElementSibling as HTMLElement
    expect(within(list).getByText(time)).toBeInTheDocument()
    expect(screen.getByText(tz.replace(/_/g, ' '))).toBeInTheDocument()
  })

  it('reads times typed into the event form in the festival zone', async () => {
    const { client, f } = await festivalIn('America/New_York')
    renderApp(client, `/festivals/${f.id}/events/new?start=2026-07-01T13:00:00Z`)
    // 13:00 UTC is 09:00 in New York (EDT, UTC−4).
    expect(await screen.findByLabelText('Starts')).toHaveValue('2026-07-01T09:00')
    expect(screen.getByText(/In America\/New York time \(UTC−04:00\)/)).toBeInTheDocument()
  })
})
