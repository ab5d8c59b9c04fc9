//! The wasm-bindgen layer for the browser: the page's options in, encoded bytes and reports
//! out, as typed JavaScript values (serde-wasm-bindgen). It holds no image logic;
//! everything is delegated to the engine.

use std::cell::Cell;
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::{DateTime, Error, Job, NameInput, NameOutput, Output, Preset, Settings};

/// Rust values as plain JavaScript objects: maps as objects and `None` as `null`, as
/// `JSON.parse` would have given them.
fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

/// Through a JSON value, because serde-wasm-bindgen reads a struct by looking up its known
/// fields, so `deny_unknown_fields` would never see a misspelt one.
fn from_js<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, Error> {
    serde_wasm_bindgen::from_value::<serde_json::Value>(value)
        .map_err(|e| e.to_string())
        .and_then(|json| serde_json::from_value(json).map_err(|e| e.to_string()))
        .map_err(|e| Error::invalid_options(format!("cannot read the {what}: {e}")))
}

/// The page sends its options as preset [`Settings`], read by the engine's own parsers.
fn job_from(options: JsValue) -> Result<Job, Error> {
    from_js::<Settings>(options, "options")?.job()
}

/// What the worker matches on: the stable code, and the sentence to show.
#[derive(Serialize)]
struct WebError {
    code: &'static str,
    message: String,
}

fn error_value(error: Error) -> JsValue {
    to_js(&WebError {
        code: error.code(),
        message: error.message(),
    })
}

/// One output: its bytes, copied out of wasm memory once into a buffer the worker can
/// transfer to the page, and its report.
#[derive(Serialize)]
struct WebOutput<'a> {
    #[serde(with = "serde_wasm_bindgen::preserve")]
    bytes: js_sys::Uint8Array,
    meta: &'a Output,
}

fn outputs_value(outputs: &[Output]) -> JsValue {
    let outputs: Vec<WebOutput> = outputs
        .iter()
        .map(|output| WebOutput {
            bytes: js_sys::Uint8Array::from(output.bytes.as_slice()),
            meta: output,
        })
        .collect();
    to_js(&outputs)
}

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
    let previous = std::panic::take_hook();
    // A panic aborts this wasm instance (panic=abort). Record it first, so the worker can
    // tell the page which file crashed it (see takeFinished) before the instance is lost.
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(mut crash) = CRASH.lock() {
            *crash = Some((CURRENT_JOB.with(Cell::get), info.to_string()));
        }
        previous(info);
    }));
}

/// What the page builds itself from: version, flavor, threads, the format table and the
/// description of every option.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EngineInfo {
    version: &'static str,
    flavor: &'static str,
    threads: usize,
    formats: &'static [crate::FormatInfo],
    visual_quality_levels: &'static [crate::VisualLevel],
    name_fields: &'static [(&'static str, &'static str)],
    presets: Vec<crate::BuiltInPreset>,
    options: Vec<crate::OptionInfo>,
    fits: Vec<crate::ChoiceInfo>,
    zip: ZipSizes,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ZipSizes {
    tail_bytes: u64,
    local_header_max: u64,
}

#[wasm_bindgen(js_name = engineInfo)]
pub fn engine_info() -> JsValue {
    to_js(&EngineInfo {
        version: env!("CARGO_PKG_VERSION"),
        flavor: if cfg!(feature = "parallel") {
            "parallel"
        } else {
            "single"
        },
        threads: rayon::current_num_threads(),
        formats: &crate::FORMATS,
        visual_quality_levels: &crate::VisualQuality::LEVELS,
        name_fields: &crate::NAME_FIELDS,
        presets: crate::built_in_presets(),
        options: crate::describe_options(),
        fits: crate::choice_infos::<crate::Fit>(),
        zip: ZipSizes {
            tail_bytes: crate::ZIP_TAIL_BYTES,
            local_header_max: crate::ZIP_LOCAL_HEADER_MAX,
        },
    })
}

/// The input file an output is named after, as the page knows it.
#[derive(Deserialize)]
struct WebFile {
    path: String,
    number: usize,
    /// `File.lastModified`, in milliseconds since 1970.
    modified: f64,
}

/// What naming needs from an output's report (the `meta` of [`convert`]).
#[derive(Deserialize)]
struct NamedOutput {
    size: String,
    width: u32,
    height: u32,
    captured: Option<String>,
}

/// The name and date of one output. `numbered` is the name a collision gives it, with NUL
/// where the number goes (no file name holds a NUL); the page numbers collisions
/// ("name (2)"), where the CLI refuses them. `modified` is in milliseconds, under the
/// `dates` option.
#[derive(Serialize)]
struct OutputName {
    name: String,
    numbered: String,
    modified: f64,
}

