//! The metadata editors on arbitrary EXIF, XMP and ICC: strip, strip-gps (EXIF GPS IFD and
//! XMP locations by namespace) and the orientation reset, for every output format.
#![no_main]

use imgbatch::{Metadata, MetadataPolicy, encodable};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Two length bytes cut the input into EXIF, XMP and ICC.
    let [a, b, rest @ ..] = data else {
        return;
    };
    let (exif, rest) = rest.split_at((*a as usize * 4).min(rest.len()));
    let (xmp, icc) = rest.split_at((*b as usize * 16).min(rest.len()));
    let metadata = Metadata {
        exif: Some(exif.to_vec()),
        xmp: Some(xmp.to_vec()),
        icc: Some(icc.to_vec()),
    };
    let _ = imgbatch::exif_orientation(exif);
    let _ = imgbatch::exif_capture_time(exif);
    for format in encodable() {
        for policy in [
            MetadataPolicy::Keep,
            MetadataPolicy::StripGps,
            MetadataPolicy::Strip,
        ] {
            let _ = metadata.for_output(policy, format);
        }
    }
});
