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
import { FRAME_READY, type FromFrame, type ScriptJob, type ScriptResult, type ToFrame } from './script-protocol.js'
import SandboxWorker from './sandbox-worker.ts?worker&inline'

const failed = (job: ScriptJob, error: string): ScriptResult => ({ assertions: [], scopes: job.scopes, headers: job.request.headers, console: [], error })

function runJob(job: ScriptJob, port: MessagePort): void {
  const worker = new SandboxWorker()
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
    () => finish(failed(job, `the script did not finish within ${job.timeoutMs / 1000} s and was stopped (an endless loop?)`)),
    job.timeoutMs,
  )
  worker.onmessage = (e: MessageEvent<ScriptResult>) => finish(e.data)
  worker.onerror = (e) => {
    e.preventDefault()
    finish(failed(job, `the script failed: ${e.message}`))
  }
  worker.postMessage(job)
}

window.addEventListener('message', (event: MessageEvent<ToFrame>) => {
  // Only the page that embeds this frame gives it work, each job with its own reply port.
  if (event.source !== window.parent || event.data?.type !== 'apisync-run' || !event.ports[0]) return
  runJob(event.data.job, event.ports[0])
})
window.parent.postMessage({ type: FRAME_READY }, '*')
