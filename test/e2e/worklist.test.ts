/**
 * End to end (issue 18): the review worklist in the built viewer, headless Chromium against the
 * real `volseg serve --cohort` over a cohort planned, segmented and reported by the real CLI
 * (threshold test pack). The Worklist panel lists the cases in the report's order; the worst case
 * opens with its mask as labels; its label is accepted and saved; Next; the next case's label is
 * rejected with a reason and saved; Next; the last case is edited with the brush, leaving it asks
 * first, then it is saved as edited. The report (JSON, CSV, HTML) is then read in Node.
 * Screenshots go to test/e2e/artifacts/worklist-*.png.
 *
 * Run: node --import tsx --test test/e2e/worklist.test.ts (needs `npm run build`).
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import type { CohortReport } from '../../src/shared/cohort-report.js'
import { makeSmallCohort } from '../cohort-fixture.js'
import {
  ARTIFACTS,
  REPO,
  buildRenderer,
  ensureArtifacts,
  launch,
  openAndWait,
  startServer,
  type Server,
  type Session,
  openViewer,
} from './harness.js'

let server: Server
let session: Session
let page: Page
let cohort: string
let order: string[]
const modelSha = new Map<string, string>()

const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T
const sha256 = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex')
const shot = async (name: string): Promise<void> => {
  await page.waitForTimeout(300)
  await page.screenshot({ path: join(ARTIFACTS, `worklist-${name}.png`) })
}

before(async () => {
  if (!existsSync(join(REPO, 'dist', 'cli', 'serve.js'))) {
    throw new Error('dist/cli/serve.js missing: run "npm run build" first (volseg serve)')
  }
  await buildRenderer()
  await ensureArtifacts()
  const root = mkdtempSync(join(tmpdir(), 'volseg-e2e-worklist-'))
  const env = { ...process.env, VOLSEG_HOME: join(root, 'home'), VOLSEG_MODELS: '' }
  const made = makeSmallCohort(root, env, false)
  cohort = made.cohort
  order = readJson<CohortReport>(join(cohort, 'report.json')).cases.map((c) => c.id)
  for (const id of order) modelSha.set(id, sha256(join(cohort, 'masks', `${id}_seg.nii.gz`)))
  server = await startServer(made.data, join(root, 'out'), join(root, 'recovery'), [
    '--cohort',
    cohort,
  ])
  session = await launch()
  page = session.page
  await openViewer(page, server.url, '?bench')
})

after(async () => {
  await session?.browser.close()
  await server?.stop()
})

/** Opens case `id` by `start` (a click or key) and waits for its image and its label. */
async function openCase(id: string, start: () => Promise<void>): Promise<void> {
  await openAndWait(page, id, start)
  await page.waitForSelector(`.worklist li.current[data-case-id="${id}"]`)
  await page.waitForSelector('.edit-label-row[data-value="1"]')
}

/** Saves (S) and waits for the save line and the row's new state. */
async function saveCase(id: string, state: string, reviewed: number): Promise<void> {
  await page.keyboard.press('s')
  await page.waitForSelector(`.notices :text("Saved to cohort/masks/${id}_seg-1.nii.gz")`, {
    timeout: 60_000,
  })
  await page.waitForSelector(`.worklist button.case[data-case-id="${id}"][data-review="${state}"]`)
  await page.waitForSelector(`.worklist-progress:text-is("${reviewed} of 3 cases reviewed")`)
}

