// The UI's languages (src/i18n): English and German have the same words to say, German is
// really German, and screens, dates and times follow the language chosen. The other tests
// read English (setup.ts pins it); these switch to German themselves.

import { act, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import type { Notice } from '../client/types'
import { changeLanguage, detectLanguage, LANGUAGE_KEY } from '../i18n'
import de from '../i18n/de.json'
import en from '../i18n/en.json'
import { formatDay, formatDaySpan, formatLongDay, offsetText, zonedInputToUtc } from '../lib/time'
import { hoursText } from '../lib/timeline'
import { noticeText } from '../lib/useNotices'
import { alone, fixture, renderApp } from './fixture'

type Tree = { [key: string]: string | Tree }

/** Every key ("nav.inbox", "sync.toFetch_one") with its text. */
function flat(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>()
  for (const [k, v] of Object.entries(tree)) {
    if (typeof v === 'string') out.set(prefix + k, v)
    else for (const [kk, vv] of flat(v, `${prefix}${k}.`)) out.set(kk, vv)
  }
  return out
}

const EN = flat(en)
const DE = flat(de)

/** The variables ({{name}}) and the markup (<b>, </link>) of a text. */
function slots(text: string): { vars: string[]; tags: string[] } {
  return {
    vars: [...text.matchAll(/\{\{\s*([\w.]+)\s*\}\}/g)].map((m) => m[1]).sort(),
    tags: [...text.matchAll(/<\/?([a-z]+)\b[^>]*>/g)].map((m) => m[0].replace(/\s.*>$/, '>')).sort(),
  }
}

/** Short words that are the same in German: names, units, loanwords. */
const SAME_IN_GERMAN = new Set(['GPS', 'Name', 'Festivals', 'Sync', 'Peers', 'Demo', 'OK', 'iCal', 'Ticket'])

describe('the translations', () => {
  it('English and German have exactly the same keys, plural forms included', () => {
    expect([...DE.keys()].sort()).toEqual([...EN.keys()].sort())
    // Plural keys come in pairs, as i18next's plural rules for both languages ask.
    for (const key of EN.keys()) {
      if (key.endsWith('_one')) expect(EN.has(key.replace(/_one$/, '_other')), key).toBe(true)
      if (key.endsWith('_other')) expect(EN.has(key.replace(/_other$/, '_one')), key).toBe(true)
    }
  })

  it('German is never empty, and a longer text is not English by accident', () => {
    const same: string[] = []
    for (const [key, english] of EN) {
      const german = DE.get(key)!
      expect(german.trim(), key).not.toBe('')
      const words = english.replace(/\{\{[^}]*\}\}|<[^>]*>/g, '').trim()
      if (german === english && words.length > 3 && !SAME_IN_GERMAN.has(words)) same.push(`${key}: ${english}`)
    }
    expect(same).toEqual([])
  })

  it('marks up with tags that can hold text (a void element like <link> would lose it)', () => {
    const VOID = /<(area|base|br|col|embed|hr|img|input|link|meta|source|track|wbr)\b/
    for (const [key, text] of [...EN, ...DE]) expect(text, key).not.toMatch(VOID)
  })

  it('German uses the same variables and markup as English', () => {
    for (const [key, english] of EN) {
      const a = slots(english)
      const b = slots(DE.get(key)!)
      expect(b.tags, key).toEqual(a.tags)
      // "one" may say the number in words ("Zu einer Zeit verfügbar").
      const vars = (v: string[]) => (key.endsWith('_one') ? v.filter((x) => x !== 'count') : v)
      expect(vars(b.vars), key).toEqual(vars(a.vars))
    }
  })

  it("starts in the language chosen before, else the first of the browser's it has, else English", () => {
    expect(detectLanguage('de', ['en-US'])).toBe('de')
    expect(detectLanguage('en', ['de-DE'])).toBe('en')
    expect(detectLanguage(null, ['de-AT', 'en'])).toBe('de')
    expect(detectLanguage(null, ['fr-FR', 'de'])).toBe('de')
    expect(detectLanguage(null, ['fr-FR', 'en-US', 'de'])).toBe('en')
    expect(detectLanguage(null, ['fr'])).toBe('en')
    expect(detectLanguage('xx', [])).toBe('en')
  })
})

