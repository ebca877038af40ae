import { StrictMode } from 'react'
// First: the language, before anything renders or formats a date.
import { ready } from './i18n'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { ClientProvider } from './client/context'
import { chooseClient, isDemo } from './client/select'
import './styles.css'

const root = createRoot(document.getElementById('root')!)

Promise.all([chooseClient(), ready]).then(([client]) => {
  root.render(
    <StrictMode>
      <ClientProvider client={client}>
        <App demo={isDemo()} />
      </ClientProvider>
    </StrictMode>,
  )
  // The service worker (dist/sw.js, src/sw/service-worker.js) keeps the app shell so that the
  // app opens offline. Production builds only: the dev server's modules change all the time.
  if (import.meta.env.PROD && 'serviceWorker' in navigator) {
    navigator.serviceWorker.register('./sw.js').catch(() => {
      // not on localhost or HTTPS, or a private window: the app works, just not offline
    })
  }
})
