import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import { useClient } from '../client/context'
import { errorMessage, type CheckResult, type Festival, type Id, type Resource, type TimeFrame } from '../client/types'
import { CheckNote } from '../components/CheckNote'
import { AdmissionWarning } from '../components/Tickets'
import { DateTimeInput } from '../components/TimeInputs'
import { Timeline } from '../components/Timeline'
import { ErrorNote, Field, Loading } from '../components/ui'
import { href, navigate, type EventPreset } from '../lib/router'
import { daysBetween, formatDateTime, formatDaySpan, HOUR, offsetLabel, utcToZonedInput, zonedInputToUtc } from '../lib/time'
import { useData } from '../lib/useData'
import { useDebounced } from '../lib/useDebounced'
import { useNow } from '../lib/useNow'
import { listText, t as translate } from '../i18n'
import { capacityText, kindText, personName, policyShort } from '../lib/words'

export function NewEventScreen({ festival, preset = {} }: { festival: string; preset?: EventPreset }) {
  const f = useData((c) => c.festival(festival), [festival])
  const resources = useData((c) => c.resources(festival), [festival])
  if (!f.data) return f.error ? <ErrorNote message={f.error} /> : <Loading />
  if (!resources.data) return resources.error ? <ErrorNote message={resources.error} /> : <Loading what="resources" />
  // The ticket is asked for by applying (on the festival's page), not by an event.
  return <EventForm festival={f.data} resources={resources.data.filter((r) => !r.retired && r.id !== f.data!.ticket)} preset={preset} />
}

/** A first suggestion: the preset, else the festival's start (if still ahead), else the next full hour. */
function initialFrame(f: Festival, preset: EventPreset, now = Date.now()): { start: string; end: string } {
  const tz = f.timezone
  if (preset.start && !Number.isNaN(Date.parse(preset.start))) {
    const s = Date.parse(preset.start)
    const e = preset.end && Date.parse(preset.end) > s ? Date.parse(preset.end) : s + HOUR
    return { start: utcToZonedInput(s, tz), end: utcToZonedInput(e, tz) }
  }
  let s = Math.ceil(now / HOUR) * HOUR
  if (f.start && Date.parse(f.start) > s) s = Date.parse(f.start)
  return { start: utcToZonedInput(s, tz), end: utcToZonedInput(s + HOUR, tz) }
}

/**
 * A warning if the event starts or ends outside its festival's time frame (it can still be
 * created): "This is outside Summer Camp (1–3 July 2027)."
 */
export function outsideFestival(f: Festival, frame: TimeFrame): string | null {
  const before = f.start ? Date.parse(frame.start) < Date.parse(f.start) : false
  const after = f.end ? Date.parse(frame.end) > Date.parse(f.end) : false
  if (!before && !after) return null
  const when =
    f.start && f.end
      ? formatDaySpan(f.start, f.end, f.timezone)
      : f.start
        ? translate('newEvent.outsideFrom', { time: formatDateTime(f.start, f.timezone) })
        : translate('newEvent.outsideUntil', { time: formatDateTime(f.end!, f.timezone) })
  return translate('newEvent.outside', { name: f.name, when })
}

/**
 * The resources the chosen ones need (transitively) that are not chosen themselves: the node
 * requests them too and makes the event all or nothing. Each with who needs it.
 */
export function neededBy(resources: Resource[], picked: ReadonlySet<Id>): Map<Id, Id[]> {
  const byId = new Map(resources.map((r) => [r.id, r]))
  const out = new Map<Id, Id[]>()
  for (const id of picked) {
    const seen = new Set<Id>([id])
    const todo = [...(byId.get(id)?.needs ?? [])]
    while (todo.length) {
      const n = todo.shift()!
      if (seen.has(n)) continue
      seen.add(n)
      if (!picked.has(n)) out.set(n, [...(out.get(n) ?? []), id])
      todo.push(...(byId.get(n)?.needs ?? []))
    }
  }
  return out
}

