// Preloaded (node --expose-gc --import) into a process under measurement: SIGUSR2 runs a full
// garbage collection, so the heap it then reports holds only what is still referenced.
process.on('SIGUSR2', () => globalThis.gc?.());
