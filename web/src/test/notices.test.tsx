import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { fixture, renderApp } from './fixture'

// The browser's Notification API, recording what the app shows (jsdom has none).
function fakeNotifications(permission: NotificationPermission) {
  const shown: string[] = []
  class FakeNotification {
    static permission = permission
    static requestPermission = vi.fn(async () => {
      FakeNotification.permission = 'granted'
      return 'granted' as NotificationPermission
    })
    constructor(_title: string, options?: NotificationOptions) {
      shown.push(options?.body ?? '')
    }
  }
  vi.stubGlobal('Notification', FakeNotification)
  return shown
}

afterEach(() => vi.unstubAllGlobals())

describe('notices', () => {
  it("asks before notifying, then tells the owner of a new request, from the node's notices", async () => {
    const user = userEvent.setup()
    const shown = fakeNotifications('default')
    const { world, ana, bo, fest, pa } = await fixture()
    renderApp(ana, '/inbox')
    await user.click(await screen.findByRole('button', { name: 'Notify me in this browser' }))
    expect(await screen.findByText(/This browser notifies you/)).toBeInTheDocument()
    await bo.createEvent(fest.id, {
      title: 'Karaoke',
      start: '2026-07-02T18:00:00Z',
      end: '2026-07-02T20:00:00Z',
      requests: [{ resource: pa.id }],
    })
    await world.share(fest.id)
    // Worded by the UI from the notice's kind and request (so in the user's language), in the festival's zone.
    await waitFor(() => expect(shown).toEqual(['Bo asks for PA system for Karaoke, Thu 2 Jul, 20:00–22:00']))
  })

  it('counts decisions about my requests on "My requests" until I look', async () => {
    const shown = fakeNotifications('granted')
    const { world, chidi, ana, fest, jam, stage, opening } = await fixture()
    renderApp(chidi, '/')
    const nav = screen.getByRole('navigation', { name: 'Main' })
    await screen.findByRole('heading', { level: 1, name: 'Festivals' })
    await ana.release(opening.requests[0].id)
    await ana.confirm(jam.requests.find((r) => r.resource === stage.id)!.id)
    await world.share(fest.id)
    const mine = within(nav).getByRole('link', { name: /My requests/ })
    await waitFor(() => expect(mine).toHaveTextContent('1'))
    expect(shown).toContain('Main stage is confirmed for Jam session, Wed 1 Jul, 19:00–21:00')
    window.location.hash = '/requests'
    await waitFor(() => expect(mine).not.toHaveTextContent('1'))
  })
})
