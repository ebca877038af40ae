// Made-up data for the demo mode (`?demo`) and the screenshots: a festival by a river with a
// few people, rooms, things and skills, and requests in every state. Each person is a real
// pandafest node in this page's memory (client/local.ts); the data is made through their API,
// acting as each person in turn, so the node's rules apply to it.

import { dayKey, nextDayKey, zonedInputToUtc } from '../lib/time'
import { type LocalClient, LocalWorld } from './local'
import type { Id, ResourceRequest } from './types'

export const DEMO_TZ = 'Europe/Berlin'

export interface Demo {
  client: LocalClient
  world: LocalWorld
  people: Record<'ana' | 'bo' | 'chidi' | 'dara', LocalClient>
  ids: Record<string, Id>
  /** The festival's first day ("2026-07-01"). */
  firstDay: string
}

/** The demo starts two days after `now`, in Berlin. The wasm module must be loaded. */
export async function createDemo(now = Date.now()): Promise<Demo> {
  const world = new LocalWorld()
  const ana = await world.person('Ana')
  const bo = await world.person('Bo')
  const chidi = await world.person('Chidi')
  const dara = await world.person('Dara')

  const day1 = dayKey(now + 2 * 86_400_000, DEMO_TZ)
  const at = (day: number, hhmm: string) => zonedInputToUtc(`${nextDayKey(day1, day)}T${hhmm}`, DEMO_TZ)!
  const daily = (from: string, to: string) => [0, 1, 2].map((d) => ({ start: at(d, from), end: at(d, to) }))
  const ids: Record<string, Id> = {}

  // Festivals
  const camp = await bo.createFestival({
    name: 'Riverside Summer Camp',
    description: 'Three days of music, workshops and food by the river. Run by volunteers: share what you have.',
    timezone: DEMO_TZ,
    start: at(0, '12:00'),
    end: at(3, '00:00'),
  })
  // Everyone got the link (a festival's id is what lets a node fetch it).
  await world.share(camp.id)
  const workshops = await ana.createFestival({
    name: 'Workshop weekend',
    description: 'Hands-on workshops during the camp.',
    timezone: DEMO_TZ,
    parent: camp.id,
    start: at(1, '09:00'),
    end: at(3, '00:00'),
  })
  const kids = await chidi.createFestival({
    name: "Kids' corner",
    description: 'Games and theatre for the little ones.',
    timezone: DEMO_TZ,
    parent: camp.id,
  })
  const space = await dara.createFestival({
    name: 'Hackerspace Leipzig',
    description: 'Tools and skills of our space, bookable all year.',
    timezone: DEMO_TZ,
  })
  for (const f of [workshops, kids, space]) await world.share(f.id)
  Object.assign(ids, { camp: camp.id, workshops: workshops.id, kids: kids.id, space: space.id })

  // Resources
  const stage = await ana.createResource(camp.id, {
    name: 'Main stage',
    kind: 'location',
    description: 'Covered stage for up to 300 people, with power.',
    lat: 52.4905,
    lon: 13.4581,
    address: 'Am Flutgraben 3, Berlin',
    availability: [{ start: at(0, '12:00'), end: at(3, '00:00') }],
    policy: 'manual',
  })
  const tentB = await bo.createResource(camp.id, {
    name: 'Tent B',
    kind: 'location',
    description: 'Big tent with 40 chairs and a projector.',
    lat: 52.4913,
    lon: 13.4561,
    availability: daily('10:00', '22:00'),
    policy: 'fcfs',
  })
  const meadow = await dara.createResource(camp.id, {
    name: 'Meadow',
    kind: 'location',
    description: 'Open grass by the water. Bring blankets.',
    lat: 52.4894,
    lon: 13.4602,
    policy: 'manual',
  })
  const kitchen = await chidi.createResource(camp.id, {
    name: 'Kitchen',
    kind: 'location',
    description: 'Field kitchen with two stoves.',
    address: 'Behind the red barn',
    policy: 'manual',
  })
  const pa = await ana.createResource(camp.id, {
    name: 'PA system',
    kind: 'thing',
    description: '2 × 1 kW speakers, mixer, 4 microphones.',
    policy: 'manual',
  })
  const trailer = await bo.createResource(camp.id, {
    name: 'Bike trailer',
    kind: 'thing',
    description: 'Carries up to 80 kg.',
    policy: 'manual',
  })
  const firstAid = await chidi.createResource(camp.id, {
    name: 'First aid',
    kind: 'skill',
    description: 'A trained paramedic on site.',
    availability: daily('10:00', '18:00'),
    policy: 'fcfs',
  })
  await dara.createResource(camp.id, {
    name: 'Live stream',
    kind: 'location',
    description: 'Our video stream, for talks that want to be seen far away.',
    url: 'https://stream.example.org/riverside',
    policy: 'fcfs',
  })
  const wsTent = await ana.createResource(workshops.id, {
    name: 'Workshop tent',
    kind: 'location',
    lat: 52.4917,
    lon: 13.4577,
    policy: 'fcfs',
  })
  const sewing = await chidi.createResource(workshops.id, {
    name: 'Sewing machines',
    kind: 'thing',
    description: 'Three machines, threads included.',
    policy: 'manual',
  })
  const laser = await dara.createResource(space.id, {
    name: 'Laser cutter',
    kind: 'thing',
    description: '60 W CO₂, 600 × 400 mm. Ask for an introduction first.',
    lat: 51.3397,
    lon: 12.3731,
    address: 'Karl-Liebknecht-Str. 1, Leipzig',
    policy: 'manual',
  })
  await dara.createResource(space.id, { name: '3D printer', kind: 'thing', policy: 'fcfs' })
  await bo.createResource(space.id, {
    name: 'Soldering help',
    kind: 'skill',
    description: 'Bo helps you solder, Thursdays.',
    policy: 'manual',
  })
  Object.assign(ids, { stage: stage.id, tentB: tentB.id, meadow: meadow.id, pa: pa.id, trailer: trailer.id })

  const req = (e: { requests: ResourceRequest[] }, resource: Id) => e.requests.find((r) => r.resource === resource)!

  // Events and requests, in every state.
  const opening = await bo.createEvent(camp.id, {
    title: 'Opening',
    description: 'Welcome words and the first band.',
    start: at(0, '18:00'),
    end: at(0, '20:00'),
    requests: [{ resource: stage.id }, { resource: pa.id }],
  })
  await ana.confirm(req(opening, stage.id).id)
  await ana.confirm(req(opening, pa.id).id)
  ids.opening = opening.id

  const jam = await chidi.createEvent(camp.id, {
    title: 'Jam session',
    description: 'Bring an instrument.',
    start: at(0, '19:00'),
    end: at(0, '21:00'),
    requests: [{ resource: stage.id }, { resource: pa.id }],
  })
  ids.jam = jam.id

  const cooking = await chidi.createEvent(camp.id, {
    title: 'Cooking class',
    start: at(0, '16:00'),
    end: at(0, '18:00'),
    requests: [{ resource: kitchen.id }],
  })
  await chidi.confirm(req(cooking, kitchen.id).id)

  // Overlaps the cooking class: Chidi's inbox shows the conflict.
  await ana.createEvent(camp.id, {
    title: 'Sound check',
    start: at(0, '17:00'),
    end: at(0, '18:00'),
    requests: [{ resource: kitchen.id }, { resource: firstAid.id }],
  })

  const yoga = await chidi.createEvent(camp.id, {
    title: 'Yoga by the river',
    start: at(1, '08:00'),
    end: at(1, '09:00'),
    requests: [{ resource: meadow.id }],
  })
  await dara.confirm(req(yoga, meadow.id).id)

  const bikes = await ana.createEvent(camp.id, {
    title: 'Bike repair workshop',
    description: 'Fix your bike with help. Tools provided.',
    start: at(1, '14:00'),
    end: at(1, '16:00'),
    requests: [{ resource: tentB.id }, { resource: trailer.id }],
  })
  ids.bikes = bikes.id

  await ana.createEvent(camp.id, {
    title: 'Late-night DJ set',
    start: at(1, '21:00'),
    end: at(1, '23:30'),
    requests: [{ resource: tentB.id }],
  })

  const film = await bo.createEvent(camp.id, {
    title: 'Film night',
    start: at(1, '20:00'),
    end: at(1, '23:00'),
    requests: [{ resource: stage.id }, { resource: pa.id }],
  })
  ids.film = film.id

  const picnic = await ana.createEvent(camp.id, {
    title: 'Picnic',
    start: at(2, '12:00'),
    end: at(2, '14:00'),
    requests: [{ resource: meadow.id }],
  })
  await dara.deny(req(picnic, meadow.id).id, 'The meadow gets mowed that day, sorry!')

  await dara.createEvent(camp.id, {
    title: 'Poetry reading',
    start: at(2, '16:00'),
    end: at(2, '17:00'),
    requests: [{ resource: stage.id }],
  })

  const sewingClass = await ana.createEvent(workshops.id, {
    title: 'Sewing basics',
    start: at(1, '10:00'),
    end: at(1, '12:00'),
    requests: [{ resource: wsTent.id }, { resource: sewing.id }],
  })
  await chidi.confirm(req(sewingClass, sewing.id).id)

  await chidi.createEvent(kids.id, {
    title: 'Puppet theatre',
    start: at(2, '10:00'),
    end: at(2, '11:00'),
    requests: [{ resource: meadow.id }],
  })

  const intro = await bo.createEvent(space.id, {
    title: 'Laser cutting intro',
    start: at(5, '18:00'),
    end: at(5, '20:00'),
    requests: [{ resource: laser.id }],
  })
  await dara.confirm(req(intro, laser.id).id)

  // A festival a peer can hand over: paste its invite link into "Join a festival".
  const swap = await dara.createFestival({
    name: 'Autumn swap market',
    description: 'Swap clothes, books and tools.',
    timezone: DEMO_TZ,
  })
  ids.swapLink = await dara.invite(swap.id)

  return { client: ana, world, people: { ana, bo, chidi, dara }, ids, firstDay: day1 }
}
