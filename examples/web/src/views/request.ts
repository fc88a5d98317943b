/** The request editor: method, URL, params, headers, body, auth, scripts, saved responses, docs. */
import type { Auth, CollectionModel, FormParam, JsonObject, RequestSnapshot, TextField } from '@apisync/model'
import type { App, RequestTab } from '../app.js'
import { h } from '../dom.js'
import { type VariableContext, referencedVariables, variableContext } from '../variables-in-use.js'
import { responsePanel, sendButton } from './response.js'
import { description } from './markdown.js'
import { button, empty, field, iconButton, rowsTable, select, tabs } from './ui.js'
import { stateOf, withVariables } from './var-field.js'

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']
const BODY_MODES = ['none', 'raw', 'urlencoded', 'formdata', 'file', 'graphql']
const LANGUAGES = ['text', 'json', 'javascript', 'html', 'xml']

export function requestEditor(app: App, collectionId: string, req: RequestSnapshot): HTMLElement {
  const view = app.view!
  const model = view.collections.get(collectionId)!.model
  const ro = view.readOnly
  const edit = (fn: (m: CollectionModel) => void) => app.edit(collectionId, fn)
  const id = req.id
  const tab = app.ui.requestTab
  const count = (n: number) => (n ? h('span', { class: 'tab-count' }, String(n)) : null)
  const vars = variableContext(app, collectionId)
  return h(
    'div',
    { class: 'editor request-editor', key: `request:${id}`, 'data-testid': 'request-editor', 'data-name': req.name },
    breadcrumb(app, collectionId, id),
    h(
      'div',
      { class: 'title-row' },
      field(req.name, (v) => edit((m) => m.updateItem(id, { name: v })), { class: 'title-input', disabled: ro, 'aria-label': 'Request name', 'data-testid': 'request-name' }),
      !view.local && button('History', () => app.select({ kind: 'history', collectionId, id }), { class: 'small', 'data-testid': 'open-history' }),
    ),
    h(
      'div',
      { class: 'url-bar' },
      methodSelect(app, req.method, ro, (method) => edit((m) => m.updateItem(id, { method }))),
      withVariables(
        field(req.url.raw, (raw) => edit((m) => m.updateItem(id, { url: { raw } })), {
          class: 'url-input',
          disabled: ro,
          placeholder: 'https://api.example.com/users/:id?verbose=1  ({{variables}} welcome)',
          'aria-label': 'URL',
          'data-testid': 'url-input',
        }),
        req.url.raw,
        vars,
        `${id}:url`,
      ),
      sendButton(app, collectionId, req),
    ),
    unresolvedLine(req, vars),
    tabs<RequestTab>(
      tab,
      [
        { id: 'params', label: ['Params', count(req.url.query.length)] },
        { id: 'headers', label: ['Headers', count(req.headers.length)] },
        { id: 'body', label: ['Body', req.body.mode && req.body.mode !== 'none' ? h('span', { class: 'tab-count' }, req.body.mode) : null] },
        { id: 'auth', label: ['Auth', req.auth ? h('span', { class: 'tab-count' }, String(req.auth.type ?? '')) : null] },
        { id: 'scripts', label: ['Scripts', req.scripts.prerequest || req.scripts.test ? h('span', { class: 'tab-dot' }) : null] },
        { id: 'examples', label: ['Examples', count(req.responses.length)] },
        { id: 'docs', label: 'Docs' },
      ],
      (t) => {
        app.ui.requestTab = t
        app.invalidate()
      },
    ),
    h('div', { class: 'tab-body' }, tabBody(app, collectionId, model, req, tab, ro, edit, vars)),
    responsePanel(app, collectionId, req),
  )
}

