// The browser half of scripts/bench: runs the staged photo batch through the real page in
// headless Chromium, under each engine configuration, and prints JSON on stdout.
//   node scripts/bench-browser.mjs FOLDER REPS CORES
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from '../tests/browser/node_modules/playwright-core/index.mjs';

const [folder, reps, cores] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const root = path.resolve(import.meta.dirname, '..');
const files = readdirSync(folder).sort().map((f) => path.join(folder, f));
const OPTIONS = { format: 'jpeg', quality: 80, sizes: ['2048'], filter: 'lanczos3' };

const server = spawn(path.join(root, 'scripts/serve'), ['--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  server.stdout.on('data', (c) => { const m = /(http:\/\/localhost:\d+\/)/.exec(String(c)); if (m) resolve(m[1]); });
  server.on('exit', (code) => reject(new Error(`scripts/serve exited with ${code}`)));
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--enable-precise-memory-info'],
});

/** Opens the page with `query`, loads the batch, and runs `count` files (cycled) `times` times. */
async function measure(query, count, times) {
  const page = await browser.newPage();
  await page.goto(url + query);
  await page.evaluate(() => window.imgbatch.ready);
  await page.setInputFiles('#file-input', files);
  const result = await page.evaluate(async ({ count, times, options }) => {
    const input = [...document.querySelector('#file-input').files];
    // Renamed File wrappers share the bytes, so a 200-file batch costs no extra copies here.
    const batch = Array.from({ length: count }, (_, i) => new File([input[i % input.length]], `${i}-${input[i % input.length].name}`));
    await window.imgbatch.convert(batch.slice(0, 4), options); // warm-up: compile, pool start
    const walls = [];
    let stages;
    for (let r = 0; r < times; r++) {
      document.querySelector('#clear').click();
      const start = performance.now();
      const results = await window.imgbatch.convert(batch, options);
      walls.push((performance.now() - start) / 1000);
      const failed = results.filter((x) => x.status !== 'converted');
      if (failed.length) throw new Error(`${failed.length} files failed: ${JSON.stringify(failed[0].error)}`);
      stages = Object.fromEntries(['decode_ms', 'resize_ms', 'encode_ms'].map((k) => [k, Math.round(results.reduce((s, x) => s + x.outputs[0].timings[k], 0))]));
    }
    const info = window.imgbatch.engineInfo();
    return { mode: info.mode, threads: info.threads, workers: info.workers, walls, stages_ms: stages,
      peak_wasm: info.peakWasmBytes, js_heap: performance.memory?.usedJSHeapSize ?? 0 };
  }, { count, times, options: OPTIONS });
  await page.close();
  result.median = [...result.walls].sort((a, b) => a - b)[Math.floor(result.walls.length / 2)];
  return result;
}

const out = {};
out.threaded_1 = await measure('?threads=1', files.length, reps);
out[`threaded_${cores}`] = await measure(`?threads=${cores}`, files.length, reps);
out.fallback = await measure(`?engine=fallback&threads=${cores}`, files.length, reps);
out.memory_by_batch = {};
for (const n of [10, 200]) {
  const m = await measure(`?threads=${cores}`, n, 1);
  out.memory_by_batch[n] = { peak_wasm: m.peak_wasm, js_heap: m.js_heap, seconds: m.walls[0] };
}
await browser.close();
server.kill();
process.stdout.write(JSON.stringify(out));
