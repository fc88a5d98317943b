import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url))

// Tests import the packages' TypeScript sources directly, so `vitest` needs no build step;
// `npm test` still runs `tsc -b` first so that type errors fail the suite.
export default defineConfig({
  resolve: {
    alias: {
      '@apisync/model': src('model'),
      '@apisync/relay': src('relay'),
      '@apisync/postman': src('postman'),
      '@apisync/client': src('client'),
      '@apisync/crypto': src('crypto'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: process.env.APISYNC_TEST_REPORT
      ? ['default', ['json', { outputFile: process.env.APISYNC_TEST_REPORT }]]
      : ['default'],
  },
})
