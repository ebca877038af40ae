import { useState, type FormEvent } from 'react'
import { useClient } from '../client/context'
import { ApiError, errorMessage, type BrowserPeer, type Identity } from '../client/types'
import { CopyField, ErrorNote, Loading } from '../components/ui'
import { useData } from '../lib/useData'

export function IdentityScreen() {
  const client = useClient()
  const me = useData((c) => c.identity(), [])
  if (!me.data) return me.error ? <ErrorNote message={me.error} /> : <Loading />
  return (
    <section className="narrow">
      <h1>You</h1>
      <p className="lead">
        There are no accounts in pandafest. You are a key made {client.browser ? 'in this browser' : 'on this device'}:
        others see your name, and your key proves that what you write is yours.
      </p>
      {client.browser ? <InThisBrowser browser={client.browser} /> : null}
      <NameForm identity={me.data} />
      <div className="card">
        <h2>Your public key</h2>
        <p>It identifies you to others. Sharing it is safe.</p>
        <CopyField label="Public key" value={me.data.public_key} />
        {me.data.data_dir ? (
          <p className="muted small">
            Your data is stored in <span className="mono">{me.data.data_dir}</span>.
          </p>
        ) : null}
      </div>
      <SecretKey />
      {client.browser ? <ImportKey browser={client.browser} /> : null}
    </section>
  )
}

/** Where a browser peer keeps everything. */
function InThisBrowser({ browser }: { browser: BrowserPeer }) {
  return (
    <div className="card in-browser">
      <h2>pandafest runs in this browser</h2>
      {browser.storage === 'opfs' ? (
        <p>
          Your festivals, your key and everything you plan are stored in this browser, on this device, and stay there when
          you reload or go offline. Other people get them when their devices sync with this one. Clearing this site's data
          in the browser deletes them: back up your secret key below.
        </p>
      ) : (
        <p className="note error">{browser.warning ?? 'This browser keeps nothing: your data goes when you close the tab.'}</p>
      )}
    </div>
  )
}

/** Becoming the user of a key from another device: only before this browser wrote anything. */
function ImportKey({ browser }: { browser: BrowserPeer }) {
  const [key, setKey] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [done, setDone] = useState<string | null>(null)

  async function submit(e: FormEvent) {
    e.preventDefault()
    setError(null)
    setDone(null)
    if (!key.trim()) {
      setError('Paste the secret key first.')
      return
    }
    setBusy(true)
    try {
      const me = await browser.importSecretKey(key)
      setKey('')
      setDone(`Done: this browser now acts as ${me.name ? `${me.name}, ` : ''}key ${me.public_key.slice(0, 8)}…`)
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 409
          ? `This browser has already written with its own key, so it cannot take another one (${errorMessage(err)}). Import your key first in a browser where pandafest has not been used yet.`
          : errorMessage(err),
      )
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="card form" onSubmit={submit}>
      <h2>Use your key from another device</h2>
      <p>
        To be the same person here as on another device, import the secret key you backed up there. This works only while
        this browser has not written anything yet: before you create, join or request anything here.
      </p>
      <div className="field">
        <label htmlFor="import-key">Secret key to import (64 hex digits)</label>
        <div className="copy-row">
          <input
            id="import-key"
            className="mono"
            type="password"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            autoComplete="off"
            spellCheck={false}
          />
          <button type="submit" disabled={busy}>
            {busy ? 'Importing…' : 'Import key'}
          </button>
        </div>
      </div>
      <ErrorNote message={error} />
      {done ? (
        <p className="note ok" role="status">
          {done}
        </p>
      ) : null}
    </form>
  )
}

function NameForm({ identity }: { identity: Identity }) {
  const client = useClient()
  const [name, setName] = useState(identity.name ?? '')
  const [saved, setSaved] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  async function submit(e: FormEvent) {
    e.preventDefault()
    setBusy(true)
    setError(null)
    setSaved(false)
    try {
      await client.setName(name.trim())
      setSaved(true)
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form className="card form" onSubmit={submit}>
      <h2>Your name</h2>
      <div className="field">
        <label htmlFor="my-name">Name others see</label>
        <div className="copy-row">
          <input
            id="my-name"
            value={name}
            maxLength={100}
            onChange={(e) => {
              setName(e.target.value)
              setSaved(false)
            }}
            autoComplete="nickname"
          />
          <button type="submit" className="primary" disabled={busy}>
            Save
          </button>
        </div>
        <p className="hint" role="status">
          {saved ? 'Saved. Others see it once they have synced with you.' : 'Any name: a nickname is fine.'}
        </p>
      </div>
      <ErrorNote message={error} />
    </form>
  )
}

function SecretKey() {
  const client = useClient()
  const [stage, setStage] = useState<'hidden' | 'warned' | 'shown'>('hidden')
  const [secret, setSecret] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)

  async function reveal() {
    setError(null)
    try {
      setSecret(await client.exportSecretKey())
      setStage('shown')
    } catch (e) {
      setError(errorMessage(e))
    }
  }

  return (
    <div className="card danger-zone">
      <h2>Back up your secret key</h2>
      <p>With the secret key you can be yourself on another device, or after this one is lost.</p>
      {stage === 'hidden' ? (
        <button type="button" onClick={() => setStage('warned')}>
          Show my secret key…
        </button>
      ) : null}
      {stage === 'warned' ? (
        <div className="warning" role="alert">
          <p>
            <strong>Anyone who sees this key can act as you</strong>: confirm and deny requests for your resources, and
            write in your name. Nobody can change or revoke it later. Show it only where nobody watches, and keep it like a
            password.
          </p>
          <div className="actions">
            <button type="button" className="danger" onClick={reveal}>
              I understand, show it
            </button>
            <button type="button" onClick={() => setStage('hidden')}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      {stage === 'shown' && secret ? (
        <>
          <CopyField label="Secret key (keep it private)" value={secret} />
          <button
            type="button"
            onClick={() => {
              setSecret(null)
              setStage('hidden')
            }}
          >
            Hide it
          </button>
        </>
      ) : null}
      <ErrorNote message={error} />
    </div>
  )
}
