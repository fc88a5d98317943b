/**
 * The page's side of the script sandbox: one hidden `sandbox="allow-scripts"` iframe (opaque origin, see
 * sandbox-frame.ts), created on first use. Each script goes to it with a private MessageChannel port for the
 * answer; the frame runs it in a fresh worker and terminates that worker at the deadline. Should the frame
 * itself not answer (it is stuck or gone), the page drops it and makes a new one: the app never waits longer
 * than the deadline and a little grace.
 */
import type { Json } from '@apisync/model'
import { FRAME_READY, type FromFrame, type ScriptAssertion, type ScriptJob, type ScriptLog, type ScriptResult, type ToFrame } from './script-protocol.js'

const GRACE_MS = 3_000

export class ScriptSandbox {
  private frame: HTMLIFrameElement | null = null
  private ready: Promise<Window> | null = null

  constructor(private readonly src: string = new URL('sandbox.html', document.baseURI).href) {}

  /** Runs one script; never rejects: failures come back as `error`. */
  async run(job: ScriptJob): Promise<ScriptResult> {
    let target: Window
    try {
      target = await this.open()
    } catch (e) {
      return failed(job, e instanceof Error ? e.message : String(e))
    }
    const channel = new MessageChannel()
    return new Promise<ScriptResult>((resolve) => {
      const watchdog = setTimeout(() => {
        channel.port1.close()
        this.reset()
        resolve(failed(job, `the script did not finish within ${job.timeoutMs / 1000} s and was stopped (an endless loop?)`))
      }, job.timeoutMs + GRACE_MS)
      channel.port1.onmessage = (e: MessageEvent<FromFrame>) => {
        clearTimeout(watchdog)
        channel.port1.close()
        resolve(e.data?.type === 'apisync-result' ? checked(job, e.data.result) : failed(job, 'the sandbox answered something else than a result'))
      }
      target.postMessage({ type: 'apisync-run', job } satisfies ToFrame, '*', [channel.port2])
    })
  }

  /** Removes the frame (a new one is made on the next run). */
  reset(): void {
    this.frame?.remove()
    this.frame = null
    this.ready = null
  }

  private open(): Promise<Window> {
    if (this.ready) return this.ready
    const frame = document.createElement('iframe')
    frame.setAttribute('sandbox', 'allow-scripts')
    frame.setAttribute('referrerpolicy', 'no-referrer')
    frame.setAttribute('aria-hidden', 'true')
    frame.setAttribute('data-testid', 'script-sandbox')
    frame.tabIndex = -1
    frame.style.display = 'none'
    frame.src = this.src
    this.frame = frame
    this.ready = new Promise<Window>((resolve, reject) => {
      const timer = setTimeout(() => {
        window.removeEventListener('message', onMessage)
        this.reset()
        reject(new Error('the script sandbox did not start (is sandbox.html served?)'))
      }, 10_000)
      const onMessage = (e: MessageEvent<{ type?: string }>) => {
        if (e.source !== frame.contentWindow || e.data?.type !== FRAME_READY) return
        clearTimeout(timer)
        window.removeEventListener('message', onMessage)
        resolve(frame.contentWindow!)
      }
      window.addEventListener('message', onMessage)
    })
    document.body.appendChild(frame)
    return this.ready
  }
}

const failed = (job: ScriptJob, error: string): ScriptResult => ({ assertions: [], scopes: job.scopes, headers: job.request.headers, console: [], error })

/** What comes back from the sandbox is the script's: keep only well-formed data of the expected shape. */
function checked(job: ScriptJob, r: unknown): ScriptResult {
  if (typeof r !== 'object' || r === null) return failed(job, 'the sandbox returned no result')
  const o = r as Partial<Record<keyof ScriptResult, unknown>>
  const str = (v: unknown, max = 2_000) => (typeof v === 'string' ? v.slice(0, max) : String(v ?? '').slice(0, max))
  const assertions: ScriptAssertion[] = Array.isArray(o.assertions)
    ? o.assertions.slice(0, 1_000).map((a: unknown) => {
        const x = (a ?? {}) as Record<string, unknown>
        return { name: str(x.name, 500), passed: x.passed === true, error: x.error === null || x.error === undefined ? null : str(x.error), skipped: x.skipped === true }
      })
    : []
  const record = (v: unknown): Record<string, Json> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {}
    const out: Record<string, Json> = {}
    for (const [k, x] of Object.entries(v)) out[k] = JSON.parse(JSON.stringify(x ?? null)) as Json
    return out
  }
  const s = (o.scopes ?? {}) as Record<string, unknown>
  const headers = Array.isArray(o.headers)
    ? o.headers.filter((p): p is [string, string] => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'string').map(([k, v]) => [k, v] as const)
    : job.request.headers
  const levels = new Set(['log', 'info', 'warn', 'error', 'debug'])
  const console: ScriptLog[] = Array.isArray(o.console)
    ? o.console.slice(0, 200).map((l: unknown) => {
        const x = (l ?? {}) as Record<string, unknown>
        return { level: (levels.has(x.level as string) ? x.level : 'log') as ScriptLog['level'], text: str(x.text) }
      })
    : []
  return {
    assertions,
    scopes: { globals: record(s.globals), collectionVariables: record(s.collectionVariables), environment: record(s.environment), variables: record(s.variables) },
    headers,
    console,
    error: o.error === null || o.error === undefined ? null : str(o.error),
  }
}