#[wasm_bindgen(js_name = outputName)]
pub fn output_name(options: JsValue, file: JsValue, meta: JsValue) -> Result<JsValue, JsValue> {
    let named = || -> Result<OutputName, Error> {
        let web: Settings = from_js(options, "options")?;
        let job = web.job()?;
        let file: WebFile = from_js(file, "file to name")?;
        let output: NamedOutput = from_js(meta, "output to name")?;
        let file_date = DateTime::from_unix_seconds((file.modified / 1000.0).floor() as i64);
        let captured = output.captured.as_deref().map(str::parse).transpose()?;
        let input = NameInput {
            path: &file.path,
            number: file.number,
            file_date,
            format: job.format,
        };
        let made = NameOutput {
            width: output.width,
            height: output.height,
            captured,
        };
        let name = web
            .template(job.sizes.len())?
            .render(&input, &output.size, Some(&made))
            .ok_or_else(|| Error::internal("an output's name needs more than it has"))?;
        Ok(OutputName {
            numbered: crate::naming::numbered_as(&name, "\0"),
            name,
            modified: web.dates.pick(file_date, captured).unix_seconds() as f64 * 1000.0,
        })
    };
    named().map(|name| to_js(&name)).map_err(error_value)
}

/// Upright size, format and frame count from the header.
#[wasm_bindgen]
pub fn inspect(bytes: &[u8]) -> Result<JsValue, JsValue> {
    crate::inspect(bytes, &crate::Limits::default())
        .map(|info| to_js(&info))
        .map_err(error_value)
}

/// Reads a preset file the user imports: every setting filled in, or an `invalid-options`
/// error saying what is wrong with it.
#[wasm_bindgen(js_name = readPreset)]
pub fn read_preset(json: &str) -> Result<JsValue, JsValue> {
    Preset::from_json(json)
        .map(|preset| to_js(&preset))
        .map_err(error_value)
}

/// Where a ZIP archive's directory is, from its last bytes (`engineInfo().zip.tailBytes` or
/// fewer): `{ at: { offset, size } }` or `{ zip64RecordAt }` (then call `zip64Directory`
/// with the 56 bytes there).
#[wasm_bindgen(js_name = zipDirectory)]
pub fn zip_directory(tail: &[u8], archive_len: f64) -> Result<JsValue, JsValue> {
    crate::zip_directory(tail, archive_len as u64)
        .map(|directory| to_js(&directory))
        .map_err(error_value)
}

/// The directory's place from a ZIP64 end record, as [`zip_directory`] gives it.
#[wasm_bindgen(js_name = zip64Directory)]
pub fn zip64_directory(record: &[u8]) -> Result<JsValue, JsValue> {
    crate::zip64_directory(record)
        .map(|directory| to_js(&directory))
        .map_err(error_value)
}

/// The file entries of a ZIP directory: `[{ path, offset, compressedSize, size, modified
/// (ms) | null, problem: {code, message} | null, ... }]`.
#[wasm_bindgen(js_name = zipEntries)]
pub fn zip_entries(directory: &[u8]) -> Result<JsValue, JsValue> {
    crate::zip_entries(directory, &crate::Limits::default())
        .map(|entries| to_js(&entries))
        .map_err(error_value)
}

/// One entry's bytes, from the archive's slice at its offset (`engineInfo().zip
/// .localHeaderMax` plus its compressed size, or to the archive's end). `entry` is as
/// [`zip_entries`] gave it, already checked to have no problem.
#[wasm_bindgen(js_name = zipEntryBytes)]
pub fn zip_entry_bytes(slice: &[u8], entry: JsValue) -> Result<Vec<u8>, JsValue> {
    let entry: crate::ZipEntry = from_js(entry, "ZIP entry").map_err(error_value)?;
    crate::zip_entry_bytes(slice, &entry).map_err(error_value)
}

fn run(bytes: &[u8], job: &Job) -> Result<Vec<Output>, Error> {
    // A valid image with this marker appended crashes the engine mid-conversion, after
    // inspect and estimate succeeded, so the browser tests can prove crash recovery.
    #[cfg(feature = "test-hooks")]
    if bytes.ends_with(b"IMGBATCH-CRASH-TEST") {
        panic!("test hook: injected crash");
    }
    crate::convert(bytes, job)
}

/// Converts one file on the calling thread.
#[wasm_bindgen]
pub fn convert(bytes: &[u8], options: JsValue) -> Result<JsValue, JsValue> {
    job_from(options)
        .and_then(|job| run(bytes, &job))
        .map(|outputs| outputs_value(&outputs))
        .map_err(error_value)
}

