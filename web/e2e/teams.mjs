#!/usr/bin/env node
// End-to-end test of planning together (issue 14): bundles that are all or nothing, and a
// collective whose members vote. Five real nodes (`pandafest serve`, each its own data
// directory, on 127.0.0.1), each person in a browser context of their own (own storage, own
// token), in Debian's headless Chromium through playwright-core.
//
//   cargo build -p pandafest && (cd web && npm run build)
//   cd web && npm run e2e:teams       # or: PANDAFEST_BIN=/path/to/pandafest node e2e/teams.mjs
//
// Step by step (each step fails on its own):
//   Olga starts "Riverside" (Europe/Berlin); Ana, Ben, Cleo and the collective "Kollektiv" join
//   it by an invite link and sync live. Ana shares the Main stage (automatic) and the PA, which
//   needs Ben's Sound engineer. (a) Olga plans a concert in her browser with the stage and the
//   PA: the form says that the PA needs the sound engineer, who is requested too, all or
//   nothing. Ana's node confirms the stage; Ben denies the engineer in his browser; Olga's event
//   page then shows the stage and the PA withdrawn by her node, and Ana's node releases the
//   stage. (b) The collective's browser makes its key a collective of Ana, Ben and Cleo deciding
//   by majority; it shares a cargo van decided by its members; Olga asks for the van. Each
//   member votes in their own browser: Ana yes, Ben no (saying why), Cleo yes: the second yes
//   confirms, and Olga's event page shows the tally. (c) Ana's ten bikes (ten at a time): with
//   bookings on them, the timeline says how many are left piece by piece, and Olga's new-event
//   form "Free: 7 of 10 left". The pages with the new parts are photographed on a phone too.
// Screenshots go to test-output/teams/ (their paths are printed).
//
// Env: PANDAFEST_BIN, CHROMIUM, E2E_KEEP=1 (see peer-lib.mjs).
// Exits non-zero with the failed step, on page errors and console errors, on API answers
// ≥ 400 to a script's calls, and on warnings or errors logged by the nodes.

import { expectText, fail } from './peer-lib.mjs'
import { SYNC_TIMEOUT_MS, TZ, scene } from './scene-lib.mjs'

const { step, shot, until, person, launch, openBrowser, go, run } = scene('teams')

await run(main)

