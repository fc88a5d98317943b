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

  test('one update per append; runs are append-only: undo and redo do nothing, locally or remotely appended', () => {
    const [a, b] = docs(2)
    const ma = RunsModel.open(a!)
    const mb = RunsModel.open(b!)
    let updates = 0
    a!.on('update', (_u: Uint8Array, origin: unknown) => origin !== 'remote' && updates++)
    ma.append(run('mine'))
    expect(updates).toBe(1)
    mb.append(run('theirs'))
    Y.applyUpdate(a!, Y.encodeStateAsUpdate(b!), 'remote')
    ma.start({ id: 'live', collectionId: 'col-1', environmentName: null, startedAt: 5, planned: 1, extra: {} })
    ma.progress('live', run('x').executions[0]!)
    expect(ma.canUndo()).toBe(false)
    expect(ma.undo()).toBe(false)
    expect(ma.redo()).toBe(false)
    expect(ma.snapshot().runs.map((r) => r.id)).toEqual(['mine', 'theirs'])
    expect(ma.snapshot().active.map((r) => [r.id, r.executions.length])).toEqual([['live', 1]])
  })

  test('a run in progress is seen live on another replica, execution by execution, and becomes a finished run', () => {
    const [a, b] = docs(2)
    let clock = 1_000
    const ma = RunsModel.open(a!, { now: () => clock })
    const mb = RunsModel.open(b!)
    ma.start({ id: 'r1', collectionId: 'col-1', environmentName: 'Staging', startedAt: 1_000, planned: 2, extra: { target: 'Auth' } })
    syncAll(a!, b!)
    expect(mb.snapshot().active).toEqual([
      { id: 'r1', collectionId: 'col-1', environmentName: 'Staging', startedAt: 1_000, updatedAt: 1_000, planned: 2, executions: [], extra: { target: 'Auth' } },
    ])
    const [first, second] = run('x').executions
    clock = 1_500
    ma.progress('r1', first!)
    syncAll(a!, b!)
    expect(mb.snapshot().active[0]!.executions).toEqual([first])
    expect(mb.snapshot().active[0]!.updatedAt).toBe(1_500)
    ma.progress('r1', second!)
    syncAll(a!, b!)
    expect(mb.snapshot().active[0]!.executions).toEqual([first, second])
    expect(mb.snapshot().runs).toEqual([])
    const done = run('r1', { startedAt: 1_000, finishedAt: 2_000 })
    ma.append(done)
    syncAll(a!, b!)
    for (const m of [ma, mb]) {
      expect(m.snapshot().active).toEqual([])
      expect(m.snapshot().runs).toEqual([done])
    }
    // Progress of a run that is not going on is refused, and so is starting an id that was used.
    expectRefused(a!, () => ma.progress('r1', first!), 'NOT_FOUND')
    expectRefused(a!, () => ma.start({ id: 'r1', collectionId: 'c', environmentName: null, startedAt: 0, planned: 0, extra: {} }), 'INVALID_VALUE')
    expectRefused(a!, () => ma.progress('nope', first!), 'NOT_FOUND')
  })

  test('bad starts and executions are refused naming the field; a malformed live entry from a peer is a problem', () => {
    const [a, b] = docs(2)
    const ma = RunsModel.open(a!)
    const mb = RunsModel.open(b!)
    const bad = expectRefused(a!, () => ma.start({ id: 'r', collectionId: 'c', environmentName: null, startedAt: -5, planned: 0, extra: {} }), 'INVALID_VALUE')
    expect(bad.message).toMatch(/startedAt/)
    expect(expectRefused(a!, () => ma.start({ id: 'r', collectionId: 'c', environmentName: null, startedAt: 0, planned: 1.5, extra: {} }), 'INVALID_VALUE').message).toMatch(/planned/)
    ma.start({ id: 'r', collectionId: 'c', environmentName: null, startedAt: 0, planned: 1, extra: {} })
    const e = run('x').executions[0]!
    expect(expectRefused(a!, () => ma.progress('r', { ...e, code: 1000 }), 'INVALID_VALUE').message).toMatch(/code/)
    expect(expectRefused(a!, () => ma.progress('r', { ...e, assertions: [{ name: 1 }] } as never), 'INVALID_VALUE').message).toMatch(/assertions\[0\]\.name/)
    // A peer writes junk into the live map: reported, skipped, the valid run still reads.
    b!.getMap('active').set('junk', { start: 'nope' })
    const entry = new Y.Map<unknown>()
    b!.getMap('active').set('bad-start', entry)
    entry.set('start', { id: 'bad-start', collectionId: 5 })
    syncAll(a!, b!)
    expect(mb.snapshot().active.map((r) => r.id)).toEqual(['r'])
    expect(mb.snapshot().problems.map((p) => p.path).sort()).toEqual(['active["bad-start"].start', 'active["junk"]'])
  })

  test('interrupt ends a run as it stands (any device); the full result, if it comes after all, takes its place everywhere', () => {
    const [a, b, c] = docs(3)
    const ma = RunsModel.open(a!, { now: () => 3_000 })
    const mb = RunsModel.open(b!)
    const mc = RunsModel.open(c!)
    ma.start({ id: 'r', collectionId: 'col-1', environmentName: null, startedAt: 1_000, planned: 2, extra: {} })
    const [first, second] = run('x').executions
    ma.progress('r', first!)
    syncAll(a!, b!, c!)
    // The runner's device goes quiet; another device ends the run with what it saw.
    const stopped = mb.interrupt('r', 'the device running it went away')
    expect(stopped.totals).toEqual({ requests: 1, failedRequests: 0, assertions: 2, failedAssertions: 0 })
    expect(stopped.finishedAt).toBe(3_000)
    expect(stopped.extra).toEqual({ interrupted: true, error: 'the device running it went away' })
    expect(() => mb.interrupt('r', 'again')).toThrow(/not in progress/)
    // Meanwhile (concurrently) the runner went on and finished.
    ma.progress('r', second!)
    const full = run('r', { startedAt: 1_000, finishedAt: 4_000 })
    ma.append(full)
    syncAll(a!, b!, c!)
    for (const m of [ma, mb, mc]) {
      expect(m.snapshot().runs).toEqual([full])
      expect(m.snapshot().active).toEqual([])
    }
    // A second full result with the same id is still refused.
    expectRefused(a!, () => ma.append(full), 'INVALID_VALUE')
  })
})
