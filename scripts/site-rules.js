// How each file of the built site is served: its Content-Type, Cache-Control and
// Content-Encoding, and the response headers every answer carries (headers.json, the same
// file the dev server applies and deploy/cloudformation.yaml must equal). scripts/deploy
// uploads by these rules; scripts/check-site checks a live site against them.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const HEADERS = JSON.parse(fs.readFileSync(path.join(ROOT, 'headers.json'), 'utf8'));

// Every extension the build produces. An unknown one is an error, not a guess: a wrong type
// breaks the page (module scripts and streaming wasm compilation check it, under nosniff).
const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
  '.png': 'image/png', // icons/, for the installed app
  '.LICENSE': 'text/plain; charset=utf-8', // vendor/client-zip.LICENSE
  '.txt': 'text/plain; charset=utf-8', // third-party.txt
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'public, max-age=0, must-revalidate';

/** Folders named by their content hash (scripts/build): their URLs never change meaning. */
function isContentHashed(key) {
  return /^pkg-[a-z]+-[0-9a-f]{12}\//.test(key);
}

/** How the file at `key` (a path relative to the site root, with /) is stored and served. */
function ruleFor(key) {
  const ext = path.posix.extname(key);
  const contentType = CONTENT_TYPES[ext];
  if (contentType === undefined) {
    throw new Error(`${key}: no Content-Type is known for "${ext}" files (add it to scripts/site-rules.js)`);
  }
  return {
    contentType,
    // Everything outside the hashed folders is an entry point (index.html, the scripts that
    // name the hashed folders, build.json): it must be revalidated to pick up a new build.
    cacheControl: isContentHashed(key) ? IMMUTABLE : REVALIDATE,
    // CloudFront compresses on the fly only up to 10 MB, and the engine may outgrow that,
    // so wasm is stored Brotli-compressed and served as such to every browser.
    contentEncoding: ext === '.wasm' ? 'br' : null,
  };
}

/** The bytes to store for `key`. The page refers to its files relatively, so the same build
 *  also works from a sub-folder (a GitHub Pages project site). On CloudFront the site is the
 *  whole domain and any unknown path serves index.html, so the stored page is pinned to the
 *  root with <base href="/">: a deep link then loads main.js, not /deep/main.js. */
function storedBody(key, bytes) {
  if (key !== 'index.html') return bytes;
  const html = bytes.toString('utf8');
  if (!html.includes('<head>')) throw new Error('index.html: no <head> to put <base href="/"> in');
  return Buffer.from(html.replace('<head>', '<head>\n  <base href="/">'), 'utf8');
}

module.exports = { HEADERS, isContentHashed, ruleFor, storedBody };
