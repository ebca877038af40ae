import { useEffect, useState, type FormEvent } from 'react'
import { useClient } from '../client/context'
import { errorMessage, type Festival, type NewFestival } from '../client/types'
import { DateTimeInput, TimeZoneSelect } from '../components/TimeInputs'
import { ErrorNote, Field, Loading } from '../components/ui'
import { href, navigate } from '../lib/router'
import { browserTimeZone, offsetOfTyped, zonedInputToUtc } from '../lib/time'
import { useData } from '../lib/useData'
import { useNow } from '../lib/useNow'

export function NewFestivalScreen({ parent }: { parent?: string }) {
  const parentData = useData((c) => (parent ? c.festival(parent) : Promise.resolve(null)), [parent])
  if (parent && parentData.data === undefined) {
    return parentData.error ? <ErrorNote message={parentData.error} /> : <Loading />
  }
  return <FestivalForm parent={parentData.data ?? null} />
}

export function FestivalForm({ parent }: { parent: Festival | null }) {
  const client = useClient()
  const [name, setName] = useState('')
  const [description, setDescription] = useState('')
  const [timezone, setTimezone] = useState(parent?.timezone ?? browserTimeZone())
  const now = useNow()
  const [start, setStart] = useState('')
  const [end, setEnd] = useState('')
  const [busy, setBusy] = useState(false)
  // After a first try, what is wrong is worked out again from the fields as they change: a
  // fixed problem goes away, the next one shows. What the node said goes with any change.
  const [tried, setTried] = useState(false)
  const [failure, setFailure] = useState<string | null>(null)
  useEffect(() => setFailure(null), [name, description, timezone, start, end])

  function build(): NewFestival | string {
    if (!name.trim()) return 'Give the festival a name.'
    const input: NewFestival = { name: name.trim(), description: description.trim(), timezone }
    if (parent) input.parent = parent.id
    if (start || end) {
      const s = zonedInputToUtc(start, timezone)
      const t = zonedInputToUtc(end, timezone)
      if (!s || !t) return 'Give both a start and an end, or leave both empty.'
      if (Date.parse(t) <= Date.parse(s)) return 'The end must be after the start.'
      input.start = s
      input.end = t
    }
    return input
  }
  const input = build()
  const error = failure ?? (tried && typeof input === 'string' ? input : null)

  async function submit(e: FormEvent) {
    e.preventDefault()
    setTried(true)
    setFailure(null)
    if (typeof input === 'string') return
    setBusy(true)
    try {
      const f = await client.createFestival(input)
      navigate(href('/festivals', f.id))
    } catch (err) {
      setFailure(errorMessage(err))
      setBusy(false)
    }
  }

  const back = parent ? href('/festivals', parent.id) : '#/'
  return (
    <section className="narrow">
      <p className="crumbs">
        <a href={back}>← {parent ? parent.name : 'Festivals'}</a>
      </p>
      <h1>{parent ? `New festival inside ${parent.name}` : 'New festival'}</h1>
      {parent ? (
        <p className="muted">
          A festival inside another one can use the outer festival's resources, and has its own.
        </p>
      ) : null}
      <form onSubmit={submit} className="card form">
        <Field id="f-name" label="Name">
          <input id="f-name" value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
        </Field>
        <Field id="f-desc" label="Description (optional)">
          <textarea id="f-desc" rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <Field
          id="f-tz"
          label="Time zone"
          hint="Everyone sees the festival's times in this zone, wherever they are."
        >
          <TimeZoneSelect id="f-tz" value={timezone} onChange={setTimezone} date={start || end} />
        </Field>
        <fieldset>
          <legend>When (optional)</legend>
          <p className="hint" id="f-when-tz">
            In {timezone.replace(/_/g, ' ')} time ({offsetOfTyped(timezone, [start, end], now)}).
          </p>
          <div className="two">
            <Field id="f-start" label="Starts">
              <DateTimeInput id="f-start" value={start} onChange={setStart} describedBy="f-when-tz" />
            </Field>
            <Field id="f-end" label="Ends">
              <DateTimeInput id="f-end" value={end} onChange={setEnd} min={start || undefined} describedBy="f-when-tz" />
            </Field>
          </div>
        </fieldset>
        <ErrorNote message={error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create festival'}
          </button>
          <a href={back} className="button">
            Cancel
          </a>
        </div>
      </form>
    </section>
  )
}
