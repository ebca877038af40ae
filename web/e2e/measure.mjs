#!/usr/bin/env node
// Measures of the browser peer (benchmarks, not tests), printed side by side:
//
// 1. Sizes: every file of the web build in dist/assets, raw and gzipped (level 9), with the
//    wasm module and the worker chunk called out.
// 2. Ingest: a native node (`pandafest serve`) holds a festival of N entries (default 10 000,
//    made through its HTTP API: N-1 events); then
//    - native: `pandafest log import` of the same entries (from `log export`) into a fresh
//      data directory, timed (and the same command's start-up, timed on an empty file, is
//      given too); and `pandafest sync` of them from the node over a WebSocket, as the
//      browser gets them;
//    - browser: in headless Chromium, the build's worker (the browser peer: wasm, OPFS) joins
//      the festival from the node over a WebSocket; timed from the join until the worker has
//      stored every entry (its sync status), then checked: the festival's events are all there.
//
//   cargo build --release -p pandafest && cargo xtask wasm && (cd web && npm run build)
//   cd web && npm run measure               # N=2000 npm run measure for a quicker run
//
// Env: PANDAFEST_BIN (default ../target/release/pandafest if built, else ../target/debug/pandafest:
// a debug build makes the native side slow), CHROMIUM, N (entries), MEASURE_KEEP=1 (keep the
// temporary directory and its festival.log), MEASURE_FROM=festival.log (start from a kept log),
// MEASURE_TRACE=trace.json (a Chromium trace of the first browser sync: the CPU its optimising
// compiler and each thread took during the sync, and the workers' functions by self time; a
// wasm that keeps its names, `wasm-opt -g`, names them), MEASURE_TRACE_CATEGORIES=a,b (the
// trace's categories instead of the default below), CHROMIUM_EXTRA_ARGS (more flags for
// Chromium, e.g. `--js-flags=--trace-wasm-compilation-times` with DEBUG=pw:browser),
// MEASURE_ROUNDS=5 (the native and the browser's sync five times each, alternating; medians).

import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { CHROMIUM, DIST, WEB, cleanEnv, fail, launch, serve, stop } from './peer-lib.mjs'

const release = resolve(WEB, '../target/release/pandafest')
const BIN = process.env.PANDAFEST_BIN
  ? resolve(process.env.PANDAFEST_BIN)
  : existsSync(release)
    ? release
    : resolve(WEB, '../target/debug/pandafest')
const N = Number(process.env.N ?? 10_000)
const KEEP = process.env.MEASURE_KEEP === '1'
// A festival.log kept by an earlier run (MEASURE_KEEP=1): imported instead of made through the
// API, which takes minutes (every write is a commit).
const FROM = process.env.MEASURE_FROM ? resolve(process.env.MEASURE_FROM) : null
// Where to write a Chromium trace of the browser's sync (its CPU samples, every thread), with
// the functions that took the most time in the worker printed.
const TRACE = process.env.MEASURE_TRACE ? resolve(process.env.MEASURE_TRACE) : null
// The trace's categories: V8's CPU samples, its wasm compilations, every thread's tasks, and the
// page's marks of the sync's start and end (`measure:join`, `measure:synced`).
const TRACE_CATEGORIES = process.env.MEASURE_TRACE_CATEGORIES?.split(',') ?? [
  'disabled-by-default-v8.cpu_profiler',
  'v8',
  'v8.wasm',
  'devtools.timeline',
  'toplevel',
  'blink.user_timing',
]
// How many times the native sync and the browser's run, alternating (medians compared).
const ROUNDS = Math.max(1, Number(process.env.MEASURE_ROUNDS ?? 1))

