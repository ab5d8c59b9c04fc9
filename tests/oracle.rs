//! Golden comparison against an independent decoder (ORACLE.tsv): for every oracle row in a
//! format we decode, our upright first frame has the reference size and a 16x16 grid of
//! cell means within tolerance of `grid_raw`.
//!
//! Tolerance: the mean difference over all cells and channels must be at most 2 levels, and
//! no cell channel may be more than 12 levels off. JPEG decoders legitimately differ in IDCT
//! rounding and chroma upsampling (zune-jpeg vs libjpeg-turbo), which moves cell means by a
//! level or two and edge-heavy cells in tiny images by up to ~10. A wrong orientation, swapped
//! channels or a missing CMYK inversion moves the mean by tens of levels.

mod common;

use rayon::prelude::*;

/// Mean and worst cell difference when matching, or why not.
type Verdict = Result<(f64, f64), String>;

const MEAN_TOLERANCE: f64 = 2.0;
const CELL_TOLERANCE: f64 = 12.0;

/// Oracle rows whose pixels we knowingly differ on, with the reason (files we cannot decode
/// at all are in `common::KNOWN_GAPS`). The test fails if one starts matching.
const KNOWN_MISSES: &[(&str, &str)] = &[
    ("link-u-avif/kimono.crop.avif", AVIF_CLAP),
    (
        "link-u-avif/kimono.mirror-vertical.rotate270.crop.avif",
        AVIF_CLAP,
    ),
    (
        "libavif/extended_pixi.avif",
        "4x4 AVIF in 4:2:0: every pixel is a chroma edge, and heic-rs's bilinear chroma upsampling differs from libyuv's there (photos match within a level)",
    ),
    ("image-rs/images/png/transparency/tbbn0g04.png", GREY_TRNS),
    ("pngsuite/png/tbbn0g04.png", GREY_TRNS),
    ("pngsuite/png/tbwn0g16.png", GREY_TRNS),
    ("pillow/1_trns.png", GREY_TRNS),
    ("pillow/i_trns.png", GREY_TRNS),
    (
        "image-rs/images/bmp/images/V3_A1_R5_G5_B5.bmp",
        BMP_ALPHA_BIT,
    ),
    (
        "image-rs/images/bmp/images/V3_A1_R5_G5_B5_Top_Down.bmp",
        BMP_ALPHA_BIT,
    ),
    (
        "image-rs/images/bmp/images/V5_A1_R5_G5_B5.bmp",
        BMP_ALPHA_BIT,
    ),
    ("image-rs/images/bmp/images/pal4rletrns.bmp", BMP_RLE_SKIP),
    ("pillow/bmp/q/pal4rletrns.bmp", BMP_RLE_SKIP),
    ("pillow/bmp/q/pal8rletrns.bmp", BMP_RLE_SKIP),
    (
        "image-rs/images/gif/anim/border_touching_layers.gif",
        GIF_CANVAS,
    ),
    (
        "image-rs/images/gif/anim/issue_1455_undersized.gif",
        GIF_CANVAS,
    ),
    (
        "image-rs/images/gif/anim/large-gif-anim-combine.gif",
        GIF_CANVAS,
    ),
    ("image-rs/images/gif/anim/oob.gif", GIF_CANVAS),
    (
        "image-rs/images/gif/simple/issue_1455_oversized.gif",
        GIF_CANVAS,
    ),
    ("pillow/first_frame_transparency.gif", GIF_CANVAS),
    (
        "image-rs/images/webp/extended_images/anim.webp",
        "animated WebP: first frame composited on the canvas differently from the reference",
    ),
    (
        "image-rs/images/ico/images/multiple_entries_with_different_bit_depth.ico",
        ICO_ENTRY,
    ),
    (
        "image-rs/images/ico/images/two-entry-order-test.ico",
        ICO_ENTRY,
    ),
    ("image-rs/images/ico/images/bmp_v5_with_icc.ico", ICO_ENTRY),
    (
        "image-rs/images/ico/images/bmp-32bpp-conflicting-and-mask.ico",
        "ICO: image-rs applies the AND mask over 32-bit alpha, the reference does not",
    ),
    (
        "image-rs/images/tga/testsuite/b5-attrib.tga",
        "TGA attribute bits: image-rs reads them as alpha, the reference ignores them",
    ),
    ("exif-samples/jpg/corrupted.jpg", JPEG_DAMAGED),
    (
        "jpeg-decoder/crashtest/images/dc-predictor-overflow.jpg",
        JPEG_DAMAGED,
    ),
    (
        "jpeg-decoder/crashtest/images/subtract-with-overflow.jpg",
        JPEG_DAMAGED,
    ),
    (
        "jpeg-decoder/reftest/images/mozilla/jpg-size-2x2.jpg",
        JPEG_TINY,
    ),
    (
        "jpeg-decoder/reftest/images/mozilla/jpg-size-3x3.jpg",
        JPEG_TINY,
    ),
    (
        "jpeg-decoder/reftest/images/mozilla/jpg-size-4x4.jpg",
        JPEG_TINY,
    ),
    (
        "libjxl-testdata/jxl/flower/flower_small.q85_420_non_interleaved.jpg",
        "zune-jpeg bug: non-interleaved 4:2:0 scans decode to garbage",
    ),
    (
        "pillow/hopper_bad_exif.jpg",
        "zune-jpeg bug: this greyscale JPEG with restart markers decodes to flat blocks",
    ),
    ("libjxl-conformance/grayscale/input.jxl", JXL_LINEAR),
    ("libjxl-conformance/patches/input.jxl", JXL_LINEAR),
    ("libjxl-conformance/progressive/input.jxl", JXL_LINEAR),
    (
        "nokiatech-heif/overlay_grid_alpha/grid_960x640.heic",
        "we convert the primary item (pitm) as the HEIF spec says; the reference's first frame is the file's first top-level item, a different image",
    ),
    (
        "libjxl-conformance/cmyk_layers/input.jxl",
        "CMYK JPEG XL: jxl-oxide renders it to sRGB through its SWOP profile; the reference's raw grid is a naive CMYK (and it has no sRGB grid)",
    ),
    (
        "pillow/exif_imagemagick_orientation.png",
        "mean 2.5 levels off (worst 11) on a 512 px PNG with gAMA/cHRM; not yet explained",
    ),
];

