// `virtual:pandafest-wasm` is ./pkg/pandafest_wasm.js (built by `cargo xtask wasm`) or,
// without it, ./wasm-missing.ts: see the plugin in vite.config.ts. worker.ts reads it as a
// `WasmModule` (./wasm.ts).
declare module 'virtual:pandafest-wasm' {
  const init: (input?: unknown) => Promise<unknown>
  export default init
  export const WasmNode: unknown
}
