/**
 * postman-collection (the SDK newman runs on) reads every export, and reads converted exports (v2.0 ↔ v2.1) the
 * same way as the originals.
 */
import { Collection, type Item } from 'postman-collection'
import { describe, expect, it } from 'vitest'
import { SCHEMA_URL, exportCollection, importCollection } from '@apisync/postman'
import { corpus, readJson, readText } from './fixtures.js'

/** What the SDK makes of a collection's requests (ids left out: it invents them where files have none). */
const view = (json: unknown) => {
  const collection = new Collection(json as never)
  const out: unknown[] = []
  collection.forEachItem((item: Item) => {
    const r = item.request
    out.push({
      name: item.name,
      method: r.method,
      url: r.url.toString(),
      host: r.url.getHost(),
      path: r.url.getPath(),
      query: r.url.query.all().map((q) => [q.key, q.value, Boolean(q.disabled)]),
      variables: r.url.variables.all().map((v) => [v.key, v.value]),
      headers: r.headers.all().map((h) => [h.key, h.value, Boolean(h.disabled)]),
      auth: r.auth ? [r.auth.type, r.auth.parameters().toObject()] : null,
      body: r.body ? r.body.toJSON() : null,
      events: item.events.all().map((e) => [e.listen, e.script?.exec]),
    })
  })
  return { name: collection.name, variables: collection.variables.toObject(), auth: collection.auth?.parameters().toObject() ?? null, items: out }
}

const collections = corpus.filter((e) => e.kind.startsWith('collection'))

describe('postman-collection reads the exports', () => {
  for (const entry of collections) {
    it(`${entry.file}: as it came, and converted to the other format`, () => {
      const input = readJson(entry.file)
      const model = importCollection(readText(entry.file))
      const expected = view(input)
      expect(view(exportCollection(model))).toEqual(expected)
      const other = entry.kind === 'collection-v2.0' ? '2.1.0' : '2.0.0'
      const converted = exportCollection(model, { version: other }) as { info: { schema: string } }
      expect(converted.info.schema).toBe(SCHEMA_URL[other])
      expect(view(converted)).toEqual(expected)
    })
  }

  it('converts auth params: objects in v2.0, arrays in v2.1', () => {
    const v20 = readJson('postmanlabs__postman-collection__collection-v2.json') as { item: any[] }
    const model = importCollection(v20 as never)
    const json = JSON.stringify(exportCollection(model, { version: '2.1.0' }))
    expect(json).toContain('"basic":[{"key":"username","value":"yosam","type":"string"}')
    expect(json).not.toContain('"basic":{')
    const v21 = readJson('usebruno__bruno__NTLM.postman_collection.json') as { auth: { ntlm: { key: string; value: unknown }[] } }
    const back = exportCollection(importCollection(v21 as never), { version: '2.0.0' }) as { auth: { ntlm: Record<string, unknown> } }
    expect(back.auth.ntlm).toEqual(Object.fromEntries(v21.auth.ntlm.map((p) => [p.key, p.value])))
  })
})
