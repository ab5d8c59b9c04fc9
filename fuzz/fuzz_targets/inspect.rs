//! What the scheduler reads before admitting a file, from its header alone: the format, the
//! declared size and the memory estimate. Every answer for arbitrary bytes is a result.
#![no_main]

use imgbatch::{Format, Job, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = imgbatch::sniff(data);
    let _ = imgbatch::inspect(data, &Limits::default());
    let _ = imgbatch::estimate(data, &Job::new(Format::Jpeg));
});
