import type { Festival, Id } from '../client/types'
import { formatDay } from './time'

export interface FestivalNode {
  festival: Festival
  children: FestivalNode[]
}

/** Festivals as a tree; one whose parent is not held here becomes a root. */
export function festivalTree(list: Festival[]): FestivalNode[] {
  const byId = new Map(list.map((f) => [f.id, { festival: f, children: [] as FestivalNode[] }]))
  const roots: FestivalNode[] = []
  for (const node of byId.values()) {
    const parent = node.festival.parent ? byId.get(node.festival.parent) : undefined
    if (parent) parent.children.push(node)
    else roots.push(node)
  }
  const sort = (nodes: FestivalNode[]) => {
    nodes.sort((a, b) => a.festival.name.localeCompare(b.festival.name))
    nodes.forEach((n) => sort(n.children))
  }
  sort(roots)
  return roots
}

/** The chain of ancestors of a festival, outermost first (not including it). */
export function ancestry(list: Festival[], id: Id): Festival[] {
  const byId = new Map(list.map((f) => [f.id, f]))
  const out: Festival[] = []
  let f = byId.get(id)
  const seen = new Set<Id>()
  while (f?.parent && !seen.has(f.parent)) {
    seen.add(f.parent)
    const p = byId.get(f.parent)
    if (!p) break
    out.unshift(p)
    f = p
  }
  return out
}

/** "Thu 26 Nov – Sat 28 Nov" (the end is exclusive). */
export function dateSpan(f: Festival): string {
  if (!f.start || !f.end) return ''
  const a = formatDay(f.start, f.timezone)
  const b = formatDay(Date.parse(f.end) - 1, f.timezone)
  return a === b ? a : `${a} – ${b}`
}
