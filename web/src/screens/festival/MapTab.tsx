import type { Festival } from '../../client/types'
import { ResourceMap } from '../../components/ResourceMap'
import { ErrorNote, Loading } from '../../components/ui'
import { useData } from '../../lib/useData'

export function MapTab({ festival: f }: { festival: Festival }) {
  const resources = useData((c) => c.resources(f.id), [f.id])
  if (!resources.data) return resources.error ? <ErrorNote message={resources.error} /> : <Loading what="places" />
  return <ResourceMap resources={resources.data.filter((r) => !r.retired)} />
}
