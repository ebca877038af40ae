#!/usr/bin/env node
// End-to-end test of the browser peer: two browsers, each a whole pandafest node in a Web
// Worker (wasm, OPFS), a real native node between them, then WebRTC between the browsers
// alone. Driven like people use it (labels, roles, visible text), in Debian's headless
// Chromium through playwright-core, one Chromium process and one fresh profile per person,
// so each has its own OPFS, IndexedDB and key.
//
//   cargo build -p pandafest && cargo xtask wasm && (cd web && npm run build)
//   cd web && npm run e2e:peer        # or: PANDAFEST_BIN=/path/to/pandafest node e2e/peer.mjs
//
// Step by step (each step fails on its own):
//   one `pandafest serve` on 127.0.0.1 (temporary data directory); Ana's and Bo's browsers open
//   its web UI with `?peer&node=ws://127.0.0.1:PORT/sync`: pandafest runs in each browser and
//   connects to the node. Ana creates a festival and a resource she decides about, and makes
//   an invite link (the node's operator joins the festival with it, so that the node relays
//   it); Bo pastes the link and gets the festival through the node; Bo plans an event that
//   requests the resource; Ana confirms it in her inbox; Bo sees it confirmed. The node has
//   introduced the two browsers to each other: they connect over WebRTC (no STUN: mDNS host
//   candidates). Then the node is STOPPED: Ana plans another event and it appears in Bo's
//   browser, which can only have it over WebRTC. Last, Bo's page is reloaded with no node
//   to serve it: the service worker serves the app, and the festival and the confirmed
//   request are still there, from OPFS. And served by a plain static host (no node, no
//   `?peer`), the app finds no node and runs in the browser by itself.
// Screenshots go to test-output/peer/ (their paths are printed).
//
// Env: PANDAFEST_BIN (default ../target/debug/pandafest), CHROMIUM (default /usr/bin/chromium),
// E2E_KEEP=1 keeps the temporary directories (their path is printed).
// Exits non-zero with the failed step, on page errors and console errors (page and workers),
// and on warnings or errors logged by the node.

import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { extname, join, normalize } from 'node:path'
import {
  BIN,
  CHROMIUM,
  DIST,
  WEB,
  dayInZone,
  expectText,
  fail,
  launch,
  serve,
  sleep,
  stop,
  watch,
} from './peer-lib.mjs'

const OUT = join(WEB, 'test-output', 'peer')
const KEEP = process.env.E2E_KEEP === '1'
const TZ = 'Europe/Berlin'
const TOTAL_TIMEOUT_MS = 180_000
const SYNC_TIMEOUT_MS = 20_000 // a change made in one browser shows in the other
const RTC_TIMEOUT_MS = 40_000 // the two browsers connect over WebRTC
// Known gaps of the native node (not of the browser peer), worked around unless
// PEER_E2E_STRICT=1, and reported in the output:
// 1. a native node syncs only the festivals it holds or joined, and after `POST /api/v1/join`
//    its sessions already open do not take the joined festival up until something is stored:
//    Ana's browser, connected before the node joined, has to reconnect;
// 2. the invite link of a browser names the node itself, so the node, joining with it, dials
//    itself and logs "the peer presents this peer's own key" (WARN) on every retry.
const STRICT = process.env.PEER_E2E_STRICT === '1'
const GAP_WAIT_MS = 3000
let selfDials = 0

const started = Date.now()
const children = new Set()
const problems = []
const browsers = []
let root = null
let node = null
let nodeLog = ''
let nodeStopping = false
let currentStep = 'start'

const log = (line) => console.log(line)

let shotNumber = 0
async function shot(who, label) {
  shotNumber += 1
  const file = join(OUT, `${String(shotNumber).padStart(2, '0')}-${who.name}-${label}.png`)
  await who.page.mouse.move(1279, 859)
  await who.page.waitForTimeout(150)
  await who.page.screenshot({ path: file, fullPage: true })
  log(`  screenshot: ${file}`)
  const unlabelled = await who.page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.type !== 'hidden')
      .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')))
      .map((el) => el.outerHTML.slice(0, 100)),
  )
  for (const u of unlabelled) problems.push(`${who.name} ${label}: a form control without a label: ${u}`)
}

