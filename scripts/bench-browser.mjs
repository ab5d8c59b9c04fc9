// The browser half of scripts/bench: in one headless Chromium, runs the staged photo batch
// through the real imgbatch page (threaded engine at 1 and all threads, the fallback pool)
// and through each browser peer (bench/peers/: wasm-vips, magick-wasm, jSquash, the canvas
// pipeline), and prints JSON on stdout. Outputs of the `keep` photos are written to
// SPEC.outdir/<label>/ for the quality scores.
//   node scripts/bench-browser.mjs SPEC.json
// SPEC: { folder, reps, cores, max_wait, wait_budget, outdir, keep: [names], photos: [{ name, mp, target_a, target_b }],
//         imgbatch: [{ label, query, kind, size, limit?, reps? }], peers: [{ label, peer, workers, threads, kind, format, limit? }],
//         memory_by_batch: [n...] }
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from '../bench/node_modules/playwright-core/index.mjs';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const root = path.resolve(import.meta.dirname, '..');
const files = readdirSync(spec.folder).sort();
const log = (...a) => console.error('bench-browser:', ...a);

function startServer(command, args) {
  const server = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = new Promise((resolve, reject) => {
    server.stdout.on('data', (c) => { const m = /(http:\/\/(localhost|127\.0\.0\.1):\d+\/)/.exec(String(c)); if (m) resolve(m[1]); });
    server.on('exit', (code) => reject(new Error(`${command} exited with ${code}`)));
  });
  return { server, url };
}
// `--dir ./dist` serves the site as scripts/bench built it: plain `dist` would rebuild it mid-run whenever src/ changes.
const site = startServer(path.join(root, 'scripts/serve'), ['--port', '0', '--dir', './dist']);
const peers = startServer('node', [path.join(root, 'bench/serve.mjs'), spec.folder]);
const [siteUrl, peersUrl] = [await site.url, await peers.url];

const tag = `--imgbatch-bench=${process.pid}`; // finds the browser's process tree for the memory samples
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--enable-precise-memory-info', tag],
});

// --- Chromium's memory: the summed PSS of its whole process tree, sampled every 100 ms --------
const read = (p) => { try { return readFileSync(p, 'utf8'); } catch { return ''; } };
const rootPid = readdirSync('/proc').find((p) => /^\d+$/.test(p) && read(`/proc/${p}/cmdline`).split('\0').includes(tag)
  && !read(`/proc/${read(`/proc/${p}/stat`).split(') ')[1]?.split(' ')[1]}/cmdline`).includes(tag));
function treePss() {
  let total = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop();
    total += Number(/^Pss:\s+(\d+)/m.exec(read(`/proc/${pid}/smaps_rollup`))?.[1] ?? 0) * 1024;
    for (const tid of readdirSync(`/proc/${pid}/task`, { throwIfNoEntry: false }) ?? []) {
      stack.push(...read(`/proc/${pid}/task/${tid}/children`).split(' ').filter(Boolean));
    }
  }
  return total;
}
async function sampled(fn) {
  let peak = treePss();
  const timer = setInterval(() => { peak = Math.max(peak, treePss()); }, 100);
  try { return { ...(await fn()), peak_pss: peak }; } finally { clearInterval(timer); }
}

