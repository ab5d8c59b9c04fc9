// The engine worker: owns one wasm instance, reads each file only when its job arrives,
// converts it (on the rayon pool in the threaded flavor), and sends the outputs back by
// transfer. Holds no image logic: every decision is the engine's.
import './trusted-types.js';
import { MSG } from './protocol.js';

let wasm = null;
let exports = null; // the instance's raw exports, for the memory size
let flavor = 'single';
let imageExtensions = new Set();
// Threaded flavor: jobs submitted to the engine, which admits them by its own memory rule.
const running = new Map(); // id -> { base: { inputBytes, width, height }, started }
const naming = new Map(); // id -> { options, file: { path, number, modified } }
let polling = false;

self.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === MSG.INIT) init(msg).catch((e) => self.postMessage({ type: MSG.INIT_FAILED, message: String(e?.message ?? e) }));
  else if (msg.type === MSG.JOB) handleJob(msg).catch((e) => crash(msg.id, e));
  else if (msg.type === MSG.CALL) answer(msg);
};

// What the page may ask of the engine besides converting; each answers at once.
const CALLS = {
  readPreset: (json) => wasm.readPreset(json),
  zipDirectory: ({ tail, length }) => wasm.zipDirectory(tail, length),
  zip64Directory: (record) => wasm.zip64Directory(record),
  zipEntries: (directory) => wasm.zipEntries(directory),
};

function answer({ request, name, args }) {
  try {
    self.postMessage({ type: MSG.ANSWER, request, value: CALLS[name](args) });
  } catch (e) {
    self.postMessage({ type: MSG.ANSWER, request, error: isEngineError(e) ? e : { code: 'internal', message: String(e?.message ?? e) } });
  }
}

async function init({ flavor: wanted, dir, threads }) {
  flavor = wanted;
  wasm = await import(`./${dir}/imgbatch.js`);
  exports = await wasm.default();
  if (flavor === 'parallel') {
    if (typeof Worker === 'undefined') throw new Error('this browser cannot start workers inside workers');
    await wasm.initThreadPool(threads);
  }
  const info = wasm.engineInfo();
  imageExtensions = new Set(info.formats.flatMap((f) => f.extensions));
  self.postMessage({ type: MSG.READY, info });
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
  return array.map(({ bytes, meta }) => ({ bytes, meta: { ...meta, ...wasm.outputName(options, file, meta) } }));
}

async function handleJob({ id, file, path, number, zipEntry, options }) {
  const started = performance.now();
  options ??= {};
  naming.set(id, { options, file: { path, number, modified: file.lastModified } });
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
      bytes = wasm.zipEntryBytes(bytes, zipEntry);
    } catch (e) {
      if (!isEngineError(e)) throw e;
      finish(id, failed(e, { inputBytes: zipEntry.size, ms: performance.now() - started }));
      return;
    }
  }
  const base = { inputBytes: bytes.length };
  let info;
  try {
    info = wasm.inspect(bytes);
  } catch (e) {
    if (!isEngineError(e)) throw e;
    if (e.code === 'unsupported') {
      // Formats with no pure-Rust decoder in wasm (AVIF): let the browser decode them.
      const decoded = await browserDecode(zipEntry ? new Blob([bytes]) : file);
      if (decoded) {
        finish(id, convertDecoded(id, bytes, decoded, options, base, started));
        return;
      }
    }
    if (e.code === 'not-an-image' && !imageExtensions.has(extensionOf(path))) {
      finish(id, { status: 'skipped', error: { code: e.code, message: 'not an image' }, outputs: [], ...base, ms: 0 });
      return;
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
  try {
    wasm.submit(id, bytes, options);
  } catch (e) {
    if (!isEngineError(e)) throw e;
    finish(id, failed(e, { ...base, ms: performance.now() - started }));
    return;
  }
  running.set(id, { base, started });
  pollSoon();
}

function convertNow(id, bytes, options, base, started) {
  try {
    const outputs = outputsOf(wasm.convert(bytes, options), id);
    return { status: 'converted', error: null, outputs, ...base, ms: performance.now() - started };
  } catch (e) {
    if (!isEngineError(e)) throw e;
    return failed(e, { ...base, ms: performance.now() - started });
  }
}

function convertDecoded(id, original, { width, height, rgba }, options, base, started) {
  try {
    const outputs = outputsOf(wasm.convertRgba(original, width, height, rgba, options), id);
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

// Threaded flavor: the engine starts submitted jobs as its scheduler admits them; this
// polls for finished ones on a timer, so the event loop stays free between polls.
function pollSoon() {
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
    const ms = performance.now() - job.started;
    if (item.error) finish(item.id, failed(item.error, { ...job.base, ms }));
    else finish(item.id, { status: 'converted', error: null, outputs: outputsOf(item.outputs, item.id), ...job.base, ms });
  }
  if (crashed) {
    crash(crashed.id, crashed.message);
    return;
  }
  pollSoon();
}
