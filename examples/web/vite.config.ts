/** Vite builds the demo from its TypeScript sources and the workspace packages' sources (no package build needed). */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import { VitePWA } from 'vite-plugin-pwa'

const pkg = (name: string) => fileURLToPath(new URL(`../../packages/${name}/src/index.ts`, import.meta.url))

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Served at the relay's root: relative URLs keep it movable under a path too.
  base: './',
  plugins: [
    // An installable app shell that starts offline (Workbox through vite-plugin-pwa): the built app is
    // precached and updated when a new build is served; nothing else is cached. The relay's routes (sync,
    // tokens, sessions, account, history) are never cached nor answered by the worker: they go to the network or fail.
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: false,
      manifest: {
        name: 'apisync',
        short_name: 'apisync',
        description: 'An API workspace that works offline and syncs across devices and teams',
        start_url: './',
        scope: './',
        display: 'standalone',
        background_color: '#f6f7fb',
        theme_color: '#4f6bed',
        icons: [{ src: 'icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,webmanifest}'],
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/^\/(sync|dev|sessions|account|history|activity|healthz|metrics)(\/|$)/],
        runtimeCaching: [],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
      },
    }),
  ],
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
