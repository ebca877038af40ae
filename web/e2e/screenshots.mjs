#!/usr/bin/env node
// Screenshots of every screen at a desktop and a phone width, taken by Debian's Chromium
// driven by playwright-core. It walks the UI by clicking (no ids are assumed), so it works
// against the demo and against a real node:
//
//   npm run build && npx vite preview --port 4173 &
//   node e2e/screenshots.mjs                                   # http://127.0.0.1:4173/?demo
//   node e2e/screenshots.mjs --base 'http://127.0.0.1:7313/#token=SECRET'
//
// Options: --base URL, --out DIR (default test-output/screenshots), --only desktop|phone,
// --festival NAME, --resource NAME, --event NAME (what to walk through; default: the demo's,
// else the first listed), --fake-tiles (answer map tile requests with plain generated tiles,
// to see the online map without internet), --lang de (each screenshot in that language: the
// walk reads English, and the top bar's language switch changes it for each picture).
// Exits non-zero if a page throws or a step fails; console errors are listed.

import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { deflateSync } from 'node:zlib'
import { chromium } from 'playwright-core'

const args = {}
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i]
  if (!a.startsWith('--')) continue
  const eq = a.indexOf('=')
  if (eq > 0) args[a.slice(2, eq)] = a.slice(eq + 1)
  else if (i + 1 < process.argv.length && !process.argv[i + 1].startsWith('--')) args[a.slice(2)] = process.argv[++i]
  else args[a.slice(2)] = 'yes'
}
const base = args.base || process.env.BASE_URL || 'http://127.0.0.1:4173/?demo'
const out = args.out || 'test-output/screenshots'
const demo = base.includes('demo')
const festivalName = args.festival || (demo ? 'Riverside Summer Camp' : null)
const resourceName = args.resource || (demo ? 'Main stage' : null)
const eventName = args.event || (demo ? 'Jam session' : null)
const fakeTiles = 'fake-tiles' in args
const lang = args.lang && args.lang !== 'en' ? args.lang : null
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium'

const VIEWPORTS = {
  desktop: { width: 1280, height: 860 },
  phone: { width: 390, height: 844 },
}

/** base + a hash route, keeping the query (?demo) and a #token= fragment for the first load. */
function at(route) {
  const u = new URL(base)
  u.hash = route
  return u.toString()
}

const problems = []

