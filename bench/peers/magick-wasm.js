// @imagemagick/magick-wasm (VERT's engine): one instance per worker, one worker per core.
// Read, auto-orient, Lanczos resize, write at quality 80.
import { FilterType, ImageMagick, MagickFormat, initializeImageMagick } from '../node_modules/@imagemagick/magick-wasm/dist/index.js';
import { bytesOf, fit } from './fit.js';

export async function init() {
  await initializeImageMagick(new URL('../node_modules/@imagemagick/magick-wasm/dist/x86/magick.wasm', import.meta.url));
}

export async function convert(blob, task) {
  const bytes = await bytesOf(blob);
  return ImageMagick.read(bytes, (image) => {
    image.autoOrient();
    const [w, h] = fit(image.width, image.height, task.kind);
    if (w !== image.width || h !== image.height) image.resize(w, h, FilterType.Lanczos);
    image.quality = 80;
    return image.write(task.format === 'webp' ? MagickFormat.WebP : MagickFormat.Jpeg, (data) => data.slice());
  });
}
