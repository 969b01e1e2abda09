import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// Built code runs from dist/server; the page's sources sit in public/ and its bundle in dist/public.
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');

/** Where the page's files are served from: its sources (HTML, CSS) and its bundled script. */
export const STATIC_DIRS = [path.join(root, 'public'), path.join(root, 'dist', 'public')];
