#!/usr/bin/env node
// End-to-end test of planning that changes (issue 12), as an organiser and an owner use it:
// two real nodes (`pandafest serve`, each its own data directory, on 127.0.0.1), a browser on
// each, and a browser peer (pandafest in the browser, `?peer&node=`), in Debian's headless
// Chromium through playwright-core.
//
//   cargo build -p pandafest && cargo xtask wasm && (cd web && npm run build)
//   cd web && npm run e2e:plan        # or: PANDAFEST_BIN=/path/to/pandafest node e2e/plan.mjs
//
// Step by step (each step fails on its own):
//   Ana's node holds "Summer Camp" (Europe/Berlin) with her Cargo bike and Main stage, and the
//   sub-festival "Workshop tent", whose "Bike repair basics" has the bike confirmed. Ben's node
//   joins Summer Camp only (an invite link, then live sync between the two nodes). Ben sees
//   the bike busy at the sub-festival's slot (timeline and check) without seeing its event.
//   Ben asks for the bike twice (overlapping) and the stage three times; Ana's inbox shows
//   which request a confirm would turn away; she confirms one (her node denies the other at
//   once) and denies the three stage requests at once. Ben moves his Bike tour an hour later
//   in his browser: the node's preview names what moves for whom before he saves; Ana's inbox
//   shows "Moved from … to …" live; she confirms and the slot follows. Carla's browser peer
//   joins Summer Camp through Ana's node and sees the sub-festival's booking busy too. A
//   visitor opens the programme link (with a browser in German, too: German words and dates). Last,
//   Ana's festival grows to 50 events on 8 resources: the timeline is photographed on a
//   desktop and a phone.
// Screenshots go to test-output/plan/ (their paths are printed).
//
// Env: PANDAFEST_BIN, CHROMIUM, E2E_KEEP=1 (see peer-lib.mjs).
// Exits non-zero with the failed step, on page errors and console errors, and on warnings or
// errors logged by the nodes.

import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WEB, cli, expectText, fail, launch, serve, sleep, stop } from './peer-lib.mjs'
import { api, until as waitUntil } from './scene-lib.mjs'

const OUT = join(WEB, 'test-output', 'plan')
const KEEP = process.env.E2E_KEEP === '1'
const TZ = 'Europe/Berlin'
const TOTAL_TIMEOUT_MS = 240_000
const SYNC_TIMEOUT_MS = 20_000

const started = Date.now()
const children = new Set()
const problems = []
const browsers = []
let root = null
let currentStep = 'start'

function log(line) {
  console.log(line)
}

async function step(name, f) {
  currentStep = name
  const t0 = Date.now()
  await f()
  if (problems.length) fail(`problems during this step:\n  ${problems.join('\n  ')}`)
  log(`✓ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
}

let shots = 0
async function shot(who, label) {
  shots += 1
  const file = join(OUT, `${String(shots).padStart(2, '0')}-${who.name}-${label}.png`)
  await who.page.waitForTimeout(150)
  await who.page.screenshot({ path: file, fullPage: true })
  log(`  screenshot: ${file}`)
}

// The sync of several nodes and a browser peer takes longer than a scene's default.
const until = (what, check, timeout = SYNC_TIMEOUT_MS) => waitUntil(what, check, timeout)

function onNodeLog(name) {
  return (line) => {
    if (/\b(WARN|ERROR)\b/.test(line)) problems.push(`${name}'s node logged: ${line.trim()}`)
  }
}

async function cleanup() {
  for (const b of browsers) await Promise.race([b.context.close().catch(() => {}), sleep(5000)])
  await Promise.all([...children].map((c) => stop(c)))
  if (root && !KEEP) await rm(root, { recursive: true, force: true }).catch(() => {})
  else if (root) log(`kept: ${root}`)
}

const timer = setTimeout(() => {
  console.error(`\n✗ e2e:plan took longer than ${TOTAL_TIMEOUT_MS / 1000} s (at step "${currentStep}")`)
  cleanup().finally(() => process.exit(1))
}, TOTAL_TIMEOUT_MS)

try {
  await main()
  clearTimeout(timer)
  await cleanup()
  log(`\ne2e:plan passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${OUT}`)
} catch (e) {
  clearTimeout(timer)
  console.error(`\n✗ e2e:plan FAILED at step "${currentStep}":\n${e?.stack ?? e}`)
  await cleanup()
  process.exit(1)
}

