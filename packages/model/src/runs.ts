/**
 * Collection run results: an append-only Y.Array of immutable JSON records. Concurrent appends from several
 * devices are all kept (Y.Array order decides their order, the same everywhere); nothing is ever edited.
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

export interface RunsSnapshot {
  readonly runs: readonly RunResult[]
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

const checkRun = obj({
  id: str,
  collectionId: str,
  environmentName: strOrNull,
  startedAt: time,
  finishedAt: time,
  totals: obj({ requests: count, failedRequests: count, assertions: count, failedAssertions: count }),
  executions: arr(
    obj({
      requestId: strOrNull,
      name: str,
      code,
      status: str,
      time: orNull(time),
      size: orNull(time),
      assertions: arr(obj({ name: str, passed: (v) => (typeof v === 'boolean' ? undefined : 'expected a boolean'), error: strOrNull })),
      extra,
    }),
  ),
  extra,
})

export class RunsModel extends DocModel<RunsSnapshot> {
  private readonly runs: Y.Array<unknown>
  private last: RunsSnapshot | undefined
  private readonly cache = new WeakMap<object, RunResult | Problem>()

  private constructor(doc: Y.Doc, options?: OpenOptions) {
    super(doc, 'runs', undefined, options)
    this.runs = doc.getArray('runs')
    this.runs.observe(() => (this.last = undefined))
  }

  static open(doc: Y.Doc, options?: OpenOptions): RunsModel {
    return new RunsModel(doc, options)
  }

  protected extraUndoScope(): YType[] {
    return [this.doc.getArray('runs')]
  }

  protected writable(): EntityRef {
    throw new ModelError('INVALID_VALUE', 'run results have no lists')
  }

  /** Appends a finished run. Throws INVALID_VALUE naming the bad field. */
  append(run: RunResult): void {
    const err = isJson(run) ? checkRun(run, 'run') : 'expected JSON'
    if (err) throw new ModelError('INVALID_VALUE', `invalid run result: ${err}`)
    if (this.snapshot().runs.some((r) => r.id === run.id)) throw new ModelError('INVALID_VALUE', `run ${run.id} exists`)
    this.transact(() => this.runs.push([run as unknown as Json]))
  }

  snapshot(): RunsSnapshot {
    if (this.last) return this.last
    const runs: RunResult[] = []
    const problems: Problem[] = []
    this.runs.forEach((value, i) => {
      const key = typeof value === 'object' && value !== null ? value : undefined
      let read = key ? this.cache.get(key) : undefined
      if (!read) {
        const err = checkRun(value, `runs[${i}]`)
        read = err ? { path: `runs[${i}]`, message: err } : (value as RunResult)
        if (key) this.cache.set(key, read)
      }
      if ('message' in read) problems.push(read)
      else runs.push(read)
    })
    this.last = { runs, conflicts: [], problems }
    return this.last
  }

  conflicts(): readonly Conflict[] {
    return []
  }
}
