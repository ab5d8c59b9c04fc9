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
        "not-an-image"
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

/// A source that wants only some of its outputs, and counts how often it is read.
struct Partly {
    bytes: Vec<u8>,
    wanted: Vec<bool>,
    reads: AtomicUsize,
}

impl imgbatch::Source for Partly {
    fn name(&self) -> &str {
        "partly.jpg"
    }
    fn read(&self) -> imgbatch::Result<Vec<u8>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        Ok(self.bytes.clone())
    }
    fn wanted(&self, sizes: &[ResizeSpec]) -> Vec<bool> {
        assert_eq!(sizes.len(), self.wanted.len());
        self.wanted.clone()
    }
}

#[test]
fn only_wanted_outputs_are_made_and_a_file_wanting_none_is_never_read() {
    let photo = common::read("exif-orientation-examples/Landscape_1.jpg");
    let job = Job {
        sizes: vec![
            ResizeSpec::LongEdge { px: 256 },
            ResizeSpec::LongEdge { px: 128 },
            ResizeSpec::LongEdge { px: 64 },
        ],
        ..Job::new(Format::Jpeg)
    };
    let sources = [
        Partly {
            bytes: photo.clone(),
            wanted: vec![false, true, false],
            reads: AtomicUsize::new(0),
        },
        Partly {
            bytes: photo,
            wanted: vec![false; 3],
            reads: AtomicUsize::new(0),
        },
    ];
    let results = Mutex::new(Vec::new());
    let summary = run_batch(
        &sources,
        &job,
        &BatchOptions::default(),
        &CancelToken::new(),
        &|event| {
            if let Event::Finished(result) = event {
                results.lock().unwrap().push(result);
            }
        },
    )
    .unwrap();
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.index);

    let outputs = results[0].outcome.as_ref().unwrap();
    assert_eq!(
        outputs.iter().map(|o| o.label.as_str()).collect::<Vec<_>>(),
        ["128"]
    );
    assert_eq!(outputs[0].width.max(outputs[0].height), 128);
    assert_eq!(results[0].not_wanted, [0, 2]);
    assert!(!results[0].is_skipped());

    assert!(results[1].is_skipped());
    assert_eq!(results[1].not_wanted, [0, 1, 2]);
    assert_eq!(sources[1].reads.load(Ordering::SeqCst), 0, "not read");
    assert_eq!((summary.converted, summary.skipped), (1, 1));
}
