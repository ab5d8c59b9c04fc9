// The engine worker: owns one wasm instance, reads each file only when its job arrives,
// converts it (on the rayon pool in the threaded flavor), and sends the outputs back by
// transfer. Holds no image logic: every decision is the engine's.
import './trusted-types.js';
import { MSG } from './protocol.js';

let wasm = null;
let exports = null; // the instance's raw exports, for the memory size
let flavor = 'single';
let optionsCache = new Map(); // options object -> JSON, so each job does not re-serialise
let imageExtensions = new Set();
let memoryBudget = 1 << 30;
let memoryInUse = 0;
const waitingForMemory = []; // jobs read and estimated, waiting for room in the budget
const running = new Map(); // id -> { estimate, started, inputBytes, width, height }
const naming = new Map(); // id -> { options, file: JSON of { path, number, modified } }
let polling = false;

self.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === MSG.INIT) init(msg).catch((e) => self.postMessage({ type: MSG.INIT_FAILED, message: String(e?.message ?? e) }));
  else if (msg.type === MSG.JOB) handleJob(msg).catch((e) => crash(msg.id, e));
  else if (msg.type === MSG.CALL) answer(msg);
};

// What the page may ask of the engine besides converting; each answers at once.
const CALLS = {
  readPreset: (json) => JSON.parse(wasm.readPreset(json)),
  zipDirectory: ({ tail, length }) => JSON.parse(wasm.zipDirectory(tail, length)),
  zip64Directory: (record) => JSON.parse(wasm.zip64Directory(record)),
  zipEntries: (directory) => JSON.parse(wasm.zipEntries(directory)),
};

function answer({ request, name, args }) {
  try {
    self.postMessage({ type: MSG.ANSWER, request, value: CALLS[name](args) });
  } catch (e) {
    self.postMessage({ type: MSG.ANSWER, request, error: isEngineError(e) ? e : { code: 'internal', message: String(e?.message ?? e) } });
  }
}

async function init({ flavor: wanted, dir, threads, memoryBudget: budget }) {
  flavor = wanted;
  memoryBudget = budget;
  wasm = await import(`./${dir}/imgbatch.js`);
  exports = await wasm.default();
  if (flavor === 'parallel') {
    if (typeof Worker === 'undefined') throw new Error('this browser cannot start workers inside workers');
    await wasm.initThreadPool(threads);
  }
  const info = JSON.parse(wasm.engineInfo());
  imageExtensions = new Set(info.formats.flatMap((f) => f.extensions));
  self.postMessage({ type: MSG.READY, info });
}

function optionsJson(options) {
  let json = optionsCache.get(options);
  if (!json) {
    json = JSON.stringify(options ?? {});
    optionsCache = new Map([[options, json]]);
  }
  return json;
}

// The engine throws `{code, message}` objects; a trap (the instance died) throws anything else.
function isEngineError(e) {
  return e && typeof e === 'object' && typeof e.code === 'string';
}

function crash(id, error) {
  self.postMessage({ type: MSG.CRASHED, id, message: String(error?.message ?? error) });
}

function finish(id, result) {
  naming.delete(id);
  const transfers = (result.outputs ?? []).map((o) => o.bytes.buffer);
  // Wasm memory only grows, so its size after each file is the instance's peak so far.
  const wasmBytes = exports.memory.buffer.byteLength;
  self.postMessage({ type: MSG.DONE, id, result, wasmBytes }, transfers);
}

function failed(error, extra) {
  return { status: 'failed', error: { code: error.code, message: error.message }, outputs: [], ...extra };
}

function extensionOf(path) {
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') ? path.slice(dot + 1).toLowerCase() : '';
}

// Each output with the name and date the engine gives it.
function outputsOf(array, id) {
  const { options, file } = naming.get(id);
  return Array.from(array, (o) => {
    const meta = JSON.parse(o.meta);
    Object.assign(meta, JSON.parse(wasm.outputName(optionsJson(options), file, o.meta)));
    return { bytes: o.bytes, meta };
  });
}

