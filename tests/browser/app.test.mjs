// The real page, end to end, in headless Chromium: isolation and mode, conversion of corpus
// files (HEIC and JPEG XL included) checked against ORACLE.tsv and re-decoded natively, bad
// files, crash recovery, the colour choice, AVIF output read back by the browser,
// the fallback pool's byte-identical output, alpha in wasm against native, the ZIP, and no
// request leaving the origin. Serves the test build (scripts/build --test-hooks).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI, CORPUS, SITE, convertInPage, launchChromium, meanSquaredErrors, openPageAt, psnr, serve } from './helpers.mjs';

assert.ok(existsSync(path.join(CORPUS, 'MANIFEST.tsv')), `test corpus not found at ${CORPUS}`);
assert.ok(existsSync(path.join(SITE, 'build.json')), `no test build at ${SITE} (scripts/build --test-hooks)`);

function tsv(file) {
  const [header, ...lines] = readFileSync(path.join(CORPUS, file), 'utf8').split('\n').filter(Boolean);
  const names = header.split('\t');
  return lines.map((line) => Object.fromEntries(line.split('\t').map((v, i) => [names[i], v])));
}
const manifest = tsv('MANIFEST.tsv');
const oracle = new Map(tsv('ORACLE.tsv').map((r) => [r.path, r]));
const corpusFile = (p) => ({ name: path.basename(p), corpusPath: p, buffer: readFileSync(path.join(CORPUS, p)) });

/** `n` oracle-backed files whose manifest row matches `predicate`. */
function pick(n, predicate) {
  const rows = manifest.filter((r) => r.pillow_result === 'ok' && oracle.has(r.path) && predicate(r));
  assert.ok(rows.length >= n, `corpus has ${rows.length} files for a selection that needs ${n}`);
  return rows.slice(0, n).map((r) => r.path);
}


let browser;
let isolated;
let plain;

before(async () => {
  [isolated, plain] = await Promise.all([serve(), serve('--no-isolation')]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  isolated?.proc.kill();
  plain?.proc.kill();
});

const openPage = (server) => openPageAt(browser, server.url);

/** The size a long-edge resize gives, rounded as the engine rounds. */
function longEdge(w, h, px) {
  const scale = Math.min(1, px / Math.max(w, h));
  return [Math.max(1, Math.round(w * scale)), Math.max(1, Math.round(h * scale))];
}

test('the page is cross-origin isolated and runs the threaded engine on every core', async () => {
  const { page, errors } = await openPage(isolated);
  const state = await page.evaluate(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency, info: window.imgbatch.engineInfo() }));
  assert.equal(state.isolated, true);
  assert.equal(state.info.mode, 'threaded', state.info.reason);
  assert.equal(state.info.threads, state.cores);
  assert.deepEqual(errors, []);
  await page.close();
});

