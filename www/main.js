// The page: file intake (drop, pickers, folders), options, the file list and progress, and
// downloads. It never touches wasm; engine.js runs the workers.
//
// Automation API (for scripts and tests; the Start button uses the same code path):
//   await imgbatch.ready                      resolves once the engine is running
//   await imgbatch.offline                    { ready, reason }: ready once this build is cached for offline use
//   imgbatch.engineInfo()                     { mode, reason, threads, workers, peakWasmBytes, build, formats, visualQualityLevels, nameFields, presets, options, fits }
//       options: the engine's description of every option: [{ field, flag, label, type, choices|min,max|example, help, default }]
//   Page URL options: ?threads=N (pool size or worker count), ?engine=fallback (no threads)
//   await imgbatch.convert(files, options)    files: FileList | File[] | [{ file, path }]
//       options: settings JSON, by the fields of engineInfo().options; missing ones take their defaults
//       resolves with one result per file, in order:
//       { index, path, status: 'converted'|'failed'|'skipped'|'cancelled', error: null|{code, message},
//         inputBytes, width, height, ms, outputs: [{ name, modified, blob, bytes, width, height, format, mime, size, notes }] }
//   imgbatch.formOptions()                   the options the form (and its preset) would convert with
//   imgbatch.zipEntries()                     [{ name, blob, modified }] of the last run's outputs
//   await imgbatch.zipBlob()                  the ZIP "Download all" saves, as a Blob
import './trusted-types.js';
import { openCompare } from './compare.js';
import { createEngine } from './engine.js';
import { setupPresets } from './presets.js';
import { downloadZip, saveToFolder, zipStream } from './zip.js';

const $ = (id) => document.getElementById(id);
const SETTINGS_KEY = 'imgbatch.settings.v1';
const CONTROLS = ['format', 'quality-mode', 'visual-quality', 'quality', 'jpeg-effort', 'lossless', 'target-size', 'resize', 'custom-size', 'fit', 'extra-sizes', 'metadata', 'color', 'background', 'name', 'dates'];

const items = []; // { key, file, path, row, result }
let engine = null;
let running = null; // AbortController of the current run
let lastResults = [];
// The options the engine describes that have no control of their own in index.html: each
// gets one under "More options", built from the description (see buildOptionControls).
const HAND_MADE = new Set(['format', 'quality', 'jpegEffort', 'lossless', 'targetSize', 'visualQuality', 'sizes', 'metadata', 'color', 'background', 'name', 'dates']);
let generic = []; // the engine's descriptions of those options
const genericId = (option) => `option-${option.field}`;
let presets = null;

// ---------------------------------------------------------------- formatting helpers

