// The browser's own pipeline: createImageBitmap with resize (resizeQuality 'high', EXIF
// orientation applied), drawn into an OffscreenCanvas, convertToBlob at quality 0.8; one
// worker per core. The target size comes from the page (computed from the upright size).
export async function init() {}

export async function convert(blob, task, [resizeWidth, resizeHeight]) {
  const bitmap = await createImageBitmap(blob, { resizeWidth, resizeHeight, resizeQuality: 'high', imageOrientation: 'from-image' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  canvas.getContext('2d').drawImage(bitmap, 0, 0);
  bitmap.close();
  const out = await canvas.convertToBlob({ type: task.format === 'webp' ? 'image/webp' : 'image/jpeg', quality: 0.8 });
  return new Uint8Array(await out.arrayBuffer());
}
