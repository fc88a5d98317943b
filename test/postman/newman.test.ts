/**
 * newman runs an exported collection with an exported environment against a local server: variables, auth,
 * scripts, disabled rows all work; its JSON report imports as a run result matched to the collection's
 * requests, and that result syncs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { type IncomingMessage, type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CollectionModel, EnvironmentModel, RunsModel } from '@apisync/model'
// newman is CommonJS without types; only `run` is used.
import newman from 'newman'
import * as Y from 'yjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CollectionFormat, exportCollection, exportEnvironment, importNewmanReport } from '@apisync/postman'

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
}

let server: Server
let baseUrl: string
const seen: Seen[] = []
let tmp: string

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'apisync-newman-'))
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => (body += chunk))
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body })
      const url = new URL(req.url!, 'http://localhost')
      const send = (code: number, payload: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' })
        res.end(JSON.stringify(payload))
      }
      if (req.method === 'POST' && url.pathname === '/users') return send(201, { id: 'u1', ...JSON.parse(body) })
      if (req.method === 'GET' && url.pathname === '/users/u1') return send(200, { id: 'u1', name: 'ada' })
      if (req.method === 'POST' && url.pathname === '/login') return send(200, Object.fromEntries(new URLSearchParams(body)))
      send(418, { error: "I'm a teapot" })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  rmSync(tmp, { recursive: true, force: true })
})

/** A collection made with the model's API, as an app would. */
const buildCollection = () => {
  const m = CollectionModel.create(new Y.Doc(), {
    name: 'newman e2e',
    variables: [{ key: 'token', value: 'tok-123' }],
    scripts: { prerequest: "pm.variables.set('trace', 'trace-' + pm.info.iteration)" },
  })
  const users = m.createFolder({ name: 'users', auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{token}}', type: 'string' }] } })
  const ids = {
    create: m.createRequest(
      {
        name: 'create user',
        method: 'POST',
        url: { raw: '{{baseUrl}}/users?source=newman' },
        headers: [
          { key: 'Content-Type', value: 'application/json' },
          { key: 'X-Trace', value: '{{trace}}' },
          { key: 'X-Off', value: 'should not be sent', enabled: false },
        ],
        body: { mode: 'raw', raw: '{"name": "{{user}}"}', language: 'json' },
        scripts: {
          test: [
            "pm.test('created', () => pm.response.to.have.status(201))",
            "pm.test('echoes the name', () => pm.expect(pm.response.json().name).to.eql('ada'))",
            "pm.environment.set('userId', pm.response.json().id)",
          ].join('\n'),
        },
      },
      { parent: users },
    ),
    get: m.createRequest(
      {
        name: 'get user',
        url: { raw: '{{baseUrl}}/users/:id', variables: [{ key: 'id', value: '{{userId}}' }] },
        scripts: { test: "pm.test('found', () => { pm.response.to.have.status(200); pm.expect(pm.response.json().id).to.eql(pm.environment.get('userId')) })" },
      },
      { parent: users },
    ),
    login: m.createRequest({
      name: 'login',
      method: 'POST',
      url: { raw: '{{baseUrl}}/login' },
      body: { mode: 'urlencoded', urlencoded: [{ key: 'user', value: '{{user}}' }, { key: 'pass', value: 'x', enabled: false }] },
      scripts: {
        test: "pm.test('logged in', () => pm.expect(pm.response.json().user).to.eql('ada'))\npm.test('no disabled field', () => pm.expect(pm.response.json().pass).to.be.undefined)",
      },
    }),
    teapot: m.createRequest({ name: 'teapot', url: { raw: '{{baseUrl}}/teapot' }, scripts: { test: "pm.test('is ok', () => pm.response.to.have.status(200))" } }),
  }
  return { model: m, ids }
}

const run = (collection: object, environment: object, exportTo: string) =>
  new Promise<void>((resolve, reject) => {
    newman.run(
      { collection, environment, reporters: ['json'], reporter: { json: { export: exportTo } } },
      (err: unknown) => (err ? reject(err) : resolve()),
    )
  })

describe('newman', () => {
  for (const version of ['2.1.0', '2.0.0'] as CollectionFormat[]) {
    it(`runs a v${version} export with an exported environment, and its report imports as a run result`, async () => {
      seen.length = 0
      const { model, ids } = buildCollection()
      const env = EnvironmentModel.create(new Y.Doc(), {
        name: 'local',
        variables: [
          { key: 'baseUrl', value: baseUrl },
          { key: 'user', value: 'ada' },
          { key: 'apiKey', value: 'hidden', type: 'secret' },
        ],
      })
      const reportPath = join(tmp, `report-${version}.json`)
      await run(exportCollection(model, { version }), exportEnvironment(env), reportPath)

      // What the server received: variables resolved, folder auth applied, disabled rows left out.
      expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /users?source=newman', 'GET /users/u1', 'POST /login', 'GET /teapot'])
      expect(seen[0]!.headers.authorization).toBe('Bearer tok-123')
      expect(seen[0]!.headers['x-trace']).toBe('trace-0')
      expect(seen[0]!.headers['x-off']).toBeUndefined()
      expect(JSON.parse(seen[0]!.body)).toEqual({ name: 'ada' })
      expect(seen[2]!.body).toBe('user=ada')
      expect(seen[2]!.headers.authorization).toBeUndefined()

      const runsDoc = new Y.Doc()
      const runs = RunsModel.open(runsDoc)
      const result = importNewmanReport(readFileSync(reportPath, 'utf8'), runs, { collection: model })
      expect(result.collectionId).toBe(model.id)
      expect(result.environmentName).toBe('local')
      expect(result.totals).toEqual({ requests: 4, failedRequests: 0, assertions: 6, failedAssertions: 1 })
      expect(result.finishedAt).toBeGreaterThanOrEqual(result.startedAt)
      expect(result.executions.map((e) => [e.requestId, e.name, e.code])).toEqual([
        [ids.create, 'create user', 201],
        [ids.get, 'get user', 200],
        [ids.login, 'login', 200],
        [ids.teapot, 'teapot', 418],
      ])
      expect(result.executions[0]!.assertions).toEqual([
        { name: 'created', passed: true, error: null },
        { name: 'echoes the name', passed: true, error: null },
      ])
      const teapot = result.executions[3]!
      expect(teapot.assertions).toEqual([{ name: 'is ok', passed: false, error: expect.stringContaining('200') }])
      expect(teapot.extra).toMatchObject({ method: 'GET', url: `${baseUrl}/teapot` })
      expect(teapot.time).toEqual(expect.any(Number))
      expect(result.extra).toMatchObject({ collectionName: 'newman e2e', failures: [{ test: 'is ok', itemName: 'teapot' }] })

      // The run result syncs like any other edit.
      const replica = new Y.Doc()
      Y.applyUpdate(replica, Y.encodeStateAsUpdate(runsDoc))
      expect(RunsModel.open(replica).snapshot().runs).toEqual([result])
    })
  }
})