// SI units (1 KB = 1,000 bytes), as the engine's sizes and the "Max file size" field use.
function formatBytes(n) {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${Math.round(n / 1e3)} KB`;
  return `${n} B`;
}

function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return '…';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

function element(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c != null));
  return node;
}

// ---------------------------------------------------------------- options and settings

function readOptions() {
  const format = engine?.info().formats.find((f) => f.id === $('format').value);
  const main = $('resize').value;
  const sizes = [];
  if (main === 'custom') {
    const custom = $('custom-size').value.trim();
    const fit = $('fit').value;
    if (custom) sizes.push(/^\d+x\d+$/i.test(custom) && fit !== 'inside' ? `${custom}:${fit}` : custom);
  } else {
    sizes.push(main);
  }
  const extra = $('extra-sizes').value.split(',').map((s) => s.trim()).filter(Boolean);
  const all = [...sizes, ...extra];
  return {
    ...Object.fromEntries(generic.map((option) => [option.field, readControl(option)])),
    format: $('format').value,
    quality: Number($('quality').value),
    jpegEffort: $('jpeg-effort').value,
    lossless: lossless(format),
    targetSize: qualityMode(format) === 'size' ? $('target-size').value.trim() : '',
    visualQuality: qualityMode(format) === 'look' ? Number($('visual-quality').value) : null,
    sizes: all.length === 1 && all[0] === 'orig' ? [] : all,
    metadata: $('metadata').value,
    color: $('color').value,
    background: $('background').value,
    name: $('name').value.trim(),
    dates: $('dates').value,
  };
}

// A described option's value from its control, as settings JSON holds it.
function readControl(option) {
  const control = $(genericId(option));
  if (option.type === 'switch') return control.checked;
  if (option.type === 'number') return Number(control.value);
  return control.value;
}

// The inverse of readOptions: fills the form in from engine settings (a preset).
function applyOptions(settings) {
  fillForm(settings);
  updateOptionFields();
  saveSettings();
}

function fillForm(settings) {
  const formats = engine.info().formats;
  const format = formats.find((f) => f.id === settings.format || f.extensions.includes(settings.format));
  $('format').value = format?.id ?? $('format').value;
  $('quality').value = String(settings.quality);
  $('jpeg-effort').value = settings.jpegEffort;
  $('lossless').checked = settings.lossless;
  const look = settings.visualQuality;
  $('quality-mode').value = look != null ? 'look' : settings.targetSize ? 'size' : 'number';
  if (look != null && ![...$('visual-quality').options].some((o) => o.value === String(look))) {
    $('visual-quality').append(element('option', { value: String(look), textContent: `Score ${look}` }));
  }
  if (look != null) $('visual-quality').value = String(look);
  $('target-size').value = settings.targetSize;
  const [first = 'orig', ...rest] = settings.sizes;
  const listed = first !== 'custom' && [...$('resize').options].some((o) => o.value === first);
  $('resize').value = listed ? first : 'custom';
  const fitted = /^(\d+x\d+):(contain|cover|fill)$/i.exec(first);
  $('custom-size').value = listed ? '' : fitted?.[1] ?? first;
  $('fit').value = listed ? 'inside' : fitted?.[2].toLowerCase() ?? 'inside';
  $('extra-sizes').value = rest.join(', ');
  for (const id of ['metadata', 'color', 'background', 'name', 'dates']) $(id).value = settings[id];
  for (const option of generic) {
    const control = $(genericId(option));
    const value = settings[option.field] ?? option.default;
    if (option.type === 'switch') control.checked = value === true;
    else control.value = String(value);
  }
}

const choiceOptions = (choices) => choices.map((c) => element('option', { value: c.name, textContent: c.label }));

// Every picker's choices, ranges and defaults come from the engine's description of its
// options; options index.html has no control for get a generic one.
function buildOptionControls(info) {
  for (const select of document.querySelectorAll('select[data-option]')) {
    select.append(...choiceOptions(info.options.find((o) => o.field === select.dataset.option).choices));
  }
  $('fit').append(...choiceOptions(info.fits));
  const quality = info.options.find((o) => o.field === 'quality');
  Object.assign($('quality'), { min: quality.min, max: quality.max });
  generic = info.options.filter((o) => !HAND_MADE.has(o.field));
  for (const option of generic) {
    const id = genericId(option);
    const control = option.type === 'choice' ? element('select', { id }, ...choiceOptions(option.choices))
      : option.type === 'switch' ? element('input', { id, type: 'checkbox' })
        : option.type === 'number' ? element('input', { id, type: 'number', min: option.min, max: option.max, step: 1 })
          : element('input', { id, autocomplete: 'off', placeholder: option.example });
    $('more-options').append(element('label', { title: option.help }, `${option.label} `, control));
    CONTROLS.push(id);
    watch(id);
  }
  fillForm(Object.fromEntries(info.options.map((o) => [o.field, o.default])));
}

// The lossless box counts only for formats that offer both (WebP).
const lossless = (format) => Boolean(format?.lossless_option) && $('lossless').checked;

// How the quality is chosen: 'none' (lossless output), 'look' (a visual-quality target, for
// formats the engine can read back to score), 'number' or 'size'.
function qualityMode(format) {
  if (!format?.lossy || lossless(format)) return 'none';
  const mode = $('quality-mode').value;
  return mode === 'look' && !format.can_decode ? 'number' : mode;
}

// A checkbox is saved by whether it is ticked, every other control by its value.
const controlValue = (control) => (control.type === 'checkbox' ? control.checked : control.value);

function saveSettings() {
  const settings = Object.fromEntries(CONTROLS.map((id) => [id, controlValue($(id))]));
  try {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
  } catch {
    // Storage can be full or disabled (private windows); settings are a convenience.
  }
}

function restoreSettings() {
  let settings = {};
  try {
    settings = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}');
  } catch {
    settings = {};
  }
  for (const id of CONTROLS) {
    const control = $(id);
    if (settings[id] == null) continue;
    // A select keeps its value only if the option still exists (formats can change).
    if (control.tagName === 'SELECT' && ![...control.options].some((o) => o.value === settings[id])) continue;
    if (control.type === 'checkbox') control.checked = settings[id] === true;
    else control.value = settings[id];
  }
}

function updateOptionFields() {
  const format = engine?.info().formats.find((f) => f.id === $('format').value);
  $('lossless-field').hidden = !format?.lossless_option;
  const mode = qualityMode(format);
  $('quality-mode-field').hidden = mode === 'none';
  $('quality-mode').options[0].disabled = !format?.can_decode;
  $('visual-quality-field').hidden = mode !== 'look';
  $('quality-field').hidden = mode !== 'number' && mode !== 'size';
  $('target-size-field').hidden = mode !== 'size';
  $('jpeg-effort-field').hidden = format?.id !== 'jpeg';
  $('quality-value').value = $('quality').value;
  $('background-field').hidden = Boolean(format?.alpha) && !$('resize').value.includes('contain') && $('fit').value !== 'contain';
  const custom = $('resize').value === 'custom';
  $('custom-field').hidden = !custom;
  $('fit-field').hidden = !custom;
}

// ---------------------------------------------------------------- the file list

function updateButtons() {
  const busy = running !== null;
  $('start').disabled = busy || !engine || items.length === 0;
  $('cancel').disabled = !busy;
  $('retry').disabled = busy || !items.some(retriable);
  $('clear').disabled = busy || items.length === 0;
  const outputs = zipEntries().length > 0;
  $('download-zip').disabled = busy || !outputs;
  $('save-folder').disabled = busy || !outputs;
}

function renderRow(item) {
  const r = item.result;
  const status = item.status ?? 'queued';
  const source = r?.width ? `${r.width}×${r.height} · ${formatBytes(r.inputBytes)}` : formatBytes(item.file.size);
  let statusText = { queued: 'Queued', converting: 'Converting…', converted: 'Done', failed: 'Failed', skipped: 'Skipped', cancelled: 'Cancelled' }[status];
  const result = element('td');
  if (r?.error && status !== 'converted') {
    statusText = status === 'skipped' ? `Skipped: ${r.error.message}` : `${statusText}: ${r.error.message} (${r.error.code})`;
  }
  for (const [index, output] of (r?.outputs ?? []).entries()) {
    const saving = r.inputBytes ? Math.round((1 - output.bytes / r.inputBytes) * 100) : 0;
    output.url ??= URL.createObjectURL(output.blob);
    const link = element('a', { href: output.url, download: output.name.split('/').pop(), textContent: output.name });
    const notes = output.notes.map((n) => n.message).join('; ');
    const compare = element('button', { type: 'button', className: 'compare-button', textContent: 'Compare', ariaLabel: `Compare ${output.name} with the original`,
      onclick: () => openCompare($('compare'), item, index, formatBytes) });
    result.append(element('div', { className: 'output' }, link,
      ` ${output.width}×${output.height} · ${formatBytes(r.inputBytes)} → ${formatBytes(output.bytes)} (${saving >= 0 ? '−' : '+'}${Math.abs(saving)}%) `, compare,
      notes ? element('span', { className: 'note', textContent: ` ${notes}` }) : null));
  }
  const row = element('tr', { className: `status-${status}` },
    element('th', { scope: 'row', textContent: item.path }),
    element('td', { textContent: source }),
    element('td', { textContent: statusText }),
    result);
  if (item.row) item.row.replaceWith(row);
  else $('files').append(row);
  item.row = row;
}

// A ZIP joins the list as its entries, under the folder the ZIP was in. One whose directory
// cannot be read becomes a row that fails with the engine's reason.
async function openZips(list) {
  const opened = [];
  for (const item of list) {
    if (!/\.zip$/i.test(item.file.name)) {
      opened.push(item);
      continue;
    }
    const folder = item.path.includes('/') ? item.path.slice(0, item.path.lastIndexOf('/')) : '';
    try {
      opened.push(...await engine.zipItems(item.file, folder));
    } catch (e) {
      opened.push({ ...item, zipEntry: { problem: { code: e.code ?? 'internal', message: e.message }, size: item.file.size } });
    }
  }
  return opened;
}

const keyOf = ({ file, path }) => `${path}|${file.size}|${file.lastModified}`;

function addItems(newItems) {
  const known = new Set(items.map((i) => i.key));
  for (const { file, path, zipEntry } of newItems) {
    const key = keyOf({ file, path });
    if (known.has(key)) continue;
    known.add(key);
    const item = { key, file, path, zipEntry };
    items.push(item);
    renderRow(item);
  }
  $('progress-text').textContent = `${items.length} file${items.length === 1 ? '' : 's'} ready.`;
  updateButtons();
}

function clearList() {
  for (const item of items) for (const o of item.result?.outputs ?? []) if (o.url) URL.revokeObjectURL(o.url);
  items.length = 0;
  lastResults = [];
  $('files').replaceChildren();
  $('progress').value = 0;
  $('progress-text').textContent = 'No files yet.';
  updateButtons();
}

// ---------------------------------------------------------------- intake: drop and pickers

function fromFiles(files) {
  return [...files].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/** Walks dropped folders recursively, keeping relative paths. */
async function fromDrop(dataTransfer) {
  const found = [];
  const readAll = (reader) => new Promise((resolve, reject) => {
    const entries = [];
    const next = () => reader.readEntries((batch) => (batch.length ? (entries.push(...batch), next()) : resolve(entries)), reject);
    next();
  });
  async function walk(entry, prefix) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      found.push({ file, path: prefix + file.name });
    } else if (entry.isDirectory) {
      for (const child of await readAll(entry.createReader())) await walk(child, `${prefix}${entry.name}/`);
    }
  }
  const entries = [...dataTransfer.items].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  if (entries.length === 0) return fromFiles(dataTransfer.files);
  for (const entry of entries) await walk(entry, '');
  return found;
}

// ---------------------------------------------------------------- running

const retriable = (item) => item.result?.status === 'failed' || item.result?.status === 'cancelled';

async function run(runItems, options) {
  if (running) throw new Error('a conversion is already running');
  await ready;
  running = new AbortController();
  saveSettings();
  for (const item of runItems) {
    // The previous run's outputs are replaced: let the browser free their blobs.
    for (const o of item.result?.outputs ?? []) if (o.url) URL.revokeObjectURL(o.url);
    item.status = 'queued';
    item.result = null;
    renderRow(item);
  }
  updateButtons();
  const started = performance.now();
  const byIndex = runItems;
  const showProgress = (p) => {
    const elapsed = (performance.now() - started) / 1000;
    const rate = p.done / elapsed;
    const eta = (p.total - p.done) / rate;
    $('progress').max = p.total;
    $('progress').value = p.done;
    $('progress-text').textContent = `${p.done} of ${p.total} files · ${(p.megapixels / elapsed).toFixed(1)} MP/s · `
      + (p.done < p.total ? `about ${formatDuration(eta)} left` : `done in ${formatDuration(elapsed)}, ${formatBytes(p.inputBytes)} → ${formatBytes(p.outputBytes)}`);
  };
  showProgress({ done: 0, total: runItems.length, megapixels: 0, inputBytes: 0, outputBytes: 0 });
  try {
    // {n} counts in the list's order, so a retry keeps each file's number.
    const results = await engine.convert(runItems.map((item) => ({ file: item.file, path: item.path, zipEntry: item.zipEntry, number: items.indexOf(item) + 1 })), options, {
      signal: running.signal,
      onProgress: showProgress,
      onResult: (result) => {
        const item = byIndex[result.index];
        item.status = result.status;
        item.result = result;
        renderRow(item);
      },
    });
    lastResults = results;
    return results;
  } finally {
    running = null;
    updateButtons();
  }
}

function zipEntries() {
  return lastResults.flatMap((r) => r.outputs.map(({ name, blob, modified }) => ({ name, blob, modified })));
}

/** Normalises what scripts pass (FileList, File[], [{file, path}]) and runs it visibly. */
async function convertForApi(files, options = {}) {
  const list = await openZips([...files].map((f) => (f instanceof Blob ? { file: f, path: f.webkitRelativePath || f.name || 'file' } : f)));
  addItems(list);
  const keys = new Set(list.map(keyOf));
  const runItems = items.filter((i) => keys.has(i.key));
  // Results line up with the caller's list even when it repeats a file.
  const results = await run(runItems, options);
  const byKey = new Map(runItems.map((item, i) => [item.key, results[i]]));
  return list.map((item, index) => ({ ...byKey.get(keyOf(item)), index }));
}

// ---------------------------------------------------------------- start-up and wiring

// `?threads=N` and `?engine=fallback` pin the engine, for benchmarks and troubleshooting.
const params = new URLSearchParams(location.search);
const ready = createEngine({
  threads: Number(params.get('threads')) || undefined,
  forceFallback: params.get('engine') === 'fallback',
}).then((started) => {
  engine = started;
  const info = engine.info();
  $('engine-status').textContent = info.mode === 'threaded'
    ? `Threaded engine, ${info.threads} threads (v${info.build.version}).`
    : `Compatibility mode: ${info.workers} workers, one thread each, because ${info.reason}.`;
  // The engine's own format table says what it reads; AVIF goes through the browser's decoder.
  const readable = info.formats.filter((f) => f.can_decode).map((f) => f.name);
  $('readable-formats').textContent = `Reads ${readable.join(', ')}, AVIF through your browser, and ZIP archives of them.`;
  for (const f of info.formats.filter((f) => f.can_encode)) {
    $('format').append(element('option', { value: f.id, textContent: `${f.name} (.${f.extensions[0]})` }));
  }
  for (const level of info.visualQualityLevels) {
    const name = level.name[0].toUpperCase() + level.name.slice(1).replace(/-/g, ' ');
    $('visual-quality').append(element('option', { value: String(level.score), textContent: `${name} (${level.score}): ${level.description}` }));
  }
  $('visual-quality').value = String(info.visualQualityLevels.find((l) => l.name === 'high')?.score ?? '');
  buildOptionControls(info);
  $('name-fields').textContent = info.nameFields.map(([field, meaning]) => `{${field}} ${meaning}`).join('; ');
  restoreSettings();
  presets = setupPresets({ engine, read: readOptions, apply: applyOptions, say: (text) => { $('progress-text').textContent = text; } });
  updateOptionFields();
  updateButtons();
  return engine;
}, (error) => {
  $('engine-status').textContent = `The engine could not start: ${error.message}`;
  throw error;
});

function watch(id) {
  $(id).addEventListener('input', () => { presets?.edited(); updateOptionFields(); saveSettings(); });
}
for (const id of CONTROLS) watch(id);
$('file-input').addEventListener('change', (e) => { openZips(fromFiles(e.target.files)).then(addItems, showError); });
$('folder-input').addEventListener('change', (e) => { openZips(fromFiles(e.target.files)).then(addItems, showError); e.target.value = ''; });
$('start').addEventListener('click', () => run(items, readOptions()).catch(showError));
$('cancel').addEventListener('click', () => running?.abort());
$('retry').addEventListener('click', () => run(items.filter(retriable), readOptions()).catch(showError));
$('clear').addEventListener('click', clearList);
$('download-zip').addEventListener('click', () => downloadZip(zipEntries()).catch(showError));
if (typeof window.showDirectoryPicker === 'function') {
  $('save-folder').hidden = false;
  $('save-folder').addEventListener('click', () => saveToFolder(zipEntries()).then((n) => {
    if (n) $('progress-text').textContent = `Saved ${n} files.`;
  }).catch(showError));
}

const dropZone = $('drop-zone');
dropZone.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    $('file-input').click();
  }
});
dropZone.addEventListener('click', () => $('file-input').click());
dropZone.addEventListener('dragover', (e) => { e.preventDefault(); dropZone.classList.add('over'); });
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('over'));
dropZone.addEventListener('drop', (e) => {
  e.preventDefault();
  dropZone.classList.remove('over');
  fromDrop(e.dataTransfer).then(openZips).then(addItems, showError);
});

function showError(error) {
  $('progress-text').textContent = `Error: ${error.message}`;
}

// Offline use: sw.js keeps the whole build cached (see its header). Where service workers
// are unavailable (plain http: away from localhost) the page simply needs the network.
const offline = 'serviceWorker' in navigator
  ? navigator.serviceWorker.register('sw.js').then(() => navigator.serviceWorker.ready).then(() => ({ ready: true, reason: null }),
    (e) => ({ ready: false, reason: e.message }))
  : Promise.resolve({ ready: false, reason: 'this browser has no service workers here' });

window.imgbatch = {
  ready: ready.then(() => undefined),
  offline,
  engineInfo: () => engine?.info() ?? null,
  formOptions: () => readOptions(),
  convert: convertForApi,
  zipEntries,
  zipBlob: () => zipStream(zipEntries()).blob(),
};
