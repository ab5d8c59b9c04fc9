//! The batch API: a result for every input, memory admission, progress and cancellation.

mod common;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use imgbatch::{
    BatchOptions, CancelToken, Event, Format, Job, MemorySource, ResizeSpec, run_batch,
};

fn sources() -> Vec<MemorySource> {
    let photo = common::read("exif-orientation-examples/Landscape_1.jpg");
    let mut sources: Vec<MemorySource> = (0..6)
        .map(|i| MemorySource {
            name: format!("photo{i}.jpg"),
            bytes: photo.clone(),
        })
        .collect();
    sources.push(MemorySource {
        name: "garbage.jpg".into(),
        bytes: b"\xFF\xD8\xFFnot really".to_vec(),
    });
    sources.push(MemorySource {
        name: "text.txt".into(),
        bytes: b"hello".to_vec(),
    });
    sources
}

fn job() -> Job {
    Job {
        sizes: vec![ResizeSpec::LongEdge { px: 256 }],
        ..Job::new(Format::Jpeg)
    }
}

#[test]
fn every_input_gets_exactly_one_result() {
    let sources = sources();
    let results = Mutex::new(Vec::new());
    let started = AtomicUsize::new(0);
    let summary = run_batch(
        &sources,
        &job(),
        &BatchOptions::default(),
        &CancelToken::new(),
        &|event| match event {
            Event::Started { .. } => {
                started.fetch_add(1, Ordering::SeqCst);
            }
            Event::Finished(result) => results.lock().unwrap().push(result),
        },
    )
    .unwrap();
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.index);
    assert_eq!(
        results.iter().map(|r| r.index).collect::<Vec<_>>(),
        (0..8).collect::<Vec<_>>()
    );
    assert_eq!((summary.converted, summary.failed), (6, 2));
    assert_eq!(results[6].outcome.as_ref().unwrap_err().code(), "decode");
    assert_eq!(
        results[7].outcome.as_ref().unwrap_err().code(),
        "unsupported"
    );
    assert_eq!(
        started.load(Ordering::SeqCst),
        6,
        "only admitted files start"
    );
}

#[test]
fn memory_budget_admits_one_big_file_at_a_time() {
    // Each photo needs ~20 MB by estimate; a 1-byte budget still runs them, one at a time.
    let sources = sources();
    let in_flight = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    let options = BatchOptions {
        concurrency: 4,
        memory_budget: 1,
    };
    run_batch(
        &sources,
        &job(),
        &options,
        &CancelToken::new(),
        &|event| match event {
            Event::Started { .. } => {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
            }
            Event::Finished(r) => {
                if r.outcome.is_ok() {
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                }
            }
        },
    )
    .unwrap();
    assert_eq!(most.load(Ordering::SeqCst), 1);
}

#[test]
fn cancelling_finishes_the_rest_as_cancelled() {
    let sources = sources();
    let cancel = CancelToken::new();
    let outcomes = Mutex::new(Vec::new());
    let options = BatchOptions {
        concurrency: 1,
        ..BatchOptions::default()
    };
    let summary = run_batch(&sources, &job(), &options, &cancel, &|event| {
        if let Event::Finished(r) = event {
            cancel.cancel();
            outcomes
                .lock()
                .unwrap()
                .push(r.outcome.err().map(|e| e.code()));
        }
    })
    .unwrap();
    let outcomes = outcomes.into_inner().unwrap();
    assert_eq!(
        outcomes.len(),
        sources.len(),
        "cancelled files still get a result"
    );
    assert!(summary.cancelled >= sources.len() - 2, "{summary:?}");
    assert!(
        outcomes.iter().skip(2).all(|o| *o == Some("cancelled")),
        "{outcomes:?}"
    );
}

#[test]
fn an_invalid_job_is_refused_before_any_file() {
    let job = Job {
        encode: imgbatch::EncodeOptions {
            quality: 0,
            ..Default::default()
        },
        ..job()
    };
    let err = run_batch(
        &sources(),
        &job,
        &BatchOptions::default(),
        &CancelToken::new(),
        &|_| panic!("no events"),
    )
    .unwrap_err();
    assert_eq!(err.code(), "invalid-options");
}
