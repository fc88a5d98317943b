/**
 * What the page, the sandbox frame and the sandbox worker pass each other to run one Postman script: plain,
 * structured-clonable data only (the worker never holds anything of the page's).
 */
import type { Json } from '@apisync/model'

/** Variable values by key, per scope, as a script sees and changes them during one run. */
export interface ScriptScopes {
  readonly globals: Record<string, Json>
  readonly collectionVariables: Record<string, Json>
  readonly environment: Record<string, Json>
  /** pm.variables.set: the run's own values, above every scope. */
  readonly variables: Record<string, Json>
}

export interface ScriptRequest {
  readonly method: string
  readonly url: string
  readonly headers: readonly (readonly [string, string])[]
  /** The body as text (raw, urlencoded, GraphQL as JSON); empty without one. */
  readonly body: string
}

export interface ScriptResponse {
  readonly code: number
  readonly status: string
  readonly headers: readonly (readonly [string, string])[]
  readonly body: string
  readonly responseTime: number
  readonly responseSize: number
}

export interface ScriptJob {
  readonly event: 'prerequest' | 'test'
  readonly script: string
  /** The run's limit for this script; past it the worker is terminated. */
  readonly timeoutMs: number
  readonly info: { readonly requestName: string; readonly requestId: string; readonly iteration: number; readonly iterationCount: number }
  readonly request: ScriptRequest
  readonly response: ScriptResponse | null
  readonly scopes: ScriptScopes
}

export interface ScriptAssertion {
  readonly name: string
  readonly passed: boolean
  readonly error: string | null
  readonly skipped: boolean
}

export interface ScriptLog {
  readonly level: 'log' | 'info' | 'warn' | 'error' | 'debug'
  readonly text: string
}

export interface ScriptResult {
  readonly assertions: readonly ScriptAssertion[]
  readonly scopes: ScriptScopes
  /** The request's headers after the script (a pre-request script may add, change or remove some). */
  readonly headers: readonly (readonly [string, string])[]
  readonly console: readonly ScriptLog[]
  /** The script threw outside a test, did not compile, or was stopped (an endless loop). */
  readonly error: string | null
}

/** Worker → frame: what a script did so far (kept if it is then stopped), then its result. */
export type FromWorker =
  | { readonly type: 'assertion'; readonly assertion: ScriptAssertion }
  | { readonly type: 'log'; readonly log: ScriptLog }
  | { readonly type: 'result'; readonly result: ScriptResult }

/** Messages on the page ↔ frame channel. */
export type ToFrame = { readonly type: 'apisync-run'; readonly job: ScriptJob }
export type FromFrame = { readonly type: 'apisync-result'; readonly result: ScriptResult }
export const FRAME_READY = 'apisync-sandbox-ready'
