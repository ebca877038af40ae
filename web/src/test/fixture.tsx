// A small, fixed world for component tests: one festival in Berlin (1–3 July 2026), a few
// resources owned by different people, a confirmed booking and a competing request. Each
// person is a real pandafest node (the wasm build, in memory), synced with the others over
// real sessions: the screens see exactly what a node answers.

import { render } from '@testing-library/react'
import type { ReactElement } from 'react'
import { App } from '../App'
import { ClientProvider } from '../client/context'
import { LocalClient, LocalWorld } from '../client/local'
import type { PandafestClient } from '../client/types'

export async function fixture() {
  const world = new LocalWorld()
  const ana = await world.person('Ana')
  const bo = await world.person('Bo')
  const chidi = await world.person('Chidi')
  const fest = await bo.createFestival({
    name: 'Fusion',
    timezone: 'Europe/Berlin',
    start: '2026-07-01T10:00:00Z',
    end: '2026-07-03T22:00:00Z',
  })
  await world.share(fest.id)
  // Ana's stage: she decides. Berlin is UTC+2 in July.
  const stage = await ana.createResource(fest.id, {
    name: 'Main stage',
    kind: 'location',
    policy: 'manual',
    lat: 52.52,
    lon: 13.405,
    address: 'Alexanderplatz 1',
  })
  // Bo's tent: automatic, open 10:00–22:00 Berlin time on 1 July only.
  const tent = await bo.createResource(fest.id, {
    name: 'Tent B',
    kind: 'location',
    policy: 'fcfs',
    availability: [{ start: '2026-07-01T08:00:00Z', end: '2026-07-01T20:00:00Z' }],
  })
  const pa = await ana.createResource(fest.id, { name: 'PA system', kind: 'thing', policy: 'manual' })
  const meadow = await chidi.createResource(fest.id, { name: 'Meadow', kind: 'location', policy: 'manual' })
  // Opening, 18:00–20:00 Berlin, confirmed on the stage.
  const opening = await bo.createEvent(fest.id, {
    title: 'Opening',
    start: '2026-07-01T16:00:00Z',
    end: '2026-07-01T18:00:00Z',
    requests: [{ resource: stage.id }],
  })
  await ana.confirm(opening.requests[0].id)
  // Jam session, 19:00–21:00 Berlin: waits for Ana (stage, taken) and Chidi (meadow).
  const jam = await chidi.createEvent(fest.id, {
    title: 'Jam session',
    start: '2026-07-01T17:00:00Z',
    end: '2026-07-01T19:00:00Z',
    requests: [{ resource: stage.id }, { resource: meadow.id }],
  })
  return { world, ana, bo, chidi, fest, stage, tent, pa, meadow, opening, jam }
}

/** One person alone: a fresh node with a name. */
export async function alone(name = 'Ana'): Promise<LocalClient> {
  return new LocalWorld().person(name)
}

export function renderWith(client: PandafestClient, ui: ReactElement) {
  return render(<ClientProvider client={client}>{ui}</ClientProvider>)
}

/** The whole app at a route, e.g. renderApp(client, '/inbox'). */
export function renderApp(client: PandafestClient, route = '/') {
  window.location.hash = route
  return renderWith(client, <App />)
}
