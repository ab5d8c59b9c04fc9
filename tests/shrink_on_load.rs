//! Shrink-on-load: a JPEG whose outputs are all much smaller than it is decoded at 1/2, 1/4
//! or 1/8 scale in the DCT domain. Its outputs must stay within the oracle's tolerance (see
//! tests/oracle.rs) of a full-size decode and resize, and no JPEG, broken ones included, may
//! fail one way and not the other.
//!
//! A job whose sizes include the original cannot shrink, so the same size asked for beside
//! `orig` is the full-decode reference, through the public API alone.

mod common;

use imgbatch::{Format, Job, ResizeSpec};
use rayon::prelude::*;

const MEAN_TOLERANCE: f64 = 2.0;
const CELL_TOLERANCE: f64 = 12.0;

/// The long edge that makes the engine decode a `long`-px image at exactly 1/`k`: just
/// under `long / k`, so rounding the short side cannot push it over the shrunk size, and
/// far above `long / 2k`.
fn long_edge_for(long: u32, k: u32) -> u32 {
    long / k - 1
}

#[test]
fn shrunk_jpeg_outputs_match_a_full_decode_and_resize() {
    let cases: Vec<(String, u32, u32)> = common::manifest()
        .into_iter()
        .filter(|e| e.format == "JPEG")
        .flat_map(|e| {
            let long = e.width.max(e.height) as u32;
            let short = e.width.min(e.height) as u32;
            // At least 16 px across the short side after shrinking, so a 16x16 grid has
            // pixels in every cell.
            [2, 4, 8]
                .into_iter()
                .filter(move |&k| short / k >= 17)
                .map(move |k| (e.path.clone(), k, long_edge_for(long, k)))
        })
        .collect();
    assert!(cases.len() > 150, "too few JPEG cases: {}", cases.len());

    // Ok(None): both failed alike; Ok(Some(differ)): both converted, within tolerance.
    let results: Vec<Result<Option<bool>, String>> = cases
        .par_iter()
        .map(|(path, k, px)| {
            let bytes = common::read(path);
            let spec = ResizeSpec::LongEdge { px: *px };
            let mut shrunk = Job::new(Format::Png);
            shrunk.sizes = vec![spec.clone()];
            let mut full = Job::new(Format::Png);
            full.sizes = vec![ResizeSpec::Original, spec];
            let (a, b) = (
                imgbatch::convert(&bytes, &shrunk),
                imgbatch::convert(&bytes, &full),
            );
            let (a, b) = match (a, b) {
                (Err(_), Err(_)) => return Ok(None),
                (Ok(a), Ok(b)) => (a.into_iter().next(), b.into_iter().nth(1)),
                (a, b) => {
                    return Err(format!(
                        "{path} at 1/{k}: shrunk {:?}, full {:?}",
                        a.map(|_| ()).map_err(|e| e.code()),
                        b.map(|_| ()).map_err(|e| e.code())
                    ));
                }
            };
            let (a, b) = (a.expect("one output"), b.expect("two outputs"));
            if (a.width, a.height) != (b.width, b.height) {
                return Err(format!(
                    "{path} at 1/{k}: {}x{} shrunk, {}x{} full",
                    a.width, a.height, b.width, b.height
                ));
            }
            let limits = imgbatch::Limits::default();
            let pa = imgbatch::decode_upright(&a.bytes, &limits).expect("our PNG decodes");
            let pb = imgbatch::decode_upright(&b.bytes, &limits).expect("our PNG decodes");
            let (mean, max) =
                common::grid_distance(&common::grid_of(&pa, 16, 16), &common::grid_of(&pb, 16, 16));
            if mean > MEAN_TOLERANCE || max > CELL_TOLERANCE {
                return Err(format!(
                    "{path} at 1/{k}: grid off by mean {mean:.2}, worst cell {max}"
                ));
            }
            Ok(Some(a.bytes != b.bytes))
        })
        .collect();

    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{failures:#?}",
        failures.len()
    );
    let compared = results.iter().filter(|r| matches!(r, Ok(Some(_)))).count();
    let differing = results
        .iter()
        .filter(|r| matches!(r, Ok(Some(true))))
        .count();
    println!("{compared} shrunk outputs compared, {differing} differ from the full decode");
    // Identical bytes would mean the shrunk path was never taken.
    assert!(
        differing * 10 >= compared * 9,
        "only {differing} of {compared} outputs came from a shrunk decode"
    );
}
