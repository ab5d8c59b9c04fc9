//! AVIF input in the native engine (rav1d). Pixel accuracy against the reference decoder is
//! in `oracle.rs`; these cover what the oracle cannot: files its decoder refuses, our own
//! AVIF outputs, limits and errors.

mod common;

use imgbatch::{ErrorKind, Format, Job, Limits};

fn alpha_of(px: &imgbatch::Pixels) -> Vec<u8> {
    assert!(px.has_alpha, "no alpha channel");
    px.data.chunks_exact(4).map(|p| p[3]).collect()
}

#[test]
fn a_limited_range_alpha_plane_is_stretched_to_full_range() {
    // The same photo with its alpha coded full range and limited range (16-235); the
    // reference decoder cannot read the pair, so each is checked against the other.
    let dir = "link-u-avif/plum-blossom-small.profile0.8bpc.yuv420";
    let full = imgbatch::decode_upright(
        &common::read(&format!("{dir}.alpha-full.avif")),
        &Limits::default(),
    )
    .unwrap();
    let limited = imgbatch::decode_upright(
        &common::read(&format!("{dir}.alpha-limited.avif")),
        &Limits::default(),
    )
    .unwrap();
    let (a, b) = (alpha_of(&full), alpha_of(&limited));
    assert_eq!(a.len(), b.len());
    let mean = a
        .iter()
        .zip(&b)
        .map(|(x, y)| f64::from(x.abs_diff(*y)))
        .sum::<f64>()
        / a.len() as f64;
    assert!(mean < 2.0, "alpha differs by {mean:.2} levels on average");
    assert_eq!(b.iter().max(), Some(&255), "opaque stays opaque");
    assert_eq!(b.iter().min(), Some(&0), "clear stays clear");
}

#[test]
fn our_own_avif_reads_back_like_the_reference_decoder_reads_it() {
    for (path, png) in common::photo_sources(2) {
        let mut job = Job::new(Format::Avif);
        job.encode.avif_speed = 10;
        let avif = imgbatch::convert(&png, &job).unwrap().remove(0).bytes;
        let ours = imgbatch::decode_upright(&avif, &Limits::default()).unwrap();
        let psnr = common::psnr(&ours, &common::pillow_decode(&avif, "avif"));
        assert!(
            psnr >= 45.0,
            "{path}: ours and libavif differ, {psnr:.2} dB"
        );
    }
}

#[test]
fn an_avif_over_the_pixel_limit_is_refused_before_decoding() {
    let bytes = common::read("link-u-avif/kimono.avif");
    let limits = Limits {
        max_pixels: 100_000,
        ..Limits::default()
    };
    let e = imgbatch::decode_upright(&bytes, &limits).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit, "{}", e.message());
}

#[test]
fn a_truncated_avif_fails_with_a_decode_error() {
    let bytes = common::read("link-u-avif/kimono.avif");
    let cut = &bytes[..bytes.len() * 2 / 3];
    let e = imgbatch::decode_upright(cut, &Limits::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{}", e.message());
    assert!(e.message().contains("AVIF"), "{}", e.message());
}

/// Decodes an output as the browser's decoder would hand it over: RGBA, its colour
/// profile not applied.
fn raw_rgba(bytes: &[u8]) -> imgbatch::Pixels {
    let image = image::load_from_memory(bytes).unwrap().into_rgba8();
    imgbatch::Pixels::from_rgba(image.width(), image.height(), image.into_raw())
}

/// The page hands AVIF to the browser's decoder and converts its pixels: the metadata and
/// the colour profile the container holds must follow the policies, as the CLI's own decode
/// does.
#[test]
fn pixels_the_browser_decoded_follow_the_metadata_and_colour_policies() {
    let original = common::read("libavif/paris_icc_exif_xmp.avif");
    let job = |metadata, color, format| {
        let mut job = Job::new(format);
        job.metadata = metadata;
        job.color = color;
        job
    };
    use imgbatch::{ColorPolicy, MetadataPolicy};
    // What the browser gives: upright RGBA, still in the file's profile.
    let as_decoded = job(MetadataPolicy::Strip, ColorPolicy::Keep, Format::Png);
    let in_profile = raw_rgba(&imgbatch::convert(&original, &as_decoded).unwrap()[0].bytes);

    let keep = job(MetadataPolicy::Keep, ColorPolicy::Keep, Format::Jpeg);
    let kept = imgbatch::convert_browser_decoded(&original, in_profile.clone(), &keep)
        .unwrap()
        .remove(0);
    let exif = common::jpeg_exif(&kept.bytes).expect("EXIF carried");
    assert!(
        exif.windows(6).any(|w| w == b"Google"),
        "the camera is in the EXIF"
    );
    assert!(
        kept.bytes.windows(11).any(|w| w == b"ICC_PROFILE"),
        "the profile is embedded"
    );
    assert!(kept.notes.is_empty(), "{:?}", kept.notes);

    let stripped = job(MetadataPolicy::Strip, ColorPolicy::Srgb, Format::Jpeg);
    let jpeg = imgbatch::convert_browser_decoded(&original, in_profile, &stripped).unwrap();
    assert!(common::jpeg_exif(&jpeg[0].bytes).is_none());

    // Under sRGB the pixels are converted as the CLI converts them (ColorSpin swaps the
    // channels, so the colours move a long way).
    let original = common::read("link-u-avif/red-at-12-oclock-with-color-profile-8bpc.avif");
    let in_profile = raw_rgba(&imgbatch::convert(&original, &as_decoded).unwrap()[0].bytes);
    let srgb = job(MetadataPolicy::Strip, ColorPolicy::Srgb, Format::Png);
    let page = imgbatch::convert_browser_decoded(&original, in_profile.clone(), &srgb)
        .unwrap()
        .remove(0);
    assert!(page.notes.is_empty(), "{:?}", page.notes);
    let cli = &imgbatch::convert(&original, &srgb).unwrap()[0];
    let (page_px, cli_px) = (raw_rgba(&page.bytes), raw_rgba(&cli.bytes));
    let off = common::mean_difference(&page_px, &cli_px);
    let moved = common::mean_difference(&page_px, &in_profile);
    assert!(off < 0.5, "page and CLI differ by {off}");
    assert!(moved > 10.0, "the colours moved by only {moved}");
}
