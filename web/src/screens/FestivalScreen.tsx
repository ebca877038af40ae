import { useId, useLayoutEffect, useRef, useState, type FormEvent } from 'react'
import { Trans, useTranslation } from 'react-i18next'
import { useClient } from '../client/context'
import { errorMessage, type Festival, type FestivalChange } from '../client/types'
import { DateTimeInput, TimeZoneSelect } from '../components/TimeInputs'
import { Tickets } from '../components/Tickets'
import { ErrorNote, Loading } from '../components/ui'
import { ancestry, dateSpan } from '../lib/festivals'
import { href, newEventHref, programmeHref, type FestivalTab } from '../lib/router'
import { offsetLabel, utcToZonedInput } from '../lib/time'
import { useData } from '../lib/useData'
import { useNow } from '../lib/useNow'
import { ticketNamer } from '../lib/tickets'
import { personName } from '../lib/words'
import { CollectiveTab } from './festival/CollectiveTab'
import { EventsTab } from './festival/EventsTab'
import { MapTab } from './festival/MapTab'
import { ResourcesTab } from './festival/ResourcesTab'
import { ShareTab } from './festival/ShareTab'
import { TimelineTab } from './festival/TimelineTab'

const TABS = [
  { tab: 'timeline', label: 'festival.tabTimeline' },
  { tab: 'events', label: 'festival.tabEvents' },
  { tab: 'resources', label: 'festival.tabResources' },
  { tab: 'map', label: 'festival.tabMap' },
  { tab: 'share', label: 'festival.tabShare' },
  { tab: 'collective', label: 'festival.tabCollective' },
] as const satisfies { tab: FestivalTab; label: string }[]

export function FestivalScreen({ id, tab }: { id: string; tab: FestivalTab }) {
  const { t } = useTranslation()
  const all = useData((c) => c.festivals(), [])
  const one = useData((c) => c.festival(id), [id])
  const f = one.data
  // On a narrow screen the tabs scroll sideways: keep the current one in sight.
  const tabs = useRef<HTMLElement>(null)
  const loaded = Boolean(f)
  useLayoutEffect(() => {
    const nav = tabs.current
    const current = nav?.querySelector<HTMLElement>('[aria-current="page"]')
    if (!nav || !current || nav.scrollWidth <= nav.clientWidth) return
    const a = current.getBoundingClientRect()
    const n = nav.getBoundingClientRect()
    if (a.right > n.right) nav.scrollLeft += a.right - n.right + 16
    else if (a.left < n.left) nav.scrollLeft -= n.left - a.left + 16
  }, [tab, loaded])
  if (!f) return one.error ? <ErrorNote message={one.error} /> : <Loading what="festival" />
  const parents = all.data ? ancestry(all.data, f.id) : []
  const children = (all.data ?? []).filter((c) => c.parent === f.id)

  return (
    <section>
      <nav className="crumbs" aria-label={t('festival.around')}>
        <a href="#/">{t('nav.festivals')}</a>
        {parents.map((p) => (
          <span key={p.id}>
            {' › '}
            <a href={href('/festivals', p.id)}>{p.name}</a>
          </span>
        ))}
      </nav>
      <div className="page-head">
        <h1>{f.name}</h1>
        <div className="head-actions">
          <a className="button primary" href={newEventHref(f.id)}>
            {t('festival.newEvent')}
          </a>
          <a className="button" href={href('/festivals', f.id, 'resources', 'new')}>
            {t('festival.shareResource')}
          </a>
        </div>
      </div>
      <FestivalFacts festival={f} />
      <EditFestival key={`${f.name}|${f.description}|${f.timezone}|${f.start}|${f.end}`} festival={f} />
      <Tickets festival={f} />
      <SubFestivals festival={f} subs={children} />
      <nav className="tabs" aria-label={t('festival.views')} ref={tabs}>
        {TABS.map((x) => (
          <a key={x.tab} href={href('/festivals', f.id, x.tab)} aria-current={x.tab === tab ? 'page' : undefined}>
            {t(x.label)}
          </a>
        ))}
        {/* The visitors' page: read-only, printable, its own screen. */}
        <a href={programmeHref(f.id)}>{t('festival.tabProgramme')}</a>
      </nav>
      <div className="tab-body">
        {tab === 'timeline' ? <TimelineTab festival={f} /> : null}
        {tab === 'events' ? <EventsTab festival={f} /> : null}
        {tab === 'resources' ? <ResourcesTab festival={f} /> : null}
        {tab === 'map' ? <MapTab festival={f} /> : null}
        {tab === 'share' ? <ShareTab festival={f} /> : null}
        {tab === 'collective' ? <CollectiveTab festival={f} /> : null}
      </div>
    </section>
  )
}