async function main() {
  const ids = {}
  let olga, ana, ben, cleo, kollektiv

  await step('five nodes start; Olga starts Riverside and the others join it by an invite link', async () => {
    ;[olga, ana, ben, cleo, kollektiv] = await Promise.all(
      ['Olga', 'Ana', 'Ben', 'Cleo', 'Kollektiv'].map((name) => person(name)),
    )
    await launch()
    const fest = await olga.call('POST', '/festivals', {
      name: 'Riverside',
      timezone: TZ,
      start: '2027-07-01T10:00',
      end: '2027-07-03T23:00',
    })
    ids.fest = fest.id
    const { link } = await olga.call('GET', `/festivals/${fest.id}/invite`)
    for (const who of [ana, ben, cleo, kollektiv]) await who.call('POST', '/join', { link })
    await Promise.all(
      [ana, ben, cleo, kollektiv].map((who) =>
        until(`Riverside on ${who.display}'s node`, async () => (await who.call('GET', '/festivals')).some((f) => f.id === fest.id)),
      ),
    )
  })

  await step("Ana shares the stage (automatic) and the PA, which needs Ben's sound engineer", async () => {
    ids.engineer = (await ben.call('POST', `/festivals/${ids.fest}/resources`, { name: 'Sound engineer', kind: 'skill', policy: 'manual' })).id
    ids.stage = (await ana.call('POST', `/festivals/${ids.fest}/resources`, { name: 'Main stage', kind: 'location', policy: 'fcfs' })).id
    await until("the sound engineer on Ana's node", async () => (await ana.call('GET', `/resources/${ids.engineer}`)).id)
    const pa = await ana.call('POST', `/festivals/${ids.fest}/resources`, { name: 'PA', kind: 'thing', policy: 'manual', needs: [ids.engineer] })
    ids.pa = pa.id
    if (JSON.stringify(pa.needs) !== JSON.stringify([ids.engineer])) fail(`the PA's needs: ${JSON.stringify(pa.needs)}`)
    await until("the PA on Olga's node", async () => (await olga.call('GET', `/resources/${ids.pa}`)).needs.length === 1)
  })

  await step('(a) Olga plans a concert with the stage and the PA: the form adds the sound engineer, all or nothing', async () => {
    await Promise.all([olga, ben].map(openBrowser))
    const page = olga.page
    await go(olga, `#/festivals/${ids.fest}/events/new?start=2027-07-02T16:00:00Z&end=2027-07-02T18:00:00Z`)
    await page.getByLabel('Title').fill('Evening concert')
    await page.getByRole('checkbox', { name: /Main stage/ }).check()
    await page.getByRole('checkbox', { name: /^PA/ }).check()
    await expectText(page.locator('.needs-note'), 'PA needs Sound engineer: it will be requested too, all or nothing.', 'the needs note')
    await expectText(
      page.getByRole('checkbox', { name: /Sound engineer/ }).locator('xpath=ancestor::li'),
      /requested too: PA needs it/,
      "the engineer's row",
    )
    const aon = page.getByRole('checkbox', { name: 'All or nothing' })
    if (!(await aon.isChecked()) || !(await aon.isDisabled())) fail('"All or nothing" should be checked and fixed')
    await expectText(page.getByRole('status').first(), /All 3 chosen resources are free\./, 'the summary')
    await shot(olga, 'new-event-needs')
    await page.getByRole('button', { name: 'Create event and send 3 requests' }).click()
    await page.getByRole('heading', { level: 1, name: /Evening concert/ }).waitFor()
    ids.concert = page.url().split('/events/')[1]
    // The stage is automatic: Ana's node confirms it once the request arrives.
    await expectText(
      page.getByRole('status', { name: 'How far the event is booked' }),
      '1 of 3 confirmed — all or nothing: booked only when all are confirmed',
      "the stage confirmed by Ana's node",
      SYNC_TIMEOUT_MS,
    )
    await shot(olga, 'event-1-of-3')
  })

  await step("(a) Ben denies the sound engineer in his browser; Olga's node withdraws the stage and the PA", async () => {
    const page = ben.page
    await go(ben, '#/inbox')
    const card = page.getByRole('listitem', { name: 'Evening concert: Sound engineer' })
    await card.waitFor({ timeout: SYNC_TIMEOUT_MS })
    await card.getByRole('button', { name: 'Deny…' }).click()
    await card.getByLabel(/Reason/).fill('I mix the other stage that night')
    await shot(ben, 'inbox-deny')
    await card.getByRole('button', { name: 'Deny', exact: true }).click()
    await expectText(page.getByRole('main'), /Nothing is waiting for you/, "Ben's inbox after the deny")

    const olgaPage = olga.page
    await expectText(
      olgaPage.locator('.bundle'),
      'Sound engineer: Denied. All or nothing: the other requests were withdrawn.',
      "Olga's event after the deny",
      SYNC_TIMEOUT_MS,
    )
    for (const name of ['Main stage', 'PA']) {
      await expectText(olgaPage.getByRole('listitem', { name: `Evening concert: ${name}` }), /Withdrawn/, `${name} withdrawn`)
    }
    await expectText(olgaPage.getByRole('listitem', { name: 'Evening concert: Sound engineer' }), /Reason: I mix the other stage that night/, 'the reason')
    await until("Ana's node releases the stage", async () => {
      const e = await ana.call('GET', `/events/${ids.concert}`)
      return e.requests.every((q) => !q.holds_slot) && e.requests.map((q) => q.status).join(',') === 'withdrawn,withdrawn,denied'
    })
    await shot(olga, 'event-withdrawn')
  })

  await step("(b) the collective's browser makes its key a collective of Ana, Ben and Cleo, by majority", async () => {
    await openBrowser(kollektiv)
    const page = kollektiv.page
    await go(kollektiv, `#/festivals/${ids.fest}/collective`)
    const form = page.getByRole('form', { name: "Make this node's key a collective" })
    await form.waitFor()
    const keys = {}
    for (const who of [ana, ben, cleo]) {
      keys[who.name] = (await who.call('GET', '/identity')).public_key
      await form.getByLabel("A member's public key").fill(keys[who.name])
      await form.getByRole('button', { name: 'Add', exact: true }).click()
    }
    const members = form.getByRole('list', { name: 'Members' })
    // Ana and Ben share resources here, so their names are known; Cleo has written nothing yet.
    await expectText(members, new RegExp(`Ana ${keys.ana.slice(0, 8)}….*Ben ${keys.ben.slice(0, 8)}….*someone ${keys.cleo.slice(0, 8)}…`), 'the members')
    await form.getByRole('radio', { name: 'When a majority says yes' }).check()
    await form.getByRole('button', { name: 'Make it a collective' }).click()
    await expectText(
      form.getByRole('status'),
      'Saved: your key is a collective of 3 members; a request is confirmed with a majority (2 of 3).',
      'the saved collective',
    )
    await expectText(page.getByRole('listitem', { name: 'Kollektiv (you)' }), /3 members; a request is confirmed with a majority \(2 of 3\)/, 'the list')
    await shot(kollektiv, 'collective-tab')
    ids.van = (await kollektiv.call('POST', `/festivals/${ids.fest}/resources`, { name: 'Cargo van', kind: 'thing', policy: 'collective' })).id
    await until("the van on Olga's node", async () => (await olga.call('GET', `/resources/${ids.van}`)).id)
    const run = await olga.call('POST', `/festivals/${ids.fest}/events`, {
      title: 'Market run',
      start: '2027-07-01T08:00',
      end: '2027-07-01T10:00',
      requests: [{ resource: ids.van }],
    })
    ids.run = run.id
    ids.runRequest = run.requests[0].id
  })

  await step('(b) each member votes in their own browser: Ana yes, Ben no, Cleo yes: the second yes confirms', async () => {
    await Promise.all([ana, cleo].map(openBrowser))
    const card = (who) => who.page.getByRole('listitem', { name: 'Market run: Cargo van' })
    for (const who of [ana, ben, cleo]) await go(who, '#/inbox')

    await card(ana).waitFor({ timeout: SYNC_TIMEOUT_MS })
    await expectText(card(ana), /Waiting for your vote.*0 of 2 yes votes needed — no votes yet/, "Ana's card")
    if (await card(ana).getByRole('button', { name: 'Confirm', exact: true }).count()) fail('a member who is not the owner has a Confirm button')
    await card(ana).getByRole('button', { name: 'Vote yes' }).click()
    await expectText(card(ana), /You voted yes\./, "Ana's vote")
    await shot(ana, 'inbox-voted-yes')

    await expectText(card(ben), /1 of 2 yes votes needed — Ana: yes/, "Ana's vote in Ben's inbox", SYNC_TIMEOUT_MS)
    await card(ben).getByRole('button', { name: 'Vote no…' }).click()
    await card(ben).getByLabel('Why not? (optional, everyone sees it)').fill('the van needs new tyres first')
    await card(ben).getByRole('button', { name: 'Vote no', exact: true }).click()
    await expectText(card(ben), /You voted no\./, "Ben's vote")
    await shot(ben, 'inbox-voted-no')

    await expectText(
      card(cleo),
      /1 of 2 yes votes needed — Ana: yes, Ben: no \(the van needs new tyres first\)/,
      "the votes in Cleo's inbox",
      SYNC_TIMEOUT_MS,
    )
    await shot(cleo, 'inbox-before-vote')
    await card(cleo).getByRole('button', { name: 'Vote yes' }).click()
    await until("the collective's node confirms the van", async () => {
      const q = await olga.call('GET', `/requests/${ids.runRequest}`)
      return q.status === 'confirmed' ? q : null
    })
  })

  await step("(b) Olga's event shows the van confirmed, with the tally", async () => {
    await go(olga, `#/events/${ids.run}`)
    const card = olga.page.getByRole('listitem', { name: 'Market run: Cargo van' })
    await expectText(card, /Confirmed/, 'the van confirmed', SYNC_TIMEOUT_MS)
    await expectText(
      card,
      /2 of 2 yes votes needed — (Ana: yes, Cleo: yes|Cleo: yes, Ana: yes), Ben: no \(the van needs new tyres first\) · the members said yes/,
      'the tally on the event page',
    )
    await expectText(olga.page.getByRole('status', { name: 'How far the event is booked' }), /1 of 1 confirmed Booked: it is in the programme\./, 'booked')
    await shot(olga, 'event-van-confirmed')
    // And the collective's own inbox shows it decided.
    await go(kollektiv, '#/inbox')
    await kollektiv.page.getByLabel('Show').selectOption('all')
    await expectText(kollektiv.page.getByRole('listitem', { name: 'Market run: Cargo van' }), /Confirmed.*the members said yes/, "the collective's inbox")
    await shot(kollektiv, 'inbox-decided')
  })

  await step('(c) ten bikes, ten at a time: how many are left, on the timeline and in the new-event form', async () => {
    const bikes = await ana.call('POST', `/festivals/${ids.fest}/resources`, { name: 'Bikes', kind: 'thing', policy: 'fcfs', capacity: 10 })
    ids.bikes = bikes.id
    await until("the bikes on Olga's node", async () => (await olga.call('GET', `/resources/${ids.bikes}`)).capacity === 10)
    // Olga's rides, confirmed at once by Ana's node: three overlap 14:00–15:00, one goes on.
    for (const [title, start, end] of [
      ['Ride to the lake', '2027-07-02T12:00', '2027-07-02T15:00'],
      ['Bike tour', '2027-07-02T13:00', '2027-07-02T16:00'],
      ['Repair run', '2027-07-02T14:00', '2027-07-02T15:00'],
    ]) {
      const e = await olga.call('POST', `/festivals/${ids.fest}/events`, { title, start, end, requests: [{ resource: ids.bikes }] })
      await until(`${title} confirmed`, async () => (await olga.call('GET', `/requests/${e.requests[0].id}`)).status === 'confirmed')
    }
    const page = olga.page
    await go(olga, `#/resources/${ids.bikes}`)
    await expectText(page.getByRole('main'), /How many at once\s*10 at a time/, "the bikes' facts")
    const track = page.getByRole('list', { name: 'Bikes, Fri 2 Jul' })
    await expectText(track, /9 of 10 left.*8 of 10 left.*7 of 10 left/, 'the pieces of Friday')
    await shot(olga, 'resource-bikes')
    await go(olga, `#/festivals/${ids.fest}/events/new?start=2027-07-02T12:00:00Z&end=2027-07-02T13:00:00Z&resource=${ids.bikes}`)
    await expectText(page.getByRole('checkbox', { name: /Bikes/ }).locator('xpath=ancestor::li'), /✓ Free: 7 of 10 left/, 'the check')
    await shot(olga, 'new-event-bikes')
  })

  await step('the new parts on a phone', async () => {
    for (const who of [olga, ana, kollektiv]) await who.page.setViewportSize({ width: 390, height: 844 })
    await go(olga, `#/events/${ids.concert}`)
    await expectText(olga.page.getByRole('status', { name: 'How far the event is booked' }), /Not booked/, 'the broken bundle')
    await shot(olga, 'phone-event-withdrawn')
    await go(ana, '#/inbox')
    await ana.page.getByLabel('Show').selectOption('all')
    await expectText(ana.page.getByRole('listitem', { name: 'Market run: Cargo van' }), /the members said yes/, "Ana's inbox")
    await shot(ana, 'phone-inbox-votes')
    await go(kollektiv, `#/festivals/${ids.fest}/collective`)
    await expectText(kollektiv.page.getByRole('listitem', { name: 'Kollektiv (you)' }), /3 members/, 'the collective tab')
    await shot(kollektiv, 'phone-collective-tab')
    await go(olga, `#/resources/${ids.bikes}`)
    await expectText(olga.page.getByRole('list', { name: 'Bikes, Fri 2 Jul' }), /7 of 10 left/, 'the bikes')
    await shot(olga, 'phone-resource-bikes')
  })
}
