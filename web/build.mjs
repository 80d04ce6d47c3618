// Builds the console's bundle: src/main.jsx (with uPlot's CSS and ours) into dist/app.js and
// dist/app.css with esbuild (minified, ES2020), and copies src/index.html to dist/.
// Everything the page needs ends up in dist/; nothing is fetched at run time.
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });

await build({
  entryPoints: [join(here, 'src/main.jsx')],
  outfile: join(dist, 'app.js'), // the imported CSS lands beside it as app.css
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  platform: 'browser',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'none',
  logLevel: 'warning',
});

await copyFile(join(here, 'src/index.html'), join(dist, 'index.html'));
console.log('built dist/index.html, dist/app.js, dist/app.css');
