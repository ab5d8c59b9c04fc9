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
//! Decoding is lazy: [`HeifDecoder::new`] reads the container (sizes, item types, profile,
//! EXIF) and the pixels are decoded only in `read_image`, so the batch scheduler can size a
//! file from its header. Tiles decode on rayon's ambient pool; no private pool is built.

use heic_rs::color;
use heic_rs::context::Context;
use heic_rs::ftyp::{Brand, FileType};
use heic_rs::grid;
use heic_rs::hevc::{self, Frame};
use heic_rs::meta::iref::RefKind;
use heic_rs::props::ItemProps;
use heic_rs::transform;
use heic_rs::{MatrixCoefficients, Mirror, Nclx, PixelLayout, Range, Transform};
use image::error::{DecodingError, ImageFormatHint};
use image::{ColorType, ImageDecoder, ImageError, ImageResult};

use super::stream::{StreamColour, StreamHeader};
use crate::error::{Error, Result};
use crate::format::Format;

/// The primary image of a HEIF file, read as far as its header.
pub(crate) struct HeifDecoder<'a> {
    bytes: &'a [u8],
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

/// Parses the container. heic-rs's own `Context::open` refuses AVIF by its brand, because
/// heic-rs decodes HEVC only; the boxes are the same, so AVIF is opened without that check.
fn open_container(bytes: &[u8], format: Format) -> heic_rs::Result<Context<'_>> {
    if format != Format::Avif {
        return Context::open(bytes);
    }
    let avif = FileType {
        major: Brand::Avif,
        effective: Brand::Avif,
        minor_version: 0,
        compatible_count: 0,
    };
    Ok(Context {
        file: bytes,
        ftyp: avif,
        meta: heic_rs::meta::parse(bytes)?,
    })
}

impl<'a> HeifDecoder<'a> {
    /// Reads the container and refuses, as Unsupported and by name, any item this decoder
    /// cannot turn into pixels (overlays, other codecs), before any pixel is decoded.
    /// Pictures deeper than 8 bits are given at 16 bits when `keep_sixteen_bit`.
    pub(crate) fn new(
        bytes: &'a [u8],
        format: Format,
        max_pixels: u64,
        keep_sixteen_bit: bool,
    ) -> Result<Self> {
        let named = |e: Error| Error::new(e.kind(), format!("{format}: {}", e.message()));
        Self::read(bytes, format, max_pixels, keep_sixteen_bit).map_err(named)
    }

