/**
 * The worker that runs one Postman script (a fresh one per script, made by sandbox-frame.ts inside an
 * opaque-origin iframe, so it has no storage, cookies or DOM of the app, and no network: see the frame).
 *
 * A subset of Postman's sandbox: `pm.test` (sync, promise or `done`), `pm.test.skip`, `pm.expect` (chai, as
 * Postman's), `pm.response` (code, status, headers, responseTime, responseSize, text(), json(), and the
 * `pm.response.to.have.status(…)` family), `pm.request` (url, method, headers you may add/upsert/remove in a
 * pre-request script, body), `pm.environment` / `pm.globals` / `pm.collectionVariables` / `pm.variables`
 * (get/set/unset/has/clear/toObject/replaceIn, within the run), `pm.info`, `console.*`, and the legacy globals
 * (`tests[...]`, `responseBody`, `responseCode`, `postman.setEnvironmentVariable`…). `pm.sendRequest` and
 * `require` of anything but chai say plainly that they are not available.
 */
import * as chai from 'chai'
import type { Json } from '@apisync/model'
import type { FromWorker, ScriptAssertion, ScriptJob, ScriptLog, ScriptResult, ScriptScopes } from './script-protocol.js'

type Pairs = [string, string][]

const MAX_LOGS = 200
const MAX_LOG_CHARS = 2_000

class HeaderList {
  constructor(private readonly pairs: Pairs) {}
  get(name: string): string | undefined {
    const n = name.toLowerCase()
    for (let i = this.pairs.length - 1; i >= 0; i--) if (this.pairs[i]![0].toLowerCase() === n) return this.pairs[i]![1]
    return undefined
  }
  has(name: string, value?: string): boolean {
    const v = this.get(name)
    return v !== undefined && (value === undefined || v === value)
  }
  add(h: { key: string; value: string } | string): void {
    const [key, value] = typeof h === 'string' ? splitHeader(h) : [h.key, String(h.value)]
    this.pairs.push([key, value])
  }
  upsert(h: { key: string; value: string }): void {
    this.remove(h.key)
    this.pairs.push([h.key, String(h.value)])
  }
  remove(name: string): void {
    const n = name.toLowerCase()
    for (let i = this.pairs.length - 1; i >= 0; i--) if (this.pairs[i]![0].toLowerCase() === n) this.pairs.splice(i, 1)
  }
  toObject(): Record<string, string> {
    return Object.fromEntries(this.pairs.map(([k, v]) => [k.toLowerCase(), v]))
  }
  all(): { key: string; value: string }[] {
    return this.pairs.map(([key, value]) => ({ key, value }))
  }
  each(fn: (h: { key: string; value: string }) => void): void {
    this.all().forEach(fn)
  }
  count(): number {
    return this.pairs.length
  }
  toJSON(): { key: string; value: string }[] {
    return this.all()
  }
}

const splitHeader = (line: string): [string, string] => {
  const i = line.indexOf(':')
  return i < 0 ? [line.trim(), ''] : [line.slice(0, i).trim(), line.slice(i + 1).trim()]
}

/** A scope of variables (pm.environment and the like) over a plain object the result carries back. */
function scope(values: Record<string, Json>, resolve: (text: string) => string) {
  return {
    get: (key: string): Json | undefined => values[key],
    set: (key: string, value: unknown): void => {
      values[key] = toJson(value)
    },
    unset: (key: string): void => {
      delete values[key]
    },
    has: (key: string): boolean => Object.prototype.hasOwnProperty.call(values, key),
    clear: (): void => {
      for (const k of Object.keys(values)) delete values[k]
    },
    toObject: (): Record<string, Json> => ({ ...values }),
    replaceIn: resolve,
  }
}

const toJson = (v: unknown): Json => {
  if (v === undefined) return ''
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v)
  try {
    return JSON.parse(JSON.stringify(v)) as Json
  } catch {
    return String(v)
  }
}

const show = (v: unknown): string => {
  if (typeof v === 'string') return v
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return String(v)
  }
}