const conversionSet = [
  ...pick(18, (r) => r.path.startsWith('exif-orientation-examples/')),
  ...pick(4, (r) => r.format === 'PNG' && r.features.includes('alpha') && !r.features.includes('animated')),
  ...pick(3, (r) => r.format === 'WEBP' && r.features.includes('lossy(VP8)') && !r.features.includes('animated')),
  ...pick(3, (r) => r.format === 'WEBP' && r.features.includes('lossless(VP8L)') && !r.features.includes('animated')),
  ...pick(3, (r) => r.format === 'GIF' && !r.features.includes('animated') && !r.features.includes('frame-extent-exceeds-screen')),
  ...pick(3, (r) => r.format === 'TIFF' && /photometric=RGB;bits=8\/8\/8(;|$)/.test(r.features)),
  ...pick(3, (r) => r.format === 'BMP' && r.path.startsWith('pillow/bmp/g/')),
  ...pick(2, (r) => r.format === 'JPEG' && r.features.split(';').includes('cmyk')),
  ...pick(2, (r) => r.format === 'AVIF' && r.path.startsWith('libavif/') && !r.features.includes('animated') && !r.features.includes('grid')),
  ...pick(2, (r) => r.format === 'HEIF' && r.path.startsWith('exif-samples/heic/')),
  ...pick(2, (r) => r.format === 'JXL' && /^libjxl-conformance\/(bench_oriented_brg|bicycles)\//.test(r.path)),
];

test('corpus files convert through the real page with the oracle sizes and decode again natively', async () => {
  assert.ok(conversionSet.length >= 40, `${conversionSet.length} files`);
  const { page } = await openPage(isolated);
  const files = conversionSet.map(corpusFile);
  const results = await convertInPage(page, files, { format: 'jpeg', sizes: ['512'] }, { withBytes: true });
  const outDir = mkdtempSync(path.join(tmpdir(), 'imgbatch-browser-'));
  const problems = [];
  results.forEach((r, i) => {
    const source = conversionSet[i];
    if (r.status !== 'converted') return problems.push(`${source}: ${r.status} ${JSON.stringify(r.error)}`);
    const row = oracle.get(source);
    const [w, h] = longEdge(Number(row.width), Number(row.height), 512);
    const o = r.outputs[0];
    if (o.width !== w || o.height !== h) problems.push(`${source}: ${o.width}x${o.height}, oracle implies ${w}x${h}`);
    writeFileSync(path.join(outDir, `${String(i).padStart(3, '0')}.jpg`), Buffer.from(o.data, 'base64'));
  });
  assert.deepEqual(problems, []);
  // Every output decodes again with the native engine, at the same size.
  const report = JSON.parse(execFileSync(CLI, [outDir, '-o', path.join(outDir, 'again'), '--to', 'png', '--json'], { encoding: 'utf8' }));
  assert.equal(report.summary.converted, results.length);
  await page.close();
});

test('bad files get error rows and every good file still converts', async () => {
  const { page } = await openPage(isolated);
  const good = conversionSet.slice(0, 4).map(corpusFile);
  const photo = readFileSync(path.join(CORPUS, 'exif-orientation-examples/Landscape_1.jpg'));
  const bad = [
    { name: 'truncated.jpg', buffer: photo.subarray(0, photo.length / 3) },
    { name: 'garbage.png', buffer: Buffer.from('\x89PNG\r\n\x1a\nthis is not a png') },
    { name: 'bomb.bmp', buffer: readFileSync(path.join(CORPUS, 'pillow/bmp/b/reallybig.bmp')) },
    { name: 'notes.txt', buffer: Buffer.from('just text') },
  ];
  const results = await convertInPage(page, [...good, ...bad], { format: 'webp', sizes: ['256'] });
  assert.deepEqual(results.slice(0, 4).map((r) => r.status), ['converted', 'converted', 'converted', 'converted']);
  const byName = Object.fromEntries(results.map((r) => [r.path, r]));
  assert.equal(byName['truncated.jpg'].error.code, 'decode');
  assert.equal(byName['garbage.png'].status, 'failed');
  assert.equal(byName['bomb.bmp'].error.code, 'limit');
  assert.equal(byName['notes.txt'].status, 'skipped');
  // The page lists every file, bad ones included.
  const listed = await page.locator('#files').innerText();
  for (const name of ['truncated.jpg', 'garbage.png', 'bomb.bmp', 'notes.txt']) assert.ok(listed.includes(name), `${name} is listed`);
  await page.close();
});

test('a crash mid-batch restarts the engine; only the crashing file fails', async () => {
  const { page } = await openPage(isolated);
  const good = conversionSet.slice(0, 8).map(corpusFile);
  const crasher = { name: 'crash.png', buffer: Buffer.concat([readFileSync(path.join(CORPUS, 'pngsuite/png/basn6a08.png')), Buffer.from('IMGBATCH-CRASH-TEST')]) };
  const files = [...good.slice(0, 4), crasher, ...good.slice(4)];
  const results = await convertInPage(page, files, { format: 'png', sizes: ['128'] });
  const crashed = results.find((r) => r.path === 'crash.png');
  assert.equal(crashed.status, 'failed');
  assert.equal(crashed.error.code, 'internal');
  assert.match(crashed.error.message, /crashed/);
  assert.deepEqual(results.filter((r) => r !== crashed).map((r) => r.status), Array(8).fill('converted'));
  // The restarted engine keeps working.
  const again = await convertInPage(page, good.slice(0, 2), { format: 'png', sizes: ['64'] });
  assert.deepEqual(again.map((r) => r.status), ['converted', 'converted']);
  await page.close();
});

test('without isolation the fallback pool gives byte-identical outputs', async () => {
  const files = conversionSet.filter((p) => !p.endsWith('.avif')).slice(0, 24).map(corpusFile);
  const options = { format: 'png', sizes: ['300', '120x120:cover'] };
  const threaded = await openPage(isolated);
  const a = await convertInPage(threaded.page, files, options);
  const fallback = await openPage(plain);
  const info = await fallback.page.evaluate(() => window.imgbatch.engineInfo());
  assert.equal(info.mode, 'fallback');
  assert.match(info.reason, /isolated/);
  const b = await convertInPage(fallback.page, files, options);
  assert.deepEqual(b.map((r) => r.outputs.map((o) => o.hash)), a.map((r) => r.outputs.map((o) => o.hash)));
  assert.ok(a.every((r) => r.status === 'converted'));
  await threaded.page.close();
  await fallback.page.close();
});

test('an RGBA image resized in wasm matches the native CLI byte for byte', async () => {
  const source = 'pngsuite/png/basn6a08.png';
  const { page } = await openPage(isolated);
  const [result] = await convertInPage(page, [corpusFile(source)], { format: 'png', sizes: ['50%', '20'] }, { withBytes: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'imgbatch-alpha-'));
  execFileSync(CLI, [path.join(CORPUS, source), '-o', dir, '--to', 'png', '--size', '50%', '--size', '20', '--name', '{stem}-{size}.{ext}']);
  for (const [i, label] of ['50pct', '20'].entries()) {
    const native = readFileSync(path.join(dir, `basn6a08-${label}.png`));
    assert.ok(Buffer.from(result.outputs[i].data, 'base64').equals(native), `${label}: wasm and native PNGs differ`);
  }
  await page.close();
});

test('the colour choice reaches the engine: an sRGB conversion in wasm matches the native CLI byte for byte', async () => {
  const source = 'libavif/apple_gainmap_new.jpg'; // Display P3
  const { page } = await openPage(isolated);
  const [srgb] = await convertInPage(page, [corpusFile(source)], { format: 'png', color: 'srgb' }, { withBytes: true });
  const [kept] = await convertInPage(page, [corpusFile(source)], { format: 'png', color: 'keep' });
  assert.notEqual(srgb.outputs[0].hash, kept.outputs[0].hash, 'keep and srgb gave the same file');
  const dir = mkdtempSync(path.join(tmpdir(), 'imgbatch-colour-'));
  execFileSync(CLI, [path.join(CORPUS, source), '-o', dir, '--to', 'png', '--color', 'srgb']);
  assert.ok(Buffer.from(srgb.outputs[0].data, 'base64').equals(readFileSync(path.join(dir, 'apple_gainmap_new.png'))), 'wasm and native sRGB PNGs differ');
  await page.close();
});

test('JPEG at every effort, lossy and lossless WebP and AVIF written in wasm come back close through the browser\'s own decoder', async () => {
  const { page } = await openPage(isolated);
  const photo = [corpusFile(conversionSet.find((p) => /\.jpe?g$/i.test(p)))];
  const sizes = ['512'];
  const [png] = await convertInPage(page, photo, { format: 'png', sizes }, { withBytes: true });
  const variants = [
    { format: 'jpeg' },
    { format: 'jpeg', jpegEffort: 'balanced' },
    { format: 'jpeg', jpegEffort: 'smallest' },
    { format: 'webp' },
    { format: 'webp', lossless: true },
    { format: 'avif' },
  ];
  const extension = { jpeg: 'jpg', webp: 'webp', avif: 'avif' };
  const outputs = [];
  for (const options of variants) {
    const [r] = await convertInPage(page, photo, { ...options, sizes }, { withBytes: true });
    assert.equal(r.status, 'converted', JSON.stringify(r.error));
    assert.equal(r.outputs[0].name.split('.').pop(), extension[options.format]);
    outputs.push(r.outputs[0].data);
  }
  // The effort reaches the engine: each JPEG effort writes different bytes.
  assert.equal(new Set(outputs.slice(0, 3)).size, 3, 'JPEG efforts gave identical files');
  // Lossy WebP is VP8, and the lossless box reaches the engine: VP8L.
  const chunk = (b64) => Buffer.from(b64, 'base64').subarray(12, 16).toString('latin1');
  assert.equal(chunk(outputs[3]), 'VP8 ');
  assert.equal(chunk(outputs[4]), 'VP8L');
  // Lossy WebP in wasm is the native encoder's output exactly (zenwebp's wasm SIMD once was not).
  const dir = mkdtempSync(path.join(tmpdir(), 'imgbatch-webp-'));
  execFileSync(CLI, [path.join(CORPUS, photo[0].corpusPath), '-o', dir, '--to', 'webp', '--size', '512']);
  const native = readFileSync(path.join(dir, `${path.parse(photo[0].name).name}.webp`));
  assert.ok(Buffer.from(outputs[3], 'base64').equals(native), 'wasm and native lossy WebPs differ');
  // Mean squared error of each output against the PNG, both decoded by Chromium (libjpeg-turbo, dav1d).
  const mses = await meanSquaredErrors(page, png.outputs[0].data, outputs);
  mses.forEach((mse, i) => {
    assert.ok(mse >= 0 && psnr(mse) >= 32, `${JSON.stringify(variants[i])}: ${psnr(mse).toFixed(2)} dB`);
  });
  await page.close();
});

/** Entry names of a ZIP, from its central directory. */
/** A ZIP's central directory: each entry's name and its DOS date (local time, 2 s steps) in ms. */
function zipDirectory(buf) {
  const end = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  let at = buf.readUInt32LE(end + 16);
  const entries = [];
  for (let n = buf.readUInt16LE(end + 10); n > 0; n--) {
    const nameLength = buf.readUInt16LE(at + 28);
    const [time, date] = [buf.readUInt16LE(at + 12), buf.readUInt16LE(at + 14)];
    const modified = new Date(1980 + (date >> 9), ((date >> 5) & 15) - 1, date & 31, time >> 11, (time >> 5) & 63, (time & 31) * 2).getTime();
    entries.push({ name: buf.subarray(at + 46, at + 46 + nameLength).toString('utf8'), modified });
    at += 46 + nameLength + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32);
  }
  return entries;
}
const zipNames = (buf) => zipDirectory(buf).map((e) => e.name);

