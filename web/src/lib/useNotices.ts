// Notices as they arrive: a request for the user's resources, a decision about their
// requests, a request that moved. Each becomes a browser notification (once the user allowed
// them) and counts on "My requests" until it is visited. What is news is the node's rule
// (GET /notices, `service::notify`); this hook only shows it.

import { useEffect, useState } from 'react'
import { useClient } from '../client/context'
import type { Notice } from '../client/types'

/** Whether this browser can show notifications, and whether the user allowed them. */
export function notificationState(): 'unsupported' | NotificationPermission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission
}

export function useNotices(onRequestsPage: boolean): { unseen: Notice[] } {
  const client = useClient()
  const [unseen, setUnseen] = useState<Notice[]>([])
  useEffect(() => {
    let last: number | null = null
    let stopped = false
    let running = Promise.resolve()
    const poll = () => {
      running = running.then(async () => {
        if (stopped) return
        try {
          if (last === null) {
            last = (await client.notices()).last
            return
          }
          const { notices, last: next } = await client.notices(last)
          last = next
          if (!notices.length) return
          if (notificationState() === 'granted') {
            for (const n of notices) new Notification('pandafest', { body: n.text, tag: `pandafest-${n.seq}` })
          }
          const decisions = notices.filter((n) => n.request.mine)
          if (decisions.length) setUnseen((old) => [...old, ...decisions])
        } catch {
          // a visitor's key or a node that went away: nothing to tell
        }
      })
    }
    poll()
    const stop = client.subscribe((c) => {
      if (c.type === 'change') poll()
    })
    return () => {
      stopped = true
      stop()
    }
  }, [client])
  useEffect(() => {
    if (onRequestsPage && unseen.length) setUnseen([])
  }, [onRequestsPage, unseen.length])
  return { unseen }
}
