/**
 * One request as Postman executes it, for Send and for a run alike: the pre-request scripts (collection, then
 * each folder down, then the request), the request built with the variables as they stand then and sent
 * through the proxy, then the test scripts in the same order. Variables scripts set live in `ScriptScopes`,
 * the run's own values; the library's `resolveVariables` decides precedence over them.
 */
import type { CollectionModel, Json, RequestSnapshot, Scripts, Variable } from '@apisync/model'
import { resolveVariables } from '@apisync/client'
import type { App } from '../app.js'
import { type BuiltRequest, BuildError, type SendFailure, type SentResponse, buildRequest, headerOf, sendThroughProxy, templateOf } from '../send.js'
import { type OpenScope, type VariableContext, contextOf } from '../variables-in-use.js'
import { ScriptSandbox } from './sandbox.js'
import type { ScriptAssertion, ScriptJob, ScriptLog, ScriptScopes } from './script-protocol.js'

export const SCRIPT_TIMEOUT_MS = 5_000
export const REQUEST_TIMEOUT_MS = 30_000

const sandboxes = new WeakMap<App, ScriptSandbox>()
/** The app's one script sandbox (a hidden iframe, made on first use). */
export const sandboxOf = (app: App): ScriptSandbox => {
  let s = sandboxes.get(app)
  if (!s) sandboxes.set(app, (s = new ScriptSandbox()))
  return s
}

const SCOPE_KEYS = { globals: 'globals', collection: 'collectionVariables', environment: 'environment' } as const

/** The values each scope holds at the start (local value over shared, enabled variables only). */
export function initialState(scopes: readonly OpenScope[]): ScriptScopes {
  const state: ScriptScopes = { globals: {}, collectionVariables: {}, environment: {}, variables: {} }
  for (const s of scopes) {
    const own = resolveVariables({ [s.scope]: { variables: s.variables, ...(s.localValues ? { localValues: s.localValues } : {}) } })
    for (const [k, r] of own) state[SCOPE_KEYS[s.scope]][k] = r.value
  }
  return state
}

/** A variable context over the run's values (secret flags kept from the variables they came from). */
export function stateContext(scopes: readonly OpenScope[], state: ScriptScopes, environmentName: string | null): VariableContext {
  const over = scopes.map((s): OpenScope => {
    const types = new Map(s.variables.map((v) => [v.key, v.type]))
    const variables = Object.entries(state[SCOPE_KEYS[s.scope]]).map(
      ([key, value]): Variable => ({ id: `run:${s.scope}:${key}`, key, value, type: types.get(key) ?? 'default', enabled: true, description: '', extra: {} }),
    )
    return { ...s, variables, localValues: new Map() }
  })
  return contextOf(over, state.variables, environmentName)
}

export interface ExecuteInput {
  readonly app: App
  readonly model: CollectionModel
  readonly request: RequestSnapshot
  readonly scopes: readonly OpenScope[]
  readonly state: ScriptScopes
  readonly environmentName: string | null
  readonly iteration?: number
  readonly iterationCount?: number
  readonly signal?: AbortSignal
  readonly requestTimeoutMs?: number
  readonly scriptTimeoutMs?: number
}

export interface Outcome {
  readonly built: BuiltRequest | null
  readonly response: SentResponse | null
  readonly failure: SendFailure | null
  readonly assertions: readonly ScriptAssertion[]
  readonly console: readonly ScriptLog[]
  /** Script errors and stops, each `prerequest: …` or `test: …`. */
  readonly scriptErrors: readonly string[]
  readonly prerequestScripts: { readonly total: number; readonly failed: number }
  readonly testScripts: { readonly total: number; readonly failed: number }
  readonly state: ScriptScopes
}

/** The scripts of an event from the collection down to the request, non-empty ones only. */
function chain(model: CollectionModel, requestId: string, event: keyof Scripts): { source: string; script: string }[] {
  const out: { source: string; script: string }[] = []
  const ancestors: string[] = []
  for (let p = model.parentId(requestId); p; p = model.parentId(p)) ancestors.unshift(p)
  const push = (source: string, s: Scripts | undefined) => {
    if (s && s[event].trim() !== '') out.push({ source, script: s[event] })
  }
  push('collection', model.snapshot().scripts)
  for (const id of ancestors) {
    const f = model.get(id)
    if (f?.kind === 'folder') push(`folder “${f.name}”`, f.scripts)
  }
  push('request', model.get(requestId)?.scripts)
  return out
}

