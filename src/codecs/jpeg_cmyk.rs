//! CMYK and YCCK JPEGs (print files) decoded to ink amounts, so their embedded CMYK profile
//! can convert them. image-rs only offers zune-jpeg's naive CMYK to RGB, which ignores the
//! profile and lands tens of levels away on press profiles such as SWOP.

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;

use crate::error::{Error, Result};

/// Stored size and ink amounts (C, M, Y, K; 0 = no ink), or `None` when the JPEG is not
/// four-channel CMYK or YCCK.
pub(crate) struct Inks {
    pub width: u32,
    pub height: u32,
    pub cmyk: Vec<u8>,
}

pub(crate) fn decode_inks(bytes: &[u8]) -> Result<Option<Inks>> {
    // The caller has checked the size against the limits; zune's own 16384 px cap would
    // refuse large print files image-rs reads.
    let options = DecoderOptions::default()
        .set_strict_mode(false)
        .set_max_width(usize::MAX)
        .set_max_height(usize::MAX);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let failed = |e: zune_jpeg::errors::DecodeErrors| {
        Error::decode(format!("cannot decode the CMYK JPEG: {e}"))
    };
    decoder.decode_headers().map_err(failed)?;
    let input = decoder.input_colorspace();
    if !matches!(input, Some(ColorSpace::CMYK | ColorSpace::YCCK)) {
        return Ok(None);
    }
    let input = input.expect("matched above");
    // Asking for the input colour space itself returns the four stored channels untouched.
    decoder.set_options(options.jpeg_set_out_colorspace(input));
    let mut samples = decoder.decode().map_err(failed)?;
    let (width, height) = decoder.dimensions().expect("headers were decoded");
    // Adobe (Photoshop) writes every channel inverted: 255 means no ink. YCCK stores the
    // inverted C, M and Y as YCbCr, so converting it back gives 255 - (255 - ink) = ink
    // directly, while K is still inverted. zune-jpeg's own RGB path assumes the same.
    for px in samples.chunks_exact_mut(4) {
        if input == ColorSpace::YCCK {
            let [r, g, b] = ycbcr_to_rgb(px[0], px[1], px[2]);
            px[..3].copy_from_slice(&[r, g, b]);
        } else {
            for c in &mut px[..3] {
                *c = 255 - *c;
            }
        }
        px[3] = 255 - px[3];
    }
    Ok(Some(Inks {
        width: width as u32,
        height: height as u32,
        cmyk: samples,
    }))
}

/// JFIF's full-range BT.601 YCbCr to RGB, rounded and clamped.
fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let (y, cb, cr) = (f32::from(y), f32::from(cb) - 128.0, f32::from(cr) - 128.0);
    let clamp = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    [
        clamp(y + 1.402 * cr),
        clamp(y - 0.344_136 * cb - 0.714_136 * cr),
        clamp(y + 1.772 * cb),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ycbcr_grey_axis_stays_grey() {
        for v in [0, 77, 128, 255] {
            assert_eq!(ycbcr_to_rgb(v, 128, 128), [v, v, v]);
        }
    }
}
