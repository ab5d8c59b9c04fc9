//! Shared by the integration tests: where the corpus is, and its MANIFEST.tsv and ORACLE.tsv.
#![allow(dead_code)]

pub mod zip_writer;

use std::collections::HashMap;
use std::path::PathBuf;

/// The corpus lives beside the project (`../shared/corpus`) or where `IMGBATCH_CORPUS`
/// says. Tests that need it fail loudly when it is missing; they never skip.
pub fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("IMGBATCH_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "test corpus not found at {} (set IMGBATCH_CORPUS)",
        dir.display()
    );
    dir
}

/// Runs the `imgbatch` binary to the end: (exit code, stdout, stderr).
pub fn imgbatch(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_imgbatch"))
        .args(args)
        .output()
        .expect("imgbatch runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Copies a corpus file to `to`, creating its folder.
pub fn copy(from: &str, to: &std::path::Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::write(to, read(from)).unwrap();
}

pub fn read(path: &str) -> Vec<u8> {
    let full = corpus_dir().join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

/// One MANIFEST.tsv row.
#[derive(Clone, Debug)]
pub struct Entry {
    pub path: String,
    pub format: String,
    /// Stored size (before orientation), 0 where the manifest has none.
    pub width: u64,
    pub height: u64,
    pub features: Vec<String>,
    pub pillow_ok: bool,
    pub pillow_result: String,
}

impl Entry {
    pub fn has(&self, feature: &str) -> bool {
        self.features
            .iter()
            .any(|f| f == feature || f.starts_with(&format!("{feature}=")))
    }
}

fn rows(file: &str) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(corpus_dir().join(file)).expect("corpus TSV is readable");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("TSV has a header")
        .split('\t')
        .map(String::from)
        .collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split('\t').map(String::from))
                .collect()
        })
        .collect()
}

pub fn manifest() -> Vec<Entry> {
    rows("MANIFEST.tsv")
        .into_iter()
        .map(|r| Entry {
            path: r["path"].clone(),
            format: r["format"].clone(),
            width: r["width"].parse().unwrap_or(0),
            height: r["height"].parse().unwrap_or(0),
            features: r["features"].split(';').map(String::from).collect(),
            pillow_ok: r["pillow_result"] == "ok",
            pillow_result: r["pillow_result"].clone(),
        })
        .collect()
}

/// One ORACLE.tsv row: the reference decoder's upright size and 16x16 grid of cell means.
#[derive(Clone, Debug)]
pub struct Oracle {
    pub path: String,
    pub frames: u32,
    pub width: u32,
    pub height: u32,
    pub has_icc: bool,
    pub grid_raw: Grid,
    pub grid_srgb: Option<Grid>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub gx: u32,
    pub gy: u32,
    /// RGBA per cell, row-major.
    pub cells: Vec<[f64; 4]>,
}

fn parse_grid(text: &str) -> Option<Grid> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let gx = v[0].as_u64()? as u32;
    let gy = v[1].as_u64()? as u32;
    let values: Vec<f64> = v[2]
        .as_array()?
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect();
    let cells = values
        .chunks_exact(4)
        .map(|c| [c[0], c[1], c[2], c[3]])
        .collect();
    Some(Grid { gx, gy, cells })
}

pub fn oracle() -> Vec<Oracle> {
    rows("ORACLE.tsv")
        .into_iter()
        .map(|r| Oracle {
            path: r["path"].clone(),
            frames: r["frames"].parse().unwrap_or(1),
            width: r["width"].parse().expect("oracle width"),
            height: r["height"].parse().expect("oracle height"),
            has_icc: r["has_icc"] == "1",
            grid_raw: parse_grid(&r["grid_raw"]).expect("oracle grid_raw parses"),
            grid_srgb: parse_grid(&r["grid_srgb"]),
        })
        .collect()
}

