import { useTranslation } from 'react-i18next'
import type { CheckResult, Id } from '../client/types'
import { describeCheck } from '../lib/checks'

const ICON = { free: '✓', hold: '◐', taken: '✗', closed: '✗' }

export function CheckNote({ result, timeZone, ignore }: { result: CheckResult; timeZone: string; ignore?: Id }) {
  useTranslation()
  const { tone, text } = describeCheck(result, timeZone, ignore)
  return (
    <span className={`check check-${tone}`}>
      <span aria-hidden="true">{ICON[tone]} </span>
      {text}
    </span>
  )
}
