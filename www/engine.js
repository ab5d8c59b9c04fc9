// The page's side of the engine: picks the threaded engine or the fallback pool, hands jobs
// to workers as they have room, and recovers when a worker dies. The main thread never
// loads wasm. Cancelling drops the queued files and stops those in flight at once: a wasm
// call cannot be interrupted, so their workers are terminated and respawned, as after a crash.
import { MSG } from './protocol.js';

const START_TIMEOUT_MS = 60_000;
// A job that runs longer than this is treated as a hung engine: generous, since a 100 MP
// photo can take tens of seconds on a slow machine.
const JOB_TIMEOUT_BASE_MS = 120_000;
const JOB_TIMEOUT_PER_MB_MS = 5_000;

// The smallest module using a SIMD128 instruction (as wasm-feature-detect checks it). Both
// engine builds need SIMD, so that they compute, and encode, exactly alike.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

/** Why the threaded engine cannot run here, or null when it can. */
function threadBlocker() {
  if (!self.crossOriginIsolated) return 'the page is not cross-origin isolated (the server sends no COOP/COEP headers)';
  if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is not available';
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch {
    return 'this browser cannot create shared WebAssembly memory';
  }
  return null;
}

/** One engine worker; `slots` jobs at a time. */
class Bridge {
  constructor(flavor, dir, threads, slots, handlers) {
    this.flavor = flavor;
    this.dir = dir;
    this.threads = threads;
    this.slots = slots;
    this.handlers = handlers;
    this.inFlight = new Map(); // id -> job
    this.calls = new Map(); // request -> { resolve, reject }
    this.dead = false;
  }

  start() {
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: `imgbatch-${this.flavor}` });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the engine did not start in time')), START_TIMEOUT_MS);
      this.worker.onmessage = ({ data }) => {
        if (data.type === MSG.READY) {
          clearTimeout(timer);
          this.info = data.info;
          this.worker.onmessage = ({ data }) => this.onMessage(data);
          resolve(this);
        } else if (data.type === MSG.INIT_FAILED) {
          clearTimeout(timer);
          reject(new Error(data.message));
        }
      };
      this.worker.onerror = (e) => {
        clearTimeout(timer);
        if (this.info) this.die(null, e.message || 'the engine worker failed');
        else reject(new Error(e.message || 'the engine worker failed to load'));
      };
      this.worker.postMessage({ type: MSG.INIT, flavor: this.flavor, dir: this.dir, threads: this.threads });
    });
  }

  send(job) {
    this.inFlight.set(job.id, job);
    const timeout = JOB_TIMEOUT_BASE_MS + (job.file.size / 1e6) * JOB_TIMEOUT_PER_MB_MS;
    job.timer = setTimeout(() => this.die(job.id, `timed out after ${Math.round(timeout / 1000)} s`), timeout);
    this.worker.postMessage({ type: MSG.JOB, id: job.id, file: job.file, path: job.path, number: job.number, zipEntry: job.zipEntry, options: job.options });
  }

  onMessage(data) {
    if (data.type === MSG.DONE) {
      this.peakWasmBytes = Math.max(this.peakWasmBytes ?? 0, data.wasmBytes ?? 0);
      const job = this.inFlight.get(data.id);
      if (!job) return;
      clearTimeout(job.timer);
      this.inFlight.delete(data.id);
      this.handlers.done(job, data.result);
    } else if (data.type === MSG.ANSWER) {
      const waiting = this.calls.get(data.request);
      this.calls.delete(data.request);
      if (data.error) waiting?.reject(Object.assign(new Error(data.error.message), { code: data.error.code }));
      else waiting?.resolve(data.value);
    } else if (data.type === MSG.CRASHED) {
      this.die(data.id, data.message);
    }
  }

  /** Asks the worker's engine one of its CALLS (worker.js); resolves with the answer. */
  call(name, args) {
    const request = (this.nextRequest = (this.nextRequest ?? 0) + 1);
    return new Promise((resolve, reject) => {
      this.calls.set(request, { resolve, reject });
      this.worker.postMessage({ type: MSG.CALL, request, name, args });
    });
  }

  /** The instance is gone: report every job it held, then free the worker. */
  die(crashedId, message) {
    if (this.dead) return;
    this.dead = true;
    this.worker.terminate();
    const jobs = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const job of jobs) clearTimeout(job.timer);
    this.dropCalls();
    this.handlers.crashed(this, jobs, crashedId, message);
  }

  terminate() {
    this.dead = true;
    this.worker?.terminate();
    for (const job of this.inFlight.values()) clearTimeout(job.timer);
    this.dropCalls();
  }

  dropCalls() {
    for (const waiting of this.calls.values()) waiting.reject(new Error('the engine stopped; try again'));
    this.calls.clear();
  }
}

