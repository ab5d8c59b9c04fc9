//! The `imgbatch` command: folders in, folders out. Argument parsing, walking folders,
//! writing files and reporting; every image decision is the engine's.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{ErrorKind, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use clap::{CommandFactory, FromArgMatches, Parser};
use imgbatch::{
    BatchOptions, CancelToken, Collision, DateSource, DateTime, Error, Event, FileResult, Format,
    Job, NameInput, NameOutput, NameTemplate, Names, ResizeSpec, Source,
};
use serde_json::json;

mod conversion;
mod zip_input;

use conversion::{CONVERSION, Conversion, ConversionArgs, conversion};

/// Convert, resize, orient and strip metadata from many images at once.
#[derive(Parser, Debug)]
#[command(version, after_help = AFTER_HELP)]
struct Args {
    /// Files and folders to convert. Folders are walked recursively; their structure is
    /// kept under the output folder.
    #[arg(required_unless_present = "licenses")]
    inputs: Vec<PathBuf>,
    /// Output folder (created if missing).
    #[arg(short, long, required_unless_present = "licenses")]
    out: Option<PathBuf>,
    /// Print the licences of the software imgbatch is built from, and exit.
    #[arg(long, exclusive = true)]
    licenses: bool,
    /// A built-in preset or a preset file exported from the page: the whole conversion.
    #[arg(long, value_name = "NAME|FILE", help = preset_help())]
    preset: Option<String>,
    /// Files converted at once (default: all cores).
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Memory budget for files in flight, in MiB.
    #[arg(long, default_value_t = 2048, value_name = "MIB")]
    memory: u64,
    /// Replace existing output files (without it they are refused, never clobbered).
    #[arg(long)]
    overwrite: bool,
    /// Leave outputs that already exist alone and report them as skipped: run an
    /// interrupted batch again with this to convert only what is missing.
    #[arg(long, conflicts_with = "overwrite")]
    skip_existing: bool,
    /// Print a JSON report of every file on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    conversion: ConversionArgs,
}

/// Written by scripts/third-party from the dependency tree; the site serves it too.
const THIRD_PARTY: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/THIRD-PARTY.txt"));

const AFTER_HELP: &str = "Exit status: 0 all converted, 1 some failed, 2 could not run.";

/// The engine's built-in presets, so the help lists exactly what `--preset` accepts.
fn preset_help() -> String {
    let presets: Vec<String> = imgbatch::built_in_presets()
        .iter()
        .map(|p| format!("{} ({})", p.id, p.summary))
        .collect();
    format!(
        "A built-in preset or a preset file (JSON, as the page exports it) that sets the \
         whole conversion; the options under \"{CONVERSION}\" cannot be added to it. \
         Built in: {}.",
        presets.join("; ")
    )
}

fn main() -> ExitCode {
    // This same program, started by itself to decode one AV1 picture (see `isolate_av1`).
    if let Some(code) = imgbatch::serve_av1_worker_if_asked() {
        return code;
    }
    imgbatch::quiet_caught_panics();
    let matches = Args::command().get_matches();
    let args = match Args::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    if args.licenses {
        // A closed pipe (`| head`) is the reader's choice, not an error.
        let _ = std::io::stdout().write_all(THIRD_PARTY.as_bytes());
        return ExitCode::SUCCESS;
    }
    match run(&args, &matches) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("imgbatch: {message}");
            ExitCode::from(2)
        }
    }
}

/// A file found under the inputs, with the path its outputs go under.
struct FileSource<'a> {
    path: PathBuf,
    /// Below the input folder, `/`-separated, as names are made.
    relative: String,
    display: String,
    /// Its position among the inputs, from 1, for `{n}`.
    number: usize,
    modified: DateTime,
    /// Set by --skip-existing: outputs already under their final name are not wanted.
    skip_existing: Option<&'a Naming>,
    origin: Origin,
}

/// Where a source's bytes come from.
enum Origin {
    File,
    /// An entry of the ZIP archive at the source's `path`.
    ZipEntry(imgbatch::ZipEntry),
    /// A ZIP archive whose directory cannot be read: reported as one failed file.
    Unreadable(imgbatch::ErrorKind, String),
}

