/** Vite builds the demo from its TypeScript sources and the workspace packages' sources (no package build needed). */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const pkg = (name: string) => fileURLToPath(new URL(`../../packages/${name}/src/index.ts`, import.meta.url))

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Served at the relay's root: relative URLs keep it movable under a path too.
  base: './',
  resolve: {
    alias: {
      '@apisync/client': pkg('client'),
      '@apisync/crypto': pkg('crypto'),
      '@apisync/model': pkg('model'),
      '@apisync/postman': pkg('postman'),
    },
  },
  build: {
    // The app, and the sandbox page that runs collection scripts (src/runner/sandbox-frame.ts).
    rolldownOptions: { input: { main: fileURLToPath(new URL('./index.html', import.meta.url)), sandbox: fileURLToPath(new URL('./sandbox.html', import.meta.url)) } },
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 2048,
  },
  logLevel: 'warn',
})
