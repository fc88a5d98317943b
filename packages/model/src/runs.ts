/**
 * Collection run results: an append-only Y.Array of immutable JSON records. Concurrent appends from several
 * devices are all kept (Y.Array order decides their order, the same everywhere); nothing is ever edited, and
 * nothing is undoable: a run happened, undo would erase a fact (and a run synced to others).
 *
 * A run in progress lives beside them in the `active` map, one entry per run with a single writer (the device
 * running it): its header and a Y.Array its executions are pushed to as each request finishes, so other devices
 * follow it live. Appending the finished result removes the entry in the same transaction.
 */
import * as Y from 'yjs'
import { DocModel, type OpenOptions } from './doc.js'
import type { Conflict, EntityRef, Problem } from './entity.js'
import { ModelError } from './errors.js'
import { type Json, type JsonObject, isJson, isJsonObject } from './json.js'
import type { YType } from './yjs-items.js'

export interface Assertion {
  readonly name: string
  readonly passed: boolean
  readonly error: string | null
}

export interface Execution {
  /** The request's id in the collection, when known. */
  readonly requestId: string | null
  readonly name: string
  readonly code: number | null
  readonly status: string
  /** Milliseconds. */
  readonly time: number | null
  /** Bytes. */
  readonly size: number | null
  readonly assertions: readonly Assertion[]
  readonly extra: JsonObject
}

export interface RunTotals {
  readonly requests: number
  readonly failedRequests: number
  readonly assertions: number
  readonly failedAssertions: number
}

export interface RunResult {
  readonly id: string
  readonly collectionId: string
  readonly environmentName: string | null
  /** Epoch milliseconds. */
  readonly startedAt: number
  readonly finishedAt: number
  readonly totals: RunTotals
  readonly executions: readonly Execution[]
  readonly extra: JsonObject
}

/** A run still going on (or whose device went away before finishing it: see `updatedAt`). */
export interface RunProgress {
  readonly id: string
  readonly collectionId: string
  readonly environmentName: string | null
  /** Epoch milliseconds. */
  readonly startedAt: number
  /** Epoch milliseconds of the last progress write: a run that stops moving for long was abandoned. */
  readonly updatedAt: number
  /** How many requests the run means to execute (0 when unknown). */
  readonly planned: number
  /** Executed so far, in order. */
  readonly executions: readonly Execution[]
  readonly extra: JsonObject
}

/** What `start` takes: a progress entry without what the model fills in. */
export type RunStart = Omit<RunProgress, 'updatedAt' | 'executions'>

export interface RunsSnapshot {
  /** Finished runs, in the doc's order; one record per id. */
  readonly runs: readonly RunResult[]
  /** Runs in progress, oldest first. */
  readonly active: readonly RunProgress[]
  readonly conflicts: readonly Conflict[]
  readonly problems: readonly Problem[]
}

type Check = (v: unknown, path: string) => string | undefined
const str: Check = (v) => (typeof v === 'string' ? undefined : 'expected a string')
const strOrNull: Check = (v) => (v === null || typeof v === 'string' ? undefined : 'expected a string or null')
const count: Check = (v) => (Number.isInteger(v) && (v as number) >= 0 ? undefined : 'expected a count')
const time: Check = (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'expected a non-negative number')
const orNull = (c: Check): Check => (v, p) => (v === null ? undefined : c(v, p))
const code: Check = (v) => (v === null || (Number.isInteger(v) && (v as number) >= 0 && (v as number) < 1000) ? undefined : 'expected an HTTP status code or null')
const obj = (fields: Record<string, Check>): Check => (v, path) => {
  if (!isJsonObject(v)) return 'expected an object'
  for (const [k, c] of Object.entries(fields)) {
    const err = c((v as Record<string, unknown>)[k], `${path}.${k}`)
    if (err) return err.includes(' at ') ? err : `${err} at ${path}.${k}`
  }
  return undefined
}
const arr = (c: Check): Check => (v, path) => {
  if (!Array.isArray(v)) return 'expected an array'
  for (let i = 0; i < v.length; i++) {
    const err = c(v[i], `${path}[${i}]`)
    if (err) return err.includes(' at ') ? err : `${err} at ${path}[${i}]`
  }
  return undefined
}
const extra: Check = (v) => (isJsonObject(v) ? undefined : 'expected a JSON object')

