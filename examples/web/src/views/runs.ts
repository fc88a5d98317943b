/** Run results of a collection: newman reports imported, each run with pass/fail, its requests and tests. */
import type { RunResult } from '@apisync/model'
import type { App } from '../app.js'
import { h } from '../dom.js'
import { pickFiles } from '../files.js'
import { importFile } from '../postman.js'
import { badge, button, empty } from './ui.js'

export function runsView(app: App, collectionId: string): HTMLElement {
  const view = app.view!
  const collection = view.collections.get(collectionId)?.model
  const runs = view.runs.get(collectionId)
  if (!runs) void view.openRuns(collectionId)
  const list = runs ? [...runs.model.snapshot().runs].sort((a, b) => b.startedAt - a.startedAt) : []
  return h(
    'div',
    { class: 'editor', key: `runs:${collectionId}`, 'data-testid': 'runs-view' },
    h('div', { class: 'breadcrumb' }, h('a', { onclick: () => app.select({ kind: 'collection', collectionId }) }, collection?.snapshot().name || 'Collection'), ' › run results'),
    h(
      'div',
      { class: 'title-row' },
      h('h1', { class: 'title' }, 'Run results'),
      h('span', { class: 'spacer' }),
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
    h('p', { class: 'muted' }, 'Run the collection with newman (', h('code', null, 'newman run collection.json -r json'), ') and import the JSON report. Runs sync like everything else and are never edited.'),
    !runs ? empty('Loading…') : list.length === 0 ? empty('No runs yet.') : h('div', { class: 'runs', 'data-testid': 'runs' }, list.map((r) => runCard(app, r))),
  )
}

const passed = (r: RunResult) => r.totals.failedAssertions === 0 && r.totals.failedRequests === 0 && r.extra.error === undefined

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
      h('span', { class: 'muted' }, r.environmentName ? ` · ${r.environmentName}` : ''),
      h('span', { class: 'spacer' }),
      h('span', { class: 'muted' }, `${r.totals.requests} requests · ${r.totals.assertions - r.totals.failedAssertions}/${r.totals.assertions} tests passed · ${((r.finishedAt - r.startedAt) / 1000).toFixed(1)} s`),
    ),
    open &&
      h(
        'table',
        { class: 'rows executions' },
        h('thead', null, h('tr', null, h('th', null, 'Request'), h('th', null, 'Status'), h('th', null, 'Time'), h('th', null, 'Tests'))),
        h(
          'tbody',
          null,
          r.executions.map((e, i) =>
            h(
              'tr',
              { key: String(i) },
              h('td', null, e.name),
              h('td', null, e.code === null ? e.status || '—' : `${e.code} ${e.status}`),
              h('td', null, e.time === null ? '—' : `${e.time} ms`),
              h(
                'td',
                null,
                e.assertions.length === 0
                  ? h('span', { class: 'muted' }, 'none')
                  : e.assertions.map((a, j) => h('div', { key: String(j), class: a.passed ? 'assert-pass' : 'assert-fail' }, a.passed ? '✓ ' : '✗ ', a.name, a.error ? h('span', { class: 'muted' }, ` — ${a.error}`) : null)),
              ),
            ),
          ),
        ),
      ),
  )
}
