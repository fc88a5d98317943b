/**
 * Run results of a collection: runs made here (live while they go, on every device) and newman reports
 * imported, each with pass/fail, its requests and tests.
 */
import type { Execution, JsonObject, RunProgress, RunResult } from '@apisync/model'
import type { App } from '../app.js'
import { h } from '../dom.js'
import { pickFiles } from '../files.js'
import { importFile } from '../postman.js'
import { localRun } from '../runner/run.js'
import { runControls } from './run-button.js'
import { badge, button, empty } from './ui.js'

/** A run nobody has added to for this long is shown as stalled (its device may be gone). */
const STALLED_MS = 60_000
let refreshing = false

export function runsView(app: App, collectionId: string): HTMLElement {
  const view = app.view!
  const collection = view.collections.get(collectionId)?.model
  const runs = view.runs.get(collectionId)
  if (!runs) void view.openRuns(collectionId)
  const list = runs ? [...runs.model.snapshot().runs].sort((a, b) => b.startedAt - a.startedAt) : []
  const active = runs ? runs.model.snapshot().active : []
  // A run can stall without any change to show it: look again now and then while runs are in progress.
  if (active.length > 0 && !refreshing) {
    refreshing = true
    setTimeout(() => {
      refreshing = false
      app.invalidate()
    }, 10_000)
  }
  return h(
    'div',
    { class: 'editor', key: `runs:${collectionId}`, 'data-testid': 'runs-view' },
    h('div', { class: 'breadcrumb' }, h('a', { onclick: () => app.select({ kind: 'collection', collectionId }) }, collection?.snapshot().name || 'Collection'), ' › run results'),
    h(
      'div',
      { class: 'title-row' },
      h('h1', { class: 'title' }, 'Run results'),
      h('span', { class: 'spacer' }),
      runControls(app, collectionId, null),
      !view.readOnly &&
        button(
          '⤓ Import newman report',
          () =>
            app.act(async () => {
              for (const file of await pickFiles()) await app.done(`the import of ${file.name}`, await importFile(app, file, collectionId))
            }),
          { 'data-testid': 'import-report', class: 'primary' },
        ),
    ),
    h(
      'p',
      { class: 'muted' },
      '▶ Run sends the requests of the collection (or of a folder, from its page) in order through the demo server and runs their test scripts in a sandbox; every device sees the run as it goes. Or run it with newman (',
      h('code', null, 'newman run collection.json -r json'),
      ') and import the JSON report. Finished runs are never edited.',
    ),
    active.length > 0 && h('div', { class: 'runs live-runs' }, active.map((r) => liveCard(app, collectionId, r))),
    !runs ? empty('Loading…') : list.length === 0 ? (active.length ? h('span') : empty('No runs yet.')) : h('div', { class: 'runs', 'data-testid': 'runs' }, list.map((r) => runCard(app, r))),
  )
}

const scriptFailed = (e: Execution) => Array.isArray(e.extra.scriptErrors) && e.extra.scriptErrors.length > 0
const passed = (r: RunResult) => r.totals.failedAssertions === 0 && r.totals.failedRequests === 0 && r.extra.error === undefined && !r.executions.some(scriptFailed)

const who = (extra: JsonObject): string => {
  const target = extra.target as JsonObject | undefined
  const by = extra.by as JsonObject | undefined
  const what = target && typeof target.name === 'string' ? `${target.kind === 'folder' ? 'folder' : 'collection'} “${target.name}”` : ''
  const device = by && typeof by.device === 'string' && by.device ? ` · on ${by.device}` : ''
  return what ? ` · ${what}${device}` : device
}

