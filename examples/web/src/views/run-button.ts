/**
 * ▶ Run for a collection or a folder, beside the name of the environment it will use (this device's choice, made
 * in the top bar): starts the run on this device and shows it in the run results.
 */
import type { App } from '../app.js'
import { h } from '../dom.js'
import { startRun } from '../runner/run.js'
import { activeEnvironmentName } from './env-picker.js'
import { button } from './ui.js'

export function runControls(app: App, collectionId: string, folderId: string | null): HTMLElement | null {
  if (app.view?.readOnly) return null
  return h(
    'div',
    { class: 'run-controls inline-actions' },
    h('span', { class: 'muted small', 'data-testid': 'run-environment', title: 'Choose the environment in the top bar' }, `with ${activeEnvironmentName(app) ?? 'no environment'}`),
    button(
      folderId ? '▶ Run folder' : '▶ Run collection',
      () =>
        app.act(async () => {
          app.select({ kind: 'runs', collectionId })
          await startRun(app, collectionId, { folderId })
        }),
      { class: 'primary', 'data-testid': 'run-target', title: 'Runs its requests in order through the demo server, with their test scripts, and records the result (synced)' },
    ),
  )
}
