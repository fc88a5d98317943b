/** Boot: one App over the relay this page came from, rendered into #app and re-rendered on every change. */
import { App } from './app.js'
import { patch } from './dom.js'
import './styles.css'
import { shell } from './views/shell.js'

const root = document.getElementById('app')!
let mounted: Node | null = null
let focusedDialog: string | null = null

const render = (): void => {
  const next = shell(app)
  if (!mounted) mounted = root.appendChild(next)
  else mounted = patch(mounted, next)
  // A dialog that just opened takes the focus (autofocus only acts on page load).
  const title = app.ui.dialog?.title ?? null
  if (title !== focusedDialog) {
    focusedDialog = title
    root.querySelector<HTMLElement>('.modal [autofocus], .modal input, .modal select, .modal textarea')?.focus()
  }
  root.querySelector<HTMLElement>('input.rename:not(:focus)')?.focus()
}

const app = new App(location.origin, render)
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