/// Rows we knowingly differ on in both grids, raw and sRGB.
const KNOWN_MISSES_IN_BOTH: &[(&str, &str)] = &[
    (
        "pillow/avif/xmp_tags_orientation.avif",
        "AVIF with an XMP orientation (3) and no irot: we turn it only by its irot/imir, as MIAF says and browsers do; the reference applies the XMP tag",
    ),
    (
        "libjxl-conformance/animation_icos4d/input.jxl",
        JXL_ANIMATION,
    ),
    (
        "libjxl-conformance/animation_newtons_cradle/input.jxl",
        JXL_ANIMATION,
    ),
    (
        "libjxl-conformance/animation_spline/input.jxl",
        JXL_ANIMATION,
    ),
    (
        "libjxl-testdata/jxl/blending/cropped_traffic_light.jxl",
        JXL_ANIMATION,
    ),
    (
        "pillow/tiff_16bit_RGBa.tiff",
        "16-bit associated alpha: we un-premultiply at 16 bits, the reference after reducing to 8; near-transparent cells differ (mean 1.8)",
    ),
];

/// Profiled rows whose sRGB conversion we knowingly differ on, with the reason.
const KNOWN_SRGB_MISSES: &[(&str, &str)] = &[
    (
        "libjxl-testdata/jxl/hdr_room.png",
        "HLG (HDR) profile: moxcms and the reference's lcms map HLG to SDR differently (mean 11.5); neither tone-maps",
    ),
    (
        "libjxl-testdata/external/wesaturate/64px/vgqcws_vin_709_g1.png",
        "16-bit linear Rec.709 profile: converted at 16 bits, still 2.1 levels (worst 6) from lcms in the darkest cells",
    ),
];

const AVIF_CLAP: &str = "AVIF with a clean aperture (`clap`): we crop to it, as MIAF requires; the reference's AVIF plugin ignores `clap`";
const JXL_ANIMATION: &str =
    "animated JPEG XL: jxl-oxide's first keyframe is not the frame the reference shows first";
const JXL_LINEAR: &str = "linear-light JPEG XL: jxl-oxide renders gamma-encoded samples with a matching profile, the reference raw linear ones; the sRGB grids match";

const GREY_TRNS: &str =
    "reference keeps grey+tRNS PNGs opaque; we honour tRNS as the PNG spec says";
const BMP_ALPHA_BIT: &str =
    "16-bit BMP with a 1-bit alpha mask: image-rs honours it, the reference ignores it";
