/** Every corpus file: import, then export, gives the input back (key order aside). */
import type { ItemSnapshot } from '@apisync/model'
import { RunsModel } from '@apisync/model'
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
import { corpus, expectSameJson, readJson, readText } from './fixtures.js'

const countRequests = (items: readonly ItemSnapshot[]): number =>
  items.reduce((n, i) => n + (i.kind === 'request' ? 1 : countRequests(i.items)), 0)

describe('corpus round trip', () => {
  it('has the 28 files of the corpus', () => {
    expect(corpus).toHaveLength(28)
  })

  for (const entry of corpus.filter((e) => e.kind.startsWith('collection'))) {
    it(`${entry.kind}: ${entry.file}`, () => {
      const text = readText(entry.file)
      const model = importCollection(text)
      expect(countRequests(model.snapshot().items)).toBe(entry.requests)
      expectSameJson(exportCollection(model), readJson(entry.file))
    })
  }

  for (const entry of corpus.filter((e) => e.kind === 'environment')) {
    it(`environment: ${entry.file}`, () => {
      const model = importEnvironment(readText(entry.file))
      expectSameJson(exportEnvironment(model), readJson(entry.file))
    })
  }

  for (const entry of corpus.filter((e) => e.kind === 'globals')) {
    it(`globals: ${entry.file}`, () => {
      const model = importGlobals(readText(entry.file))
      expectSameJson(exportGlobals(model), readJson(entry.file))
    })
  }

  for (const entry of corpus.filter((e) => e.kind === 'newman-report')) {
    it(`newman report: ${entry.file}`, () => {
      const report = readJson(entry.file) as { collection: object; environment: object; globals: object; run: { executions: unknown[] } }
      // The report's collection, environment and globals are Postman files of their own.
      const collection = importCollection(report.collection as never)
      expectSameJson(exportCollection(collection), report.collection)
      expectSameJson(exportEnvironment(importEnvironment(report.environment as never)), report.environment)
      expectSameJson(exportGlobals(importGlobals(report.globals as never)), report.globals)
      // Its run becomes a run result, with executions matched to the imported collection's requests.
      const runs = RunsModel.open(new Y.Doc())
      const result = importNewmanReport(readText(entry.file), runs, { collection })
      expect(runs.snapshot().runs).toEqual([result])
      expect(result.collectionId).toBe(collection.id)
      expect(result.startedAt).toBe(1472134919325)
      expect(result.finishedAt).toBe(1472134922455)
      expect(result.totals).toEqual({ requests: 3, failedRequests: 0, assertions: 1, failedAssertions: 0 })
      const requests = new Map<string, string>()
      const visit = (items: readonly ItemSnapshot[]) =>
        items.forEach((i) => (i.kind === 'folder' ? visit(i.items) : requests.set(i.name, i.id)))
      visit(collection.snapshot().items)
      expect(result.executions.map((e) => [e.name, e.requestId, e.code, e.status])).toEqual(
        report.run.executions.map((e) => {
          const x = e as { item: { name: string }; response: { code: number; status: string } }
          return [x.item.name, requests.get(x.item.name), x.response.code, x.response.status]
        }),
      )
      expect(result.executions[0]).toMatchObject({
        time: 1965,
        size: 311,
        assertions: [{ name: 'response code is 200', passed: true, error: null }],
        extra: { method: 'GET', url: 'https://postman-echo.com/get?source=newman-sample-github-collection', iteration: 0 },
      })
      expect(result.environmentName).toBeNull()
    })
  }
})
