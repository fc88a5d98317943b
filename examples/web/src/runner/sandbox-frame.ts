/**
 * The sandbox page (sandbox.html), loaded by the app in an iframe with `sandbox="allow-scripts"` and no
 * `allow-same-origin`, and served with a CSP that sandboxes it the same way even when opened directly: its
 * origin is opaque, so nothing here can read the app's IndexedDB, localStorage, cookies or DOM; `connect-src
 * 'none'` (inherited by its blob: worker) leaves it no network.
 *
 * Each script runs in a fresh dedicated worker made here (so it is opaque-origin too): the frame's own thread
 * stays free, so an endless loop is stopped by terminating the worker after the job's deadline, and the app's
 * page, whichever process the frame shares with it, never waits on a script.
 */
import { FRAME_READY, type FromFrame, type FromWorker, type ScriptAssertion, type ScriptJob, type ScriptLog, type ScriptResult, type ToFrame } from './script-protocol.js'
import SandboxWorker from './sandbox-worker.ts?worker&inline'

const failed = (job: ScriptJob, error: string, assertions: ScriptAssertion[] = [], console: ScriptLog[] = []): ScriptResult => ({ assertions, scopes: job.scopes, headers: job.request.headers, console, error })

function runJob(job: ScriptJob, port: MessagePort): void {
  const worker = new SandboxWorker()
  // What the script did before it is stopped, if it is.
  const assertions: ScriptAssertion[] = []
  const logs: ScriptLog[] = []
  let done = false
  const finish = (result: ScriptResult) => {
    if (done) return
    done = true
    clearTimeout(timer)
    worker.terminate()
    port.postMessage({ type: 'apisync-result', result } satisfies FromFrame)
    port.close()
  }
  const timer = setTimeout(
    () => finish(failed(job, `the script did not finish within ${job.timeoutMs / 1000} s and was stopped (an endless loop?)`, assertions, logs)),
    job.timeoutMs,
  )
  worker.onmessage = (e: MessageEvent<FromWorker>) => {
    const m = e.data
    if (m?.type === 'assertion') assertions.push(m.assertion)
    else if (m?.type === 'log') logs.push(m.log)
    else if (m?.type === 'result') finish(m.result)
  }
  worker.onerror = (e) => {
    e.preventDefault()
    finish(failed(job, `the script failed: ${e.message}`, assertions, logs))
  }
  worker.postMessage(job)
}

window.addEventListener('message', (event: MessageEvent<ToFrame>) => {
  // Only the page that embeds this frame gives it work, each job with its own reply port.
  if (event.source !== window.parent || event.data?.type !== 'apisync-run' || !event.ports[0]) return
  runJob(event.data.job, event.ports[0])
})
window.parent.postMessage({ type: FRAME_READY }, '*')
