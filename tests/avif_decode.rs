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