const checkExecution = obj({
  requestId: strOrNull,
  name: str,
  code,
  status: str,
  time: orNull(time),
  size: orNull(time),
  assertions: arr(obj({ name: str, passed: (v) => (typeof v === 'boolean' ? undefined : 'expected a boolean'), error: strOrNull })),
  extra,
})

const checkStart = obj({ id: str, collectionId: str, environmentName: strOrNull, startedAt: time, planned: count, extra })

const checkRun = obj({
  id: str,
  collectionId: str,
  environmentName: strOrNull,
  startedAt: time,
  finishedAt: time,
  totals: obj({ requests: count, failedRequests: count, assertions: count, failedAssertions: count }),
  executions: arr(checkExecution),
  extra,
})


/** Totals of a list of executions, counted as newman counts them (a request fails when it got no response). */
export const runTotals = (executions: readonly Execution[]): RunTotals => {
  let failedRequests = 0
  let assertions = 0
  let failedAssertions = 0
  for (const e of executions) {
    if (typeof e.extra.requestError === 'string') failedRequests++
    assertions += e.assertions.length
    for (const a of e.assertions) if (!a.passed) failedAssertions++
  }
  return { requests: executions.length, failedRequests, assertions, failedAssertions }
}

const interrupted = (r: RunResult) => r.extra.interrupted === true

export class RunsModel extends DocModel<RunsSnapshot> {
  private readonly runs: Y.Array<unknown>
  private readonly active: Y.Map<unknown>
  private last: RunsSnapshot | undefined
  private readonly cache = new WeakMap<object, RunResult | Problem>()

  private constructor(doc: Y.Doc, options?: OpenOptions) {
    super(doc, 'runs', undefined, options)
    this.runs = doc.getArray('runs')
    this.active = doc.getMap('active')
    this.runs.observe(() => (this.last = undefined))
    this.active.observeDeep(() => (this.last = undefined))
  }

  static open(doc: Y.Doc, options?: OpenOptions): RunsModel {
    return new RunsModel(doc, options)
  }

  /**
   * Nothing undoable: run results are facts, not edits (see the module comment). The undo manager needs a scope,
   * so it gets a root type nothing ever writes (an unwritten root type adds nothing to the doc's state).
   */
  protected extraUndoScope(): YType[] {
    return [this.doc.getMap('runs.nothing-to-undo')]
  }

  protected writable(): EntityRef {
    throw new ModelError('INVALID_VALUE', 'run results have no lists')
  }

  /**
   * Appends a finished run, and ends its progress entry if it had one (same id). Throws INVALID_VALUE naming
   * the bad field, or when a run with that id exists (unless it was only `interrupt`ed: the full result then
   * takes its place).
   */
  append(run: RunResult): void {
    const err = isJson(run) ? checkRun(run, 'run') : 'expected JSON'
    if (err) throw new ModelError('INVALID_VALUE', `invalid run result: ${err}`)
    if (this.recordsOf(run.id).some((r) => !interrupted(r))) throw new ModelError('INVALID_VALUE', `run ${run.id} exists`)
    this.transact(() => {
      this.runs.push([run as unknown as Json])
      this.active.delete(run.id)
    })
  }

  /** Starts a run in progress: other devices see it at once, and each `progress` as it happens. */
  start(run: RunStart): void {
    const err = isJson(run) ? checkStart(run, 'run') : 'expected JSON'
    if (err) throw new ModelError('INVALID_VALUE', `invalid run: ${err}`)
    if (this.active.has(run.id) || this.recordsOf(run.id).length > 0) throw new ModelError('INVALID_VALUE', `run ${run.id} exists`)
    const { id, collectionId, environmentName, startedAt, planned, extra } = run
    this.transact(() => {
      const entry = new Y.Map<unknown>()
      entry.set('start', { id, collectionId, environmentName, startedAt, planned, extra } as unknown as Json)
      entry.set('updatedAt', (this.ctx.now?.() ?? Date.now()))
      entry.set('executions', new Y.Array<unknown>())
      this.active.set(id, entry)
    })
  }

