import type { Festival, Id } from '../client/types'
import { useData } from './useData'

/** Every festival by id, to show each request in its festival's time zone and name. */
export function useFestivalIndex(): { byId: Map<Id, Festival> | undefined; error: string | null } {
  const all = useData((c) => c.festivals(), [])
  return { byId: all.data ? new Map(all.data.map((f) => [f.id, f])) : undefined, error: all.error }
}
