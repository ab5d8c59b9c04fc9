//! HEIF containers: HEIC (iPhone and Android photos, HEVC through the pure-Rust heic-rs)
//! and AVIF (AV1 through rav1d, native builds only). One adapter serves both, because the
//! container is the same (MIAF): grids, irot/imir/clap, alpha items, ICC and EXIF are read
//! once, here, and only the coded pictures go to the codec their item type names.
//!
//! Colour follows the reference decoders, libheif (HEIC) and libavif (AVIF), which agree:
//! * the item's `nclx` colour box wins;
//! * else the coded stream's own signalling (the HEVC SPS VUI, the AV1 sequence header);
//! * an unspecified matrix (2) and codes without an entry are read as BT.601.
//!
//! heic-rs instead converts with BT.709 limited range whenever an item has no `nclx` box.
//! iPhone photos carry only an ICC profile and a full-range BT.601 VUI, so heic-rs's default
//! lands about 4 levels (worst 19) off on them and 1-2 levels off on most Nokia conformance
//! files; with libheif's rule every corpus file it reads matches (mean 0.55 at worst). heic-rs
//! parses but discards the VUI, so the SPS is read here, as far as `video_signal_type`.
//!
//! This file is the decoder image-rs drives; `items.rs` walks the item graph, `colour.rs`
//! holds the colour rule and `sps.rs` the SPS reader.
//!
//! Decoding is lazy: [`HeifDecoder::new`] parses the container, once per decoder, and reads
//! it (sizes, item types, profile, EXIF); the pixels are decoded from that parse only in
//! `read_image`, so the batch scheduler can size a file from its header. Tiles decode on
//! rayon's ambient pool; no private pool is built.

use heic_rs::PixelLayout;
use heic_rs::color;
use heic_rs::context::Context;
use heic_rs::meta::iref::RefKind;
use heic_rs::transform;
use image::error::{DecodingError, ImageFormatHint};
use image::{ColorType, ImageDecoder, ImageError, ImageResult};

use crate::error::{Error, Result};
use crate::format::Format;
use crate::limits::Limits;
use items::{
    Alpha, alpha_of, check_item_type, check_stream_sizes, decode_alpha, decode_item, exif_of,
    first_stream_header, open_container, reference_transforms,
};

mod colour;
mod items;
mod sps;

/// The primary image of a HEIF file, read as far as its header.
pub(crate) struct HeifDecoder<'a> {
    /// The parsed container, which `read_image` decodes from without parsing it again.
    ctx: Context<'a>,
    format: Format,
    width: u32,
    height: u32,
    /// RGB or RGBA; 16 bits when the coded pictures are deeper than 8 (10- and 12-bit HEIC
    /// and AVIF) and the caller keeps 16 bits, else 8.
    layout: PixelLayout,
    max_pixels: u64,
    icc: Option<Vec<u8>>,
    exif: Option<Vec<u8>>,
}

fn container_error(e: heic_rs::Error) -> Error {
    Error::decode(format!("cannot read the container: {e}"))
}

impl<'a> HeifDecoder<'a> {
    /// Parses the container and checks the size it declares against `limits` first (other
    /// formats' declared sizes are checked before their decoder opens), then refuses, as
    /// Unsupported and by name, any item this decoder cannot turn into pixels (overlays,
    /// other codecs), before any pixel is decoded. Pictures deeper than 8 bits are given at
    /// 16 bits when `keep_sixteen_bit`.
    pub(crate) fn new(
        bytes: &'a [u8],
        format: Format,
        limits: &Limits,
        keep_sixteen_bit: bool,
    ) -> Result<Self> {
        let named = |e: Error| Error::new(e.kind(), format!("{format}: {}", e.message()));
        let ctx = open_container(bytes, format).map_err(|e| named(container_error(e)))?;
        if let Some((w, h)) = declared_size_of(&ctx) {
            limits.check_extent(u64::from(w), u64::from(h))?;
        }
        Self::read(ctx, format, limits.max_pixels, keep_sixteen_bit).map_err(named)
    }

