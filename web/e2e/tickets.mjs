#!/usr/bin/env node
// End-to-end test of tickets (issue 14): a festival where only ticket holders may organise.
// Two real nodes (`pandafest serve`, each its own data directory, on 127.0.0.1), each person
// in a browser context of their own (own storage, own token), in Debian's headless Chromium
// through playwright-core.
//
//   cargo build -p pandafest && (cd web && npm run build)
//   cd web && npm run e2e:tickets     # or: PANDAFEST_BIN=/path/to/pandafest node e2e/tickets.mjs
//
// Step by step (each step fails on its own):
//   Ana starts "Hillside" (Europe/Berlin) and shares her Main stage (automatic); Ben joins it by
//   an invite link. In her browser Ana opens "Edit festival…", chooses "Only ticket holders"
//   and creates a ticket resource in one click. Ben's browser says that the festival requires
//   a ticket; he plans a workshop on the stage anyway (the form warns; the event page says it
//   waits for admission, and Ana's automatic stage leaves the request alone) and applies for a
//   ticket with a message. Ana's festival page lists him waiting, her inbox shows
//   "Application: admits Ben to organise"; she admits him there. Ana's node then confirms the
//   stage, and Ben's workshop appears on the public programme page. Ana releases the ticket on
//   her festival page: the workshop leaves Ben's programme page, live. Last, Ben's festival
//   page in German, and the new parts on a phone.
// Screenshots go to test-output/tickets/ (their paths are printed).
//
// Env: PANDAFEST_BIN, CHROMIUM, E2E_KEEP=1 (see peer-lib.mjs).
// Exits non-zero with the failed step, on page errors and console errors, on API answers
// ≥ 400 to a page's or a script's calls, and on warnings or errors logged by the nodes.

import { expectText, fail, sleep } from './peer-lib.mjs'
import { SYNC_TIMEOUT_MS, TZ, scene } from './scene-lib.mjs'

const { step, shot, until, person, launch, openBrowser, go, run } = scene('tickets')

await run(main)

