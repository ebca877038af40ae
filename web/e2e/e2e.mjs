#!/usr/bin/env node
// End-to-end test of the web UI: a real `pandafest serve` (the node, as a child process, on
// 127.0.0.1 only) and Debian's headless Chromium driven by playwright-core, used like a person
// uses it (labels, roles, visible text).
//
//   cargo build -p pandafest && (cd web && npm run build)
//   cd web && npm run e2e            # or: PANDAFEST_BIN=/path/to/pandafest node e2e/e2e.mjs
//
// What it does, step by step (each step fails on its own):
//   Ana (one data directory, `pandafest serve --token ...`, the page opened with #token=):
//   creates a festival in Europe/Berlin time (the browser runs in New York time on purpose),
//   shares a resource whose owner decides, plans an event that requests it (the form must say
//   "Free" first), confirms the request in her inbox and sees it booked on the timeline; the
//   festival's iCal link carries the read-only calendar key, never the token, and works.
//   Bo (a second data directory, CLI only): gets the festival through `log export`/`log import`,
//   requests the same resource for an overlapping time; his log is imported into Ana's data
//   directory while her inbox is open: the request must appear without a reload, already
//   denied by her node with the conflict as the reason, and a deny with another reason from
//   Ana's CLI must show up live too.
// Screenshots of every screen it passes go to test-output/e2e/ (their paths are printed).
//
// Env: PANDAFEST_BIN (default ../target/debug/pandafest), CHROMIUM (default /usr/bin/chromium),
// E2E_KEEP=1 keeps the temporary data directories (their path is printed).
// Exits non-zero with the failed step, on page errors, console errors and failed API calls.

import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..')
// PANDAFEST_BIN: absolute, or relative to the working directory (web/ under `npm run e2e`).
const BIN = process.env.PANDAFEST_BIN ? resolve(process.env.PANDAFEST_BIN) : resolve(WEB, '../target/debug/pandafest')
const DIST = join(WEB, 'dist')
const OUT = join(WEB, 'test-output', 'e2e')
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
const KEEP = process.env.E2E_KEEP === '1'

const TZ = 'Europe/Berlin' // the festival's zone
const BROWSER_TZ = 'America/New_York' // the browser's: every time shown must still be Berlin's
const TOTAL_TIMEOUT_MS = 110_000
const UI_TIMEOUT_MS = 10_000
const LIVE_TIMEOUT_MS = 10_000 // the node polls its data directory every 250 ms

const started = Date.now()
const children = new Set()
const problems = [] // page errors, console errors, failed API calls: each fails the run
let browserContext = null
let page = null
let root = null
let serveLog = ''
let currentStep = 'start'

// ---- small helpers -------------------------------------------------------------------------

function fail(message) {
  throw new Error(message)
}

function log(line) {
  console.log(line)
}

/** Runs `pandafest --data-dir DIR ...args` and returns its stdout; fails with its stderr. */
function cli(dir, args, { timeoutMs = 30_000 } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(BIN, ['--data-dir', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() })
    children.add(child)
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      children.delete(child)
      reject(new Error(`could not run ${BIN}: ${e.message}`))
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      children.delete(child)
      if (code === 0) resolvePromise(out)
      else reject(new Error(`pandafest ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${err.trim() || out.trim()}`))
    })
  })
}

async function cliJson(dir, args) {
  const out = await cli(dir, args)
  try {
    return JSON.parse(out)
  } catch {
    fail(`pandafest ${args.join(' ')} printed no JSON: ${out.slice(0, 300)}`)
  }
}

/** The environment for the node, without settings that would point it elsewhere. */
function cleanEnv() {
  const env = { ...process.env }
  delete env.PANDAFEST_DATA_DIR
  delete env.PANDAFEST_TOKEN
  delete env.PANDAFEST_WEB_DIR
  return env
}

