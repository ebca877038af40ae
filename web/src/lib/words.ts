// The words people read. Plain, short, the same everywhere.

import type { Policy, RequestStatus, ResourceKind } from '../client/types'

export const STATUS_TEXT: Record<RequestStatus, string> = {
  pending: 'Waiting for the owner',
  confirmed: 'Confirmed',
  denied: 'Denied',
  released: 'Released by the owner',
  withdrawn: 'Withdrawn',
  invalid: 'Invalid',
}

export const KIND_TEXT: Record<ResourceKind, string> = {
  location: 'Place',
  thing: 'Thing',
  skill: 'Skill',
  other: 'Other',
}

export function policyText(policy: Policy): string {
  if (policy === 'fcfs') return 'First come, first served: confirmed automatically when free'
  if (policy === 'manual') return 'The owner confirms or denies each request'
  return `Decided by "${policy}" (a custom rule of the owner)`
}

export function policyShort(policy: Policy | null | undefined): string {
  if (!policy) return 'not known here yet'
  if (policy === 'fcfs') return 'Automatic (first come, first served)'
  if (policy === 'manual') return 'Owner decides'
  return `Custom rule "${policy}"`
}

/** A person's name, or a recognisable piece of their key. */
export function personName(name: string | null | undefined, key: string, mine = false): string {
  if (mine) return name ? `${name} (you)` : 'You'
  return name || `someone (${key.slice(0, 8)})`
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}
