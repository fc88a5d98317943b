/**
 * The collection runner: a folder's or a collection's requests, in tree order, each executed as Postman does
 * (execute.ts) through the proxy, with the variables scripts set carried from one request to the next (the
 * run's own values: nothing is written back to environments). The run is recorded in the collection's runs
 * doc as it goes (`RunsModel.start`, one `progress` per request, then `append` of the result), so every
 * device follows it live; the result has the newman import's shape (totals, executions, `extra.stats`,
 * `extra.timings`, `extra.failures`).
 */
import type { CollectionModel, Execution, ItemSnapshot, Json, RunResult, RunsModel } from '@apisync/model'
import { runTotals } from '@apisync/model'
import type { App } from '../app.js'
import { activeEnvironment, requestScopes } from '../variables-in-use.js'
import { type Outcome, executeRequest, initialState } from './execute.js'

export interface LocalRun {
  readonly runId: string
  readonly collectionId: string
  /** Ends the run after the request in flight; the result says it was stopped. */
  stop(): void
  readonly done: Promise<RunResult | null>
}

const running = new WeakMap<App, Map<string, LocalRun>>()
const runsOf = (app: App): Map<string, LocalRun> => {
  let m = running.get(app)
  if (!m) running.set(app, (m = new Map()))
  return m
}

/** The runs this device is running now (the ones it can stop). */
export const localRun = (app: App, runId: string): LocalRun | undefined => runsOf(app).get(runId)

/** Requests under a folder (or the whole collection), depth first, in the order shown. */
export function requestsIn(items: readonly ItemSnapshot[]): ItemSnapshot[] {
  const out: ItemSnapshot[] = []
  const walk = (list: readonly ItemSnapshot[]) => {
    for (const i of list) {
      if (i.kind === 'request') out.push(i)
      else walk(i.items)
    }
  }
  walk(items)
  return out
}

const newId = (): string => crypto.randomUUID()

/** An executed request as a run result holds it (what newman's report import makes of one). */
export function executionOf(request: ItemSnapshot, outcome: Outcome): Execution {
  const r = outcome.response
  const extra: Record<string, Json> = { method: request.kind === 'request' ? request.method : 'GET' }
  // The URL as written ({{variables}} unresolved): resolved values may be secrets, and run results sync in clear.
  if (request.kind === 'request') extra.url = request.url.raw
  if (outcome.failure) extra.requestError = outcome.failure.message
  if (outcome.scriptErrors.length) extra.scriptErrors = [...outcome.scriptErrors]
  const skipped = outcome.assertions.filter((a) => a.skipped).map((a) => a.name)
  if (skipped.length) extra.skipped = skipped
  return {
    requestId: request.id,
    name: request.name,
    code: r ? r.meta.status : null,
    status: r ? r.meta.statusText : '',
    time: r ? r.meta.timeMs : null,
    size: r ? r.meta.size : null,
    assertions: outcome.assertions.filter((a) => !a.skipped).map((a) => ({ name: a.name, passed: a.passed, error: a.error })),
    extra,
  }
}

export interface StartRunOptions {
  /** Run a folder; default the whole collection. */
  readonly folderId?: string | null
  readonly scriptTimeoutMs?: number
  readonly requestTimeoutMs?: number
}

/** Starts a run of a folder or collection on this device; resolves once it is recorded as started. */
export async function startRun(app: App, collectionId: string, options: StartRunOptions = {}): Promise<LocalRun> {
  const view = app.requireWritable()
  const model = view.collections.get(collectionId)?.model
  if (!model) throw new Error('the collection is not open')
  const folder = options.folderId ? model.get(options.folderId) : null
  if (options.folderId && folder?.kind !== 'folder') throw new Error('the folder is not here anymore')
  const requests = requestsIn(folder?.kind === 'folder' ? folder.items : model.snapshot().items)
  if (requests.length === 0) throw new Error(`there are no requests in ${folder ? `folder “${folder.name}”` : 'this collection'} to run`)
  const runs = (await view.openRuns(collectionId)).model
  const envId = activeEnvironment(app)
  const environmentName = envId ? (view.environments.get(envId)?.model.snapshot().name ?? null) : null
  const runId = newId()
  const target = folder ? { kind: 'folder', id: folder.id, name: folder.name } : { kind: 'collection', id: collectionId, name: model.snapshot().name }
  const by = { name: app.profile?.name ?? '', device: app.profile?.device ?? '' }
  const startedAt = Date.now()
  runs.start({ id: runId, collectionId, environmentName, startedAt, planned: requests.length, extra: { target, by } })
  const abort = new AbortController()
  const done = execute(app, model, runs, { runId, collectionId, environmentName, startedAt, requests, target, by, signal: abort.signal, options })
  const local: LocalRun = { runId, collectionId, stop: () => abort.abort(), done }
  runsOf(app).set(runId, local)
  void done.finally(() => {
    runsOf(app).delete(runId)
    app.invalidate()
  })
  app.invalidate()
  return local
}

