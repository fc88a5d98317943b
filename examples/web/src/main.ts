/** Boot: one App over the relay this page came from, rendered into #app and re-rendered on every change. */
import { App } from './app.js'
import { endRender, patch } from './dom.js'
import './styles.css'
import { shell } from './views/shell.js'

const root = document.getElementById('app')!
let mounted: Node | null = null
let focusedDialog: string | null = null
let renders = 0

const render = (): void => {
  // Every render is measured (performance.measure 'apisync:render'): the browser tests and the bench read it.
  performance.mark('apisync:render:start')
  const next = shell(app)
  if (!mounted) mounted = root.appendChild(next)
  else mounted = patch(mounted, next)
  endRender()
  performance.measure('apisync:render', 'apisync:render:start')
  if (++renders % 1000 === 0) performance.clearMeasures('apisync:render')
  app.persistUi()
  // A dialog that just opened takes the focus (autofocus only acts on page load).
  const title = app.ui.dialog?.title ?? null
  if (title !== focusedDialog) {
    focusedDialog = title
    root.querySelector<HTMLElement>('.modal [autofocus], .modal input, .modal select, .modal textarea')?.focus()
  }
  root.querySelector<HTMLElement>('input.rename:not(:focus)')?.focus()
}

const app = new App(location.origin, render)
// For tests and the curious: the app's state and actions (window.apisync).
;(window as unknown as { apisync: App }).apisync = app
// Leaving a field lets values that arrived meanwhile show (see dom.ts).
document.addEventListener('focusout', () => app.invalidate())
window.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && (app.ui.menu || app.ui.dialog)) {
    app.ui.menu = null
    app.ui.dialog = null
    app.invalidate()
  }
})
app.invalidate()
app.boot().catch((e: unknown) => {
  console.error(e)
  app.booted = true
  app.toast(`Could not start: ${e instanceof Error ? e.message : String(e)}`, 'error')
})