/** Converts `files` ({buffer, path, lastModified}) on the page and returns the ZIP it saves. */
async function zipFromPage(page, files, options) {
  const zip = await page.evaluate(async ({ files, options }) => {
    const list = files.map(({ b64, path, lastModified }) => ({
      file: new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], path.split('/').pop(), { lastModified }),
      path,
    }));
    const results = await window.imgbatch.convert(list, options);
    const bytes = new Uint8Array(await (await window.imgbatch.zipBlob()).arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { b64: btoa(s), results: results.map((r) => ({ path: r.path, status: r.status, error: r.error })) };
  }, { files: files.map((f) => ({ b64: f.buffer.toString('base64'), path: f.path, lastModified: f.lastModified })), options });
  return { entries: zipDirectory(Buffer.from(zip.b64, 'base64')), results: zip.results };
}

test('Download all builds a ZIP with every output under its folder path', async () => {
  const { page } = await openPage(isolated);
  const photo = readFileSync(path.join(CORPUS, 'exif-orientation-examples/Portrait_5.jpg'));
  const icon = readFileSync(path.join(CORPUS, 'pngsuite/png/basn6a08.png'));
  const zip = await page.evaluate(async ({ photo, icon }) => {
    const file = (b64, name) => new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name);
    await window.imgbatch.convert([
      { file: file(photo, 'p.jpg'), path: 'trip/day1/p.jpg' },
      { file: file(icon, 'i.png'), path: 'icons/i.png' },
    ], { format: 'webp', sizes: ['200', '50'] });
    const blob = await window.imgbatch.zipBlob();
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }, { photo: photo.toString('base64'), icon: icon.toString('base64') });
  const names = zipNames(Buffer.from(zip, 'base64')).sort();
  assert.deepEqual(names, ['icons/i-200.webp', 'icons/i-50.webp', 'trip/day1/p-200.webp', 'trip/day1/p-50.webp']);
  await page.close();
});

