import { useEffect, useState } from 'react'

/** `value`, once it has stopped changing for `ms` (at once if `ms` is 0). */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value)
  useEffect(() => {
    if (ms <= 0) return
    const t = setTimeout(() => setV(value), ms)
    return () => clearTimeout(t)
  }, [value, ms])
  return ms <= 0 ? value : v
}
