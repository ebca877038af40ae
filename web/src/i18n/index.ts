// The languages of the UI: i18next with react-i18next. Every word people read is in en.json
// and de.json (the same keys; plural forms as i18next's `_one`/`_other`); components call
// `useTranslation()`'s t, other modules `t` from here. The language: the one chosen in the
// top bar (kept in localStorage), else the browser's first language we have, else English.
// Dates and times follow it too (`locale()`, used by lib/time.ts). English is in the main
// bundle; another language is its own chunk, loaded before the first render (`ready`).
//
// A new language: a `xx.json` with every key of en.json, an entry in LANGUAGES and in LOAD
// (src/test/i18n.test.tsx checks that the keys, variables and markup match English's).

import i18n from 'i18next'
import { initReactI18next } from 'react-i18next'
import en from './en.json'

/** Each language: its own name (for the switch) and the locale its dates and times use. */
export const LANGUAGES = {
  // en-GB: a 24-hour clock and "Wed 1 Jul", unambiguous for an international crowd.
  en: { name: 'English', locale: 'en-GB' },
  de: { name: 'Deutsch', locale: 'de-DE' },
} as const

export type Language = keyof typeof LANGUAGES

/** Where the chosen language is kept. */
export const LANGUAGE_KEY = 'pandafest.language'

const isLanguage = (l: unknown): l is Language => typeof l === 'string' && Object.hasOwn(LANGUAGES, l)

function stored(): string | null {
  try {
    return window.localStorage.getItem(LANGUAGE_KEY)
  } catch {
    return null
  }
}

/** The language to start in: the chosen one, else the first of the browser's we have ("de-AT" -> de), else English. */
export function detectLanguage(
  choice: string | null = stored(),
  preferred: readonly string[] = typeof navigator === 'undefined' ? [] : (navigator.languages ?? [navigator.language]),
): Language {
  if (isLanguage(choice)) return choice
  for (const tag of preferred) {
    const base = tag?.toLowerCase().split('-')[0]
    if (isLanguage(base)) return base
  }
  return 'en'
}

/** The other languages' texts, each its own chunk. */
const LOAD: Record<Exclude<Language, 'en'>, () => Promise<{ default: typeof en }>> = {
  de: () => import('./de.json'),
}

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en } },
  lng: 'en',
  fallbackLng: 'en',
  supportedLngs: Object.keys(LANGUAGES),
  // The resources are here already: ready at once, for the first render.
  initAsync: false,
  // React escapes what it renders.
  interpolation: { escapeValue: false },
  react: { useSuspense: false },
})

/** The active language. */
export function language(): Language {
  const l = i18n.resolvedLanguage ?? i18n.language
  return isLanguage(l) ? l : 'en'
}

/** The locale for Intl (dates, times, lists) of the active language. */
export function locale(): string {
  return LANGUAGES[language()].locale
}

function markPage(l: string) {
  if (typeof document !== 'undefined') document.documentElement.lang = l
}
markPage(language())
i18n.on('languageChanged', () => markPage(language()))

/** Switch to a language (loading its texts first), for this page. */
export async function changeLanguage(l: Language): Promise<void> {
  if (l !== 'en' && !i18n.hasResourceBundle(l, 'translation')) {
    i18n.addResourceBundle(l, 'translation', (await LOAD[l]()).default)
  }
  await i18n.changeLanguage(l)
}

/** Switch the language, and remember the choice in this browser. */
export function setLanguage(l: Language): Promise<void> {
  try {
    window.localStorage.setItem(LANGUAGE_KEY, l)
  } catch {
    // private mode: the choice lasts for this page only
  }
  return changeLanguage(l)
}

/** Resolves once the language to start in is ready (English at once; a failed load leaves English). */
export const ready: Promise<void> = changeLanguage(detectLanguage()).catch(() => {})

/** "a, b and c" in the active language. */
export function listText(items: string[]): string {
  return new Intl.ListFormat(locale(), { type: 'conjunction' }).format(items)
}

/** t for code outside components (components use `useTranslation()`, which re-renders them on a switch). */
export const t = i18n.t.bind(i18n)

export { i18n }
