import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { RunsModel, type RunResult } from '@apisync/model'
import { docs, expectRefused, fork, syncAll } from './helpers.js'

const run = (id: string, over: Partial<RunResult> = {}): RunResult => ({
  id,
  collectionId: 'col-1',
  environmentName: 'Staging',
  startedAt: 1_700_000_000_000,
  finishedAt: 1_700_000_001_234,
  totals: { requests: 2, failedRequests: 1, assertions: 3, failedAssertions: 1 },
  executions: [
    {
      requestId: 'r1',
      name: 'Login',
      code: 200,
      status: 'OK',
      time: 120,
      size: 512,
      assertions: [
        { name: 'status is 200', passed: true, error: null },
        { name: 'has token', passed: true, error: null },
      ],
      extra: {},
    },
    {
      requestId: null,
      name: 'Orders',
      code: null,
      status: '',
      time: null,
      size: null,
      assertions: [{ name: 'status is 200', passed: false, error: 'expected 500 to equal 200' }],
      extra: { iteration: 0 },
    },
  ],
  extra: { newman: true },
  ...over,
})

describe('runs', () => {
  test('appended runs read back whole, in order, also in another replica', () => {
    const [d] = docs(1)
    const m = RunsModel.open(d!)
    m.append(run('a'))
    m.append(run('b', { environmentName: null, executions: [] }))
    for (const x of [m, RunsModel.open(fork(d!, 9))]) {
      const s = x.snapshot()
      expect(s.runs).toEqual([run('a'), run('b', { environmentName: null, executions: [] })])
      expect(s.conflicts).toEqual([])
      expect(s.problems).toEqual([])
      expect(x.conflicts()).toEqual([])
    }
  })

  test('invalid runs are refused naming the bad field, and nothing is written', () => {
    const [d] = docs(1)
    const m = RunsModel.open(d!)
    m.append(run('a'))
    const bad: [Partial<RunResult> | Record<string, unknown>, RegExp][] = [
      [{ id: 5 }, /id/],
      [{ startedAt: -1 }, /startedAt/],
      [{ totals: { requests: 1.5, failedRequests: 0, assertions: 0, failedAssertions: 0 } }, /totals\.requests/],
      [{ executions: [{ ...run('x').executions[0]!, code: 1000 }] }, /executions\[0\]\.code/],
      [{ executions: [{ ...run('x').executions[0]!, assertions: [{ name: 'n', passed: 'yes', error: null }] }] }, /assertions\[0\]\.passed/],
      [{ extra: [] }, /extra/],
      [{ finishedAt: Number.POSITIVE_INFINITY }, /JSON|finishedAt/],
    ]
    for (const [over, message] of bad) {
      const err = expectRefused(d!, () => m.append({ ...run('new'), ...over } as RunResult), 'INVALID_VALUE')
      expect(err.message).toMatch(message)
    }
    expectRefused(d!, () => m.append(run('a')), 'INVALID_VALUE')
    expect(m.snapshot().runs.map((r) => r.id)).toEqual(['a'])
  })

  test('concurrent appends from several devices are all kept, in the same order', () => {
    const [a, b, c] = docs(3)
    const ms = [a!, b!, c!].map((d) => RunsModel.open(d))
    ms.forEach((m, i) => m.append(run(`run-${i}`)))
    ms[0]!.append(run('run-0b'))
    syncAll(a!, b!, c!)
    expect(ms[0]!.snapshot()).toEqual(ms[1]!.snapshot())
    expect(ms[1]!.snapshot()).toEqual(ms[2]!.snapshot())
    expect(ms[0]!.snapshot().runs.map((r) => r.id).sort()).toEqual(['run-0', 'run-0b', 'run-1', 'run-2'])
  })

  test('a malformed run from a peer is reported by index and skipped; the others read', () => {
    const [a, b] = docs(2)
    const mb = RunsModel.open(b!)
    mb.append(run('good'))
    syncAll(a!, b!)
    a!.getArray('runs').push([{ id: 'evil', totals: 'many' }, 42])
    syncAll(a!, b!)
    const s = mb.snapshot()
    expect(s.runs.map((r) => r.id)).toEqual(['good'])
    expect(s.problems.map((p) => p.path)).toEqual(['runs[1]', 'runs[2]'])
  })

  test('snapshots are shared until a run is appended; earlier runs keep their objects', () => {
    const [d] = docs(1)
    const m = RunsModel.open(d!)
    m.append(run('a'))
    const s1 = m.snapshot()
    expect(m.snapshot()).toBe(s1)
    m.append(run('b'))
    const s2 = m.snapshot()
    expect(s2).not.toBe(s1)
    expect(s2.runs[0]).toBe(s1.runs[0])
  })

  test('one update per append; undo removes the local append only', () => {
    const [a, b] = docs(2)
    const ma = RunsModel.open(a!)
    const mb = RunsModel.open(b!)
    let updates = 0
    a!.on('update', (_u: Uint8Array, origin: unknown) => origin !== 'remote' && updates++)
    ma.append(run('mine'))
    expect(updates).toBe(1)
    mb.append(run('theirs'))
    Y.applyUpdate(a!, Y.encodeStateAsUpdate(b!), 'remote')
    expect(ma.undo()).toBe(true)
    expect(ma.snapshot().runs.map((r) => r.id)).toEqual(['theirs'])
    expect(ma.undo()).toBe(false)
  })
})
