/**
 * newman run reports (`reporters: 'json'`, or a run summary passed through JSON) as run results: totals, and
 * per request its status, time, size and test assertions. The report's `collection`, `environment` and
 * `globals` are ordinary Postman files: import them with the other importers if you want them.
 */
import type { Assertion, CollectionModel, CollectionSnapshot, Execution, ItemSnapshot, JsonObject, RunResult, RunsModel } from '@apisync/model'
import { type Path, at, expected } from './errors.js'
import { own } from './fields.js'
import { type ImportLimits, type PostmanInput, readInput } from './input.js'
import { type Json, type Out, isObject } from './json.js'
import { isModel, shapeOf } from './shape.js'
import { unparseUrl } from './url.js'

export interface NewmanImportOptions {
  /** The collection that was run: executions are matched to its requests (by the file's item ids, else by name). */
  readonly collection?: CollectionModel | CollectionSnapshot
  /** The run result's id; default a random UUID. */
  readonly id?: string
  readonly limits?: ImportLimits
}

const obj = (v: Json | undefined, what: string, path: Path): JsonObject => (isObject(v) ? v : expected(what, path, v))
const count = (v: Json | undefined, path: Path): number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : expected('a count', path, v)
const time = (v: Json | undefined, path: Path): number =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : expected('a time in milliseconds', path, v)
const optionalNumber = (v: Json | undefined, path: Path): number | null =>
  v === undefined || v === null ? null : typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : expected('a number', path, v)
const optionalString = (v: Json | undefined, path: Path): string | undefined =>
  v === undefined || v === null ? undefined : typeof v === 'string' ? v : expected('a string', path, v)

/** Request ids by the ids a Postman file gave them (kept in their shapes), and by name where names are unique. */
const requestIndex = (collection: CollectionModel | CollectionSnapshot | undefined) => {
  const byFileId = new Map<string, string>()
  const byName = new Map<string, string | null>()
  const visit = (items: readonly ItemSnapshot[]) => {
    for (const item of items) {
      if (item.kind === 'folder') {
        visit(item.items)
        continue
      }
      const shape = shapeOf(item.extra)
      const rest = shape?.rest
      // Exported without a shape, an item's id is its model id.
      const fileIds = shape ? [rest?.id, rest?._postman_id] : [item.id]
      for (const id of fileIds) if (typeof id === 'string' && !byFileId.has(id)) byFileId.set(id, item.id)
      byName.set(item.name, byName.has(item.name) ? null : item.id)
    }
  }
  if (collection) visit(isModel(collection) ? collection.snapshot().items : collection.items)
  return (fileId: string | undefined, name: string): string | null =>
    (fileId !== undefined ? byFileId.get(fileId) : undefined) ?? byName.get(name) ?? null
}

const urlString = (v: Json | undefined): string | undefined =>
  typeof v === 'string' ? v : isObject(v) ? (typeof v.raw === 'string' ? v.raw : unparseUrl(v)) : undefined

const readExecution = (e: Json, path: Path, requestIdOf: ReturnType<typeof requestIndex>): Execution => {
  const x = obj(e, 'an execution object', path)
  const item = isObject(own(x, 'item')) ? (own(x, 'item') as JsonObject) : {}
  const name = optionalString(own(item, 'name'), at(at(path, 'item'), 'name')) ?? ''
  const itemId = optionalString(own(item, 'id'), at(at(path, 'item'), 'id')) ?? optionalString(own(x, 'id'), at(path, 'id'))
  const response = own(x, 'response')
  const r = response === undefined || response === null ? {} : obj(response, 'a response object', at(path, 'response'))
  const rp = at(path, 'response')
  const rawCode = own(r, 'code')
  const code = rawCode === undefined || rawCode === null ? null : count(rawCode, at(rp, 'code'))
  const assertionsJson = own(x, 'assertions') ?? []
  if (!Array.isArray(assertionsJson)) expected('an array', at(path, 'assertions'), assertionsJson)
  const skipped: string[] = []
  const assertions: Assertion[] = []
  ;(assertionsJson as Json[]).forEach((a, i) => {
    const ap = at(at(path, 'assertions'), i)
    const o = obj(a, 'an assertion object', ap)
    const aname = optionalString(own(o, 'assertion'), at(ap, 'assertion')) ?? ''
    const error = own(o, 'error')
    if (own(o, 'skipped') === true) skipped.push(aname)
    const message = isObject(error) ? (typeof error.message === 'string' ? error.message : 'failed') : error ? String(error) : null
    assertions.push({ name: aname, passed: message === null, error: message })
  })
  const extra: Out = {}
  if (itemId !== undefined) extra.itemId = itemId
  const cursor = own(x, 'cursor')
  if (isObject(cursor) && typeof cursor.iteration === 'number') extra.iteration = cursor.iteration
  const request = own(x, 'request')
  if (isObject(request)) {
    if (typeof request.method === 'string') extra.method = request.method
    const url = urlString(own(request, 'url'))
    if (url !== undefined) extra.url = url
  }
  const requestError = own(x, 'requestError')
  if (isObject(requestError) && typeof requestError.message === 'string') extra.requestError = requestError.message
  if (skipped.length) extra.skipped = skipped
  return {
    requestId: requestIdOf(itemId, name),
    name,
    code: code !== null && code < 1000 ? code : null,
    status: optionalString(own(r, 'status'), at(rp, 'status')) ?? '',
    time: optionalNumber(own(r, 'responseTime'), at(rp, 'responseTime')),
    size: optionalNumber(own(r, 'responseSize'), at(rp, 'responseSize')),
    assertions,
    extra,
  }
}

