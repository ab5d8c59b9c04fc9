//! Shrink-on-load: a JPEG decoded at 1/2, 1/4 or 1/8 of its size in the DCT domain, through
//! jpeg-decoder's `scale`. Decoding only the low-frequency coefficients skips most of the
//! inverse DCT, the chroma upsampling and the colour conversion, and hands the resizer a
//! quarter to a sixty-fourth of the pixels; libjpeg, libvips and sharp do the same.

use std::io::Cursor;

use jpeg_decoder::{Decoder, PixelFormat};

/// The image decoded at 1/`divisor` of each side, or `None` when this decoder cannot give
/// it (an unusual pixel format, a file only the main decoder tolerates): the caller then
/// decodes at full size, which is slower but never wrong.
pub(super) fn decode(bytes: &[u8], divisor: u32) -> Option<image::DynamicImage> {
    let mut decoder = Decoder::new(Cursor::new(bytes));
    decoder.read_info().ok()?;
    let info = decoder.info()?;
    let want = |side: u16| u16::try_from(u32::from(side).div_ceil(divisor)).ok();
    let (w, h) = decoder.scale(want(info.width)?, want(info.height)?).ok()?;
    let pixels = decoder.decode().ok()?;
    let (w, h) = (u32::from(w), u32::from(h));
    match info.pixel_format {
        PixelFormat::RGB24 => image::RgbImage::from_raw(w, h, pixels).map(Into::into),
        PixelFormat::L8 => image::GrayImage::from_raw(w, h, pixels).map(Into::into),
        // 16-bit lossless and CMYK files take the full-size path, which handles them.
        PixelFormat::L16 | PixelFormat::CMYK32 => None,
    }
}
