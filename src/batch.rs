//! Many files through the pipeline at once: bounded concurrency, admission by estimated
//! memory, progress events, cancellation and a result for every file, panics included.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use web_time::Instant;

use crate::error::{Error, Result};
use crate::options::{Job, ResizeSpec};
use crate::pipeline::{self, Output};
use crate::schedule::{Admission, InFlight};

/// One input of a batch. Bytes are read only when the scheduler is about to admit the file,
/// so a batch of thousands never holds more than it is working on.
pub trait Source: Send + Sync {
    /// How reports name the file (a relative path in the CLI, a file name in the browser).
    fn name(&self) -> &str;
    fn read(&self) -> Result<Vec<u8>>;
    /// Which of the job's outputs (one per size, in order: `sizes`) this file still needs,
    /// asked before its bytes are read. Default: all. A caller resuming a batch answers
    /// `false` for outputs it already has; a file that needs none is finished as skipped
    /// without being read or decoded, which is what makes a resumed run fast.
    fn wanted(&self, sizes: &[ResizeSpec]) -> Vec<bool> {
        vec![true; sizes.len()]
    }
}

/// An in-memory source, for tests and for callers that already hold the bytes.
pub struct MemorySource {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Source for MemorySource {
    fn name(&self) -> &str {
        &self.name
    }
    fn read(&self) -> Result<Vec<u8>> {
        Ok(self.bytes.clone())
    }
}

#[derive(Clone, Debug)]
pub struct BatchOptions {
    /// Most files in flight at once. Default: the rayon pool's thread count.
    pub concurrency: usize,
    /// Total estimated peak memory of the files in flight. A file whose estimate alone is
    /// larger still runs, but alone. Default 2 GiB.
    pub memory_budget: u64,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            concurrency: rayon::current_num_threads(),
            memory_budget: 2 << 30,
        }
    }
}

/// Stops a batch: files not yet started finish as `cancelled`; files in flight complete.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The result for one input.
#[derive(Debug)]
pub struct FileResult {
    /// Position in the input list.
    pub index: usize,
    pub name: String,
    pub input_bytes: u64,
    pub elapsed_ms: f64,
    /// Outputs `outcome` holds, in order.
    pub outcome: Result<Vec<Output>>,
    /// Positions in the job's sizes of the outputs the source did not want
    /// ([`Source::wanted`]); `outcome` holds the others.
    pub not_wanted: Vec<usize>,
}

impl FileResult {
    /// True when the source wanted none of its outputs: nothing was read or converted.
    pub fn is_skipped(&self) -> bool {
        !self.not_wanted.is_empty() && matches!(&self.outcome, Ok(outputs) if outputs.is_empty())
    }
}