/** Reads a newman JSON report into a run result (nothing is written). Throws PostmanImportError. */
export const readNewmanReport = (input: PostmanInput, options: NewmanImportOptions = {}): RunResult => {
  const report = obj(readInput(input, options.limits), 'a newman report object', undefined)
  const run = obj(own(report, 'run'), 'a run object (is this a newman JSON report?)', at(undefined, 'run'))
  const runPath = at(undefined, 'run')
  const stats = obj(own(run, 'stats'), 'a stats object', at(runPath, 'stats'))
  const statsPath = at(runPath, 'stats')
  const stat = (name: string) => {
    const p = at(statsPath, name)
    const s = obj(own(stats, name), 'an object', p)
    return { total: count(own(s, 'total'), at(p, 'total')), failed: count(own(s, 'failed'), at(p, 'failed')) }
  }
  const requests = stat('requests')
  const assertions = stat('assertions')
  const timingsPath = at(runPath, 'timings')
  const timings = obj(own(run, 'timings'), 'a timings object', timingsPath)
  const startedAt = time(own(timings, 'started'), at(timingsPath, 'started'))
  const finishedAt = time(own(timings, 'completed'), at(timingsPath, 'completed'))
  const executionsJson = own(run, 'executions')
  if (!Array.isArray(executionsJson)) expected('an array of executions', at(runPath, 'executions'), executionsJson)
  const requestIdOf = requestIndex(options.collection)
  const executions = (executionsJson as Json[]).map((e, i) => readExecution(e, at(at(runPath, 'executions'), i), requestIdOf))

  const collection = own(report, 'collection')
  const info = isObject(collection) && isObject(collection.info) ? collection.info : undefined
  const environment = own(report, 'environment')
  const envName = isObject(environment) && typeof environment.name === 'string' ? environment.name : null
  const extra: Out = { stats, timings }
  if (info && typeof info.name === 'string') extra.collectionName = info.name
  const transfers = own(run, 'transfers')
  if (isObject(transfers)) extra.transfers = transfers
  const failures = own(run, 'failures')
  if (Array.isArray(failures) && failures.length)
    extra.failures = failures.filter(isObject).map((f) => {
      const err = isObject(f.error) ? f.error : {}
      const source = isObject(f.source) ? f.source : {}
      const out: Out = {}
      if (typeof err.message === 'string') out.message = err.message
      if (typeof err.test === 'string') out.test = err.test
      if (typeof f.at === 'string') out.at = f.at
      if (typeof source.id === 'string') out.itemId = source.id
      if (typeof source.name === 'string') out.itemName = source.name
      return out
    })
  const error = own(run, 'error')
  if (isObject(error) && typeof error.message === 'string') extra.error = error.message

  const collectionId =
    options.collection !== undefined
      ? options.collection.id
      : info && typeof (info._postman_id ?? info.id) === 'string'
        ? ((info._postman_id ?? info.id) as string)
        : ''
  return {
    id: options.id ?? globalThis.crypto.randomUUID(),
    collectionId,
    environmentName: envName,
    startedAt,
    finishedAt: Math.max(startedAt, finishedAt),
    totals: { requests: requests.total, failedRequests: requests.failed, assertions: assertions.total, failedAssertions: assertions.failed },
    executions,
    extra,
  }
}

/** Reads a newman JSON report and appends it to a collection's run results. */
export const importNewmanReport = (input: PostmanInput, runs: RunsModel, options: NewmanImportOptions = {}): RunResult => {
  const result = readNewmanReport(input, options)
  runs.append(result)
  return result
}
