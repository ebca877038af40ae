// The browser peer's second worker: checks the signatures of large sync batches
// (`verifiedHashes`, the node's own rule in service::hub) while the first worker (worker.ts)
// stores the batch before, and answers the entries' hashes: the first worker's node then
// stores them without checking their signatures again (engine.ts, `verify`). It holds no
// node and no storage. Started by worker.ts (`startVerifier`).

import init, { verifiedHashes } from 'virtual:pandafest-wasm'

export interface VerifyRequest {
  id: number
  bytes: ArrayBuffer
}

export interface VerifyReply {
  id: number
  hashes: ArrayBuffer
}

interface VerifierScope {
  postMessage(msg: VerifyReply, transfer: Transferable[]): void
  addEventListener(type: 'message', f: (ev: MessageEvent<VerifyRequest>) => void): void
}

const scope = self as unknown as VerifierScope
const loaded = init()

scope.addEventListener('message', (ev) => {
  const { id, bytes } = ev.data
  void loaded
    .then(() => verifiedHashes(new Uint8Array(bytes)))
    // Nothing verified here: the first worker verifies as it stores.
    .catch(() => new Uint8Array(0))
    .then((hashes) => {
      const copy = hashes.slice().buffer
      scope.postMessage({ id, hashes: copy }, [copy])
    })
})
