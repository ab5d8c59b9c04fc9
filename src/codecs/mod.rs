//! Codec adapters: decoding through image-rs with limits checked from the header, and one
//! encoder adapter per output format. No pipeline logic lives here.

#[cfg(not(target_arch = "wasm32"))]
mod av1;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod av1_child;
mod avif;
pub(crate) mod heif;
mod jpeg;
mod jpeg_cmyk;
mod png;
mod stream;
mod via_image;
mod webp;

use std::io::Cursor;

use image::{ImageDecoder, ImageReader};

use crate::color::ProfileSpace;
use crate::error::{Error, Result, from_image};
use crate::format::Format;
use crate::limits::Limits;
use crate::metadata::Metadata;
use crate::options::EncodeOptions;
use crate::pixels::{Pixels, Sample, SourcePixels};

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
    /// The decoder gives 16-bit samples, which outputs that hold them keep.
    pub sixteen_bit: bool,
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

/// Opens a decoder. `keep_sixteen_bit` lets decoders that can give either depth (HEIF) give
/// 16 bits; the others give what the file holds.
fn open<'a>(
    bytes: &'a [u8],
    format: Format,
    limits: &Limits,
    keep_sixteen_bit: bool,
) -> Result<Box<dyn ImageDecoder + 'a>> {
    // HEIF's declared size is checked by its decoder, from the one parse of its container.
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
    let header_error = |e| from_image(&format!("cannot read the {format} header"), e);
    let decoder: Box<dyn ImageDecoder + 'a> = match (format, format.to_image()) {
        // jxl-oxide renders with the orientation applied and uses rayon's global pool where
        // this build has threads (its `rayon` feature), never a pool of its own.
        (Format::Jxl, _) => {
            let mut decoder = jxl_oxide::integration::JxlDecoder::new(Cursor::new(bytes))
                .map_err(header_error)?;
            decoder
                .set_limits(limits.to_image_limits())
                .map_err(header_error)?;
            Box::new(decoder)
        }
        // HEIC and AVIF share the HEIF container, and with it one adapter.
        (Format::Heic | Format::Avif, _) => Box::new(heif::HeifDecoder::new(
            bytes,
            format,
            limits,
            keep_sixteen_bit,
        )?),
        (_, Some(image_format)) => {
            let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
            reader.limits(limits.to_image_limits());
            Box::new(reader.into_decoder().map_err(header_error)?)
        }
        (_, None) => {
            return Err(Error::unsupported(format!(
                "{format} input is recognised but not supported in this build"
            )));
        }
    };
    let (w, h) = decoder.dimensions();
    limits.check_dimensions(w, h)?;
    // image-rs does not reserve its output buffer against Limits (design.md §3): check here.
    limits.check_memory(decoder.total_bytes())?;
    Ok(decoder)
}

/// The largest width and height the file declares ([`crate::container::declared_size`], and
/// HEIF's from its container), for refusing it before anything decodes it.
pub(crate) fn declared_size(format: Format, bytes: &[u8]) -> Option<(u64, u64)> {
    match format {
        Format::Heic | Format::Avif => {
            heif::declared_size(bytes, format).map(|(w, h)| (u64::from(w), u64::from(h)))
        }
        _ => crate::container::declared_size(format, bytes),
    }
}

