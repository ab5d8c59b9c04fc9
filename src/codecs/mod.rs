//! Codec adapters: decoding through image-rs with limits checked from the header, and one
//! encoder adapter per output format. No pipeline logic lives here.

mod jpeg;
mod png;
mod via_image;
mod webp;

use std::io::Cursor;

use image::{ImageDecoder, ImageReader};

use crate::error::{Error, Result, from_image};
use crate::format::Format;
use crate::limits::Limits;
use crate::metadata::Metadata;
use crate::options::EncodeOptions;
use crate::pixels::Pixels;

const TIFF_EXTRA_SAMPLES: u16 = 338;

/// What the header says, before any pixel is decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub format: Format,
    /// Stored size (before orientation).
    pub width: u32,
    pub height: u32,
    /// EXIF orientation 1-8 (1 when absent).
    pub orientation: u8,
    /// Bytes of the decoder's own output buffer (native depth and channels).
    pub decoded_bytes: u64,
}

impl Header {
    /// Size after applying the orientation.
    pub fn upright_size(&self) -> (u32, u32) {
        if self.orientation >= 5 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

fn open<'a>(bytes: &'a [u8], format: Format, limits: &Limits) -> Result<impl ImageDecoder + 'a> {
    let Some(image_format) = format.to_image() else {
        return Err(Error::unsupported(format!(
            "{format} input is recognised but not supported in this build"
        )));
    };
    if let Some((w, h)) = crate::container::declared_size(format, bytes) {
        limits.check_extent(w, h)?;
    }
    if format == Format::Png {
        let cap = usize::try_from(limits.max_text_chunk)
            .unwrap_or(usize::MAX)
            .min(64 << 20);
        for size in crate::container::png_text_sizes(bytes, cap) {
            limits.check_text_chunk(size as u64)?;
        }
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    reader.limits(limits.to_image_limits());
    let decoder = reader
        .into_decoder()
        .map_err(|e| from_image(&format!("cannot read the {format} header"), e))?;
    let (w, h) = decoder.dimensions();
    limits.check_dimensions(w, h)?;
    // image-rs does not reserve its output buffer against Limits (design.md §3): check here.
    limits.check_memory(decoder.total_bytes())?;
    Ok(decoder)
}

/// The orientation to apply: EXIF's tag, else XMP's `tiff:Orientation`, else the
/// decoder's own (TIFF keeps it in the image's IFD). We read EXIF ourselves because
/// image-rs misses it when a WebP EXIF chunk keeps the `Exif\0\0` prefix.
fn orientation_of(decoder: &mut impl ImageDecoder, metadata: &Metadata) -> u8 {
    metadata
        .exif
        .as_deref()
        .and_then(crate::metadata::exif_orientation)
        .or_else(|| {
            metadata
                .xmp
                .as_deref()
                .and_then(crate::metadata::xmp_orientation)
        })
        .or_else(|| decoder.orientation().ok().map(orientation_number))
        .unwrap_or(1)
}

fn header_of(format: Format, decoder: &mut impl ImageDecoder, metadata: &Metadata) -> Header {
    let (width, height) = decoder.dimensions();
    let orientation = orientation_of(decoder, metadata);
    Header {
        format,
        width,
        height,
        orientation,
        decoded_bytes: decoder.total_bytes(),
    }
}

/// Reads only the header: format, declared size, orientation. Enforces `limits`.
pub fn read_header(bytes: &[u8], format: Format, limits: &Limits) -> Result<Header> {
    let mut decoder = open(bytes, format, limits)?;
    let metadata = Metadata::read(&mut decoder);
    Ok(header_of(format, &mut decoder, &metadata))
}

/// A decoded, upright image and its metadata.
pub struct Decoded {
    pub pixels: Pixels,
    pub metadata: Metadata,
}

/// Decodes the first frame. `admit` sees the header before any pixel buffer is allocated
/// and may refuse (the pipeline checks its memory estimate there).
pub fn decode(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
    admit: impl FnOnce(&Header) -> Result<()>,
) -> Result<Decoded> {
    let mut decoder = open(bytes, format, limits)?;
    let metadata = Metadata::read(&mut decoder);
    let header = header_of(format, &mut decoder, &metadata);
    admit(&header)?;
    let orientation = image::metadata::Orientation::from_exif(header.orientation)
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    if format == Format::Jpeg && crate::container::jpeg_is_truncated(bytes) {
        return Err(Error::decode(
            "JPEG is truncated: its image data stops before the end marker",
        ));
    }
    let mut image = image::DynamicImage::from_decoder(decoder)
        .map_err(|e| from_image(&format!("cannot decode {format}"), e))?;
    image.apply_orientation(orientation);
    // TIFF ExtraSamples = 1 means associated (premultiplied) alpha, which image-rs passes
    // through as is; everything downstream expects straight alpha. 16-bit data is divided
    // before the 8-bit conversion, where low alphas would lose most of their precision.
    let mut associated = format == Format::Tiff
        && crate::metadata::tiff_ifd0_value(bytes, TIFF_EXTRA_SAMPLES) == Some(1);
    if associated && let image::DynamicImage::ImageRgba16(buffer) = &mut image {
        for p in buffer.pixels_mut() {
            let a = u64::from(p[3]);
            for c in &mut p.0[..3] {
                *c = (u64::from(*c) * 65535 + a / 2)
                    .checked_div(a)
                    .map_or(0, |v| v.min(65535) as u16);
            }
        }
        associated = false;
    }
    let mut pixels = Pixels::from_dynamic(image);
    if associated && pixels.has_alpha {
        crate::pixels::unpremultiply(&mut pixels.data);
    }
    Ok(Decoded { pixels, metadata })
}

fn orientation_number(o: image::metadata::Orientation) -> u8 {
    use image::metadata::Orientation as O;
    match o {
        O::NoTransforms => 1,
        O::FlipHorizontal => 2,
        O::Rotate180 => 3,
        O::FlipVertical => 4,
        O::Rotate90FlipH => 5,
        O::Rotate90 => 6,
        O::Rotate270FlipH => 7,
        O::Rotate270 => 8,
    }
}

/// Encodes `pixels` (already flattened if the format has no alpha) with the metadata the
/// policy allowed.
pub fn encode(
    pixels: &Pixels,
    format: Format,
    options: &EncodeOptions,
    metadata: &Metadata,
) -> Result<Vec<u8>> {
    match format {
        Format::Jpeg => jpeg::encode(pixels, options, metadata),
        Format::Png => png::encode(pixels, options, metadata),
        Format::WebP => webp::encode_lossless(pixels, metadata),
        Format::Gif | Format::Bmp | Format::Tiff | Format::Qoi | Format::Ico => {
            via_image::encode(pixels, format, metadata)
        }
        other => Err(Error::unsupported(format!(
            "cannot write {other} in this build"
        ))),
    }
}