const BMP_RLE_SKIP: &str =
    "RLE BMP delta-skipped pixels: image-rs leaves them transparent, the reference fills them";
const GIF_CANVAS: &str = "GIF first frame: image-rs and the reference size and fill the logical-screen canvas differently";
const ICO_ENTRY: &str =
    "ICO with several entries: image-rs picks a different entry than the reference";
const JPEG_DAMAGED: &str = "damaged JPEG: error concealment differs between decoders";
const JPEG_TINY: &str =
    "2-4 px JPEG: chroma upsampling at the edge differs (zune-jpeg vs libjpeg-turbo)";

#[test]
fn decoded_pixels_match_the_reference_decoder() {
    let oracle = common::oracle();
    assert!(oracle.len() > 500, "oracle looks incomplete");
    let rows = oracle.iter().map(|row| (row, &row.grid_raw)).collect();
    check_against_oracle(rows, imgbatch::decode_upright, KNOWN_MISSES);
}

/// Every oracle row with an embedded ICC profile (Display P3, Adobe RGB, CMYK press
/// profiles, grey gammas), decoded with the profile converted to sRGB, matches the
/// reference's own conversion (`grid_srgb`).
#[test]
fn colour_managed_files_match_the_reference_in_srgb() {
    let oracle = common::oracle();
    let rows: Vec<_> = oracle
        .iter()
        .filter(|row| row.has_icc)
        .filter_map(|row| Some((row, row.grid_srgb.as_ref()?)))
        .collect();
    assert!(rows.len() > 40, "oracle has too few profiled rows");
    check_against_oracle(rows, imgbatch::decode_upright_srgb, KNOWN_SRGB_MISSES);
}

/// Decodes every row whose format this build reads and compares it with its grid; rows that
/// miss must be listed with a reason (in `known`, `KNOWN_MISSES_IN_BOTH` or
/// `common::KNOWN_GAPS`), and listed rows
/// that now match must be taken off the list.
fn check_against_oracle(
    rows: Vec<(&common::Oracle, &common::Grid)>,
    decode: fn(&[u8], &imgbatch::Limits) -> imgbatch::Result<imgbatch::Pixels>,
    known: &[(&str, &str)],
) {
    let manifest = common::manifest();
    let results: Vec<(String, Verdict)> = rows
        .par_iter()
        .filter_map(|(row, grid)| {
            let entry = manifest.iter().find(|e| e.path == row.path)?;
            let format = common::format_of(entry)?;
            if !format.info().can_decode {
                return None;
            }
            let bytes = common::read(&row.path);
            let outcome = match decode(&bytes, &imgbatch::Limits::default()) {
                Err(e) => Err(format!("does not decode ({}): {}", e.code(), e.message())),
                Ok(px) if (px.width, px.height) != (row.width, row.height) => Err(format!(
                    "size {}x{}, reference {}x{}",
                    px.width, px.height, row.width, row.height
                )),
                Ok(px) => {
                    let ours = common::grid_of(&px, grid.gx, grid.gy);
                    let (mean, max) = common::grid_distance(&ours, grid);
                    if mean <= MEAN_TOLERANCE && max <= CELL_TOLERANCE {
                        Ok((mean, max))
                    } else {
                        Err(format!("grid off by mean {mean:.2}, worst cell {max}"))
                    }
                }
            };
            Some((row.path.clone(), outcome))
        })
        .collect();

    let matched = results.iter().filter(|(_, r)| r.is_ok()).count();
    let worst_mean = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .map(|(m, _)| *m)
        .fold(0.0, f64::max);
    println!(
        "oracle: {matched} of {} rows match (worst matching mean {worst_mean:.2})",
        results.len()
    );
    let mut unexpected = Vec::new();
    for (path, outcome) in &results {
        let known = known
            .iter()
            .chain(KNOWN_MISSES_IN_BOTH)
            .chain(common::KNOWN_GAPS)
            .find(|(p, _)| p == path);
        match (outcome, known) {
            (Err(why), None) => unexpected.push(format!("{path}: {why}")),
            (Ok(_), Some(_)) => unexpected.push(format!(
                "{path}: listed as a known miss but now matches; remove it"
            )),
            (Err(why), Some((_, reason))) => println!("known miss: {path}: {reason} ({why})"),
            (Ok(_), None) => {}
        }
    }
    assert!(
        unexpected.is_empty(),
        "{} oracle mismatches:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}
