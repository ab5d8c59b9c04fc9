// The browser's own pipeline: createImageBitmap with resize (resizeQuality 'high', EXIF
// orientation applied), drawn into an OffscreenCanvas, convertToBlob at quality 0.8; one
// worker per core. The target size comes from the page (computed from the upright size).
export async function init() {}

export async function convert(blob, task, [resizeWidth, resizeHeight]) {
  if (task.kind === 'c') return several(blob, task);
  const bitmap = await createImageBitmap(blob, { resizeWidth, resizeHeight, resizeQuality: 'high', imageOrientation: 'from-image' });
  return encode(bitmap, task);
}

async function encode(bitmap, task) {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  canvas.getContext('2d').drawImage(bitmap, 0, 0);
  bitmap.close();
  const out = await canvas.convertToBlob({ type: task.format === 'webp' ? 'image/webp' : 'image/jpeg', quality: 0.8 });
  return new Uint8Array(await out.arrayBuffer());
}

// Task c: decode once, then 2048 and 1024 long edge and a centred 320x320 cover crop, each
// resized from the decoded bitmap. The outputs are returned end to end (only bytes count).
async function several(blob, task) {
  const full = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  const { width: w, height: h } = full;
  const long = (px) => {
    const s = Math.min(1, px / Math.max(w, h));
    return [0, 0, w, h, Math.max(1, Math.round(w * s)), Math.max(1, Math.round(h * s))];
  };
  const side = Math.min(w, h);
  const cover = [(w - side) / 2, (h - side) / 2, side, side, Math.min(320, side), Math.min(320, side)];
  const parts = [];
  for (const [sx, sy, sw, sh, resizeWidth, resizeHeight] of [long(2048), long(1024), cover]) {
    const bitmap = await createImageBitmap(full, sx, sy, sw, sh, { resizeWidth, resizeHeight, resizeQuality: 'high' });
    parts.push(await encode(bitmap, task));
  }
  full.close();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}