/** A 256×256 PNG: pale green with a darker grid, standing in for a map tile. */
function tilePng() {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    return c >>> 0
  })
  const crc = (buf) => {
    let c = 0xffffffff
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8)
    return (c ^ 0xffffffff) >>> 0
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(data.length)
    const td = Buffer.concat([Buffer.from(type), data])
    const c = Buffer.alloc(4)
    c.writeUInt32BE(crc(td))
    return Buffer.concat([len, td, c])
  }
  const raw = Buffer.alloc(256 * (1 + 256 * 3))
  for (let y = 0; y < 256; y++) {
    raw[y * 769] = 0
    for (let x = 0; x < 256; x++) {
      const line = x % 64 === 0 || y % 64 === 0
      const o = y * 769 + 1 + x * 3
      raw[o] = line ? 200 : 232
      raw[o + 1] = line ? 214 : 240
      raw[o + 2] = line ? 196 : 226
    }
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(256, 0)
  ihdr.writeUInt32BE(256, 4)
  ihdr[8] = 8
  ihdr[9] = 2
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

async function run(name, viewport) {
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
  const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'America/New_York' })
  if (fakeTiles) {
    const tile = tilePng()
    await context.route('https://tile.openstreetmap.org/**', (route) =>
      route.fulfill({ status: 200, contentType: 'image/png', body: tile }),
    )
  }
  const page = await context.newPage()
  page.on('pageerror', (e) => problems.push(`[${name}] page error: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' && !/tile\.openstreetmap\.org|ERR_|net::/.test(m.text())) {
      problems.push(`[${name}] console error: ${m.text()}`)
    }
  })
  const dir = join(out, name)
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  let n = 0
  const shot = async (label) => {
    n += 1
    const file = join(dir, `${String(n).padStart(2, '0')}-${label}.png`)
    const language = page.locator('.topbar .language select')
    if (lang) await language.selectOption(lang)
    await page.waitForTimeout(250)
    await page.screenshot({ path: file, fullPage: true })
    console.log(file)
    // Every form control must have a label a screen reader can read.
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea')]
        .filter((el) => el.type !== 'hidden')
        .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')))
        .map((el) => el.outerHTML.slice(0, 80)),
    )
    for (const u of unlabelled) problems.push(`[${name}] ${label}: control without a label: ${u}`)
    if (lang) await language.selectOption('en')
  }
  const step = async (label, f) => {
    try {
      await f()
    } catch (e) {
      problems.push(`[${name}] ${label}: ${e.message.split('\n')[0]}`)
    }
  }
  const h1 = (text) => page.getByRole('heading', { level: 1, name: text })

  // The first load carries the token (if any); later ones use the stored one.
  await page.goto(base.includes('#') ? base : at('/'))
  await step('festivals', async () => {
    await page.goto(at('/'))
    await h1('Festivals').waitFor()
    await page.locator('.tree a.title').first().waitFor()
    await shot('festivals')
  })

  await step('festival timeline', async () => {
    const named = festivalName ? page.locator('.tree a.title', { hasText: festivalName }) : null
    await page.locator('.tree a.title').first().waitFor()
    if (named && (await named.count())) await named.first().click()
    else await page.locator('.tree a.title').first().click()
    await page.locator('.timeline, .empty').first().waitFor()
    await shot('festival-timeline')
  })
  const festivalUrl = page.url()

  await step('keyboard focus', async () => {
    const booked = page.locator('.tl-booked a').first()
    if (await booked.count()) {
      await booked.focus()
      await page.keyboard.press('Tab')
      await page.keyboard.press('Shift+Tab')
      await shot('keyboard-focus-on-booking')
    }
  })

  for (const tab of ['Events', 'Resources', 'Map', 'Share']) {
    await step(`tab ${tab}`, async () => {
      await page.getByRole('navigation', { name: 'Festival views' }).getByRole('link', { name: tab }).click()
      if (tab === 'Map') await page.locator('.map').waitFor()
      if (tab === 'Map') await page.waitForTimeout(1500)
      if (tab === 'Share') await page.getByRole('button', { name: 'Make an invite link' }).click()
      if (tab === 'Share') await page.getByLabel('Invite link').waitFor()
      await shot(`festival-${tab.toLowerCase()}`)
    })
  }

  await step('event page', async () => {
    await page.goto(festivalUrl.replace(/\/timeline$/, '') + '/events')
    await page.locator('.event-row a.title, .empty').first().waitFor()
    const named = eventName ? page.locator('.event-row a.title', { hasText: eventName }) : null
    if (named && (await named.count())) await named.first().click()
    else await page.locator('.event-row a.title').first().click()
    await page.getByRole('heading', { name: 'Requested resources' }).waitFor()
    await shot('event')
  })

  await step('resource page', async () => {
    await page.goto(festivalUrl.replace(/\/timeline$/, '') + '/resources')
    await page.locator('.resource-row a.title, .empty').first().waitFor()
    const named = resourceName ? page.locator('.resource-row a.title', { hasText: resourceName }) : null
    if (named && (await named.count())) await named.first().click()
    else await page.locator('.resource-row a.title').first().click()
    await page.getByRole('heading', { name: 'When it is free' }).waitFor()
    await shot('resource')
  })

  await step('new event with checks', async () => {
    await page.goto(festivalUrl)
    await page.getByRole('link', { name: 'New event' }).click()
    await h1(/New event/).waitFor()
    await page.getByLabel('Title').fill('Evening concert')
    // The form suggests a start; move it to 18:30 on that day, for an hour.
    const start = await page.getByLabel('Starts').inputValue()
    const day = start.slice(0, 10)
    await page.getByLabel('Starts').fill(`${day}T18:30`)
    await page.getByLabel('Ends').fill(`${day}T19:30`)
    const boxes = page.locator('.pick-list input[type=checkbox]')
    const count = Math.min(await boxes.count(), 4)
    for (let i = 0; i < count; i++) await boxes.nth(i).check()
    await page.waitForFunction(() => !document.querySelector('.pick-list')?.textContent?.includes('Checking'))
    await shot('new-event')
  })

  await step('new resource form', async () => {
    await page.goto(festivalUrl)
    await page.getByRole('link', { name: 'Share a resource' }).click()
    await h1(/Share a resource/).waitFor()
    await page.getByLabel('Only at these times').check()
    await shot('new-resource')
  })

  await step('new festival form', async () => {
    await page.goto(at('/festivals/new'))
    await h1('New festival').waitFor()
    await shot('new-festival')
  })

  await step('inbox', async () => {
    await page.goto(at('/inbox'))
    await h1('Inbox').waitFor()
    await page.locator('.request, .empty').first().waitFor()
    await page.waitForTimeout(300)
    const deny = page.getByRole('button', { name: 'Deny…' }).first()
    if (await deny.count()) await deny.click()
    await shot('inbox')
  })

  await step('my requests', async () => {
    await page.goto(at('/requests'))
    await h1('My requests').waitFor()
    await page.locator('.request, .empty').first().waitFor()
    await shot('my-requests')
  })

  await step('sync', async () => {
    await page.goto(at('/sync'))
    await h1('Sync').waitFor()
    await page.locator('.peers, .empty').first().waitFor()
    await shot('sync')
  })

  await step('identity', async () => {
    await page.goto(at('/me'))
    await h1('You').waitFor()
    await page.getByRole('button', { name: 'Show my secret key…' }).click()
    await shot('identity')
  })

  await browser.close()
}

const only = args.only
for (const [name, viewport] of Object.entries(VIEWPORTS)) {
  if (!only || only === name) await run(name, viewport)
}

if (problems.length) {
  console.error(`\n${problems.length} problem(s):\n${problems.join('\n')}`)
  process.exit(1)
}
console.log('\nNo page errors.')
