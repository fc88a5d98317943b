/**
 * The demo with a big collection, in Chromium: the 1,077-request corpus collection (test/fixtures/postman,
 * Sabre's Booking Management API: 196 folders, 1,274 tree rows) fully expanded. Measured with performance
 * marks in the page, and printed (timings are not asserted here: the machine is shared; `npm run bench`
 * records them, see bench/client.ts):
 *   - a keystroke in the URL field: its input handling (model write) plus the render it causes, and the time
 *     to the next frame;
 *   - expanding a folder: the click plus the render;
 *   - opening the collection (selecting it collapsed: it expands with every folder open, and its page shows);
 *   - a cold start: reload to the tree on screen, from IndexedDB.
 * Goals (issue #12): keystroke ≤ 16 ms, expand ≤ 16 ms, open ≤ 300 ms.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type Device, FIXTURES, type Site, available, device, required, signIn, site, treeItem } from './helpers.js'
import { type PerfFigures, measureBigCollection } from './perf-measure.js'

const run = available || required
let web: Site
let d: Device

beforeAll(async () => {
  if (!run) return
  web = await site()
}, 180_000)

afterAll(async () => {
  await d?.close()
  await web?.close()
})

describe.skipIf(!run)('the demo with the 1,077-request corpus collection', () => {
  test('keystroke, folder expansion and opening the collection, measured in Chromium', async () => {
    d = await device(web.url, 'perf')
    await signIn(d, 'Perf', 'Laptop')
    await d.inState('in-sync')
    const figures: PerfFigures = await measureBigCollection(d, join(FIXTURES, 'SabreDevStudio__postman-collections__Booking_Management_API_v2026.04.postman_collection.json'))
    console.log(
      [
        '\n  big collection (1,274 rows, fully expanded), Chromium:',
        `    keystroke in the URL field: work p50 ${figures.keystroke.p50.toFixed(1)} ms, p95 ${figures.keystroke.p95.toFixed(1)} ms (goal ≤ 16); to the next frame p50 ${figures.keystrokeFrame.p50.toFixed(1)} ms`,
        `    expanding a folder: p50 ${figures.expand.p50.toFixed(1)} ms, p95 ${figures.expand.p95.toFixed(1)} ms (goal ≤ 16)`,
        `    opening the collection: p50 ${figures.open.p50.toFixed(1)} ms, max ${figures.open.max.toFixed(1)} ms (goal ≤ 300)`,
        `    cold start to the tree on screen: ${figures.coldStart.toFixed(0)} ms; rows built per render: ${figures.rowsBuilt} of ${figures.rows}`,
      ].join('\n'),
    )
    // What must hold whatever the machine: the tree has every row, and builds only those in view.
    expect(figures.rows).toBe(1274)
    expect(figures.rowsBuilt).toBeLessThan(120)
    await treeItem(d.page, 'Booking Management API v2026.04').waitFor()
    await d.shot('20-big-collection')
    expect(d.errors).toEqual([])
  }, 240_000)
})
