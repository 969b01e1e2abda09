// Bundles the browser page's TypeScript (public/app.ts) into dist/public/app.js.
import { build } from 'esbuild';

await build({
  entryPoints: ['public/app.ts'],
  bundle: true,
  format: 'esm',
  target: ['chrome120', 'firefox120', 'safari17'],
  outfile: 'dist/public/app.js',
  sourcemap: true,
  minify: true,
  logLevel: 'warning',
});
