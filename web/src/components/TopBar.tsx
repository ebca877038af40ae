import { useEffect, useState } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import { useClient } from '../client/context'
import { LANGUAGES, language, setLanguage, type Language } from '../i18n'
import type { Route } from '../lib/router'
import { useData } from '../lib/useData'
import { useNotices } from '../lib/useNotices'

type NavKey = 'festivals' | 'inbox' | 'requests' | 'sync' | 'you'

const NAV: { to: string; label: NavKey; short?: 'requestsShort'; active: Route['name'][] }[] = [
  {
    to: '#/',
    label: 'festivals',
    active: ['festivals', 'festival', 'programme', 'newFestival', 'newEvent', 'newResource', 'resource', 'editResource', 'event'],
  },
  { to: '#/inbox', label: 'inbox', active: ['inbox'] },
  { to: '#/requests', label: 'requests', short: 'requestsShort', active: ['requests'] },
  { to: '#/sync', label: 'sync', active: ['sync'] },
  { to: '#/me', label: 'you', active: ['identity'] },
]

/** English / Deutsch: each language named in itself; the choice is kept in this browser. */
export function LanguageSwitch() {
  const { t } = useTranslation()
  return (
    <label className="language">
      <span className="sr-only">{t('language.label')}</span>
      <select value={language()} onChange={(e) => void setLanguage(e.target.value as Language)}>
        {(Object.keys(LANGUAGES) as Language[]).map((l) => (
          <option key={l} value={l} lang={l}>
            {LANGUAGES[l].name}
          </option>
        ))}
      </select>
    </label>
  )
}

export function TopBar({ route }: { route: Route }) {
  const { t } = useTranslation()
  const client = useClient()
  const waiting = useData((c) => c.requests({ incoming: true, pending: true }), [])
  const me = useData((c) => c.identity(), [])
  const count = waiting.data?.length ?? 0
  const { unseen } = useNotices(route.name === 'requests')
  // The public programme is for visitors: no one's name, inbox or planning screens.
  if (route.name === 'programme') {
    return (
      <header className="topbar">
        <a className="brand" href="#/">
          <img src="./favicon.svg" alt="" width="28" height="28" />
          pandafest
        </a>
        <LanguageSwitch />
      </header>
    )
  }
  return (
    <header className="topbar">
      <a className="brand" href="#/">
        <img src="./favicon.svg" alt="" width="28" height="28" />
        pandafest
      </a>
      {client.kind === 'peer' ? (
        <a className="where" href="#/me" title={t('nav.inBrowserTitle')}>
          {t('nav.inBrowser')}
        </a>
      ) : null}
      <LanguageSwitch />
      <nav aria-label={t('nav.label')}>
        <ul>
          {NAV.map((n) => {
            const current = n.active.includes(route.name)
            let label = t(`nav.${n.label}`)
            if (n.to === '#/me' && me.data?.name) label = me.data.name
            return (
              <li key={n.to}>
                <a href={n.to} aria-current={current ? 'page' : undefined}>
                  {n.short ? (
                    <>
                      <span className="wide-only">{label}</span>
                      <span className="narrow-only" aria-hidden="true">
                        {t(`nav.${n.short}`)}
                      </span>
                    </>
                  ) : (
                    <span className="nav-label">{label}</span>
                  )}
                  {n.to === '#/inbox' && count > 0 ? (
                    <span className="count" aria-label={t('nav.waiting', { count })}>
                      {count}
                    </span>
                  ) : null}
                  {n.to === '#/requests' && unseen.length > 0 ? (
                    <span className="count" aria-label={t('nav.decisions', { count: unseen.length })}>
                      {unseen.length}
                    </span>
                  ) : null}
                </a>
              </li>
            )
          })}
        </ul>
      </nav>
    </header>
  )
}

export function DemoBanner() {
  return (
    <div className="banner demo">
      <Trans i18nKey="banner.demo" components={{ b: <strong />, a: <a href={window.location.pathname} /> }} />
    </div>
  )
}

/** When pandafest runs in this browser without storage: nothing will be kept. */
export function BrowserPeerBanner() {
  const client = useClient()
  useTranslation()
  const warning = client.browser?.warning
  if (!warning) return null
  return (
    <div className="banner warn" role="alert">
      <Trans i18nKey="banner.notSaved" values={{ warning }} components={{ b: <strong /> }} />
    </div>
  )
}

/** Says so when the live connection to the node drops (the client reconnects by itself). */
export function ConnectionBanner() {
  const { t } = useTranslation()
  const client = useClient()
  const [connected, setConnected] = useState(true)
  useEffect(
    () =>
      client.subscribe((c) => {
        if (c.type === 'connection') setConnected(c.connected)
      }),
    [client],
  )
  if (connected) return null
  if (client.kind === 'peer') {
    return (
      <div className="banner warn" role="status">
        {t('banner.peerStopped')}
      </div>
    )
  }
  return (
    <div className="banner warn" role="status">
      {t('banner.connectionLost')}
    </div>
  )
}
