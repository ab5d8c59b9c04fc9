//! Colour profiles end to end: `keep` carries a wide-gamut profile with untouched pixels,
//! `srgb` converts the pixels and tags the file as sRGB, outputs that cannot carry a profile
//! get sRGB pixels, and a CMYK print file never leaves with its CMYK profile on RGB pixels.

mod common;

use image::ImageDecoder;
use imgbatch::{ColorPolicy, Format, Job, Limits, Pixels};

const ADOBE_RGB: &str = "pillow/xmp_test.jpg";
const DISPLAY_P3: &str = "libavif/apple_gainmap_new.jpg";
const CMYK_SWOP: &str = "jpeg-decoder/reftest/images/ycck.jpg";

fn convert(path: &str, format: Format, color: ColorPolicy) -> Vec<u8> {
    let job = Job {
        color,
        ..Job::new(format)
    };
    let mut outputs = imgbatch::convert(&common::read(path), &job).unwrap();
    outputs.remove(0).bytes
}

fn png_profile(png: &[u8]) -> Option<Vec<u8>> {
    image::codecs::png::PngDecoder::new(std::io::Cursor::new(png))
        .unwrap()
        .icc_profile()
        .unwrap()
}

fn source_profile(path: &str) -> Vec<u8> {
    image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(common::read(path)))
        .unwrap()
        .icc_profile()
        .unwrap()
        .expect("the corpus file embeds a profile")
}

/// moxcms's sRGB profile, compared without the header's creation date (bytes 24-35), which
/// moxcms stamps at each encode and imgbatch fixes.
fn srgb_tag() -> Vec<u8> {
    undated(moxcms::ColorProfile::new_srgb().encode().unwrap())
}

fn undated(mut icc: Vec<u8>) -> Vec<u8> {
    icc[24..36].fill(0);
    icc
}

/// Two runs in separate processes, seconds apart, write the same bytes: nothing in an
/// output (such as a profile's creation date) depends on when it was made.
#[test]
fn srgb_outputs_are_reproducible_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_imgbatch"))
            .arg(common::corpus_dir().join(DISPLAY_P3))
            .args(["-o", dir.path().join(name).to_str().unwrap()])
            .args(["--to", "png", "--color", "srgb"])
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::read(dir.path().join(name).join("apple_gainmap_new.png")).unwrap()
    };
    let first = run("a");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(first, run("b"));
}

fn decoded(bytes: &[u8]) -> Pixels {
    imgbatch::decode_upright(bytes, &Limits::default()).unwrap()
}

#[test]
fn keep_carries_the_wide_gamut_profile_with_untouched_pixels() {
    for path in [ADOBE_RGB, DISPLAY_P3] {
        let png = convert(path, Format::Png, ColorPolicy::Keep);
        assert_eq!(png_profile(&png), Some(source_profile(path)), "{path}");
        let source = decoded(&common::read(path));
        assert_eq!(decoded(&png), source, "{path}: pixels changed under keep");
    }
}

#[test]
fn srgb_converts_the_pixels_and_tags_the_file_as_srgb() {
    for path in [ADOBE_RGB, DISPLAY_P3] {
        let png = convert(path, Format::Png, ColorPolicy::Srgb);
        assert_eq!(png_profile(&png).map(undated), Some(srgb_tag()), "{path}");
        let expected =
            imgbatch::decode_upright_srgb(&common::read(path), &Limits::default()).unwrap();
        assert_eq!(decoded(&png), expected, "{path}");
        // The conversion really moved colours: wide-gamut numbers are not sRGB numbers.
        let moved = common::mean_difference(&decoded(&png), &decoded(&common::read(path)));
        assert!(
            moved > 1.0,
            "{path}: sRGB conversion moved samples by only {moved:.2}"
        );
    }
}

#[test]
fn outputs_without_profiles_get_srgb_pixels_even_under_keep() {
    let bmp = convert(DISPLAY_P3, Format::Bmp, ColorPolicy::Keep);
    let expected =
        imgbatch::decode_upright_srgb(&common::read(DISPLAY_P3), &Limits::default()).unwrap();
    assert_eq!(decoded(&bmp), expected);
}

#[test]
fn cmyk_print_files_become_srgb_and_match_the_reference() {
    let png = convert(CMYK_SWOP, Format::Png, ColorPolicy::Keep);
    assert_eq!(
        png_profile(&png).map(undated),
        Some(srgb_tag()),
        "a CMYK profile on RGB pixels"
    );
    let oracle = common::oracle();
    let row = oracle.iter().find(|r| r.path == CMYK_SWOP).unwrap();
    let reference = row.grid_srgb.as_ref().unwrap();
    let ours = common::grid_of(&decoded(&png), reference.gx, reference.gy);
    let (mean, worst) = common::grid_distance(&ours, reference);
    assert!(
        mean <= 2.0 && worst <= 12.0,
        "mean {mean:.2}, worst {worst}"
    );
    // The naive conversion (what the file gives without its profile) is far off.
    let naive = common::grid_of(
        &decoded(&common::read(CMYK_SWOP)),
        reference.gx,
        reference.gy,
    );
    assert!(common::grid_distance(&naive, reference).0 > 5.0);
}

/// A grey profile on colour pixels describes nothing: browsers ignore it, and so do we,
/// with a note, instead of turning the photo grey.
#[test]
fn a_grey_profile_on_colour_pixels_is_ignored_with_a_note() {
    use image::ImageEncoder;
    let colour = imgbatch::decode_upright(&common::read(ADOBE_RGB), &Limits::default()).unwrap();
    let grey_icc = moxcms::ColorProfile::new_gray_with_gamma(2.2)
        .encode()
        .unwrap();
    let mut png = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut png);
    encoder.set_icc_profile(grey_icc).unwrap();
    encoder
        .write_image(
            &colour.data,
            colour.width,
            colour.height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    for color in [ColorPolicy::Keep, ColorPolicy::Srgb] {
        let job = Job {
            color,
            ..Job::new(Format::Png)
        };
        let output = imgbatch::convert(&png, &job).unwrap().remove(0);
        assert_eq!(decoded(&output.bytes), colour, "{color:?}: pixels changed");
        assert_eq!(
            png_profile(&output.bytes),
            None,
            "{color:?}: grey profile kept"
        );
        assert!(
            output
                .notes
                .iter()
                .any(|n| matches!(n, imgbatch::Note::ColorProfileIgnored { .. })),
            "{color:?}: no note in {:?}",
            output.notes
        );
    }
}