async function main() {
  root = await mkdtemp(join(tmpdir(), 'pandafest-plan-'))
  await mkdir(OUT, { recursive: true })
  const anaDir = join(root, 'ana')
  const benDir = join(root, 'ben')
  await cli(anaDir, ['init', '--name', 'Ana'], { children })
  await cli(benDir, ['init', '--name', 'Ben'], { children })
  const anaNode = await serve(anaDir, { children, onLog: onNodeLog('Ana') })
  const benNode = await serve(benDir, { children, onLog: onNodeLog('Ben') })
  const ana = api(anaNode)
  const ben = api(benNode)
  const ids = {}

  await step("Ana's festival, its sub-festival, and a sub-festival event with the bike confirmed", async () => {
    const camp = await ana('POST', '/festivals', {
      name: 'Summer Camp',
      timezone: TZ,
      start: '2027-07-01T10:00',
      end: '2027-07-03T23:00',
    })
    ids.camp = camp.id
    ids.bike = (await ana('POST', `/festivals/${camp.id}/resources`, { name: 'Cargo bike', kind: 'thing', policy: 'manual' })).id
    ids.stage = (await ana('POST', `/festivals/${camp.id}/resources`, { name: 'Main stage', kind: 'location', policy: 'manual' })).id
    const tent = await ana('POST', '/festivals', { name: 'Workshop tent', parent: camp.id })
    if (tent.timezone !== TZ) fail(`a sub-festival takes its parent's time zone; it has ${tent.timezone}`)
    ids.tent = tent.id
    const repair = await ana('POST', `/festivals/${tent.id}/events`, {
      title: 'Bike repair basics',
      start: '2027-07-02T10:00',
      end: '2027-07-02T12:00',
      requests: [{ resource: ids.bike }],
    })
    await ana('POST', `/requests/${repair.requests[0].id}/confirm`, {})
  })

  await step("Ben's node joins Summer Camp (not the sub-festival) and syncs it live", async () => {
    const { link } = await ana('GET', `/festivals/${ids.camp}/invite`)
    await ben('POST', '/join', { link })
    await until("Summer Camp on Ben's node", async () => (await ben('GET', '/festivals')).some((f) => f.id === ids.camp))
    await until("the bike's booking on Ben's node", async () => (await ben('GET', `/resources/${ids.bike}`)).id)
    const festivals = await ben('GET', '/festivals')
    if (festivals.some((f) => f.id === ids.tent)) fail('Ben holds the sub-festival he never joined')
  })

  const benB = await launch(join(root, 'profile-ben'), { name: 'ben', problems })
  browsers.push(benB)
  const anaB = await launch(join(root, 'profile-ana'), { name: 'ana', problems })
  browsers.push(anaB)
  // Ana allows notifications; what the page shows is recorded (headless Chromium shows none).
  await anaB.context.grantPermissions(['notifications'], { origin: anaNode.origin })
  await anaB.context.addInitScript(() => {
    const Real = window.Notification
    window.__notified = []
    class Recording extends Real {
      constructor(title, options) {
        super(title, options)
        window.__notified.push(options?.body ?? '')
      }
    }
    window.Notification = Recording
  })
  const open = async (who, node, route) => {
    await who.page.goto(`${node.origin}/#token=${node.token}`)
    await who.page.getByRole('heading', { level: 1 }).first().waitFor()
    await who.page.evaluate((r) => (window.location.hash = r), route)
  }

  await step('Ben sees the bike busy at the sub-festival slot, on the timeline and in the check', async () => {
    const check = await until('the check on Ben\'s node says the bike is taken', async () => {
      const c = await ben('POST', '/check', { resource: ids.bike, start: '2027-07-02T11:00', end: '2027-07-02T13:00' })
      return c.free ? null : c
    })
    if (check.conflicts.length !== 1 || check.conflicts[0].event !== null) {
      fail(`the conflict should be a slot without a visible event: ${JSON.stringify(check.conflicts)}`)
    }
    await open(benB, benNode, `#/festivals/${ids.camp}/timeline`)
    const busy = benB.page.locator('[title^="Booked: an event of a sub-festival 10:00–12:00"]')
    await busy.first().waitFor({ timeout: SYNC_TIMEOUT_MS }).catch(() => fail('the timeline does not show the sub-festival booking'))
    await shot(benB, 'timeline-sub-festival-busy')
  })

  await step('Ben asks for the bike twice (overlapping) and the stage three times; Ana sees the competition', async () => {
    const make = (title, start, end, resource) =>
      ben('POST', `/festivals/${ids.camp}/events`, { title, start, end, requests: [{ resource }] })
    // Ana's inbox is open before the requests arrive.
    await open(anaB, anaNode, '#/inbox')
    await anaB.page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor()
    await sleep(500) // the page has read where notices start
    ids.tour = await make('Bike tour', '2027-07-02T14:00', '2027-07-02T16:00', ids.bike)
    ids.run = await make('Cargo run', '2027-07-02T15:00', '2027-07-02T17:00', ids.bike)
    for (const [i, h] of [19, 20, 21].entries()) await make(`Jam ${i + 1}`, `2027-07-01T${h}:00`, `2027-07-01T${h}:45`, ids.stage)
    // Ana's open page notifies her of each request as it arrives.
    await until("Ana's browser notified of the Bike tour request", async () =>
      (await anaB.page.evaluate(() => window.__notified ?? [])).some((t) => /Ben asks for Cargo bike for Bike tour/.test(t)),
    )
    await until('five requests waiting on Ana\'s node', async () =>
      (await ana('GET', '/requests?incoming=1&pending=1')).length === 5 ? true : null,
    )
    const tour = anaB.page.getByRole('listitem', { name: 'Bike tour: Cargo bike' })
    await expectText(tour, /Confirming this turns away: Cargo run \(15:00–17:00\)/, 'the competing request named')
    await shot(anaB, 'inbox-competing')
    await tour.getByRole('button', { name: 'Confirm', exact: true }).click()
    const run = await until('Ana\'s node denies the Cargo run at once', async () => {
      const q = await ana('GET', `/requests/${ids.run.requests[0].id}`)
      return q.status === 'denied' ? q : null
    })
    if (!/overlaps confirmed request [0-9a-f]{8} \(Bike tour, 2027-07-02 15:00–17:00\)|overlaps confirmed request [0-9a-f]{8} \(Bike tour, 2027-07-02 14:00–16:00\)/.test(run.reason)) {
      fail(`the Cargo run's reason: ${run.reason}`)
    }
  })

  await step('Ana denies the three stage requests at once, filtered by resource', async () => {
    const page = anaB.page
    await page.getByLabel('Resource', { exact: true }).selectOption({ label: 'Main stage' })
    const bulk = page.getByRole('group', { name: 'Decide several requests' })
    await bulk.getByRole('checkbox').check()
    await bulk.getByLabel(/Reason for a deny/).fill('The stage is being rigged')
    await bulk.getByRole('button', { name: 'Deny selected (3)' }).click()
    await expectText(page.getByRole('status', { name: 'What the bulk decision did' }), /3 denied\./, 'the bulk report')
    await shot(anaB, 'inbox-bulk-denied')
    const denied = (await ana('GET', '/requests?incoming=1')).filter((q) => q.resource === ids.stage && q.status === 'denied')
    if (denied.length !== 3 || denied.some((q) => q.reason !== 'The stage is being rigged')) {
      fail(`the stage requests after the bulk deny: ${JSON.stringify(denied.map((q) => [q.status, q.reason]))}`)
    }
  })

  await step('Ben moves the Bike tour an hour later; the preview says what moves for whom', async () => {
    await until("the confirm on Ben's node", async () => {
      const e = await ben('GET', `/events/${ids.tour.id}`)
      return e.requests[0].status === 'confirmed'
    })
    const page = benB.page
    await page.evaluate((r) => (window.location.hash = r), `#/events/${ids.tour.id}`)
    await page.getByRole('button', { name: 'Edit event…' }).click()
    const form = page.getByRole('form', { name: 'Edit event' })
    await form.getByLabel(/Starts/).fill('2027-07-02T15:00')
    await form.getByLabel('Ends').fill('2027-07-02T17:00')
    await form.getByRole('button', { name: 'Review changes' }).click()
    await expectText(
      form.getByRole('status', { name: 'What changes for others' }),
      'Cargo bike (Ana): moved from Fri 2 Jul, 14:00–16:00 to Fri 2 Jul, 15:00–17:00. The booked slot stays yours until Ana decides the new time.',
      'the preview',
    )
    await shot(benB, 'edit-preview')
    const before = await ben('GET', `/events/${ids.tour.id}`)
    if (before.start !== '2027-07-02T12:00:00Z') fail(`the preview signed something: the event starts ${before.start}`)
    await form.getByRole('button', { name: 'Save changes' }).click()
    await expectText(page.locator('p.when.big'), 'Fri 2 Jul, 15:00–17:00', 'the moved event')
  })

  await step("Ana's inbox shows the move as one item; she confirms and the slot follows", async () => {
    const page = anaB.page
    await page.getByLabel('Resource', { exact: true }).selectOption({ label: 'All resources' })
    const card = page.getByRole('listitem', { name: 'Bike tour: Cargo bike' })
    await expectText(
      card,
      /Moved from Fri 2 Jul, 14:00–16:00 to Fri 2 Jul, 15:00–17:00: the old time stays booked for it until you decide\./,
      'the moved request',
      SYNC_TIMEOUT_MS,
    )
    await shot(anaB, 'inbox-moved')
    await card.getByRole('button', { name: 'Confirm', exact: true }).click()
    await until('the moved request confirmed on Ben\'s node, the old slot released', async () => {
      const e = await ben('GET', `/events/${ids.tour.id}`)
      const statuses = e.requests.map((q) => `${q.status}${q.holds_slot ? '+slot' : ''}`).join(',')
      return statuses === 'withdrawn,confirmed+slot' ? true : null
    })
    const cal = await ana('GET', `/resources/${ids.bike}/calendar?start=2027-07-02T00:00&end=2027-07-03T00:00`)
    const booked = cal.confirmed.map((s) => `${s.event_title ?? '(sub-festival)'} ${s.start}`).join('; ')
    if (booked !== 'Bike repair basics 2027-07-02T08:00:00Z; Bike tour 2027-07-02T13:00:00Z') fail(`the bike's day: ${booked}`)
  })

  await step("Carla's browser peer joins Summer Camp through Ana's node and sees the sub-festival booking busy", async () => {
    const carla = await launch(join(root, 'profile-carla'), { name: 'carla', problems })
    browsers.push(carla)
    const page = carla.page
    await page.goto(`${anaNode.origin}/?peer&node=${encodeURIComponent(anaNode.syncUrl)}`)
    await page.getByRole('heading', { level: 1, name: 'Festivals' }).waitFor({ timeout: 30_000 })
    const { link } = await ana('GET', `/festivals/${ids.camp}/invite`)
    await page.getByLabel('Invite link').fill(link)
    await page.getByRole('button', { name: 'Join' }).click()
    await page
      .getByRole('list', { name: 'Your festivals' })
      .getByRole('link', { name: 'Summer Camp' })
      .waitFor({ timeout: SYNC_TIMEOUT_MS })
      .catch(() => fail(`Summer Camp did not arrive in Carla's browser within ${SYNC_TIMEOUT_MS} ms`))
    await page.evaluate((r) => (window.location.hash = r), `#/festivals/${ids.camp}/timeline`)
    const busy = page.locator('[title^="Booked: an event of a sub-festival 10:00–12:00"]')
    await busy.first().waitFor({ timeout: SYNC_TIMEOUT_MS }).catch(() => fail("the browser peer's timeline does not show the sub-festival booking"))
    await expectText(page.getByRole('main'), /Bike tour/, "the browser peer's timeline shows Ben's moved tour", SYNC_TIMEOUT_MS)
    await shot(carla, 'peer-timeline')
  })

  await step("a visitor opens the programme link with no token: confirmed events only, on a phone, and as a PDF", async () => {
    // Ana's Share tab says that nobody else can reach her node (it listens on loopback) and
    // gives the programme link, with the read-only key and never the token.
    const page = anaB.page
    await page.setViewportSize({ width: 1280, height: 860 })
    await page.evaluate((r) => (window.location.hash = r), `#/festivals/${ids.camp}/share`)
    await expectText(page.getByRole('note', { name: 'Nobody else can use these links' }), /--listen 0\.0\.0\.0:7878/, 'the loopback hint')
    const link = await page.getByLabel('Programme link').inputValue()
    const { calendar_key: key } = await ana('GET', '/identity')
    if (!link.endsWith(`#/festivals/${ids.camp}/programme?key=${key}`) || link.includes(anaNode.token)) fail(`the programme link: ${link}`)
    ids.programmeLink = link
    await shot(anaB, 'share-tab')

    const visitor = await launch(join(root, 'profile-visitor'), { name: 'visitor', problems })
    browsers.push(visitor)
    await visitor.page.goto(link)
    const main = visitor.page.getByRole('main')
    await expectText(main, /Bike tour/, "the visitor's programme (desktop: the grid)", SYNC_TIMEOUT_MS)
    await shot(visitor, 'programme-visitor-desktop')
    await visitor.page.setViewportSize({ width: 390, height: 844 })
    await visitor.page.reload()
    await expectText(main, /Bike tour/, "the visitor's programme (phone: the list)", SYNC_TIMEOUT_MS)
    const text = await main.innerText()
    for (const hidden of ['Cargo run', 'Jam 1', 'Ana', 'Ben']) {
      if (text.includes(hidden)) fail(`the visitor's programme shows ${JSON.stringify(hidden)}: ${text.slice(0, 600)}`)
    }
    if (!/Bike repair basics/.test(text)) fail("the sub-festival's confirmed event is missing from the programme")
    await shot(visitor, 'programme-visitor-phone')
    const pdf = join(OUT, `${String(++shots).padStart(2, '0')}-visitor-programme.pdf`)
    await visitor.page.emulateMedia({ media: 'print' })
    await visitor.page.pdf({ path: pdf, format: 'A4', printBackground: true })
    log(`  pdf: ${pdf}`)
    // The key opens nothing else.
    const res = await fetch(`${anaNode.origin}/api/v1/identity?key=${key}`)
    if (res.status !== 401) fail(`the read-only key opened /identity (${res.status})`)
  })

  await step('a visitor whose browser speaks German gets the programme in German, with German dates', async () => {
    const visitor = await launch(join(root, 'profile-visitor-de'), { name: 'visitor-de', problems, locale: 'de-DE' })
    browsers.push(visitor)
    const page = visitor.page
    await page.goto(ids.programmeLink)
    const main = page.getByRole('main')
    await expectText(main, /Bike tour/, "the German visitor's programme", SYNC_TIMEOUT_MS)
    await expectText(page.locator('.pg-kicker'), /^Programm$/i, 'the German heading') // shown in capitals
    await expectText(main, /Freitag, 2\. Juli 2027/, 'a German day')
    await expectText(main, /Zeiten in Europe\/Berlin \(UTC\+02:00\)/, 'the time zone in German')
    await expectText(page.getByRole('navigation', { name: 'Programm zeigen als' }), /Raster.*Liste/s, 'the views in German')
    const lang = await page.evaluate(() => document.documentElement.lang)
    if (lang !== 'de') fail(`<html lang> is ${JSON.stringify(lang)} on the German programme`)
    if (!(await page.getByRole('combobox', { name: 'Sprache' }).isVisible())) fail('no language switch on the programme')
    await shot(visitor, 'visitor-programme-de')
    await page.setViewportSize({ width: 390, height: 844 })
    await page.reload()
    await expectText(main, /Freitag, 2\. Juli 2027.*Bike repair basics/s, "the German visitor's programme on a phone (the list)", SYNC_TIMEOUT_MS)
    await shot(visitor, 'visitor-programme-de-phone')
  })

  await step('50 events on 8 resources: the timeline on a desktop and a phone', async () => {
    const more = ['Meadow', 'Kitchen', 'PA system', 'Projector', 'Sound engineer', 'Big tent']
    const resources = [ids.bike, ids.stage]
    for (const name of more) {
      resources.push((await ana('POST', `/festivals/${ids.camp}/resources`, { name, policy: 'manual' })).id)
    }
    const titles = ['Workshop', 'Concert', 'Yoga', 'Talk', 'Film night', 'Breakfast', 'Repair café', 'Dance']
    let n = (await ana('GET', `/festivals/${ids.camp}/events`)).length
    for (let i = 0; n < 50; i += 1) {
      const day = 1 + (i % 3)
      const hour = 10 + ((i * 5) % 13)
      const r = resources[i % resources.length]
      const start = `2027-07-0${day}T${String(hour).padStart(2, '0')}:${i % 2 ? '30' : '00'}`
      const endHour = hour + 1 + (i % 3)
      const end = endHour >= 24 ? `2027-07-0${day + 1}T0${endHour - 24}:00` : `2027-07-0${day}T${String(endHour).padStart(2, '0')}:00`
      const e = await ana('POST', `/festivals/${ids.camp}/events`, { title: `${titles[i % titles.length]} ${i + 1}`, start, end, requests: [{ resource: r }] })
      n += 1
      const q = e.requests[0]
      if (q.status === 'pending' && i % 4 !== 0) {
        const res = await fetch(`${anaNode.origin}/api/v1/requests/${q.id}/confirm`, { method: 'POST', headers: anaNode.headers, body: '{}' })
        if (![200, 409].includes(res.status)) fail(`confirm answered ${res.status}`)
      }
    }
    const page = anaB.page
    await page.evaluate((r) => (window.location.hash = r), `#/festivals/${ids.camp}/timeline`)
    await expectText(page.getByRole('main'), /Concert/, 'the full timeline')
    await shot(anaB, 'timeline-50-desktop')
    await page.setViewportSize({ width: 390, height: 844 })
    await page.waitForTimeout(300)
    await shot(anaB, 'timeline-50-phone')
    await page.evaluate((r) => (window.location.hash = r), `#/festivals/${ids.camp}/events`)
    await expectText(page.getByRole('main'), /Bike repair basics.*in Workshop tent/s, 'the whole programme with the sub-festival event')
    await shot(anaB, 'programme-phone')
  })
}
