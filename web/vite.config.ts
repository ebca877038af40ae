/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin, type ResolvedConfig } from 'vite'

// During development, `PANDAFEST_NODE=http://127.0.0.1:PORT npm run dev` forwards /api to a
// running `pandafest serve`. Without it the dev server serves only the UI (use `?demo`).
const node = process.env.PANDAFEST_NODE
const here = fileURLToPath(new URL('.', import.meta.url))

/**
 * `virtual:pandafest-wasm` is the browser peer's wasm module, src/peer/pkg/pandafest_wasm.js,
 * which `cargo xtask wasm` writes; without it, src/peer/wasm-missing.ts, so that the UI still
 * builds and the browser peer says what is missing.
 */
function pandafestWasm(): Plugin {
  const pkg = resolve(here, 'src/peer/pkg/pandafest_wasm.js')
  const missing = resolve(here, 'src/peer/wasm-missing.ts')
  // `virtual:pandafest-wasm-url`: the URL of the .wasm file itself (an empty string without
  // it), so that worker.ts compiles the module once and hands it to the second worker.
  const bytes = resolve(here, 'src/peer/pkg/pandafest_wasm_bg.wasm')
  const noBytes = resolve(here, 'src/peer/wasm-url-missing.ts')
  return {
    name: 'pandafest-wasm',
    enforce: 'pre',
    resolveId(id) {
      if (id === 'virtual:pandafest-wasm') return existsSync(pkg) ? pkg : missing
      if (id === 'virtual:pandafest-wasm-url') return existsSync(bytes) ? `${bytes}?url` : noBytes
      return null
    },
  }
}

/**
 * Writes dist/sw.js, the service worker (src/sw/service-worker.js), with the list of every
 * file of the build to cache at install (the app shell: index.html, JS, CSS, the .wasm) and
 * a version made of their contents, so that a new build replaces the cache.
 */
function serviceWorker(): Plugin {
  let config: ResolvedConfig
  return {
    name: 'pandafest-service-worker',
    apply: 'build',
    configResolved(c) {
      config = c
    },
    closeBundle() {
      const out = resolve(config.root, config.build.outDir)
      const files: string[] = []
      const walk = (dir: string) => {
        for (const name of readdirSync(dir)) {
          const path = join(dir, name)
          if (statSync(path).isDirectory()) walk(path)
          else files.push(relative(out, path).split(sep).join('/'))
        }
      }
      walk(out)
      const cached = files.filter((f) => f !== 'sw.js' && !f.endsWith('.map')).sort()
      const hash = createHash('sha256')
      for (const f of cached) hash.update(f).update('\0').update(readFileSync(join(out, f))).update('\0')
      const version = hash.digest('hex').slice(0, 16)
      const template = readFileSync(resolve(here, 'src/sw/service-worker.js'), 'utf8')
      const precache = ['./', ...cached]
      const code = template
        .replace("'__VERSION__'", JSON.stringify(version))
        .replace('[] /* __PRECACHE__ */', JSON.stringify(precache))
      if (code === template) throw new Error('src/sw/service-worker.js lacks its placeholders')
      writeFileSync(join(out, 'sw.js'), code)
    },
  }
}

export default defineConfig({
  plugins: [react(), pandafestWasm(), serviceWorker()],
  // Relative asset paths: the node may serve the UI under any path.
  base: './',
  // The node answers only its own origin: the proxied calls say they come from it.
  server: node
    ? { proxy: { '/api': { target: node, changeOrigin: true, headers: { origin: new URL(node).origin } } } }
    : undefined,
  worker: {
    // The browser peer's worker is a module worker (it imports the wasm module).
    format: 'es',
    plugins: () => [pandafestWasm()],
  },
  build: {
    chunkSizeWarningLimit: 400,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
  },
})
