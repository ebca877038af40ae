// Time zone picker and date-time inputs that read in the festival's zone.

import { useMemo } from 'react'
import { offsetLabel, timeZones } from '../lib/time'
import { useNow } from '../lib/useNow'

export function TimeZoneSelect({
  id,
  value,
  onChange,
}: {
  id: string
  value: string
  onChange: (tz: string) => void
}) {
  const zones = useMemo(() => {
    const list = timeZones()
    return list.includes(value) ? list : [value, ...list]
  }, [value])
  const now = useNow()
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
      {zones.map((z) => (
        <option key={z} value={z}>
          {z.replace(/_/g, ' ')} ({offsetLabel(z, now)})
        </option>
      ))}
    </select>
  )
}

/** <input type="datetime-local">: the value is wall-clock time in `timeZone` ("2026-07-01T18:00"). */
export function DateTimeInput({
  id,
  value,
  onChange,
  required,
  min,
  describedBy,
}: {
  id: string
  value: string
  onChange: (v: string) => void
  required?: boolean
  min?: string
  describedBy?: string
}) {
  return (
    <input
      id={id}
      type="datetime-local"
      value={value}
      min={min}
      required={required}
      aria-describedby={describedBy}
      onChange={(e) => onChange(e.target.value)}
    />
  )
}
