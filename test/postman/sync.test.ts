/**
 * Through Yjs: a Postman file imported on one replica exports the same on another replica that received it as
 * a Yjs update (the relay only carries such updates), and run results sync the same way.
 */
import { readFileSync } from 'node:fs'
import { isDeepStrictEqual } from 'node:util'
import { CollectionModel, EnvironmentModel, RunsModel } from '@apisync/model'
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import {
  exportCollection,
  exportEnvironment,
  exportGlobals,
  importCollection,
  importEnvironment,
  importGlobals,
  importNewmanReport,
} from '@apisync/postman'

const dir = new URL('../fixtures/postman/', import.meta.url)
const manifest = readFileSync(new URL('MANIFEST.tsv', dir), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split('\t'))
  .map((c) => ({ file: c[0]!, kind: c[5]! }))
const text = (file: string) => readFileSync(new URL(file, dir), 'utf8')
const json = (file: string) => JSON.parse(text(file).replace(/^\uFEFF/, ''))

/** A fresh replica that received everything `doc` holds, as one update. */
const replicaOf = (doc: Y.Doc): Y.Doc => {
  const replica = new Y.Doc()
  Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc))
  return replica
}
const same = (actual: unknown, expected: unknown) => {
  if (!isDeepStrictEqual(actual, expected)) expect(actual).toEqual(expected)
  expect(isDeepStrictEqual(actual, expected)).toBe(true)
}

describe('import on one replica, export on another', () => {
  for (const { file, kind } of manifest) {
    it(`${kind}: ${file}`, () => {
      const doc = new Y.Doc()
      if (kind.startsWith('collection')) {
        importCollection(text(file), { doc })
        const there = CollectionModel.open(replicaOf(doc))
        expect(there.snapshot().problems).toEqual([])
        same(exportCollection(there), json(file))
      } else if (kind === 'environment') {
        importEnvironment(text(file), { doc })
        same(exportEnvironment(EnvironmentModel.open(replicaOf(doc))), json(file))
      } else if (kind === 'globals') {
        importGlobals(text(file), { doc })
        same(exportGlobals(EnvironmentModel.openGlobals(replicaOf(doc))), json(file))
      } else {
        const report = json(file)
        importCollection(report.collection, { doc })
        const collection = CollectionModel.open(replicaOf(doc))
        same(exportCollection(collection), report.collection)
        // The run result, written on one replica, reads the same on another.
        const runsDoc = new Y.Doc()
        const result = importNewmanReport(text(file), RunsModel.open(runsDoc), { collection })
        expect(result.executions.every((e) => e.requestId !== null)).toBe(true)
        same(RunsModel.open(replicaOf(runsDoc)).snapshot().runs, [result])
      }
    })
  }

  it('concurrent edits on two replicas of an import export the same on both', () => {
    const file = 'postmanlabs__postman-collection__collection-v2.json'
    const a = new Y.Doc()
    importCollection(text(file), { doc: a })
    const b = replicaOf(a)
    const ma = CollectionModel.open(a)
    const mb = CollectionModel.open(b)
    const first = ma.snapshot().items[0]!
    ma.updateItem(first.id, { name: 'renamed on A' })
    mb.editText(first.id, 'description', 0, 0, 'B: ')
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
    const out = exportCollection(ma) as { item: { name: string; description: { content: string } }[] }
    same(exportCollection(mb), out)
    expect(out.item[0]!.name).toBe('renamed on A')
    expect(out.item[0]!.description.content.startsWith('B: ')).toBe(true)
  })
})
