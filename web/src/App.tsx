import { useEffect, useRef } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import { BrowserPeerBanner, ConnectionBanner, DemoBanner, TopBar } from './components/TopBar'
import { useRoute, type Route } from './lib/router'
import { EditResourceScreen, NewResourceScreen } from './screens/ResourceFormScreen'
import { EventScreen } from './screens/EventScreen'
import { FestivalScreen } from './screens/FestivalScreen'
import { FestivalsScreen } from './screens/FestivalsScreen'
import { IdentityScreen } from './screens/IdentityScreen'
import { InboxScreen } from './screens/InboxScreen'
import { MyRequestsScreen } from './screens/MyRequestsScreen'
import { NewEventScreen } from './screens/NewEventScreen'
import { NewFestivalScreen } from './screens/NewFestivalScreen'
import { ProgrammeScreen } from './screens/ProgrammeScreen'
import { ResourceScreen } from './screens/ResourceScreen'
import { SyncScreen } from './screens/SyncScreen'

export function App({ demo = false }: { demo?: boolean }) {
  // A switch of language renders everything again (dates and times too, which lib/time.ts
  // formats in the active language).
  const { t } = useTranslation()
  const route = useRoute()
  const main = useRef<HTMLElement>(null)
  const screenKey = `${route.name}:${'id' in route ? route.id : 'festival' in route ? route.festival : ''}`

  // On a new screen: start at its top, and let screen readers start there too.
  const first = useRef(true)
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    window.scrollTo?.(0, 0)
    main.current?.focus({ preventScroll: true })
  }, [screenKey])

  return (
    <>
      <a
        className="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault()
          main.current?.focus()
        }}
      >
        {t('app.skip')}
      </a>
      <TopBar route={route} />
      {demo ? <DemoBanner /> : null}
      <BrowserPeerBanner />
      <ConnectionBanner />
      <main id="main" ref={main} tabIndex={-1}>
        <Screen route={route} />
      </main>
    </>
  )
}

function Screen({ route }: { route: Route }) {
  const { t } = useTranslation()
  switch (route.name) {
    case 'festivals':
      return <FestivalsScreen />
    case 'newFestival':
      return <NewFestivalScreen parent={route.parent} />
    case 'festival':
      return <FestivalScreen id={route.id} tab={route.tab} />
    case 'programme':
      return <ProgrammeScreen id={route.id} view={route.view} />
    case 'newResource':
      return <NewResourceScreen festival={route.festival} />
    case 'resource':
      return <ResourceScreen id={route.id} />
    case 'editResource':
      return <EditResourceScreen id={route.id} />
    case 'newEvent':
      return <NewEventScreen festival={route.festival} preset={route.preset} />
    case 'event':
      return <EventScreen id={route.id} />
    case 'inbox':
      return <InboxScreen />
    case 'requests':
      return <MyRequestsScreen />
    case 'sync':
      return <SyncScreen />
    case 'identity':
      return <IdentityScreen />
    case 'notFound':
      return (
        <section>
          <h1>{t('app.notFoundTitle')}</h1>
          <p>
            <Trans i18nKey="app.notFound" values={{ path: route.path }} components={{ a: <a href="#/" /> }} />
          </p>
        </section>
      )
  }
}
