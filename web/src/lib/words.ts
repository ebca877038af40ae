// The words people read about requests, resources and people, in the active language
// (src/i18n: the texts themselves). Plain, short, the same everywhere.

import type { Policy, RequestStatus, ResourceKind } from '../client/types'
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
  return t('policy.custom', { name: policy })
}

export function policyShort(policy: Policy | null | undefined): string {
  if (!policy) return t('policy.shortUnknown')
  if (policy === 'fcfs') return t('policy.shortFcfs')
  if (policy === 'manual') return t('policy.shortManual')
  return t('policy.shortCustom', { name: policy })
}

/** A person's name, or a recognisable piece of their key. */
export function personName(name: string | null | undefined, key: string, mine = false): string {
  if (mine) return name ? t('person.mine', { name }) : t('person.you')
  return name || t('person.someone', { key: key.slice(0, 8) })
}