function liveCard(app: App, collectionId: string, r: RunProgress): HTMLElement {
  const mine = localRun(app, r.id)
  const stalled = !mine && Date.now() - r.updatedAt > STALLED_MS
  const done = r.executions.length
  const failedTests = r.executions.reduce((n, e) => n + e.assertions.filter((a) => !a.passed).length, 0)
  return h(
    'div',
    { key: `live:${r.id}`, class: ['card', 'run', 'run-live'], 'data-testid': 'live-run', 'data-progress': `${done}/${r.planned}`, 'data-run': r.id },
    h(
      'div',
      { class: 'run-head' },
      badge(stalled ? 'STALLED' : 'RUNNING', stalled ? 'fail' : ''),
      h('strong', null, new Date(r.startedAt).toLocaleString()),
      h('span', { class: 'muted' }, `${r.environmentName ? ` · ${r.environmentName}` : ''}${who(r.extra)}`),
      h('span', { class: 'spacer' }),
      h('span', { class: 'muted', 'data-testid': 'live-progress' }, `${done} of ${r.planned} requests${failedTests ? ` · ${failedTests} failed tests` : ''}`),
      mine && button('Stop', () => mine.stop(), { class: 'small danger', 'data-testid': 'stop-run' }),
      stalled &&
        !app.view?.readOnly &&
        button(
          'Mark as interrupted',
          () => app.act(() => app.view?.runs.get(collectionId)?.model.interrupt(r.id, `no progress for a while: marked as interrupted on ${app.profile?.device || 'another device'}`)),
          { class: 'small', 'data-testid': 'interrupt-run' },
        ),
    ),
    h('div', { class: 'progress' }, h('div', { class: 'progress-bar', style: `width:${r.planned ? Math.round((100 * done) / r.planned) : 0}%` })),
    executionsTable(r.executions),
  )
}

function runCard(app: App, r: RunResult): HTMLElement {
  const open = app.ui.openRun === r.id
  const ok = passed(r)
  return h(
    'div',
    { key: r.id, class: ['card', 'run', ok ? 'run-pass' : 'run-fail'], 'data-testid': 'run', 'data-result': ok ? 'pass' : 'fail' },
    h(
      'div',
      {
        class: 'run-head',
        onclick: () => {
          app.ui.openRun = open ? null : r.id
          app.invalidate()
        },
      },
      badge(ok ? 'PASS' : 'FAIL', ok ? 'pass' : 'fail'),
      h('strong', null, new Date(r.startedAt).toLocaleString()),
      h('span', { class: 'muted' }, `${r.environmentName ? ` · ${r.environmentName}` : ''}${who(r.extra)}`),
      typeof r.extra.error === 'string' && h('span', { class: 'muted small', 'data-testid': 'run-error' }, ` · ${r.extra.error}`),
      h('span', { class: 'spacer' }),
      h('span', { class: 'muted', 'data-testid': 'run-totals' }, `${r.totals.requests} requests · ${r.totals.assertions - r.totals.failedAssertions}/${r.totals.assertions} tests passed · ${((r.finishedAt - r.startedAt) / 1000).toFixed(1)} s`),
    ),
    open && executionsTable(r.executions),
  )
}

function executionsTable(executions: readonly Execution[]): HTMLElement {
  return h(
    'table',
    { class: 'rows executions', 'data-testid': 'executions' },
    h('thead', null, h('tr', null, h('th', null, 'Request'), h('th', null, 'Status'), h('th', null, 'Time'), h('th', null, 'Tests'))),
    h(
      'tbody',
      null,
      executions.map((e, i) => {
        const problems = [...(typeof e.extra.requestError === 'string' ? [e.extra.requestError] : []), ...(Array.isArray(e.extra.scriptErrors) ? e.extra.scriptErrors.map(String) : [])]
        return h(
          'tr',
          { key: String(i), 'data-testid': 'execution', 'data-name': e.name },
          h('td', null, e.name),
          h('td', null, e.code === null ? e.status || '—' : `${e.code} ${e.status}`),
          h('td', null, e.time === null ? '—' : `${e.time} ms`),
          h(
            'td',
            null,
            problems.map((p, j) => h('div', { key: `p${j}`, class: 'assert-fail', 'data-testid': 'execution-error' }, '✗ ', p)),
            e.assertions.length === 0 && problems.length === 0
              ? h('span', { class: 'muted' }, 'none')
              : e.assertions.map((a, j) => h('div', { key: String(j), class: a.passed ? 'assert-pass' : 'assert-fail', 'data-testid': 'assertion', 'data-passed': String(a.passed) }, a.passed ? '✓ ' : '✗ ', a.name, a.error ? h('span', { class: 'muted' }, ` — ${a.error}`) : null)),
          ),
        )
      }),
    ),
  )
}
