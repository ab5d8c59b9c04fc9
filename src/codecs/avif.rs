//! AVIF output through ravif (rav1e), at the job's quality and speed. AV1 is slow to
//! encode, so the speed is the user's to choose. ravif writes no ICC profile, so the
//! pipeline hands it sRGB pixels (the format table says AVIF output carries no profile),
//! and ravif tags the file sRGB in its colour box.

use rgb::FromSlice;

use crate::error::{Error, Result};
use crate::metadata::Metadata;
use crate::options::EncodeOptions;
use crate::pixels::Pixels;

pub fn encode(pixels: &Pixels, options: &EncodeOptions, metadata: &Metadata) -> Result<Vec<u8>> {
    let quality = f32::from(options.quality);
    // `None` threads: rav1e works on rayon's global pool, the one wasm-bindgen-rayon
    // provides in the browser; it must never build a pool of its own there.
    let mut encoder = ravif::Encoder::new()
        .with_quality(quality)
        .with_alpha_quality(quality)
        .with_speed(options.avif_speed)
        .with_num_threads(None);
    if let Some(exif) = &metadata.exif {
        encoder = encoder.with_exif(exif.as_slice());
    }
    // One path for both layouts: ravif finds an opaque image's alpha unused and leaves it
    // out of the file.
    let rgba = pixels.to_rgba();
    let image = ravif::Img::new(
        rgba.as_rgba(),
        pixels.width as usize,
        pixels.height as usize,
    );
    encoder
        .encode_rgba(image)
        .map(|image| image.avif_file)
        .map_err(|e| Error::encode("AVIF encoder failed").with_source(e))
}
