// Notices as they arrive: a request for the user's resources, a decision about their
// requests, a request that moved. Each becomes a browser notification (once the user allowed
// them) and counts on "My requests" until it is visited. What is news is the node's rule
// (GET /notices, `service::notify`); this hook only shows it, worded here from the notice's
// kind and request (the node's `text` is English), in the festival's time zone.

import { useEffect, useState } from 'react'
import { useClient } from '../client/context'
import type { Notice } from '../client/types'
import { t } from '../i18n'
import { formatRange } from './time'

/** A notice in one line, in the active language; `timeZone`: its festival's. */
export function noticeText(n: Notice, timeZone: string): string {
  const q = n.request
  const words = {
    event: q.event_title ?? t('common.anEvent'),
    resource: q.resource_name ?? t('common.aResource'),
    who: q.author_name ?? t('common.someone'),
    when: formatRange(q.start, q.end, timeZone),
  }
  switch (n.kind) {
    case 'requested':
      return t('notify.requested', words)
    case 'moved':
      return q.moved_from
        ? t('notify.moved', { ...words, from: formatRange(q.moved_from.start, q.moved_from.end, timeZone) })
        : t('notify.requested', words)
    case 'confirmed':
      return t('notify.confirmed', words)
    case 'denied':
      return q.reason ? t('notify.deniedWhy', { ...words, reason: q.reason }) : t('notify.denied', words)
    case 'released':
      return t('notify.released', words)
    default:
      // A kind this UI does not know yet: the node's own words.
      return n.text
  }
}

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
            const zones = new Map((await client.festivals().catch(() => [])).map((f) => [f.id, f.timezone]))
            for (const n of notices) {
              const body = noticeText(n, zones.get(n.request.festival) ?? 'UTC')
              new Notification('pandafest', { body, tag: `pandafest-${n.seq}` })
            }
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
