/** The corpus of real Postman files in test/fixtures/postman (see its MANIFEST.tsv): reading helpers for tests. */
import { isDeepStrictEqual } from 'node:util'
import { expect } from 'vitest'
import { readFileSync } from 'node:fs'

export const fixturesDir = new URL('../../../test/fixtures/postman/', import.meta.url)

export interface CorpusFile {
  readonly file: string
  /** collection-v2.0, collection-v2.1, environment, globals or newman-report. */
  readonly kind: string
  readonly requests: number
  readonly features: readonly string[]
}

export const corpus: readonly CorpusFile[] = readFileSync(new URL('MANIFEST.tsv', fixturesDir), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split('\t'))
  .map((cols) => ({ file: cols[0]!, kind: cols[5]!, requests: Number(cols[7]), features: (cols[8] ?? '').split(',') }))

export const readText = (file: string): string => readFileSync(new URL(file, fixturesDir), 'utf8')
export const readJson = (file: string): unknown => JSON.parse(readText(file).replace(/^\uFEFF/, ''))

export const LARGEST = 'SabreDevStudio__postman-collections__Booking_Management_API_v2026.04.postman_collection.json'

/**
 * Deep equality of JSON values, key order aside, strict about undefined values and prototypes (node's
 * isDeepStrictEqual: unlike vitest's toStrictEqual it compares an own `constructor` key by value).
 */
export const expectSameJson = (actual: unknown, expected: unknown): void => {
  if (isDeepStrictEqual(actual, expected)) return
  expect(actual).toEqual(expected) // shows where they differ
  expect.fail('the values differ in undefined values or prototypes')
}