async function handleJob({ id, file, path, number, zipEntry, options }) {
  const started = performance.now();
  naming.set(id, { options, file: JSON.stringify({ path, number, modified: file.lastModified }) });
  let bytes;
  try {
    bytes = new Uint8Array(await file.arrayBuffer());
  } catch (e) {
    finish(id, failed({ code: 'io', message: `cannot read the file: ${e.message}` }, { inputBytes: 0, ms: 0 }));
    return;
  }
  if (zipEntry) {
    // The engine found what is wrong with the entry when it read the archive's directory.
    if (zipEntry.problem) {
      finish(id, failed(zipEntry.problem, { inputBytes: zipEntry.size, ms: 0 }));
      return;
    }
    try {
      bytes = wasm.zipEntryBytes(bytes, JSON.stringify(zipEntry));
    } catch (e) {
      if (!isEngineError(e)) throw e;
      finish(id, failed(e, { inputBytes: zipEntry.size, ms: performance.now() - started }));
      return;
    }
  }
  const base = { inputBytes: bytes.length };
  let info;
  try {
    info = JSON.parse(wasm.inspect(bytes));
  } catch (e) {
    if (!isEngineError(e)) throw e;
    if (e.code === 'unsupported') {
      // Formats with no pure-Rust decoder in wasm (AVIF): let the browser decode them.
      const decoded = await browserDecode(zipEntry ? new Blob([bytes]) : file);
      if (decoded) {
        finish(id, convertDecoded(id, bytes, decoded, options, base, started));
        return;
      }
      if (!imageExtensions.has(extensionOf(path)) && /not a recognised image/.test(e.message)) {
        finish(id, { status: 'skipped', error: { code: e.code, message: 'not an image' }, outputs: [], ...base, ms: 0 });
        return;
      }
    }
    finish(id, failed(e, { ...base, ms: performance.now() - started }));
    return;
  }
  base.width = info.width;
  base.height = info.height;
  if (flavor === 'single') {
    finish(id, convertNow(id, bytes, options, base, started));
    return;
  }
  let estimate;
  try {
    estimate = Math.min(wasm.estimate(bytes, optionsJson(options)), memoryBudget);
  } catch (e) {
    if (!isEngineError(e)) throw e;
    finish(id, failed(e, { ...base, ms: performance.now() - started }));
    return;
  }
  waitingForMemory.push({ id, bytes, options, estimate, base, started });
  admit();
}

function convertNow(id, bytes, options, base, started) {
  try {
    const outputs = outputsOf(wasm.convert(bytes, optionsJson(options)), id);
    return { status: 'converted', error: null, outputs, ...base, ms: performance.now() - started };
  } catch (e) {
    if (!isEngineError(e)) throw e;
    return failed(e, { ...base, ms: performance.now() - started });
  }
}

function convertDecoded(id, original, { width, height, rgba }, options, base, started) {
  try {
    const outputs = outputsOf(wasm.convertRgba(original, width, height, rgba, optionsJson(options)), id);
    return { status: 'converted', error: null, outputs, ...base, width, height, ms: performance.now() - started };
  } catch (e) {
    if (!isEngineError(e)) throw e;
    return failed(e, { ...base, ms: performance.now() - started });
  }
}

async function browserDecode(blob) {
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') return null;
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  } catch {
    return null;
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d');
  context.drawImage(bitmap, 0, 0);
  const rgba = new Uint8Array(context.getImageData(0, 0, bitmap.width, bitmap.height).data.buffer);
  const result = { width: bitmap.width, height: bitmap.height, rgba };
  bitmap.close();
  return result;
}

// Threaded flavor: start jobs while their estimates fit the budget (one always fits), then
// poll for finished ones on a timer, so this event loop stays free between polls.
function admit() {
  while (waitingForMemory.length > 0) {
    const next = waitingForMemory[0];
    if (running.size > 0 && memoryInUse + next.estimate > memoryBudget) break;
    waitingForMemory.shift();
    memoryInUse += next.estimate;
    running.set(next.id, next);
    wasm.submit(next.id, next.bytes, optionsJson(next.options));
    next.bytes = null;
  }
  if (running.size > 0 && !polling) {
    polling = true;
    setTimeout(poll, 4);
  }
}

function poll() {
  polling = false;
  const { crashed, done } = wasm.takeFinished();
  for (const item of done) {
    const job = running.get(item.id);
    running.delete(item.id);
    memoryInUse -= job.estimate;
    const ms = performance.now() - job.started;
    if (item.error) finish(item.id, failed(item.error, { ...job.base, ms }));
    else finish(item.id, { status: 'converted', error: null, outputs: outputsOf(item.outputs, item.id), ...job.base, ms });
  }
  if (crashed) {
    crash(crashed.id, crashed.message);
    return;
  }
  admit();
}