/** The `{{variables}}` of the request that resolve to nothing on this device, named once. */
function unresolvedLine(req: RequestSnapshot, vars: VariableContext): HTMLElement {
  const texts = [req.url.raw, ...req.headers.filter((x) => x.enabled).flatMap((x) => [x.key, x.value]), ...req.url.variables.map((v) => v.value), JSON.stringify(req.auth ?? {})]
  if (req.body.mode === 'raw') texts.push(req.body.raw)
  if (req.body.mode === 'urlencoded') texts.push(...req.body.urlencoded.filter((x) => x.enabled).flatMap((x) => [x.key, x.value]))
  if (req.body.mode === 'formdata') texts.push(...req.body.formdata.filter((x) => x.enabled).flatMap((x) => [x.key, x.value]))
  if (req.body.mode === 'graphql') texts.push(req.body.graphql.query, req.body.graphql.variables)
  const missing = referencedVariables(texts.join('\n')).filter((n) => stateOf(vars, n) !== 'resolved')
  return h(
    'div',
    { class: ['unresolved-line', 'small', missing.length === 0 && 'hidden'], 'data-testid': 'unresolved-vars', 'data-count': String(missing.length) },
    missing.length ? `⚠ Unresolved ${missing.length === 1 ? 'variable' : 'variables'}: ${missing.map((n) => `{{${n}}}`).join(', ')}${vars.environmentName ? '' : ' — no environment is selected'}` : '',
  )
}

/** A row's value field with its `{{variables}}` marked. */
const varValue = (vars: VariableContext, key: string, value: string, commit: (v: string) => void, ro: boolean): HTMLElement =>
  withVariables(field(value, commit, { disabled: ro, placeholder: 'value', 'aria-label': 'value' }), value, vars, key)

function breadcrumb(app: App, collectionId: string, id: string): HTMLElement {
  const model = app.collection(collectionId)!
  const parts: string[] = []
  for (let p = model.parentId(id); p; p = model.parentId(p)) parts.unshift(model.get(p)?.name ?? '')
  return h(
    'div',
    { class: 'breadcrumb' },
    h('a', { onclick: () => app.select({ kind: 'collection', collectionId }) }, model.snapshot().name || 'Collection'),
    parts.map((p, i) => h('span', { key: String(i) }, ' › ', p)),
  )
}

