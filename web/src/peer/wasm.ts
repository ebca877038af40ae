// The worker's view of the wasm module `crates/wasm` (docs/browser.md, "The worker's API").
// `cargo xtask wasm` writes the real module to ./pkg/; Vite resolves `virtual:pandafest-wasm`
// to it, or to ./wasm-missing.ts when it has not been built (vite.config.ts). The engine
// (engine.ts) is written against these interfaces only, so the unit tests run it with a fake.

/** What a sync session asks its connection to do (`syncPoll`). */
export type SyncEvent =
  | { type: 'send'; bytes: Uint8Array }
  | { type: 'ready'; peer: string }
  | { type: 'introduce'; peer: string }
  | { type: 'signal'; from: string; data: string }
  | { type: 'closed'; reason: string }

/** A pandafest node in the browser (`WasmNode`). Methods may also return Promises. */
export interface WasmNodeApi {
  /** docs/api.md without the /api/v1 prefix: answers '{"status":200,"body":...}'. */
  request(method: string, path: string, body: string | null): string | Promise<string>
  /** '[{"festivals":[...],"kinds":[...]}, ...]': what changed since the last call. */
  takeChanges(): string
  exportKey(): string
  /** Only while this browser has written nothing; throws otherwise. */
  importKey(hex: string): void | Promise<void>
  /** `maxMessageBytes`: the transport's largest message (a data channel's); none for a WebSocket. */
  syncOpen(label: string, initiator: boolean, maxMessageBytes?: number): number
  syncReceive(id: number, bytes: Uint8Array): void
  /** Entries with these hashes (64 bytes each, from `verifiedHashes`) are not verified again. */
  markVerified?(hashes: Uint8Array): void
  syncPoll(id: number): SyncEvent[]
  syncSignal(id: number, to: string, data: string): void
  syncClose(id: number, reason: string): void
  /** Forgets a closed session (it leaves the status). Not in docs/browser.md; the pkg has it. */
  syncExpire?(): void
  syncRemove?(id: number): void
  /** JSON like GET /api/v1/sync: {"peers":[...]}. */
  syncStatus(): string
  publicKey(): string
  /** Runs the agent if a request's deadline came; true if it wrote. Not in older pkgs. */
  runDue?(): boolean
}

export interface WasmNodeStatics {
  open(name: string): Promise<WasmNodeApi>
  openInMemory(): WasmNodeApi
  opfsAvailable(): boolean
}

export interface WasmModule {
  /** Loads the .wasm (wasm-bindgen's `init`). */
  default: (input?: unknown) => Promise<unknown>
  WasmNode: WasmNodeStatics
}
