//! GIF, BMP, TIFF, QOI and ICO output through image-rs's encoders, which need no options.

use std::io::Cursor;

use image::ImageEncoder;

use crate::error::{Error, Result, from_image};
use crate::format::Format;
use crate::metadata::Metadata;
use crate::pixels::{Pixels, Sample};

/// NeuQuant speed for GIF palettes: 1 is image-rs's default and several times slower than
/// 10 for no visible gain on photos.
const GIF_QUANTIZER_SPEED: i32 = 10;

/// Samples go as image-rs takes them, native-endian bytes; of these encoders only TIFF
/// writes 16 bits, and `codecs::encode` hands the others 8-bit pixels.
pub fn encode<S: Sample>(
    pixels: &Pixels<S>,
    format: Format,
    metadata: &Metadata,
) -> Result<Vec<u8>> {
    let (w, h, color) = (pixels.width, pixels.height, pixels.color_type());
    let samples: &[u8] = bytemuck::cast_slice(&pixels.data);
    let mut out = Cursor::new(Vec::new());
    let failed = |e| from_image(&format!("{format} encoder failed"), e);
    match format {
        Format::Gif => {
            let mut encoder =
                image::codecs::gif::GifEncoder::new_with_speed(&mut out, GIF_QUANTIZER_SPEED);
            encoder.encode(samples, w, h, color).map_err(failed)?;
        }
        Format::Bmp => image::codecs::bmp::BmpEncoder::new(&mut out)
            .write_image(samples, w, h, color)
            .map_err(failed)?,
        Format::Qoi => image::codecs::qoi::QoiEncoder::new(&mut out)
            .write_image(samples, w, h, color)
            .map_err(failed)?,
        Format::Ico => {
            let rgba = pixels.eight_bit().to_rgba();
            image::codecs::ico::IcoEncoder::new(&mut out)
                .write_image(&rgba, w, h, image::ExtendedColorType::Rgba8)
                .map_err(failed)?
        }
        Format::Tiff => {
            let mut encoder = image::codecs::tiff::TiffEncoder::new(&mut out);
            if let Some(icc) = &metadata.icc {
                // Unsupported here only means "dropped": the pixels still encode.
                let _ = encoder.set_icc_profile(icc.clone());
            }
            encoder.write_image(samples, w, h, color).map_err(failed)?
        }
        other => {
            return Err(Error::internal(format!(
                "{other} is not an image-rs encoder format"
            )));
        }
    }
    Ok(out.into_inner())
}
