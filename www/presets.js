// The preset picker: the engine's built-in presets and the user's own, saved in this
// browser, exported and imported as the same JSON the CLI reads with --preset. Choosing a
// preset fills in the form, so everything it sets stays visible. The engine checks every
// preset before it is kept; this file holds no option, default or preset of its own.
const STORE_KEY = 'imgbatch.presets.v1';
const $ = (id) => document.getElementById(id);

function loadOwn() {
  try {
    const own = JSON.parse(localStorage.getItem(STORE_KEY) ?? '[]');
    return Array.isArray(own) ? own : [];
  } catch {
    return [];
  }
}

function storeOwn(own) {
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify(own));
    return true;
  } catch {
    return false; // storage full or disabled (private windows)
  }
}

// "Web 2048 JPEG" -> "web-2048-jpeg.json"
const fileNameOf = (label) => `${label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'preset'}.json`;

/**
 * Wires the picker. `engine` checks presets (readPreset) and lists the built-in ones;
 * `read()` gives the form's settings and `apply(settings)` fills the form in.
 */
export function setupPresets({ engine, read, apply, say }) {
  const builtIn = engine.info().presets;
  let own = loadOwn();

  function render(selected = '') {
    const select = $('preset');
    select.replaceChildren(new Option('Your current settings', ''));
    const group = (label, presets, prefix) => {
      if (presets.length === 0) return;
      const optgroup = document.createElement('optgroup');
      optgroup.label = label;
      presets.forEach((p, i) => optgroup.append(new Option(p.label, `${prefix}${prefix === 'own:' ? i : p.id}`)));
      select.append(optgroup);
    };
    group('Built in', builtIn, 'built-in:');
    group('Yours', own, 'own:');
    select.value = selected;
    describe();
  }

  function chosen() {
    const [kind, key] = $('preset').value.split(/:(.*)/s);
    if (kind === 'built-in') return builtIn.find((p) => p.id === key) ?? null;
    if (kind === 'own') return own[Number(key)] ?? null;
    return null;
  }

  function describe() {
    const preset = chosen();
    $('delete-preset').disabled = !$('preset').value.startsWith('own:');
    $('preset-summary').textContent = preset?.summary ?? (preset ? 'Your preset: the form shows everything it sets.' : '');
  }

  // One label, one preset: saving or importing under a label already taken replaces it.
  function keep(preset) {
    const at = own.findIndex((p) => p.label === preset.label);
    if (at >= 0) own[at] = preset;
    else own.push(preset);
    if (!storeOwn(own)) say('This browser would not store the preset (storage is full or disabled).');
    render(`own:${own.indexOf(preset)}`);
  }

  async function save() {
    const label = $('preset-name').value.trim();
    if (!label) {
      say('Give the preset a name first.');
      $('preset-name').focus();
      return;
    }
    keep(await engine.readPreset(JSON.stringify({ label, settings: read() })));
    $('preset-name').value = '';
    say(`Saved the preset “${label}”.`);
  }

  async function importFile(file) {
    const preset = await engine.readPreset(await file.text()).catch((e) => {
      throw new Error(`${file.name} is not a preset imgbatch can use: ${e.message}`);
    });
    keep(preset);
    apply(preset.settings);
    say(`Imported the preset “${preset.label}”.`);
  }

  function exportChosen() {
    const preset = chosen() ?? { label: $('preset-name').value.trim() || 'My settings', settings: read() };
    const json = JSON.stringify({ label: preset.label, settings: preset.settings }, null, 2);
    const link = Object.assign(document.createElement('a'), {
      href: URL.createObjectURL(new Blob([json + '\n'], { type: 'application/json' })),
      download: fileNameOf(preset.label),
    });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  }

  function remove() {
    const preset = chosen();
    if (!$('preset').value.startsWith('own:') || !preset) return;
    own = own.filter((p) => p !== preset);
    storeOwn(own);
    render();
    say(`Deleted the preset “${preset.label}”.`);
  }

  const failed = (e) => say(`Error: ${e.message}`);
  $('preset').addEventListener('change', () => {
    const preset = chosen();
    if (preset) apply(preset.settings);
    describe();
  });
  $('save-preset').addEventListener('click', () => save().catch(failed));
  $('export-preset').addEventListener('click', exportChosen);
  $('import-preset').addEventListener('click', () => $('preset-file').click());
  $('preset-file').addEventListener('change', (e) => {
    const [file] = e.target.files;
    e.target.value = '';
    if (file) importFile(file).catch(failed);
  });
  $('delete-preset').addEventListener('click', remove);
  render();

  // Editing the form after choosing a preset makes the settings the user's own again.
  return { edited: () => { if ($('preset').value) { $('preset').value = ''; describe(); } } };
}
