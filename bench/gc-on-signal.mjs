// Preloaded (node --expose-gc --import) into a process under measurement: SIGUSR2 runs a full
// garbage collection, so the heap it then reports holds only what is still referenced; the heap
// used after it goes to stderr as `gc heap <bytes>`.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  process.stderr.write(`gc heap ${process.memoryUsage().heapUsed}\n`);
});