// The engine names each output; two inputs can still share a name (a.png, a.jpg), and one
// output must never replace another in the ZIP, so a repeat takes the engine's numbered form.
function claimName(meta, taken) {
  let name = meta.name;
  for (let n = 2; taken.has(name); n++) name = meta.numbered.replace('\0', String(n));
  taken.add(name);
  return name;
}

class Engine {
  /** `threads`: pool size or fallback worker count (default: every core). */
  constructor({ forceFallback = false, threads } = {}) {
    this.forceFallback = forceFallback;
    this.threads = threads;
    this.bridges = [];
    this.busy = false;
  }

  async start() {
    if (!WebAssembly.validate(SIMD_PROBE)) {
      throw new Error('this browser does not support WebAssembly SIMD (Chrome 91+, Firefox 89+, Safari 16.4+ do)');
    }
    const build = await (await fetch(new URL('./build.json', import.meta.url), { cache: 'no-cache' })).json();
    this.build = build;
    const cores = this.threads || navigator.hardwareConcurrency || 2;
    let reason = this.forceFallback ? 'the threaded engine was turned off' : threadBlocker();
    if (!reason) {
      try {
        // Two files per thread in flight keeps the pool busy while the next file is read.
        this.bridges = [await this.spawn('parallel', cores, cores * 2)];
        this.mode = 'threaded';
        this.reason = 'cross-origin isolated: one engine, a shared thread pool';
      } catch (e) {
        reason = `the thread pool could not start (${e.message})`;
      }
    }
    if (reason) {
      this.bridges = await Promise.all(Array.from({ length: cores }, () => this.spawn('single', 1, 1)));
      this.mode = 'fallback';
      this.reason = reason;
    }
    this.engineInfo = this.bridges[0].info;
    this.formats = new Map(this.engineInfo.formats.map((f) => [f.id, f]));
    return this;
  }

  spawn(flavor, threads, slots) {
    const dir = flavor === 'parallel' ? this.build.parallel : this.build.single;
    const bridge = new Bridge(flavor, dir, threads, slots, {
      done: (job, result) => this.onDone(job, result),
      crashed: (dead, jobs, id, message) => this.onCrash(dead, jobs, id, message),
    });
    return bridge.start();
  }

  info() {
    return {
      mode: this.mode,
      reason: this.reason,
      threads: this.mode === 'threaded' ? this.engineInfo.threads : 1,
      workers: this.bridges.length,
      // Sum over workers of each wasm instance's largest memory so far.
      peakWasmBytes: this.bridges.reduce((sum, b) => sum + (b.peakWasmBytes ?? 0), 0),
      build: { version: this.engineInfo.version, flavor: this.engineInfo.flavor },
      formats: this.engineInfo.formats,
      visualQualityLevels: this.engineInfo.visualQualityLevels,
      nameFields: this.engineInfo.nameFields,
      presets: this.engineInfo.presets,
      options: this.engineInfo.options,
      fits: this.engineInfo.fits,
    };
  }

  call(name, args) {
    const bridge = this.bridges.find((b) => !b.dead);
    return bridge ? bridge.call(name, args) : Promise.reject(new Error('the engine is restarting; try again'));
  }

  /** Checks a preset file with the engine: `{ label, settings }` with every setting filled in. */
  readPreset(json) {
    return this.call('readPreset', json);
  }

  /** The entries of a ZIP `file`, read from its end and its directory, never whole: each
   *  `{ file, path, zipEntry }` for convert(), with the entry's bytes still in the archive. */
  async zipItems(file, folder = '') {
    const { tailBytes, localHeaderMax } = this.engineInfo.zip;
    const bytes = async (from, to) => new Uint8Array(await file.slice(from, to).arrayBuffer());
    let where = await this.call('zipDirectory', { tail: await bytes(Math.max(0, file.size - tailBytes), file.size), length: file.size });
    if (where.zip64RecordAt != null) where = await this.call('zip64Directory', await bytes(where.zip64RecordAt, where.zip64RecordAt + 56));
    const { offset, size } = where.at;
    const entries = await this.call('zipEntries', await bytes(offset, offset + size));
    return entries.map((entry) => {
      const end = Math.min(file.size, entry.offset + localHeaderMax + entry.compressedSize);
      const name = entry.path.split('/').pop();
      return {
        // A slice refers to the archive; nothing is read until the worker reads it.
        file: new File([file.slice(entry.offset, end)], name, { lastModified: entry.modified ?? file.lastModified }),
        path: folder ? `${folder}/${entry.path}` : entry.path,
        zipEntry: entry,
      };
    });
  }

