/** Boot: one App over the relay this page came from, rendered into #app and re-rendered on every change. */
import { App } from './app.js'
import { endRender, patch } from './dom.js'
import { registerSW } from 'virtual:pwa-register'
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
// Leaving a field lets values that arrived meanwhile show (see dom.ts), and ends the person's action there
// (keystrokes in one field are one pending action; the next field starts another).
document.addEventListener('focusout', () => {
  app.view?.breakActions()
  app.invalidate()
})
window.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && (app.ui.menu || app.ui.dialog)) {
    app.ui.menu = null
    app.ui.dialog = null
    app.invalidate()
  }
})
// Closing the tab would lose something: a change not stored yet (or refused by the browser), or changes
// made after this account signed out (they are stored nowhere). The browser asks the person first.
window.addEventListener('beforeunload', (e) => {
  if (!app.life.unsaved()) return
  e.preventDefault()
  e.returnValue = ''
})

// The app shell (service worker, see vite.config.ts): a new build takes over once everything is stored.
if ('serviceWorker' in navigator) {
  registerSW({
    immediate: true,
    // A page left open looks for a new build now and then, and when the network or the tab comes back (the
    // browser itself only looks on navigations).
    onRegisteredSW: (_url, registration) => {
      if (!registration) return
      const check = () => void (navigator.onLine && registration.update().catch(() => {}))
      setInterval(check, 30 * 60_000)
      window.addEventListener('online', check)
      document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && check())
    },
    onNeedReload: () => {
      const reload = () => (app.life.unsaved() || app.ui.dialog ? setTimeout(reload, 2_000) : location.reload())
      app.toast('A new version of the app is ready: it opens in a moment')
      setTimeout(reload, 1_500)
    },
  })
}

app.invalidate()
app.boot().catch((e: unknown) => {
  console.error(e)
  app.booted = true
  app.toast(`Could not start: ${e instanceof Error ? e.message : String(e)}`, 'error')
})