const children = new Set()
const problems = []
let root = null
let browser = null

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`
const ms = (t) => `${Math.round(t)} ms`
const rate = (n, t) => `${Math.round((n / t) * 1000).toLocaleString('en-US')} entries/s`

function run(args, { timeoutMs = 600_000 } = {}) {
  return new Promise((res, rej) => {
    const t0 = performance.now()
    const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() })
    children.add(child)
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      children.delete(child)
      const t = performance.now() - t0
      if (code === 0) res({ out, t })
      else rej(new Error(`pandafest ${args.join(' ')} failed: ${err || out}`))
    })
  })
}

async function sizes() {
  const dir = join(DIST, 'assets')
  const rows = []
  for (const f of (await readdir(dir)).sort()) {
    const bytes = await readFile(join(dir, f))
    rows.push({ f, raw: bytes.length, gz: gzipSync(bytes, { level: 9 }).length })
  }
  console.log('\n## Sizes of the web build (dist/assets; gzip -9)\n')
  console.log('| file | raw | gzipped |\n|---|---:|---:|')
  for (const r of rows) console.log(`| ${r.f} | ${kb(r.raw)} | ${kb(r.gz)} |`)
  const wasm = rows.filter((r) => r.f.endsWith('.wasm'))
  const worker = rows.filter((r) => /^worker-.*\.js$/.test(r.f))
  const peer = rows.filter((r) => /^peer-.*\.js$/.test(r.f))
  const sum = (rs, k) => rs.reduce((s, r) => s + r[k], 0)
  if (!wasm.length) fail('the build has no .wasm: run "cargo xtask wasm", then "npm run build"')
  console.log(
    `\nbrowser peer: wasm ${kb(sum(wasm, 'gz'))} gzipped (${kb(sum(wasm, 'raw'))} raw); ` +
      `worker chunk ${kb(sum(worker, 'gz'))} gzipped (${kb(sum(worker, 'raw'))} raw); ` +
      `page-side client chunk ${kb(sum(peer, 'gz'))} gzipped`,
  )
  return worker[0]?.f ?? fail('the build has no worker chunk (assets/worker-*.js)')
}

/** N-1 events in a new festival (N entries with the festival), through the node's API. */
async function fill({ origin, headers }) {
  const post = async (path, body) => {
    const res = await fetch(`${origin}/api/v1${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    })
    if (!res.ok) fail(`POST ${path} answered ${res.status}: ${await res.text()}`)
    return res.json()
  }
  const festival = await post('/festivals', { name: 'Measure', timezone: 'UTC' })
  const t0 = performance.now()
  const base = Date.parse('2026-07-01T00:00:00Z')
  for (let i = 1; i < N; i++) {
    const start = new Date(base + i * 3_600_000).toISOString().replace('.000Z', 'Z')
    const end = new Date(base + i * 3_600_000 + 1_800_000).toISOString().replace('.000Z', 'Z')
    await post(`/festivals/${festival.id}/events`, { title: `Event ${i}`, start, end })
    if (i % 2000 === 0) process.stdout.write(`  ${i} events written\n`)
  }
  return { festival: festival.id, t: performance.now() - t0 }
}

/** In the page: the build's worker joins the festival; answers the times it measured. */
async function browserIngest(page, workerUrl, link, expected) {
  return page.evaluate(
    async ({ workerUrl, link, expected }) => {
      const t0 = performance.now()
      const w = new Worker(workerUrl, { type: 'module', name: 'measure' })
      let next = 1
      const waiting = new Map()
      let ready
      const started = new Promise((r) => (ready = r))
      w.onmessage = (ev) => {
        const m = ev.data
        if (m.t === 'ready' || m.t === 'failed') ready(m)
        if (m.t === 'reply') {
          const p = waiting.get(m.id)
          waiting.delete(m.id)
          if (m.ok) p.res(m.value)
          else p.rej(new Error(m.error))
        }
      }
      const call = (c) =>
        new Promise((res, rej) => {
          const id = next++
          waiting.set(id, { res, rej })
          w.postMessage({ t: 'call', id, call: c })
        })
      w.postMessage({ t: 'init', nodes: [] })
      const info = await started
      if (info.t === 'failed') throw new Error(info.error)
      const tReady = performance.now() - t0
      const t1 = performance.now()
      performance.mark('measure:join')
      const join = await call({ op: 'request', method: 'POST', path: '/join', body: { link } })
      if (join.status !== 202) throw new Error(`join answered ${JSON.stringify(join)}`)
      let received = 0
      let polls = 0
      for (;;) {
        const s = await call({ op: 'syncStatus' })
        received = Math.max(0, ...s.peers.map((p) => p.received ?? 0))
        const behind = s.peers.some((p) => p.connected && p.behind > 0)
        polls += 1
        if (received >= expected && !behind) break
        if (performance.now() - t1 > 600_000) throw new Error(`after 10 min the worker holds ${received} of ${expected} entries`)
        await new Promise((r) => setTimeout(r, 20))
      }
      const tIngest = performance.now() - t1
      performance.mark('measure:synced')
      const events = await call({ op: 'request', method: 'GET', path: `/festivals/${link.split('festival=')[1].split('&')[0]}/events`, body: null })
      w.terminate()
      return { storage: info.storage, tReady, tIngest, received, polls, events: Array.isArray(events.body) ? events.body.length : -1 }
    },
    { workerUrl, link, expected },
  )
}

