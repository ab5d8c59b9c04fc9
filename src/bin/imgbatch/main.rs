//! The `imgbatch` command: folders in, folders out. Argument parsing and the run from start
//! to finish; walking the inputs, writing the outputs and the report are in their own
//! modules, and every image decision is the engine's.

use std::fs;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use clap::{CommandFactory, FromArgMatches, Parser};
use imgbatch::{BatchOptions, CancelToken, Event, FileResult, Job};

mod conversion;
mod inputs;
mod output;
mod report;
mod zip_input;

use conversion::{CONVERSION, Conversion, ConversionArgs, conversion};
use inputs::FileSource;
use output::{Naming, Writer};
use report::{ErrorEntry, Report};

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
    let (sources, skipped) = inputs::collect(&args.inputs, args.skip_existing.then_some(&naming))?;
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
    for skip in &skipped {
        bar.suspend(|| eprintln!("skipped: {}: {}", skip.path, skip.why.reason));
    }

    let writer = Writer::new(&naming, args.overwrite, args.skip_existing);
    let report = Mutex::new(Report::default());
    let started = Instant::now();
    let options = BatchOptions {
        concurrency: threads,
        memory_budget: args.memory << 20,
    };
    let on_event = |event: Event| match event {
        Event::Started { name, .. } => bar.set_message(name),
        Event::Finished(result) => {
            let source = &sources[result.index];
            if let Some(error) = finish_file(&job, &writer, source, result, &report) {
                bar.suspend(|| {
                    eprintln!(
                        "error: {}: {} ({})",
                        source.display, error.message, error.code
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

    let inputs = sources.len() + skipped.len();
    let existing = report.already_converted();
    let document = report.into_document(skipped, summary.input_bytes, elapsed);
    if args.json {
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut out, &document);
        let _ = writeln!(out);
    }
    let summary = &document.summary;
    let already = if existing > 0 {
        format!(", {existing} already converted")
    } else {
        String::new()
    };
    eprintln!(
        "imgbatch: converted {} of {} files ({} failed, {} skipped{already}): {} -> {} in {:.1} s",
        summary.converted,
        inputs,
        summary.failed,
        summary.skipped,
        human_bytes(summary.input_bytes),
        human_bytes(summary.output_bytes),
        elapsed
    );
    Ok(if summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes one file's outputs and records them in the report; returns its error, if it
/// failed.
fn finish_file(
    job: &Job,
    writer: &Writer,
    source: &FileSource,
    result: FileResult,
    report: &Mutex<Report>,
) -> Option<ErrorEntry> {
    // The outputs the engine was told not to make: they exist (--skip-existing).
    let existing = result
        .not_wanted
        .iter()
        .filter_map(|&i| job.output_sizes().get(i))
        .filter_map(|spec| writer.naming.path(source, &spec.label(), None))
        .map(|path| report::OutputEntry::existing(&path));
    let written = result
        .outcome
        .and_then(|outputs| writer.write(source, outputs));
    let written = written.map(|mut outputs| {
        outputs.extend(existing);
        outputs
    });
    report.lock().ok()?.record(
        result.index,
        source.display.clone(),
        result.input_bytes,
        result.elapsed_ms,
        written,
    )
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / f64::from(1u32 << 30)),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