function summarise(results: (CheckResult | undefined)[]): string {
  const known = results.filter((r): r is CheckResult => r !== undefined)
  if (!known.length) return ''
  const free = known.filter((r) => r.free).length
  if (known.length === 1) return free ? translate('newEvent.oneFree') : translate('newEvent.oneTaken')
  return free === known.length
    ? translate('newEvent.allFree', { count: known.length })
    : translate('newEvent.someFree', { free, count: known.length })
}

export function EventForm({
  festival: f,
  resources,
  preset = {},
  debounceMs = 250,
}: {
  festival: Festival
  resources: Resource[]
  preset?: EventPreset
  debounceMs?: number
}) {
  const { t } = useTranslation()
  const client = useClient()
  const tz = f.timezone
  const now = useNow()
  const first = useMemo(() => initialFrame(f, preset, now), [f, preset, now])
  const [title, setTitle] = useState('')
  const [description, setDescription] = useState('')
  const [start, setStart] = useState(first.start)
  const [end, setEnd] = useState(first.end)
  const [picked, setPicked] = useState<Set<Id>>(() => new Set(preset.resource ? [preset.resource] : []))
  const [allOrNothing, setAllOrNothing] = useState(false)
  // The deadline: requests still waiting then are withdrawn by this node (festival time).
  const [until, setUntil] = useState('')
  const [busy, setBusy] = useState(false)
  // After a first try, what is wrong is worked out again from the fields as they change: a
  // fixed problem goes away, the next one shows. What the node said goes with any change.
  const [tried, setTried] = useState(false)
  const [failure, setFailure] = useState<string | null>(null)
  useEffect(() => setFailure(null), [title, description, start, end, picked, allOrNothing, until])

  const startUtc = zonedInputToUtc(start, tz)
  const endUtc = zonedInputToUtc(end, tz)
  const frameError =
    !startUtc || !endUtc
      ? t('newEvent.needFrame')
      : Date.parse(endUtc) <= Date.parse(startUtc)
        ? t('newEvent.endAfterStart')
        : null
  const frame: TimeFrame | null = frameError ? null : { start: startUtc!, end: endUtc! }
  const untilUtc = until ? zonedInputToUtc(until, tz) : null
  const untilError = until && !untilUtc ? t('newEvent.badUntil') : null
  const problem = !title.trim() ? t('newEvent.needTitle') : (frameError ?? untilError)
  const needed = neededBy(resources, picked)
  // A chosen resource that needs others makes the event all or nothing (the node does so too).
  const forced = needed.size > 0 || resources.some((r) => picked.has(r.id) && r.needs.some((n) => picked.has(n)))
  const requested = resources.filter((r) => picked.has(r.id) || needed.has(r.id))
  const error = failure ?? (tried ? problem : null)
  const outside = frame ? outsideFestival(f, frame) : null
  const checked = useDebounced(frame ? `${frame.start}/${frame.end}` : '', debounceMs)
  const ids = resources.map((r) => r.id).join(',')
  // Each answer names the frame it is for: a reload after a change elsewhere keeps the answer
  // on screen until the new one comes (no "Checking…" flicker), a new frame does not.
  const answers = useData(
    async (c) => {
      if (!checked) return { frame: checked, results: new Map<Id, CheckResult>() }
      const [s, e] = checked.split('/')
      const results = await Promise.all(resources.map((r) => c.check({ resource: r.id, start: s, end: e })))
      return { frame: checked, results: new Map(resources.map((r, i) => [r.id, results[i]])) }
    },
    [checked, ids],
  )
  const checks = { data: answers.data?.results, error: answers.error }
  const upToDate = frame !== null && checked === `${frame.start}/${frame.end}` && answers.data?.frame === checked

  /** Moving the start keeps the duration (the last valid one, even if a field was cleared on the way). */
  const duration = useRef(Date.parse(zonedInputToUtc(first.end, tz) ?? '') - Date.parse(zonedInputToUtc(first.start, tz) ?? ''))
  function changeStart(v: string) {
    setStart(v)
    const newS = zonedInputToUtc(v, tz)
    if (newS && duration.current > 0) setEnd(utcToZonedInput(Date.parse(newS) + duration.current, tz))
  }
  function changeEnd(v: string) {
    setEnd(v)
    const s = zonedInputToUtc(start, tz)
    const e = zonedInputToUtc(v, tz)
    if (s && e && Date.parse(e) > Date.parse(s)) duration.current = Date.parse(e) - Date.parse(s)
  }

  function toggle(id: Id, on: boolean) {
    setPicked((p) => {
      const n = new Set(p)
      if (on) n.add(id)
      else n.delete(id)
      return n
    })
  }

  async function submit(e: FormEvent) {
    e.preventDefault()
    setTried(true)
    setFailure(null)
    if (problem || !frame) return
    setBusy(true)
    try {
      const ev = await client.createEvent(f.id, {
        title: title.trim(),
        description: description.trim(),
        start: frame.start,
        end: frame.end,
        requests: resources.filter((r) => picked.has(r.id)).map((r) => ({ resource: r.id })),
        ...(allOrNothing || forced ? { all_or_nothing: true } : {}),
        ...(untilUtc ? { until: untilUtc } : {}),
      })
      navigate(href('/events', ev.id))
    } catch (err) {
      setFailure(errorMessage(err))
      setBusy(false)
    }
  }

  const summary = summarise(requested.map((r) => checks.data?.get(r.id)))
  const nameOf = (id: Id) => resources.find((r) => r.id === id)?.name ?? t('common.aResource')

  // The days the event touches (an event past midnight shows on both), at most three.
  const previewDays = frame ? daysBetween(Date.parse(frame.start), Date.parse(frame.end), tz, 3) : []
  const previewResources = requested.length ? requested : resources

  return (
    <section>
      <p className="crumbs">
        <a href={href('/festivals', f.id)}>← {f.name}</a>
      </p>
      <h1>{t('newEvent.heading', { name: f.name })}</h1>
      <AdmissionWarning festival={f} what="event" />
      <form className="event-form" onSubmit={submit} noValidate>
        <div className="card form">
          <Field id="e-title" label={t('newEvent.title')}>
            <input id="e-title" value={title} onChange={(e) => setTitle(e.target.value)} required autoFocus />
          </Field>
          <Field id="e-desc" label={t('common.descriptionOptional')}>
            <textarea id="e-desc" rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
          </Field>
          <fieldset>
            <legend>{t('newEvent.when')}</legend>
            <p className="hint" id="e-tz">
              {t('common.zoneTime', { zone: tz.replace(/_/g, ' '), offset: offsetLabel(tz, frame ? Date.parse(frame.start) : now) })}
            </p>
            <div className="two">
              <Field id="e-start" label={t('common.starts')}>
                <DateTimeInput
                  id="e-start"
                  value={start}
                  onChange={changeStart}
                  required
                  describedBy={outside ? 'e-tz e-outside' : 'e-tz'}
                />
              </Field>
              <Field id="e-end" label={t('common.ends')}>
                <DateTimeInput
                  id="e-end"
                  value={end}
                  onChange={changeEnd}
                  required
                  describedBy={outside ? 'e-tz e-outside' : 'e-tz'}
                  min={start}
                />
              </Field>
            </div>
            {frameError ? <p className="note error">{frameError}</p> : null}
            {outside ? (
              <p className="note warn" id="e-outside">
                {outside}
              </p>
            ) : null}
          </fieldset>
          <fieldset className="bundle-options">
            <legend>{t('newEvent.bundle')}</legend>
            <label className="check">
              <input
                type="checkbox"
                checked={allOrNothing || forced}
                disabled={forced}
                onChange={(e) => setAllOrNothing(e.target.checked)}
                aria-describedby="e-aon-hint"
              />{' '}
              <span>{t('newEvent.allOrNothing')}</span>
            </label>
            <p className="hint" id="e-aon-hint">
              {forced ? t('newEvent.allOrNothingForced') : t('newEvent.allOrNothingHint')}
            </p>
            <Field id="e-until" label={t('newEvent.until')}>
              <DateTimeInput id="e-until" value={until} onChange={setUntil} describedBy="e-until-hint" max={start} />
            </Field>
            <p className="hint" id="e-until-hint">
              {t('newEvent.untilHint', { zone: tz.replace(/_/g, ' ') })}
            </p>
          </fieldset>
        </div>

        <fieldset className="card pick">
          <legend>{t('newEvent.pick')}</legend>
          <p className="hint">{t('newEvent.pickHint')}</p>
          {resources.length === 0 ? (
            <p className="muted">
              <Trans i18nKey="newEvent.noResources" components={{ a: <a href={href('/festivals', f.id, 'resources', 'new')} /> }} />
            </p>
          ) : (
            <ul className="pick-list">
              {resources.map((r) => (
                <li key={r.id} className={picked.has(r.id) ? 'picked' : needed.has(r.id) ? 'picked needed' : undefined}>
                  <label className="check-row">
                    <input
                      type="checkbox"
                      checked={picked.has(r.id) || needed.has(r.id)}
                      disabled={(!picked.has(r.id) && needed.has(r.id)) || (!r.admitted && !picked.has(r.id))}
                      onChange={(e) => toggle(r.id, e.target.checked)}
                    />
                    <span className="name">
                      <strong>{r.name}</strong>
                      <span className="muted">
                        {' '}
                        {kindText(r.kind)} · {personName(r.owner_name, r.owner, r.mine)} · {policyShort(r.policy)}
                        {r.capacity !== 1 ? <> · {capacityText(r.capacity)}</> : null}
                      </span>
                      {!r.admitted ? <span className="badge waiting-admission">{t('tickets.ownerWaiting')}</span> : null}
                      {needed.has(r.id) ? (
                        <span className="needed-note">
                          {' '}
                          {t('newEvent.requestedToo', { names: listText(needed.get(r.id)!.map(nameOf)) })}
                        </span>
                      ) : null}
                    </span>
                  </label>
                  <div className="status" data-testid={`check-${r.id}`}>
                    {!frame ? (
                      <span className="muted">{t('newEvent.chooseTime')}</span>
                    ) : upToDate && checks.data?.get(r.id) ? (
                      <CheckNote result={checks.data.get(r.id)!} timeZone={tz} />
                    ) : (
                      <span className="muted">{t('newEvent.checking')}</span>
                    )}
                  </div>
                </li>
              ))}
            </ul>
          )}
          <ErrorNote message={checks.error} />
          <p className="summary" role="status" aria-live="polite">
            {upToDate ? summary : ''}
          </p>
          {resources
            .filter((r) => picked.has(r.id) && r.needs.length)
            .map((r) => {
              const list = r.needs.filter((n) => !picked.has(n)).map(nameOf)
              return (
                <p key={r.id} className="note warn needs-note">
                  {list.length
                    ? t('newEvent.needsNote', { name: r.name, list: listText(list), count: list.length })
                    : t('newEvent.needsChosen', { name: r.name, list: listText(r.needs.map(nameOf)) })}
                </p>
              )
            })}
        </fieldset>


        <ErrorNote message={error} />
        <div className="actions sticky-actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy
              ? t('common.creating')
              : requested.length
                ? t('newEvent.createAndSend', { count: requested.length })
                : t('newEvent.create')}
          </button>
          <a className="button" href={href('/festivals', f.id)}>
            {t('common.cancel')}
          </a>
        </div>
      </form>

      {previewDays.length && previewResources.length ? (
        <section className="preview">
          <h2>{previewDays.length > 1 ? t('newEvent.daysGlance') : t('newEvent.dayGlance')}</h2>
          <p className="hint">{picked.size ? t('newEvent.chosenHint') : t('newEvent.allHint')}</p>
          <Timeline
            timeZone={tz}
            festival={f.id}
            resources={previewResources}
            days={previewDays}
            highlight={frame}
            linkFree={false}
          />
        </section>
      ) : null}
    </section>
  )
}
