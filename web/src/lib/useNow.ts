import { useState } from 'react'

/** The time when the component first rendered (stable across re-renders). */
export function useNow(): number {
  const [now] = useState(() => Date.now())
  return now
}
