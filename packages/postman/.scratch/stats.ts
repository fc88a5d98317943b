import { readFileSync, readdirSync } from 'node:fs'
import { importCollection } from '@apisync/postman'
const dir = '/work/main/test/fixtures/postman/'
const kept = new Map<string, number>(), forms = new Map<string, number>(), rests = new Map<string, number>()
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1)
const visit = (v: any, where: string) => {
  if (!v || typeof v !== 'object') return
  if (Array.isArray(v)) return v.forEach((x) => visit(x, where))
  if (v.extra?.postman) {
    const s = v.extra.postman
    for (const k of Object.keys(s.kept ?? {})) bump(kept, `${where}.${k}`)
    for (const k of Object.keys(s.form ?? {})) bump(forms, `${where}.${k}`)
    for (const k of Object.keys(s.rest ?? {})) bump(rests, `${where}.${k}`)
    if (s.form?.request?.shape) { const r = s.form.request.shape; for (const k of Object.keys(r.kept ?? {})) bump(kept, `request.${k}`); for (const k of Object.keys(r.form ?? {})) bump(forms, `request.${k}`); for (const k of Object.keys(r.rest ?? {})) bump(rests, `request.${k}`) }
  }
  for (const [k, x] of Object.entries(v)) if (k !== 'extra') visit(x, v.kind ?? k)
}
for (const f of readdirSync(dir).filter((f) => f.endsWith('.json') && !/environment|globals|global-env|report/.test(f))) {
  visit(importCollection(readFileSync(dir + f, 'utf8')).snapshot(), 'collection')
}
const show = (name: string, m: Map<string, number>) => console.log(name, [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}:${n}`).join('  '))
show('KEPT', kept); show('FORM', forms); show('REST', rests)
