//! The HEIF container adapter: walks the item graph heic-rs parses (primary item, grid
//! tiles, alpha items, `irot`/`imir`, EXIF) and hands each coded picture to the codec its
//! item type names, HEVC through heic-rs or AV1 through rav1d.

use heic_rs::context::Context;
use heic_rs::ftyp::{Brand, FileType};
use heic_rs::grid;
use heic_rs::hevc::{self, Frame};
use heic_rs::props::ItemProps;
use heic_rs::{Mirror, Nclx, Transform};

use super::colour::{alpha_to_full_range, reference_nclx};
use super::sps;
use crate::codecs::stream::{StreamColour, StreamHeader};
use crate::error::{Error, Result};
use crate::format::Format;

/// Parses the container. heic-rs's own `Context::open` refuses AVIF by its brand, because
/// heic-rs decodes HEVC only; the boxes are the same, so AVIF is opened without that check.
pub(super) fn open_container(bytes: &[u8], format: Format) -> heic_rs::Result<Context<'_>> {
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

/// An item's EXIF as a TIFF structure; EXIF that cannot be read is left out, like any
/// other unreadable metadata.
pub(super) fn exif_of(ctx: &Context<'_>, id: u32) -> Option<Vec<u8>> {
    let item = ctx.exif_item(id)?;
    let data = ctx.item_data(item).ok()?;
    heic_rs::metadata::exif_tiff(&data).ok().map(<[u8]>::to_vec)
}

/// Where an image's alpha plane is.
pub(super) enum Alpha {
    /// An auxiliary item for the whole image (itself possibly a grid).
    Item(u32),
    /// A grid whose every tile has its own alpha item, as libavif can write; composed on
    /// the colour grid's layout.
    PerTile(heic_rs::Grid, Vec<u32>),
}

pub(super) fn alpha_of(ctx: &Context<'_>, id: u32) -> heic_rs::Result<Option<Alpha>> {
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
pub(super) fn decode_alpha(
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
pub(super) fn reference_transforms(p: &ItemProps<'_>) -> Vec<Transform> {
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
pub(super) fn decode_item(
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
pub(super) fn check_item_type(t: &[u8; 4], what: &str) -> std::result::Result<(), String> {
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
pub(super) fn check_stream_sizes(ctx: &Context<'_>, item: u32, max_pixels: u64) -> Result<()> {
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
    crate::codecs::av1_child::decode(data, max_pixels)
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
pub(super) fn first_stream_header(
    ctx: &Context<'_>,
    item: u32,
) -> heic_rs::Result<Option<StreamHeader>> {
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
        size: sps::size(sps)?,
        bit_depth: p.hvcc.as_ref()?.bit_depth_luma,
        colour: sps::colour(sps).unwrap_or_default(),
    })
}

#[cfg(not(target_arch = "wasm32"))]
fn av1_header(data: &[u8]) -> Option<StreamHeader> {
    crate::codecs::av1::sequence_header(data)
}

#[cfg(target_arch = "wasm32")]
fn av1_header(_: &[u8]) -> Option<StreamHeader> {
    None
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
