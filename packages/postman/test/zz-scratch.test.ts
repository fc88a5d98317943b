import { readFileSync, readdirSync } from 'node:fs'
import { test } from 'vitest'
import { exportCollection, exportEnvironment, exportGlobals, importCollection, importEnvironment, importGlobals } from '@apisync/postman'

const dir = new URL('../../../test/fixtures/postman/', import.meta.url)
const diff = (a: unknown, b: unknown, path = '$', out: string[] = []): string[] => {
  if (out.length > 5) return out
  if (JSON.stringify(a) === JSON.stringify(b)) return out
  if (typeof a === 'object' && a && typeof b === 'object' && b && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    for (const k of keys) diff((a as any)[k], (b as any)[k], `${path}.${k}`, out)
    return out
  }
  out.push(`${path}: ${JSON.stringify(a)?.slice(0, 200)} vs ${JSON.stringify(b)?.slice(0, 200)}`)
  return out
}
const canon = (v: unknown): unknown => Array.isArray(v) ? v.map(canon) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map(k => [k, canon((v as any)[k])])) : v
test('corpus', () => {
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const text = readFileSync(new URL(f, dir), 'utf8')
    const input = JSON.parse(text.replace(/^\uFEFF/, ''))
    let out: unknown
    const t = performance.now()
    try {
      if (f.includes('environment')) out = exportEnvironment(importEnvironment(text))
      else if (f.includes('globals') || f.includes('global-env')) out = exportGlobals(importGlobals(text))
      else if (f.includes('report')) { out = exportCollection(importCollection(input.collection)); const d = diff(canon(input.collection), canon(out)); console.log(f, d.length ? d : 'OK'); continue }
      else out = exportCollection(importCollection(text))
    } catch (e) { console.log(f, 'ERROR', e); continue }
    const d = diff(canon(input), canon(out))
    console.log(f, (performance.now() - t).toFixed(0), 'ms', d.length ? d : 'OK')
  }
})