let budget = spec.wait_budget; // total waiting for quiet left for this run, s
function quiet() {
  const load = JSON.parse(spawnSync('python3', [path.join(root, 'bench/quiet.py'), String(Math.max(0, Math.min(spec.max_wait, budget)))], { encoding: 'utf8' }).stdout);
  budget -= load.waited_s;
  return load;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function saveKept(label, kept, ext) {
  const dir = path.join(spec.outdir, label);
  mkdirSync(dir, { recursive: true });
  for (const [name, b64] of Object.entries(kept)) writeFileSync(path.join(dir, `${path.parse(name).name}.${ext}`), Buffer.from(b64, 'base64'));
}

/** Warm-up, then `reps` timed runs (each after a quiet check) of `once(limit, keep)`; keeps the last run's outputs if `entry.keep`. */
async function repeat(entry, once) {
  const limit = entry.limit ?? files.length;
  const reps = entry.reps ?? spec.reps;
  await once(Math.min(limit, 4), false); // warm-up: compile, start workers/pool, page cache
  const runs = [];
  for (let r = 0; r < reps; r++) {
    const load = quiet();
    runs.push({ ...(await sampled(() => once(limit, entry.keep && r === reps - 1))), load });
  }
  const last = runs.at(-1);
  const result = { ...entry, files: last.files, walls: runs.map((x) => x.wall), median: median(runs.map((x) => x.wall)),
    loads: runs.map((x) => x.load), bytes: last.bytes, peak_wasm: Math.max(...runs.map((x) => x.peak_wasm)),
    js_heap: Math.max(...runs.map((x) => x.js_heap)), peak_pss: Math.max(...runs.map((x) => x.peak_pss)) };
  for (const k of ['stages_ms', 'file_ms', 'mode', 'engine_threads', 'engine_workers', 'isolated']) if (last[k] !== undefined) result[k] = last[k];
  log(`${entry.label}: median ${result.median.toFixed(2)} s over ${result.files} files`);
  return result;
}

// --- imgbatch: the real page, through its scripting API --------------------------------------
async function imgbatch(entry) {
  const page = await browser.newPage();
  await page.goto(siteUrl + entry.query);
  await page.evaluate(() => window.imgbatch.ready);
  await page.setInputFiles('#file-input', files.map((f) => path.join(spec.folder, f)));
  const once = async (count, keep) => {
    const r = await page.evaluate(async ({ count, options, keep, keepNames }) => {
      const input = [...document.querySelector('#file-input').files];
      // Renamed File wrappers share the bytes, so a long batch costs no extra copies here.
      const batch = Array.from({ length: count }, (_, i) => new File([input[i % input.length]], `${i}-${input[i % input.length].name}`));
      document.querySelector('#clear').click();
      const start = performance.now();
      const results = await window.imgbatch.convert(batch, options);
      const wall = (performance.now() - start) / 1000;
      const failed = results.filter((x) => x.status !== 'converted');
      if (failed.length) throw new Error(`${failed.length} files failed: ${JSON.stringify(failed[0].error)}`);
      const stages = Object.fromEntries(['decode_ms', 'resize_ms', 'encode_ms'].map((k) => [k, results.reduce((s, x) => s + x.outputs[0].timings[k], 0)]));
      const kept = {};
      if (keep) {
        for (let i = 0; i < results.length; i++) {
          const name = input[i % input.length].name;
          if (!keepNames.includes(name) || kept[name]) continue;
          const data = new Uint8Array(await results[i].outputs[0].blob.arrayBuffer());
          let s = '';
          for (let j = 0; j < data.length; j += 0x8000) s += String.fromCharCode(...data.subarray(j, j + 0x8000));
          kept[name] = btoa(s);
        }
      }
      const info = window.imgbatch.engineInfo();
      return { wall, files: results.length, bytes: results.reduce((s, x) => s + x.outputs.reduce((t, o) => t + o.bytes, 0), 0), stages_ms: stages,
        file_ms: results.reduce((s, x) => s + x.ms, 0), kept, mode: info.mode, engine_threads: info.threads, engine_workers: info.workers,
        peak_wasm: info.peakWasmBytes, js_heap: performance.memory?.usedJSHeapSize ?? 0 };
    }, { count, keep, keepNames: spec.keep, options: { format: entry.format, quality: 80, sizes: [entry.size].flat(), filter: 'lanczos3' } });
    if (keep) saveKept(entry.label, r.kept, entry.format === 'webp' ? 'webp' : 'jpg');
    delete r.kept;
    return r;
  };
  try { return await repeat(entry, once); } finally { await page.close(); }
}

// --- the peers: bench/peers/index.html, one worker per `workers` -----------------------------
async function peer(entry) {
  const page = await browser.newPage();
  await page.goto(`${peersUrl}peers/index.html`);
  const setup = await page.evaluate((e) => window.setupPeers(e), { peer: entry.peer, workers: entry.workers, threads: entry.threads });
  await page.evaluate((list) => window.loadPhotos(list), spec.photos);
  const task = { kind: entry.kind, format: entry.format };
  const once = async (limit, keep) => {
    const r = await page.evaluate(({ task, keep, limit }) => window.runBatch(task, keep, limit), { task, keep: keep ? spec.keep : [], limit });
    if (keep) saveKept(entry.label, await page.evaluate(() => window.takeKept()), entry.format === 'webp' ? 'webp' : 'jpg');
    return r;
  };
  try { return { ...(await repeat(entry, once)), isolated: setup.isolated }; } finally { await page.close(); }
}

const out = { chromium: browser.version(), imgbatch: {}, peers: {}, errors: {} };
for (const entry of spec.imgbatch) {
  try { out.imgbatch[entry.label] = await imgbatch(entry); } catch (e) { out.errors[entry.label] = String(e.message).slice(0, 400); log(entry.label, e.message); }
}
for (const entry of spec.peers) {
  try { out.peers[entry.label] = await peer(entry); } catch (e) { out.errors[entry.label] = String(e.message).slice(0, 400); log(entry.label, e.message); }
}
out.memory_by_batch = {};
for (const n of spec.memory_by_batch ?? []) {
  const m = await imgbatch({ label: `memory-${n}`, query: `?threads=${spec.cores}`, size: '2048', limit: n, reps: 1 });
  out.memory_by_batch[n] = { peak_wasm: m.peak_wasm, js_heap: m.js_heap, peak_pss: m.peak_pss, seconds: m.walls[0] };
}
await browser.close();
site.server.kill();
peers.server.kill();
process.stdout.write(JSON.stringify(out));