/// The grid of our pixels, cut exactly as ORACLE.tsv's README says.
pub fn grid_of(px: &imgbatch::Pixels, gx: u32, gy: u32) -> Grid {
    let (w, h) = (px.width as u64, px.height as u64);
    let n = px.channels();
    let mut cells = Vec::with_capacity((gx * gy) as usize);
    for j in 0..gy as u64 {
        for i in 0..gx as u64 {
            let (x0, x1) = (i * w / gx as u64, (i + 1) * w / gx as u64);
            let (y0, y1) = (j * h / gy as u64, (j + 1) * h / gy as u64);
            let mut sum = [0f64; 4];
            let mut count = 0f64;
            for y in y0..y1 {
                for x in x0..x1 {
                    let at = ((y * w + x) as usize) * n;
                    let p = &px.data[at..at + n];
                    sum[0] += p[0] as f64;
                    sum[1] += p[1] as f64;
                    sum[2] += p[2] as f64;
                    sum[3] += if n == 4 { p[3] as f64 } else { 255.0 };
                    count += 1.0;
                }
            }
            cells.push(sum.map(|s| {
                if count > 0.0 {
                    (s / count).round()
                } else {
                    0.0
                }
            }));
        }
    }
    Grid { gx, gy, cells }
}

/// Mean and worst per-channel difference between two grids.
pub fn grid_distance(a: &Grid, b: &Grid) -> (f64, f64) {
    let diffs: Vec<f64> = a
        .cells
        .iter()
        .zip(&b.cells)
        .flat_map(|(x, y)| (0..4).map(move |c| (x[c] - y[c]).abs()))
        .collect();
    let mean = diffs.iter().sum::<f64>() / diffs.len().max(1) as f64;
    let max = diffs.iter().cloned().fold(0.0, f64::max);
    (mean, max)
}

/// Our name for a MANIFEST.tsv format column, or None when it is not an image format we
/// know (PSD, XCF, camera raw, ...).
pub fn format_of(entry: &Entry) -> Option<imgbatch::Format> {
    use imgbatch::Format as F;
    Some(match entry.format.as_str() {
        "JPEG" | "MPO(JPEG)" => F::Jpeg,
        "PNG" | "APNG" => F::Png,
        "GIF" => F::Gif,
        "WEBP" => F::WebP,
        "TIFF" | "BIGTIFF" => F::Tiff,
        "BMP" => F::Bmp,
        "ICO" | "CUR" => F::Ico,
        "TGA" => F::Tga,
        "PNM" => F::Pnm,
        "QOI" => F::Qoi,
        "HDR" => F::Hdr,
        "EXR" => F::OpenExr,
        "AVIF" => F::Avif,
        "HEIF" => F::Heic,
        "JXL" => F::Jxl,
        _ => return None,
    })
}

