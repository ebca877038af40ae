// Typed keys: t('nav.inbox') is checked against en.json (de.json has the same keys).
import 'i18next'
import type en from './en.json'

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'translation'
    resources: { translation: typeof en }
  }
}
