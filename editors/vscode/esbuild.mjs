// Bundles the extension into dist/extension.js (CommonJS, `vscode` external) and copies the
// webview's assets (its script and style, and the codicon font) into dist/media.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

function copyMedia() {
  const media = join(root, 'dist', 'media');
  mkdirSync(media, { recursive: true });
  for (const file of ['transcript.js', 'transcript.css']) {
    cpSync(join(root, 'media', file), join(media, file));
  }
  const codicons = join(root, 'node_modules', '@vscode', 'codicons', 'dist');
  for (const file of ['codicon.css', 'codicon.ttf']) {
    cpSync(join(codicons, file), join(media, file));
  }
}

const options = {
  entryPoints: [join(root, 'src', 'extension.ts')],
  bundle: true,
  outfile: join(root, 'dist', 'extension.js'),
  external: ['vscode'],
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

copyMedia();
if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  await esbuild.build(options);
}