/// Converts RGBA pixels the browser decoded from `original` (AVIF, which has no pure-Rust
/// decoder here), with the metadata its container holds.
#[wasm_bindgen(js_name = convertRgba)]
pub fn convert_rgba(
    original: &[u8],
    width: u32,
    height: u32,
    rgba: Vec<u8>,
    options: JsValue,
) -> Result<JsValue, JsValue> {
    let job = job_from(options).map_err(error_value)?;
    let pixels = crate::Pixels::from_rgba(width, height, rgba);
    crate::convert_browser_decoded(original, pixels, &job)
        .map(|outputs| outputs_value(&outputs))
        .map_err(error_value)
}

thread_local! {
    /// The job this thread is converting, for the crash report.
    static CURRENT_JOB: Cell<Option<u32>> = const { Cell::new(None) };
}

static CRASH: Mutex<Option<(Option<u32>, String)>> = Mutex::new(None);

/// A converted or failed job, with the estimate it was admitted with: its memory is given
/// back only once its outputs have been handed to the page, as `run_batch` does.
#[cfg(feature = "parallel")]
struct Finished {
    id: u32,
    estimate: u64,
    outcome: Result<Vec<Output>, Error>,
}

#[cfg(feature = "parallel")]
struct Pending {
    id: u32,
    bytes: Vec<u8>,
    job: Job,
}

#[cfg(feature = "parallel")]
static FINISHED: Mutex<Vec<Finished>> = Mutex::new(Vec::new());

/// The engine's one admission rule, for the jobs the worker submits (created on first use,
/// after `initThreadPool`, so it sees the pool's size).
#[cfg(feature = "parallel")]
static SCHEDULER: std::sync::LazyLock<Mutex<crate::Scheduler<Pending>>> =
    std::sync::LazyLock::new(|| {
        Mutex::new(crate::Scheduler::new(crate::Admission::browser(
            rayon::current_num_threads(),
        )))
    });

/// Queues a file for the thread pool and returns at once, so the worker's event loop stays
/// free for cancel, progress and new files. It starts when the scheduler admits it by its
/// estimated memory. Collect with [`take_finished`]. An error here (bad options, a header
/// that cannot be read) is the file's result.
#[cfg(feature = "parallel")]
#[wasm_bindgen]
pub fn submit(id: u32, bytes: Vec<u8>, options: JsValue) -> Result<(), JsValue> {
    let job = job_from(options).map_err(error_value)?;
    let estimate = crate::estimate(&bytes, &job).map_err(error_value)?;
    if let Ok(mut scheduler) = SCHEDULER.lock() {
        scheduler.push(estimate, Pending { id, bytes, job });
    }
    start_admitted();
    Ok(())
}

#[cfg(feature = "parallel")]
fn start_admitted() {
    let admitted = SCHEDULER
        .lock()
        .map(|mut scheduler| scheduler.admitted())
        .unwrap_or_default();
    for (estimate, Pending { id, bytes, job }) in admitted {
        rayon::spawn(move || {
            CURRENT_JOB.with(|c| c.set(Some(id)));
            let outcome = run(&bytes, &job);
            drop(bytes);
            CURRENT_JOB.with(|c| c.set(None));
            if let Ok(mut finished) = FINISHED.lock() {
                finished.push(Finished {
                    id,
                    estimate,
                    outcome,
                });
            }
        });
    }
}

#[cfg(feature = "parallel")]
#[derive(Serialize)]
struct Crash {
    id: Option<u32>,
    message: String,
}

/// One finished job: `outputs` as [`convert`] gives them, or `error`; the other is null.
#[cfg(feature = "parallel")]
#[derive(Serialize)]
struct Done {
    id: u32,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    outputs: JsValue,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    error: JsValue,
}

#[cfg(feature = "parallel")]
#[derive(Serialize)]
struct Progress {
    crashed: Option<Crash>,
    done: Vec<Done>,
}

/// Jobs finished since the last call: `{ crashed: null | {id, message}, done: [{id,
/// outputs, error}] }`. After a crash the instance must be thrown away.
#[cfg(feature = "parallel")]
#[wasm_bindgen(js_name = takeFinished)]
pub fn take_finished() -> JsValue {
    let finished = FINISHED
        .lock()
        .map(|mut f| std::mem::take(&mut *f))
        .unwrap_or_default();
    let mut done = Vec::with_capacity(finished.len());
    for Finished {
        id,
        estimate,
        outcome,
    } in finished
    {
        let (outputs, error) = match outcome {
            Ok(outputs) => (outputs_value(&outputs), JsValue::NULL),
            Err(error) => (JsValue::NULL, error_value(error)),
        };
        // The outputs are copied out of wasm memory now, so their room is free again.
        if let Ok(mut scheduler) = SCHEDULER.lock() {
            scheduler.end(estimate);
        }
        done.push(Done { id, outputs, error });
    }
    start_admitted();
    let crashed = CRASH
        .lock()
        .ok()
        .and_then(|c| c.clone())
        .map(|(id, message)| Crash { id, message });
    to_js(&Progress { crashed, done })
}
