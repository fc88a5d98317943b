/**
 * Send, per request on this device: the last response of each request (kept in memory, never synced), Send and
 * Cancel, and saving a response as an example (a saved response in the collection: synced like any edit).
 */
import type { KeyValue } from '@apisync/model'
import type { App } from './app.js'
import { type Outcome, executeRequest, initialState, keepLocalChanges } from './runner/execute.js'
import { activeEnvironment, requestScopes } from './variables-in-use.js'
import { templateOf } from './send.js'

export type SendState =
  | { readonly phase: 'sending'; readonly startedAt: number; readonly abort: AbortController }
  | { readonly phase: 'done'; readonly at: number; readonly outcome: Outcome; readonly environmentName: string | null; readonly unplaced: readonly string[] }

/** An example is part of the collection doc every device syncs: keep it small. */
const MAX_EXAMPLE_BYTES = 1024 * 1024

export type ResponseTab = 'body' | 'headers' | 'tests' | 'console'

export interface ResponseUi {
  tab: ResponseTab
  raw: boolean
}

const states = new WeakMap<App, Map<string, SendState>>()
const uis = new WeakMap<App, ResponseUi>()

const byRequest = (app: App): Map<string, SendState> => {
  let m = states.get(app)
  if (!m) states.set(app, (m = new Map()))
  return m
}

export const sendState = (app: App, requestId: string): SendState | undefined => byRequest(app).get(requestId)

export const responseUi = (app: App): ResponseUi => {
  let u = uis.get(app)
  if (!u) uis.set(app, (u = { tab: 'body', raw: false }))
  return u
}

/** Sends the request open in the editor: its scripts run, then the response shows. */
export async function send(app: App, collectionId: string, requestId: string): Promise<void> {
  const view = app.view
  const model = view?.collections.get(collectionId)?.model
  const request = model?.get(requestId)
  if (!model || request?.kind !== 'request') return
  const current = sendState(app, requestId)
  if (current?.phase === 'sending') return
  const abort = new AbortController()
  byRequest(app).set(requestId, { phase: 'sending', startedAt: Date.now(), abort })
  app.invalidate()
  const scopes = requestScopes(app, collectionId)
  const envId = activeEnvironment(app)
  const environmentName = envId ? (view!.environments.get(envId)?.model.snapshot().name ?? null) : null
  const before = initialState(scopes)
  try {
    const outcome = await executeRequest({ app, model, request, scopes, state: before, environmentName, signal: abort.signal })
    const unplaced = outcome.failure?.code === 'CANCELLED' ? [] : keepLocalChanges(app, scopes, before, outcome.state)
    byRequest(app).set(requestId, { phase: 'done', at: Date.now(), outcome, environmentName, unplaced })
  } catch (e) {
    byRequest(app).set(requestId, {
      phase: 'done',
      at: Date.now(),
      environmentName,
      unplaced: [],
      outcome: {
        built: null,
        response: null,
        failure: { code: 'NETWORK', message: e instanceof Error ? e.message : String(e) },
        assertions: [],
        console: [],
        scriptErrors: [],
        prerequestScripts: { total: 0, failed: 0 },
        testScripts: { total: 0, failed: 0 },
        state: before,
      },
    })
  }
  app.invalidate()
}

export function cancelSend(app: App, requestId: string): void {
  const s = sendState(app, requestId)
  if (s?.phase === 'sending') s.abort.abort()
}

/**
 * Saves the last response of a request as an example (a saved response): synced, so every device and
 * teammate sees it. The original request is kept as its template (`{{variables}}` unresolved): resolved
 * values may be secrets, and the collection doc is not encrypted.
 */
export function saveAsExample(app: App, collectionId: string, requestId: string, name: string): void {
  const s = sendState(app, requestId)
  if (s?.phase !== 'done' || !s.outcome.response) throw new Error('send the request first')
  const r = s.outcome.response
  if (r.meta.size > MAX_EXAMPLE_BYTES) throw new Error(`this response is ${(r.meta.size / 1024 / 1024).toFixed(1)} MiB: examples are kept to 1 MiB, since every device and teammate syncs them`)
  app.edit(collectionId, (model) => {
    const request = model.get(requestId)
    if (request?.kind !== 'request') throw new Error('the request is not here anymore')
    const t = templateOf(request)
    const headers: Omit<KeyValue, 'id' | 'extra'>[] = r.meta.headers.map(([key, value]) => ({ key, value, enabled: true, description: '' }))
    model.addResponse(requestId, {
      name: name.trim() || `${r.meta.status} ${r.meta.statusText}`.trim(),
      code: r.meta.status,
      status: r.meta.statusText,
      headers,
      body: r.text,
      responseTime: r.meta.timeMs,
      originalRequest: { method: t.method, url: { raw: t.url }, header: t.headers.map(([key, value]) => ({ key, value })) },
    })
  })
}