test('the page names outputs as the CLI does, numbers the collision the CLI refuses, and dates ZIP entries', async () => {
  const day = Date.UTC(2001, 1, 3, 4, 5, 6); // 2001-02-03 04:05:06 UTC
  const photo = readFileSync(path.join(CORPUS, 'exif-samples/jpg/Nikon_D70.jpg'));
  const icon = readFileSync(path.join(CORPUS, 'pngsuite/png/basn6a08.png'));
  const files = [
    { buffer: photo, path: 'trip/a.jpg', lastModified: day },
    { buffer: icon, path: 'trip/b.png', lastModified: day + 60_000 },
    { buffer: icon, path: 'trip/c/i.png', lastModified: day },
    { buffer: icon, path: 'trip/c/i.PNG', lastModified: day },
  ];
  const template = '{date}_{time}-{stem}.{ext}';
  const dir = mkdtempSync(path.join(tmpdir(), 'imgbatch-names-'));
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dir, 'in', f.path)), { recursive: true });
    writeFileSync(path.join(dir, 'in', f.path), f.buffer);
    utimesSync(path.join(dir, 'in', f.path), f.lastModified / 1000, f.lastModified / 1000);
  }
  let report;
  try {
    execFileSync(CLI, [path.join(dir, 'in'), '-o', path.join(dir, 'out'), '--name', template, '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    report = JSON.parse(e.stdout); // exit 1: the CLI refuses the second i
  }
  assert.ok(report, 'the CLI refuses one of two outputs with the same name');
  const cliNames = report.files.filter((f) => f.status === 'converted').map((f) => path.relative(path.join(dir, 'out'), f.outputs[0].path));
  assert.deepEqual(report.files.filter((f) => f.status === 'failed').map((f) => f.error.code), ['invalid-options']);

  const { page } = await openPage(isolated);
  const { entries, results } = await zipFromPage(page, files, { format: 'jpeg', sizes: ['64'], name: template });
  assert.ok(results.every((r) => r.status === 'converted'), JSON.stringify(results));
  const pageNames = entries.map((e) => e.name);
  for (const name of cliNames) assert.ok(pageNames.includes(name), `${name} is named alike in the page: ${pageNames}`);
  const numbered = pageNames.filter((n) => !cliNames.includes(n));
  assert.equal(numbered.length, 1, pageNames.join(', '));
  assert.match(numbered[0], /^trip\/c\/2001-02-03_04-05-06-i \(2\)\.jpg$/);
  assert.ok(pageNames.includes('trip/2001-02-03_04-06-06-b.jpg'), 'a file without EXIF is named by its date');
  for (const e of entries) {
    const source = files.find((f) => e.name.startsWith(path.dirname(f.path)) && e.name.includes(`-${path.parse(f.path).name}`));
    assert.ok(Math.abs(e.modified - source.lastModified) <= 2000, `${e.name}: ZIP date ${new Date(e.modified).toISOString()}`);
  }
  // Under "when taken", the photo's entry carries its capture date, the one its name shows.
  const taken = await zipFromPage(page, files.slice(0, 1), { format: 'jpeg', sizes: ['64'], name: '{datetime}.{ext}', dates: 'capture' });
  const [, y, mo, d, h, mi, sec] = /^trip\/(\d+)-(\d+)-(\d+)_(\d+)-(\d+)-(\d+)\.jpg$/.exec(taken.entries[0].name).map(Number);
  assert.notEqual(y, 2001, 'the capture date is not the file date');
  assert.ok(Math.abs(taken.entries[0].modified - Date.UTC(y, mo - 1, d, h, mi, sec)) <= 2000);
  await page.close();
});

