/// <reference types="node" />
import '@testing-library/jest-dom/vitest'
import { cleanup } from '@testing-library/react'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterEach, beforeEach } from 'vitest'
import { initSync } from 'virtual:pandafest-wasm'
import { changeLanguage, LANGUAGE_KEY } from '../i18n'

// The real node, compiled to wasm (`cargo xtask wasm`), loaded once for every test: the UI
// is tested against it, never against a second implementation of its rules.
initSync({ module: readFileSync(resolve(process.cwd(), 'src/peer/pkg/pandafest_wasm_bg.wasm')) })

// jsdom does not scroll; the app scrolls to the top on a new screen.
window.scrollTo = () => {}

// The tests read the English words, whatever the language of the machine running them; a
// test of another language switches to it itself (i18n.test.tsx), and is switched back here.
beforeEach(async () => {
  window.localStorage.removeItem(LANGUAGE_KEY)
  await changeLanguage('en')
})

afterEach(() => {
  cleanup()
  window.location.hash = ''
})