    fn read(
        ctx: Context<'a>,
        format: Format,
        max_pixels: u64,
        keep_sixteen_bit: bool,
    ) -> Result<Self> {
        let id = ctx.meta.primary;
        let info = ctx
            .meta
            .item(id)
            .ok_or_else(|| Error::decode("the primary item is missing"))?;
        check_item_type(&info.item_type, "primary image").map_err(Error::unsupported)?;
        if let Some((_, tiles)) = ctx.grid(id).map_err(container_error)? {
            for t in &tiles {
                let info = ctx
                    .meta
                    .item(*t)
                    .ok_or_else(|| Error::decode(format!("grid tile {t} is missing")))?;
                check_item_type(&info.item_type, "grid tile").map_err(Error::unsupported)?;
            }
        }
        let alpha = alpha_of(&ctx, id).map_err(container_error)?;
        let alpha_items = match &alpha {
            None => Vec::new(),
            Some(Alpha::Item(aux)) => vec![*aux],
            Some(Alpha::PerTile(_, auxs)) => auxs.clone(),
        };
        for aux in &alpha_items {
            let info = ctx
                .meta
                .item(*aux)
                .ok_or_else(|| Error::decode("the alpha item is missing"))?;
            check_item_type(&info.item_type, "alpha plane").map_err(Error::unsupported)?;
        }
        let p = ctx.props(id).map_err(container_error)?;
        let (cw, ch) = ctx.coded_size(id, &p).map_err(container_error)?;
        let (width, height) =
            transform::transformed_size(cw, ch, &p.transforms).map_err(container_error)?;
        for item in std::iter::once(id).chain(alpha_items) {
            check_stream_sizes(&ctx, item, max_pixels)?;
        }
        let deep = first_stream_header(&ctx, id)
            .map_err(container_error)?
            .is_some_and(|h| h.bit_depth > 8);
        let layout = match (keep_sixteen_bit && deep, alpha.is_some()) {
            (false, false) => PixelLayout::Rgb8,
            (false, true) => PixelLayout::Rgba8,
            (true, false) => PixelLayout::Rgb16,
            (true, true) => PixelLayout::Rgba16,
        };
        let exif = exif_of(&ctx, id);
        let icc = p.icc.map(<[u8]>::to_vec);
        Ok(HeifDecoder {
            ctx,
            format,
            width,
            height,
            layout,
            max_pixels,
            icc,
            exif,
        })
    }
}

impl ImageDecoder for HeifDecoder<'_> {
    fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn color_type(&self) -> ColorType {
        match self.layout {
            PixelLayout::Rgba8 => ColorType::Rgba8,
            PixelLayout::Rgb16 => ColorType::Rgb16,
            PixelLayout::Rgba16 => ColorType::Rgba16,
            _ => ColorType::Rgb8,
        }
    }

    fn icc_profile(&mut self) -> ImageResult<Option<Vec<u8>>> {
        Ok(self.icc.clone())
    }

    fn exif_metadata(&mut self) -> ImageResult<Option<Vec<u8>>> {
        Ok(self.exif.clone())
    }

    fn read_image(self, buf: &mut [u8]) -> ImageResult<()> {
        let failed = |message: String| {
            ImageError::Decoding(DecodingError::new(
                ImageFormatHint::Name(self.format.to_string()),
                message,
            ))
        };
        let pixels = decode_pixels(&self.ctx, self.max_pixels, self.layout).map_err(failed)?;
        if pixels.len() != buf.len() {
            return Err(failed(format!(
                "decoded {} bytes, the header promised {}",
                pixels.len(),
                buf.len()
            )));
        }
        buf.copy_from_slice(&pixels);
        Ok(())
    }

    fn read_image_boxed(self: Box<Self>, buf: &mut [u8]) -> ImageResult<()> {
        (*self).read_image(buf)
    }
}