/** Starts `pandafest serve` and answers the URL from its first line of output. */
function serve(dir, token) {
  return new Promise((resolvePromise, reject) => {
    const args = ['--data-dir', dir, 'serve', '--listen', '127.0.0.1:0', '--web-dir', DIST, '--token', token]
    const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() })
    children.add(child)
    let out = ''
    let done = false
    const timer = setTimeout(() => finish(new Error(`pandafest serve printed no address within 15 s; it said: ${out}${serveLog}`)), 15_000)
    function finish(err, value) {
      if (done) return
      done = true
      clearTimeout(timer)
      if (err) reject(err)
      else resolvePromise(value)
    }
    child.stderr.on('data', (d) => {
      serveLog += d
      if (serveLog.length > 20_000) serveLog = serveLog.slice(-20_000)
      // The node logs nothing in a good run: a warning or an error is a problem of this run.
      for (const line of String(d).split('\n')) if (/\b(WARN|ERROR)\b/.test(line)) problems.push(`pandafest serve logged: ${line.trim()}`)
    })
    child.stdout.on('data', (d) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl < 0) return
      const first = out.slice(0, nl).trim()
      // "pandafest is serving at http://127.0.0.1:PORT/" (+ "#token=..." with a token)
      const m = /^pandafest is serving at (http:\/\/127\.0\.0\.1:(\d+)\/)(?:#token=(\S+))?$/.exec(first)
      if (!m) return finish(new Error(`unexpected first line from pandafest serve: ${JSON.stringify(first)}`))
      if (m[3] !== token) return finish(new Error(`pandafest serve printed another token than it was given: ${first}`))
      finish(null, { origin: m[1].replace(/\/$/, ''), port: Number(m[2]), pageUrl: `${m[1]}#token=${m[3]}` })
    })
    child.on('error', (e) => finish(new Error(`could not start ${BIN}: ${e.message}`)))
    child.on('exit', (code, signal) => {
      children.delete(child)
      if (!done) finish(new Error(`pandafest serve ended early (${signal ?? `exit ${code}`}): ${serveLog}`))
      else if (!shuttingDown) problems.push(`pandafest serve ended during the test (${signal ?? `exit ${code}`})`)
    })
  })
}

/** The node's API, as a script would call it (to check what the UI did). */
function api(origin, token) {
  return async (method, path, body) => {
    const res = await fetch(`${origin}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    if (!res.ok) fail(`${method} /api/v1${path} answered ${res.status}: ${text}`)
    return JSON.parse(text)
  }
}

/** The offset of `timeZone` from UTC at instant `t` (ms). */
function offsetAt(t, timeZone) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(t))
  const get = (type) => Number(parts.find((p) => p.type === type).value)
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - t
}

/** "2026-07-01T18:00" wall-clock time in `timeZone` -> "2026-07-01T16:00:00Z" (computed here, not by the UI). */
function wallToUtc(wall, timeZone) {
  const asUtc = Date.parse(`${wall}:00Z`)
  let t = asUtc - offsetAt(asUtc, timeZone)
  t = asUtc - offsetAt(t, timeZone)
  return new Date(t).toISOString().replace('.000Z', 'Z')
}

/** The calendar day ("2026-07-01") in `timeZone`, `days` after now. */
function dayInZone(days, timeZone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(Date.now() + days * 86_400_000),
  )
}

/** Waits until the locator's visible text matches; fails with what it showed instead. */
async function expectText(locator, pattern, what, timeout = UI_TIMEOUT_MS) {
  const re = pattern instanceof RegExp ? pattern : new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  const until = Date.now() + timeout
  let last = '(not found)'
  for (;;) {
    try {
      last = (await locator.first().innerText({ timeout: 500 })).replace(/\s+/g, ' ').trim()
      if (re.test(last)) return last
    } catch {
      // not there yet
    }
    if (Date.now() > until) fail(`${what}: expected ${re} within ${timeout} ms, the page showed: ${JSON.stringify(last.slice(0, 400))}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function expectGone(locator, what, timeout = UI_TIMEOUT_MS) {
  try {
    await locator.waitFor({ state: 'detached', timeout })
  } catch {
    fail(`${what}: still on the page after ${timeout} ms`)
  }
}

let shotNumber = 0
async function shot(label) {
  shotNumber += 1
  const file = join(OUT, `${String(shotNumber).padStart(2, '0')}-${label}.png`)
  await page.mouse.move(1279, 859) // no hover effect where the last click was
  await page.waitForTimeout(150) // let the last re-render paint
  await page.screenshot({ path: file, fullPage: true })
  log(`  screenshot: ${file}`)
  // Every form control needs a label a screen reader can read.
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.type !== 'hidden')
      .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')))
      .map((el) => el.outerHTML.slice(0, 100)),
  )
  for (const u of unlabelled) problems.push(`${label}: a form control without a label: ${u}`)
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
  if (browserContext) {
    await Promise.race([browserContext.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))])
    browserContext = null
  }
  const waits = [...children].map(
    (child) =>
      new Promise((r) => {
        if (child.exitCode !== null || child.signalCode !== null) return r()
        const hard = setTimeout(() => child.kill('SIGKILL'), 3000)
        child.once('exit', () => {
          clearTimeout(hard)
          r()
        })
        child.kill('SIGTERM')
      }),
  )
  await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 5000))])
  if (root) {
    if (KEEP) log(`kept the data directories in ${root}`)
    else await rm(root, { recursive: true, force: true }).catch(() => {})
  }
}