impl Source for FileSource<'_> {
    fn name(&self) -> &str {
        &self.display
    }
    fn read(&self) -> imgbatch::Result<Vec<u8>> {
        match &self.origin {
            Origin::File => fs::read(&self.path).map_err(|e| {
                Error::io(format!("cannot read {}", self.path.display())).with_source(e)
            }),
            Origin::ZipEntry(entry) => zip_input::read_entry(&self.path, entry),
            Origin::Unreadable(kind, message) => Err(Error::new(*kind, message.clone())),
        }
    }
    /// An output whose name needs its pixel size ({w}, {h}) cannot be looked for before
    /// decoding: it is wanted here and left alone when it is found at write time.
    fn wanted(&self, sizes: &[ResizeSpec]) -> Vec<bool> {
        sizes
            .iter()
            .map(|spec| {
                self.skip_existing
                    .and_then(|naming| naming.path(self, &spec.label(), None))
                    .is_none_or(|path| !occupied(&path))
            })
            .collect()
    }
}

/// Something is at `path`, even a dangling link: it is not ours to replace.
fn occupied(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// Where outputs go: the engine names them, for writing and for --skip-existing.
struct Naming {
    out: PathBuf,
    format: Format,
    template: NameTemplate,
    dates: DateSource,
}

impl Naming {
    /// None when the name needs what only decoding tells and `output` is None.
    fn path(
        &self,
        source: &FileSource,
        label: &str,
        output: Option<&NameOutput>,
    ) -> Option<PathBuf> {
        let input = NameInput {
            path: &source.relative,
            number: source.number,
            file_date: source.modified,
            format: self.format,
        };
        let name = self.template.render(&input, label, output)?;
        Some(
            name.split('/')
                .fold(self.out.clone(), |path, part| path.join(part)),
        )
    }
}

/// A path that was not converted: the path, a stable code and the reason.
type Skipped = (String, &'static str, String);

/// Walks the inputs (following symbolic links). Files that are clearly not images (unknown
/// extension and no image magic) and entries that cannot be walked are returned separately,
/// with the reason, so they are reported as skipped rather than lost.
fn collect<'a>(
    inputs: &[PathBuf],
    skip_existing: Option<&'a Naming>,
) -> Result<(Vec<FileSource<'a>>, Vec<Skipped>), String> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for input in inputs {
        let meta =
            fs::metadata(input).map_err(|e| format!("cannot open {}: {e}", input.display()))?;
        let mut found: Vec<(PathBuf, PathBuf)> = Vec::new();
        if meta.is_dir() {
            for entry in walkdir::WalkDir::new(input)
                .follow_links(true)
                .sort_by_file_name()
            {
                match entry {
                    Ok(entry) if entry.file_type().is_file() => {
                        let relative = entry
                            .path()
                            .strip_prefix(input)
                            .unwrap_or(entry.path())
                            .to_path_buf();
                        found.push((entry.path().to_path_buf(), relative));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let path = e.path().unwrap_or(input).display().to_string();
                        skipped.push((path, "unreadable", format!("cannot be read: {e}")));
                    }
                }
            }
        } else {
            let name = input
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| input.clone());
            found.push((input.clone(), name));
        }
        for (path, relative) in found {
            let display = path.display().to_string();
            // A killed run's unfinished output, when the output folder is inside an input:
            // it holds image magic, but it is not a photo of the user's.
            if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| temp_owner(n).is_some())
            {
                continue;
            }
            let relative: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if zip_input::is_zip(&path) {
                // Its entries go where a folder of the same contents would.
                let folder = relative[..relative.len().saturating_sub(1)].join("/");
                let under = |inner: &str| match folder.as_str() {
                    "" => inner.to_string(),
                    _ => format!("{folder}/{inner}"),
                };
                match zip_input::entries(&path, &imgbatch::Limits::default()) {
                    Ok(entries) => {
                        for entry in entries {
                            let shown = format!("{display}/{}", entry.path);
                            let image = Path::new(&entry.path)
                                .extension()
                                .and_then(|e| e.to_str())
                                .is_some_and(Format::is_image_extension);
                            if entry.problem.is_none() && !image {
                                skipped.push((shown, "not-an-image", "not an image".to_string()));
                                continue;
                            }
                            files.push(FileSource {
                                modified: entry.modified.unwrap_or_else(|| modified(&path)),
                                path: path.clone(),
                                relative: under(&entry.path),
                                display: shown,
                                number: files.len() + 1,
                                skip_existing,
                                origin: Origin::ZipEntry(entry),
                            });
                        }
                    }
                    Err(e) => files.push(FileSource {
                        modified: modified(&path),
                        relative: relative.join("/"),
                        path,
                        display,
                        number: files.len() + 1,
                        skip_existing,
                        origin: Origin::Unreadable(e.kind(), e.message()),
                    }),
                }
            } else if looks_like_image(&path) {
                files.push(FileSource {
                    modified: modified(&path),
                    path,
                    relative: relative.join("/"),
                    display,
                    number: files.len() + 1,
                    skip_existing,
                    origin: Origin::File,
                });
            } else {
                skipped.push((display, "not-an-image", "not an image".to_string()));
            }
        }
    }
    Ok((files, skipped))
}