/// The orientation to apply: EXIF's tag, else XMP's `tiff:Orientation`, else the
/// decoder's own (TIFF keeps it in the image's IFD). We read EXIF ourselves because
/// image-rs misses it when a WebP EXIF chunk keeps the `Exif\0\0` prefix.
fn orientation_of(format: Format, decoder: &mut dyn ImageDecoder, metadata: &Metadata) -> u8 {
    // JPEG XL and HEIF (HEIC, AVIF) decoders have already applied the orientation their own
    // headers give (codestream orientation; irot/imir), which the formats say wins over EXIF.
    if matches!(format, Format::Jxl | Format::Heic | Format::Avif) {
        return 1;
    }
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

fn header_of(format: Format, decoder: &mut dyn ImageDecoder, metadata: &Metadata) -> Header {
    let (width, height) = decoder.dimensions();
    let orientation = orientation_of(format, decoder, metadata);
    Header {
        format,
        width,
        height,
        orientation,
        decoded_bytes: decoder.total_bytes(),
        sixteen_bit: crate::pixels::is_sixteen_bit(decoder.color_type()),
    }
}

/// The decoder's metadata blocks, none when a WebP metadata chunk claims more bytes than the
/// file has: image-webp allocates a chunk's declared size before reading it, so a 1 KB file
/// claiming a 4 GB `EXIF` chunk would cost 4 GB (found by scripts/fuzz). Such a block could
/// not be read anyway; the pixels still can.
fn read_metadata(bytes: &[u8], format: Format, decoder: &mut dyn ImageDecoder) -> Metadata {
    let overrun = format == Format::WebP
        && crate::container::webp_oversized_chunk(bytes)
            .is_some_and(|(chunk, _)| matches!(chunk.as_str(), "EXIF" | "XMP " | "ICCP"));
    if overrun {
        return Metadata::default();
    }
    Metadata::read(decoder)
}

/// Reads only the header: format, declared size, orientation, and the depth and buffer
/// size decoding with `keep_sixteen_bit` would give. Enforces `limits`.
pub fn read_header(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
    keep_sixteen_bit: bool,
) -> Result<Header> {
    guarded(format, || {
        let mut decoder = open(bytes, format, limits, keep_sixteen_bit)?;
        let metadata = read_metadata(bytes, format, decoder.as_mut());
        Ok(header_of(format, decoder.as_mut(), &metadata))
    })
}

/// Runs a decoder, turning its panic on a malformed file into a `decode` error for that
/// file, whoever called: jxl-oxide 0.12.6 panics on some (an LF level past its four frames,
/// an XYB profile it has no ICC for; tests/fixtures/fuzz/).
fn guarded<T>(format: Format, decode: impl FnOnce() -> Result<T>) -> Result<T> {
    crate::error::catch_panic(decode).unwrap_or_else(|panic| {
        Err(Error::decode(format!(
            "the {format} decoder crashed on this file: {panic}"
        )))
    })
}

/// A decoded, upright image and its metadata. When the pixels were converted to sRGB,
/// `metadata.icc` is an sRGB profile, so outputs that carry one are tagged correctly.
pub struct Decoded {
    pub pixels: SourcePixels,
    pub metadata: Metadata,
    /// Why an embedded profile could not be used (the pixels are then as decoded).
    pub profile_ignored: Option<String>,
}

/// What decoding does with an embedded ICC profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colour {
    /// The samples as decoded, profile untouched: for comparisons with other decoders.
    AsDecoded,
    /// Keep RGB pixels in their profile (it travels with them); convert what an RGB output
    /// could not carry (CMYK, grey profiles) to sRGB.
    KeepProfile,
    /// Convert every profiled image to sRGB.
    Srgb,
}