/// The primary image's EXIF (a TIFF structure) and ICC profile, read from the container
/// alone: for a file whose pixels the browser decoded (AVIF in the wasm build).
pub(crate) fn container_metadata(
    bytes: &[u8],
    format: Format,
) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let Ok(ctx) = open_container(bytes, format) else {
        return (None, None);
    };
    let id = ctx.meta.primary;
    let icc = ctx.props(id).ok().and_then(|p| p.icc.map(<[u8]>::to_vec));
    (exif_of(&ctx, id), icc)
}

/// The size of the primary image after `clap` and `irot`, from its header, for limit
/// checks before anything is decoded.
pub(crate) fn declared_size(bytes: &[u8], format: Format) -> Option<(u32, u32)> {
    declared_size_of(&open_container(bytes, format).ok()?)
}

fn declared_size_of(ctx: &Context<'_>) -> Option<(u32, u32)> {
    let id = ctx.meta.primary;
    let p = ctx.props(id).ok()?;
    let (w, h) = ctx.coded_size(id, &p).ok()?;
    transform::transformed_size(w, h, &p.transforms).ok()
}

/// Decodes the primary image to upright RGB, or RGBA with straight alpha, in `layout`
/// (8 or 16 bits, native-endian, as image-rs takes them).
fn decode_pixels(
    ctx: &Context<'_>,
    max_pixels: u64,
    layout: PixelLayout,
) -> std::result::Result<Vec<u8>, String> {
    let alpha = matches!(layout, PixelLayout::Rgba8 | PixelLayout::Rgba16);
    let err = |e: heic_rs::Error| e.to_string();
    let id = ctx.meta.primary;
    let p = ctx.props(id).map_err(err)?;
    let (frame, nclx) = decode_item(ctx, id, &p, max_pixels)?;
    let alpha_of_image = if alpha {
        alpha_of(ctx, id).map_err(err)?
    } else {
        None
    };
    let alpha_frame = match &alpha_of_image {
        None => None,
        Some(Alpha::Item(aux)) => Some(decode_alpha(ctx, *aux, max_pixels)?),
        Some(Alpha::PerTile(g, auxs)) => {
            use rayon::prelude::*;
            let tiles = auxs
                .par_iter()
                .map(|aux| decode_alpha(ctx, *aux, max_pixels))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Some(heic_rs::grid::compose(g, &tiles, max_pixels).map_err(err)?)
        }
    };
    if let Some(a) = &alpha_frame
        && (a.width, a.height) != (frame.width, frame.height)
    {
        return Err(format!(
            "alpha plane is {}x{} but the image is {}x{} (scaled alpha is not supported)",
            a.width, a.height, frame.width, frame.height
        ));
    }
    let image = color::convert(&frame, alpha_frame.as_ref(), nclx, layout, max_pixels, None)
        .map_err(err)?;
    drop(frame);
    let mut image = transform::apply_all(image, &reference_transforms(&p)).map_err(err)?;
    // A `prem` reference from the image to its alpha says the colour samples are
    // premultiplied; everything downstream expects straight alpha, as libheif gives.
    if let Some(Alpha::Item(aux)) = alpha_of_image {
        let premultiplied = ctx
            .meta
            .refs
            .iter()
            .any(|r| r.kind == RefKind::Other(*b"prem") && r.from == id && r.to.contains(&aux));
        if premultiplied && layout == PixelLayout::Rgba16 {
            // `data` is native-endian bytes, not necessarily aligned for u16: a pixel at a time.
            for bytes in image.data.chunks_exact_mut(8) {
                let mut px: [u16; 4] =
                    std::array::from_fn(|i| u16::from_ne_bytes([bytes[2 * i], bytes[2 * i + 1]]));
                crate::pixels::unpremultiply(&mut px);
                bytes.copy_from_slice(bytemuck::cast_slice(&px));
            }
        } else if premultiplied {
            crate::pixels::unpremultiply(&mut image.data);
        }
    }
    Ok(image.data)
}