test('cancel stops the files in flight at once, and Retry converts them', async () => {
  const { page } = await openPage(isolated);
  const photos = conversionSet.filter((p) => /\.jpe?g$/i.test(p)).slice(0, 6).map(corpusFile);
  await page.setInputFiles('#file-input', photos.map((f) => ({ name: f.name, mimeType: 'image/jpeg', buffer: f.buffer })));
  // Slow on purpose: a visually-lossless target at full size keeps each photo busy for seconds.
  await page.evaluate(() => {
    window.pending = window.imgbatch.convert(document.querySelector('#file-input').files, { format: 'jpeg', visualQuality: 90 });
  });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const cancelledAt = Date.now();
  await page.click('#cancel');
  const results = await page.evaluate(async () => (await window.pending).map((r) => ({ status: r.status, error: r.error })));
  const waited = Date.now() - cancelledAt;
  const stopped = results.filter((r) => r.error?.message === 'cancelled while converting');
  assert.ok(stopped.length > 0, `files in flight were stopped, not waited for: ${JSON.stringify(results)}`);
  assert.ok(results.every((r) => r.status === 'converted' || r.status === 'cancelled'), JSON.stringify(results));
  // Generous for a shared machine; finishing the photos in flight would take far longer.
  assert.ok(waited < 5000, `the batch ended ${waited} ms after Cancel`);
  await page.click('#retry');
  await page.waitForFunction((n) => document.querySelectorAll('#files tr.status-converted').length === n, photos.length, { timeout: 120_000 });
  await page.close();
});

