import { readFileSync } from 'node:fs'
import { importCollection } from '@apisync/postman'
const m = importCollection(readFileSync('/work/main/test/fixtures/postman/SabreDevStudio__postman-collections__Booking_Management_API_v2026.04.postman_collection.json', 'utf8'))
const s = m.snapshot()
const first = (items: any[]): any => { for (const i of items) { if (i.kind === 'request') return i; const r = first(i.items); if (r) return r } }
const r = first(s.items)
console.log(JSON.stringify(r.extra).slice(0, 1500))
console.log(JSON.stringify(r.url.extra), JSON.stringify(r.body.extra), JSON.stringify(r.headers.map((h: any) => h.extra)))
console.log(JSON.stringify(s.extra).slice(0, 800))
