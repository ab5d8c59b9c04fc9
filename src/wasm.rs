//! The wasm-bindgen layer for the browser: web options in, encoded bytes and JSON reports
//! out. It holds no image logic; everything is delegated to the engine.

use std::cell::Cell;
use std::sync::Mutex;

use serde::Deserialize;
use wasm_bindgen::prelude::*;

use crate::{DateTime, Error, Job, NameInput, NameOutput, Output, Preset, Settings};

/// The page sends its options as preset [`Settings`], read by the engine's own parsers.
fn job_from(options: &str) -> Result<Job, Error> {
    Settings::from_json(options)?.job()
}

fn error_value(error: &Error) -> JsValue {
    let object = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&object, &"code".into(), &error.code().into());
    let _ = js_sys::Reflect::set(&object, &"message".into(), &error.message().into());
    object.into()
}

/// `[{ bytes: Uint8Array, meta: string (JSON of Output without bytes) }]`. The bytes are
/// copied out of wasm memory once, into a buffer the worker can transfer to the page.
fn outputs_value(outputs: &[Output]) -> js_sys::Array {
    outputs
        .iter()
        .map(|output| {
            let object = js_sys::Object::new();
            let bytes = js_sys::Uint8Array::from(output.bytes.as_slice());
            let meta = serde_json::to_string(output).unwrap_or_default();
            let _ = js_sys::Reflect::set(&object, &"bytes".into(), &bytes);
            let _ = js_sys::Reflect::set(&object, &"meta".into(), &meta.into());
            JsValue::from(object)
        })
        .collect()
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

/// Version, flavor, thread count and the format table, as JSON.
#[wasm_bindgen(js_name = engineInfo)]
pub fn engine_info() -> String {
    serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "flavor": if cfg!(feature = "parallel") { "parallel" } else { "single" },
        "threads": rayon::current_num_threads(),
        "formats": crate::FORMATS,
        "visualQualityLevels": crate::VisualQuality::LEVELS,
        "nameFields": crate::NAME_FIELDS,
        "presets": crate::built_in_presets(),
        "options": crate::describe_options(),
        "fits": crate::choice_infos::<crate::Fit>(),
        "zip": {
            "tailBytes": crate::ZIP_TAIL_BYTES,
            "localHeaderMax": crate::ZIP_LOCAL_HEADER_MAX,
        },
    })
    .to_string()
}

/// The input file an output is named after, as the page knows it.
#[derive(Deserialize)]
struct WebFile {
    path: String,
    number: usize,
    /// `File.lastModified`, in milliseconds since 1970.
    modified: f64,
}

/// What naming needs from an output's report (the `meta` JSON of [`convert`]).
#[derive(Deserialize)]
struct WebOutput {
    size: String,
    width: u32,
    height: u32,
    captured: Option<String>,
}

/// The name and date of one output, as JSON: `{ name, numbered, modified }`. `numbered` is
/// the name a collision gives it, with NUL where the number goes (no file name holds a NUL);
/// the page numbers collisions ("name (2)"), where the CLI refuses them. `modified` is in
/// milliseconds, under the `dates` option.
#[wasm_bindgen(js_name = outputName)]
pub fn output_name(options: &str, file: &str, meta: &str) -> Result<String, JsValue> {
    let named = || -> Result<serde_json::Value, Error> {
        let web = Settings::from_json(options)?;
        let job = web.job()?;
        let file: WebFile = serde_json::from_str(file)
            .map_err(|e| Error::internal(format!("bad file for naming: {e}")))?;
        let output: WebOutput = serde_json::from_str(meta)
            .map_err(|e| Error::internal(format!("bad output for naming: {e}")))?;
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
        let modified = web.dates.pick(file_date, captured).unix_seconds() as f64 * 1000.0;
        Ok(serde_json::json!({
            "numbered": crate::naming::numbered_as(&name, "\0"),
            "name": name,
            "modified": modified,
        }))
    };
    named()
        .map(|value| value.to_string())
        .map_err(|e| error_value(&e))
}

/// Upright size, format and frame count from the header, as JSON.
#[wasm_bindgen]
pub fn inspect(bytes: &[u8]) -> Result<String, JsValue> {
    let info = crate::inspect(bytes, &crate::Limits::default()).map_err(|e| error_value(&e))?;
    Ok(serde_json::to_string(&info).unwrap_or_default())
}

/// Estimated peak memory in bytes for converting `bytes` with `options`.
#[wasm_bindgen]
pub fn estimate(bytes: &[u8], options: &str) -> Result<f64, JsValue> {
    let job = job_from(options).map_err(|e| error_value(&e))?;
    crate::estimate(bytes, &job)
        .map(|n| n as f64)
        .map_err(|e| error_value(&e))
}

/// Checks options without converting anything.
#[wasm_bindgen(js_name = checkOptions)]
pub fn check_options(options: &str) -> Result<(), JsValue> {
    job_from(options).map(|_| ()).map_err(|e| error_value(&e))
}

/// Reads a preset file the user imports: its JSON with every setting filled in, or an
/// `invalid-options` error saying what is wrong with it.
#[wasm_bindgen(js_name = readPreset)]
pub fn read_preset(json: &str) -> Result<String, JsValue> {
    let preset = Preset::from_json(json).map_err(|e| error_value(&e))?;
    Ok(serde_json::to_string(&preset).unwrap_or_default())
}

/// Where a ZIP archive's directory is, from its last bytes (`engineInfo().zip.tailBytes` or
/// fewer): `{ at: { offset, size } }` or `{ zip64RecordAt }` (then call `zip64Directory`
/// with the 56 bytes there).
#[wasm_bindgen(js_name = zipDirectory)]
pub fn zip_directory(tail: &[u8], archive_len: f64) -> Result<String, JsValue> {
    let directory = crate::zip_directory(tail, archive_len as u64).map_err(|e| error_value(&e))?;
    Ok(serde_json::to_string(&directory).unwrap_or_default())
}

