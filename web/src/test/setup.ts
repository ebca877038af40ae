/// <reference types="node" />
import '@testing-library/jest-dom/vitest'
import { cleanup } from '@testing-library/react'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterEach } from 'vitest'
import { initSync } from 'virtual:pandafest-wasm'

// The real node, compiled to wasm (`cargo xtask wasm`), loaded once for every test: the UI
// is tested against it, never against a second implementation of its rules.
initSync({ module: readFileSync(resolve(process.cwd(), 'src/peer/pkg/pandafest_wasm_bg.wasm')) })

// jsdom does not scroll; the app scrolls to the top on a new screen.
window.scrollTo = () => {}

afterEach(() => {
  cleanup()
  window.location.hash = ''
})