test('no request leaves the origin during a conversion, the service worker\'s included', async () => {
  // A fresh context, so the service worker installs here and its own fetches (the whole
  // build, cached for offline use) are seen: Chromium reports them to the context only.
  const context = await browser.newContext();
  const requests = [];
  context.on('request', (r) => requests.push({ url: r.url(), fromServiceWorker: r.serviceWorker() !== null }));
  const page = await context.newPage();
  await page.goto(isolated.url);
  await page.evaluate(() => window.imgbatch.ready);
  assert.equal((await page.evaluate(() => window.imgbatch.offline)).ready, true);
  await convertInPage(page, conversionSet.slice(0, 6).map(corpusFile), { format: 'jpeg', sizes: ['256'] });
  assert.ok(requests.some((r) => r.fromServiceWorker), 'the service worker\'s requests were not seen');
  const origin = new URL(isolated.url).origin;
  const foreign = requests.filter(({ url }) => !url.startsWith(origin) && !url.startsWith('blob:') && !url.startsWith('data:'));
  assert.deepEqual(foreign, []);
  await context.close();
});

test('a maximum file size set on the page is met, with the quality it took', async () => {
  const { page } = await openPage(isolated);
  const photos = conversionSet.slice(0, 3).map(corpusFile);
  const results = await convertInPage(page, photos, { format: 'jpeg', quality: 90, targetSize: '30K', sizes: ['1024'] });
  for (const r of results) {
    assert.equal(r.status, 'converted', JSON.stringify(r.error));
    assert.ok(r.outputs[0].bytes <= 30_000, `${r.path}: ${r.outputs[0].bytes} bytes`);
  }
  const notes = results.flatMap((r) => r.outputs[0].notes);
  assert.ok(notes.some((n) => n.code === 'quality-for-target-size' && n.quality < 90
    && /^quality \d+, the highest that fits in 30 KB$/.test(n.message)), JSON.stringify(notes));
  const [tooSmall] = await convertInPage(page, photos.slice(0, 1), { format: 'jpeg', targetSize: '1K' });
  assert.equal(tooSmall.error.code, 'target-size');
  assert.match(tooSmall.error.message, /cannot fit in 1 KB/);
  await page.close();
});

test('a visual-quality target on the page writes the CLI\'s bytes, threaded and fallback, and says what it chose', async () => {
  const photos = conversionSet.filter((p) => /\.jpe?g$/i.test(p)).slice(0, 3).map(corpusFile);
  const threaded = await openPage(isolated);
  const fallback = await openPage(plain);
  for (const format of ['jpeg', 'webp']) {
    const options = { format, visualQuality: 80, sizes: ['512'] };
    const a = await convertInPage(threaded.page, photos, options, { withBytes: true });
    const b = await convertInPage(fallback.page, photos, options, { withBytes: true });
    const dir = mkdtempSync(path.join(tmpdir(), 'imgbatch-look-'));
    execFileSync(CLI, [...photos.map((p) => path.join(CORPUS, p.corpusPath)), '-o', dir, '--to', format, '--size', '512', '--visual-quality', 'high']);
    for (const [i, r] of a.entries()) {
      assert.equal(r.status, 'converted', JSON.stringify(r.error));
      const native = readFileSync(path.join(dir, `${path.parse(r.path).name}.${format === 'jpeg' ? 'jpg' : 'webp'}`));
      assert.ok(Buffer.from(r.outputs[0].data, 'base64').equals(native), `${r.path} ${format}: page and CLI differ`);
      assert.equal(b[i].outputs[0].hash, r.outputs[0].hash, `${r.path} ${format}: fallback and threaded differ`);
      const note = r.outputs[0].notes.find((n) => n.code === 'quality-for-look');
      assert.ok(note && note.score >= 80 && /^quality \d+, the lowest that looks 80 or better \(SSIMULACRA2 \d+\.\d\)$/.test(note.message), JSON.stringify(r.outputs[0].notes));
    }
  }
  // The browser build reads AVIF through the browser, which a search cannot call: refused, not faked.
  const [avif] = await convertInPage(threaded.page, photos.slice(0, 1), { format: 'avif', visualQuality: 80 });
  assert.equal(avif.error.code, 'invalid-options');
  await threaded.page.close();
  await fallback.page.close();
});