export async function executeRequest(input: ExecuteInput): Promise<Outcome> {
  const { app, model, request } = input
  const sandbox = sandboxOf(app)
  let state = input.state
  let headers = templateOf(request).headers
  const assertions: ScriptAssertion[] = []
  const logs: ScriptLog[] = []
  const scriptErrors: string[] = []
  const counts = { prerequest: { total: 0, failed: 0 }, test: { total: 0, failed: 0 } }
  const job = (event: ScriptJob['event'], script: string, response: ScriptJob['response']): ScriptJob => ({
    event,
    script,
    timeoutMs: input.scriptTimeoutMs ?? SCRIPT_TIMEOUT_MS,
    info: { requestName: request.name, requestId: request.id, iteration: input.iteration ?? 0, iterationCount: input.iterationCount ?? 1 },
    request: { ...templateOf(request), headers },
    response,
    scopes: state,
  })
  const runScripts = async (event: ScriptJob['event'], response: ScriptJob['response']) => {
    for (const { source, script } of chain(model, request.id, event)) {
      if (input.signal?.aborted) return
      counts[event].total++
      const result = await sandbox.run(job(event, script, response))
      state = result.scopes
      if (event === 'prerequest') headers = result.headers
      assertions.push(...result.assertions)
      logs.push(...result.console)
      if (result.error) {
        counts[event].failed++
        scriptErrors.push(`${event === 'prerequest' ? 'pre-request script' : 'test script'} of the ${source}: ${result.error}`)
      }
    }
  }
  const done = (built: BuiltRequest | null, response: SentResponse | null, failure: SendFailure | null): Outcome => ({
    built,
    response,
    failure,
    assertions,
    console: logs,
    scriptErrors,
    prerequestScripts: counts.prerequest,
    testScripts: counts.test,
    state,
  })

  await runScripts('prerequest', null)
  if (input.signal?.aborted) return done(null, null, { code: 'CANCELLED', message: 'cancelled' })
  let built: BuiltRequest
  try {
    built = await buildRequest(model, request, stateContext(input.scopes, state, input.environmentName), headers)
  } catch (e) {
    return done(null, null, { code: 'BAD_INPUT', message: e instanceof BuildError ? e.message : String(e) })
  }
  const sent = await sendThroughProxy(app, built, { timeoutMs: input.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, ...(input.signal ? { signal: input.signal } : {}) })
  if (!sent.ok) return done(built, null, sent.failure)
  const r = sent.response
  await runScripts('test', {
    code: r.meta.status,
    status: r.meta.statusText,
    headers: r.meta.headers,
    body: r.text,
    responseTime: r.meta.timeMs,
    responseSize: r.meta.size,
  })
  return done(built, r, null)
}

/**
 * After a Send (not a run): what scripts set in the environment, globals or collection variables becomes this
 * device's local value of that variable, as Postman sets the current value; nothing is synced. Returns the
 * keys that were set but have no variable to hold them.
 */
export function keepLocalChanges(app: App, scopes: readonly OpenScope[], before: ScriptScopes, after: ScriptScopes): string[] {
  const view = app.view
  if (!view) return []
  const unplaced: string[] = []
  // A scope the request does not see on this device (no environment selected) keeps nothing.
  for (const [scope, key] of Object.entries(SCOPE_KEYS) as [OpenScope['scope'], keyof ScriptScopes][]) {
    if (scopes.some((s) => s.scope === scope)) continue
    for (const k of Object.keys(after[key])) if (JSON.stringify(before[key][k]) !== JSON.stringify(after[key][k])) unplaced.push(`${k} (no ${scope} selected)`)
  }
  for (const s of scopes) {
    const key = SCOPE_KEYS[s.scope]
    const handle = view.handle(s.doc)
    const locals = handle ? view.locals.get(handle.name) : undefined
    const b = before[key]
    const a = after[key]
    for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) {
      if (JSON.stringify(b[k]) === JSON.stringify(a[k])) continue
      const v = [...s.variables].reverse().find((x) => x.key === k && x.enabled)
      if (!v || !locals) {
        if (k in a) unplaced.push(`${k} (${s.source})`)
        continue
      }
      if (k in a) locals.set(v.id, a[k] as Json)
      else locals.clear(v.id)
    }
  }
  return unplaced
}

export { headerOf }
