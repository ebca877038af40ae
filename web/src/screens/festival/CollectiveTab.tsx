// The festival's collectives: keys whose members vote on the requests for their resources
// (docs/protocol.md, "Collectives"). This node's own key can become one here: its members
// (pasted keys, or people of the festival), and the rule by which their votes decide. The
// node of the collective confirms or denies by the tally; members vote in their inboxes.

import { useId, useState, type FormEvent } from 'react'
import { useTranslation } from 'react-i18next'
import { useClient } from '../../client/context'
import { errorMessage, type Collective, type CollectiveRule, type Festival, type PublicKey } from '../../client/types'
import { ErrorNote, Loading, ShortKey } from '../../components/ui'
import { useData } from '../../lib/useData'
import { personName, ruleText } from '../../lib/words'

const KEY = /^[0-9a-f]{64}$/

export function CollectiveTab({ festival: f }: { festival: Festival }) {
  const { t } = useTranslation()
  const data = useData(
    async (c) => {
      const [me, collectives, resources, events] = await Promise.all([
        c.identity(),
        c.collectives(f.id),
        c.resources(f.id),
        c.events(f.id),
      ])
      // The names this node knows, by key: whoever shares, organises, started or votes here.
      const names = new Map<PublicKey, string>()
      const know = (key: string, name: string | null | undefined) => {
        if (name && !names.has(key)) names.set(key, name)
      }
      know(f.creator, f.creator_name)
      for (const r of resources) know(r.owner, r.owner_name)
      for (const e of events) know(e.organiser, e.organiser_name)
      for (const x of collectives) {
        know(x.key, x.name)
        for (const m of x.members) know(m.key, m.name)
      }
      return { me: me.public_key, collectives, names }
    },
    [f.id, f.creator, f.creator_name],
  )
  // Kept here: saving changes the node's collective, which gives the form a new key.
  const [saved, setSaved] = useState<string | null>(null)
  if (!data.data) return data.error ? <ErrorNote message={data.error} /> : <Loading />
  const { me, collectives, names } = data.data
  const mine = collectives.find((x) => x.key === me) ?? null
  return (
    <div className="collective">
      <p className="lead">{t('collective.intro')}</p>
      <section>
        <h2>{t('collective.listTitle')}</h2>
        {collectives.length ? (
          <ul className="list" aria-label={t('collective.listTitle')}>
            {collectives.map((x) => (
              <CollectiveCard key={x.key} collective={x} me={me} />
            ))}
          </ul>
        ) : (
          <p className="muted">{t('collective.none')}</p>
        )}
      </section>
      <CollectiveForm
        key={mine ? `${mine.rule}|${mine.members.map((m) => m.key).join(',')}` : 'new'}
        festival={f}
        me={me}
        mine={mine}
        names={names}
        saved={saved}
        onSaved={setSaved}
      />
    </div>
  )
}

function CollectiveCard({ collective: x, me }: { collective: Collective; me: PublicKey }) {
  const { t } = useTranslation()
  const ours = x.key === me
  return (
    <li className="card collective-card" aria-label={personName(x.name, x.key, ours)}>
      <h3>
        {personName(x.name, x.key, ours)} {ours ? <span className="badge from">{t('collective.thisNode')}</span> : null}
      </h3>
      <p className="meta">
        {t('collective.decides', { rule: ruleText(x.rule, x.members.length), count: x.members.length })}
      </p>
      <ul className="members">
        {x.members.map((m) => (
          <li key={m.key}>
            <MemberName name={m.name} memberKey={m.key} me={m.me} />
          </li>
        ))}
      </ul>
    </li>
  )
}

type RuleChoice = 'any' | 'majority' | 'all' | 'count'

