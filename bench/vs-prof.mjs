import { readFileSync } from 'node:fs'
import * as Y from 'yjs'
import { CollectionModel } from '@apisync/model'
const bytes = readFileSync('/tmp/vs/state-10000.bin')
const mode = process.argv[2]
const t = () => performance.now()
for (let i = 0; i < 3; i++) {
  const t0 = t()
  const doc = new Y.Doc({ gc: false })
  Y.applyUpdate(doc, bytes)
  const t1 = t()
  let t2
  if (mode === 'raw') { doc.getMap('items').toJSON(); doc.getMap('responses').toJSON(); doc.getMap('meta').toJSON(); t2 = t() }
  else { const m = CollectionModel.open(doc, { readOnly: true }); m.snapshot(); t2 = t() }
  console.log(mode, 'apply', (t1 - t0).toFixed(0), 'read', (t2 - t1).toFixed(0))
}