async function failed(e) {
  console.error(`\n✗ e2e FAILED at step "${currentStep}":\n${e?.stack ?? e}`)
  if (problems.length) console.error(`\nProblems seen on the page:\n  ${problems.join('\n  ')}`)
  if (page) {
    try {
      const file = join(OUT, 'FAILED.png')
      await page.screenshot({ path: file, fullPage: true, timeout: 5000 })
      console.error(`\nThe page at the failure: ${file} (${page.url()})`)
    } catch {
      // no page to show
    }
  }
  if (serveLog.trim()) console.error(`\npandafest serve said:\n${serveLog.trim().split('\n').slice(-30).join('\n')}`)
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

// ---- the test ------------------------------------------------------------------------------

async function main() {
  await step('preconditions', async () => {
    if (!existsSync(BIN)) fail(`no pandafest binary at ${BIN}: build it with "cargo build -p pandafest", or set PANDAFEST_BIN`)
    if (!existsSync(join(DIST, 'index.html'))) fail(`no web build in ${DIST}: run "npm run build" in web/ first`)
    if (!existsSync(CHROMIUM)) fail(`no Chromium at ${CHROMIUM}: install Debian's chromium, or set CHROMIUM`)
    await rm(OUT, { recursive: true, force: true })
    await mkdir(OUT, { recursive: true })
    root = await mkdtemp(join(tmpdir(), 'pandafest-e2e-'))
  })

  const anaDir = join(root, 'ana')
  const boDir = join(root, 'bo')
  const token = randomBytes(16).toString('hex')
  let ana, node, call
  await step('Ana: pandafest init and serve (127.0.0.1, with a token)', async () => {
    ana = await cliJson(anaDir, ['init', '--name', 'Ana', '--json'])
    if (!/^[0-9a-f]{64}$/.test(ana.public_key ?? '')) fail(`init answered no public key: ${JSON.stringify(ana)}`)
    node = await serve(anaDir, token)
    call = api(node.origin, token)
    const me = await call('GET', '/identity')
    if (me.public_key !== ana.public_key) fail(`the node serves another identity: ${JSON.stringify(me)}`)
    if (!me.calendar_key) fail(`a node with a token must give a calendar_key: GET /api/v1/identity answered ${JSON.stringify(me)}`)
    node.calendarKey = me.calendar_key
    log(`  node at ${node.origin} (data in ${anaDir})`)
  })

  await step('open the web UI in Chromium', async () => {
    browserContext = await chromium.launchPersistentContext(join(root, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      viewport: { width: 1280, height: 860 },
      locale: 'en-GB',
      timezoneId: BROWSER_TZ,
    })
    browserContext.setDefaultTimeout(UI_TIMEOUT_MS)
    // Only 127.0.0.1: anything else (map tiles, ...) is refused; the UI must work without it.
    await browserContext.route(
      (url) => url.hostname !== '127.0.0.1' && url.protocol !== 'data:' && url.protocol !== 'blob:',
      (route) => route.abort('blockedbyclient'),
    )
    page = browserContext.pages()[0] ?? (await browserContext.newPage())
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    page.on('console', (m) => {
      if (m.type() !== 'error') return
      // Refused non-local requests (see above) are intended.
      if (/ERR_BLOCKED_BY_CLIENT/.test(m.text())) return
      problems.push(`console error: ${m.text()} (${m.location()?.url ?? ''})`)
    })
    page.on('response', async (res) => {
      if (res.status() < 400 || !res.url().includes('/api/v1/')) return
      let body = ''
      try {
        body = (await res.text()).slice(0, 300)
      } catch {
        // the body is gone
      }
      problems.push(`${res.request().method()} ${new URL(res.url()).pathname} answered ${res.status()}: ${body}`)
    })
    await page.goto(node.pageUrl)
    await page.getByRole('heading', { level: 1, name: 'Festivals' }).waitFor()
    if (page.url().includes(token)) fail(`the token stays in the address bar: ${page.url()}`)
    await expectText(page.getByRole('main'), /No festivals yet/, 'a new node has no festivals')
    await shot('festivals-empty')
  })

  // Festival days in Berlin, two weeks ahead: D1 10:00 until D3 23:00.
  const [d1, d2, d3] = [14, 15, 16].map((n) => dayInZone(n, TZ))
  const festivalName = 'Lakeside Festival'
  let festivalId
  await step('create a festival in Europe/Berlin time', async () => {
    await page.getByRole('link', { name: 'New festival' }).click()
    await page.getByRole('heading', { level: 1, name: 'New festival' }).waitFor()
    await page.getByLabel('Name', { exact: true }).fill(festivalName)
    await page.getByLabel('Description (optional)').fill('Three days by the lake. Bring a tent.')
    await page.getByLabel('Time zone').selectOption(TZ)
    await page.getByLabel('Starts', { exact: true }).fill(`${d1}T10:00`)
    await page.getByLabel('Ends', { exact: true }).fill(`${d3}T23:00`)
    await expectText(page.getByRole('group', { name: /When/ }), /In Europe\/Berlin time/, 'the form names the zone it reads times in')
    await shot('new-festival-form')
    await page.getByRole('button', { name: 'Create festival' }).click()
    await page.getByRole('heading', { level: 1, name: festivalName }).waitFor()
    festivalId = /#\/festivals\/([0-9a-f]{128})/.exec(page.url())?.[1] ?? fail(`no festival id in the URL ${page.url()}`)
    await expectText(page.getByRole('main'), /Times in Europe\/Berlin/, 'the festival page names its zone')
    const f = await call('GET', `/festivals/${festivalId}`)
    const want = { timezone: TZ, start: wallToUtc(`${d1}T10:00`, TZ), end: wallToUtc(`${d3}T23:00`, TZ) }
    for (const [k, v] of Object.entries(want)) if (f[k] !== v) fail(`the festival's ${k} is ${f[k]}, expected ${v}`)
  })

  const resourceName = 'Big hall'
  let resourceId
  await step('share a resource (the owner decides)', async () => {
    await page.getByRole('link', { name: 'Share a resource' }).first().click()
    await page.getByRole('heading', { level: 1, name: `Share a resource in ${festivalName}` }).waitFor()
    await page.getByLabel('Name', { exact: true }).fill(resourceName)
    await page.getByRole('radio', { name: /^Place/ }).check()
    await page.getByLabel('Description (optional)').fill('Seats 200; stage and lights included.')
    await page.getByLabel('Street address (optional)').fill('Seeweg 1')
    // Available during the festival only (the form suggests the festival's days).
    await page.getByRole('radio', { name: 'Only at these times' }).check()
    const from = await page.getByLabel('From (time 1)').inputValue()
    const until = await page.getByLabel('Until (time 1)').inputValue()
    if (from !== `${d1}T10:00` || until !== `${d3}T23:00`) fail(`the availability suggested is ${from}–${until}, not the festival's days`)
    await page.getByRole('radio', { name: /^I do/ }).check()
    await shot('new-resource-form')
    await page.getByRole('button', { name: 'Share it' }).click()
    await page.getByRole('heading', { level: 1, name: resourceName }).waitFor()
    resourceId = /#\/resources\/([0-9a-f]{128})/.exec(page.url())?.[1] ?? fail(`no resource id in the URL ${page.url()}`)
    await expectText(page.getByRole('main'), /The owner confirms or denies each request/, 'the resource says who decides')
    await page.getByRole('heading', { name: 'When it is free' }).waitFor()
    await shot('resource')
    const r = await call('GET', `/resources/${resourceId}`)
    if (r.policy !== 'manual') fail(`the resource's policy is ${r.policy}, not manual`)
    if (r.kind !== 'location' || r.address !== 'Seeweg 1') fail(`the resource was saved as ${JSON.stringify(r)}`)
    const frame = r.availability?.[0]
    if (!frame || frame.start !== wallToUtc(`${d1}T10:00`, TZ) || frame.end !== wallToUtc(`${d3}T23:00`, TZ)) {
      fail(`the resource's availability is ${JSON.stringify(r.availability)}`)
    }
  })

  await step('the festival lists the resource', async () => {
    await page.getByRole('link', { name: festivalName }).first().click()
    await page.getByRole('navigation', { name: 'Festival views' }).getByRole('link', { name: 'Resources' }).click()
    const list = page.getByRole('list', { name: 'Resources' })
    await expectText(list, /Big hall.*Ana \(you\) · Owner decides/, 'the resources tab')
    await shot('festival-resources')
  })

  const eventTitle = 'Opening concert'
  let eventId
  await step('plan an event that requests it: the form says Free', async () => {
    await page.getByRole('link', { name: 'New event' }).click()
    await page.getByRole('heading', { level: 1, name: `New event in ${festivalName}` }).waitFor()
    await page.getByLabel('Title', { exact: true }).fill(eventTitle)
    await page.getByLabel('Description (optional)').fill('The first night, with the brass band.')
    await page.getByLabel('Starts', { exact: true }).fill(`${d2}T18:00`)
    await page.getByLabel('Ends', { exact: true }).fill(`${d2}T20:00`)
    const box = page.getByRole('checkbox', { name: new RegExp(resourceName) })
    await box.check()
    const item = page.getByRole('listitem').filter({ has: box })
    await expectText(item, /Free$/, 'the check of the resource')
    const shown = await item.innerText()
    if (/Taken|Not available|Checking/.test(shown)) fail(`the resource is shown as ${JSON.stringify(shown)}`)
    await expectText(page.getByRole('status').filter({ hasText: /chosen resource/ }), 'The chosen resource is free.', 'the summary')
    await page.getByRole('heading', { name: 'That day at a glance' }).waitFor()
    await shot('new-event-free')
    await page.getByRole('button', { name: 'Create event and send 1 request' }).click()
    await page.getByRole('heading', { level: 1, name: eventTitle }).waitFor()
    eventId = /#\/events\/([0-9a-f]{128})/.exec(page.url())?.[1] ?? fail(`no event id in the URL ${page.url()}`)
    const card = page.getByRole('listitem', { name: `${eventTitle}: ${resourceName}` })
    await expectText(card, /Waiting for you/, 'the new request on the event page')
    await expectText(page.getByRole('main'), /Organised by Ana \(you\)/, 'the event page')
    const e = await call('GET', `/events/${eventId}`)
    const want = { start: wallToUtc(`${d2}T18:00`, TZ), end: wallToUtc(`${d2}T20:00`, TZ) }
    if (e.start !== want.start || e.end !== want.end) fail(`the event is ${e.start}–${e.end}, expected ${want.start}–${want.end} (18:00–20:00 Berlin)`)
    if (e.requests.length !== 1 || e.requests[0].resource !== resourceId || e.requests[0].status !== 'pending') {
      fail(`the event's requests are ${JSON.stringify(e.requests)}`)
    }
    await shot('event-pending')
  })

  const mainNav = page.getByRole('navigation', { name: 'Main' })
  await step('the inbox shows the request; confirm it', async () => {
    const inboxLink = mainNav.getByRole('link', { name: /Inbox/ })
    await expectText(inboxLink, /Inbox\s*1/, 'the inbox count in the top bar')
    await inboxLink.click()
    await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor()
    const card = page.getByRole('listitem', { name: `${eventTitle}: ${resourceName}` })
    await expectText(card, /Waiting for you/, 'the request in the inbox')
    await expectText(card, /18:00–20:00/, 'the request time in Berlin time')
    await expectText(card, /Asked by Ana \(you\) · Policy: Owner decides/, 'who asked')
    await shot('inbox-before')
    await card.getByRole('button', { name: 'Confirm' }).click()
    await expectGone(card, 'the confirmed request should leave "Waiting for you"')
    await expectText(page.getByRole('main'), /Nothing is waiting for you/, 'the empty inbox')
    await expectText(page.getByLabel('Show'), /All requests \(1\)/, 'the inbox filter')
    const q = await call('GET', `/requests?incoming=1`)
    if (q.length !== 1 || q[0].status !== 'confirmed') fail(`after Confirm the node says ${JSON.stringify(q)}`)
    if (await mainNav.getByText(/waiting for you/).count()) fail('the top bar still counts a waiting request')
    await shot('inbox-after-confirm')
  })

  await step('the festival timeline shows it booked', async () => {
    await mainNav.getByRole('link', { name: 'Festivals', exact: true }).click()
    await page.getByRole('heading', { level: 1, name: 'Festivals' }).waitFor()
    await page.getByRole('list', { name: 'Your festivals' }).getByRole('link', { name: festivalName }).click()
    await page.getByRole('heading', { level: 1, name: festivalName }).waitFor()
    const booked = page.getByRole('link', { name: new RegExp(`Booked: ${eventTitle} 18:00–20:00`) })
    await booked.waitFor()
    if ((await booked.count()) !== 1) fail(`the booking shows ${await booked.count()} times on the timeline`)
    if (await page.getByRole('link', { name: /Hold, waiting for the owner/ }).count()) fail('a hold is left on the timeline')
    await shot('festival-timeline-booked')
    await booked.click()
    await page.getByRole('heading', { level: 1, name: eventTitle }).waitFor()
    const card = page.getByRole('listitem', { name: `${eventTitle}: ${resourceName}` })
    await expectText(card, /Confirmed/, 'the request on the event page')
    await shot('event-confirmed')
  })

  await step('my requests: confirmed', async () => {
    await mainNav.getByRole('link', { name: /My requests/ }).click()
    await page.getByRole('heading', { level: 1, name: 'My requests' }).waitFor()
    await expectText(page.getByRole('heading', { level: 2, name: /^Confirmed/ }), 'Confirmed (1)', 'the confirmed group')
    await expectText(page.getByRole('listitem', { name: `${eventTitle}: ${resourceName}` }), /Confirmed/, 'my request')
    await shot('my-requests')
  })

  await step('the iCal link has the calendar key, not the token, and works', async () => {
    await mainNav.getByRole('link', { name: 'Festivals', exact: true }).click()
    await page.getByRole('list', { name: 'Your festivals' }).getByRole('link', { name: festivalName }).waitFor()
    await shot('festivals')
    await page.getByRole('list', { name: 'Your festivals' }).getByRole('link', { name: festivalName }).click()
    await page.getByRole('navigation', { name: 'Festival views' }).getByRole('link', { name: 'Share' }).click()
    const field = page.getByLabel(/Calendar link \(iCal\)/)
    await field.waitFor()
    const url = await field.inputValue()
    const want = `${node.origin}/api/v1/festivals/${festivalId}/schedule.ics?key=${node.calendarKey}`
    if (url !== want) fail(`the calendar link is ${url}, expected ${want}`)
    if (url.includes(token)) fail('the calendar link contains the access token')
    const download = await page.getByRole('link', { name: /Download the schedule/ }).getAttribute('href')
    if (download !== url) fail(`the download link is ${download}`)
    const res = await fetch(url) // no token: the key alone must open it
    const body = await res.text()
    if (res.status !== 200 || !/text\/calendar/.test(res.headers.get('content-type') ?? '')) {
      fail(`GET ${url} answered ${res.status} ${res.headers.get('content-type')}: ${body.slice(0, 200)}`)
    }
    if (!body.includes(eventTitle)) fail(`the iCal feed does not contain the confirmed event: ${body.slice(0, 400)}`)
    await shot('festival-share')
  })

  await step('identity and sync screens', async () => {
    await mainNav.getByRole('link', { name: 'Ana', exact: true }).click()
    await page.getByRole('heading', { level: 1, name: 'You' }).waitFor()
    const key = await page.getByLabel('Public key').inputValue()
    if (key !== ana.public_key) fail(`the page shows the public key ${key}, the node has ${ana.public_key}`)
    if ((await page.getByLabel('Name others see').inputValue()) !== 'Ana') fail('the name field does not say Ana')
    await expectText(page.getByRole('main'), new RegExp(`Your data is stored in ${anaDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'the data directory')
    await shot('identity')
    await mainNav.getByRole('link', { name: 'Sync', exact: true }).click()
    await page.getByRole('heading', { level: 1, name: 'Sync' }).waitFor()
    await expectText(page.getByRole('main'), /No peers yet/, 'the sync screen of a lone node')
    await shot('sync')
  })

  // ---- Bo, on another device (CLI only) ----
  const files = join(root, 'files')
  await mkdir(files)
  let bo, boEvent, boRequest
  const boTitle = 'Late jazz set'
  await step('Bo: init, gets the festival through log export/import, requests the hall (CLI)', async () => {
    bo = await cliJson(boDir, ['init', '--name', 'Bo', '--json'])
    if (bo.public_key === ana.public_key) fail('Bo got the same key as Ana')
    const fromAna = join(files, 'ana.log')
    await cli(anaDir, ['log', 'export', '--festival', festivalId, '--output', fromAna])
    if (!(await readFile(fromAna, 'utf8')).trim()) fail('the export of Ana\'s festival is empty')
    await cli(boDir, ['log', 'import', fromAna])
    // 19:00–21:00 Berlin: overlaps Ana's confirmed 18:00–20:00.
    boEvent = await cliJson(boDir, [
      'event', 'create', '--festival', festivalId, '--title', boTitle,
      '--start', wallToUtc(`${d2}T19:00`, TZ), '--end', wallToUtc(`${d2}T21:00`, TZ),
      '--request', resourceId, '--json',
    ])
    boRequest = boEvent.requests?.[0]
    if (!boRequest || boRequest.resource !== resourceId || boRequest.status !== 'pending') {
      fail(`Bo's event has the requests ${JSON.stringify(boEvent.requests)}`)
    }
  })

  await step("Bo's request appears in Ana's open inbox without a reload, turned away by her node", async () => {
    await mainNav.getByRole('link', { name: /Inbox/ }).click()
    await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor()
    await expectText(page.getByRole('main'), /Nothing is waiting for you/, 'the inbox before the import')
    await page.getByLabel('Show').selectOption('all')
    // A reload would lose this mark (and count as a navigation).
    await page.evaluate(() => (window.__e2eNoReload = true))
    let loads = 0
    page.on('load', () => (loads += 1))
    const fromBo = join(files, 'bo.log')
    await cli(boDir, ['log', 'export', '--festival', festivalId, '--output', fromBo])
    const t0 = Date.now()
    await cli(anaDir, ['log', 'import', fromBo])
    const card = page.getByRole('listitem', { name: `${boTitle}: ${resourceName}` })
    await card.waitFor({ timeout: LIVE_TIMEOUT_MS }).catch(() => fail(`Bo's request did not appear within ${LIVE_TIMEOUT_MS} ms of the import`))
    log(`  appeared ${Date.now() - t0} ms after the import finished`)
    if (loads || !(await page.evaluate(() => window.__e2eNoReload === true))) fail('the page was reloaded')
    // The time is taken, so Ana's node denied it at once (under every policy), saying why.
    await expectText(card, /Denied/, "Bo's request")
    await expectText(card, /Reason: overlaps confirmed request [0-9a-f]{8} \(Opening concert, \S+ 18:00–20:00\)/, 'the reason her node gave')
    await expectText(card, /Asked by Bo · Policy: Owner decides/, 'who asked')
    await expectText(card, /19:00–21:00/, "Bo's time, in Berlin time")
    await expectText(card, new RegExp(`Taken by ${eventTitle} 18:00–20:00`), 'the conflict with the confirmed concert')
    if (await card.getByRole('button', { name: 'Confirm after all' }).evaluate((b) => b.classList.contains('primary'))) {
      fail('Confirm is offered as the next step although the time is taken')
    }
    if (await mainNav.getByText(/waiting for you/).count()) fail('the top bar counts a request nobody has to decide')
    await shot('inbox-live-request-from-bo')
    page.removeAllListeners('load')
  })

  await step("a deny from Ana's CLI shows up live, with its reason", async () => {
    const card = page.getByRole('listitem', { name: `${boTitle}: ${resourceName}` })
    const reason = 'The hall is booked for the opening concert until 20:00.'
    const denied = await cliJson(anaDir, ['request', 'deny', boRequest.id, '--reason', reason, '--json'])
    if (denied.status !== 'denied') fail(`pandafest request deny answered ${JSON.stringify(denied)}`)
    await expectText(card, `Reason: ${reason}`, 'the reason of the deny', LIVE_TIMEOUT_MS)
    await expectText(card, /Taken by Opening concert 18:00–20:00/, 'why it cannot be confirmed after all')
    await card.getByRole('button', { name: 'Confirm after all' }).waitFor()
    if (!(await page.evaluate(() => window.__e2eNoReload === true))) fail('the page was reloaded')
    await expectText(page.getByRole('listitem', { name: `${eventTitle}: ${resourceName}` }), /Confirmed/, 'the concert')
    if (await mainNav.getByText(/waiting for you/).count()) fail('the top bar still counts a waiting request')
    await shot('inbox-all-after-cli-deny')
  })
}

try {
  await main()
  clearTimeout(overall)
  await cleanup()
  log(`\ne2e passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${OUT}`)
  process.exit(0)
} catch (e) {
  clearTimeout(overall)
  await failed(e)
}
