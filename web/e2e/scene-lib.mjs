// The harness of the end-to-end scenes with several people (e2e:teams, e2e:tickets): real
// nodes (`pandafest serve`, each its own data directory, on 127.0.0.1), each person in a
// browser context of their own (own storage, own token), in Debian's headless Chromium through
// playwright-core; numbered screenshots; a step fails on page errors and console errors, on API
// answers >= 400 to a page's or a script's calls, and on warnings or errors the nodes log.
//
// Env: PANDAFEST_BIN, CHROMIUM, E2E_KEEP=1 (see peer-lib.mjs).

import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { CHROMIUM, CHROMIUM_ARGS, WEB, cli, fail, serve, sleep, stop, watch } from './peer-lib.mjs'

export const TZ = 'Europe/Berlin'
export const SYNC_TIMEOUT_MS = 15_000
const KEEP = process.env.E2E_KEEP === '1'
const TOTAL_TIMEOUT_MS = 120_000

/** The node's API as a script calls it: `call(method, path, body)`, failing on an answer >= 400. */
export function api(node) {
  return async (method, path, body) => {
    const res = await fetch(`${node.origin}/api/v1${path}`, {
      method,
      headers: node.headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    if (!res.ok) fail(`${method} ${path} on ${node.origin} answered ${res.status}: ${text}`)
    return JSON.parse(text)
  }
}

/** Polls `check` until it gives a truthy value (returned), or fails after `timeout` ms. */
export async function until(what, check, timeout = SYNC_TIMEOUT_MS) {
  const end = Date.now() + timeout
  for (;;) {
    const value = await check().catch(() => null)
    if (value) return value
    if (Date.now() > end) fail(`not within ${timeout} ms: ${what}`)
    await sleep(150)
  }
}

/** A scene named `name` (its screenshots go to test-output/NAME/). */
export function scene(name) {
  const OUT = join(WEB, 'test-output', name)
  const started = Date.now()
  const children = new Set()
  const problems = []
  let browser = null
  let root = null
  let currentStep = 'start'
  let shots = 0

  function log(line) {
    console.log(line)
  }

  async function step(title, f) {
    currentStep = title
    const t0 = Date.now()
    await f()
    if (problems.length) fail(`problems during this step:\n  ${problems.join('\n  ')}`)
    log(`✓ ${title} (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
  }

  async function shot(who, label) {
    shots += 1
    const file = join(OUT, `${String(shots).padStart(2, '0')}-${who.name}-${label}.png`)
    await who.page.waitForTimeout(150)
    await who.page.screenshot({ path: file, fullPage: true })
    log(`  screenshot: ${file}`)
  }

  function onNodeLog(who) {
    return (line) => {
      if (/\b(WARN|ERROR)\b/.test(line)) problems.push(`${who}'s node logged: ${line.trim()}`)
    }
  }

  /** A person: their node (in a data directory of their own), its API, and later a browser. */
  async function person(display) {
    const dir = join(root, display.toLowerCase())
    await cli(dir, ['init', '--name', display], { children })
    const node = await serve(dir, { children, onLog: onNodeLog(display) })
    return { name: display.toLowerCase(), display, node, call: api(node), page: null, context: null }
  }

  async function launch() {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
  }

  async function openBrowser(who) {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 860 },
      locale: 'en-GB',
      // The browser runs in New York time: every time shown must still be the festival's.
      timezoneId: 'America/New_York',
    })
    context.setDefaultTimeout(10_000)
    await context.route(
      (url) => url.hostname !== '127.0.0.1' && url.protocol !== 'data:' && url.protocol !== 'blob:',
      (route) => route.abort('blockedbyclient'),
    )
    const page = await context.newPage()
    watch(page, who.name, problems)
    // A script's view of the page's API calls: any answer >= 400 is a problem.
    page.on('response', (res) => {
      if (res.url().includes('/api/v1/') && res.status() >= 400) problems.push(`${who.name}: ${res.request().method()} ${res.url()} answered ${res.status()}`)
    })
    await page.goto(`${who.node.origin}/#token=${who.node.token}`)
    await page.getByRole('heading', { level: 1 }).first().waitFor()
    who.context = context
    who.page = page
  }

  async function go(who, route) {
    await who.page.evaluate((r) => (window.location.hash = r), route)
  }

  async function cleanup() {
    if (browser) await Promise.race([browser.close().catch(() => {}), sleep(5000)])
    await Promise.all([...children].map((c) => stop(c)))
    if (root && !KEEP) await rm(root, { recursive: true, force: true }).catch(() => {})
    else if (root) log(`kept: ${root}`)
  }

  /** Runs the scene's steps with a fresh data directory and screenshot folder; exits 1 on failure. */
  async function run(main) {
    const timer = setTimeout(() => {
      console.error(`\n✗ e2e:${name} took longer than ${TOTAL_TIMEOUT_MS / 1000} s (at step "${currentStep}")`)
      cleanup().finally(() => process.exit(1))
    }, TOTAL_TIMEOUT_MS)
    try {
      root = await mkdtemp(join(tmpdir(), `pandafest-${name}-`))
      await rm(OUT, { recursive: true, force: true })
      await mkdir(OUT, { recursive: true })
      await main()
      clearTimeout(timer)
      await cleanup()
      log(`\ne2e:${name} passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${OUT}`)
    } catch (e) {
      clearTimeout(timer)
      console.error(`\n✗ e2e:${name} FAILED at step "${currentStep}":\n${e?.stack ?? e}`)
      await cleanup()
      process.exit(1)
    }
  }

  return { log, step, shot, until, person, launch, openBrowser, go, run }
}
