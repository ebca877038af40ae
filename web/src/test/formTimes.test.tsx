// The festival and resource forms: the UTC offset of the dates being entered (not of today),
// and problems that go away once fixed.

import { screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { alone, fixture, renderApp } from './fixture'

/** The chosen option of a <select>, as shown. */
function chosen(select: HTMLElement): string {
  return (select as HTMLSelectElement).selectedOptions[0].textContent ?? ''
}

describe('the UTC offset of the dates entered', () => {
  it.each([
    ['Europe/Berlin', '2027-07-01T10:00', '2027-07-03T18:00', 'UTC+02:00'],
    ['Europe/Berlin', '2027-01-08T10:00', '2027-01-10T18:00', 'UTC+01:00'],
    ['America/New_York', '2027-07-01T10:00', '2027-07-03T18:00', 'UTC−04:00'],
    ['Europe/Berlin', '2026-10-24T10:00', '2026-10-26T18:00', 'UTC+02:00, then UTC+01:00 from Sun 25 Oct'],
  ])('a festival in %s from %s to %s: %s', async (tz, start, end, offset) => {
    const user = userEvent.setup()
    renderApp(await alone(), '/festivals/new')
    const zone = await screen.findByLabelText('Time zone')
    await user.selectOptions(zone, tz)
    await user.type(screen.getByLabelText('Starts'), start)
    await user.type(screen.getByLabelText('Ends'), end)
    const name = tz.replace(/_/g, ' ')
    expect(screen.getByText(`In ${name} time (${offset}).`)).toBeInTheDocument()
    expect(screen.getByLabelText('Starts')).toHaveAccessibleDescription(`In ${name} time (${offset}).`)
    // The zone picker: the offset at the start.
    expect(chosen(zone)).toBe(`${name} (${offset.slice(0, 9)})`)
  })

  it('tells the offset of each zone on the date entered', async () => {
    const user = userEvent.setup()
    renderApp(await alone(), '/festivals/new')
    const zone = await screen.findByLabelText('Time zone')
    await user.type(screen.getByLabelText('Starts'), '2027-07-01T10:00')
    const option = (name: string) => [...(zone as HTMLSelectElement).options].find((o) => o.value === name)!.textContent
    expect(option('Europe/Berlin')).toBe('Europe/Berlin (UTC+02:00)')
    expect(option('Australia/Sydney')).toBe('Australia/Sydney (UTC+10:00)')
    await user.clear(screen.getByLabelText('Starts'))
    await user.type(screen.getByLabelText('Starts'), '2027-01-10T10:00')
    expect(option('Europe/Berlin')).toBe('Europe/Berlin (UTC+01:00)')
    expect(option('Australia/Sydney')).toBe('Australia/Sydney (UTC+11:00)')
  })

  it.each([
    ['2026-07-01T09:00', '2026-07-01T12:00', 'UTC+02:00'],
    ['2027-01-10T09:00', '2027-01-10T12:00', 'UTC+01:00'],
  ])('a resource available from %s to %s: %s', async (from, until, offset) => {
    const user = userEvent.setup()
    const { ana, fest } = await fixture()
    renderApp(ana, `/festivals/${fest.id}/resources/new`)
    await user.click(await screen.findByRole('radio', { name: 'Only at these times' }))
    // Prefilled with the festival's frame, in July.
    expect(screen.getByText(/In Europe\/Berlin time \(UTC\+02:00\), the festival's time zone\./)).toBeInTheDocument()
    const start = screen.getByLabelText('From (time 1)')
    const end = screen.getByLabelText('Until (time 1)')
    await user.clear(start)
    await user.type(start, from)
    await user.clear(end)
    await user.type(end, until)
    expect(start).toHaveAccessibleDescription(`In Europe/Berlin time (${offset}), the festival's time zone.`)
  })
})

describe('problems in a form', () => {
  it('a festival: a fixed problem goes, the next one shows', async () => {
    const user = userEvent.setup()
    renderApp(await alone(), '/festivals/new')
    await user.type(await screen.findByLabelText('Name'), 'Summer Camp')
    await user.type(screen.getByLabelText('Starts'), '2027-07-01T10:00')
    await user.click(screen.getByRole('button', { name: 'Create festival' }))
    expect(screen.getByRole('alert')).toHaveTextContent(/^Give both a start and an end, or leave both empty\.$/)
    await user.type(screen.getByLabelText('Ends'), '2027-07-01T09:00')
    expect(screen.getByRole('alert')).toHaveTextContent(/^The end must be after the start\.$/)
    await user.clear(screen.getByLabelText('Ends'))
    await user.type(screen.getByLabelText('Ends'), '2027-07-03T18:00')
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('a resource: a fixed problem goes, the next one shows', async () => {
    const user = userEvent.setup()
    const { ana, fest } = await fixture()
    renderApp(ana, `/festivals/${fest.id}/resources/new`)
    await user.click(await screen.findByRole('button', { name: 'Share it' }))
    expect(screen.getByRole('alert')).toHaveTextContent('Give the resource a name.')
    await user.type(screen.getByLabelText('Name'), 'Garden')
    expect(screen.queryByRole('alert')).toBeNull()
    await user.click(screen.getByRole('radio', { name: 'Only at these times' }))
    const until = screen.getByLabelText('Until (time 1)')
    await user.clear(until)
    await user.type(until, '2026-06-30T12:00')
    expect(screen.getByRole('alert')).toHaveTextContent(/^Time 1: the end must be after the start\.$/)
    await user.clear(until)
    await user.type(until, '2026-07-02T12:00')
    expect(screen.queryByRole('alert')).toBeNull()
  })
})
