// The before/after compare view: the original, decoded by the browser for display only, and
// one of its outputs, under a split slider or side by side, zoomed and panned together. It
// shows blobs already in memory; nothing is fetched or uploaded.

const PAN_STEP = 40; // CSS pixels per arrow key press; with Shift, five times as far

function element(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c != null));
  return node;
}

const clamp = (value, limit) => Math.max(-limit, Math.min(limit, value));

// The original is drawn in the output's box the way the engine fitted it (the size label ends
// in -cover, -contain or -fill), so the same scene lines up on both sides. Plain resizes keep
// the aspect ratio, up to rounding, which 'fill' maps exactly.
const fitOf = (output) => /-(cover|contain|fill)$/.exec(output.size ?? '')?.[1] ?? 'fill';

/** Shows `item` (a row of main.js's list: its file, path and result) in `dialog`, starting
 *  with output `index`. Everything it creates goes when the dialog closes. */
export function openCompare(dialog, item, index, formatBytes) {
  const r = item.result;
  const urls = [];
  const urlOf = (blob) => {
    const url = URL.createObjectURL(blob);
    urls.push(url);
    return url;
  };
  const listeners = new AbortController();
  const on = (target, type, handler) => target.addEventListener(type, handler, { signal: listeners.signal });
  // The pan is where the view's centre is, in output pixels from the image's centre, so it
  // stays on the same spot when the zoom changes.
  const state = { output: r.outputs[index], side: false, zoom: 'fit', split: 50, panX: 0, panY: 0, scale: 1, originalShown: true };
  const extension = /\.([^./]+)$/.exec(item.path)?.[1].toUpperCase() ?? null;

  const original = element('img', { alt: `Original: ${item.path}`, draggable: false });
  const output = element('img', { draggable: false });
  const originalStage = element('div', { className: 'compare-stage' }, original);
  const outputStage = element('div', { className: 'compare-stage' }, output);
  const label = (text) => element('span', { className: 'compare-label', textContent: text });
  const originalPane = element('div', { className: 'compare-pane compare-original' }, originalStage, label('Original'));
  const outputPane = element('div', { className: 'compare-pane compare-output' }, outputStage, label('Output'));
  const panes = element('div', { className: 'compare-panes', tabIndex: 0, autofocus: true, title: 'Drag or use the arrow keys to pan' },
    originalPane, outputPane, element('div', { className: 'compare-divider' }));
  panes.setAttribute('role', 'group');
  panes.setAttribute('aria-label', 'Original and output; drag or use the arrow keys to pan');

  const sizePicker = r.outputs.length > 1
    ? element('select', {}, ...r.outputs.map((o, i) => element('option', { value: String(i), selected: i === index, textContent: `${o.width}×${o.height} ${o.format.toUpperCase()}` })))
    : null;
  const sideBox = element('input', { type: 'checkbox' });
  const sideField = element('label', {}, sideBox, 'Side by side');
  const split = element('input', { type: 'range', min: 0, max: 100, value: 50 });
  const splitField = element('label', { className: 'compare-split' }, 'Split ', split);
  const fit = element('button', { type: 'button', textContent: 'Fit' });
  const actual = element('button', { type: 'button', textContent: '1:1', title: 'One output pixel per screen pixel' });
  const close = element('button', { type: 'button', textContent: 'Close' });
  const stats = element('p', { className: 'compare-stats' });
  const note = element('p', { className: 'note', hidden: true });
  note.setAttribute('role', 'status');

  dialog.replaceChildren(
    element('div', { className: 'compare-head' }, element('h2', { id: 'compare-title', textContent: `Compare: ${item.path}` }), close),
    element('div', { className: 'compare-controls' },
      sizePicker && element('label', {}, 'Size ', sizePicker),
      sideField,
      element('span', { className: 'compare-zoom' }, fit, actual),
      splitField,
      element('span', { className: 'note', textContent: 'Drag or use the arrow keys to pan.' })),
    stats, note, panes);

  function layout() {
    const o = state.output;
    const side = state.side && state.originalShown;
    panes.classList.toggle('side', side);
    panes.classList.toggle('split', !side && state.originalShown);
    panes.style.setProperty('--split', `${state.split}%`);
    originalPane.hidden = !state.originalShown;
    splitField.hidden = side || !state.originalShown;
    sideField.hidden = !state.originalShown;
    const paneW = outputPane.clientWidth;
    const paneH = outputPane.clientHeight;
    if (!paneW || !paneH) return;
    // 1:1 is one output pixel per device pixel, where compression artefacts are judged.
    state.scale = state.zoom === 'fit' ? Math.min(paneW / o.width, paneH / o.height) : 1 / devicePixelRatio;
    const w = o.width * state.scale;
    const h = o.height * state.scale;
    state.panX = clamp(state.panX, Math.max(0, w - paneW) / 2 / state.scale);
    state.panY = clamp(state.panY, Math.max(0, h - paneH) / 2 / state.scale);
    const left = (paneW - w) / 2 - state.panX * state.scale;
    const top = (paneH - h) / 2 - state.panY * state.scale;
    for (const stage of [originalStage, outputStage]) {
      stage.style.width = `${w}px`;
      stage.style.height = `${h}px`;
      stage.style.transform = `translate(${left}px, ${top}px)`;
    }
    panes.classList.toggle('pannable', w > paneW || h > paneH);
    fit.setAttribute('aria-pressed', String(state.zoom === 'fit'));
    actual.setAttribute('aria-pressed', String(state.zoom !== 'fit'));
  }

  function showOutput(i) {
    const o = r.outputs[i];
    state.output = o;
    output.classList.remove('loaded');
    output.alt = `Output: ${o.name}`;
    output.src = urlOf(o.blob);
    original.style.objectFit = fitOf(o);
    const saving = r.inputBytes ? Math.round((1 - o.bytes / r.inputBytes) * 100) : 0;
    stats.replaceChildren(
      element('span', { textContent: `Original${extension ? ` (${extension})` : ''}: ${r.width}×${r.height} · ${formatBytes(r.inputBytes)}` }),
      element('span', { textContent: `Output (${o.format.toUpperCase()}): ${o.width}×${o.height} · ${formatBytes(o.bytes)}` }),
      element('strong', { textContent: saving >= 0 ? `${saving}% smaller` : `${-saving}% larger` }));
    layout();
  }

  // Some originals (HEIC, JPEG XL, TIFF in most browsers) only the engine can read: say so
  // rather than show a broken image.
  on(original, 'error', () => {
    state.originalShown = false;
    note.hidden = false;
    note.textContent = `Your browser cannot display ${extension ? `${extension} files` : 'this file\'s format'}, so only the output is shown.`;
    layout();
  });
  on(output, 'error', () => {
    note.hidden = false;
    note.textContent = `Your browser cannot display ${state.output.format.toUpperCase()} files, so the output cannot be shown.`;
  });
  for (const img of [original, output]) on(img, 'load', () => img.classList.add('loaded'));

  on(panes, 'keydown', (e) => {
    const move = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
    if (!move) return;
    e.preventDefault();
    const step = ((e.shiftKey ? 5 : 1) * PAN_STEP) / state.scale;
    state.panX += move[0] * step;
    state.panY += move[1] * step;
    layout();
  });
  let drag = null;
  on(panes, 'pointerdown', (e) => {
    if (e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY };
    panes.setPointerCapture(e.pointerId);
    panes.classList.add('dragging');
  });
  on(panes, 'pointermove', (e) => {
    if (!drag) return;
    state.panX -= (e.clientX - drag.x) / state.scale;
    state.panY -= (e.clientY - drag.y) / state.scale;
    drag = { x: e.clientX, y: e.clientY };
    layout();
  });
  const endDrag = () => {
    drag = null;
    panes.classList.remove('dragging');
  };
  on(panes, 'pointerup', endDrag);
  on(panes, 'pointercancel', endDrag);

  on(split, 'input', () => { state.split = Number(split.value); layout(); });
  on(sideBox, 'change', () => { state.side = sideBox.checked; layout(); });
  on(fit, 'click', () => { state.zoom = 'fit'; layout(); });
  on(actual, 'click', () => { state.zoom = '1:1'; layout(); });
  if (sizePicker) on(sizePicker, 'change', () => showOutput(Number(sizePicker.value)));
  on(close, 'click', () => dialog.close());

  // Fit depends on the panes' size: the window, and side by side halving the width.
  const resized = new ResizeObserver(layout);
  resized.observe(outputPane);
  dialog.addEventListener('close', () => {
    listeners.abort();
    resized.disconnect();
    dialog.replaceChildren();
    for (const url of urls) URL.revokeObjectURL(url);
  }, { once: true });

  original.src = urlOf(item.file);
  dialog.showModal();
  showOutput(index);
}