describe('dates and times in German', () => {
  const TZ = 'Europe/Berlin'

  it('formats days, spans, offsets and hours as German writes them', async () => {
    await changeLanguage('de')
    expect(formatDay('2026-07-01T16:00:00Z', TZ)).toBe('Mi., 1. Juli')
    expect(formatLongDay('2026-07-01T16:00:00Z', TZ)).toBe('Mittwoch, 1. Juli 2026')
    const span = (a: string, b: string) => formatDaySpan(zonedInputToUtc(a, TZ)!, zonedInputToUtc(b, TZ)!, TZ)
    expect(span('2027-07-01T00:00', '2027-07-04T00:00')).toBe('1.–3. Juli 2027')
    expect(span('2027-07-01T00:00', '2027-07-02T00:00')).toBe('1. Juli 2027')
    expect(span('2027-06-30T00:00', '2027-07-03T00:00')).toMatch(/^30\. Juni\s–\s2\. Juli 2027$/)
    expect(offsetText(TZ, Date.parse('2026-10-24T10:00:00Z'), Date.parse('2026-10-26T18:00:00Z'))).toBe(
      'UTC+02:00, ab So., 25. Okt. dann UTC+01:00',
    )
    expect(hoursText([[0, 2], [21, 24]])).toBe('00:00–02:00 und 21:00–24:00')
    // The same instants in English, once switched back.
    await changeLanguage('en')
    expect(formatDay('2026-07-01T16:00:00Z', TZ)).toBe('Wed 1 Jul')
  })

  it("words a notification from the notice's kind and request", async () => {
    const { ana, bo, fest, pa } = await fixture()
    const karaoke = await bo.createEvent(fest.id, {
      title: 'Karaoke',
      start: '2026-07-02T18:00:00Z',
      end: '2026-07-02T20:00:00Z',
      requests: [{ resource: pa.id }],
    })
    const request = karaoke.requests[0]
    const notice = (kind: string, extra = {}): Notice => ({ seq: 1, kind, text: 'the node says', request: { ...request, ...extra } })
    await changeLanguage('de')
    expect(noticeText(notice('requested'), TZ)).toBe('Bo fragt PA system für Karaoke an (Do., 2. Juli, 20:00–22:00)')
    expect(noticeText(notice('denied', { reason: 'zu laut' }), TZ)).toBe(
      'PA system wurde für Karaoke abgelehnt (Do., 2. Juli, 20:00–22:00): zu laut',
    )
    expect(noticeText(notice('something new'), TZ)).toBe('the node says')
    await changeLanguage('en')
    expect(noticeText(notice('confirmed'), TZ)).toBe('PA system is confirmed for Karaoke, Thu 2 Jul, 20:00–22:00')
    void ana
  })
})