  /** Converts `items` ({file, path, number?}) with `options`; resolves with one result per item. */
  convert(items, options = {}, { onProgress, onResult, signal } = {}) {
    if (this.busy) return Promise.reject(new Error('a conversion is already running'));
    this.busy = true;
    const run = {
      queue: items.map((item, index) => ({ id: this.nextId = (this.nextId ?? 0) + 1, index, number: item.number ?? index + 1, file: item.file, path: item.path, zipEntry: item.zipEntry, options })),
      results: new Array(items.length),
      remaining: items.length,
      taken: new Set(),
      progress: { done: 0, total: items.length, inputBytes: 0, outputBytes: 0, megapixels: 0 },
      onProgress,
      onResult,
    };
    this.run = run;
    return new Promise((resolve) => {
      run.resolve = resolve;
      signal?.addEventListener('abort', () => this.cancel(), { once: true });
      if (run.remaining === 0) this.complete();
      else this.dispatch();
    });
  }

  cancel() {
    const run = this.run;
    if (!run) return;
    const cancelled = (job, message) => this.record(job, { status: 'cancelled', error: { code: 'cancelled', message }, outputs: [], inputBytes: job.file.size, ms: 0 });
    for (const job of run.queue.splice(0)) cancelled(job, 'cancelled before it started');
    for (const [index, bridge] of this.bridges.entries()) {
      if (bridge.dead || bridge.inFlight.size === 0) continue;
      const jobs = [...bridge.inFlight.values()];
      bridge.terminate();
      bridge.inFlight.clear();
      for (const job of jobs) cancelled(job, 'cancelled while converting');
      this.respawn(bridge, index, bridge.slots);
    }
  }

  /** Replaces a dead bridge with a fresh worker; drops it if none starts. */
  async respawn(dead, index, slots) {
    try {
      this.bridges[index] = await this.spawn(dead.flavor, dead.threads, slots);
    } catch (e) {
      this.bridges.splice(this.bridges.indexOf(dead), 1);
      if (this.bridges.length === 0) {
        for (const job of this.run?.queue.splice(0) ?? []) this.record(job, { status: 'failed', error: { code: 'internal', message: `the engine could not restart: ${e.message}` }, outputs: [], inputBytes: job.file.size, ms: 0 });
      }
    }
    if (this.run) this.dispatch();
  }

  dispatch() {
    const run = this.run;
    if (!run) return;
    for (const bridge of this.bridges) {
      while (!bridge.dead && bridge.inFlight.size < bridge.slots && run.queue.length > 0) bridge.send(run.queue.shift());
    }
  }

  onDone(job, result) {
    const outputs = (result.outputs ?? []).map(({ bytes, meta }) => {
      const formatInfo = this.formats.get(meta.format);
      const name = claimName(meta, this.run.taken);
      const blob = new Blob([bytes], { type: formatInfo.mime });
      return { name, modified: meta.modified, blob, bytes: bytes.byteLength, width: meta.width, height: meta.height, format: meta.format, mime: formatInfo.mime, size: meta.size, notes: meta.notes, timings: meta.timings };
    });
    this.record(job, { ...result, outputs });
    this.dispatch();
  }

  async onCrash(dead, jobs, crashedId, message) {
    const run = this.run;
    // Only the file that crashed the engine fails; the others go back to the front.
    const requeue = [];
    for (const job of jobs) {
      if (job.id === crashedId || (crashedId == null && jobs.length === 1)) {
        this.record(job, { status: 'failed', error: { code: 'internal', message: `the engine crashed on this file and was restarted: ${message}` }, outputs: [], inputBytes: job.file.size, ms: 0 });
      } else {
        requeue.push(job);
      }
    }
    // Unknown culprit among several: retry them one at a time in the fresh worker.
    run?.queue.unshift(...requeue);
    await this.respawn(dead, this.bridges.indexOf(dead), crashedId == null && requeue.length > 1 ? 1 : dead.slots);
  }

  record(job, result) {
    const run = this.run;
    if (!run || run.results[job.index]) return;
    const full = { index: job.index, path: job.path, status: result.status, error: result.error ?? null, inputBytes: result.inputBytes ?? job.file.size, width: result.width, height: result.height, ms: result.ms ?? 0, outputs: result.outputs ?? [] };
    run.results[job.index] = full;
    run.remaining -= 1;
    const p = run.progress;
    p.done += 1;
    p.inputBytes += full.inputBytes;
    p.outputBytes += full.outputs.reduce((sum, o) => sum + o.bytes, 0);
    if (full.status === 'converted' && full.width) p.megapixels += (full.width * full.height) / 1e6;
    run.onResult?.(full);
    run.onProgress?.({ ...p });
    if (run.remaining === 0) this.complete();
  }

  complete() {
    const run = this.run;
    this.run = null;
    this.busy = false;
    run.resolve(run.results);
  }

  dispose() {
    for (const bridge of this.bridges) bridge.terminate();
    this.bridges = [];
  }
}

/** Starts the engine: threaded where the page is cross-origin isolated, else a worker pool. */
export async function createEngine(options) {
  return new Engine(options).start();
}
