// wasm-vips, threaded (pthreads over SharedArrayBuffer): one instance with vips.concurrency(n),
// thumbnailBuffer (shrink-on-load, Lanczos3, EXIF auto-rotate), as its README shows.
import Vips from '../node_modules/wasm-vips/lib/vips-es6.js';
import { bytesOf } from './fit.js';

let vips;
export async function init(threads) {
  vips = await Vips({ dynamicLibraries: [] }); // JPEG/PNG/WebP are built in; skip the JXL/HEIF side modules
  vips.concurrency(threads);
}

export async function convert(blob, task) {
  const bytes = await bytesOf(blob);
  const [width, height] = task.kind === 'a' ? [2048, 2048] : [720, 10000000];
  const image = vips.Image.thumbnailBuffer(bytes, width, { height, size: 'down' });
  try {
    return image.writeToBuffer(task.format === 'webp' ? '.webp' : '.jpg', { Q: 80 }).slice();
  } finally {
    image.delete();
  }
}
