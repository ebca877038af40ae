// Shared by e2e/peer.mjs and e2e/measure.mjs: the real node as a child process, Debian's
// headless Chromium through playwright-core (one process and one fresh profile per browser,
// so each has its own OPFS, IndexedDB and key), and small waiting helpers.

import { spawn } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

export const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..')
// PANDAFEST_BIN: absolute, or relative to the working directory (web/ under `npm run ...`).
export const BIN = process.env.PANDAFEST_BIN ? resolve(process.env.PANDAFEST_BIN) : resolve(WEB, '../target/debug/pandafest')
export const DIST = join(WEB, 'dist')
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // For a measure's diagnosis (e2e/measure.mjs): more flags, separated by spaces.
  ...(process.env.CHROMIUM_EXTRA_ARGS?.split(' ').filter(Boolean) ?? []),
]

export function fail(message) {
  throw new Error(message)
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** The environment for the node, without settings that would point it elsewhere. */
export function cleanEnv() {
  const env = { ...process.env }
  delete env.PANDAFEST_DATA_DIR
  delete env.PANDAFEST_TOKEN
  delete env.PANDAFEST_WEB_DIR
  return env
}

/** Runs `pandafest --data-dir DIR ...args`; answers stdout, fails with stderr. */
export function cli(dir, args, { timeoutMs = 120_000, children } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(BIN, ['--data-dir', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() })
    children?.add(child)
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      children?.delete(child)
      reject(new Error(`could not run ${BIN}: ${e.message}`))
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      children?.delete(child)
      if (code === 0) resolvePromise(out)
      else reject(new Error(`pandafest ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${err.trim() || out.trim()}`))
    })
  })
}

/**
 * Starts `pandafest serve` on 127.0.0.1 and answers {child, origin, port, syncUrl, token,
 * headers} from its first line of output (`headers` carry the API token, as a script's
 * calls must). `onLog(line)` hears its stderr.
 */
export function serve(dir, { onLog = () => {}, onExit = () => {}, children, bin = BIN } = {}) {
  return new Promise((resolvePromise, reject) => {
    const args = ['--data-dir', dir, 'serve', '--listen', '127.0.0.1:0', '--web-dir', DIST]
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() })
    children?.add(child)
    let out = ''
    let log = ''
    let done = false
    const timer = setTimeout(() => finish(new Error(`pandafest serve printed no address within 15 s; it said: ${out}${log}`)), 15_000)
    function finish(err, value) {
      if (done) return
      done = true
      clearTimeout(timer)
      if (err) reject(err)
      else resolvePromise(value)
    }
    child.stderr.on('data', (d) => {
      log += d
      if (log.length > 20_000) log = log.slice(-20_000)
      for (const line of String(d).split('\n')) if (line.trim()) onLog(line)
    })
    child.stdout.on('data', (d) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl < 0) return
      const first = out.slice(0, nl).trim()
      // "pandafest is serving at http://127.0.0.1:PORT/#token=TOKEN"
      const m = /^pandafest is serving at (http:\/\/127\.0\.0\.1:(\d+)\/)#token=(\S+)$/.exec(first)
      if (!m) return finish(new Error(`unexpected first line from pandafest serve: ${JSON.stringify(first)}`))
      const port = Number(m[2])
      const token = m[3]
      const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }
      finish(null, { child, origin: m[1].replace(/\/$/, ''), port, syncUrl: `ws://127.0.0.1:${port}/sync`, token, headers })
    })
    child.on('error', (e) => finish(new Error(`could not start ${bin}: ${e.message}`)))
    child.on('exit', (code, signal) => {
      children?.delete(child)
      if (!done) finish(new Error(`pandafest serve ended early (${signal ?? `exit ${code}`}): ${log}`))
      else onExit(code, signal)
    })
  })
}

/** Stops a child process (SIGTERM, then SIGKILL after 3 s) and waits for it. */
export function stop(child) {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r()
    const hard = setTimeout(() => child.kill('SIGKILL'), 3000)
    child.once('exit', () => {
      clearTimeout(hard)
      r()
    })
    child.kill('SIGTERM')
  })
}

/**
 * A Chromium process with its own fresh profile in `profileDir`, speaking `locale`. Only 127.0.0.1 is reachable
 * over HTTP (anything else is refused: the UI must work without it). `problems` collects
 * page errors and console errors, of the page and of its workers.
 */
export async function launch(profileDir, { name, problems, timezoneId = 'America/New_York', locale = 'en-GB' }) {
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 860 },
    // The browser's language: the UI follows it (en-GB by default, so that steps read English).
    locale,
    timezoneId,
  })
  context.setDefaultTimeout(10_000)
  await context.route(
    (url) => url.hostname !== '127.0.0.1' && url.protocol !== 'data:' && url.protocol !== 'blob:',
    (route) => route.abort('blockedbyclient'),
  )
  const page = context.pages()[0] ?? (await context.newPage())
  watch(page, name, problems)
  return { context, page, name }
}

/** Collects a page's (and its workers') errors into `problems`. */
export function watch(page, name, problems) {
  page.on('pageerror', (e) => problems.push(`${name}: page error: ${e.message}`))
  const onConsole = (where) => (m) => {
    if (m.type() !== 'error') return
    if (/ERR_BLOCKED_BY_CLIENT/.test(m.text())) return
    problems.push(`${name}: console error${where}: ${m.text()} (${m.location()?.url ?? ''})`)
  }
  page.on('console', onConsole(''))
  page.on('worker', (w) => {
    w.on?.('console', onConsole(' in a worker'))
  })
}

/** Waits until the locator's visible text matches; fails with what it showed instead. */
export async function expectText(locator, pattern, what, timeout = 10_000) {
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
    if (Date.now() > until) fail(`${what}: expected ${re} within ${timeout} ms, the page showed: ${JSON.stringify(last.slice(0, 500))}`)
    await sleep(100)
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

/** "2026-07-01T18:00" wall-clock time in `timeZone` -> "2026-07-01T16:00:00Z". */
export function wallToUtc(wall, timeZone) {
  const asUtc = Date.parse(`${wall}:00Z`)
  let t = asUtc - offsetAt(asUtc, timeZone)
  t = asUtc - offsetAt(t, timeZone)
  return new Date(t).toISOString().replace('.000Z', 'Z')
}

/** The calendar day ("2026-07-01") in `timeZone`, `days` after now. */
export function dayInZone(days, timeZone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(Date.now() + days * 86_400_000),
  )
}
