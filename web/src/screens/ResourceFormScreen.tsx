import { useEffect, useId, useState, type FormEvent } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import { useClient } from '../client/context'
import { AdmissionWarning } from '../components/Tickets'
import { errorMessage, type Festival, type Id, type Resource, type ResourceChange, type ResourceInput, type ResourceKind } from '../client/types'
import { DateTimeInput } from '../components/TimeInputs'
import { ErrorNote, Field, Loading } from '../components/ui'
import { href, navigate } from '../lib/router'
import { formatRange, offsetOfTyped, utcToZonedInput, zonedInputToUtc } from '../lib/time'
import { useData } from '../lib/useData'
import { useNow } from '../lib/useNow'
import { KINDS, kindText, personName, ruleText } from '../lib/words'

export function NewResourceScreen({ festival }: { festival: string }) {
  const f = useData((c) => c.festival(festival), [festival])
  if (!f.data) return f.error ? <ErrorNote message={f.error} /> : <Loading />
  return <ResourceForm festival={f.data} />
}

export function EditResourceScreen({ id }: { id: string }) {
  const r = useData((c) => c.resource(id), [id])
  const f = useData((c) => (r.data ? c.festival(r.data.festival) : Promise.resolve(null)), [r.data?.festival])
  if (!r.data) return r.error ? <ErrorNote message={r.error} /> : <Loading />
  if (!f.data) return f.error ? <ErrorNote message={f.error} /> : <Loading />
  return <ResourceForm festival={f.data} resource={r.data} />
}

const BUILT_IN = ['manual', 'fcfs', 'collective'] as const
type BuiltInPolicy = (typeof BUILT_IN)[number]

interface Window {
  key: number
  start: string
  end: string
}

let windowKey = 0