/// Decodes the first frame, keeping 16-bit samples when `keep_sixteen_bit` (the output
/// holds them). `admit` sees the header before any pixel buffer is allocated and may refuse
/// (the pipeline checks its memory estimate there).
pub fn decode(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
    colour: Colour,
    keep_sixteen_bit: bool,
    admit: impl FnOnce(&Header) -> Result<()>,
) -> Result<Decoded> {
    guarded(format, || {
        let mut decoder = open(bytes, format, limits, keep_sixteen_bit)?;
        let mut metadata = read_metadata(bytes, format, decoder.as_mut());
        let header = header_of(format, decoder.as_mut(), &metadata);
        admit(&header)?;
        let orientation = image::metadata::Orientation::from_exif(header.orientation)
            .unwrap_or(image::metadata::Orientation::NoTransforms);
        if format == Format::Jpeg && crate::container::jpeg_is_truncated(bytes) {
            return Err(Error::decode(
                "JPEG is truncated: its image data stops before the end marker",
            ));
        }
        let profile = metadata
            .icc
            .as_deref()
            .filter(|_| colour != Colour::AsDecoded)
            .map(|icc| (icc, crate::color::profile_space(icc)));
        let mut profile_ignored = None;
        let mut converted = false;
        let mut image = match profile {
            Some((icc, ProfileSpace::Cmyk)) if format == Format::Jpeg => {
                drop(decoder);
                match cmyk_jpeg_to_srgb(bytes, icc)? {
                    Ok(image) => {
                        converted = true;
                        image
                    }
                    Err(why) => {
                        profile_ignored = Some(why);
                        decode_pixels(bytes, format, limits, keep_sixteen_bit)?
                    }
                }
            }
            _ => pixels_from(decoder, format)?,
        };
        image.apply_orientation(orientation);
        // TIFF ExtraSamples = 1 means associated (premultiplied) alpha, which image-rs passes
        // through as is; everything downstream expects straight alpha. 16-bit data is divided
        // before any 8-bit conversion, where low alphas would lose most of their precision.
        let mut associated = format == Format::Tiff
            && crate::metadata::tiff_ifd0_value(bytes, TIFF_EXTRA_SAMPLES) == Some(1);
        if associated && let image::DynamicImage::ImageRgba16(buffer) = &mut image {
            crate::pixels::unpremultiply(buffer);
            associated = false;
        }
        // Colour conversion runs at the decoded depth, before the 8-bit reduction: a 16-bit
        // linear-light file would otherwise lose its shadows to 8-bit rounding first.
        if let Some((icc, space)) = profile.filter(|_| !converted) {
            let convert = match space {
                ProfileSpace::Rgb => colour == Colour::Srgb,
                // Grey pixels are widened to RGB, where a grey profile cannot travel.
                ProfileSpace::Gray if !image.color().has_color() => true,
                // A grey profile on colour pixels, as browsers do, is ignored rather than
                // applied to a grey version of them.
                ProfileSpace::Gray | ProfileSpace::Cmyk | ProfileSpace::Other => {
                    profile_ignored = Some(format!(
                        "its {space:?} colour profile does not describe the decoded RGB pixels"
                    ));
                    false
                }
            };
            if convert {
                match crate::color::to_srgb(&mut image, icc) {
                    Ok(()) => converted = true,
                    Err(why) => profile_ignored = Some(why),
                }
            }
        }
        // The depth is the decoder's, decided before colour conversion (which takes float
        // images to 16 bits), so it is the depth the memory estimate counted.
        let mut pixels = SourcePixels::from_dynamic(image, keep_sixteen_bit && header.sixteen_bit);
        if associated {
            pixels.unpremultiply();
        }
        if converted {
            metadata.icc = Some(crate::color::srgb_profile().to_vec());
        } else if profile_ignored.is_some() {
            metadata.icc = None;
        }
        Ok(Decoded {
            pixels,
            metadata,
            profile_ignored,
        })
    })
}

/// Decodes again from scratch (the first decoder was consumed).
fn decode_pixels(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
    keep_sixteen_bit: bool,
) -> Result<image::DynamicImage> {
    pixels_from(open(bytes, format, limits, keep_sixteen_bit)?, format)
}

fn pixels_from(decoder: Box<dyn ImageDecoder + '_>, format: Format) -> Result<image::DynamicImage> {
    image::DynamicImage::from_decoder(decoder)
        .map_err(|e| from_image(&format!("cannot decode {format}"), e))
}

/// A CMYK or YCCK JPEG through its CMYK profile to sRGB. The outer error is a broken file;
/// the inner one a profile moxcms cannot use (the caller falls back to the naive conversion).
fn cmyk_jpeg_to_srgb(
    bytes: &[u8],
    icc: &[u8],
) -> Result<std::result::Result<image::DynamicImage, String>> {
    let Some(inks) = jpeg_cmyk::decode_inks(bytes)? else {
        return Ok(Err("a CMYK profile on a JPEG that is not CMYK".into()));
    };
    Ok(crate::color::cmyk_to_srgb(&inks.cmyk, icc).map(|rgb| {
        image::DynamicImage::ImageRgb8(
            image::RgbImage::from_raw(inks.width, inks.height, rgb)
                .expect("the transform returns three samples a pixel"),
        )
    }))
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
/// policy allowed. PNG and TIFF write the samples at their depth; the rest at 8 bits.
pub fn encode<S: Sample>(
    pixels: &Pixels<S>,
    format: Format,
    options: &EncodeOptions,
    metadata: &Metadata,
) -> Result<Vec<u8>> {
    match format {
        Format::Png => png::encode(pixels, options, metadata),
        Format::Tiff => via_image::encode(pixels, format, metadata),
        Format::Jpeg => jpeg::encode(&pixels.eight_bit(), options, metadata),
        Format::WebP => webp::encode(&pixels.eight_bit(), options, metadata),
        Format::Avif => avif::encode(&pixels.eight_bit(), options, metadata),
        Format::Gif | Format::Bmp | Format::Qoi | Format::Ico => {
            via_image::encode(&*pixels.eight_bit(), format, metadata)
        }
        other => Err(Error::unsupported(format!(
            "cannot write {other} in this build"
        ))),
    }
}