function FestivalFacts({ festival: f }: { festival: Festival }) {
  const { t } = useTranslation()
  const now = useNow()
  return (
    <div className="facts">
      {f.description ? <p className="desc">{f.description}</p> : null}
      <p className="meta">
        {f.start && f.end ? <span>{dateSpan(f)} · </span> : null}
        <span>
          <Trans
            i18nKey="festival.timesIn"
            values={{ zone: f.timezone.replace(/_/g, ' '), offset: offsetLabel(f.timezone, f.start ? Date.parse(f.start) : now) }}
            components={{ b: <strong /> }}
          />
        </span>
        <span> · {t('festival.startedBy', { name: personName(f.creator_name, f.creator) })}</span>
      </p>
    </div>
  )
}

function SubFestivals({ festival, subs }: { festival: Festival; subs: Festival[] }) {
  const { t } = useTranslation()
  return (
    <div className="subs">
      {subs.length ? (
        <>
          <span className="muted">{t('festival.inside')}</span>
          {subs.map((c, i) => (
            <span key={c.id}>
              {i ? ', ' : ''}
              <a href={href('/festivals', c.id)}>{c.name}</a>
            </span>
          ))}
          {' · '}
        </>
      ) : null}
      <a href={href('/festivals', festival.id, 'new-sub')}>{t('festival.addInside')}</a>
    </div>
  )
}

/** The festival's creator changes its name, description, time zone or dates, and who may
 * organise here (anyone, or only ticket holders). */
