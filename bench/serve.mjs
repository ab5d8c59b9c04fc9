// A tiny static server for the browser peers, cross-origin isolated (COOP/COEP, as wasm-vips'
// threads and SharedArrayBuffer need). Serves bench/ at / and the staged photo folder at
// /photos/. Rewrites the one bare import in the peers' packages (wasm-feature-detect, used by
// @jsquash/webp), since module workers have no import maps. Prints its URL on stdout.
//   node bench/serve.mjs PHOTO_FOLDER
import { createReadStream, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';

const root = import.meta.dirname;
const photos = path.resolve(process.argv[2]);
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
const BARE = { 'wasm-feature-detect': '/node_modules/wasm-feature-detect/dist/esm/index.js' };

createServer(async (req, res) => {
  const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = url.startsWith('/photos/') ? path.join(photos, url.slice(8)) : path.join(root, url);
  if (!file.startsWith(root) && !file.startsWith(photos)) return res.writeHead(403).end();
  let size;
  try { size = statSync(file).size; } catch { return res.writeHead(404).end(); }
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  if (type === 'text/javascript' && file.includes('node_modules')) {
    let text = await readFile(file, 'utf8');
    for (const [name, target] of Object.entries(BARE)) text = text.replaceAll(`'${name}'`, `'${target}'`).replaceAll(`"${name}"`, `"${target}"`);
    return res.end(text);
  }
  res.setHeader('Content-Length', size);
  createReadStream(file).pipe(res);
}).listen(0, '127.0.0.1', function () {
  console.log(`http://127.0.0.1:${this.address().port}/`);
});
