// Saving outputs: a streaming ZIP (client-zip 2.5.1, vendored in vendor/) and, in Chromium,
// writing straight into a folder the user picks.
import { downloadZip as zipResponse } from './vendor/client-zip.js';

/**
 * The ZIP of `entries` ({name, blob, modified}) as a streaming Response; folders come from
 * names, and each entry's date is `modified` (ms), the engine's pick under the dates option.
 */
export function zipStream(entries) {
  return zipResponse(entries.map(({ name, blob, modified }) => ({ name, input: blob, lastModified: new Date(modified ?? Date.now()) })));
}

/**
 * Saves a ZIP of `entries`. Where the File System Access API exists the archive streams into
 * the chosen file and is never whole in memory; elsewhere the browser downloads a Blob.
 */
export async function downloadZip(entries, fileName = 'imgbatch.zip') {
  if (typeof window.showSaveFilePicker === 'function') {
    let handle;
    try {
      handle = await window.showSaveFilePicker({ suggestedName: fileName, types: [{ description: 'ZIP archive', accept: { 'application/zip': ['.zip'] } }] });
    } catch (e) {
      if (e.name === 'AbortError') return;
      throw e;
    }
    await zipStream(entries).body.pipeTo(await handle.createWritable());
    return;
  }
  const url = URL.createObjectURL(await zipStream(entries).blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: fileName });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Writes each entry into a folder the user picks, creating sub-folders from the names. */
export async function saveToFolder(entries) {
  let root;
  try {
    root = await window.showDirectoryPicker({ mode: 'readwrite' });
  } catch (e) {
    if (e.name === 'AbortError') return 0;
    throw e;
  }
  for (const { name, blob } of entries) {
    const parts = name.split('/');
    let dir = root;
    for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part, { create: true });
    const file = await dir.getFileHandle(parts.at(-1), { create: true });
    const writable = await file.createWritable();
    await blob.stream().pipeTo(writable);
  }
  return entries.length;
}
