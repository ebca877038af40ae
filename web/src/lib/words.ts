// The words people read about requests, resources and people, in the active language
// (src/i18n: the texts themselves). Plain, short, the same everywhere.

import type { Capacity, Policy, RequestStatus, ResourceKind } from '../client/types'
import { t } from '../i18n'

/** The kinds in the order the resource form offers them. */
export const KINDS: ResourceKind[] = ['location', 'thing', 'skill', 'other']

export function statusText(status: RequestStatus): string {
  return t(`status.${status}`)
}

export function kindText(kind: ResourceKind): string {
  return t(`kind.${kind}`)
}

export function policyText(policy: Policy): string {
  if (policy === 'fcfs') return t('policy.fcfs')
  if (policy === 'manual') return t('policy.manual')
  if (policy === 'collective') return t('policy.collective')
  return t('policy.custom', { name: policy })
}

export function policyShort(policy: Policy | null | undefined): string {
  if (!policy) return t('policy.shortUnknown')
  if (policy === 'fcfs') return t('policy.shortFcfs')
  if (policy === 'manual') return t('policy.shortManual')
  if (policy === 'collective') return t('policy.shortCollective')
  return t('policy.shortCustom', { name: policy })
}

/** A person's name, or a recognisable piece of their key. */
export function personName(name: string | null | undefined, key: string, mine = false): string {
  if (mine) return name ? t('person.mine', { name }) : t('person.you')
  return name || t('person.someone', { key: key.slice(0, 8) })
}

/** "One at a time", "10 at a time", "No limit". */
export function capacityText(capacity: Capacity): string {
  if (capacity === 'unlimited') return t('capacity.unlimited')
  return t('capacity.atATime', { count: capacity })
}

/** How a collective decides: "any one member's yes", "a majority (2 of 3)", "everyone", "2 yes votes". */
export function ruleText(rule: string, members: number): string {
  if (rule === 'any') return t('collective.ruleAnyShort')
  if (rule === 'all') return t('collective.ruleAllShort')
  if (rule === 'majority') return t('collective.ruleMajorityShort', { needed: Math.floor(members / 2) + 1, count: members })
  const k = Number(rule)
  return Number.isInteger(k) ? t('collective.ruleCountShort', { count: Math.min(k, members) }) : rule
}