pub enum Event {
    /// A file was admitted and is being converted.
    Started { index: usize, name: String },
    /// A file is done, converted or failed. Outputs are handed over here and not kept.
    Finished(FileResult),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct BatchSummary {
    pub converted: usize,
    pub failed: usize,
    pub cancelled: usize,
    /// Files whose outputs were all unwanted ([`Source::wanted`]).
    pub skipped: usize,
    pub input_bytes: u64,
    pub output_bytes: u64,
}

/// Converts every source with `job`, calling `on_event` from worker threads as files start
/// and finish. Returns once every file has finished. Call it from outside the rayon pool
/// (it blocks while waiting for room in the budget).
pub fn run_batch<S: Source>(
    sources: &[S],
    job: &Job,
    options: &BatchOptions,
    cancel: &CancelToken,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<BatchSummary> {
    job.validate()?;
    let rule = Admission {
        max_files: options.concurrency,
        memory_budget: options.memory_budget,
    };
    let state = Mutex::new(InFlight::default());
    let room = Condvar::new();
    let summary = Mutex::new(BatchSummary::default());
    let finish = |result: FileResult| {
        if let Ok(mut s) = summary.lock() {
            s.input_bytes += result.input_bytes;
            match &result.outcome {
                _ if result.is_skipped() => s.skipped += 1,
                Ok(outputs) => {
                    s.converted += 1;
                    s.output_bytes += outputs.iter().map(|o| o.bytes.len() as u64).sum::<u64>();
                }
                Err(e) if e.kind() == crate::ErrorKind::Cancelled => s.cancelled += 1,
                Err(_) => s.failed += 1,
            }
        }
        on_event(Event::Finished(result));
    };

    rayon::in_place_scope(|scope| {
        for (index, source) in sources.iter().enumerate() {
            let name = source.name().to_string();
            let all_sizes = job.output_sizes();
            let wanted = source.wanted(all_sizes);
            // A short answer wants the rest: only an explicit `false` leaves an output out.
            let not_wanted: Vec<usize> = (0..all_sizes.len())
                .filter(|&i| wanted.get(i) == Some(&false))
                .collect();
            let failed = |error: Error, input_bytes: u64| FileResult {
                index,
                name: name.clone(),
                input_bytes,
                elapsed_ms: 0.0,
                outcome: Err(error),
                not_wanted: not_wanted.clone(),
            };
            if not_wanted.len() == all_sizes.len() {
                finish(FileResult {
                    index,
                    name,
                    input_bytes: 0,
                    elapsed_ms: 0.0,
                    outcome: Ok(Vec::new()),
                    not_wanted,
                });
                continue;
            }
            // The outputs still wanted, as a job of their own: the engine never makes (or
            // decodes for) an output nobody asked for. Owned, because the task outlives
            // this loop iteration.
            let partial = (!not_wanted.is_empty()).then(|| Job {
                sizes: (0..all_sizes.len())
                    .filter(|i| !not_wanted.contains(i))
                    .map(|i| all_sizes[i])
                    .collect(),
                ..job.clone()
            });
            // Wait for a free slot before reading, so at most one file waits in memory.
            let mut guard = wait_until(&state, &room, |s| s.has_slot(&rule));
            drop(guard.take());
            if cancel.is_cancelled() {
                finish(failed(Error::cancelled(), 0));
                continue;
            }
            let bytes = match source.read() {
                Ok(bytes) => bytes,
                Err(e) => {
                    finish(failed(e, 0));
                    continue;
                }
            };
            let input_bytes = bytes.len() as u64;
            let estimate =
                match guarded(|| pipeline::estimate(&bytes, partial.as_ref().unwrap_or(job))) {
                    Ok(estimate) => estimate.min(options.memory_budget),
                    Err(e) => {
                        finish(failed(e, input_bytes));
                        continue;
                    }
                };
            let mut guard = wait_until(&state, &room, |s| s.admits(&rule, estimate));
            if let Some(s) = guard.as_mut() {
                s.start(estimate);
            }
            drop(guard);
            on_event(Event::Started {
                index,
                name: name.clone(),
            });
            let (state, room, finish, cancel) = (&state, &room, &finish, cancel);
            scope.spawn(move |_| {
                let job = partial.as_ref().unwrap_or(job);
                let started = Instant::now();
                let outcome = if cancel.is_cancelled() {
                    Err(Error::cancelled())
                } else {
                    guarded(|| pipeline::convert(&bytes, job))
                };
                drop(bytes);
                let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
                // The outputs live until the callback has handed them on (written them, sent
                // them to the page), so the memory is released only after it returns.
                finish(FileResult {
                    index,
                    name,
                    input_bytes,
                    elapsed_ms,
                    outcome,
                    not_wanted,
                });
                if let Ok(mut s) = state.lock() {
                    s.end(estimate);
                }
                room.notify_all();
            });
        }
    });
    Ok(summary.into_inner().unwrap_or_default())
}

/// Last resort: a panic anywhere in reading or converting a file must cost that file, not
/// the batch (decoders' own panics are already `decode` errors, in codecs).
fn guarded<T>(work: impl FnOnce() -> Result<T>) -> Result<T> {
    crate::error::catch_panic(work).unwrap_or_else(|panic| {
        Err(Error::internal(format!(
            "the converter crashed on this file: {panic}"
        )))
    })
}

/// Blocks until `ready` holds, returning the guard (None if a thread panicked holding the
/// lock, which `guarded` above makes impossible in practice).
fn wait_until<'a>(
    state: &'a Mutex<InFlight>,
    room: &Condvar,
    ready: impl Fn(&InFlight) -> bool,
) -> Option<std::sync::MutexGuard<'a, InFlight>> {
    let guard = state.lock().ok()?;
    room.wait_while(guard, |s| !ready(s)).ok()
}
