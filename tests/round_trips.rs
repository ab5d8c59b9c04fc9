//! AVIF outputs come back close to their source when an independent decoder reads them:
//! Pillow (libavif with dav1d, in the tests' venv that scripts/test installs) reads what
//! ravif wrote. Every photo stays above a PSNR floor, transparency survives, EXIF travels,
//! and an encoder speed outside 1-10 is refused before any work.

mod common;

use imgbatch::{ErrorKind, Format, Job, Limits, MetadataPolicy, ResizeSpec};

/// At the default quality (82) a 1024 px photo is visually clean well above 30 dB.
const PSNR_FLOOR_DB: f64 = 32.0;

fn job() -> Job {
    let mut job = Job::new(Format::Avif);
    // The fastest AV1 setting keeps the test quick; quality, not speed, sets the floor.
    job.encode.avif_speed = 10;
    job
}

#[test]
fn avif_round_trips_above_a_psnr_floor() {
    for (path, png) in common::photo_sources(4) {
        let source = imgbatch::decode_upright(&png, &Limits::default()).unwrap();
        let out = imgbatch::convert(&png, &job()).unwrap().remove(0);
        let psnr = common::psnr(&source, &common::pillow_decode(&out.bytes, "avif"));
        assert!(
            psnr >= PSNR_FLOOR_DB,
            "{path}: {psnr:.2} dB, {} bytes",
            out.bytes.len()
        );
    }
}

#[test]
fn avif_keeps_transparency() {
    let source = common::alpha_ramp();
    let out = imgbatch::convert_pixels(&source, &job()).unwrap().remove(0);
    let alpha_error = common::max_alpha_error(&source, &common::pillow_decode(&out.bytes, "avif"));
    assert!(alpha_error <= 8, "alpha off by up to {alpha_error}");
}

#[test]
fn avif_carries_exif_under_keep_with_the_orientation_reset() {
    let photo = common::read("exif-orientation-examples/Landscape_6.jpg");
    let job = Job {
        metadata: MetadataPolicy::Keep,
        sizes: vec![ResizeSpec::LongEdge { px: 256 }],
        ..job()
    };
    let out = imgbatch::convert(&photo, &job).unwrap().remove(0);
    let tiff = out
        .bytes
        .windows(4)
        .position(|w| w == b"MM\0*" || w == b"II*\0")
        .expect("no EXIF block in the AVIF");
    assert_eq!(imgbatch::exif_orientation(&out.bytes[tiff..]), Some(1));
}

#[test]
fn an_avif_speed_outside_1_to_10_is_refused_up_front() {
    let mut job = job();
    job.encode.avif_speed = 11;
    let error = job.validate().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidOptions);
    assert_eq!(error.message(), "AVIF speed 11 is outside 1-10");
}
