// Copies the files the compiled code reads at run time (Lua scripts) next to it in dist/.
import { cpSync, readdirSync } from 'node:fs';
import path from 'node:path';

for (const entry of readdirSync('core', { recursive: true })) {
  const file = String(entry);
  if (file.endsWith('.lua')) cpSync(path.join('core', file), path.join('dist', 'core', file));
}
