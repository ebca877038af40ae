// Stands in for ./pkg/pandafest_wasm.js when `cargo xtask wasm` has not built it: the app
// still builds, and the browser peer says what is missing instead of failing obscurely.

const MISSING =
  'The browser peer is not part of this build: its wasm module was missing when the web UI was built. Run "cargo xtask wasm", then build the web UI again.'

export default async function init(): Promise<never> {
  throw new Error(MISSING)
}

export function initSync(): never {
  throw new Error(MISSING)
}

export function syncUrl(): never {
  throw new Error(MISSING)
}

export function redialDelayMs(): never {
  throw new Error(MISSING)
}

export function redialResetMs(): never {
  throw new Error(MISSING)
}

export function verifiedHashes(): never {
  throw new Error(MISSING)
}

export const WasmNode = {
  open(): Promise<never> {
    return Promise.reject(new Error(MISSING))
  },
  openInMemory(): never {
    throw new Error(MISSING)
  },
  opfsAvailable(): boolean {
    return false
  },
}

export function warmUp(): never {
  throw new Error(MISSING)
}