function methodSelect(app: App, method: string, ro: boolean, commit: (m: string) => void): HTMLElement {
  const options = METHODS.includes(method) ? METHODS : [...METHODS, method]
  return select(
    method,
    [...options, { value: '__custom', label: 'Custom…' }],
    (v) => {
      if (v !== '__custom') return commit(v)
      app.invalidate()
      app.openDialog({
        title: 'Custom method',
        fields: [{ name: 'method', label: 'HTTP method', placeholder: 'PROPFIND' }],
        submit: 'Use',
        onSubmit: (values) => {
          const custom = values.method?.trim().toUpperCase()
          if (!custom || !/^[!#$%&'*+\-.^_`|~0-9A-Z]+$/.test(custom)) return 'a method is one word (letters, digits, some symbols)'
          commit(custom)
        },
      })
    },
    { class: ['method-select', `m-${method.toLowerCase()}`], disabled: ro, 'aria-label': 'Method', 'data-testid': 'method-select' },
  )
}

/** A textarea that edits a Y.Text character by character (concurrent edits merge). */
export function textEditor(app: App, collectionId: string, model: CollectionModel, ownerId: string, textField: TextField, ro: boolean, props: Record<string, unknown> = {}): HTMLElement {
  return h('textarea', {
    key: `${ownerId}:${textField}`,
    class: 'code',
    spellcheck: 'false',
    rows: '8',
    readOnly: ro,
    ytext: model.text(ownerId, textField),
    onedit: ro ? undefined : (index: number, del: number, insert: string) => app.edit(collectionId, (m) => m.editText(ownerId, textField, index, del, insert)),
    ...props,
  })
}

function tabBody(
  app: App,
  collectionId: string,
  model: CollectionModel,
  req: RequestSnapshot,
  tab: RequestTab,
  ro: boolean,
  edit: (fn: (m: CollectionModel) => void) => void,
  vars: VariableContext,
): HTMLElement | HTMLElement[] {
  const id = req.id
  switch (tab) {
    case 'params':
      return [
        h('h3', null, 'Query parameters'),
        rowsTable({
          rows: req.url.query,
          readOnly: ro,
          testid: 'query-rows',
          valueCell: (r) => varValue(vars, `${id}:q:${r.id}`, r.value, (value) => edit((m) => m.updateRow(id, 'query', r.id, { value })), ro),
          onUpdate: (row, patch) => edit((m) => m.updateRow(id, 'query', row, patch)),
          onRemove: (row) => edit((m) => m.removeRow(id, 'query', row)),
          onAdd: (row) => edit((m) => m.addRow(id, 'query', row)),
        }),
        req.url.variables.length > 0 && h('h3', null, 'Path variables'),
        req.url.variables.length > 0 &&
          rowsTable({
            rows: req.url.variables,
            readOnly: ro,
            testid: 'path-rows',
            enabled: false,
            onUpdate: (row, patch) => edit((m) => m.updateRow(id, 'pathVariables', row, patch)),
            onRemove: (row) => edit((m) => m.removeRow(id, 'pathVariables', row)),
            onAdd: (row) => edit((m) => m.addRow(id, 'pathVariables', row)),
          }),
      ].filter(Boolean) as HTMLElement[]
    case 'headers': {
      const presets = app.view!.manifest.snapshot().headerPresets
      return [
        rowsTable({
          rows: req.headers,
          readOnly: ro,
          testid: 'header-rows',
          valueCell: (r) => varValue(vars, `${id}:h:${r.id}`, r.value, (value) => edit((m) => m.updateRow(id, 'headers', r.id, { value })), ro),
          onUpdate: (row, patch) => edit((m) => m.updateRow(id, 'headers', row, patch)),
          onRemove: (row) => edit((m) => m.removeRow(id, 'headers', row)),
          onAdd: (row) => edit((m) => m.addRow(id, 'headers', row)),
        }),
        !ro && presets.length > 0
          ? h(
              'div',
              { class: 'inline-actions' },
              select(
                '',
                [{ value: '', label: 'Add headers from a preset…' }, ...presets.map((p) => ({ value: p.id, label: `${p.name} (${p.headers.length})` }))],
                (presetId) => {
                  const preset = presets.find((p) => p.id === presetId)
                  if (preset)
                    edit((m) => m.transact(() => preset.headers.forEach((hd) => m.addRow(id, 'headers', { key: hd.key, value: hd.value, enabled: hd.enabled, description: hd.description }))))
                },
                { key: 'apply-preset', 'data-testid': 'apply-preset', 'aria-label': 'Add headers from a preset' },
              ),
            )
          : h('span'),
      ]
    }
    case 'body':
      return bodyEditor(app, collectionId, model, req, ro, edit, vars)
    case 'auth':
      return authEditor(req.auth, ro, (auth) => edit((m) => m.updateItem(id, { auth })), true, vars, id)
    case 'scripts':
      return [
        h('h3', null, 'Pre-request script'),
        textEditor(app, collectionId, model, id, 'prerequest', ro, { 'data-testid': 'script-prerequest', placeholder: '// runs before the request' }),
        h('h3', null, 'Tests'),
        textEditor(app, collectionId, model, id, 'test', ro, { 'data-testid': 'script-test', placeholder: "pm.test('status is 200', () => pm.response.to.have.status(200))" }),
        h('p', { class: 'muted small' }, 'Scripts merge character by character: two people typing here at once both keep their text.'),
      ]
    case 'examples':
      return [
        req.responses.length === 0 && empty('No saved responses. Save one to show what this request returns.'),
        ...req.responses.map((r) =>
          h(
            'div',
            { key: r.id, class: 'card example', 'data-testid': 'example' },
            h(
              'div',
              { class: 'example-head' },
              field(r.name, (v) => edit((m) => m.updateResponse(r.id, { name: v })), { disabled: ro, class: 'grow', 'aria-label': 'Example name' }),
              field(r.code === null ? '' : String(r.code), (v) => edit((m) => m.updateResponse(r.id, { code: v === '' ? null : Number(v) })), { disabled: ro, class: 'code-input', 'aria-label': 'Status code' }),
              field(r.status, (v) => edit((m) => m.updateResponse(r.id, { status: v })), { disabled: ro, class: 'status-input', 'aria-label': 'Status text' }),
              !ro && iconButton('✕', 'Delete example', () => edit((m) => m.deleteResponse(r.id)), { class: 'subtle' }),
            ),
            r.headers.length > 0 && h('div', { class: 'muted small' }, r.headers.map((hd) => `${hd.key}: ${hd.value}`).join(' · ')),
            textEditor(app, collectionId, model, r.id, 'body', ro, { rows: '6', placeholder: 'Response body' }),
          ),
        ),
        !ro && button('+ Save an example response', () => edit((m) => m.addResponse(id, { name: 'Example', code: 200, status: 'OK' })), { 'data-testid': 'add-example' }),
      ].filter(Boolean) as HTMLElement[]
    case 'docs':
      return description(app, collectionId, model, id, ro, '12')
  }
}

function bodyEditor(app: App, collectionId: string, model: CollectionModel, req: RequestSnapshot, ro: boolean, edit: (fn: (m: CollectionModel) => void) => void, vars: VariableContext): HTMLElement[] {
  const id = req.id
  const mode = req.body.mode ?? 'none'
  const modes = BODY_MODES.includes(mode) ? BODY_MODES : [...BODY_MODES, mode]
  const out: HTMLElement[] = [
    h(
      'div',
      { class: 'segmented', role: 'radiogroup', 'data-testid': 'body-mode' },
      modes.map((m) =>
        h(
          'label',
          { key: m, class: ['seg', m === mode && 'active'] },
          h('input', { type: 'radio', name: `mode-${id}`, value: m, checked: m === mode, disabled: ro, onchange: () => edit((x) => x.updateItem(id, { body: { mode: m === 'none' ? null : m } })) }),
          m,
        ),
      ),
    ),
  ]
  if (mode === 'raw')
    out.push(
      h('div', { class: 'inline-actions' }, select(req.body.language || 'text', LANGUAGES.includes(req.body.language) || !req.body.language ? LANGUAGES : [...LANGUAGES, req.body.language], (language) => edit((m) => m.updateItem(id, { body: { language } })), { disabled: ro, 'aria-label': 'Language' })),
      withVariables(textEditor(app, collectionId, model, id, 'bodyRaw', ro, { rows: '12', 'data-testid': 'body-raw' }), req.body.raw, vars, `${id}:body`),
    )
  else if (mode === 'urlencoded')
    out.push(
      rowsTable({
        rows: req.body.urlencoded,
        readOnly: ro,
        testid: 'urlencoded-rows',
        valueCell: (r) => varValue(vars, `${id}:u:${r.id}`, r.value, (value) => edit((m) => m.updateRow(id, 'urlencoded', r.id, { value })), ro),
        onUpdate: (row, patch) => edit((m) => m.updateRow(id, 'urlencoded', row, patch)),
        onRemove: (row) => edit((m) => m.removeRow(id, 'urlencoded', row)),
        onAdd: (row) => edit((m) => m.addRow(id, 'urlencoded', row)),
      }),
    )
  else if (mode === 'formdata')
    out.push(
      rowsTable<FormParam>({
        rows: req.body.formdata,
        readOnly: ro,
        testid: 'formdata-rows',
        onUpdate: (row, patch) => edit((m) => m.updateRow(id, 'formdata', row, patch)),
        onRemove: (row) => edit((m) => m.removeRow(id, 'formdata', row)),
        onAdd: (row) => edit((m) => m.addRow(id, 'formdata', { ...row, type: 'text' })),
        valueCell: (r) =>
          h(
            'div',
            { class: 'form-value' },
            select(r.type, ['text', 'file'], (type) => edit((m) => m.updateRow(id, 'formdata', r.id, { type })), { disabled: ro, class: 'narrow' }),
            r.type === 'file'
              ? field(typeof r.src === 'string' ? r.src : JSON.stringify(r.src ?? ''), (src) => edit((m) => m.updateRow(id, 'formdata', r.id, { src })), { disabled: ro, placeholder: 'file path' })
              : field(r.value, (value) => edit((m) => m.updateRow(id, 'formdata', r.id, { value })), { disabled: ro, placeholder: 'value' }),
          ),
      }),
    )
  else if (mode === 'file') {
    const file = req.body.file as { src?: unknown } | null
    out.push(
      h(
        'label',
        { class: 'form-field' },
        h('span', null, 'File to send'),
        field(typeof file?.src === 'string' ? file.src : '', (src) => edit((m) => m.updateItem(id, { body: { file: { ...(file as JsonObject | null), src } } })), { disabled: ro, placeholder: 'path/to/file.bin' }),
      ),
    )
  } else if (mode === 'graphql')
    out.push(
      h('h3', null, 'Query'),
      textEditor(app, collectionId, model, id, 'graphqlQuery', ro, { rows: '10' }),
      h('h3', null, 'Variables (JSON)'),
      textEditor(app, collectionId, model, id, 'graphqlVariables', ro, { rows: '4' }),
    )
  else if (mode === 'none') out.push(empty('This request has no body.'))
  return out
}

const AUTH_TYPES = ['noauth', 'basic', 'bearer', 'apikey', 'digest', 'oauth1', 'oauth2', 'hawk', 'awsv4', 'ntlm', 'edgegrid']
const AUTH_DEFAULT_KEYS: Record<string, string[]> = {
  basic: ['username', 'password'],
  bearer: ['token'],
  apikey: ['key', 'value', 'in'],
  digest: ['username', 'password'],
}

interface AuthParam {
  key: string
  value: string
}

/** Auth params as Postman keeps them: a list of `{ key, value, type }` (v2.1) or an object (v2.0). */
const authParams = (auth: JsonObject, type: string): AuthParam[] => {
  const raw = auth[type]
  if (Array.isArray(raw))
    return raw.map((p) => {
      const o = (p ?? {}) as JsonObject
      return { key: String(o.key ?? ''), value: typeof o.value === 'string' ? o.value : JSON.stringify(o.value ?? '') }
    })
  if (raw && typeof raw === 'object') return Object.entries(raw).map(([key, value]) => ({ key, value: typeof value === 'string' ? value : JSON.stringify(value) }))
  return []
}

const withParam = (auth: JsonObject, type: string, key: string, value: string): JsonObject => {
  const raw = auth[type]
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) return { ...auth, [type]: { ...(raw as JsonObject), [key]: value } }
  const list = Array.isArray(raw) ? [...raw] : []
  const at = list.findIndex((p) => (p as JsonObject)?.key === key)
  if (at >= 0) list[at] = { ...(list[at] as JsonObject), value }
  else list.push({ key, value, type: 'string' })
  return { ...auth, [type]: list }
}

/** Auth of a request, folder or collection: inherit (null), none, or a type with its params. */
export function authEditor(auth: Auth, ro: boolean, commit: (auth: Auth) => void, canInherit: boolean, vars?: VariableContext, ownerId = ''): HTMLElement {
  const type = auth === null ? 'inherit' : String(auth.type ?? 'noauth')
  const types = [...(canInherit ? ['inherit'] : []), ...AUTH_TYPES]
  const params = auth && type !== 'noauth' ? authParams(auth, type) : []
  const secretKey = (k: string) => /password|secret|token|key$/i.test(k) && k !== 'key'
  const keys = [...params.map((p) => p.key), ...(AUTH_DEFAULT_KEYS[type] ?? []).filter((k) => !params.some((p) => p.key === k))]
  return h(
    'div',
    { class: 'auth-editor', 'data-testid': 'auth-editor' },
    h(
      'label',
      { class: 'form-field inline' },
      h('span', null, 'Type'),
      select(
        type,
        types.includes(type) ? types : [...types, type],
        (t) => commit(t === 'inherit' ? null : t === 'noauth' ? { type: 'noauth' } : { type: t, [t]: [] }),
        { disabled: ro, 'data-testid': 'auth-type' },
      ),
    ),
    type === 'inherit' && h('p', { class: 'muted' }, 'Uses the auth of the folder or collection above.'),
    type === 'noauth' && h('p', { class: 'muted' }, 'No auth.'),
    auth &&
      type !== 'noauth' &&
      h(
        'table',
        { class: 'rows' },
        h(
          'tbody',
          null,
          keys.map((k) => {
            const v = params.find((p) => p.key === k)?.value ?? ''
            return h(
              'tr',
              { key: k },
              h('td', { class: 'auth-key' }, k),
              h(
                'td',
                null,
                ((f: HTMLElement) => (vars && !secretKey(k) ? withVariables(f, v, vars, `${ownerId}:auth:${k}`) : f))(
                  field(v, (nv) => commit(withParam(auth, type, k, nv)), { disabled: ro, type: secretKey(k) ? 'password' : 'text', 'aria-label': k }),
                ),
              ),
            )
          }),
          !ro &&
            h(
              'tr',
              { key: `new-${keys.length}` },
              h('td', null, field('', (nk) => nk && commit(withParam(auth, type, nk, '')), { live: false, placeholder: 'add a parameter' })),
              h('td'),
            ),
        ),
      ),
  )
}
