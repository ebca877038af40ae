// Small building blocks shared by the screens.

import { useId, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { RequestStatus } from '../client/types'
import type en from '../i18n/en.json'
import { statusText } from '../lib/words'

export function ErrorNote({ message }: { message: string | null | undefined }) {
  if (!message) return null
  return (
    <p className="note error" role="alert">
      {message}
    </p>
  )
}

/** "Loading…", or what is loading: "Loading the festival…" (`loading.festival` in src/i18n). */
export function Loading({ what }: { what?: keyof typeof en.loading }) {
  const { t } = useTranslation()
  return (
    <p className="muted" role="status">
      {what ? t(`loading.${what}`) : t('common.loading')}
    </p>
  )
}

/** A request's status in words; for the owner, a pending request is "Waiting for you". */
export function StatusBadge({ status, forOwner = false }: { status: RequestStatus; forOwner?: boolean }) {
  const { t } = useTranslation()
  const text = forOwner && status === 'pending' ? t('status.waitingForYou') : statusText(status)
  return <span className={`badge status-${status}`}>{text}</span>
}

export function Field({
  label,
  hint,
  children,
  id,
}: {
  label: ReactNode
  hint?: ReactNode
  id: string
  children: ReactNode
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
    </div>
  )
}

/** A read-only value with a Copy button. */
export function CopyField({ label, value, mono = true }: { label: string; value: string; mono?: boolean }) {
  const { t } = useTranslation()
  const id = useId()
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no')
  async function copy() {
    try {
      await navigator.clipboard.writeText(value)
      setCopied('yes')
    } catch {
      const input = document.getElementById(id) as HTMLInputElement | null
      input?.select()
      setCopied('failed')
    }
  }
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input id={id} className={mono ? 'mono' : undefined} readOnly value={value} onFocus={(e) => e.target.select()} />
        <button type="button" onClick={copy}>
          {t('common.copy')}
        </button>
      </div>
      <p className="hint" aria-live="polite">
        {copied === 'yes' ? t('common.copied') : copied === 'failed' ? t('common.copyFailed') : ''}
      </p>
    </div>
  )
}

/** A key shown short, with the full key on hover and for screen readers. */
export function ShortKey({ value }: { value: string }) {
  return (
    <span className="mono" title={value}>
      {value.slice(0, 8)}…
    </span>
  )
}

export function EmptyState({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>
}