  /** Adds one executed request to a run in progress. Throws NOT_FOUND when the run is not in progress. */
  progress(runId: string, execution: Execution): void {
    const err = isJson(execution) ? checkExecution(execution, 'execution') : 'expected JSON'
    if (err) throw new ModelError('INVALID_VALUE', `invalid execution: ${err}`)
    const entry = this.active.get(runId)
    const list = entry instanceof Y.Map ? entry.get('executions') : undefined
    if (!(entry instanceof Y.Map) || !(list instanceof Y.Array)) throw new ModelError('NOT_FOUND', `run ${runId} is not in progress`)
    this.transact(() => {
      list.push([execution as unknown as Json])
      entry.set('updatedAt', (this.ctx.now?.() ?? Date.now()))
    })
  }

  /**
   * Ends a run in progress as it stands: appends its result with what was executed so far, marked
   * `extra.interrupted` and `extra.error: reason`. For a run stopped by the person, or one whose device went
   * away (any device may do it; if the running device finishes after all, its full result replaces this one).
   */
  interrupt(runId: string, reason: string): RunResult {
    const progress = this.snapshot().active.find((r) => r.id === runId)
    if (!progress) throw new ModelError('NOT_FOUND', `run ${runId} is not in progress`)
    const result: RunResult = {
      id: progress.id,
      collectionId: progress.collectionId,
      environmentName: progress.environmentName,
      startedAt: progress.startedAt,
      finishedAt: Math.max(progress.startedAt, progress.updatedAt),
      totals: runTotals(progress.executions),
      executions: progress.executions,
      extra: { ...progress.extra, interrupted: true, error: reason },
    }
    this.append(result)
    return result
  }

  /** Every record with that id, valid or not interrupted (normally one). */
  private recordsOf(id: string): RunResult[] {
    const out: RunResult[] = []
    this.runs.forEach((v) => {
      if (isJsonObject(v) && v.id === id && !checkRun(v, 'run')) out.push(v as unknown as RunResult)
    })
    return out
  }

  snapshot(): RunsSnapshot {
    if (this.last) return this.last
    const runs: RunResult[] = []
    const problems: Problem[] = []
    const at = new Map<string, number>()
    this.runs.forEach((value, i) => {
      const key = typeof value === 'object' && value !== null ? value : undefined
      let read = key ? this.cache.get(key) : undefined
      if (!read) {
        const err = checkRun(value, `runs[${i}]`)
        read = err ? { path: `runs[${i}]`, message: err } : (value as RunResult)
        if (key) this.cache.set(key, read)
      }
      if ('message' in read) {
        problems.push(read)
        return
      }
      // One record per id, the same on every replica: a full result over an interrupted one, then the one with
      // more executions, then the first in the array.
      const seen = at.get(read.id)
      if (seen === undefined) {
        at.set(read.id, runs.length)
        runs.push(read)
        return
      }
      const kept = runs[seen]!
      const better = interrupted(kept) !== interrupted(read) ? interrupted(kept) : read.executions.length > kept.executions.length
      if (better) runs[seen] = read
    })
    const active: RunProgress[] = []
    for (const [id, entry] of this.active.entries()) {
      if (at.has(id)) continue // finished concurrently: the result is what counts
      const read = this.readActive(id, entry)
      if ('message' in read) problems.push(read)
      else active.push(read)
    }
    active.sort((a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : 1))
    this.last = { runs, active, conflicts: [], problems }
    return this.last
  }

  private readActive(id: string, entry: unknown): RunProgress | Problem {
    const path = `active[${JSON.stringify(id)}]`
    if (!(entry instanceof Y.Map)) return { path, message: 'expected a map' }
    const start = entry.get('start')
    const err = checkStart(start, `${path}.start`)
    if (err) return { path: `${path}.start`, message: err }
    const s = start as unknown as RunStart
    if (s.id !== id) return { path: `${path}.start.id`, message: 'expected the entry key' }
    const updatedAt = entry.get('updatedAt')
    const list = entry.get('executions')
    const executions: Execution[] = []
    if (list instanceof Y.Array)
      list.forEach((e) => {
        if (!checkExecution(e, 'execution')) executions.push(e as Execution)
      })
    return {
      ...s,
      updatedAt: typeof updatedAt === 'number' && Number.isFinite(updatedAt) ? Math.max(updatedAt, s.startedAt) : s.startedAt,
      executions,
    }
  }

  conflicts(): readonly Conflict[] {
    return []
  }
}
