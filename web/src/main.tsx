import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { ClientProvider } from './client/context'
import { chooseClient, isDemo } from './client/select'
import './styles.css'

const root = createRoot(document.getElementById('root')!)

chooseClient().then((client) => {
  root.render(
    <StrictMode>
      <ClientProvider client={client}>
        <App demo={isDemo()} />
      </ClientProvider>
    </StrictMode>,
  )
})