/** The one festival of a node that imported MEASURE_FROM. */
async function festivalOf({ origin, headers }) {
  const res = await fetch(`${origin}/api/v1/festivals`, { headers })
  const list = await res.json()
  if (!res.ok || list.length !== 1) fail(`MEASURE_FROM must hold one festival; the node answered ${JSON.stringify(list).slice(0, 200)}`)
  return { festival: list[0].id }
}

/** Starts a trace with V8's CPU samples of every thread (the worker's too). */
async function startTrace(browser) {
  const cdp = await browser.context.newCDPSession(browser.page)
  await cdp.send('Tracing.start', {
    transferMode: 'ReturnAsStream',
    traceConfig: { includedCategories: TRACE_CATEGORIES },
  })
  return cdp
}

/** Ends the trace, writes it to MEASURE_TRACE and prints the worker's heaviest functions. */
async function stopTrace(cdp) {
  const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r))
  await cdp.send('Tracing.end')
  const { stream } = await done
  let text = ''
  for (;;) {
    const chunk = await cdp.send('IO.read', { handle: stream, size: 1 << 20 })
    text += chunk.base64Encoded ? Buffer.from(chunk.data, 'base64').toString() : chunk.data
    if (chunk.eof) break
  }
  await cdp.send('IO.close', { handle: stream })
  await writeFile(TRACE, text)
  const events = JSON.parse(text).traceEvents ?? JSON.parse(text)
  // The sync: from the page's join to its last status that said every entry is stored.
  const markAt = (name) => events.find((e) => e.name === name)?.ts
  const from = markAt('measure:join') ?? -Infinity
  const until = markAt('measure:synced') ?? Infinity
  const inSync = (e) => e.ts >= from && e.ts <= until
  const cpu = (es) => es.reduce((t, e) => t + (e.tdur ?? 0), 0) / 1000
  const complete = (name) => events.filter((e) => e.ph === 'X' && e.name === name && inSync(e))
  if (Number.isFinite(from) && Number.isFinite(until)) {
    console.log(`\ntrace: the sync took ${ms((until - from) / 1000)}; meanwhile V8 compiled the wasm for speed ` +
      `(${ms(cpu(complete('wasm.TopTierCompilation')))} of CPU) and lazily (${ms(cpu(complete('wasm.CompileLazy')))})`)
    const names = new Map(events.filter((e) => e.name === 'thread_name').map((e) => [`${e.pid}:${e.tid}`, e.args?.name]))
    const threads = new Map()
    for (const e of complete('ThreadControllerImpl::RunTask').concat(complete('ThreadPool_RunTask'))) {
      const key = `${e.pid}:${e.tid}`
      threads.set(key, (threads.get(key) ?? 0) + (e.tdur ?? 0) / 1000)
    }
    const busiest = [...threads].sort((a, b) => b[1] - a[1]).slice(0, 8)
    console.log(`CPU by thread during the sync: ${busiest.map(([k, t]) => `${names.get(k) ?? k} ${ms(t)}`).join(', ')}`)
  }
  // Profile chunks: nodes (call frames) and samples with time deltas, per profile id.
  const profiles = new Map()
  const started = new Map(events.filter((e) => e.name === 'Profile').map((e) => [e.id, e.args?.data?.startTime ?? e.ts]))
  for (const e of events) {
    if (e.name !== 'ProfileChunk') continue
    const p = profiles.get(e.id) ?? { tid: e.tid, start: started.get(e.id) ?? e.ts, nodes: new Map(), samples: [], deltas: [] }
    const c = e.args?.data?.cpuProfile ?? {}
    for (const n of c.nodes ?? []) p.nodes.set(n.id, n)
    p.samples.push(...(c.samples ?? []))
    p.deltas.push(...(e.args?.data?.timeDeltas ?? []))
    profiles.set(e.id, p)
  }
  const self = new Map()
  let total = 0
  for (const p of profiles.values()) {
    const names = [...p.nodes.values()].map((n) => n.callFrame?.url ?? '')
    if (!names.some((u) => /worker|wasm/.test(u))) continue // the page's thread
    let at = p.start
    p.samples.forEach((id, i) => {
      at += p.deltas[i] ?? 0
      if (!inSync({ ts: at })) return
      const f = p.nodes.get(id)?.callFrame
      const name = `${f?.functionName || '(anonymous)'} ${(f?.url ?? '').split('/').pop()}`
      const dt = (p.deltas[i] ?? 0) / 1000
      self.set(name, (self.get(name) ?? 0) + dt)
      total += dt
    })
  }
  console.log(`trace written to ${TRACE}; the workers' samples during the sync, ${ms(total)} in all, by self time:`)
  for (const [name, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`  ${ms(t).padStart(7)}  ${name}`)
}