async function step(name, f) {
  currentStep = name
  const t0 = Date.now()
  await f()
  if (problems.length) fail(`problems during this step:\n  ${problems.join('\n  ')}`)
  log(`✓ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
}

// ---- cleanup -------------------------------------------------------------------------------

let shuttingDown = false
async function cleanup() {
  shuttingDown = true
  for (const b of browsers.splice(0)) {
    await Promise.race([b.context.close().catch(() => {}), sleep(5000)])
  }
  await Promise.race([Promise.all([...children].map(stop)), sleep(5000)])
  if (root) {
    if (KEEP) log(`kept the temporary directories in ${root}`)
    else await rm(root, { recursive: true, force: true }).catch(() => {})
  }
}

async function failed(e) {
  console.error(`\n✗ e2e:peer FAILED at step "${currentStep}":\n${e?.stack ?? e}`)
  if (problems.length) console.error(`\nProblems seen:\n  ${problems.join('\n  ')}`)
  for (const b of browsers) {
    try {
      const file = join(OUT, `FAILED-${b.name}.png`)
      await b.page.screenshot({ path: file, fullPage: true, timeout: 5000 })
      console.error(`The page of ${b.name} at the failure: ${file} (${b.page.url()})`)
    } catch {
      // no page to show
    }
  }
  if (nodeLog.trim()) console.error(`\npandafest serve said:\n${nodeLog.trim().split('\n').slice(-30).join('\n')}`)
  await cleanup()
  process.exit(1)
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`\ninterrupted (${sig})`)
    cleanup().finally(() => process.exit(130))
  })
}
const overall = setTimeout(() => failed(new Error(`the whole run took longer than ${TOTAL_TIMEOUT_MS / 1000} s`)), TOTAL_TIMEOUT_MS)

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The ed25519 public key (hex) of a 32-byte secret key. */
function ed25519PublicKey(secret) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), secret])
  const jwk = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' })
  return Buffer.from(jwk.x, 'base64url').toString('hex')
}

// ---- UI helpers ----------------------------------------------------------------------------

const nav = (who) => who.page.getByRole('navigation', { name: 'Main' })

async function go(who, label, heading) {
  await nav(who).getByRole('link', { name: label, exact: true }).click()
  await who.page.getByRole('heading', { level: 1, name: heading }).waitFor()
}

async function openFestival(who, name) {
  await go(who, 'Festivals', 'Festivals')
  await who.page.getByRole('list', { name: 'Your festivals' }).getByRole('link', { name }).click()
  await who.page.getByRole('heading', { level: 1, name }).waitFor()
}

/** On the Festivals page, `who` pastes an invite link (and has not joined yet). */
async function pasteInvite(who, link) {
  await go(who, 'Festivals', 'Festivals')
  await who.page.getByLabel('Invite link').fill(link)
}

/** The festival `name` is in `who`'s list of festivals, without a reload. */
async function festivalArrives(who, name) {
  await who.page
    .getByRole('list', { name: 'Your festivals' })
    .getByRole('link', { name })
    .waitFor({ timeout: SYNC_TIMEOUT_MS })
    .catch(() => fail(`the festival ${name} did not arrive in ${who.name}'s browser within ${SYNC_TIMEOUT_MS} ms`))
}

/** The peers on the Sync screen whose address matches `re`, connected. */
async function waitForPeer(who, re, what, timeout) {
  await go(who, 'Sync', 'Sync')
  const list = who.page.getByRole('list', { name: 'Peers' })
  const until = Date.now() + timeout
  let last = ''
  for (;;) {
    try {
      const items = list.getByRole('listitem')
      const n = await items.count()
      for (let i = 0; i < n; i++) {
        const text = (await items.nth(i).innerText({ timeout: 500 })).replace(/\s+/g, ' ')
        if (re.test(text) && /Up to date|Connected|still to fetch/.test(text)) return text
      }
      last = (await list.innerText({ timeout: 500 })).replace(/\s+/g, ' ')
    } catch {
      // no list yet
    }
    if (Date.now() > until) fail(`${what}: no connected peer ${re} on ${who.name}'s Sync screen within ${timeout} ms; it shows: ${last.slice(0, 600)}`)
    await sleep(250)
  }
}

async function setName(who, name) {
  await go(who, 'You', 'You')
  await who.page.getByLabel('Name others see').fill(name)
  await who.page.getByRole('button', { name: 'Save' }).click()
  await expectText(who.page.getByRole('main'), /Saved\./, `${who.name}'s name`)
  await nav(who).getByRole('link', { name, exact: true }).waitFor()
}

// ---- the test ------------------------------------------------------------------------------

async function main() {
  await step('preconditions', async () => {
    if (!existsSync(BIN)) fail(`no pandafest binary at ${BIN}: build it with "cargo build -p pandafest", or set PANDAFEST_BIN`)
    if (!existsSync(join(DIST, 'index.html'))) fail(`no web build in ${DIST}: run "npm run build" in web/ first`)
    if (!existsSync(join(DIST, 'sw.js'))) fail(`no service worker in ${DIST}: run "npm run build" in web/ again`)
    const assets = await readdir(join(DIST, 'assets'))
    if (!assets.some((f) => f.endsWith('.wasm'))) {
      fail(`the web build in ${DIST} has no .wasm: run "cargo xtask wasm", then "npm run build" in web/`)
    }
    if (!existsSync(CHROMIUM)) fail(`no Chromium at ${CHROMIUM}: install Debian's chromium, or set CHROMIUM`)
    await rm(OUT, { recursive: true, force: true })
    await mkdir(OUT, { recursive: true })
    root = await mkdtemp(join(tmpdir(), 'pandafest-peer-'))
  })

  await step('pandafest serve (127.0.0.1, temporary data directory)', async () => {
    node = await serve(join(root, 'node'), {
      children,
      onLog: (line) => {
        nodeLog += `${line}\n`
        if (nodeLog.length > 20_000) nodeLog = nodeLog.slice(-20_000)
        if (!STRICT && /presents this peer's own key/.test(line)) {
          selfDials += 1 // KNOWN GAP 2 (see above)
          return
        }
        if (/\b(WARN|ERROR)\b/.test(line) && !nodeStopping) problems.push(`pandafest serve logged: ${line.trim()}`)
      },
      onExit: (code, signal) => {
        if (!nodeStopping && !shuttingDown) problems.push(`pandafest serve ended during the test (${signal ?? `exit ${code}`})`)
      },
    })
    log(`  node at ${node.origin}, sync at ${node.syncUrl}`)
  })

  const peerUrl = () => `${node.origin}/?peer&node=${encodeURIComponent(node.syncUrl)}`
  let ana, bo
  await step('two browsers (own Chromium process and profile each) open the UI in peer mode', async () => {
    ana = await launch(join(root, 'profile-ana'), { name: 'ana', problems })
    browsers.push(ana)
    bo = await launch(join(root, 'profile-bo'), { name: 'bo', problems })
    browsers.push(bo)
    for (const who of [ana, bo]) {
      await who.page.goto(peerUrl())
      await who.page.getByRole('heading', { level: 1, name: 'Festivals' }).waitFor({ timeout: 30_000 })
      await expectText(who.page.getByRole('banner'), /in this browser/, `${who.name}: the top bar says where pandafest runs`)
      await expectText(who.page.getByRole('main'), /No festivals yet/, `${who.name}: a new browser has no festivals`)
      if (await who.page.getByText(/Not saved/).count()) fail(`${who.name}: the page says the data is not saved (no OPFS?)`)
    }
    await shot(ana, 'festivals-empty')
  })

  await step('each browser syncs with the node (Sync screen)', async () => {
    for (const who of [ana, bo]) {
      await waitForPeer(who, new RegExp(escapeRe(node.syncUrl)), `${who.name} and the node`, SYNC_TIMEOUT_MS)
      await expectText(
        who.page.getByRole('list', { name: 'Nodes this browser connects to' }),
        new RegExp(`${escapeRe(node.syncUrl)} Connected · added here`),
        `${who.name}: the remembered node`,
      )
    }
    await shot(ana, 'sync-node')
  })

  let boKey
  await step('Bo imports his key from another device (before writing anything)', async () => {
    const page = bo.page
    await go(bo, 'You', 'You')
    await expectText(page.getByRole('main'), /pandafest runs in this browser/, 'the identity screen says where the data is')
    const before = await page.getByLabel('Public key').inputValue()
    const secret = randomBytes(32)
    boKey = ed25519PublicKey(secret)
    if (before === boKey) fail('the browser made the very key the test generated')
    await page.getByLabel('Secret key to import (64 hex digits)').fill(secret.toString('hex'))
    await page.getByRole('button', { name: 'Import key' }).click()
    await expectText(page.getByRole('status').filter({ hasText: /Done/ }), new RegExp(`now acts as key ${boKey.slice(0, 8)}`), 'the key import')
    const until = Date.now() + 5000
    while ((await page.getByLabel('Public key').inputValue()) !== boKey) {
      if (Date.now() > until) fail(`after the import the page shows the public key ${await page.getByLabel('Public key').inputValue()}, expected ${boKey}`)
      await sleep(100)
    }
    await page.getByRole('button', { name: 'Show my secret key…' }).click()
    await page.getByRole('button', { name: 'I understand, show it' }).click()
    const shown = await page.getByLabel('Secret key (keep it private)').inputValue()
    if (shown !== secret.toString('hex')) fail(`the exported secret key is not the imported one: ${shown}`)
    await shot(bo, 'identity-imported')
    await page.getByRole('button', { name: 'Hide it' }).click()
    await setName(bo, 'Bo')
    // With the new key, Bo is connected to the node again.
    await waitForPeer(bo, new RegExp(escapeRe(node.syncUrl)), 'Bo (new key) and the node', SYNC_TIMEOUT_MS)
  })

  await step('Ana names herself', async () => {
    await setName(ana, 'Ana')
  })

  const [d1, d2, d3] = [14, 15, 16].map((n) => dayInZone(n, TZ))
  const festivalName = 'Meadow Festival'
  const resourceName = 'Big tent'
  let festivalId, resourceId
  await step('Ana creates a festival and a resource she decides about', async () => {
    const page = ana.page
    await nav(ana).getByRole('link', { name: 'Festivals', exact: true }).click()
    await page.getByRole('link', { name: 'New festival' }).click()
    await page.getByRole('heading', { level: 1, name: 'New festival' }).waitFor()
    await page.getByLabel('Name', { exact: true }).fill(festivalName)
    await page.getByLabel('Time zone').selectOption(TZ)
    await page.getByLabel('Starts', { exact: true }).fill(`${d1}T10:00`)
    await page.getByLabel('Ends', { exact: true }).fill(`${d3}T23:00`)
    await page.getByRole('button', { name: 'Create festival' }).click()
    await page.getByRole('heading', { level: 1, name: festivalName }).waitFor()
    festivalId = /#\/festivals\/([0-9a-f]{128})/.exec(page.url())?.[1] ?? fail(`no festival id in the URL ${page.url()}`)
    await page.getByRole('link', { name: 'Share a resource' }).first().click()
    await page.getByRole('heading', { level: 1, name: `Share a resource in ${festivalName}` }).waitFor()
    await page.getByLabel('Name', { exact: true }).fill(resourceName)
    await page.getByRole('radio', { name: /^Place/ }).check()
    await page.getByRole('radio', { name: /^I do/ }).check()
    await page.getByRole('button', { name: 'Share it' }).click()
    await page.getByRole('heading', { level: 1, name: resourceName }).waitFor()
    resourceId = /#\/resources\/([0-9a-f]{128})/.exec(page.url())?.[1] ?? fail(`no resource id in the URL ${page.url()}`)
    await expectText(page.getByRole('main'), /The owner confirms or denies each request/, 'the resource says who decides')
    await shot(ana, 'resource')
  })

  await step("Ana has written: a key import is refused, and her key stays", async () => {
    const page = ana.page
    await go(ana, 'Ana', 'You')
    const key = await page.getByLabel('Public key').inputValue()
    if (!/^[0-9a-f]{64}$/.test(key)) fail(`the public key shown is ${JSON.stringify(key)}`)
    await page.getByLabel('Secret key to import (64 hex digits)').fill(randomBytes(32).toString('hex'))
    await page.getByRole('button', { name: 'Import key' }).click()
    const form = page.locator('form').filter({ has: page.getByRole('button', { name: 'Import key' }) })
    const said = await expectText(form.getByRole('alert'), /\w/, 'the refusal of the key import')
    log(`  refused with: ${said}`)
    await sleep(300)
    if ((await page.getByLabel('Public key').inputValue()) !== key) fail('the key changed although Ana had written')
    await shot(ana, 'identity-import-refused')
  })

  let link
  await step("Ana's invite link names the node", async () => {
    await openFestival(ana, festivalName)
    await ana.page.getByRole('navigation', { name: 'Festival views' }).getByRole('link', { name: 'Share' }).click()
    await ana.page.getByRole('button', { name: 'Make an invite link' }).click()
    link = await ana.page.getByLabel('Invite link').inputValue()
    if (!link.startsWith(`pandafest://join?festival=${festivalId}`)) fail(`the invite link is ${link}`)
    if (!link.includes(`peer=${encodeURIComponent(node.syncUrl)}`)) fail(`the invite link does not name the node ${node.syncUrl}: ${link}`)
    // A browser peer has no server: its calendar is a one-off download.
    const ics = await ana.page.getByRole('link', { name: /Download the schedule/ }).getAttribute('href')
    if (!ics?.startsWith('data:text/calendar') || !decodeURIComponent(ics).includes('BEGIN:VCALENDAR')) {
      fail(`the schedule download is ${ics?.slice(0, 80)}`)
    }
    await shot(ana, 'share')
  })

  await step("the node's operator joins the festival with the link (the node relays it)", async () => {
    const res = await fetch(`${node.origin}/api/v1/join`, {
      method: 'POST',
      headers: node.headers,
      body: JSON.stringify({ link }),
    })
    if (res.status >= 300) fail(`POST /api/v1/join on the node answered ${res.status}: ${await res.text()}`)
    const nodeHasIt = async (timeout) => {
      const until = Date.now() + timeout
      for (;;) {
        const f = await fetch(`${node.origin}/api/v1/festivals/${festivalId}/resources`, { headers: node.headers })
        if (f.ok && (await f.json()).some((r) => r.id === resourceId)) return true
        if (Date.now() > until) return false
        await sleep(200)
      }
    }
    if (!(await nodeHasIt(GAP_WAIT_MS))) {
      const gap =
        `KNOWN GAP 1: the node joined the festival, but its open session with Ana's browser does not take it up ` +
        `(nothing was stored, so the node never calls add_festivals on its sessions); Ana's browser reconnects to the node`
      if (STRICT) fail(gap)
      log(`  ${gap}`)
      await go(ana, 'Sync', 'Sync')
      await ana.page.getByRole('button', { name: `Forget ${node.syncUrl}` }).click()
      await ana.page.getByLabel('Node address').fill(node.syncUrl)
      await ana.page.getByRole('button', { name: 'Connect' }).click()
      if (!(await nodeHasIt(SYNC_TIMEOUT_MS))) fail(`the node did not get Ana's festival and resource from her browser within ${SYNC_TIMEOUT_MS} ms`)
    }
  })

  await step('Bo joins with the invite link and gets the festival through the node', async () => {
    const page = bo.page
    await pasteInvite(bo, link)
    await shot(bo, 'join-form')
    await page.getByRole('button', { name: 'Join' }).click()
    await expectText(page.getByRole('status').filter({ hasText: /joining/i }), /fetching the festival from 1 peer/, 'the join answer')
    await festivalArrives(bo, festivalName)
    await shot(bo, 'festival-joined')
  })

  const boTitle = 'Poetry slam'
  let boRequestCard
  await step('Bo plans an event that requests the tent (the form says Free)', async () => {
    const page = bo.page
    await openFestival(bo, festivalName)
    await page.getByRole('link', { name: 'New event' }).click()
    await page.getByRole('heading', { level: 1, name: `New event in ${festivalName}` }).waitFor()
    await page.getByLabel('Title', { exact: true }).fill(boTitle)
    await page.getByLabel('Starts', { exact: true }).fill(`${d2}T15:00`)
    await page.getByLabel('Ends', { exact: true }).fill(`${d2}T17:00`)
    const box = page.getByRole('checkbox', { name: new RegExp(resourceName) })
    await box.check()
    await expectText(page.getByRole('listitem').filter({ has: box }), /Free$/, 'the check of the tent')
    await shot(bo, 'new-event')
    await page.getByRole('button', { name: 'Create event and send 1 request' }).click()
    await page.getByRole('heading', { level: 1, name: boTitle }).waitFor()
    boRequestCard = page.getByRole('listitem', { name: `${boTitle}: ${resourceName}` })
    await expectText(boRequestCard, /Waiting for the owner|Pending|Waiting/, "Bo's request")
    await expectText(page.getByRole('main'), /Organised by Bo \(you\)/, 'the event page')
  })

  await step("Ana's inbox gets Bo's request through the node; she confirms it", async () => {
    const page = ana.page
    const inbox = nav(ana).getByRole('link', { name: /Inbox/ })
    await expectText(inbox, /Inbox\s*1/, "the inbox count in Ana's top bar", SYNC_TIMEOUT_MS)
    await inbox.click()
    await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor()
    const card = page.getByRole('listitem', { name: `${boTitle}: ${resourceName}` })
    await expectText(card, /Waiting for you/, 'the request in the inbox')
    await expectText(card, /15:00–17:00/, 'the time in Berlin time')
    await expectText(card, /Asked by Bo/, 'who asked')
    await shot(ana, 'inbox')
    await card.getByRole('button', { name: 'Confirm' }).click()
    await expectText(page.getByRole('main'), /Nothing is waiting for you/, 'the empty inbox')
  })

  await step('Bo sees it confirmed (without a reload)', async () => {
    await expectText(boRequestCard, /Confirmed/, "Bo's request after Ana's confirm", SYNC_TIMEOUT_MS)
    await shot(bo, 'event-confirmed')
  })

  await step("a festival of 300 events reaches Bo's browser, its large batch through the second worker", async () => {
    // The node's own festival: its first batch (256 entries, about 100 KB) is one that Bo's
    // second worker, which holds the WebSocket, checks before the first worker stores it.
    const post = async (path, body) => {
      const res = await fetch(`${node.origin}/api/v1${path}`, { method: 'POST', headers: node.headers, body: JSON.stringify(body) })
      if (!res.ok) fail(`POST ${path} on the node answered ${res.status}: ${await res.text()}`)
      return res.json()
    }
    const big = await post('/festivals', { name: 'Conference', timezone: 'UTC' })
    let last
    for (let i = 1; i <= 300; i++) {
      const start = new Date(Date.parse('2030-03-01T08:00:00Z') + i * 600_000).toISOString().replace('.000Z', 'Z')
      const end = new Date(Date.parse(start) + 300_000).toISOString().replace('.000Z', 'Z')
      last = await post(`/festivals/${big.id}/events`, { title: `Talk ${i}`, start, end })
    }
    const page = bo.page
    await pasteInvite(bo, `pandafest://join?festival=${big.id}&peer=${encodeURIComponent(node.syncUrl)}`)
    await page.getByRole('button', { name: 'Join' }).click()
    await festivalArrives(bo, 'Conference')
    // The last event is in the last batch: all of them were stored, in order.
    await page.evaluate((id) => {
      location.hash = `#/events/${id}`
    }, last.id)
    await page
      .getByRole('heading', { level: 1, name: 'Talk 300' })
      .waitFor({ timeout: SYNC_TIMEOUT_MS })
      .catch(() => fail(`the festival's last event did not arrive in Bo's browser within ${SYNC_TIMEOUT_MS} ms`))
    await shot(bo, 'conference-last-event')
  })

  await step('the node introduced the browsers: they connect over WebRTC', async () => {
    const t0 = Date.now()
    const rtc = /webrtc:[0-9a-f]{16}/
    const [a, b] = await Promise.all([
      waitForPeer(ana, rtc, 'Ana and Bo over WebRTC', RTC_TIMEOUT_MS),
      waitForPeer(bo, rtc, 'Bo and Ana over WebRTC', RTC_TIMEOUT_MS),
    ])
    log(`  connected within ${Date.now() - t0} ms: Ana sees "${a.slice(0, 80)}", Bo sees "${b.slice(0, 80)}"`)
    await shot(ana, 'sync-webrtc')
    await shot(bo, 'sync-webrtc')
  })

  await step('the node stops', async () => {
    // The service worker controls both pages by now: it will serve the app without the node.
    for (const who of [ana, bo]) {
      const controlled = await who.page.evaluate(async () => {
        await navigator.serviceWorker.ready
        for (let i = 0; i < 50 && !navigator.serviceWorker.controller; i++) await new Promise((r) => setTimeout(r, 100))
        return !!navigator.serviceWorker.controller
      })
      if (!controlled) fail(`no service worker controls ${who.name}'s page`)
    }
    nodeStopping = true
    await stop(node.child)
    const res = await fetch(`${node.origin}/api/v1/identity`, { headers: node.headers }).catch(() => null)
    if (res) fail('the node still answers after it was stopped')
    await expectText(bo.page.getByRole('main'), /Not connected/, "Bo's Sync screen after the node stopped", SYNC_TIMEOUT_MS)
  })

  const anaTitle = 'Closing bonfire'
  await step('without the node, an event Ana plans reaches Bo over WebRTC', async () => {
    // Bo looks at the festival's events; Ana plans one.
    await openFestival(bo, festivalName)
    await bo.page.getByRole('navigation', { name: 'Festival views' }).getByRole('link', { name: 'Events' }).click()
    await expectText(bo.page.getByRole('main'), new RegExp(boTitle), "Bo's events tab")
    if (await bo.page.getByText(anaTitle).count()) fail('the event is there before Ana planned it')
    const page = ana.page
    await openFestival(ana, festivalName)
    await page.getByRole('link', { name: 'New event' }).click()
    await page.getByRole('heading', { level: 1, name: `New event in ${festivalName}` }).waitFor()
    await page.getByLabel('Title', { exact: true }).fill(anaTitle)
    await page.getByLabel('Starts', { exact: true }).fill(`${d3}T20:00`)
    await page.getByLabel('Ends', { exact: true }).fill(`${d3}T22:00`)
    await page.getByRole('button', { name: /^Create event/ }).click()
    await page.getByRole('heading', { level: 1, name: anaTitle }).waitFor()
    const t0 = Date.now()
    await bo.page
      .getByRole('main')
      .getByText(anaTitle)
      .first()
      .waitFor({ timeout: SYNC_TIMEOUT_MS })
      .catch(() => fail(`Ana's event did not reach Bo's browser within ${SYNC_TIMEOUT_MS} ms (the node is stopped: only WebRTC could bring it)`))
    log(`  appeared in Bo's browser ${Date.now() - t0} ms after Ana created it`)
    await shot(ana, 'event-offline')
    await shot(bo, 'events-from-ana-over-webrtc')
  })

  await step("reloading Bo's page (no node to serve it) keeps his data", async () => {
    const page = bo.page
    const res = await page.reload()
    if (!res?.fromServiceWorker()) fail(`the reloaded page did not come from the service worker (status ${res?.status()})`)
    await page.getByRole('heading', { level: 1, name: festivalName }).waitFor({ timeout: 30_000 })
    await expectText(page.getByRole('main'), new RegExp(`${boTitle}.*${anaTitle}|${anaTitle}.*${boTitle}`), "Bo's events after the reload")
    await nav(bo).getByRole('link', { name: /My requests/ }).click()
    await page.getByRole('heading', { level: 1, name: 'My requests' }).waitFor()
    await expectText(page.getByRole('listitem', { name: `${boTitle}: ${resourceName}` }), /Confirmed/, 'the confirmed request after the reload')
    if (await page.getByText(/Not saved/).count()) fail('after the reload, the page says the data is not saved')
    await shot(bo, 'my-requests-after-reload')
  })

  await step('on a static host (no node at all), the app runs in this browser by itself', async () => {
    const host = await staticHost(DIST)
    try {
      const page = await ana.context.newPage()
      watch(page, 'ana (static host)', problems)
      await page.goto(`${host.origin}/`)
      await page.getByRole('heading', { level: 1, name: 'Festivals' }).waitFor({ timeout: 30_000 })
      await expectText(page.getByRole('banner'), /in this browser/, 'the top bar on a static host')
      // Another origin: another OPFS, so nothing of Ana's festival.
      await expectText(page.getByRole('main'), /No festivals yet/, 'a new origin starts empty')
      if (!host.paths.has('/api/v1/identity')) fail('the page did not ask the static host for a node identity')
      await shot({ name: 'ana', page }, 'static-host')
      await page.close()
    } finally {
      host.server.close()
    }
  })
}

/** A plain static file server of `dir` (index.html for unknown paths), like any static host. */
function staticHost(dir) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.svg': 'image/svg+xml' }
  const paths = new Set()
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname)
    paths.add(path)
    let file = join(dir, normalize(path).replace(/^(\.\.[/\\])+/, ''))
    if (!existsSync(file) || path.endsWith('/')) file = join(dir, 'index.html')
    try {
      const body = await readFile(file)
      res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' })
      res.end(body)
    } catch {
      res.writeHead(404)
      res.end('not found')
    }
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, paths, origin: `http://127.0.0.1:${server.address().port}` })),
  )
}

try {
  await main()
  clearTimeout(overall)
  await cleanup()
  if (selfDials) log(`\nKNOWN GAP 2: the node dialled itself ${selfDials} times ("the peer presents this peer's own key"); ignored (PEER_E2E_STRICT=1 fails on it)`)
  log(`\ne2e:peer passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${OUT}`)
  process.exit(0)
} catch (e) {
  clearTimeout(overall)
  await failed(e)
}