/// Files the reference decoder (Pillow + libjpeg-turbo et al.) reads that we do not, each
/// with the reason. The test fails if one of these starts converting, so the list stays true.
pub const KNOWN_GAPS: &[(&str, &str)] = &[
    (
        "libavif/io/cosmos1650_yuv444_10bpc_p3pq.avif",
        "AVIF with a chromaticity-derived matrix (12) on Display P3 primaries: heic-rs's YCbCr converter has fixed matrices only, and none for P3",
    ),
    (
        "nokiatech-heif/overlay_grid_alpha/alpha_1440x960.heic",
        HEIF_OVERLAY,
    ),
    (
        "nokiatech-heif/overlay_grid_alpha/overlay_1000x680.heic",
        HEIF_OVERLAY,
    ),
    ("exiftool/GeoTiff.tif", TIFF_PALETTE),
    ("pillow/multipage.tiff", TIFF_PALETTE),
    ("pillow/multipage-lastframe.tif", TIFF_PALETTE),
    (
        "image-rs/images/tiff/testsuite/ycbcr_jpeg_8bit.tif",
        TIFF_YCBCR,
    ),
    (
        "image-rs/images/tiff/testsuite/ycbcr_lzw_broken.tif",
        TIFF_YCBCR,
    ),
    (
        "image-rs/images/tiff/testsuite/ycbcr_lzw_bt709.tif",
        TIFF_YCBCR,
    ),
    ("pillow/tiff_strip_ycbcr_jpeg_2x2_sampling.tif", TIFF_YCBCR),
    (
        "pillow/old-style-jpeg-compression.tif",
        "tiff crate: old-style (6) JPEG-in-TIFF is not supported",
    ),
    ("pillow/hopper.Lab.tif", TIFF_LAB),
    ("pillow/lab.tif", TIFF_LAB),
    (
        "pillow/12bit.cropped.tif",
        "tiff crate: 12-bit samples are not supported",
    ),
    (
        "pillow/hopper_gray_4bpp.tif",
        "tiff crate: 4-bit grayscale is not supported",
    ),
    (
        "pillow/hopper_lzma.tif",
        "tiff crate: LZMA compression is not supported",
    ),
    (
        "pillow/total-pages-zero.tif",
        "tiff crate: CCITT Fax3 compression is not supported",
    ),
    (
        "pillow/g4-fillorder-test.tif",
        "tiff crate: CCITT G4 with FillOrder=2 decodes short",
    ),
    (
        "pillow/separate_planar_extra_samples.tiff",
        "tiff crate: planar 2-sample (gray+extra) layout is not supported",
    ),
    (
        "image-rs/regression/tiff/clusterfuzz-testcase-minimized-fuzzer_script_tiff-5026894169374720.tif",
        "tiff crate: the JPEG strip inside declares 52502 rows, over its internal 16384 limit",
    ),
    (
        "libjpeg-turbo/testimages/testimgari.jpg",
        "zune-jpeg: arithmetic-coded JPEG is not supported",
    ),
    (
        "jpeg-decoder/reftest/images/lossless/1/jpeg_lossless_sel1-8bit.jpg",
        "zune-jpeg: lossless (SOF3) JPEG is not supported",
    ),
    (
        "pillow/truncated_app14.jpg",
        "zune-jpeg: rejects a truncated APP14 (Adobe) segment that libjpeg skips",
    ),
    (
        "image-rs/images/bmp/images/lenient/badplanes.bmp",
        BMP_STRICT,
    ),
    ("image-rs/images/bmp/images/lenient/badrle.bmp", BMP_STRICT),
    (
        "image-rs/images/bmp/images/lenient/rletopdown.bmp",
        BMP_STRICT,
    ),
    ("pillow/bmp/b/badplanes.bmp", BMP_STRICT),
    ("pillow/bmp/b/badrle.bmp", BMP_STRICT),
    ("pillow/bmp/b/rletopdown.bmp", BMP_STRICT),
    (
        "pillow/bmp/q/pal8os2v2.bmp",
        "image-rs: OS/2 v2 BMP header (64 bytes) is not supported",
    ),
    ("image-rs/images/ico/images/png_rgb8.ico", ICO_PNG),
    ("image-rs/images/ico/images/png_l8.ico", ICO_PNG),
    (
        "image-rs/images/ico/images/truncated_mask_32bpp.ico",
        ICO_STRICT,
    ),
    (
        "image-rs/bad/ico/Bad_smile-incorrect-image-length.ico",
        ICO_STRICT,
    ),
    ("image-rs/images/ico/images/lenient-bpp.ico", ICO_STRICT),
    (
        "pillow/no_palette.gif",
        "gif crate: a frame with no colour table is refused (Pillow assumes a grey palette)",
    ),
    (
        "pngsuite/png/xcsn0g01.png",
        "png crate: a bad IDAT CRC is fatal (Pillow ignores CRCs); PngSuite marks the file corrupt",
    ),
];

pub const HEIF_OVERLAY: &str =
    "heic-rs: the primary image is an overlay (iovl) derived image, refused as unsupported";
pub const TIFF_PALETTE: &str = "tiff crate: palette (RGBPalette) TIFF is not supported";
pub const TIFF_YCBCR: &str = "tiff crate: YCbCr photometric TIFF is not supported";
pub const TIFF_LAB: &str = "tiff crate: CIELab TIFF is not supported";
pub const BMP_STRICT: &str =
    "image-rs: refuses malformed BMP headers or RLE data that Pillow tolerates";
pub const ICO_PNG: &str = "image-rs: PNG-in-ICO must be RGBA; this one is RGB or grey";
pub const ICO_STRICT: &str =
    "image-rs: refuses a damaged ICO directory entry that Pillow tolerates";

/// The EXIF block of a JPEG, as stored (it may start with `Exif\0\0`).
pub fn jpeg_exif(jpeg: &[u8]) -> Option<Vec<u8>> {
    use image::ImageDecoder;
    let mut decoder = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(jpeg)).ok()?;
    decoder.exif_metadata().ok().flatten()
}

/// The XMP packet of a JPEG.
pub fn jpeg_xmp(jpeg: &[u8]) -> Option<Vec<u8>> {
    use image::ImageDecoder;
    let mut decoder = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(jpeg)).ok()?;
    decoder.xmp_metadata().ok().flatten()
}

