//! Every JPEG encoder effort, baseline and progressive, writes a file that an independent
//! decoder (Pillow, on libjpeg-turbo) reads back close to its source; the default is the
//! fast effort in baseline; and trellis (`balanced`, `smallest`) buys smaller files, which is
//! the only reason to pay for it.

mod common;

use imgbatch::{Format, Job, JpegPreset, Limits};

/// At the default quality (82) a 1024 px photo is visually clean well above 30 dB.
const PSNR_FLOOR_DB: f64 = 32.0;

const EFFORTS: [JpegPreset; 3] = [JpegPreset::Fast, JpegPreset::Balanced, JpegPreset::Smallest];

fn job(effort: JpegPreset, progressive: bool) -> Job {
    let mut job = Job::new(Format::Jpeg);
    job.encode.jpeg_preset = effort;
    job.encode.progressive = progressive;
    job
}

/// True when the JPEG's frame header is progressive (SOF2) rather than baseline (SOF0).
fn is_progressive(jpeg: &[u8]) -> bool {
    jpeg.windows(2).any(|w| w == [0xFF, 0xC2])
}

#[test]
fn the_default_is_the_fast_effort_in_baseline() {
    let job = Job::new(Format::Jpeg);
    assert_eq!(job.encode.jpeg_preset, JpegPreset::Fast);
    assert!(!job.encode.progressive);
    let (_, photo) = common::photo_sources(1).remove(0);
    let out = imgbatch::convert(&photo, &job).unwrap().remove(0);
    assert!(
        !is_progressive(&out.bytes),
        "the default wrote a progressive JPEG"
    );
}

#[test]
fn every_effort_round_trips_through_an_independent_decoder() {
    let mut bytes_by_effort = [0usize; 3];
    // 1024 px PNGs: the outputs keep their size, so they compare pixel for pixel.
    for (path, photo) in common::photo_sources(2) {
        let source = imgbatch::decode_upright(&photo, &Limits::default()).unwrap();
        for (i, effort) in EFFORTS.into_iter().enumerate() {
            for progressive in [false, true] {
                let out = imgbatch::convert(&photo, &job(effort, progressive))
                    .unwrap()
                    .remove(0);
                let expect_progressive = progressive || effort == JpegPreset::Smallest;
                assert_eq!(
                    is_progressive(&out.bytes),
                    expect_progressive,
                    "{path}: {effort:?}"
                );
                let psnr = common::psnr(&source, &common::pillow_decode(&out.bytes, "jpg"));
                assert!(
                    psnr >= PSNR_FLOOR_DB,
                    "{path}: {effort:?}, progressive {progressive}: {psnr:.2} dB"
                );
                if !progressive {
                    bytes_by_effort[i] += out.bytes.len();
                }
            }
        }
    }
    let [fast, balanced, smallest] = bytes_by_effort;
    assert!(
        balanced < fast,
        "trellis saved nothing: {balanced} vs {fast} bytes"
    );
    assert!(
        smallest <= balanced,
        "smallest {smallest} > balanced {balanced} bytes"
    );
}
