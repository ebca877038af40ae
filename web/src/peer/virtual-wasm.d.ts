// `virtual:pandafest-wasm` is ./pkg/pandafest_wasm.js (built by `cargo xtask wasm`) or,
// without it, ./wasm-missing.ts: see the plugin in vite.config.ts. worker.ts reads it as a
// `WasmModule` (./wasm.ts).
declare module 'virtual:pandafest-wasm' {
  const init: (input?: unknown) => Promise<unknown>
  export default init
  /** Loads the module from its bytes at once (Node.js: the tests). */
  export function initSync(input: { module: BufferSource }): unknown
  export const WasmNode: unknown
  /** The node's rules for the transports (service::invite, service::hub). */
  export function syncUrl(address: string): string | undefined
  export function redialDelayMs(attempt: number, random: number): number
  export function redialResetMs(): number
  /** The hashes of a sync batch's entries if all are validly signed (service::hub::verified_hashes). */
  export function verifiedHashes(bytes: Uint8Array): Uint8Array
  /** Checks `count` entries signed on the spot, so that the signature checks are compiled for speed (service::hub::warm_up). */
  export function warmUp(count: number): boolean
}

declare module 'virtual:pandafest-wasm-url' {
  /** The URL of the module's .wasm file; empty when it was not built. */
  const url: string
  export default url
}