interface RunPlan {
  readonly runId: string
  readonly collectionId: string
  readonly environmentName: string | null
  readonly startedAt: number
  readonly requests: readonly ItemSnapshot[]
  readonly target: Json
  readonly by: Json
  readonly signal: AbortSignal
  readonly options: StartRunOptions
}

async function execute(app: App, model: CollectionModel, runs: RunsModel, plan: RunPlan): Promise<RunResult | null> {
  const scopes = requestScopes(app, plan.collectionId)
  let state = initialState(scopes)
  const executions: Execution[] = []
  const failures: Json[] = []
  const stats = { prerequestScripts: { total: 0, failed: 0 }, testScripts: { total: 0, failed: 0 } }
  const times: number[] = []
  try {
    for (const item of plan.requests) {
      if (plan.signal.aborted) break
      // The request as it is now (it may have been edited since the run started).
      const request = model.get(item.id)
      if (request?.kind !== 'request') continue
      const outcome = await executeRequest({
        app,
        model,
        request,
        scopes,
        state,
        environmentName: plan.environmentName,
        signal: plan.signal,
        ...(plan.options.scriptTimeoutMs ? { scriptTimeoutMs: plan.options.scriptTimeoutMs } : {}),
        ...(plan.options.requestTimeoutMs ? { requestTimeoutMs: plan.options.requestTimeoutMs } : {}),
      })
      if (outcome.failure?.code === 'CANCELLED') break
      state = outcome.state
      for (const k of ['prerequestScripts', 'testScripts'] as const) {
        stats[k].total += outcome[k].total
        stats[k].failed += outcome[k].failed
      }
      if (outcome.response) times.push(outcome.response.meta.timeMs)
      const execution = executionOf(request, outcome)
      const source = { itemId: request.id, itemName: request.name }
      if (outcome.failure) failures.push({ message: outcome.failure.message, at: 'request', ...source })
      for (const e of outcome.scriptErrors) failures.push({ message: e, at: e.startsWith('pre-request') ? 'prerequest-script' : 'test-script', ...source })
      execution.assertions.forEach((a, i) => {
        if (!a.passed) failures.push({ message: a.error ?? 'failed', test: a.name, at: `assertion:${i} in test-script`, ...source })
      })
      executions.push(execution)
      if (runs.snapshot().active.some((r) => r.id === plan.runId)) runs.progress(plan.runId, execution)
      else break // ended elsewhere (another device marked it interrupted)
    }
  } catch (e) {
    failures.push({ message: e instanceof Error ? e.message : String(e), at: 'run' })
  }
  const finishedAt = Date.now()
  const totals = runTotals(executions)
  const stopped = plan.signal.aborted
  const result: RunResult = {
    id: plan.runId,
    collectionId: plan.collectionId,
    environmentName: plan.environmentName,
    startedAt: plan.startedAt,
    finishedAt: Math.max(plan.startedAt, finishedAt),
    totals,
    executions,
    extra: {
      target: plan.target,
      by: plan.by,
      stats: {
        iterations: { total: 1, failed: 0 },
        items: { total: plan.requests.length, failed: executions.filter((e) => e.extra.requestError !== undefined).length },
        requests: { total: totals.requests, failed: totals.failedRequests },
        assertions: { total: totals.assertions, failed: totals.failedAssertions },
        ...stats,
      },
      timings: {
        started: plan.startedAt,
        completed: finishedAt,
        responseAverage: times.length ? Math.round(times.reduce((a, b) => a + b, 0) / times.length) : 0,
        responseMin: times.length ? Math.min(...times) : 0,
        responseMax: times.length ? Math.max(...times) : 0,
      },
      ...(failures.length ? { failures } : {}),
      ...(stopped ? { error: `stopped on ${app.profile?.device || 'this device'} after ${executions.length} of ${plan.requests.length} requests` } : {}),
    },
  }
  try {
    runs.append(result)
  } catch (e) {
    // Only if the run was ended elsewhere and a full result exists: nothing more to record.
    console.warn(e)
    return null
  }
  return result
}
