//! 16-bit sources stay 16-bit into the outputs that hold 16 bits (PNG, TIFF), through
//! resizing and padding; 10- and 12-bit AVIF come out with their extra precision; 8-bit
//! sources are not widened; every other output gets 8 bits; and the memory estimate counts
//! the wider samples. Outputs are read back with image-rs's PNG and TIFF decoders.

mod common;

use image::{DynamicImage, ImageBuffer, Rgb, Rgba};
use imgbatch::{Format, Job, Limits, ResizeSpec};

fn read_back(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).expect("our output does not decode")
}

fn is_sixteen_bit(image: &DynamicImage) -> bool {
    matches!(
        image,
        DynamicImage::ImageRgb16(_) | DynamicImage::ImageRgba16(_)
    )
}

/// RGB or RGBA samples at 16 bits, alpha only when the image has it.
fn samples16(image: &DynamicImage) -> Vec<u16> {
    if image.color().has_alpha() {
        image.to_rgba16().into_raw()
    } else {
        image.to_rgb16().into_raw()
    }
}

/// The 16-bit PNG and TIFF files in the corpus that image-rs reads at 16 bits, with no
/// orientation tag, no colour profile and straight alpha, so a lossless 16-bit output must
/// hold exactly the samples image-rs reads from the source.
fn plain_sixteen_bit_sources() -> Vec<(String, DynamicImage)> {
    common::manifest()
        .into_iter()
        .filter(|e| e.has("16bit") && matches!(e.format.as_str(), "PNG" | "TIFF"))
        .filter(|e| !e.has("icc") && !e.features.iter().any(|f| f.contains("orientation")))
        .filter_map(|e| {
            let bytes = common::read(&e.path);
            let image = image::load_from_memory(&bytes).ok()?;
            let sixteen = matches!(
                image,
                DynamicImage::ImageLuma16(_)
                    | DynamicImage::ImageLumaA16(_)
                    | DynamicImage::ImageRgb16(_)
                    | DynamicImage::ImageRgba16(_)
            );
            let associated = e.has("associated-alpha") || e.path.contains("RGBa");
            (sixteen && !associated).then_some((e.path, image))
        })
        .collect()
}

#[test]
fn sixteen_bit_sources_stay_sixteen_bit_in_png_and_tiff() {
    let sources = plain_sixteen_bit_sources();
    assert!(sources.len() >= 15, "only {} sources", sources.len());
    for format in [Format::Png, Format::Tiff] {
        for (path, source) in &sources {
            let bytes = common::read(path);
            let out = imgbatch::convert(&bytes, &Job::new(format))
                .unwrap_or_else(|e| panic!("{path} to {format}: {e}"))
                .remove(0);
            let back = read_back(&out.bytes);
            assert!(
                is_sixteen_bit(&back),
                "{path} to {format}: written as {:?}",
                back.color()
            );
            // An alpha channel that is opaque everywhere is dropped, so compare what is left.
            let expected = if back.color().has_alpha() {
                source.to_rgba16().into_raw()
            } else {
                source.to_rgb16().into_raw()
            };
            assert!(
                samples16(&back) == expected,
                "{path} to {format}: the samples changed"
            );
        }
    }
}