/// The file's modification time, or the epoch where the file system keeps none.
fn modified(path: &Path) -> DateTime {
    let seconds = fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    DateTime::from_unix_seconds(seconds)
}

fn looks_like_image(path: &Path) -> bool {
    let by_name = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(Format::is_image_extension);
    by_name || {
        let mut head = [0u8; 64];
        let n = fs::File::open(path)
            .and_then(|mut f| f.read(&mut head))
            .unwrap_or(0);
        Format::sniff(&head[..n]).is_some()
    }
}

struct Report {
    files: BTreeMap<usize, serde_json::Value>,
    /// Every output name handed out so far; a second output of the same name is refused.
    names: Names,
    /// Output folders already cleared of a killed run's temporary files.
    swept: HashSet<PathBuf>,
    failed: usize,
    converted: usize,
    /// Files left alone because all their outputs exist (--skip-existing).
    existing: usize,
    /// Outputs left alone because they exist, of converted and of skipped files.
    existing_outputs: usize,
    output_bytes: u64,
}

fn run(args: &Args, matches: &clap::ArgMatches) -> Result<ExitCode, String> {
    let out = args
        .out
        .as_deref()
        .ok_or("an output folder (--out) is needed")?;
    let Conversion {
        job,
        template,
        dates,
    } = conversion(args, matches)?;
    // rav1d panics on some corrupt AVIFs inside its `extern "C"` API, where a panic aborts
    // the process: decode AV1 in a child of our own, so that costs one file (issue 16).
    let me = std::env::current_exe()
        .map_err(|e| format!("cannot find this program to decode AVIF with: {e}"))?;
    imgbatch::isolate_av1(me).map_err(|e| e.message())?;
    let threads = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| format!("cannot start {threads} worker threads: {e}"))?;
    let naming = Naming {
        out: out.to_path_buf(),
        format: job.format,
        template,
        dates,
    };
    let (sources, skipped) = collect(&args.inputs, args.skip_existing.then_some(&naming))?;
    fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;

    let quiet_bar = args.json || !std::io::stderr().is_terminal();
    let bar = if quiet_bar {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(sources.len() as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} files  {per_sec}  ETA {eta}  {wide_msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    for (path, _, reason) in &skipped {
        bar.suspend(|| eprintln!("skipped: {path}: {reason}"));
    }

    let report = Mutex::new(Report {
        files: BTreeMap::new(),
        names: Names::new(Collision::Refuse),
        swept: HashSet::new(),
        failed: 0,
        converted: 0,
        existing: 0,
        existing_outputs: 0,
        output_bytes: 0,
    });
    let started = Instant::now();
    let options = BatchOptions {
        concurrency: threads,
        memory_budget: args.memory << 20,
    };
    let on_event = |event: Event| match event {
        Event::Started { name, .. } => bar.set_message(name),
        Event::Finished(result) => {
            let source = &sources[result.index];
            let entry = finish_file(args, &job, &naming, source, result, &report);
            if let Some(error) = entry.get("error").filter(|e| !e.is_null()) {
                bar.suspend(|| {
                    eprintln!(
                        "error: {}: {} ({})",
                        source.display,
                        error["message"].as_str().unwrap_or(""),
                        error["code"].as_str().unwrap_or("")
                    )
                });
            }
            bar.inc(1);
        }
    };
    let summary = imgbatch::run_batch(&sources, &job, &options, &CancelToken::new(), &on_event)
        .map_err(|e| e.message())?;
    bar.finish_and_clear();
    let report = report
        .into_inner()
        .map_err(|_| "internal error: report lock poisoned".to_string())?;
    let elapsed = started.elapsed().as_secs_f64();

    let mut files: Vec<_> = report.files.into_values().collect();
    files.extend(skipped.iter().map(|(path, code, reason)| {
        json!({"input": path, "status": "skipped", "code": code, "reason": reason})
    }));
    let skipped_files = skipped.len() + report.existing;
    if args.json {
        let doc = json!({
            "files": files,
            "summary": {
                "converted": report.converted,
                "failed": report.failed,
                "skipped": skipped_files,
                "existing_outputs": report.existing_outputs,
                "input_bytes": summary.input_bytes,
                "output_bytes": report.output_bytes,
                "seconds": elapsed,
            }
        });
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut out, &doc);
        let _ = writeln!(out);
    }
    let already = if report.existing > 0 {
        format!(", {} already converted", report.existing)
    } else {
        String::new()
    };
    eprintln!(
        "imgbatch: converted {} of {} files ({} failed, {} skipped{already}): {} -> {} in {:.1} s",
        report.converted,
        sources.len() + skipped.len(),
        report.failed,
        skipped_files,
        human_bytes(summary.input_bytes),
        human_bytes(report.output_bytes),
        elapsed
    );
    Ok(if report.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes one file's outputs and returns its JSON report entry.
fn finish_file(
    args: &Args,
    job: &Job,
    naming: &Naming,
    source: &FileSource,
    result: FileResult,
    report: &Mutex<Report>,
) -> serde_json::Value {
    let mut entry = json!({
        "input": source.display,
        "input_bytes": result.input_bytes,
        "ms": (result.elapsed_ms * 10.0).round() / 10.0,
    });
    // The outputs the engine was told not to make: they exist (--skip-existing).
    let existing: Vec<serde_json::Value> = result
        .not_wanted
        .iter()
        .filter_map(|&i| job.output_sizes().get(i))
        .filter_map(|spec| naming.path(source, &spec.label(), None))
        .map(|path| existing_entry(&path))
        .collect();
    let written = result
        .outcome
        .and_then(|outputs| write_outputs(args, naming, source, &outputs, report));
    let Ok(mut report) = report.lock() else {
        return entry;
    };
    match written {
        Ok(mut outputs) => {
            outputs.extend(existing);
            let left_alone = outputs.iter().filter(|o| o["status"] == "skipped").count();
            report.existing_outputs += left_alone;
            report.output_bytes += outputs
                .iter()
                .map(|o| o["bytes"].as_u64().unwrap_or(0))
                .sum::<u64>();
            if left_alone == outputs.len() {
                report.existing += 1;
                entry["status"] = json!("skipped");
                entry["code"] = json!(EXISTS);
                entry["reason"] = json!("its outputs exist");
            } else {
                report.converted += 1;
                entry["status"] = json!("converted");
            }
            entry["outputs"] = json!(outputs);
            entry["error"] = serde_json::Value::Null;
        }
        Err(error) => {
            report.failed += 1;
            entry["status"] = json!(if error.kind() == imgbatch::ErrorKind::Cancelled {
                "cancelled"
            } else {
                "failed"
            });
            entry["outputs"] = json!([]);
            entry["error"] = json!({"code": error.code(), "message": error.message()});
        }
    }
    report.files.insert(result.index, entry.clone());
    entry
}

/// The stable code of an output (or a file) left alone because it already exists.
const EXISTS: &str = "exists";

fn existing_entry(path: &Path) -> serde_json::Value {
    json!({"path": path.display().to_string(), "status": "skipped", "code": EXISTS})
}

fn write_outputs(
    args: &Args,
    naming: &Naming,
    source: &FileSource,
    outputs: &[imgbatch::Output],
    report: &Mutex<Report>,
) -> imgbatch::Result<Vec<serde_json::Value>> {
    let paths: Vec<PathBuf> = outputs
        .iter()
        .filter_map(|o| {
            let made = NameOutput {
                width: o.width,
                height: o.height,
                captured: o.captured,
            };
            naming.path(source, &o.label, Some(&made))
        })
        .collect();
    {
        let mut report = report
            .lock()
            .map_err(|_| Error::internal("report lock poisoned"))?;
        // Claim before looking at the disk: a name this batch already wrote is a collision
        // of two inputs, whichever of them finished first, not a leftover of an earlier run.
        for path in &paths {
            report.names.claim(path.to_string_lossy().into_owned())?;
        }
        if let Some(path) = paths
            .iter()
            .find(|p| !args.overwrite && !args.skip_existing && occupied(p))
        {
            return Err(exists_error(path));
        }
    }
    let mut entries = Vec::new();
    for (output, path) in outputs.iter().zip(&paths) {
        let date = naming.dates.pick(source.modified, output.captured);
        let modified = u64::try_from(date.unix_seconds())
            .ok()
            .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        let dir = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display())).with_source(e))?;
        let first_visit = report
            .lock()
            .map_err(|_| Error::internal("report lock poisoned"))?
            .swept
            .insert(dir.to_path_buf());
        if first_visit {
            remove_strays(dir);
        }
        match write_atomically(path, &output.bytes, modified, args.overwrite) {
            Ok(()) => {}
            // Appeared since the check (a name that needs {w} or {h} is only known now).
            Err(e) if e.kind() == ErrorKind::AlreadyExists && args.skip_existing => {
                entries.push(existing_entry(path));
                continue;
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Err(exists_error(path)),
            Err(e) => {
                return Err(Error::io(format!("cannot write {}", path.display())).with_source(e));
            }
        }
        // The engine's own report of the output (format, size, timings, notes), plus where it went.
        let mut entry = serde_json::to_value(output).unwrap_or_default();
        entry["path"] = json!(path.display().to_string());
        entry["bytes"] = json!(output.bytes.len());
        entry["status"] = json!("written");
        entries.push(entry);
    }
    Ok(entries)
}

