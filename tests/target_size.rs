//! A target file size: every output fits, at the highest quality that does (one step up
//! would not), within 8 encodes; an impossible target fails with a clear `target-size` error;
//! a lossless format with a target is refused before any work.

mod common;

use imgbatch::{ByteSize, ErrorKind, Format, Job, Note, ResizeSpec};

fn job(target: u64) -> Job {
    Job {
        sizes: vec![ResizeSpec::LongEdge { px: 1024 }],
        target_size: Some(ByteSize(target)),
        ..Job::new(Format::Jpeg)
    }
}

#[test]
fn every_output_fits_at_the_highest_quality_that_does() {
    const TARGET: u64 = 60_000;
    let mut lowered = 0;
    for path in common::photos(8) {
        let bytes = common::read(&path);
        let job = job(TARGET);
        let out = imgbatch::convert(&bytes, &job).unwrap().remove(0);
        assert!(
            out.bytes.len() as u64 <= TARGET,
            "{path}: {} bytes",
            out.bytes.len()
        );
        let Some(&Note::QualityForTargetSize {
            quality, encodes, ..
        }) = out.notes.first()
        else {
            // It fitted at the job's own quality, which is never exceeded.
            continue;
        };
        lowered += 1;
        assert!(encodes <= 8, "{path}: {encodes} encodes");
        assert!(quality < job.encode.quality);
        let mut one_up = job.clone();
        one_up.target_size = None;
        one_up.encode.quality = quality + 1;
        let bigger = imgbatch::convert(&bytes, &one_up).unwrap().remove(0);
        assert!(
            bigger.bytes.len() as u64 > TARGET,
            "{path}: quality {} would also fit ({} bytes)",
            quality + 1,
            bigger.bytes.len()
        );
    }
    assert!(lowered >= 3, "only {lowered} photos needed a lower quality");
}

#[test]
fn an_impossible_target_fails_and_names_the_smallest_size() {
    let path = &common::photos(8)[0];
    let mut job = job(2_000);
    job.sizes = vec![ResizeSpec::Original];
    let error = imgbatch::convert(&common::read(path), &job).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TargetSize);
    assert!(
        error
            .message()
            .starts_with("cannot fit in 2 KB: even at quality 1 the smallest file is"),
        "{}",
        error.message()
    );
}

#[test]
fn a_lossless_format_with_a_target_is_refused_up_front() {
    let job = Job {
        target_size: Some(ByteSize(500_000)),
        ..Job::new(Format::Png)
    };
    let error = job.validate().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidOptions);
    assert!(
        error.message().contains("PNG is lossless"),
        "{}",
        error.message()
    );
}

#[test]
fn file_sizes_read_as_people_write_them() {
    for (text, bytes) in [
        ("500K", 500_000),
        ("500kb", 500_000),
        ("1.5M", 1_500_000),
        (" 2 MB ", 2_000_000),
        ("800000", 800_000),
    ] {
        assert_eq!(text.parse::<ByteSize>().unwrap(), ByteSize(bytes), "{text}");
    }
    for bad in ["", "0", "-1K", "K", "big", "5G"] {
        assert!(bad.parse::<ByteSize>().is_err(), "'{bad}' is refused");
    }
}
