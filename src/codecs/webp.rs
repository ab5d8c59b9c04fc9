//! WebP output: lossy (VP8) through zenwebp, a pure-Rust port of libwebp, with a lossless
//! alpha plane; lossless (VP8L) through image-webp when the job asks for it.

use crate::error::{Error, Result};
use crate::metadata::Metadata;
use crate::options::EncodeOptions;
use crate::pixels::Pixels;

/// libwebp's default method (cwebp `-m 4`): its balance of encode time against bytes.
const METHOD: u8 = 4;

pub fn encode(pixels: &Pixels, options: &EncodeOptions, metadata: &Metadata) -> Result<Vec<u8>> {
    if options.lossless {
        return encode_lossless(pixels, metadata);
    }
    let (width, height) = (pixels.width, pixels.height);
    let mut encoder = if pixels.has_alpha {
        zenwebp::Encoder::new_rgba(&pixels.data, width, height)
    } else {
        zenwebp::Encoder::new_rgb(&pixels.data, width, height)
    }
    .quality(f32::from(options.quality))
    .method(METHOD);
    // zenwebp writes these into a VP8X container, as libwebp's muxer does.
    if let Some(icc) = &metadata.icc {
        encoder = encoder.icc_profile(icc.clone());
    }
    if let Some(exif) = &metadata.exif {
        encoder = encoder.exif_metadata(exif.clone());
    }
    if let Some(xmp) = &metadata.xmp {
        encoder = encoder.xmp_metadata(xmp.clone());
    }
    encoder
        .encode()
        .map_err(|e| Error::encode("WebP encoder failed").with_source(e))
}

fn encode_lossless(pixels: &Pixels, metadata: &Metadata) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = image_webp::WebPEncoder::new(&mut out);
    if let Some(icc) = &metadata.icc {
        encoder.set_icc_profile(icc.clone());
    }
    if let Some(exif) = &metadata.exif {
        encoder.set_exif_metadata(exif.clone());
    }
    if let Some(xmp) = &metadata.xmp {
        encoder.set_xmp_metadata(xmp.clone());
    }
    let color = if pixels.has_alpha {
        image_webp::ColorType::Rgba8
    } else {
        image_webp::ColorType::Rgb8
    };
    encoder
        .encode(&pixels.data, pixels.width, pixels.height, color)
        .map_err(|e| Error::encode("WebP encoder failed").with_source(e))?;
    Ok(out)
}
