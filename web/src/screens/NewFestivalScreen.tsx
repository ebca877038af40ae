import { useEffect, useState, type FormEvent } from 'react'
import { useTranslation } from 'react-i18next'
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
  const { t } = useTranslation()
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
    if (!name.trim()) return t('newFestival.needName')
    const input: NewFestival = { name: name.trim(), description: description.trim(), timezone }
    if (parent) input.parent = parent.id
    if (start || end) {
      const s = zonedInputToUtc(start, timezone)
      const e = zonedInputToUtc(end, timezone)
      if (!s || !e) return t('newFestival.needBoth')
      if (Date.parse(e) <= Date.parse(s)) return t('newFestival.endAfterStart')
      input.start = s
      input.end = e
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
        <a href={back}>← {parent ? parent.name : t('newFestival.festivals')}</a>
      </p>
      <h1>{parent ? t('newFestival.insideTitle', { name: parent.name }) : t('newFestival.title')}</h1>
      {parent ? <p className="muted">{t('newFestival.insideNote')}</p> : null}
      <form onSubmit={submit} className="card form">
        <Field id="f-name" label={t('common.name')}>
          <input id="f-name" value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
        </Field>
        <Field id="f-desc" label={t('common.descriptionOptional')}>
          <textarea id="f-desc" rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <Field id="f-tz" label={t('common.timezone')} hint={t('newFestival.tzHint')}>
          <TimeZoneSelect id="f-tz" value={timezone} onChange={setTimezone} date={start || end} />
        </Field>
        <fieldset>
          <legend>{t('newFestival.when')}</legend>
          <p className="hint" id="f-when-tz">
            {t('newFestival.whenHint', { zone: timezone.replace(/_/g, ' '), offset: offsetOfTyped(timezone, [start, end], now) })}
          </p>
          <div className="two">
            <Field id="f-start" label={t('common.starts')}>
              <DateTimeInput id="f-start" value={start} onChange={setStart} describedBy="f-when-tz" />
            </Field>
            <Field id="f-end" label={t('common.ends')}>
              <DateTimeInput id="f-end" value={end} onChange={setEnd} min={start || undefined} describedBy="f-when-tz" />
            </Field>
          </div>
        </fieldset>
        <ErrorNote message={error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? t('common.creating') : t('newFestival.create')}
          </button>
          <a href={back} className="button">
            {t('common.cancel')}
          </a>
        </div>
      </form>
    </section>
  )
}
