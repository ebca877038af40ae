import { useState, type FormEvent } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import { useClient } from '../client/context'
import { ApiError, errorMessage, type BrowserPeer, type Identity } from '../client/types'
import { CopyField, ErrorNote, Loading } from '../components/ui'
import { useData } from '../lib/useData'

export function IdentityScreen() {
  const { t } = useTranslation()
  const client = useClient()
  const me = useData((c) => c.identity(), [])
  if (!me.data) return me.error ? <ErrorNote message={me.error} /> : <Loading />
  return (
    <section className="narrow">
      <h1>{t('identity.title')}</h1>
      <p className="lead">{client.browser ? t('identity.leadBrowser') : t('identity.leadDevice')}</p>
      {client.browser ? <InThisBrowser browser={client.browser} /> : null}
      <NameForm identity={me.data} />
      <div className="card">
        <h2>{t('identity.publicTitle')}</h2>
        <p>{t('identity.publicText')}</p>
        <CopyField label={t('identity.publicKey')} value={me.data.public_key} />
        {me.data.data_dir ? (
          <p className="muted small">
            <Trans i18nKey="identity.dataDir" values={{ dir: me.data.data_dir }} components={{ mono: <span className="mono" /> }} />
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
  const { t } = useTranslation()
  return (
    <div className="card in-browser">
      <h2>{t('identity.browserTitle')}</h2>
      {browser.storage === 'opfs' ? (
        <p>{t('identity.browserKept')}</p>
      ) : (
        <p className="note error">{browser.warning ?? t('identity.browserNothing')}</p>
      )}
    </div>
  )
}

/** Becoming the user of a key from another device: only before this browser wrote anything. */
function ImportKey({ browser }: { browser: BrowserPeer }) {
  const { t } = useTranslation()
  const [key, setKey] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [done, setDone] = useState<string | null>(null)

  async function submit(e: FormEvent) {
    e.preventDefault()
    setError(null)
    setDone(null)
    if (!key.trim()) {
      setError(t('identity.pasteFirst'))
      return
    }
    setBusy(true)
    try {
      const me = await browser.importSecretKey(key)
      setKey('')
      const short = me.public_key.slice(0, 8)
      setDone(me.name ? t('identity.importedNamed', { name: me.name, key: short }) : t('identity.imported', { key: short }))
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 409
          ? t('identity.alreadyWrote', { error: errorMessage(err) })
          : errorMessage(err),
      )
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="card form" onSubmit={submit}>
      <h2>{t('identity.importTitle')}</h2>
      <p>{t('identity.importText')}</p>
      <div className="field">
        <label htmlFor="import-key">{t('identity.importLabel')}</label>
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
            {busy ? t('identity.importing') : t('identity.import')}
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
  const { t } = useTranslation()
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
      <h2>{t('identity.nameTitle')}</h2>
      <div className="field">
        <label htmlFor="my-name">{t('identity.nameLabel')}</label>
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
            {t('common.save')}
          </button>
        </div>
        <p className="hint" role="status">
          {saved ? t('identity.nameSaved') : t('identity.nameHint')}
        </p>
      </div>
      <ErrorNote message={error} />
    </form>
  )
}

function SecretKey() {
  const { t } = useTranslation()
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
      <h2>{t('identity.secretTitle')}</h2>
      <p>{t('identity.secretText')}</p>
      {stage === 'hidden' ? (
        <button type="button" onClick={() => setStage('warned')}>
          {t('identity.secretShowOpen')}
        </button>
      ) : null}
      {stage === 'warned' ? (
        <div className="warning" role="alert">
          <p>
            <Trans i18nKey="identity.secretWarning" components={{ b: <strong /> }} />
          </p>
          <div className="actions">
            <button type="button" className="danger" onClick={reveal}>
              {t('identity.secretShow')}
            </button>
            <button type="button" onClick={() => setStage('hidden')}>
              {t('common.cancel')}
            </button>
          </div>
        </div>
      ) : null}
      {stage === 'shown' && secret ? (
        <>
          <CopyField label={t('identity.secretLabel')} value={secret} />
          <button
            type="button"
            onClick={() => {
              setSecret(null)
              setStage('hidden')
            }}
          >
            {t('identity.secretHide')}
          </button>
        </>
      ) : null}
      <ErrorNote message={error} />
    </div>
  )
}
