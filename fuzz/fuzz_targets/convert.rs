//! The whole pipeline on arbitrary bytes: sniff, limits, decode, orient, colour, resize and
//! encode must return a result for anything, never panic. The first byte picks the output
//! format, so every encoder sees what the decoders produce.
#![no_main]

use imgbatch::{Format, Job, Limits, ResizeSpec, encodable};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    // rav1d can abort inside dav1d's C API, where no panic unwinds: the CLI and the Lambda
    // function decode AV1 in a child process for that (tests/batch_survival.rs), which an
    // in-process fuzzer cannot do, so AV1 stays out of this target.
    if matches!(imgbatch::sniff(bytes), Ok(Format::Avif)) {
        return;
    }
    let formats: Vec<Format> = encodable().map(|f| f.format).collect();
    let mut job = Job::new(formats[pick as usize % formats.len()]);
    job.sizes = vec![ResizeSpec::LongEdge { px: 64 }];
    // Small enough that one input costs milliseconds; the limits themselves are under test.
    job.limits = Limits {
        max_pixels: 4_000_000,
        max_side: 8_192,
        max_memory: 256 << 20,
        ..Limits::default()
    };
    let _ = imgbatch::convert(bytes, &job);
});