async function main() {
  console.log(`# Browser peer measures (${new Date().toISOString()})`)
  console.log(`binary: ${BIN} (built ${(await stat(BIN)).mtime.toISOString()})${BIN.includes('/debug/') ? ' — a DEBUG build: native figures are not representative' : ''}`)
  const workerFile = await sizes()
  root = await mkdtemp(join(tmpdir(), 'pandafest-measure-'))

  console.log(`\n## Ingest of ${N.toLocaleString('en-US')} entries (one festival, one author)\n`)
  if (FROM) {
    await run(['--data-dir', join(root, 'source'), 'init', '--name', 'Measure'])
    await run(['--data-dir', join(root, 'source'), 'log', 'import', FROM])
  }
  const node = await serve(join(root, 'source'), {
    bin: BIN,
    children,
    onLog: (line) => {
      if (/\b(WARN|ERROR)\b/.test(line)) problems.push(line)
    },
  })
  const made = FROM ? await festivalOf(node) : await fill(node)
  const file = join(root, 'festival.log')
  await run(['--data-dir', join(root, 'source'), 'log', 'export', '--festival', made.festival, '--output', file])
  const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean).length
  if (lines !== N) fail(`the festival has ${lines} entries, expected ${N} (set N to the entries of MEASURE_FROM)`)
  if (FROM) console.log(`imported ${lines} entries from ${FROM}`)
  else console.log(`made ${lines} entries through the HTTP API in ${ms(made.t)} (${rate(lines, made.t)}; writes, not ingest)`)

  // Native: import into a fresh data directory (after init, so the import is all that is timed).
  const empty = join(root, 'empty.log')
  await writeFile(empty, '')
  await run(['--data-dir', join(root, 'native'), 'init', '--name', 'Measure'])
  const startup = (await run(['--data-dir', join(root, 'native'), 'log', 'import', empty])).t
  const native = (await run(['--data-dir', join(root, 'native'), 'log', 'import', file])).t
  console.log(`native  \`pandafest log import\`: ${ms(native)} for ${lines} entries = ${rate(lines, native)} (the process with an empty file: ${ms(startup)}; without it: ${rate(lines, native - startup)})`)

  // Native sync and the browser's, alternating, ROUNDS times: the same entries from the same
  // node over a WebSocket, each into a fresh data directory or browser profile. One run of
  // each varies by 10 % and more on a busy machine; the medians are compared.
  const link = `pandafest://join?festival=${made.festival}&peer=${encodeURIComponent(node.syncUrl)}`
  const rounds = []
  for (let i = 1; i <= ROUNDS; i++) {
    const dir = join(root, `native-sync-${i}`)
    await run(['--data-dir', dir, 'init', '--name', 'Measure'])
    const synced = (await run(['--data-dir', dir, 'sync', '--peer', node.syncUrl, '--festival', made.festival])).t
    const check = JSON.parse((await run(['--data-dir', dir, 'event', 'list', '--festival', made.festival, '--json'])).out)
    if (!Array.isArray(check) || check.length !== N - 1) fail(`after \`pandafest sync\` the native node holds ${check?.length} events, expected ${N - 1}`)

    // Browser: the build's worker joins over a WebSocket to the node.
    browser = await launch(join(root, `profile-${i}`), { name: 'measure', problems })
    // A page of the origin that runs nothing of its own: no browser peer (which would hold
    // OPFS), and not the demo, whose four in-memory nodes kept a core busy while the worker
    // started (start-up 500–580 ms with it, 170–180 ms without).
    await browser.page.goto(`${node.origin}/favicon.svg`)
    const tracing = TRACE && i === 1 ? await startTrace(browser) : null
    const r = await browserIngest(browser.page, `${node.origin}/assets/${workerFile}`, link, lines)
    if (tracing) await stopTrace(tracing)
    await browser.context.close()
    browser = null
    if (r.storage !== 'opfs') fail(`the worker ran on ${r.storage}, not OPFS`)
    if (r.events !== N - 1) fail(`the worker holds ${r.events} events, expected ${N - 1}`)
    rounds.push({ synced, ...r })
    if (ROUNDS > 1) console.log(`  round ${i}: native sync ${ms(synced)}, browser start-up ${ms(r.tReady)}, browser sync ${ms(r.tIngest)}`)
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b)
    return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2
  }
  const of = ROUNDS > 1 ? ` (median of ${ROUNDS})` : ''
  const synced = median(rounds.map((r) => r.synced))
  const tReady = median(rounds.map((r) => r.tReady))
  const tIngest = median(rounds.map((r) => r.tIngest))
  console.log(`native  \`pandafest sync\` over WebSocket from the node: ${ms(synced)} for ${lines} entries = ${rate(lines, synced)} (process start-up included)${of}`)
  console.log(`browser worker (wasm, OPFS) start-up: ${ms(tReady)} (load and compile the wasm, open OPFS)${of}`)
  console.log(`browser worker sync over WebSocket from a native node: ${ms(tIngest)} for ${lines} entries = ${rate(lines, tIngest)} (join to all stored, sync status polled every 20 ms)${of}`)
  console.log(`\nratios: the browser peer's sync runs at ${(synced / tIngest).toFixed(2)}× the rate of the native \`pandafest sync\` of the same entries, and at ${((native - startup) / tIngest).toFixed(2)}× the native \`log import\` (no network, no protocol)${of ? ', medians' : ''}`)
  if (problems.length) fail(`problems:\n  ${problems.join('\n  ')}`)
}

async function cleanup() {
  if (browser) await browser.context.close().catch(() => {})
  await Promise.all([...children].map(stop))
  if (root && !KEEP) await rm(root, { recursive: true, force: true }).catch(() => {})
  else if (root) console.log(`kept ${root}`)
}

try {
  if (!existsSync(BIN)) fail(`no pandafest binary at ${BIN}`)
  if (!existsSync(CHROMIUM)) fail(`no Chromium at ${CHROMIUM}`)
  await main()
  await cleanup()
} catch (e) {
  console.error(`\nmeasure FAILED: ${e?.stack ?? e}`)
  await cleanup()
  process.exit(1)
}
