import { useState, type FormEvent } from 'react'
import { useClient } from '../client/context'
import { errorMessage, type Festival, type NewFestival } from '../client/types'
import { DateTimeInput, TimeZoneSelect } from '../components/TimeInputs'
import { ErrorNote, Field, Loading } from '../components/ui'
import { href, navigate } from '../lib/router'
import { browserTimeZone, offsetLabel, zonedInputToUtc } from '../lib/time'
import { useData } from '../lib/useData'

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
  const [start, setStart] = useState('')
  const [end, setEnd] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)

  async function submit(e: FormEvent) {
    e.preventDefault()
    setError(null)
    if (!name.trim()) return setError('Give the festival a name.')
    const input: NewFestival = { name: name.trim(), description: description.trim(), timezone }
    if (parent) input.parent = parent.id
    if (start || end) {
      const s = zonedInputToUtc(start, timezone)
      const t = zonedInputToUtc(end, timezone)
      if (!s || !t) return setError('Give both a start and an end, or leave both empty.')
      if (Date.parse(t) <= Date.parse(s)) return setError('The end must be after the start.')
      input.start = s
      input.end = t
    }
    setBusy(true)
    try {
      const f = await client.createFestival(input)
      navigate(href('/festivals', f.id))
    } catch (err) {
      setError(errorMessage(err))
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
          <TimeZoneSelect id="f-tz" value={timezone} onChange={setTimezone} />
        </Field>
        <fieldset>
          <legend>When (optional)</legend>
          <p className="hint">In {timezone.replace(/_/g, ' ')} time ({offsetLabel(timezone)}).</p>
          <div className="two">
            <Field id="f-start" label="Starts">
              <DateTimeInput id="f-start" value={start} onChange={setStart} />
            </Field>
            <Field id="f-end" label="Ends">
              <DateTimeInput id="f-end" value={end} onChange={setEnd} min={start || undefined} />
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
