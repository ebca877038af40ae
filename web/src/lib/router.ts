// Hash routes (#/festivals/ID/timeline), so that links work from any static host.

import { useEffect, useState } from 'react'

export type Route =
  | { name: 'festivals' }
  | { name: 'newFestival'; parent?: string }
  | { name: 'festival'; id: string; tab: FestivalTab }
  /** The public, read-only programme for visitors; `view` as chosen in the address. */
  | { name: 'programme'; id: string; view?: ProgrammeView }
  | { name: 'newResource'; festival: string }
  | { name: 'resource'; id: string }
  | { name: 'editResource'; id: string }
  | { name: 'newEvent'; festival: string; preset: EventPreset }
  | { name: 'event'; id: string }
  | { name: 'inbox' }
  | { name: 'requests' }
  | { name: 'sync' }
  | { name: 'identity' }
  | { name: 'notFound'; path: string }

/** Values a link can put into the new-event form (e.g. from a free slot of the timeline). */
export interface EventPreset {
  resource?: string
  start?: string
  end?: string
}

export type ProgrammeView = 'grid' | 'list'

export const FESTIVAL_TABS = ['timeline', 'events', 'resources', 'map', 'share', 'collective'] as const
export type FestivalTab = (typeof FESTIVAL_TABS)[number]

export function parseRoute(hash: string): Route {
  const [rawPath, query = ''] = hash.replace(/^#/, '').split('?')
  const path = rawPath.replace(/\/+$/, '') || '/'
  const params = new URLSearchParams(query)
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent)
  const [a, b, c, d] = parts
  if (parts.length === 0) return { name: 'festivals' }
  if (a === 'festivals') {
    if (!b) return { name: 'festivals' }
    if (b === 'new') return { name: 'newFestival' }
    if (c === 'new-sub') return { name: 'newFestival', parent: b }
    if (c === 'resources' && d === 'new') return { name: 'newResource', festival: b }
    if (c === 'events' && d === 'new') {
      const preset: EventPreset = {}
      for (const k of ['resource', 'start', 'end'] as const) {
        const v = params.get(k)
        if (v) preset[k] = v
      }
      return { name: 'newEvent', festival: b, preset }
    }
    if (c === 'programme' && !d) {
      const view = params.get('view')
      return view === 'grid' || view === 'list' ? { name: 'programme', id: b, view } : { name: 'programme', id: b }
    }
    const tab = (FESTIVAL_TABS as readonly string[]).includes(c ?? '') ? (c as FestivalTab) : 'timeline'
    if (!c || tab === c) return { name: 'festival', id: b, tab }
  }
  if (a === 'resources' && b) return c === 'edit' ? { name: 'editResource', id: b } : { name: 'resource', id: b }
  if (a === 'events' && b) return { name: 'event', id: b }
  if (a === 'inbox') return { name: 'inbox' }
  if (a === 'requests') return { name: 'requests' }
  if (a === 'sync') return { name: 'sync' }
  if (a === 'me') return { name: 'identity' }
  return { name: 'notFound', path }
}

/** The href of a route path, e.g. href('/festivals', id) -> "#/festivals/<id>". */
export function href(...parts: string[]): string {
  return '#' + parts.map((p, i) => (i === 0 ? p : '/' + encodeURIComponent(p))).join('')
}

/** "#/festivals/F/events/new?resource=R&start=...". */
export function newEventHref(festival: string, preset: EventPreset = {}): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(preset)) if (v) q.set(k, v)
  const qs = q.toString()
  return href('/festivals', festival, 'events', 'new') + (qs ? `?${qs}` : '')
}

/** "#/festivals/F/programme", or with "?view=list". */
export function programmeHref(festival: string, view?: ProgrammeView): string {
  return href('/festivals', festival, 'programme') + (view ? `?view=${view}` : '')
}

export function navigate(to: string) {
  window.location.hash = to.startsWith('#') ? to.slice(1) : to
}

export function useRoute(): Route {
  const [hash, setHash] = useState(() => window.location.hash)
  useEffect(() => {
    const on = () => setHash(window.location.hash)
    window.addEventListener('hashchange', on)
    return () => window.removeEventListener('hashchange', on)
  }, [])
  return parseRoute(hash)
}