async function main() {
  const ids = {}
  let ana, ben

  await step('two nodes start; Ana starts Hillside and shares her stage; Ben joins by an invite link', async () => {
    ;[ana, ben] = await Promise.all(['Ana', 'Ben'].map((name) => person(name)))
    await launch()
    const fest = await ana.call('POST', '/festivals', {
      name: 'Hillside',
      timezone: TZ,
      start: '2027-07-01T10:00',
      end: '2027-07-03T23:00',
    })
    ids.fest = fest.id
    ids.stage = (await ana.call('POST', `/festivals/${fest.id}/resources`, { name: 'Main stage', kind: 'location', policy: 'fcfs' })).id
    const { link } = await ana.call('GET', `/festivals/${fest.id}/invite`)
    await ben.call('POST', '/join', { link })
    await until("the stage on Ben's node", async () => (await ben.call('GET', `/resources/${ids.stage}`)).id)
  })

  await step('Ana makes Hillside need a ticket in her browser: Only ticket holders, Create a ticket resource', async () => {
    await Promise.all([ana, ben].map(openBrowser))
    const page = ana.page
    await go(ana, `#/festivals/${ids.fest}`)
    await page.getByRole('button', { name: 'Edit festival…' }).click()
    const form = page.getByRole('form', { name: 'Edit festival' })
    const who = form.getByRole('group', { name: 'Who may organise here' })
    await who.getByRole('radio', { name: 'Only ticket holders' }).check()
    await who.getByRole('button', { name: 'Create a ticket resource' }).click()
    await expectText(who.getByRole('status'), 'Organiser ticket created: only its holders may organise here now.', 'the ticket created')
    const fest = await ana.call('GET', `/festivals/${ids.fest}`)
    if (!fest.ticket) fail('the festival names no ticket')
    ids.ticket = fest.ticket
    const ticket = await ana.call('GET', `/resources/${ids.ticket}`)
    if (ticket.name !== 'Organiser ticket' || ticket.capacity !== 'unlimited' || ticket.policy !== 'manual') {
      fail(`the ticket: ${JSON.stringify(ticket)}`)
    }
    await expectText(who.getByLabel('The ticket'), /Organiser ticket \(Ana \(you\)\)/, 'the ticket chosen')
    await shot(ana, 'festival-settings-ticket')
    await form.getByRole('button', { name: 'Close' }).click()
    await expectText(
      page.locator('.ticket-rule'),
      'Only ticket holders may organise here: the ticket is Organiser ticket, and you decide who gets one. You may organise: you started Hillside.',
      'the rule on the festival page',
    )
    await until("the ticket on Ben's node", async () => (await ben.call('GET', `/festivals/${ids.fest}`)).ticket === ids.ticket)
    await until("the ticket resource on Ben's node", async () => (await ben.call('GET', `/resources/${ids.ticket}`)).id)
  })

  await step('Ben, not admitted, plans a workshop on the stage: the form warns, the event waits for admission', async () => {
    const page = ben.page
    await go(ben, `#/festivals/${ids.fest}`)
    await page.getByRole('heading', { name: 'This festival requires a ticket to organise or provide resources' }).waitFor()
    await go(ben, `#/festivals/${ids.fest}/events/new?start=2027-07-02T14:00:00Z&end=2027-07-02T16:00:00Z&resource=${ids.stage}`)
    await expectText(
      page.locator('.admission-warning'),
      'You are waiting for admission to Hillside: this event is kept, but not in the programme until you hold a ticket',
      'the warning in the form',
    )
    if (await page.getByRole('checkbox', { name: /Organiser ticket/ }).count()) fail('the ticket is offered as a resource of an event')
    await page.getByLabel('Title').fill('Bike workshop')
    await expectText(page.getByRole('checkbox', { name: /Main stage/ }).locator('xpath=ancestor::li'), /✓ Free/, 'the stage is free')
    await shot(ben, 'new-event-warning')
    await page.getByRole('button', { name: 'Create event and send 1 request' }).click()
    await page.getByRole('heading', { level: 1, name: /Bike workshop/ }).waitFor()
    ids.workshop = page.url().split('/events/')[1]
    await expectText(
      page.getByRole('heading', { level: 1 }),
      'Bike workshop Waiting for admission — not in the programme until you hold a ticket',
      'the badge',
    )
    await shot(ben, 'event-waiting')
    // Ana's automatic stage has it, and leaves it alone while Ben is not admitted.
    await until("the workshop on Ana's node", async () => (await ana.call('GET', `/events/${ids.workshop}`)).admitted === false)
    await sleep(500)
    const q = (await ana.call('GET', `/events/${ids.workshop}`)).requests[0]
    if (q.status !== 'pending') fail(`Ana's automatic stage decided the request of someone not admitted: ${q.status}`)
  })

  await step('Ben applies for a ticket in his browser, with a message', async () => {
    const page = ben.page
    await go(ben, `#/festivals/${ids.fest}`)
    const box = page.getByRole('region', { name: 'This festival requires a ticket to organise or provide resources' })
    await expectText(box, /1 of your events is waiting for admission\. Bike workshop/, 'his waiting workshop')
    await box.getByLabel('A message for Ana (optional)').fill('I run the bike workshop every year, with my own tools.')
    await shot(ben, 'festival-apply')
    await box.getByRole('button', { name: 'Apply for a ticket' }).click()
    await expectText(box.getByRole('status', { name: 'Your application' }), 'Waiting Your application is waiting for Ana to decide.', 'the application waiting')
    await shot(ben, 'festival-applied')
    const app = (await ben.call('GET', `/festivals/${ids.fest}/events`)).find((e) => e.application)
    if (!app || app.title !== 'Ben applies to organise' || app.requests.length !== 1 || app.requests[0].resource !== ids.ticket) {
      fail(`the application: ${JSON.stringify(app)}`)
    }
    ids.application = app.id
    // The Events tab does not list it as an event.
    await page.getByRole('link', { name: 'Events', exact: true }).click()
    await expectText(page.locator('.events'), /Bike workshop.*1 application for a ticket is not listed: applications are no events and never in the programme/, 'the events tab')
    if (await page.locator('.events').getByRole('link', { name: /applies to organise/ }).count()) fail('the application is listed as an event')
  })

  await step("Ana sees Ben waiting on the festival's page and admits him from her inbox", async () => {
    const page = ana.page
    await go(ana, `#/festivals/${ids.fest}`)
    const row = page.getByRole('list', { name: 'People waiting for admission' }).getByRole('listitem', { name: 'Ben' })
    await expectText(
      row,
      /Application: admits Ben to organise.*Message: .?I run the bike workshop every year, with my own tools\..?.*1 event waiting: Bike workshop/,
      "Ben on Ana's festival page",
      SYNC_TIMEOUT_MS,
    )
    await shot(ana, 'festival-waiting')
    await go(ana, '#/inbox')
    const card = page.getByRole('listitem', { name: 'Ben applies to organise: Organiser ticket' })
    await expectText(card, /Application: admits Ben to organise.*Waiting for you.*Message: .?I run the bike workshop/, 'the application in the inbox')
    await expectText(
      page.getByRole('listitem', { name: 'Bike workshop: Main stage' }),
      /Ben is waiting for admission: until they hold a ticket, this event is not in the programme and no policy decides the request/,
      "the workshop's request in Ana's inbox",
    )
    await shot(ana, 'inbox-application')
    await card.getByRole('button', { name: 'Admit' }).click()
    await expectText(page.getByRole('main'), /Nothing is waiting for you/, "Ana's inbox after admitting")
  })

  await step("Ben is admitted: Ana's node confirms the stage and the workshop is on the public programme", async () => {
    await until('the workshop admitted and booked on Ben\'s node', async () => {
      const e = await ben.call('GET', `/events/${ids.workshop}`)
      return e.admitted && e.booked && e.requests[0].status === 'confirmed'
    })
    const page = ben.page
    await go(ben, `#/festivals/${ids.fest}`)
    await expectText(page.locator('.ticket-rule'), /You hold a ticket: you may organise here\./, 'Ben holds a ticket')
    await shot(ben, 'festival-admitted')
    await go(ben, `#/festivals/${ids.fest}/programme?view=list`)
    await expectText(page.getByRole('main'), /Bike workshop/, 'the workshop on the programme page', SYNC_TIMEOUT_MS)
    if (await page.getByText(/applies to organise/).count()) fail('the application is on the programme page')
    await shot(ben, 'programme-with-workshop')
  })

  await step('Ana releases the ticket on her festival page: the workshop leaves the programme, live', async () => {
    const page = ana.page
    await go(ana, `#/festivals/${ids.fest}`)
    await page.getByRole('heading', { name: 'Holding a ticket (1)' }).waitFor()
    const holder = page.getByRole('list', { name: 'People holding a ticket' }).getByRole('listitem', { name: 'Ben' })
    await shot(ana, 'festival-holders')
    await holder.getByRole('button', { name: 'Release the ticket' }).click()
    await expectText(
      page.getByRole('list', { name: 'People waiting for admission' }).getByRole('listitem', { name: 'Ben' }),
      /Their ticket was taken back; they may apply again\..*1 event waiting: Bike workshop/,
      'Ben waiting again',
    )
    // Ben's programme page is still open: the workshop goes without a reload.
    const end = Date.now() + SYNC_TIMEOUT_MS
    while (await ben.page.getByText('Bike workshop').count()) {
      if (Date.now() > end) fail('the workshop is still on the programme page after the ticket was released')
      await sleep(150)
    }
    const programme = await ben.call('GET', `/festivals/${ids.fest}/programme`)
    if (programme.events.length) fail(`the programme still has: ${programme.events.map((e) => e.title)}`)
    await shot(ben, 'programme-after-release')
    await go(ben, `#/festivals/${ids.fest}`)
    const box = ben.page.getByRole('region', { name: 'This festival requires a ticket to organise or provide resources' })
    await expectText(box.getByRole('status', { name: 'Your application' }), 'Ticket taken back', 'the ticket taken back')
    await shot(ben, 'festival-ticket-taken-back')
  })

  await step("Ben's festival page in German, and the new parts on a phone", async () => {
    const page = ben.page
    await page.getByRole('combobox', { name: 'Language' }).selectOption('de')
    await expectText(
      page.getByRole('region', { name: 'Dieses Festival verlangt ein Ticket, um zu organisieren oder Ressourcen anzubieten' }),
      /Ticket zurückgenommen.*Erneut beantragen/,
      'the German page',
    )
    await shot(ben, 'de-festival-apply')
    await go(ben, `#/events/${ids.workshop}`)
    await expectText(page.getByRole('heading', { level: 1 }), 'Wartet auf Zulassung', 'the German badge')
    await shot(ben, 'de-event-waiting')
    await page.getByRole('combobox', { name: 'Sprache' }).selectOption('en')
    for (const who of [ana, ben]) await who.page.setViewportSize({ width: 390, height: 844 })
    await go(ben, `#/festivals/${ids.fest}`)
    await ben.page.getByRole('region', { name: /requires a ticket/ }).waitFor()
    await shot(ben, 'phone-festival-apply')
    await go(ana, `#/festivals/${ids.fest}`)
    await ana.page.getByRole('list', { name: 'People waiting for admission' }).waitFor()
    await shot(ana, 'phone-festival-waiting')
    await go(ben, `#/festivals/${ids.fest}/events`)
    await ben.page.locator('.events').waitFor()
    await shot(ben, 'phone-events-waiting')
  })
}
