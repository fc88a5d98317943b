import { readFileSync } from 'node:fs'
import { plan } from '../src/collection.js'
import { readInput } from '../src/input.js'
const text = readFileSync('/work/main/test/fixtures/postman/SabreDevStudio__postman-collections__Booking_Management_API_v2026.04.postman_collection.json', 'utf8')
for (let round = 0; round < 30; round++) {
  let t = performance.now()
  const j = readInput(text)
  const a = performance.now() - t
  t = performance.now()
  plan(j, 'x', () => {})
  const b = performance.now() - t
  if (round % 5 === 0) console.log('input', a.toFixed(0), 'plan', b.toFixed(0))
}