/** A response as scripts see it; chai's assertions below recognise it. */
class PostmanResponse {
  readonly headers: HeaderList
  constructor(readonly r: NonNullable<ScriptJob['response']>) {
    this.headers = new HeaderList(r.headers.map(([k, v]) => [k, v]))
  }
  get code(): number {
    return this.r.code
  }
  get status(): string {
    return this.r.status
  }
  get responseTime(): number {
    return this.r.responseTime
  }
  get responseSize(): number {
    return this.r.responseSize
  }
  text(): string {
    return this.r.body
  }
  json(): unknown {
    try {
      return JSON.parse(this.r.body) as unknown
    } catch (e) {
      throw new Error(`the response body is not JSON: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
  get to(): Chai.Assertion {
    return chai.expect(this).to
  }
}

// Postman's response assertions (chai-postman), on top of chai's own.
chai.use((c, utils) => {
  const A = c.Assertion
  const isResponse = (o: unknown): o is PostmanResponse => o instanceof PostmanResponse
  A.addMethod('status', function (this: Chai.AssertionStatic, expected: number | string) {
    const r = utils.flag(this, 'object') as unknown
    if (!isResponse(r)) throw new Error('status() applies to pm.response')
    const actual = typeof expected === 'number' ? r.code : r.status
    this.assert(actual === expected, `expected response to have status ${show(expected)} but got ${show(actual)}`, `expected response not to have status ${show(expected)}`, expected, actual)
  })
  A.addMethod('header', function (this: Chai.AssertionStatic, name: string, value?: string) {
    const r = utils.flag(this, 'object') as unknown
    if (!isResponse(r)) throw new Error('header() applies to pm.response')
    const actual = r.headers.get(name)
    const ok = actual !== undefined && (value === undefined || actual === value)
    this.assert(ok, `expected response to have header ${name}${value === undefined ? '' : `: ${value}`}${actual === undefined ? '' : ` (got ${actual})`}`, `expected response not to have header ${name}`, value, actual)
  })
  A.addMethod('body', function (this: Chai.AssertionStatic, expected?: string | RegExp) {
    const r = utils.flag(this, 'object') as unknown
    if (!isResponse(r)) throw new Error('body() applies to pm.response')
    const body = r.text()
    const ok = expected === undefined ? body.length > 0 : expected instanceof RegExp ? expected.test(body) : body === expected
    this.assert(ok, `expected response body to ${expected === undefined ? 'not be empty' : `match ${String(expected)}`}`, 'expected response body not to match', expected, body)
  })
  A.addMethod('jsonBody', function (this: Chai.AssertionStatic, path?: string, value?: unknown) {
    const r = utils.flag(this, 'object') as unknown
    if (!isResponse(r)) throw new Error('jsonBody() applies to pm.response')
    let json: unknown
    try {
      json = r.json()
    } catch {
      return this.assert(false, 'expected response body to be JSON', 'expected response body not to be JSON')
    }
    if (path === undefined) return this.assert(true, '', 'expected response body not to be JSON')
    const actual = path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), json)
    const ok = arguments.length < 2 ? actual !== undefined : JSON.stringify(actual) === JSON.stringify(value)
    this.assert(ok, `expected response JSON to have ${path}${arguments.length < 2 ? '' : ` = ${show(value)}`} (got ${show(actual)})`, `expected response JSON not to have ${path}`, value, actual)
  })
  const statusClass = (name: string, test: (code: number) => boolean) =>
    A.overwriteProperty(name, (_super: (this: Chai.AssertionStatic) => void) =>
      function (this: Chai.AssertionStatic) {
        const r = utils.flag(this, 'object') as unknown
        if (!isResponse(r)) return _super.call(this)
        this.assert(test(r.code), `expected response to be ${name} but got ${r.code}`, `expected response not to be ${name} (got ${r.code})`)
      },
    )
  for (const [name, test] of [
    ['ok', (c: number) => c >= 200 && c < 300],
    ['success', (c: number) => c >= 200 && c < 300],
    ['info', (c: number) => c >= 100 && c < 200],
    ['redirection', (c: number) => c >= 300 && c < 400],
    ['clientError', (c: number) => c >= 400 && c < 500],
    ['serverError', (c: number) => c >= 500],
    ['error', (c: number) => c >= 400],
  ] as const) {
    if (name in A.prototype) statusClass(name, test)
    else
      A.addProperty(name, function (this: Chai.AssertionStatic) {
        const r = utils.flag(this, 'object') as unknown
        if (!isResponse(r)) throw new Error(`${name} applies to pm.response`)
        this.assert(test(r.code), `expected response to be ${name} but got ${r.code}`, `expected response not to be ${name} (got ${r.code})`)
      })
  }
  A.overwriteProperty('json', (_super: (this: Chai.AssertionStatic) => void) =>
    function (this: Chai.AssertionStatic) {
      const r = utils.flag(this, 'object') as unknown
      if (!isResponse(r)) return _super?.call(this)
      let ok = true
      try {
        r.json()
      } catch {
        ok = false
      }
      this.assert(ok, 'expected response body to be JSON', 'expected response body not to be JSON')
    },
  )
})

async function run(job: ScriptJob): Promise<ScriptResult> {
  const scopes: ScriptScopes = {
    globals: { ...job.scopes.globals },
    collectionVariables: { ...job.scopes.collectionVariables },
    environment: { ...job.scopes.environment },
    variables: { ...job.scopes.variables },
  }
  const lookup = (key: string): Json | undefined => {
    for (const s of [scopes.variables, scopes.environment, scopes.collectionVariables, scopes.globals]) if (Object.prototype.hasOwnProperty.call(s, key)) return s[key]
    return undefined
  }
  const replaceIn = (text: string): string =>
    String(text).replace(/\{\{([^{}]+)\}\}/g, (whole, name: string) => {
      const v = lookup(name)
      return v === undefined ? whole : typeof v === 'string' ? v : JSON.stringify(v)
    })
  const assertions: ScriptAssertion[] = []
  const logs: ScriptLog[] = []
  const pending: Promise<void>[] = []
  const headers: Pairs = job.request.headers.map(([k, v]) => [k, v])
  const response = job.response ? new PostmanResponse(job.response) : null

  // Each test and log line goes out as it happens too, so a script stopped later (an endless loop) keeps them.
  const record = (name: string, passed: boolean, error: string | null, skipped = false): void => {
    const assertion = { name: String(name), passed, error, skipped }
    assertions.push(assertion)
    worker.postMessage({ type: 'assertion', assertion })
  }
  const message = (e: unknown) => (e instanceof Error ? `${e.name === 'AssertionError' ? 'AssertionError' : e.name}: ${e.message}` : String(e))
  const test = (name: string, fn?: (done?: (err?: unknown) => void) => unknown): void => {
    if (typeof fn !== 'function') return record(name, true, null, true)
    try {
      if (fn.length > 0) {
        pending.push(
          new Promise<void>((resolve) => {
            fn((err?: unknown) => {
              record(name, err === undefined || err === null, err === undefined || err === null ? null : message(err))
              resolve()
            })
          }),
        )
        return
      }
      const out = fn()
      if (out && typeof (out as Promise<unknown>).then === 'function') {
        pending.push(
          (out as Promise<unknown>).then(
            () => void record(name, true, null),
            (e: unknown) => void record(name, false, message(e)),
          ),
        )
      } else record(name, true, null)
    } catch (e) {
      record(name, false, message(e))
    }
  }
  test.skip = (name: string) => record(name, true, null, true)

  const log =
    (level: ScriptLog['level']) =>
    (...args: unknown[]) => {
      if (logs.length >= MAX_LOGS) return
      const line = { level, text: args.map(show).join(' ').slice(0, MAX_LOG_CHARS) }
      logs.push(line)
      worker.postMessage({ type: 'log', log: line })
    }
  const sandboxConsole = { log: log('log'), info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug') }

  const request = {
    url: Object.assign(Object.create(null) as object, { toString: () => job.request.url, getHost: () => safeUrl(job.request.url)?.host ?? '', getPath: () => safeUrl(job.request.url)?.pathname ?? '' }),
    method: job.request.method,
    headers: new HeaderList(headers),
    body: { mode: 'raw', raw: job.request.body, toString: () => job.request.body },
  }
  const pm = {
    test,
    expect: chai.expect,
    response: response ?? undefined,
    request,
    info: { eventName: job.event, iteration: job.info.iteration, iterationCount: job.info.iterationCount, requestName: job.info.requestName, requestId: job.info.requestId },
    environment: { ...scope(scopes.environment, replaceIn), name: '' },
    globals: scope(scopes.globals, replaceIn),
    collectionVariables: scope(scopes.collectionVariables, replaceIn),
    variables: { ...scope(scopes.variables, replaceIn), get: (key: string) => lookup(key), has: (key: string) => lookup(key) !== undefined, toObject: () => ({ ...scopes.globals, ...scopes.collectionVariables, ...scopes.environment, ...scopes.variables }) },
    sendRequest: () => {
      throw new Error('pm.sendRequest is not available here: scripts run without network in this demo')
    },
  }
  // Postman's legacy sandbox.
  const tests: Record<string, unknown> = {}
  const postman = {
    setEnvironmentVariable: (k: string, v: unknown) => pm.environment.set(k, v),
    getEnvironmentVariable: (k: string) => pm.environment.get(k),
    clearEnvironmentVariable: (k: string) => pm.environment.unset(k),
    setGlobalVariable: (k: string, v: unknown) => pm.globals.set(k, v),
    getGlobalVariable: (k: string) => pm.globals.get(k),
    clearGlobalVariable: (k: string) => pm.globals.unset(k),
    getResponseHeader: (k: string) => response?.headers.get(k),
  }
  const requireModule = (name: string) => {
    if (name === 'chai') return chai
    throw new Error(`require('${name}') is not available in this demo's sandbox (only chai)`)
  }
  const legacy = response
    ? {
        responseBody: response.text(),
        responseCode: { code: response.code, name: response.status, detail: response.status },
        responseTime: response.responseTime,
        responseHeaders: response.headers.toObject(),
      }
    : { responseBody: undefined, responseCode: undefined, responseTime: undefined, responseHeaders: undefined }

  let error: string | null = null
  try {
    // A script is a function body with the sandbox's names as parameters (sloppy mode, as Postman's).
    const fn = new Function(
      'pm', 'tests', 'postman', 'require', 'console', 'responseBody', 'responseCode', 'responseTime', 'responseHeaders', 'environment', 'globals', 'request',
      job.script,
    ) as (...args: unknown[]) => unknown
    const out = fn(pm, tests, postman, requireModule, sandboxConsole, legacy.responseBody, legacy.responseCode, legacy.responseTime, legacy.responseHeaders, scopes.environment, scopes.globals, { url: job.request.url, method: job.request.method, headers: Object.fromEntries(headers) })
    if (out && typeof (out as Promise<unknown>).then === 'function') await out
  } catch (e) {
    error = e instanceof SyntaxError ? `the script does not compile: ${e.message}` : `the script threw: ${message(e)}`
  }
  await Promise.all(pending)
  for (const [name, value] of Object.entries(tests)) record(name, Boolean(value), value ? null : `tests["${name}"] is ${show(value)}`)
  return { assertions, scopes, headers, console: logs, error }
}

const safeUrl = (u: string): URL | null => {
  try {
    return new URL(u)
  } catch {
    return null
  }
}

// A dedicated worker's global (the app's tsconfig has the DOM lib, not the worker one).
const worker = self as unknown as {
  onmessage: ((event: MessageEvent<ScriptJob>) => void) | null
  postMessage(message: FromWorker): void
  addEventListener(type: 'unhandledrejection', listener: (e: PromiseRejectionEvent) => void): void
}
// A promise a script left rejected is the script's business (its tests say what failed), not an error to report.
worker.addEventListener('unhandledrejection', (e) => e.preventDefault())
worker.onmessage = (event) => {
  run(event.data).then(
    (result) => worker.postMessage({ type: 'result', result }),
    (e: unknown) =>
      worker.postMessage({ type: 'result', result: { assertions: [], scopes: event.data.scopes, headers: event.data.request.headers, console: [], error: `the sandbox failed: ${String(e)}` } satisfies ScriptResult }),
  )
}