/// The directory's place from a ZIP64 end record, as [`zip_directory`] gives it.
#[wasm_bindgen(js_name = zip64Directory)]
pub fn zip64_directory(record: &[u8]) -> Result<String, JsValue> {
    let directory = crate::zip64_directory(record).map_err(|e| error_value(&e))?;
    Ok(serde_json::to_string(&directory).unwrap_or_default())
}

/// The file entries of a ZIP directory, as JSON: `[{ path, offset, compressedSize, size,
/// modified (ms) | null, problem: {code, message} | null, ... }]`.
#[wasm_bindgen(js_name = zipEntries)]
pub fn zip_entries(directory: &[u8]) -> Result<String, JsValue> {
    let entries =
        crate::zip_entries(directory, &crate::Limits::default()).map_err(|e| error_value(&e))?;
    Ok(serde_json::to_string(&entries).unwrap_or_default())
}

/// One entry's bytes, from the archive's slice at its offset (`engineInfo().zip
/// .localHeaderMax` plus its compressed size, or to the archive's end). `entry` is its
/// JSON from [`zip_entries`], which the caller has already checked has no problem.
#[wasm_bindgen(js_name = zipEntryBytes)]
pub fn zip_entry_bytes(slice: &[u8], entry: &str) -> Result<Vec<u8>, JsValue> {
    let entry: crate::ZipEntry = serde_json::from_str(entry)
        .map_err(|e| error_value(&Error::internal(format!("bad ZIP entry: {e}"))))?;
    crate::zip_entry_bytes(slice, &entry).map_err(|e| error_value(&e))
}

fn run(bytes: &[u8], options: &str) -> Result<Vec<Output>, Error> {
    // A valid image with this marker appended crashes the engine mid-conversion, after
    // inspect and estimate succeeded, so the browser tests can prove crash recovery.
    #[cfg(feature = "test-hooks")]
    if bytes.ends_with(b"IMGBATCH-CRASH-TEST") {
        panic!("test hook: injected crash");
    }
    crate::convert(bytes, &job_from(options)?)
}

/// Converts one file on the calling thread.
#[wasm_bindgen]
pub fn convert(bytes: &[u8], options: &str) -> Result<js_sys::Array, JsValue> {
    run(bytes, options)
        .map(|o| outputs_value(&o))
        .map_err(|e| error_value(&e))
}

/// Converts RGBA pixels the browser decoded from `original` (AVIF, which has no pure-Rust
/// decoder here), with the metadata its container holds.
#[wasm_bindgen(js_name = convertRgba)]
pub fn convert_rgba(
    original: &[u8],
    width: u32,
    height: u32,
    rgba: Vec<u8>,
    options: &str,
) -> Result<js_sys::Array, JsValue> {
    let job = job_from(options).map_err(|e| error_value(&e))?;
    let pixels = crate::Pixels::from_rgba(width, height, rgba);
    crate::convert_browser_decoded(original, pixels, &job)
        .map(|o| outputs_value(&o))
        .map_err(|e| error_value(&e))
}

thread_local! {
    /// The job this thread is converting, for the crash report.
    static CURRENT_JOB: Cell<Option<u32>> = const { Cell::new(None) };
}

static CRASH: Mutex<Option<(Option<u32>, String)>> = Mutex::new(None);
type Finished = (u32, Result<Vec<Output>, Error>);
static FINISHED: Mutex<Vec<Finished>> = Mutex::new(Vec::new());

/// Starts converting on the thread pool and returns at once, so the worker's event loop
/// stays free for cancel, progress and new files. Collect with [`take_finished`].
#[cfg(feature = "parallel")]
#[wasm_bindgen]
pub fn submit(id: u32, bytes: Vec<u8>, options: String) {
    rayon::spawn(move || {
        CURRENT_JOB.with(|c| c.set(Some(id)));
        let result = run(&bytes, &options);
        drop(bytes);
        CURRENT_JOB.with(|c| c.set(None));
        if let Ok(mut finished) = FINISHED.lock() {
            finished.push((id, result));
        }
    });
}

/// Jobs finished since the last call: `{ crashed: null | {id, message}, done: [{id,
/// outputs} | {id, error}] }`. After a crash the instance must be thrown away.
#[wasm_bindgen(js_name = takeFinished)]
pub fn take_finished() -> js_sys::Object {
    let result = js_sys::Object::new();
    let done = js_sys::Array::new();
    let finished = FINISHED
        .lock()
        .map(|mut f| std::mem::take(&mut *f))
        .unwrap_or_default();
    for (id, outcome) in finished {
        let item = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&item, &"id".into(), &id.into());
        match outcome {
            Ok(outputs) => js_sys::Reflect::set(&item, &"outputs".into(), &outputs_value(&outputs)),
            Err(error) => js_sys::Reflect::set(&item, &"error".into(), &error_value(&error)),
        }
        .ok();
        done.push(&item);
    }
    let crashed = match CRASH.lock().ok().and_then(|c| c.clone()) {
        Some((id, message)) => {
            let crash = js_sys::Object::new();
            let _ = js_sys::Reflect::set(
                &crash,
                &"id".into(),
                &id.map_or(JsValue::NULL, JsValue::from),
            );
            let _ = js_sys::Reflect::set(&crash, &"message".into(), &message.into());
            JsValue::from(crash)
        }
        None => JsValue::NULL,
    };
    let _ = js_sys::Reflect::set(&result, &"crashed".into(), &crashed);
    let _ = js_sys::Reflect::set(&result, &"done".into(), &done);
    result
}
