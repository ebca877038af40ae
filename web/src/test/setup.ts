import '@testing-library/jest-dom/vitest'
import { cleanup } from '@testing-library/react'
import { afterEach } from 'vitest'

// jsdom does not scroll; the app scrolls to the top on a new screen.
window.scrollTo = () => {}

afterEach(() => {
  cleanup()
  window.location.hash = ''
})