export function ResourceForm({ festival: f, resource: r }: { festival: Festival; resource?: Resource }) {
  const { t } = useTranslation()
  const client = useClient()
  const tz = f.timezone
  const uid = useId()
  const [name, setName] = useState(r?.name ?? '')
  const [kind, setKind] = useState<ResourceKind>(r?.kind ?? 'location')
  const [description, setDescription] = useState(r?.description ?? '')
  const [address, setAddress] = useState(r?.address ?? '')
  const [url, setUrl] = useState(r?.url ?? '')
  const [lat, setLat] = useState(r?.location ? String(r.location.lat) : '')
  const [lon, setLon] = useState(r?.location ? String(r.location.lon) : '')
  const [always, setAlways] = useState(!r || r.availability === 'always')
  // "Every day 14:00–01:00 from … to …": the node expands it into one window per day.
  const [daily, setDaily] = useState(false)
  const [dailyFrom, setDailyFrom] = useState(f.start ? utcToZonedInput(f.start, f.timezone).slice(0, 10) : '')
  // The festival's last day: the one its last instant falls on (an end at midnight is the day before).
  const [dailyTo, setDailyTo] = useState(f.end ? utcToZonedInput(Date.parse(f.end) - 1, f.timezone).slice(0, 10) : '')
  const [dailyStart, setDailyStart] = useState('10:00')
  const [dailyEnd, setDailyEnd] = useState('22:00')
  const [windows, setWindows] = useState<Window[]>(() =>
    r && r.availability !== 'always' && r.availability.length
      ? r.availability.map((w) => ({ key: windowKey++, start: utcToZonedInput(w.start, tz), end: utcToZonedInput(w.end, tz) }))
      : [{ key: windowKey++, start: f.start ? utcToZonedInput(f.start, tz) : '', end: f.end ? utcToZonedInput(f.end, tz) : '' }],
  )
  const initialPolicy = r?.policy ?? 'manual'
  const builtIn = (p: string): p is BuiltInPolicy => (BUILT_IN as readonly string[]).includes(p)
  const [policy, setPolicy] = useState<BuiltInPolicy | 'other'>(builtIn(initialPolicy) ? initialPolicy : 'other')
  const [customPolicy, setCustomPolicy] = useState(builtIn(initialPolicy) ? '' : initialPolicy)
  // How many may be confirmed at once: a number (1: a room, a person), or no limit (tickets).
  const [unlimited, setUnlimited] = useState(r?.capacity === 'unlimited')
  const [capacity, setCapacity] = useState(r && r.capacity !== 'unlimited' ? String(r.capacity) : '1')
  // The resources an event requesting this one requests too ("the PA needs the sound engineer").
  const [needs, setNeeds] = useState<ReadonlySet<Id>>(() => new Set(r?.needs ?? []))
  const [busy, setBusy] = useState(false)
  // After a first try, what is wrong is worked out again from the fields as they change: a
  // fixed problem goes away, the next one shows. What the node said goes with any change.
  const [tried, setTried] = useState(false)
  const [failure, setFailure] = useState<string | null>(null)
  const now = useNow()
  const [geoNote, setGeoNote] = useState<string | null>(null)

  function here() {
    if (!navigator.geolocation) return setGeoNote(t('resourceForm.geoNone'))
    setGeoNote(t('resourceForm.geoFinding'))
    navigator.geolocation.getCurrentPosition(
      (p) => {
        setLat(p.coords.latitude.toFixed(6))
        setLon(p.coords.longitude.toFixed(6))
        setGeoNote(t('resourceForm.geoFilled', { metres: Math.round(p.coords.accuracy) }))
      },
      () => setGeoNote(t('resourceForm.geoFailed')),
      { enableHighAccuracy: true, timeout: 15_000 },
    )
  }

  function build(): ResourceInput | string {
    if (!name.trim()) return t('resourceForm.needName')
    const input: ResourceInput = { name: name.trim(), kind, description: description.trim() }
    if (kind === 'location') {
      input.address = address.trim()
      input.url = url.trim()
      if (lat.trim() || lon.trim()) {
        const la = Number(lat.replace(',', '.'))
        const lo = Number(lon.replace(',', '.'))
        if (!lat.trim() || !lon.trim()) return t('resourceForm.needBoth')
        if (!Number.isFinite(la) || la < -90 || la > 90) return t('resourceForm.badLat')
        if (!Number.isFinite(lo) || lo < -180 || lo > 180) return t('resourceForm.badLon')
        input.lat = la
        input.lon = lo
      } else if (r?.location) {
        input.lat = null
        input.lon = null
      }
    }
    if (always) {
      if (r) input.availability = 'always'
    } else if (daily) {
      if (!dailyFrom || !dailyTo) return t('resourceForm.dailyDays')
      if (!dailyStart || !dailyEnd) return t('resourceForm.dailyHours')
      input.availability = { daily: { from: dailyFrom, to: dailyTo, start: dailyStart, end: dailyEnd } }
    } else {
      const frames = []
      for (const [i, w] of windows.entries()) {
        const s = zonedInputToUtc(w.start, tz)
        const e = zonedInputToUtc(w.end, tz)
        if (!s || !e) return t('resourceForm.windowMissing', { n: i + 1 })
        if (Date.parse(e) <= Date.parse(s)) return t('resourceForm.windowOrder', { n: i + 1 })
        frames.push({ start: s, end: e })
      }
      if (!frames.length) return t('resourceForm.noWindows')
      input.availability = frames
    }
    if (unlimited) input.capacity = 'unlimited'
    else {
      const n = Number(capacity.trim())
      if (!capacity.trim() || !Number.isInteger(n) || n < 1) return t('resourceForm.badCapacity')
      if (n > 4_294_967_295) return t('resourceForm.badCapacity')
      input.capacity = n
    }
    if (r || needs.size) input.needs = [...needs].sort()
    if (policy === 'other') {
      if (!customPolicy.trim()) return t('resourceForm.needRule')
      input.policy = customPolicy.trim()
    } else {
      input.policy = policy
    }
    return input
  }

  const input = build()
  useEffect(
    () => setFailure(null),
    [name, kind, description, address, url, lat, lon, always, windows, policy, customPolicy, daily, dailyFrom, dailyTo, dailyStart, dailyEnd, unlimited, capacity, needs],
  )
  const error = failure ?? (tried && typeof input === 'string' ? input : null)

  // Before a change is signed, the node says what it would mean for others; when it affects
  // anyone, the owner saves a second time, having seen it.
  const inputKey = JSON.stringify(input)
  const [effects, setEffects] = useState<{ key: string; change: ResourceChange } | null>(null)
  const seen = effects?.key === inputKey

  async function submit(e: FormEvent) {
    e.preventDefault()
    setTried(true)
    setFailure(null)
    if (typeof input === 'string') return
    setBusy(true)
    try {
      if (r && !seen) {
        const change = await client.previewResource(r.id, input)
        if (change.turned_away.length || change.outside.length) {
          setEffects({ key: inputKey, change })
          setBusy(false)
          return
        }
      }
      const saved = r ? await client.updateResource(r.id, input) : await client.createResource(f.id, { ...input, name: input.name! })
      navigate(href('/resources', saved.id))
    } catch (err) {
      setFailure(errorMessage(err))
      setBusy(false)
    }
  }

  const back = r ? href('/resources', r.id) : href('/festivals', f.id, 'resources')
  const setWindow = (key: number, patch: Partial<Window>) =>
    setWindows((ws) => ws.map((w) => (w.key === key ? { ...w, ...patch } : w)))

  return (
    <section className="narrow">
      <p className="crumbs">
        <a href={back}>← {r ? r.name : f.name}</a>
      </p>
      <h1>{r ? t('resourceForm.editTitle', { name: r.name }) : t('resourceForm.newTitle', { name: f.name })}</h1>
      {r ? null : <AdmissionWarning festival={f} what="resource" />}
      <form className="card form" onSubmit={submit} noValidate>
        <Field id={`${uid}-name`} label={t('common.name')}>
          <input id={`${uid}-name`} value={name} onChange={(e) => setName(e.target.value)} required autoFocus={!r} />
        </Field>
        <fieldset>
          <legend>{t('resourceForm.whatIsIt')}</legend>
          <div className="radios">
            {KINDS.map((k) => (
              <label key={k} className="radio">
                <input type="radio" name="kind" value={k} checked={kind === k} onChange={() => setKind(k)} />
                <span>
                  <strong>{kindText(k)}</strong> <span className="muted">({t(`kindHint.${k}`)})</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
        <Field id={`${uid}-desc`} label={t('common.descriptionOptional')}>
          <textarea id={`${uid}-desc`} rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        {kind === 'location' ? (
          <fieldset>
            <legend>{t('resourceForm.where')}</legend>
            <Field id={`${uid}-addr`} label={t('resourceForm.street')}>
              <input id={`${uid}-addr`} value={address} onChange={(e) => setAddress(e.target.value)} autoComplete="street-address" />
            </Field>
            <div className="two">
              <Field id={`${uid}-lat`} label={t('resourceForm.lat')}>
                <input id={`${uid}-lat`} inputMode="decimal" placeholder="52.52" value={lat} onChange={(e) => setLat(e.target.value)} />
              </Field>
              <Field id={`${uid}-lon`} label={t('resourceForm.lon')}>
                <input id={`${uid}-lon`} inputMode="decimal" placeholder="13.405" value={lon} onChange={(e) => setLon(e.target.value)} />
              </Field>
            </div>
            <p>
              <button type="button" onClick={here}>
                {t('resourceForm.here')}
              </button>{' '}
              <span className="hint" aria-live="polite">
                {geoNote}
              </span>
            </p>
            <Field id={`${uid}-url`} label={t('resourceForm.url')}>
              <input id={`${uid}-url`} type="url" placeholder="https://" value={url} onChange={(e) => setUrl(e.target.value)} />
            </Field>
          </fieldset>
        ) : null}
        <fieldset>
          <legend>{t('resourceForm.when')}</legend>
          <div className="radios">
            <label className="radio">
              <input
                type="radio"
                name="avail"
                checked={always}
                onChange={() => {
                  setAlways(true)
                  setDaily(false)
                }}
              />{' '}
              <span>{t('resourceForm.anyTime')}</span>
            </label>
            <label className="radio">
              <input
                type="radio"
                name="avail"
                checked={!always && daily}
                onChange={() => {
                  setAlways(false)
                  setDaily(true)
                }}
              />{' '}
              <span>{t('resourceForm.daily')}</span>
            </label>
            <label className="radio">
              <input
                type="radio"
                name="avail"
                checked={!always && !daily}
                onChange={() => {
                  setAlways(false)
                  setDaily(false)
                }}
              />{' '}
              <span>{t('resourceForm.only')}</span>
            </label>
          </div>
          {!always && daily ? (
            <div className="daily">
              <p className="hint">{t('resourceForm.dailyHint', { zone: tz.replace(/_/g, ' ') })}</p>
              <Field id={`${uid}-df`} label={t('resourceForm.firstDay')}>
                <input id={`${uid}-df`} type="date" value={dailyFrom} onChange={(e) => setDailyFrom(e.target.value)} />
              </Field>
              <Field id={`${uid}-dt`} label={t('resourceForm.lastDay')}>
                <input id={`${uid}-dt`} type="date" value={dailyTo} onChange={(e) => setDailyTo(e.target.value)} />
              </Field>
              <Field id={`${uid}-dh`} label={t('resourceForm.dailyFrom')}>
                <input id={`${uid}-dh`} type="time" value={dailyStart} onChange={(e) => setDailyStart(e.target.value)} />
              </Field>
              <Field id={`${uid}-de`} label={t('resourceForm.dailyUntil')}>
                <input id={`${uid}-de`} type="time" value={dailyEnd} onChange={(e) => setDailyEnd(e.target.value)} />
              </Field>
            </div>
          ) : null}
          {!always && !daily ? (
            <div className="windows">
              <p className="hint" id={`${uid}-tz`}>
                {t('common.zoneTime', {
                  zone: tz.replace(/_/g, ' '),
                  offset: offsetOfTyped(tz, windows.flatMap((w) => [w.start, w.end]), f.start ? Date.parse(f.start) : now),
                })}
              </p>
              {windows.map((w, i) => (
                <div className="window" key={w.key}>
                  <Field id={`${uid}-ws${w.key}`} label={t('resourceForm.windowFrom', { n: i + 1 })}>
                    <DateTimeInput
                      id={`${uid}-ws${w.key}`}
                      value={w.start}
                      onChange={(v) => setWindow(w.key, { start: v })}
                      describedBy={`${uid}-tz`}
                    />
                  </Field>
                  <Field id={`${uid}-we${w.key}`} label={t('resourceForm.windowUntil', { n: i + 1 })}>
                    <DateTimeInput
                      id={`${uid}-we${w.key}`}
                      value={w.end}
                      onChange={(v) => setWindow(w.key, { end: v })}
                      describedBy={`${uid}-tz`}
                    />
                  </Field>
                  {windows.length > 1 ? (
                    <button
                      type="button"
                      className="link"
                      onClick={() => setWindows((ws) => ws.filter((x) => x.key !== w.key))}
                      aria-label={t('resourceForm.removeWindow', { n: i + 1 })}
                    >
                      {t('resourceForm.remove')}
                    </button>
                  ) : null}
                </div>
              ))}
              <button
                type="button"
                onClick={() =>
                  setWindows((ws) => [...ws, { key: windowKey++, start: ws[ws.length - 1]?.start ?? '', end: ws[ws.length - 1]?.end ?? '' }])
                }
              >
                {t('resourceForm.addWindow')}
              </button>
            </div>
          ) : null}
        </fieldset>
        <div className="field capacity">
          <label htmlFor={`${uid}-cap`}>{t('resourceForm.capacity')}</label>
          <div className="capacity-row">
            <input
              id={`${uid}-cap`}
              type="number"
              inputMode="numeric"
              min={1}
              step={1}
              value={unlimited ? '' : capacity}
              disabled={unlimited}
              onChange={(e) => setCapacity(e.target.value)}
              aria-describedby={`${uid}-cap-hint`}
            />
            <label className="check">
              <input type="checkbox" checked={unlimited} onChange={(e) => setUnlimited(e.target.checked)} />{' '}
              <span>{t('resourceForm.unlimited')}</span>
            </label>
          </div>
          <p className="hint" id={`${uid}-cap-hint`}>
            {t('resourceForm.capacityHint')}
          </p>
        </div>
        <NeedsPicker festival={f} self={r?.id} name={name.trim()} needs={needs} onChange={setNeeds} />
        <fieldset>
          <legend>{t('resourceForm.who')}</legend>
          <div className="radios">
            <label className="radio">
              <input type="radio" name="policy" checked={policy === 'manual'} onChange={() => setPolicy('manual')} />
              <span>
                <Trans i18nKey="resourceForm.manual" components={{ b: <strong /> }} />
              </span>
            </label>
            <label className="radio">
              <input type="radio" name="policy" checked={policy === 'fcfs'} onChange={() => setPolicy('fcfs')} />
              <span>
                <Trans i18nKey="resourceForm.fcfs" components={{ b: <strong /> }} />
              </span>
            </label>
            <label className="radio">
              <input type="radio" name="policy" checked={policy === 'collective'} onChange={() => setPolicy('collective')} />
              <span>
                <Trans i18nKey="resourceForm.collective" components={{ b: <strong /> }} />
              </span>
            </label>
            <label className="radio">
              <input type="radio" name="policy" checked={policy === 'other'} onChange={() => setPolicy('other')} />
              <span>
                <Trans i18nKey="resourceForm.other" components={{ b: <strong /> }} />
              </span>
            </label>
          </div>
          {policy === 'collective' ? <CollectiveNote festival={f} /> : null}
          {policy === 'other' ? (
            <Field id={`${uid}-pol`} label={t('resourceForm.ruleName')}>
              <input id={`${uid}-pol`} value={customPolicy} onChange={(e) => setCustomPolicy(e.target.value)} />
            </Field>
          ) : null}
        </fieldset>
        <ErrorNote message={error} />
        {seen && effects ? <ChangeEffects change={effects.change} timeZone={tz} /> : null}
        <div className="actions">
          <button type="submit" className={seen ? 'danger' : 'primary'} disabled={busy}>
            {busy ? t('resourceForm.saving') : seen ? t('resourceForm.saveAnyway') : r ? t('common.saveChanges') : t('resourceForm.share')}
          </button>
          <a className="button" href={back}>
            {t('common.cancel')}
          </a>
        </div>
      </form>
    </section>
  )
}

/** What a change of the resource would mean for others, as the node's preview says. */
function ChangeEffects({ change, timeZone }: { change: ResourceChange; timeZone: string }) {
  const { t } = useTranslation()
  return (
    <div className="preview" role="status" aria-label={t('resourceForm.changes')}>
      <h3>{t('resourceForm.changes')}</h3>
      {change.turned_away.length ? (
        <>
          <p>{t('resourceForm.turnedAway')}</p>
          <ul>
            {change.turned_away.map(({ request: q, why }) => (
              <li key={q.id}>
                {t('resourceForm.turnedAwayItem', {
                  event: q.event_title ?? t('common.AnEvent'),
                  when: formatRange(q.start, q.end, timeZone),
                  who: q.author_name ?? t('common.someone'),
                  why,
                })}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {change.outside.length ? (
        <>
          <p>{t('resourceForm.outside')}</p>
          <ul>
            {change.outside.map((q) => (
              <li key={q.id}>
                {t('resourceForm.outsideItem', { event: q.event_title ?? t('common.AnEvent'), when: formatRange(q.start, q.end, timeZone) })}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  )
}

/** "Needs": the festival's other resources, any of which an event requesting this one requests too. */
function NeedsPicker({
  festival: f,
  self,
  name,
  needs,
  onChange,
}: {
  festival: Festival
  self?: Id
  name: string
  needs: ReadonlySet<Id>
  onChange: (needs: ReadonlySet<Id>) => void
}) {
  const { t } = useTranslation()
  const all = useData((c) => c.resources(f.id), [f.id])
  const others = (all.data ?? []).filter((x) => x.id !== self && (!x.retired || needs.has(x.id)))
  if (!others.length) return null
  const toggle = (id: Id, on: boolean) => {
    const next = new Set(needs)
    if (on) next.add(id)
    else next.delete(id)
    onChange(next)
  }
  return (
    <fieldset className="needs">
      <legend>{t('resourceForm.needs')}</legend>
      <p className="hint">{t('resourceForm.needsHint', { name: name || t('resourceForm.thisOne') })}</p>
      <ul className="needs-list">
        {others.map((x) => (
          <li key={x.id}>
            <label className="check">
              <input type="checkbox" checked={needs.has(x.id)} onChange={(e) => toggle(x.id, e.target.checked)} />{' '}
              <span>
                {x.name} <span className="muted">({personName(x.owner_name, x.owner, x.mine)})</span>
              </span>
            </label>
          </li>
        ))}
      </ul>
    </fieldset>
  )
}

/** Under "decided by the collective's members": whether this node is a collective here, and who votes. */
function CollectiveNote({ festival: f }: { festival: Festival }) {
  const mine = useData(async (c) => {
    const [me, all] = await Promise.all([c.identity(), c.collectives(f.id)])
    return all.find((x) => x.key === me.public_key) ?? null
  }, [f.id])
  if (mine.data === undefined) return null
  const tab = href('/festivals', f.id, 'collective')
  if (!mine.data) {
    return (
      <p className="note warn">
        <Trans i18nKey="resourceForm.notCollective" values={{ name: f.name }} components={{ a: <a href={tab} /> }} />
      </p>
    )
  }
  const members = mine.data.members
  return (
    <p className="hint">
      <Trans
        i18nKey="resourceForm.collectiveIs"
        values={{
          members: members.map((m) => personName(m.name, m.key, m.me)).join(', '),
          rule: ruleText(mine.data.rule, members.length),
        }}
        components={{ a: <a href={tab} /> }}
      />
    </p>
  )
}