/// Up to `n` distinct real camera photos of at least 1 MP (JPEG with EXIF), corpus paths.
pub fn photos(n: usize) -> Vec<String> {
    let photos: Vec<String> = manifest()
        .into_iter()
        .filter(|e| e.format == "JPEG" && e.width * e.height >= 1_000_000 && e.has("exif"))
        .filter(|e| !e.path.starts_with("exif-orientation-examples/"))
        .map(|e| e.path)
        .take(n)
        .collect();
    assert!(
        photos.len() >= n.min(6),
        "{} photos in the corpus",
        photos.len()
    );
    photos
}

/// `n` real photos brought down to a 1024 px long edge in sRGB and written as PNG: sources
/// for encoder tests, small enough to encode many times. Returns (corpus path, PNG bytes).
pub fn photo_sources(n: usize) -> Vec<(String, Vec<u8>)> {
    let job = imgbatch::Job {
        sizes: vec![imgbatch::ResizeSpec::LongEdge { px: 1024 }],
        color: imgbatch::ColorPolicy::Srgb,
        ..imgbatch::Job::new(imgbatch::Format::Png)
    };
    photos(n)
        .into_iter()
        .map(|path| {
            let png = imgbatch::convert(&read(&path), &job)
                .unwrap()
                .remove(0)
                .bytes;
            (path, png)
        })
        .collect()
}

/// Peak signal-to-noise ratio in dB over every sample of two same-layout images.
pub fn psnr(a: &imgbatch::Pixels, b: &imgbatch::Pixels) -> f64 {
    let mse = mean_per_sample(a, b, |d| d * d);
    if mse == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (255.0 * 255.0 / mse).log10()
}

/// Decodes with Pillow (libavif with dav1d among others; the tests' venv, which scripts/test
/// creates) into a PNG, RGBA when the image has alpha, then reads that PNG: an independent
/// decoder, and the only one here for AVIF.
pub fn pillow_decode(bytes: &[u8], extension: &str) -> imgbatch::Pixels {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join(format!("in.{extension}"));
    let output = dir.path().join("out.png");
    std::fs::write(&input, bytes).unwrap();
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let script = "import sys; from PIL import Image\n\
                  im = Image.open(sys.argv[1])\n\
                  im.convert('RGBA' if 'A' in im.getbands() else 'RGB').save(sys.argv[2])";
    let result = std::process::Command::new(&python)
        .args(["-c", script])
        .arg(&input)
        .arg(&output)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}; scripts/test creates the venv", python.display()));
    assert!(
        result.status.success(),
        "Pillow could not read our {extension}: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    imgbatch::decode_upright(
        &std::fs::read(&output).unwrap(),
        &imgbatch::Limits::default(),
    )
    .unwrap()
}

/// Mean absolute difference per sample between two images of the same layout.
pub fn mean_difference(a: &imgbatch::Pixels, b: &imgbatch::Pixels) -> f64 {
    mean_per_sample(a, b, f64::abs)
}

/// The mean of `f` over the differences of every pair of samples of two same-layout images.
fn mean_per_sample(a: &imgbatch::Pixels, b: &imgbatch::Pixels, f: impl Fn(f64) -> f64) -> f64 {
    assert_eq!(
        (a.width, a.height, a.channels()),
        (b.width, b.height, b.channels())
    );
    let total: f64 = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| f(f64::from(*x) - f64::from(*y)))
        .sum();
    total / a.data.len() as f64
}

/// A 64x64 gradient whose alpha runs from clear to opaque, for transparency round trips.
pub fn alpha_ramp() -> imgbatch::Pixels {
    let (width, height) = (64u32, 64u32);
    let data = (0..width * height)
        .flat_map(|i| [200, (i % width * 4) as u8, 60, (i / width * 4) as u8])
        .collect();
    imgbatch::Pixels {
        width,
        height,
        has_alpha: true,
        data,
    }
}

/// The largest difference in alpha between two RGBA images of the same size.
pub fn max_alpha_error(a: &imgbatch::Pixels, b: &imgbatch::Pixels) -> u8 {
    assert!(b.has_alpha, "the alpha plane was lost");
    a.data
        .chunks_exact(4)
        .zip(b.data.chunks_exact(4))
        .map(|(a, b)| a[3].abs_diff(b[3]))
        .max()
        .unwrap()
}
