import { readFileSync } from 'node:fs'
import * as Y from 'yjs'
import { CollectionModel } from '@apisync/model'
import { exportCollection, importCollection } from '@apisync/postman'
const text = readFileSync('/work/main/test/fixtures/postman/SabreDevStudio__postman-collections__Booking_Management_API_v2026.04.postman_collection.json', 'utf8')
for (let round = 0; round < 4; round++) {
  let t = performance.now()
  const marks: Record<string, number> = {}
  const m = importCollection(text, { onProgress: (p) => { if (p.done === 0) marks[p.phase + '0'] = performance.now() - t; if (p.done === p.total) marks[p.phase + 'end'] = performance.now() - t } })
  const imp = performance.now() - t
  t = performance.now(); const snap = m.snapshot(); const s = performance.now() - t
  t = performance.now(); const out = exportCollection(snap); const e = performance.now() - t
  t = performance.now(); JSON.parse(text); const jp = performance.now() - t
  t = performance.now(); JSON.stringify(out); const js = performance.now() - t
  console.log(`import ${imp.toFixed(0)} (${JSON.stringify(Object.fromEntries(Object.entries(marks).map(([k, v]) => [k, Math.round(v)])))}) snapshot ${s.toFixed(0)} export ${e.toFixed(0)} | parse ${jp.toFixed(0)} stringify ${js.toFixed(0)}`)
}
