/** ▶ Run for a collection or a folder: starts the run on this device and shows it in the run results. */
import type { App } from '../app.js'
import { startRun } from '../runner/run.js'
import { button } from './ui.js'

export function runButton(app: App, collectionId: string, folderId: string | null): HTMLElement | null {
  if (app.view?.readOnly) return null
  return button(
    folderId ? '▶ Run folder' : '▶ Run collection',
    () =>
      app.act(async () => {
        app.select({ kind: 'runs', collectionId })
        await startRun(app, collectionId, { folderId })
      }),
    { 'data-testid': 'run-target', title: 'Runs its requests in order through the demo server, with the test scripts, and records the result (synced)' },
  )
}
