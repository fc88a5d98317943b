/**
 * Preloaded into relay processes by bench/relay-cluster.ts (NODE_OPTIONS=--require …): on SIGUSR2, collect
 * garbage and print the heap that remains as a JSON log line, so that the load test measures what a relay
 * retains rather than where the collector happens to be. Benchmark-only; the relay has no such hook.
 */
const v8 = require('node:v8')
const vm = require('node:vm')

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')
process.on('SIGUSR2', () => {
  gc()
  gc()
  const { heapUsed, rss, external } = process.memoryUsage()
  process.stdout.write(`${JSON.stringify({ msg: 'bench.heap-after-gc', heapUsed, rss, external, at: Date.now() })}\n`)
})
