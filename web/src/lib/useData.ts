// Load something through the client and load it again whenever the client reports a change
// (a confirm made on another device shows up without a reload).

import { useCallback, useEffect, useRef, useState } from 'react'
import { useClient } from '../client/context'
import { errorMessage, type PandafestClient } from '../client/types'

export interface Data<T> {
  data: T | undefined
  error: string | null
  loading: boolean
  reload: () => void
}

/**
 * `load` runs now, whenever `deps` change, and after every change the client reports.
 * While a reload runs the previous data stays on screen (no flicker).
 */
export function useData<T>(load: (client: PandafestClient) => Promise<T>, deps: unknown[]): Data<T> {
  const client = useClient()
  const [state, setState] = useState<{ data: T | undefined; error: string | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  })
  const loadRef = useRef(load)
  loadRef.current = load
  const generation = useRef(0)

  const run = useCallback(() => {
    const mine = ++generation.current
    setState((s) => ({ ...s, loading: true }))
    loadRef.current(client).then(
      (data) => {
        if (mine === generation.current) setState({ data, error: null, loading: false })
      },
      (e: unknown) => {
        if (mine === generation.current) setState((s) => ({ data: s.data, error: errorMessage(e), loading: false }))
      },
    )
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, ...deps])

  useEffect(() => {
    setState({ data: undefined, error: null, loading: true })
    run()
  }, [run])

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null
    const off = client.subscribe((change) => {
      if (change.type !== 'change') return
      // Several changes in a burst cause one reload.
      if (timer) clearTimeout(timer)
      timer = setTimeout(run, 30)
    })
    return () => {
      off()
      if (timer) clearTimeout(timer)
    }
  }, [client, run])

  return { ...state, reload: run }
}