    fn read(
        bytes: &'a [u8],
        format: Format,
        max_pixels: u64,
        keep_sixteen_bit: bool,
    ) -> Result<Self> {
        let container_error =
            |e: heic_rs::Error| Error::decode(format!("cannot read the container: {e}"));
        let ctx = open_container(bytes, format).map_err(container_error)?;
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
        Ok(HeifDecoder {
            bytes,
            format,
            width,
            height,
            layout,
            max_pixels,
            icc: p.icc.map(<[u8]>::to_vec),
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
        let pixels =
            decode_pixels(self.bytes, self.format, self.max_pixels, self.layout).map_err(failed)?;
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

/// An item's EXIF as a TIFF structure; EXIF that cannot be read is left out, like any
/// other unreadable metadata.
fn exif_of(ctx: &Context<'_>, id: u32) -> Option<Vec<u8>> {
    let item = ctx.exif_item(id)?;
    let data = ctx.item_data(item).ok()?;
    heic_rs::metadata::exif_tiff(&data).ok().map(<[u8]>::to_vec)
}

/// The size of the primary image after `clap` and `irot`, from its header, for limit
/// checks before anything is decoded.
pub(crate) fn declared_size(bytes: &[u8], format: Format) -> Option<(u32, u32)> {
    let ctx = open_container(bytes, format).ok()?;
    let id = ctx.meta.primary;
    let p = ctx.props(id).ok()?;
    let (w, h) = ctx.coded_size(id, &p).ok()?;
    transform::transformed_size(w, h, &p.transforms).ok()
}

/// Decodes the primary image to upright RGB, or RGBA with straight alpha, in `layout`
/// (8 or 16 bits, native-endian, as image-rs takes them).
fn decode_pixels(
    bytes: &[u8],
    format: Format,
    max_pixels: u64,
    layout: PixelLayout,
) -> std::result::Result<Vec<u8>, String> {
    let alpha = matches!(layout, PixelLayout::Rgba8 | PixelLayout::Rgba16);
    let err = |e: heic_rs::Error| e.to_string();
    let ctx = open_container(bytes, format).map_err(err)?;
    let id = ctx.meta.primary;
    let p = ctx.props(id).map_err(err)?;
    let (frame, nclx) = decode_item(&ctx, id, &p, max_pixels)?;
    let alpha_of_image = if alpha {
        alpha_of(&ctx, id).map_err(err)?
    } else {
        None
    };
    let alpha_frame = match &alpha_of_image {
        None => None,
        Some(Alpha::Item(aux)) => Some(decode_alpha(&ctx, *aux, max_pixels)?),
        Some(Alpha::PerTile(g, auxs)) => {
            use rayon::prelude::*;
            let tiles = auxs
                .par_iter()
                .map(|aux| decode_alpha(&ctx, *aux, max_pixels))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Some(grid::compose(g, &tiles, max_pixels).map_err(err)?)
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

/// Where an image's alpha plane is.
enum Alpha {
    /// An auxiliary item for the whole image (itself possibly a grid).
    Item(u32),
    /// A grid whose every tile has its own alpha item, as libavif can write; composed on
    /// the colour grid's layout.
    PerTile(heic_rs::Grid, Vec<u32>),
}

fn alpha_of(ctx: &Context<'_>, id: u32) -> heic_rs::Result<Option<Alpha>> {
    if let Some(aux) = ctx.alpha_item(id)? {
        return Ok(Some(Alpha::Item(aux)));
    }
    let Some((g, tiles)) = ctx.grid(id)? else {
        return Ok(None);
    };
    let auxs = tiles
        .iter()
        .map(|t| ctx.alpha_item(*t))
        .collect::<heic_rs::Result<Option<Vec<u32>>>>()?;
    Ok(auxs.map(|a| Alpha::PerTile(g, a)))
}

/// Decodes one alpha item to a luma plane at full range.
fn decode_alpha(
    ctx: &Context<'_>,
    aux: u32,
    max_pixels: u64,
) -> std::result::Result<Frame, String> {
    let err = |e: heic_rs::Error| e.to_string();
    let p = ctx.props(aux).map_err(err)?;
    let (mut a, _) = decode_item(ctx, aux, &p, max_pixels)?;
    // libavif stretches an AV1 alpha plane its sequence header calls limited range to full
    // range (for a grid, the tiles' header); an HEVC one goes through as coded, as libheif
    // does.
    let limited = first_stream_header(ctx, aux)
        .map_err(err)?
        .is_some_and(|h| !h.colour.full_range);
    if limited && is_av1(ctx, first_coded(ctx, aux).map_err(err)?) {
        alpha_to_full_range(&mut a);
    }
    Ok(a)
}

/// The item's transforms, with `imir` read as libheif, libavif and browsers read it: axis 0
/// exchanges top and bottom, 1 left and right (ISO/IEC 23008-12:2022's `mode`). heic-rs
/// follows the 2017 wording the other way round, which mirrors every such photo wrongly.
fn reference_transforms(p: &ItemProps<'_>) -> Vec<Transform> {
    p.transforms
        .iter()
        .map(|t| match t {
            Transform::Mirror(Mirror::LeftRight) => Transform::Mirror(Mirror::TopBottom),
            Transform::Mirror(Mirror::TopBottom) => Transform::Mirror(Mirror::LeftRight),
            other => *other,
        })
        .collect()
}

/// Decodes one item (a coded picture or a `grid` of them) to a YCbCr frame, with the colour
/// description the reference decoder would convert it with.
fn decode_item(
    ctx: &Context<'_>,
    id: u32,
    p: &ItemProps<'_>,
    max_pixels: u64,
) -> std::result::Result<(Frame, Nclx), String> {
    let err = |e: heic_rs::Error| e.to_string();
    match ctx.grid(id).map_err(err)? {
        None => {
            let frame = decode_coded(ctx, id, p, max_pixels)?;
            Ok((frame, reference_nclx(p.nclx, stream_colour(ctx, id, p))?))
        }
        Some((g, tiles)) => {
            // libheif converts each tile with its own description; the tiles of a grid
            // come from one encoder run, so the first tile's stands for all, and the grid
            // item's own `nclx` only when the tile has none.
            if tiles.is_empty() {
                return Err("grid has no tiles".into());
            }
            let tile_props = tiles
                .iter()
                .map(|t| ctx.props(*t).map_err(err))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let first = &tile_props[0];
            let nclx = reference_nclx(first.nclx.or(p.nclx), stream_colour(ctx, tiles[0], first))?;
            let frames = decode_tiles(ctx, &tiles, &tile_props, max_pixels)?;
            let frame = grid::compose(&g, &frames, max_pixels).map_err(err)?;
            Ok((frame, nclx))
        }
    }
}

/// This build decodes AV1 items (native builds; rav1d does not build for wasm32).
const AV1: bool = cfg!(not(target_arch = "wasm32"));

/// Item types this decoder cannot turn into pixels, each named for the user.
const UNSUPPORTED_ITEMS: &[(&[u8; 4], &str)] = &[
    (b"iovl", "an overlay (`iovl`) derived image"),
    (b"iden", "an identity-derived (`iden`) image"),
    (b"tild", "a tiled (`tild`) image"),
    (b"av01", "AV1-coded (`av01`)"),
    (b"jpeg", "JPEG-coded (`jpeg`)"),
    (b"j2k1", "JPEG 2000-coded (`j2k1`)"),
    (b"vvc1", "VVC-coded (`vvc1`)"),
    (b"avc1", "H.264-coded (`avc1`)"),
    (b"unci", "an uncompressed (`unci`) image"),
];

/// Refuses, by name, every item type this decoder cannot decode.
fn check_item_type(t: &[u8; 4], what: &str) -> std::result::Result<(), String> {
    if matches!(t, b"hvc1" | b"grid") || (AV1 && t == b"av01") {
        return Ok(());
    }
    let kind = UNSUPPORTED_ITEMS
        .iter()
        .find(|(code, _)| *code == t)
        .map(|(_, kind)| (*kind).to_string())
        .unwrap_or_else(|| format!("of item type `{}`", String::from_utf8_lossy(t)));
    Err(format!("the {what} is {kind}, which is not supported"))
}

fn is_av1(ctx: &Context<'_>, id: u32) -> bool {
    ctx.meta.item(id).is_some_and(|i| &i.item_type == b"av01")
}

/// The coded streams say their own picture size, which the container's `ispe` (checked
/// against the limits) does not bind: a few hundred bytes can declare a small image whose
/// stream asks for gigabytes, or a grid of many tiles sharing one huge stream. Every
/// stream's size is read from its header (HEVC SPS, AV1 sequence header) when the file's
/// header is read; together they may exceed the declared image only by coding-block padding.
fn check_stream_sizes(ctx: &Context<'_>, item: u32, max_pixels: u64) -> Result<()> {
    // Up to 64 px of padding per side (the largest HEVC coding tree block) for each stream.
    const PADDING: u64 = 64 * 64 * 4;
    let err = |e: heic_rs::Error| Error::decode(e.to_string());
    let p = ctx.props(item).map_err(err)?;
    let (declared, streams) = match ctx.grid(item).map_err(err)? {
        None => {
            let (w, h) = ctx.coded_size(item, &p).map_err(err)?;
            (u64::from(w) * u64::from(h), vec![item])
        }
        Some((g, tiles)) => (
            u64::from(g.output_width) * u64::from(g.output_height),
            tiles,
        ),
    };
    let mut total = 0u64;
    for id in &streams {
        let p = ctx.props(*id).map_err(err)?;
        let (w, h) = stream_header(ctx, *id, &p)
            .ok_or_else(|| {
                Error::decode("cannot read the coded stream's picture size from its header")
            })?
            .size;
        total += u64::from(w) * u64::from(h);
    }
    let allowed = declared.saturating_mul(2) + PADDING * streams.len() as u64;
    if total > allowed.min(max_pixels.saturating_mul(2)) {
        return Err(Error::limit(format!(
            "its coded streams hold {total} pixels for an image of {declared}"
        )));
    }
    Ok(())
}

fn decode_tiles(
    ctx: &Context<'_>,
    tiles: &[u32],
    props: &[ItemProps<'_>],
    max_pixels: u64,
) -> std::result::Result<Vec<Frame>, String> {
    use rayon::prelude::*;
    tiles
        .par_iter()
        .zip(props.par_iter())
        .map(|(t, p)| decode_coded(ctx, *t, p, max_pixels))
        .collect()
}

/// Decodes one coded picture with the codec its item type names.
fn decode_coded(
    ctx: &Context<'_>,
    id: u32,
    p: &ItemProps<'_>,
    max_pixels: u64,
) -> std::result::Result<Frame, String> {
    let err = |e: heic_rs::Error| e.to_string();
    let data = ctx.item_data(id).map_err(err)?;
    if is_av1(ctx, id) {
        return decode_av1(&data, max_pixels);
    }
    let hvcc = p
        .hvcc
        .as_ref()
        .ok_or_else(|| "coded image has no hvcC".to_string())?;
    let nals = hvcc.split_nals(&data).map_err(err)?;
    let params = hvcc.parameter_sets();
    if params.is_empty() {
        return Err("hvcC carries no parameter sets".into());
    }
    let frame = hevc::decode_still(&params, &nals).map_err(err)?;
    frame.validate().map_err(err)?;
    Ok(frame)
}

#[cfg(not(target_arch = "wasm32"))]
fn decode_av1(data: &[u8], max_pixels: u64) -> std::result::Result<Frame, String> {
    super::av1_child::decode(data, max_pixels)
}

#[cfg(target_arch = "wasm32")]
fn decode_av1(_: &[u8], _: u64) -> std::result::Result<Frame, String> {
    // `check_item_type` refuses AV1 items in this build before anything is decoded.
    Err("AV1 is not decoded in this build".into())
}

/// An item's first coded picture: itself, or a grid's first tile (a grid's tiles come from
/// one encoder run, so the first stands for all).
fn first_coded(ctx: &Context<'_>, item: u32) -> heic_rs::Result<u32> {
    Ok(match ctx.grid(item)? {
        Some((_, tiles)) => tiles.first().copied().unwrap_or(item),
        None => item,
    })
}

/// The stream header of an item's first coded picture.
fn first_stream_header(ctx: &Context<'_>, item: u32) -> heic_rs::Result<Option<StreamHeader>> {
    let coded = first_coded(ctx, item)?;
    Ok(stream_header(ctx, coded, &ctx.props(coded)?))
}

/// Reads a coded item's stream header: the HEVC SPS from its `hvcC`, or the AV1 sequence
/// header at the head of its data. `None` when it cannot be read.
fn stream_header(ctx: &Context<'_>, id: u32, p: &ItemProps<'_>) -> Option<StreamHeader> {
    if is_av1(ctx, id) {
        return av1_header(&ctx.item_data(id).ok()?);
    }
    let sps = sps_of(p)?;
    Some(StreamHeader {
        size: sps_size(sps)?,
        bit_depth: p.hvcc.as_ref()?.bit_depth_luma,
        colour: sps_colour(sps).unwrap_or_default(),
    })
}

#[cfg(not(target_arch = "wasm32"))]
fn av1_header(data: &[u8]) -> Option<StreamHeader> {
    super::av1::sequence_header(data)
}

#[cfg(target_arch = "wasm32")]
fn av1_header(_: &[u8]) -> Option<StreamHeader> {
    None
}

/// The colour rule of libheif 1.2x with the libde265 decoder, which libavif shares for AV1
/// (its sequence header in place of the VUI; `avifCalcYUVCoefficients` also starts from
/// BT.601 for any matrix it has no entry for):
///
/// * an `nclx` `colr` on the item wins (`ImageItem::decode_image`: "If there
///   is an NCLX profile in the HEIF/AVIF metadata, use this");
/// * otherwise the decoder plugin's profile from the SPS VUI
///   (`decoder_libde265.cc`: matrix, primaries, transfer and
///   `video_full_range_flag`), with libde265's defaults when absent
///   (2/2/2, limited; matrix codes >= 11 also read as 2);
/// * the matrix is then turned into Kr/Kb by `nclx.cc` `get_Kr_Kb`, where
///   anything it has no entry for (2 = unspecified, 3, 8 handled apart, ...)
///   falls back to `YCbCr_to_RGB_coefficients::defaults()`, i.e. BT.601.
fn reference_nclx(item: Option<Nclx>, vui: StreamColour) -> std::result::Result<Nclx, String> {
    let (primaries, transfer, code, full) = match item {
        Some(n) => (
            n.primaries,
            n.transfer,
            n.matrix_code,
            n.range == Range::Full,
        ),
        None => (vui.primaries, vui.transfer, vui.matrix, vui.full_range),
    };
    let matrix = match code {
        0 => MatrixCoefficients::Identity,
        1 => MatrixCoefficients::Bt709,
        7 => MatrixCoefficients::Smpte240m,
        9 | 10 => MatrixCoefficients::Bt2020Ncl,
        // 12/13 derive Kr/Kb from the primaries; for the primaries heic-rs has
        // a matrix for, that is the same matrix. Other primaries are refused
        // rather than decoded with the wrong weights.
        12 | 13 => match primaries {
            1 => MatrixCoefficients::Bt709,
            5..=7 => MatrixCoefficients::Bt601,
            9 => MatrixCoefficients::Bt2020Ncl,
            2 => MatrixCoefficients::Bt601, // libheif: no primaries -> defaults (601)
            p => {
                return Err(format!(
                    "chromaticity-derived matrix (code {code}) with primaries {p} is not supported"
                ));
            }
        },
        8 => return Err("YCgCo matrix (code 8) is not supported".into()),
        11 | 14 => {
            return Err(format!(
                "matrix coefficients {code} (YDzDx/ICtCp) are not supported"
            ));
        }
        // 2 (unspecified), 4 (FCC, Kr .30/Kb .11, within a level of BT.601),
        // 5, 6 and anything unknown: BT.601, as libheif.
        _ => MatrixCoefficients::Bt601,
    };
    let matrix_code = match matrix {
        MatrixCoefficients::Identity => 0,
        MatrixCoefficients::Bt709 => 1,
        MatrixCoefficients::Smpte240m => 7,
        MatrixCoefficients::Bt2020Ncl => 9,
        _ => 6,
    };
    Ok(Nclx {
        primaries,
        transfer,
        matrix,
        matrix_code,
        range: if full { Range::Full } else { Range::Limited },
    })
}

/// The colour signalling of a coded picture's own stream, with libde265's defaults when
/// it cannot be read.
fn stream_colour(ctx: &Context<'_>, id: u32, p: &ItemProps<'_>) -> StreamColour {
    stream_header(ctx, id, p).map_or_else(StreamColour::default, |h| h.colour)
}

/// A coded item's SPS NAL unit (type 33), from its `hvcC`.
fn sps_of<'a>(p: &ItemProps<'a>) -> Option<&'a [u8]> {
    p.hvcc
        .as_ref()?
        .parameter_sets()
        .into_iter()
        .find(|n| n.len() > 2 && (n[0] >> 1) & 0x3f == 33)
}

/// The coded picture size an SPS NAL unit declares.
fn sps_size(nal: &[u8]) -> Option<(u32, u32)> {
    let (_, _, width, height) = sps_to_size(nal)?;
    Some((width, height))
}

/// Walks an SPS NAL unit (with its 2-byte header) up to and including the picture size.
fn sps_to_size(nal: &[u8]) -> Option<(Bits, u32, u32, u32)> {
    // Remove emulation-prevention bytes (00 00 03 -> 00 00).
    let mut rbsp = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal.get(2..)? {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        rbsp.push(b);
    }
    let mut r = Bits { data: rbsp, pos: 0 };
    r.skip(4)?; // sps_video_parameter_set_id
    let max_sub_layers_minus1 = r.u(3)?;
    r.skip(1)?; // sps_temporal_id_nesting_flag
    // profile_tier_level(1, max_sub_layers_minus1)
    r.skip(88)?; // general profile space .. general_inbld/reserved flag
    r.skip(8)?; // general_level_idc
    let mut sub_profile = [false; 8];
    let mut sub_level = [false; 8];
    for i in 0..max_sub_layers_minus1 as usize {
        sub_profile[i] = r.u(1)? == 1;
        sub_level[i] = r.u(1)? == 1;
    }
    if max_sub_layers_minus1 > 0 {
        r.skip(2 * (8 - max_sub_layers_minus1 as usize))?;
    }
    for i in 0..max_sub_layers_minus1 as usize {
        if sub_profile[i] {
            r.skip(88)?;
        }
        if sub_level[i] {
            r.skip(8)?;
        }
    }
    r.ue()?; // sps_seq_parameter_set_id
    let chroma_format_idc = r.ue()?;
    if chroma_format_idc == 3 {
        r.skip(1)?; // separate_colour_plane_flag
    }
    let width = r.ue()?; // pic_width_in_luma_samples
    let height = r.ue()?; // pic_height_in_luma_samples
    Some((r, max_sub_layers_minus1, width, height))
}

/// Read an SPS NAL unit as far as the VUI's `video_signal_type`. `None` when the SPS
/// cannot be walked.
fn sps_colour(nal: &[u8]) -> Option<StreamColour> {
    let (mut r, max_sub_layers_minus1, _, _) = sps_to_size(nal)?;
    if r.u(1)? == 1 {
        for _ in 0..4 {
            r.ue()?; // conformance window offsets
        }
    }
    r.ue()?; // bit_depth_luma_minus8
    r.ue()?; // bit_depth_chroma_minus8
    let log2_max_poc_lsb = r.ue()?.checked_add(4)?;
    let ordering_all = r.u(1)? == 1;
    let first = if ordering_all {
        0
    } else {
        max_sub_layers_minus1
    };
    for _ in first..=max_sub_layers_minus1 {
        r.ue()?;
        r.ue()?;
        r.ue()?;
    }
    for _ in 0..6 {
        r.ue()?; // min cb, diff cb, min tb, diff tb, depth inter, depth intra
    }
    if r.u(1)? == 1 && r.u(1)? == 1 {
        // scaling_list_enabled_flag && sps_scaling_list_data_present_flag
        for size_id in 0..4u32 {
            let step = if size_id == 3 { 3 } else { 1 };
            let mut matrix_id = 0;
            while matrix_id < 6 {
                if r.u(1)? == 0 {
                    r.ue()?; // scaling_list_pred_matrix_id_delta
                } else {
                    let coefs = 64.min(1u32 << (4 + (size_id << 1)));
                    if size_id > 1 {
                        r.ue()?; // scaling_list_dc_coef_minus8 (se, same length)
                    }
                    for _ in 0..coefs {
                        r.ue()?; // scaling_list_delta_coef (se, same length)
                    }
                }
                matrix_id += step;
            }
        }
    }
    r.skip(2)?; // amp_enabled_flag, sample_adaptive_offset_enabled_flag
    if r.u(1)? == 1 {
        // pcm_enabled_flag
        r.skip(8)?;
        r.ue()?;
        r.ue()?;
        r.skip(1)?;
    }
    let num_sets = r.ue()?;
    if num_sets > 64 {
        return None;
    }
    let mut num_delta_pocs: Vec<u32> = Vec::with_capacity(num_sets as usize);
    for idx in 0..num_sets {
        let inter = idx != 0 && r.u(1)? == 1;
        if inter {
            // In the SPS delta_idx_minus1 is absent: the reference is idx - 1.
            r.skip(1)?; // delta_rps_sign
            r.ue()?; // abs_delta_rps_minus1
            let ref_count = num_delta_pocs[idx as usize - 1];
            let mut n = 0;
            for _ in 0..=ref_count {
                let used = r.u(1)? == 1;
                let use_delta = if used { true } else { r.u(1)? == 1 };
                if used || use_delta {
                    n += 1;
                }
            }
            num_delta_pocs.push(n);
        } else {
            let neg = r.ue()?;
            let pos = r.ue()?;
            if neg > 16 || pos > 16 {
                return None;
            }
            for _ in 0..neg + pos {
                r.ue()?;
                r.skip(1)?;
            }
            num_delta_pocs.push(neg + pos);
        }
    }
    if r.u(1)? == 1 {
        // long_term_ref_pics_present_flag
        let n = r.ue()?;
        if n > 32 {
            return None;
        }
        for _ in 0..n {
            r.skip(log2_max_poc_lsb as usize + 1)?;
        }
    }
    r.skip(2)?; // sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag
    if r.u(1)? == 0 {
        return Some(StreamColour::default()); // no VUI
    }
    // vui_parameters()
    if r.u(1)? == 1 && r.u(8)? == 255 {
        r.skip(32)?; // sar_width, sar_height
    }
    if r.u(1)? == 1 {
        r.skip(1)?; // overscan_appropriate_flag
    }
    let mut c = StreamColour::default();
    if r.u(1)? == 1 {
        // video_signal_type_present_flag
        r.skip(3)?; // video_format
        c.full_range = r.u(1)? == 1;
        if r.u(1)? == 1 {
            // colour_description_present_flag; libde265 maps codes it does
            // not know to 2, and libheif sees only what it reports.
            let p = r.u(8)? as u16;
            let t = r.u(8)? as u16;
            let m = r.u(8)? as u16;
            c.primaries = if p == 0 || p == 3 || p >= 11 { 2 } else { p };
            c.transfer = if t == 0 || t == 3 || t >= 18 { 2 } else { t };
            c.matrix = if m >= 11 { 2 } else { m };
        }
    }
    Some(c)
}

/// A minimal MSB-first bit reader over an RBSP.
struct Bits {
    data: Vec<u8>,
    pos: usize,
}

impl Bits {
    fn u(&mut self, n: u32) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = *self.data.get(self.pos / 8)?;
            v = (v << 1) | u32::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        Some(v)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.pos = self.pos.checked_add(n)?;
        (self.pos <= self.data.len() * 8).then_some(())
    }

    /// Exp-Golomb code; `se(v)` has the same length, so it is read with this.
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.u(1)? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        Some((1u32 << zeros) - 1 + self.u(zeros)?)
    }
}

/// Stretches a limited-range alpha plane (16-235 at 8 bits) to full range.
fn alpha_to_full_range(a: &mut Frame) {
    let shift = u32::from(a.bit_depth.saturating_sub(8));
    let (low, span) = (16u32 << shift, 219u32 << shift);
    let max = (1u32 << a.bit_depth) - 1;
    for v in &mut a.y {
        let v32 = u32::from(*v).clamp(low, low + span) - low;
        *v = ((v32 * max + span / 2) / span) as u16;
    }
}
