// Builds the dashboard (web/) into dist/web: one bundle (esbuild: Preact, uPlot and our TSX,
// minified), its stylesheet, and index.html. Part of `npm run build`; the output is static files
// the master serves, so nothing is fetched at run time.
//   node scripts/build-web.mjs [--out DIR]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outIndex = process.argv.indexOf('--out');
const out = outIndex > 0 ? path.resolve(process.argv[outIndex + 1]) : path.join(root, 'dist', 'web');
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [path.join(root, 'web', 'main.tsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outfile: path.join(out, 'app.js'),
  logLevel: 'warning',
  legalComments: 'linked',
});
// uPlot's stylesheet, then web/styles/base.css, then the other sheets in name order.
const styles = path.join(root, 'web', 'styles');
const sheets = ['base.css', ...readdirSync(styles).filter((f) => f.endsWith('.css') && f !== 'base.css').sort()];
const css = [path.join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), ...sheets.map((f) => path.join(styles, f))].map((f) => readFileSync(f, 'utf8')).join('\n');
writeFileSync(path.join(out, 'app.css'), css);
copyFileSync(path.join(root, 'web', 'index.html'), path.join(out, 'index.html'));
copyFileSync(path.join(root, 'web', 'favicon.svg'), path.join(out, 'favicon.svg'));
