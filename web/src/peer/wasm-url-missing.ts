// Stands in for the URL of ./pkg/pandafest_wasm_bg.wasm when `cargo xtask wasm` has not built
// it (vite.config.ts): worker.ts then loads the module as wasm-missing.ts says.
export default ''