describe('the screens in German', () => {
  it("the inbox: the owner's words, German dates, and the days to filter by", async () => {
    const { chidi } = await fixture()
    await changeLanguage('de')
    renderApp(chidi, '/inbox')
    expect(await screen.findByRole('heading', { level: 1, name: 'Eingang' })).toBeInTheDocument()
    const card = await screen.findByRole('listitem', { name: 'Jam session: Meadow' })
    expect(card).toHaveTextContent('Jam session braucht Meadow')
    expect(card).toHaveTextContent('Wartet auf dich')
    expect(card).toHaveTextContent('Mi., 1. Juli, 19:00–21:00')
    expect(card).toHaveTextContent('Regel: Wird von Hand entschieden')
    expect(within(card).getByRole('button', { name: 'Bestätigen' })).toBeInTheDocument()
    expect(within(card).getByRole('button', { name: 'Ablehnen …' })).toBeInTheDocument()
    const days = screen.getByLabelText('Tag')
    expect(within(days).getByRole('option', { name: 'Mittwoch, 1. Juli 2026' })).toBeInTheDocument()
    expect(within(screen.getByRole('navigation', { name: 'Hauptmenü' })).getByRole('link', { name: 'Meine Anfragen' })).toBeInTheDocument()
    expect(document.documentElement.lang).toBe('de')
  })

  it('links inside a sentence keep their words', async () => {
    const ana = await alone()
    const f = await ana.createFestival({ name: 'Empty', timezone: 'Europe/Berlin' })
    renderApp(ana, `/festivals/${f.id}/events`)
    expect(await screen.findByRole('link', { name: 'Plan the first one' })).toHaveAttribute('href', `#/festivals/${f.id}/events/new`)
    await act(() => changeLanguage('de'))
    expect(await screen.findByRole('link', { name: 'Plan die erste' })).toBeInTheDocument()
    window.location.hash = '/nowhere'
    expect(await screen.findByRole('link', { name: 'Zu deinen Festivals' })).toHaveAttribute('href', '#/')
  })

  it('the festival: its tabs, its dates and the timeline', async () => {
    const { bo, fest } = await fixture()
    await changeLanguage('de')
    renderApp(bo, `/festivals/${fest.id}`)
    expect(await screen.findByRole('heading', { level: 1, name: 'Fusion' })).toBeInTheDocument()
    const tabs = screen.getByRole('navigation', { name: 'Ansichten des Festivals' })
    for (const tab of ['Zeitplan', 'Veranstaltungen', 'Ressourcen', 'Karte', 'Teilen', 'Programm']) {
      expect(within(tabs).getByRole('link', { name: tab })).toBeInTheDocument()
    }
    // The festival's dates (the timeline's pager, once loaded, names the same days).
    expect(screen.getByText(/Mi\., 1\. Juli – Fr\., 3\. Juli ·/)).toBeInTheDocument()
    expect(screen.getByText(/· angelegt von Bo$/)).toBeInTheDocument()
    expect(await screen.findByRole('list', { name: 'Was die Farben bedeuten' })).toHaveTextContent('Gebucht (bestätigt)')
    expect(screen.getByRole('heading', { level: 3, name: 'Mi., 1. Juli' })).toBeInTheDocument()
    expect(screen.getAllByRole('link', { name: /^Gebucht: Opening 18:00–20:00$/ }).length).toBeGreaterThan(0)
  })

  it('the visitors’ programme, with its own language switch', async () => {
    const user = userEvent.setup()
    const { bo, fest } = await fixture()
    renderApp(bo, `/festivals/${fest.id}/programme?view=list`)
    expect(await screen.findByText('Programme')).toBeInTheDocument()
    await user.selectOptions(screen.getByRole('combobox', { name: 'Language' }), 'Deutsch')
    expect(await screen.findByText('Programm')).toBeInTheDocument()
    expect(screen.getByRole('heading', { level: 2, name: 'Mittwoch, 1. Juli 2026' })).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Liste' })).toHaveAttribute('aria-current', 'page')
    expect(screen.getByText(/^Zeiten in Europe\/Berlin \(UTC\+02:00\)$/)).toBeInTheDocument()
    expect(screen.getByText(/^in Main stage$/)).toBeInTheDocument()
    // Kept for the next visit, and said to the browser.
    expect(window.localStorage.getItem(LANGUAGE_KEY)).toBe('de')
    expect(document.documentElement.lang).toBe('de')
    await act(() => user.selectOptions(screen.getByRole('combobox', { name: 'Sprache' }), 'English'))
    expect(await screen.findByText('Programme')).toBeInTheDocument()
    expect(document.documentElement.lang).toBe('en')
  })
})
