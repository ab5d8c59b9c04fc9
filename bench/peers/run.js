// The page half of the browser peers (driven by scripts/bench-browser.mjs): a pool of module
// workers, each running one peer (./worker.js loads ./<peer>.js), fed one photo at a time from
// a shared queue, as a batch converter would. Photos are fetched into Blobs before timing
// starts; each worker reads its Blob's bytes itself, so the copy in is inside the timing.
let pool = [];
let inputs = [];
let kept = {};

function call(worker, message) {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e) => (e.data.error ? reject(new Error(e.data.error)) : resolve(e.data));
    worker.onerror = (e) => reject(new Error(e.message || 'worker error'));
    worker.postMessage(message);
  });
}

window.setupPeers = async ({ peer, workers, threads }) => {
  pool.forEach((w) => w.terminate());
  pool = [];
  for (let i = 0; i < workers; i++) {
    const worker = new Worker(`./worker.js?peer=${peer}&threads=${threads}`, { type: 'module' });
    await call(worker, { init: true });
    pool.push(worker);
  }
  return { workers: pool.length, isolated: self.crossOriginIsolated };
};

window.loadPhotos = async (list) => {
  inputs = await Promise.all(list.map(async (f) => ({ ...f, blob: await (await fetch(`/photos/${encodeURIComponent(f.name)}`)).blob() })));
  return inputs.length;
};

/** Converts every loaded photo with `task` ({ kind: 'a' | 'b', format }); keeps the outputs of `keep` names. */
window.runBatch = async (task, keep, limit) => {
  kept = {};
  const batch = inputs.slice(0, limit ?? inputs.length);
  let next = 0, bytes = 0, fileMs = 0;
  const start = performance.now();
  await Promise.all(pool.map(async (worker) => {
    while (next < batch.length) {
      const f = batch[next++];
      const r = await call(worker, { blob: f.blob, task, target: task.kind === 'a' ? f.target_a : f.target_b });
      bytes += r.data.byteLength;
      fileMs += r.ms;
      if (keep.includes(f.name)) kept[f.name] = r.data;
    }
  }));
  const wall = (performance.now() - start) / 1000;
  const memories = await Promise.all(pool.map((w) => call(w, { memory: true })));
  return { wall, files: batch.length, bytes, file_ms: fileMs, peak_wasm: memories.reduce((s, m) => s + m.memory, 0),
    js_heap: performance.memory?.usedJSHeapSize ?? 0 };
};

/** The kept outputs, base64-encoded for the trip to Node. */
window.takeKept = () => Object.fromEntries(Object.entries(kept).map(([name, data]) => {
  let s = '';
  for (let i = 0; i < data.length; i += 0x8000) s += String.fromCharCode(...data.subarray(i, i + 0x8000));
  return [name, btoa(s)];
}));