test('the worklist lists the cases in report order; review three cases, one by one', async () => {
  await page.waitForSelector('.worklist-panel:not([hidden]) .worklist li', { timeout: 60_000 })
  const shown = await page.$$eval('.worklist li', (els) =>
    els.map((e) => (e as unknown as { dataset: { caseId: string } }).dataset.caseId),
  )
  assert.deepEqual(shown, order, 'the report order')
  assert.equal(order.length, 3)
  assert.equal(order[0], 'z-qs', 'worst QC first: the geometry flag')
  assert.equal(await page.textContent('.worklist-progress'), '0 of 3 cases reviewed')
  assert.match((await page.textContent('.worklist li:first-child .qc-chips')) ?? '', /geometry/)
  assert.equal(await page.textContent('.volume-info'), 'no image open', 'no sample in a cohort')
  await shot('01-worklist')

  // The worst case: its image and the model's mask as labels, all pending.
  await openCase(order[0]!, () => page.click('.worklist li:first-child button.case'))
  await page.waitForSelector('.review-progress:text-is("0 of 1 labels reviewed")')
  // Named as the cohort's model names it (the report's labels), not "label 1".
  assert.equal(
    await page.inputValue('.edit-label-row[data-value="1"] input.label-name'),
    'above-mean',
  )
  await shot('02-worst-case')
  await page.keyboard.press('n')
  await page.keyboard.press('y')
  await page.waitForSelector('.edit-label-row[data-value="1"] .review-accepted')
  await saveCase(order[0]!, 'accepted', 1)
  await shot('03-accepted-saved')

  // Next case: reject its label with a reason.
  await openCase(order[1]!, () => page.click('button.next-case'))
  await page.keyboard.press('x')
  await page.waitForSelector('input.reject-reason:focus')
  await page.keyboard.type('mask leaks into the scalp')
  await page.keyboard.press('Enter')
  await page.waitForSelector('.edit-label-row[data-value="1"] .review-rejected')
  await saveCase(order[1]!, 'rejected', 2)
  await shot('04-rejected-saved')

  // Next case by key: an eraser stroke edits the label; leaving asks first.
  await openCase(order[2]!, () => page.keyboard.press('.'))
  await page.keyboard.press('e')
  const box = (await page.locator('[data-view=axial]').boundingBox())!
  const cx = box.x + box.width / 2
  const cy = box.y + box.height / 2
  await page.mouse.move(cx - 40, cy - 40)
  await page.mouse.down()
  for (let x = 0; x <= 80; x += 8) await page.mouse.move(cx - 40 + x, cy - 40)
  await page.mouse.up()
  await page.keyboard.press('Escape')
  await page.waitForSelector('.edit-label-row[data-value="1"] .review-edited')
  const asked: string[] = []
  page.once('dialog', (d) => {
    asked.push(d.message())
    void d.dismiss()
  })
  await page.click('button.previous-case')
  await page.waitForTimeout(500)
  assert.equal(asked.length, 1, 'asked once')
  assert.match(asked[0]!, /has unsaved edits\. Open case .+ without saving them\?$/)
  assert.equal(
    await page.getAttribute('.worklist li.current', 'data-case-id'),
    order[2],
    'still on the edited case',
  )
  await shot('05-unsaved-asks')
  await saveCase(order[2]!, 'edited', 3)
  await shot('06-all-reviewed')
  assert.deepEqual(session.blocked, [], 'no request left the machine')
})

test('the cohort report carries each case’s state; the model’s masks are untouched', () => {
  const rep = readJson<CohortReport>(join(cohort, 'report.json'))
  const state = new Map(rep.cases.map((c) => [c.id, c.review]))
  assert.equal(state.get(order[0]!)?.status, 'accepted')
  assert.equal(state.get(order[1]!)?.status, 'rejected')
  assert.deepEqual(state.get(order[1]!)?.reasons, ['mask leaks into the scalp'])
  assert.equal(state.get(order[2]!)?.status, 'edited')
  for (const id of order) {
    assert.equal(state.get(id)?.file, `masks/${id}_seg-1.review.json`)
    assert.equal(sha256(join(cohort, 'masks', `${id}_seg.nii.gz`)), modelSha.get(id), id)
    assert.ok(existsSync(join(cohort, 'masks', `${id}_seg-1.nii.gz`)), id)
  }
  const csv = readFileSync(join(cohort, 'report.csv'), 'utf8')
  for (const [n, st] of ['accepted', 'rejected', 'edited'].entries()) {
    assert.match(csv, new RegExp(`\\n${order[n]!.replace('-', '\\-')},ok,.*,${st},masks/`))
  }
  const html = readFileSync(join(cohort, 'report.html'), 'utf8')
  assert.equal([...html.matchAll(/data:image\/png;base64,/g)].length, 3, 'montage kept')
  assert.ok(html.includes('<td data-v="rejected">rejected</td>'))
})