/// A 4096 px ramp, so every 8-bit level holds 16 distinct 16-bit ones, with a soft alpha.
fn ramp16() -> Vec<u8> {
    let image = ImageBuffer::from_fn(4096, 8, |x, y| {
        let v = (x * 16) as u16;
        Rgba([v, 65535 - v, (y * 8000) as u16, 65535 - (x * 8) as u16])
    });
    let mut png = Vec::new();
    DynamicImage::ImageRgba16(image)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

#[test]
fn resized_and_padded_sixteen_bit_outputs_keep_sixteen_bits() {
    let png = ramp16();
    let mut job = Job::new(Format::Png);
    job.sizes = vec!["1000x10:contain".parse::<ResizeSpec>().unwrap()];
    job.background = imgbatch::Rgb([10, 20, 30]);
    let out = imgbatch::convert(&png, &job).unwrap().remove(0);
    let DynamicImage::ImageRgba16(back) = read_back(&out.bytes) else {
        panic!("not written as 16-bit RGBA");
    };
    assert_eq!(back.dimensions(), (1000, 10));
    // 4096 px shrink to 1000 x 2: the rows above and below are padding, opaque background.
    assert_eq!(
        back.get_pixel(500, 0).0,
        [10 * 257, 20 * 257, 30 * 257, 65535]
    );
    let row: Vec<u16> = (0..1000).map(|x| back.get_pixel(x, 5).0[0]).collect();
    let mut levels = row.clone();
    levels.sort_unstable();
    levels.dedup();
    assert!(levels.len() > 900, "only {} red levels", levels.len());
    assert!(
        row.iter().any(|v| v % 257 != 0),
        "every sample is an 8-bit level widened"
    );
    // The same resize at 8 bits agrees to within a level.
    let source8 = imgbatch::decode_upright(&png, &Limits::default()).unwrap();
    assert!(source8.has_alpha);
    let eight = imgbatch::convert_pixels(&source8, &job).unwrap().remove(0);
    let back8 = read_back(&eight.bytes).to_rgba8();
    let worst = back
        .pixels()
        .zip(back8.pixels())
        .flat_map(|(a, b)| (0..4).map(move |c| (i32::from(a[c]) / 257 - i32::from(b[c])).abs()))
        .max()
        .unwrap();
    assert!(
        worst <= 2,
        "16-bit and 8-bit resizes differ by {worst} levels"
    );
}

/// The oracle's tolerances (tests/oracle.rs): mean and worst cell of the 16x16 grid.
const GRID_MEAN_TOLERANCE: f64 = 2.0;
const GRID_CELL_TOLERANCE: f64 = 12.0;

#[test]
fn ten_and_twelve_bit_avif_keep_their_precision_and_match_libavif() {
    let oracle = common::oracle();
    let mut checked = 0;
    for entry in common::manifest()
        .into_iter()
        .filter(|e| e.format == "AVIF" && (e.has("10bit") || e.has("12bit")))
        .filter(|e| !common::KNOWN_GAPS.iter().any(|(path, _)| *path == e.path))
    {
        let bytes = common::read(&entry.path);
        // Broken and unsupported files are the corpus sweep's and the oracle's business.
        if imgbatch::inspect(&bytes, &Limits::default()).is_err() {
            continue;
        }
        let Some(reference) = oracle.iter().find(|o| o.path == entry.path) else {
            continue;
        };
        let out = imgbatch::convert(&bytes, &Job::new(Format::Png))
            .unwrap_or_else(|e| panic!("{}: {e}", entry.path))
            .remove(0);
        let back = read_back(&out.bytes);
        assert!(is_sixteen_bit(&back), "{}: written at 8 bits", entry.path);
        let samples = samples16(&back);
        assert!(
            samples.iter().any(|v| v % 257 != 0),
            "{}: no precision beyond 8 bits",
            entry.path
        );
        // The 16-bit samples, rounded to 8 bits, are the picture libavif decodes. Under
        // `keep` the pixels stay as decoded, which is the oracle's raw grid.
        let rounded = imgbatch::Pixels {
            width: back.width(),
            height: back.height(),
            has_alpha: back.color().has_alpha(),
            data: samples
                .iter()
                .map(|&v| ((u32::from(v) * 255 + 32767) / 65535) as u8)
                .collect(),
        };
        let grid = &reference.grid_raw;
        let ours = common::grid_of(&rounded, grid.gx, grid.gy);
        let (mean, worst) = common::grid_distance(&ours, grid);
        assert!(
            mean <= GRID_MEAN_TOLERANCE && worst <= GRID_CELL_TOLERANCE,
            "{}: grid off by mean {mean:.2}, worst cell {worst}",
            entry.path
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} deep AVIFs checked");
}

#[test]
fn premultiplied_sixteen_bit_tiff_is_kept_with_straight_alpha() {
    let path = "pillow/tiff_16bit_RGBa.tiff";
    let bytes = common::read(path);
    let DynamicImage::ImageRgba16(premultiplied) = image::load_from_memory(&bytes).unwrap() else {
        panic!("{path}: not 16-bit RGBA as image-rs reads it");
    };
    let out = imgbatch::convert(&bytes, &Job::new(Format::Png))
        .unwrap()
        .remove(0);
    let DynamicImage::ImageRgba16(back) = read_back(&out.bytes) else {
        panic!("{path}: not written as 16-bit RGBA");
    };
    let mut divided = 0;
    for (p, q) in premultiplied.pixels().zip(back.pixels()) {
        let a = u32::from(p[3]);
        assert_eq!(q[3], p[3], "{path}: alpha changed");
        for c in 0..3 {
            // Straight colour times alpha gives back the stored, premultiplied colour.
            let again = (u32::from(q[c]) * a + 32767) / 65535;
            assert!(
                again.abs_diff(u32::from(p[c])) <= 1,
                "{path}: {:?} became {:?}",
                p.0,
                q.0
            );
        }
        divided += usize::from(a > 0 && a < 65535 && p[0] != q[0]);
    }
    assert!(divided > 0, "{path}: no colour was divided by its alpha");
}

#[test]
fn eight_bit_sources_are_not_widened() {
    let image = ImageBuffer::from_fn(64, 64, |x, y| Rgb([x as u8 * 4, y as u8 * 4, 99]));
    let mut png = Vec::new();
    DynamicImage::ImageRgb8(image)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    for format in [Format::Png, Format::Tiff] {
        let out = imgbatch::convert(&png, &Job::new(format))
            .unwrap()
            .remove(0);
        assert_eq!(read_back(&out.bytes).color(), image::ColorType::Rgb8);
    }
}

#[test]
fn outputs_without_sixteen_bits_get_the_rounded_eight_bit_samples() {
    let png = ramp16();
    let eight = imgbatch::decode_upright(&png, &Limits::default()).unwrap();
    for info in imgbatch::encodable().filter(|i| !i.sixteen_bit) {
        let mut job = Job::new(info.format);
        job.encode.lossless = true;
        let out = imgbatch::convert(&png, &job)
            .unwrap_or_else(|e| panic!("{}: {e}", info.name))
            .remove(0);
        if matches!(info.format, Format::WebP | Format::Qoi) {
            // Lossless with alpha: exactly the 8-bit decode.
            assert_eq!(read_back(&out.bytes).to_rgba8().into_raw(), eight.data);
        }
    }
}

#[test]
fn the_memory_estimate_counts_kept_sixteen_bit_samples() {
    let png = ramp16();
    let deep = imgbatch::estimate(&png, &Job::new(Format::Png)).unwrap();
    let eight = imgbatch::estimate(&png, &Job::new(Format::Jpeg)).unwrap();
    // Working copies and outputs are twice as wide at 16 bits.
    let pixels = 4096 * 8;
    assert!(
        deep >= eight + pixels * 4 * 5,
        "16-bit estimate {deep}, 8-bit {eight}"
    );
}
