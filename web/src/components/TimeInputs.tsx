// Time zone picker and date-time inputs that read in the festival's zone.

import { useMemo } from 'react'
import { offsetLabel, timeZones, zonedInputToUtc } from '../lib/time'
import { useNow } from '../lib/useNow'

/**
 * A time zone picker. Each zone shows its offset on the date being entered (`date`, a
 * datetime-local value like "2027-07-01T10:00"), else today: Berlin is UTC+02:00 in July
 * and UTC+01:00 in January.
 */
export function TimeZoneSelect({
  id,
  value,
  onChange,
  date,
  describedBy,
}: {
  id: string
  value: string
  onChange: (tz: string) => void
  date?: string
  describedBy?: string
}) {
  const zones = useMemo(() => {
    const list = timeZones()
    return list.includes(value) ? list : [value, ...list]
  }, [value])
  const now = useNow()
  // Noon UTC of the date typed: within a day of that time in any zone, close enough to tell
  // summer from winter (the label of the chosen zone is exact).
  const approx = date && /^\d{4}-\d{2}-\d{2}/.test(date) ? Date.parse(`${date.slice(0, 10)}T12:00:00Z`) : NaN
  const at = Number.isNaN(approx) ? now : approx
  const exact = date ? zonedInputToUtc(date, value) : null
  const labels = useMemo(() => new Map(zones.map((z) => [z, offsetLabel(z, at)])), [zones, at])
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value)} aria-describedby={describedBy}>
      {zones.map((z) => (
        <option key={z} value={z}>
          {z.replace(/_/g, ' ')} ({z === value && exact ? offsetLabel(z, Date.parse(exact)) : labels.get(z)})
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
  max,
  describedBy,
}: {
  id: string
  value: string
  onChange: (v: string) => void
  required?: boolean
  min?: string
  max?: string
  describedBy?: string
}) {
  return (
    <input
      id={id}
      type="datetime-local"
      value={value}
      min={min}
      max={max}
      required={required}
      aria-describedby={describedBy}
      onChange={(e) => onChange(e.target.value)}
    />
  )
}