test('an AVIF the browser decodes keeps its EXIF and profile under keep, and reaches sRGB as the CLI takes it there', async () => {
  const { page } = await openPage(isolated);
  const [kept] = await convertInPage(page, [corpusFile('libavif/paris_icc_exif_xmp.avif')], { format: 'jpeg', metadata: 'keep', color: 'keep' }, { withBytes: true });
  const jpeg = Buffer.from(kept.outputs[0].data, 'base64');
  assert.ok(jpeg.includes('Google'), 'the camera is in the EXIF');
  assert.ok(jpeg.includes('ICC_PROFILE'), 'the profile is embedded');
  // ColorSpin swaps the channels: left unconverted, the colours would be far off.
  const source = 'link-u-avif/red-at-12-oclock-with-color-profile-8bpc.avif';
  const [srgb] = await convertInPage(page, [corpusFile(source)], { format: 'png', color: 'srgb' }, { withBytes: true });
  const [inProfile] = await convertInPage(page, [corpusFile(source)], { format: 'png', color: 'keep' }, { withBytes: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'imgbatch-avif-colour-'));
  execFileSync(CLI, [path.join(CORPUS, source), '-o', dir, '--to', 'png', '--color', 'srgb']);
  const native = readFileSync(path.join(dir, `${path.parse(source).name}.png`)).toString('base64');
  const [toCli, toProfile] = await meanSquaredErrors(page, srgb.outputs[0].data, [native, inProfile.outputs[0].data]);
  // Chromium decodes AV1 with dav1d, the CLI with rav1d: close, not identical.
  assert.ok(psnr(toCli) >= 35, `page and CLI sRGB differ: ${psnr(toCli).toFixed(2)} dB`);
  assert.ok(psnr(toProfile) < 25, `the colours hardly moved: ${psnr(toProfile).toFixed(2)} dB`);
  await page.close();
});

test('an AVIF whose header declares 17,000 px square is refused with limit before the browser decodes it', async () => {
  const avif = Buffer.from(readFileSync(path.join(CORPUS, 'link-u-avif/fox.profile0.10bpc.yuv420.avif')));
  let patched = 0;
  for (let at = avif.indexOf('ispe'); at >= 0; at = avif.indexOf('ispe', at + 4)) {
    avif.writeUInt32BE(17000, at + 8); // after the box type: version and flags, width, height
    avif.writeUInt32BE(17000, at + 12);
    patched++;
  }
  assert.ok(patched > 0, 'the AVIF has an ispe box to patch');
  const { page } = await openPage(isolated);
  const [bomb, good] = await convertInPage(page, [{ name: 'bomb.avif', buffer: avif }, corpusFile('exif-orientation-examples/Landscape_1.jpg')], { format: 'jpeg', sizes: ['64'] });
  assert.equal(bomb.status, 'failed');
  assert.equal(bomb.error.code, 'limit', bomb.error.message);
  assert.equal(good.status, 'converted');
  const { peakWasmBytes } = await page.evaluate(() => window.imgbatch.engineInfo());
  assert.ok(peakWasmBytes < 256 << 20, `the engine grew to ${peakWasmBytes >> 20} MiB`);
  await page.close();
});
