/**
 * The Send button and the response panel of the request editor: status, time, size, headers, the body (JSON
 * pretty-printed, or raw), test results and console of the request's scripts, and Save as example.
 */
import type { RequestSnapshot } from '@apisync/model'
import type { App } from '../app.js'
import { h } from '../dom.js'
import { type ResponseTab, cancelSend, responseUi, saveAsExample, send, sendState } from '../responses.js'
import type { Outcome } from '../runner/execute.js'
import { headerOf } from '../send.js'
import './send-run.css'
import { badge, button, empty, tabs } from './ui.js'

/** Bodies longer than this are shown cut (the whole body is still what Save as example keeps). */
const SHOWN_CHARS = 512 * 1024

export function sendButton(app: App, collectionId: string, req: RequestSnapshot): HTMLElement {
  const s = sendState(app, req.id)
  if (s?.phase === 'sending') return button('Cancel', () => cancelSend(app, req.id), { class: 'send-btn', 'data-testid': 'cancel-send' })
  return button('Send', () => app.act(() => send(app, collectionId, req.id)), { class: ['primary', 'send-btn'], 'data-testid': 'send' })
}

const bytes = (n: number): string => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`)

const statusClass = (code: number) => (code >= 200 && code < 300 ? 'ok' : code >= 300 && code < 400 ? 'redirect' : 'error')

export function responsePanel(app: App, collectionId: string, req: RequestSnapshot): HTMLElement | null {
  const s = sendState(app, req.id)
  if (!s) return h('div', { class: 'response-panel empty-response', key: 'response', 'data-testid': 'response-panel' }, h('p', { class: 'muted' }, 'Send the request to see its response here.'))
  if (s.phase === 'sending')
    return h('div', { class: 'response-panel', key: 'response', 'data-testid': 'response-panel', 'data-phase': 'sending' }, h('p', { class: 'muted', 'data-testid': 'sending' }, 'Sending…'))
  const o = s.outcome
  const head: (HTMLElement | null)[] = []
  if (o.built) head.push(h('div', { class: 'muted small sent-line', 'data-testid': 'sent-url' }, `${o.built.method} ${o.built.displayUrl}${s.environmentName ? ` · environment “${s.environmentName}”` : ''}`))
  for (const w of o.built?.warnings ?? []) head.push(h('div', { class: 'warn-line small', 'data-testid': 'send-warning' }, `⚠ ${w}`))
  for (const e of o.scriptErrors) head.push(h('div', { class: 'error-line small', 'data-testid': 'script-error' }, `✗ ${e}`))
  if (s.unplaced.length) head.push(h('div', { class: 'warn-line small' }, `⚠ set by a script but no such variable to keep it in: ${s.unplaced.join(', ')}`))
  if (o.failure || !o.response) {
    const f = o.failure ?? { code: 'NETWORK', message: 'no response' }
    return h(
      'div',
      { class: 'response-panel', key: 'response', 'data-testid': 'response-panel', 'data-phase': 'error' },
      head,
      h(
        'div',
        { class: 'response-error', 'data-testid': 'response-error', 'data-code': f.code },
        h('strong', null, f.code === 'CANCELLED' ? 'Cancelled' : 'Could not get a response'),
        h('div', { 'data-testid': 'response-error-message' }, f.message),
      ),
    )
  }
  const r = o.response
  const ui = responseUi(app)
  const failed = o.assertions.filter((a) => !a.passed && !a.skipped).length
  const tab = ui.tab
  return h(
    'div',
    { class: 'response-panel', key: 'response', 'data-testid': 'response-panel', 'data-phase': 'done' },
    head,
    h(
      'div',
      { class: 'response-meta' },
      h('span', { class: ['status-pill', `status-${statusClass(r.meta.status)}`], 'data-testid': 'response-status' }, `${r.meta.status} ${r.meta.statusText}`),
      h('span', { class: 'muted', 'data-testid': 'response-time' }, `${r.meta.timeMs} ms`),
      h('span', { class: 'muted', 'data-testid': 'response-size' }, bytes(r.meta.size)),
      r.meta.redirects > 0 && h('span', { class: 'muted small' }, `${r.meta.redirects} redirect${r.meta.redirects === 1 ? '' : 's'}`),
      h('span', { class: 'spacer' }),
      !app.view?.readOnly &&
        button(
          'Save as example',
          () =>
            app.openDialog({
              title: 'Save response as example',
              body: 'A saved response belongs to the request: it syncs to every device and teammate.',
              fields: [{ name: 'name', label: 'Name', value: `${r.meta.status} ${r.meta.statusText}`.trim() }],
              submit: 'Save',
              onSubmit: (values) => {
                saveAsExample(app, collectionId, req.id, values.name ?? '')
                app.toast('Saved as an example of this request')
              },
            }),
          { class: 'small', 'data-testid': 'save-example' },
        ),
    ),
    tabs<ResponseTab>(
      tab,
      [
        { id: 'body', label: 'Body' },
        { id: 'headers', label: ['Headers', h('span', { class: 'tab-count' }, String(r.meta.headers.length))] },
        { id: 'tests', label: ['Tests', o.assertions.length ? h('span', { class: ['tab-count', failed ? 'count-bad' : 'count-ok'], 'data-testid': 'tests-count' }, `${o.assertions.length - failed}/${o.assertions.length}`) : null] },
        { id: 'console', label: ['Console', o.console.length ? h('span', { class: 'tab-count' }, String(o.console.length)) : null] },
      ],
      (t) => {
        ui.tab = t
        app.invalidate()
      },
    ),
    h('div', { class: 'response-body-wrap' }, tabContent(app, tab, s.outcome)),
  )
}

function tabContent(app: App, tab: ResponseTab, o: Outcome): HTMLElement | HTMLElement[] {
  const r = o.response!
  const ui = responseUi(app)
  switch (tab) {
    case 'body': {
      const type = headerOf(r.meta.headers, 'content-type') ?? ''
      const textual = r.body.byteLength === 0 || /json|text|xml|html|javascript|csv|yaml|graphql|x-www-form-urlencoded/i.test(type) || !/[\u0000-\u0008\u000e-\u001f]/.test(r.text.slice(0, 4096))
      if (!textual) return empty(`Binary body (${bytes(r.meta.size)}, ${type || 'no content type'}): not shown.`)
      let pretty: string | null = null
      if (/json/i.test(type) || /^\s*[[{]/.test(r.text)) {
        try {
          pretty = JSON.stringify(JSON.parse(r.text), null, 2)
        } catch {
          pretty = null
        }
      }
      const raw = ui.raw || pretty === null
      const text = raw ? r.text : pretty!
      return [
        h(
          'div',
          { class: 'segmented small-seg' },
          h('button', { type: 'button', class: ['seg', !raw && 'active'], disabled: pretty === null, 'data-testid': 'view-pretty', onclick: () => ((ui.raw = false), app.invalidate()) }, 'Pretty'),
          h('button', { type: 'button', class: ['seg', raw && 'active'], 'data-testid': 'view-raw', onclick: () => ((ui.raw = true), app.invalidate()) }, 'Raw'),
        ),
        h('pre', { class: 'response-body', 'data-testid': 'response-body', 'data-view': raw ? 'raw' : 'pretty' }, text.length > SHOWN_CHARS ? text.slice(0, SHOWN_CHARS) : text),
        text.length > SHOWN_CHARS ? h('p', { class: 'muted small' }, `Showing the first ${bytes(SHOWN_CHARS)} of ${bytes(text.length)}.`) : h('span'),
      ]
    }
    case 'headers':
      return h(
        'table',
        { class: 'rows response-headers', 'data-testid': 'response-headers' },
        h('tbody', null, r.meta.headers.map(([k, v], i) => h('tr', { key: String(i) }, h('td', { class: 'header-name' }, k), h('td', null, v)))),
      )
    case 'tests':
      return o.assertions.length === 0
        ? empty('No tests ran. Write some in the Scripts tab: pm.test("status is 200", () => pm.response.to.have.status(200))')
        : h(
            'div',
            { 'data-testid': 'test-results' },
            o.assertions.map((a, i) =>
              h(
                'div',
                { key: String(i), class: ['assertion', a.skipped ? 'assert-skip' : a.passed ? 'assert-pass' : 'assert-fail'], 'data-testid': 'assertion', 'data-passed': String(a.passed) },
                badge(a.skipped ? 'SKIP' : a.passed ? 'PASS' : 'FAIL', a.skipped ? '' : a.passed ? 'pass' : 'fail'),
                ' ',
                a.name,
                a.error ? h('span', { class: 'muted' }, ` — ${a.error}`) : null,
              ),
            ),
          )
    case 'console':
      return o.console.length === 0
        ? empty('Nothing logged. console.log in a script shows here.')
        : h('pre', { class: 'console', 'data-testid': 'console' }, o.console.map((l) => `${l.level === 'log' ? '' : `[${l.level}] `}${l.text}`).join('\n'))
  }
}
