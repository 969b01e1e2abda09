#!/usr/bin/env node
/**
 * `relay <command>`: the processes of a Relay deployment, run from an app that depends on Relay
 * (its Procfile says `web: exec relay web`, `worker: exec relay worker`). Each reads the same
 * environment as its `node dist/…` form, JOBS_DIR included.
 */
const COMMANDS: Record<string, { module: string; summary: string }> = {
  web: { module: '../server/main.js', summary: 'HTTP, streams and the reply listener (needs RABBITMQ_URL and REDIS_URL)' },
  worker: { module: '../consumer/main.js', summary: 'runs the job types of JOBS_DIR that have a handler' },
  'dead-letters': { module: '../consumer/dead-letters.js', summary: 'list | replay --all | replay <request_id>...' },
  start: { module: '../embedded/main.js', summary: 'web and worker in one process; in memory when no broker is configured' },
  types: { module: './types.js', summary: 'TypeScript types of the job types for relay/client: relay types > relay-jobs.d.ts' },
};

const [command] = process.argv.slice(2);
const chosen = command === undefined ? undefined : COMMANDS[command];
if (!chosen) {
  const lines = Object.entries(COMMANDS).map(([name, { summary }]) => `  relay ${name.padEnd(13)}${summary}`);
  process.stderr.write(`${command ? `relay: unknown command "${command}"\n` : ''}usage:\n${lines.join('\n')}\n`);
  process.exit(command === '--help' || command === '-h' ? 0 : 64);
}
// The command's own arguments come right after the program, as when it is run directly.
process.argv.splice(2, 1);
await import(chosen.module);
