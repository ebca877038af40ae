import { useState } from 'react'
import { notificationState } from '../lib/useNotices'

/** Asks this browser for permission to notify (only on a click: browsers require it). */
export function NotifyToggle() {
  const [state, setState] = useState(notificationState)
  if (state === 'unsupported') return null
  if (state === 'granted') return <p className="meta">This browser notifies you of new requests and decisions.</p>
  if (state === 'denied') {
    return <p className="meta">Notifications are blocked for this page in the browser's settings.</p>
  }
  return (
    <button type="button" onClick={() => void Notification.requestPermission().then(setState)}>
      Notify me in this browser
    </button>
  )
}