fn exists_error(path: &Path) -> Error {
    Error::io(format!(
        "{} exists; pass --overwrite to replace it, or --skip-existing to keep it",
        path.display()
    ))
}

/// Marks the hidden temporary file an output is written to before it gets its name:
/// `.<name>.imgbatch-tmp-<pid>`.
const TEMP_MARK: &str = ".imgbatch-tmp-";

fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".{name}{TEMP_MARK}{}", std::process::id()))
}

/// The process that wrote a temporary file, from its name; None for any other file.
fn temp_owner(name: &str) -> Option<u32> {
    let (_, pid) = name.strip_prefix('.')?.rsplit_once(TEMP_MARK)?;
    pid.parse().ok()
}

/// Removes the temporary files a killed run left in `dir`, but only those of processes that
/// are gone: another imgbatch may be writing into the same folder right now. Asks /proc, so
/// Linux only; elsewhere strays stay, harmless: hidden, never taken for outputs (names
/// differ), skipped by the input walk.
fn remove_strays(dir: &Path) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let owner = entry.file_name().to_str().and_then(temp_owner);
        if owner.is_some_and(|pid| !Path::new("/proc").join(pid.to_string()).exists()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Writes `bytes` so that no one, not even a killed run, sees a partial file under `path`:
/// into a hidden temporary file beside it (same folder, so same file system, so the move is
/// atomic), flushed to disk, then moved into place.
/// The file gets `modified` as its modification time, before it has its name.
fn write_atomically(
    path: &Path,
    bytes: &[u8],
    modified: Option<SystemTime>,
    replace: bool,
) -> std::io::Result<()> {
    // Named after our pid, so two runs never write into each other's temporary file; a
    // file of ours with this name can only be left from an earlier output of this run
    // that failed, so truncating it is safe.
    let temp = temp_path(path);
    let moved = (|| {
        let mut file = fs::File::create(&temp)?;
        file.write_all(bytes)?;
        if let Some(time) = modified {
            file.set_modified(time)?;
        }
        // Without it, a crash of the machine (not just of the run) soon after the rename
        // can leave the final name on an empty file (ext4, XFS delayed allocation).
        file.sync_all()?;
        drop(file);
        if replace {
            return fs::rename(&temp, path);
        }
        // rename() would silently replace a file that appeared since the check (another
        // run into the same folder); a hard link refuses with AlreadyExists, atomically.
        // Where links are not supported (FAT, some network shares), check then rename:
        // racy only for that instant.
        match fs::hard_link(&temp, path) {
            Ok(()) => {
                let _ = fs::remove_file(&temp);
                Ok(())
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(e),
            Err(_) if occupied(path) => Err(ErrorKind::AlreadyExists.into()),
            Err(_) => fs::rename(&temp, path),
        }
    })();
    if moved.is_err() {
        let _ = fs::remove_file(&temp);
    }
    moved
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / f64::from(1u32 << 30)),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
