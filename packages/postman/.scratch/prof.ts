import { readFileSync } from 'node:fs'
import { exportCollection, importCollection } from '@apisync/postman'
const text = readFileSync('/work/main/test/fixtures/postman/SabreDevStudio__postman-collections__Booking_Management_API_v2026.04.postman_collection.json', 'utf8')
for (let round = 0; round < 5; round++) {
  const m = importCollection(text)
  exportCollection(m.snapshot())
}
