// The client every component uses. No component talks HTTP itself: it asks useClient().

import { createContext, useContext, type ReactNode } from 'react'
import type { PandafestClient } from './types'

const ClientContext = createContext<PandafestClient | null>(null)

export function ClientProvider({ client, children }: { client: PandafestClient; children: ReactNode }) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>
}

export function useClient(): PandafestClient {
  const c = useContext(ClientContext)
  if (!c) throw new Error('useClient() outside <ClientProvider>')
  return c
}