function EditFestival({ festival: f }: { festival: Festival }) {
  const { t } = useTranslation()
  const client = useClient()
  const me = useData((c) => c.identity(), [])
  const all = useData((c) => c.festivals(), [])
  const [open, setOpen] = useState(false)
  // The ticket as named here (null: anyone may organise, or the ticket is a parent's).
  const inherited = Boolean(f.ticket && all.data && ticketNamer(all.data, f).id !== f.id)
  const namedHere = inherited ? null : (f.ticket ?? null)
  const [ticket, setTicket] = useState<string | null>(namedHere)
  const [name, setName] = useState(f.name)
  const [description, setDescription] = useState(f.description)
  const [timezone, setTimezone] = useState(f.timezone)
  const [start, setStart] = useState(f.start ? utcToZonedInput(f.start, f.timezone) : '')
  const [end, setEnd] = useState(f.end ? utcToZonedInput(f.end, f.timezone) : '')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  if (me.data?.public_key !== f.creator) return null
  if (!open) {
    return (
      <button
        type="button"
        onClick={() => {
          // The ticket may have changed since the form was last open.
          setTicket(namedHere)
          setOpen(true)
        }}
      >
        {t('festival.editOpen')}
      </button>
    )
  }
  async function save(ev: FormEvent) {
    ev.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const change: FestivalChange = { name, description, timezone }
      if (start || end) {
        change.start = start
        change.end = end
      }
      if (ticket === '') throw new Error(t('tickets.needTicket'))
      if (!inherited && ticket !== namedHere) change.ticket = ticket
      await client.updateFestival(f.id, change)
      setOpen(false)
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  // Any change makes an earlier error stale.
  const edited = (set: (v: string) => void) => (v: string) => {
    set(v)
    setError(null)
  }
  return (
    <form className="card form edit-festival" onSubmit={save} aria-label={t('festival.editLabel')}>
      <h2>{t('festival.editTitle', { name: f.name })}</h2>
      <div className="field">
        <label htmlFor="fest-name">{t('common.name')}</label>
        <input id="fest-name" value={name} onChange={(x) => edited(setName)(x.target.value)} required />
      </div>
      <div className="field">
        <label htmlFor="fest-desc">{t('common.description')}</label>
        <textarea id="fest-desc" value={description} onChange={(x) => edited(setDescription)(x.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="fest-tz">{t('common.timezone')}</label>
        <TimeZoneSelect id="fest-tz" value={timezone} onChange={edited(setTimezone)} date={start || undefined} />
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor="fest-start">{t('common.starts')}</label>
          <DateTimeInput id="fest-start" value={start} onChange={edited(setStart)} />
        </div>
        <div className="field">
          <label htmlFor="fest-end">{t('common.ends')}</label>
          <DateTimeInput id="fest-end" value={end} onChange={edited(setEnd)} />
        </div>
      </div>
      <WhoMayOrganise
        festival={f}
        inherited={inherited}
        ticket={ticket}
        onChange={(v) => {
          setTicket(v)
          setError(null)
        }}
      />
      <ErrorNote message={error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {t('common.saveChanges')}
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          {t('common.close')}
        </button>
      </div>
    </form>
  )
}

/**
 * "Who may organise here": anyone, or only ticket holders, with the ticket chosen among the
 * festival's resources or created in one click (it then becomes the festival's ticket at
 * once). `ticket`: null for anyone, '' while holders only is chosen without a ticket.
 */
function WhoMayOrganise({
  festival: f,
  inherited,
  ticket,
  onChange,
}: {
  festival: Festival
  inherited: boolean
  ticket: string | null
  onChange: (ticket: string | null) => void
}) {
  const { t } = useTranslation()
  const client = useClient()
  const id = useId()
  const resources = useData((c) => c.resources(f.id), [f.id])
  const all = useData((c) => c.festivals(), [])
  const [busy, setBusy] = useState(false)
  const [created, setCreated] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const options = (resources.data ?? []).filter((r) => !r.retired || r.id === ticket)
  if (inherited) {
    const namer = all.data ? ticketNamer(all.data, f) : null
    const name = (resources.data ?? []).find((r) => r.id === f.ticket)?.name ?? t('common.aResource')
    return (
      <fieldset className="who-organises">
        <legend>{t('tickets.who')}</legend>
        <p className="hint">{t('tickets.inherited', { name: namer?.name ?? '', ticket: name })}</p>
      </fieldset>
    )
  }
  async function createTicket() {
    setBusy(true)
    setError(null)
    setCreated(null)
    try {
      const r = await client.createResource(f.id, {
        name: t('tickets.defaultName'),
        kind: 'other',
        description: t('tickets.defaultDescription', { name: f.name }),
        policy: 'manual',
        capacity: 'unlimited',
      })
      await client.updateFestival(f.id, { ticket: r.id })
      onChange(r.id)
      setCreated(t('tickets.created', { name: r.name }))
    } catch (e) {
      setError(errorMessage(e))
    } finally {
      setBusy(false)
    }
  }
  return (
    <fieldset className="who-organises">
      <legend>{t('tickets.who')}</legend>
      <label className="check">
        <input type="radio" name={`${id}-who`} checked={ticket === null} onChange={() => onChange(null)} /> {t('tickets.anyone')}
      </label>
      <label className="check">
        <input
          type="radio"
          name={`${id}-who`}
          checked={ticket !== null}
          onChange={() => onChange(ticket ?? '')}
          aria-describedby={`${id}-hint`}
        />{' '}
        {t('tickets.holdersOnly')}
      </label>
      <p className="hint" id={`${id}-hint`}>
        {t('tickets.holdersHint')}
      </p>
      {ticket !== null ? (
        <div className="ticket-choice">
          <div className="field">
            <label htmlFor={`${id}-ticket`}>{t('tickets.ticketLabel')}</label>
            <select id={`${id}-ticket`} value={ticket} onChange={(e) => onChange(e.target.value)}>
              <option value="">{t('tickets.choose')}</option>
              {options.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name} ({personName(r.owner_name, r.owner, r.mine)})
                </option>
              ))}
            </select>
          </div>
          <button type="button" disabled={busy} onClick={() => void createTicket()}>
            {busy ? t('tickets.creating') : t('tickets.create')}
          </button>
        </div>
      ) : null}
      {created ? (
        <p className="note ok" role="status">
          {created}
        </p>
      ) : null}
      <ErrorNote message={error} />
    </fieldset>
  )
}