function CollectiveForm({
  festival: f,
  me,
  mine,
  names,
  saved,
  onSaved: setSaved,
}: {
  festival: Festival
  me: PublicKey
  mine: Collective | null
  names: Map<PublicKey, string>
  saved: string | null
  onSaved: (text: string | null) => void
}) {
  const { t } = useTranslation()
  const client = useClient()
  const uid = useId()
  const [members, setMembers] = useState<PublicKey[]>(() => mine?.members.map((m) => m.key) ?? [])
  const initial = mine?.rule ?? 'majority'
  const [rule, setRule] = useState<RuleChoice>(initial === 'any' || initial === 'majority' || initial === 'all' ? initial : 'count')
  const [count, setCount] = useState(/^\d+$/.test(initial) ? initial : '2')
  const [pasted, setPasted] = useState('')
  const [pasteError, setPasteError] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  const nameOf = (key: PublicKey) => personName(names.get(key), key, key === me)
  const people = [...names.entries()].filter(([key]) => key !== me && !members.includes(key)).sort((a, b) => a[1].localeCompare(b[1]))

  function add(key: string) {
    const k = key.trim().toLowerCase()
    setSaved(null)
    setError(null)
    if (!KEY.test(k)) return setPasteError(t('collective.badKey'))
    if (members.includes(k)) return setPasteError(t('collective.already', { name: nameOf(k) }))
    setPasteError(null)
    setMembers((m) => [...m, k])
    setPasted('')
  }
  function remove(key: PublicKey) {
    setSaved(null)
    setMembers((m) => m.filter((x) => x !== key))
  }

  function chosenRule(): CollectiveRule | string {
    if (rule !== 'count') return rule
    const k = Number(count)
    if (!Number.isInteger(k) || k < 1 || k > members.length) return t('collective.badCount', { count: members.length })
    return String(k) as CollectiveRule
  }

  async function save(e: FormEvent) {
    e.preventDefault()
    setSaved(null)
    if (!members.length) return setError(t('collective.noMembers'))
    const r = chosenRule()
    if (!['any', 'majority', 'all'].includes(r) && !/^\d+$/.test(r)) return setError(r)
    setBusy(true)
    setError(null)
    try {
      const c = await client.setCollective(f.id, { members, rule: r })
      setSaved(t('collective.saved', { count: c.members.length, rule: ruleText(c.rule, c.members.length) }))
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="card form collective-form" onSubmit={save} aria-label={t('collective.formTitle')} noValidate>
      <h2>{mine ? t('collective.formTitleMine') : t('collective.formTitle')}</h2>
      <p className="hint">{t('collective.formHint', { name: f.name })}</p>
      <fieldset>
        <legend>{t('collective.members')}</legend>
        {members.length ? (
          <ul className="members editable" aria-label={t('collective.members')}>
            {members.map((key) => (
              <li key={key}>
                <span>
                  <MemberName name={names.get(key)} memberKey={key} me={key === me} />
                </span>
                <button type="button" className="link" onClick={() => remove(key)} aria-label={t('collective.removeMember', { name: nameOf(key) })}>
                  {t('collective.remove')}
                </button>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">{t('collective.noMembersYet')}</p>
        )}
        <div className="field">
          <label htmlFor={`${uid}-key`}>{t('collective.pasteKey')}</label>
          <div className="copy-row">
            <input
              id={`${uid}-key`}
              className="mono"
              value={pasted}
              placeholder="3fa9c2d1…"
              autoComplete="off"
              spellCheck={false}
              aria-describedby={`${uid}-key-hint`}
              onChange={(x) => {
                setPasted(x.target.value)
                setPasteError(null)
              }}
              onKeyDown={(x) => {
                if (x.key === 'Enter') {
                  x.preventDefault()
                  add(pasted)
                }
              }}
            />
            <button type="button" onClick={() => add(pasted)}>
              {t('collective.add')}
            </button>
          </div>
          <p className="hint" id={`${uid}-key-hint`}>
            {t('collective.pasteHint')}
          </p>
          <ErrorNote message={pasteError} />
        </div>
        {people.length ? (
          <div className="field">
            <label htmlFor={`${uid}-person`}>{t('collective.orPerson')}</label>
            <select id={`${uid}-person`} value="" onChange={(x) => x.target.value && add(x.target.value)}>
              <option value="">{t('collective.choosePerson')}</option>
              {people.map(([key, name]) => (
                <option key={key} value={key}>
                  {name} ({key.slice(0, 8)}…)
                </option>
              ))}
            </select>
          </div>
        ) : null}
      </fieldset>
      <fieldset>
        <legend>{t('collective.rule')}</legend>
        <div className="radios">
          {([['any', 'ruleAny'], ['majority', 'ruleMajority'], ['all', 'ruleAll']] as const).map(([r, label]) => (
            <label key={r} className="radio">
              <input type="radio" name={`${uid}-rule`} checked={rule === r} onChange={() => setRule(r)} />{' '}
              <span>{t(`collective.${label}`)}</span>
            </label>
          ))}
          <label className="radio">
            <input type="radio" name={`${uid}-rule`} checked={rule === 'count'} onChange={() => setRule('count')} />{' '}
            <span>{t('collective.ruleCount')}</span>
          </label>
        </div>
        {rule === 'count' ? (
          <div className="field">
            <label htmlFor={`${uid}-count`}>{t('collective.count')}</label>
            <input
              id={`${uid}-count`}
              type="number"
              inputMode="numeric"
              min={1}
              max={Math.max(1, members.length)}
              value={count}
              onChange={(x) => setCount(x.target.value)}
              className="narrow-number"
            />
          </div>
        ) : null}
      </fieldset>
      <ErrorNote message={error} />
      {saved ? (
        <p className="note ok" role="status">
          {saved}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {mine ? t('common.saveChanges') : t('collective.make')}
        </button>
      </div>
    </form>
  )
}

/** "Ana 3fa9c2d1…", or for a key whose name is not known here, "someone 3fa9c2d1…". */
function MemberName({ name, memberKey, me }: { name: string | null | undefined; memberKey: PublicKey; me: boolean }) {
  const { t } = useTranslation()
  const who = name ? personName(name, memberKey, me) : me ? t('person.you') : t('common.someone')
  return (
    <>
      {who} <ShortKey value={memberKey} />
    </>
  )
}
