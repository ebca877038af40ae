import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { notificationState } from '../lib/useNotices'

/** Asks this browser for permission to notify (only on a click: browsers require it). */
export function NotifyToggle() {
  const { t } = useTranslation()
  const [state, setState] = useState(notificationState)
  if (state === 'unsupported') return null
  if (state === 'granted') return <p className="meta">{t('notify.granted')}</p>
  if (state === 'denied') return <p className="meta">{t('notify.denied')}</p>
  return (
    <button type="button" onClick={() => void Notification.requestPermission().then(setState)}>
      {t('notify.ask')}
    </button>
  )
}
