//! Every corpus file through the engine to JPEG and PNG: no panics, every file the
//! reference decoder read in a format we claim converts, every failure typed.

mod common;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use imgbatch::{Format, Job, ResizeSpec};
use rayon::prelude::*;

#[derive(Debug)]
enum Outcome {
    Converted,
    Failed(imgbatch::ErrorKind, String),
    Panicked(String),
}

fn run(bytes: &[u8], job: &Job) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| imgbatch::convert(bytes, job))) {
        Ok(Ok(_)) => Outcome::Converted,
        Ok(Err(e)) => Outcome::Failed(e.kind(), e.message()),
        Err(p) => Outcome::Panicked(
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default(),
        ),
    }
}

#[test]
fn every_corpus_file_converts_or_fails_cleanly() {
    let manifest = common::manifest();
    assert!(
        manifest.len() > 1000,
        "corpus looks incomplete: {} files",
        manifest.len()
    );
    let jobs: Vec<Job> = [Format::Jpeg, Format::Png]
        .into_iter()
        .map(|f| Job {
            sizes: vec![ResizeSpec::LongEdge { px: 1024 }],
            ..Job::new(f)
        })
        .collect();
    let results: Vec<_> = manifest
        .par_iter()
        .map(|entry| {
            let bytes = common::read(&entry.path);
            let outcomes: Vec<Outcome> = jobs.iter().map(|job| run(&bytes, job)).collect();
            (entry.clone(), outcomes)
        })
        .collect();

    let mut by_format: BTreeMap<String, [usize; 2]> = BTreeMap::new();
    let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut gaps_seen = Vec::new();
    for (entry, outcomes) in &results {
        let claimed = common::format_of(entry).is_some_and(|f| f.info().can_decode);
        let gap = common::KNOWN_GAPS.iter().find(|(p, _)| *p == entry.path);
        for outcome in outcomes {
            let counts = by_format.entry(entry.format.clone()).or_default();
            match outcome {
                Outcome::Converted => {
                    counts[0] += 1;
                    if gap.is_some() {
                        gaps_seen.push(entry.path.clone());
                    }
                }
                Outcome::Failed(kind, message) => {
                    counts[1] += 1;
                    *by_code.entry(kind.code()).or_default() += 1;
                    if *kind == imgbatch::ErrorKind::Internal {
                        problems.push(format!("{}: internal error: {message}", entry.path));
                    } else if entry.pillow_ok && claimed && gap.is_none() {
                        problems.push(format!(
                            "{}: reference decodes it, we fail ({kind}): {message}",
                            entry.path
                        ));
                    }
                }
                Outcome::Panicked(message) => {
                    problems.push(format!("{}: PANIC: {message}", entry.path))
                }
            }
        }
    }
    println!("{:<16} {:>10} {:>8}", "format", "converted", "failed");
    for (format, [ok, failed]) in &by_format {
        println!("{format:<16} {ok:>10} {failed:>8}");
    }
    println!("failures by code: {by_code:?}");
    for (path, reason) in common::KNOWN_GAPS {
        println!("known gap: {path}: {reason}");
    }
    assert!(
        gaps_seen.is_empty(),
        "known gaps that now convert (remove them from common::KNOWN_GAPS): {gaps_seen:#?}"
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
