//! WebP output through image-webp: lossless only (a lossy encoder is gated on quality tests).

use crate::error::{Error, Result};
use crate::metadata::Metadata;
use crate::pixels::Pixels;

pub fn encode_lossless(pixels: &Pixels, metadata: &Metadata) -> Result<Vec<u8>> {
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
