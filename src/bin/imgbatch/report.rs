//! The run's report: what happened to every file and output, tallied for the closing line
//! and printed whole by `--json`. Its field names are an interface (scripts and the tests
//! read them), so they are spelled out here as types.

use std::collections::BTreeMap;
use std::path::Path;

use imgbatch::{Error, ErrorKind, Output};
use serde::Serialize;

use crate::inputs::Skipped;

/// The stable code of an output (or a file) left alone because it already exists.
const EXISTS: &str = "exists";

/// What `--json` prints.
#[derive(Serialize)]
pub(crate) struct Document {
    files: Vec<FileEntry>,
    pub(crate) summary: Summary,
}

#[derive(Serialize)]
pub(crate) struct Summary {
    pub(crate) converted: usize,
    pub(crate) failed: usize,
    /// Files not converted: not images, unreadable, or all their outputs exist.
    pub(crate) skipped: usize,
    /// Outputs left alone because they exist, of converted and of skipped files.
    pub(crate) existing_outputs: usize,
    pub(crate) input_bytes: u64,
    pub(crate) output_bytes: u64,
    pub(crate) seconds: f64,
}

/// One input file.
#[derive(Serialize)]
struct FileEntry {
    input: String,
    status: FileStatus,
    /// Only when it was skipped.
    #[serde(flatten)]
    skip: Option<Skip>,
    /// Only when the engine was given it.
    #[serde(flatten)]
    run: Option<FileRun>,
}

#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum FileStatus {
    Converted,
    Skipped,
    Failed,
    Cancelled,
}

/// Why a file was not converted: a stable code and a sentence.
#[derive(Serialize)]
pub(crate) struct Skip {
    pub(crate) code: &'static str,
    pub(crate) reason: String,
}

/// What the engine did with a file.
#[derive(Serialize)]
struct FileRun {
    input_bytes: u64,
    ms: f64,
    outputs: Vec<OutputEntry>,
    error: Option<ErrorEntry>,
}

/// Why a file failed: the engine's stable code and its message.
#[derive(Clone, Serialize)]
pub(crate) struct ErrorEntry {
    pub(crate) code: ErrorKind,
    pub(crate) message: String,
}

/// One output of a file: written, or left alone because it exists.
#[derive(Serialize)]
pub(crate) struct OutputEntry {
    path: String,
    status: OutputStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(flatten)]
    written: Option<Written>,
}

#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum OutputStatus {
    Written,
    Skipped,
}

#[derive(Serialize)]
struct Written {
    bytes: usize,
    /// The engine's own report of the output: format, size, timings, notes.
    #[serde(flatten)]
    output: Output,
}

impl OutputEntry {
    /// `output` has had its bytes taken: `bytes` says how many there were.
    pub(crate) fn written(path: &Path, bytes: usize, output: Output) -> Self {
        OutputEntry {
            path: path.display().to_string(),
            status: OutputStatus::Written,
            code: None,
            written: Some(Written { bytes, output }),
        }
    }

    pub(crate) fn existing(path: &Path) -> Self {
        OutputEntry {
            path: path.display().to_string(),
            status: OutputStatus::Skipped,
            code: Some(EXISTS),
            written: None,
        }
    }

    fn bytes(&self) -> u64 {
        self.written.as_ref().map_or(0, |w| w.bytes as u64)
    }
}

/// The files done so far, kept in input order, and their tally.
#[derive(Default)]
pub(crate) struct Report {
    files: BTreeMap<usize, FileEntry>,
    failed: usize,
    converted: usize,
    /// Files left alone because all their outputs exist (--skip-existing).
    existing: usize,
    existing_outputs: usize,
    output_bytes: u64,
}

impl Report {
    /// Records the file at `index` of the batch, given what writing its outputs came to;
    /// returns its error when it failed.
    pub(crate) fn record(
        &mut self,
        index: usize,
        input: String,
        input_bytes: u64,
        elapsed_ms: f64,
        written: imgbatch::Result<Vec<OutputEntry>>,
    ) -> Option<ErrorEntry> {
        let (status, skip, outputs, error) = match written {
            Ok(outputs) => {
                let left_alone = outputs
                    .iter()
                    .filter(|o| o.status == OutputStatus::Skipped)
                    .count();
                self.existing_outputs += left_alone;
                self.output_bytes += outputs.iter().map(OutputEntry::bytes).sum::<u64>();
                if left_alone == outputs.len() {
                    self.existing += 1;
                    let skip = Skip {
                        code: EXISTS,
                        reason: "its outputs exist".into(),
                    };
                    (FileStatus::Skipped, Some(skip), outputs, None)
                } else {
                    self.converted += 1;
                    (FileStatus::Converted, None, outputs, None)
                }
            }
            Err(error) => {
                self.failed += 1;
                let status = match error.kind() {
                    ErrorKind::Cancelled => FileStatus::Cancelled,
                    _ => FileStatus::Failed,
                };
                (status, None, Vec::new(), Some(error_entry(&error)))
            }
        };
        let run = FileRun {
            input_bytes,
            ms: (elapsed_ms * 10.0).round() / 10.0,
            outputs,
            error: error.clone(),
        };
        let entry = FileEntry {
            input,
            status,
            skip,
            run: Some(run),
        };
        self.files.insert(index, entry);
        error
    }

    /// Files left alone because all their outputs exist.
    pub(crate) fn already_converted(&self) -> usize {
        self.existing
    }

    /// The whole report: the files done, then those the walk set aside.
    pub(crate) fn into_document(
        self,
        skipped: Vec<Skipped>,
        input_bytes: u64,
        seconds: f64,
    ) -> Document {
        let summary = Summary {
            converted: self.converted,
            failed: self.failed,
            skipped: skipped.len() + self.existing,
            existing_outputs: self.existing_outputs,
            input_bytes,
            output_bytes: self.output_bytes,
            seconds,
        };
        let mut files: Vec<FileEntry> = self.files.into_values().collect();
        files.extend(skipped.into_iter().map(|s| FileEntry {
            input: s.path,
            status: FileStatus::Skipped,
            skip: Some(s.why),
            run: None,
        }));
        Document { files, summary }
    }
}

fn error_entry(error: &Error) -> ErrorEntry {
    ErrorEntry {
        code: error.kind(),
        message: error.message(),
    }
}
