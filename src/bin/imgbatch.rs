//! The `imgbatch` command: folders in, folders out. Argument parsing, walking folders,
//! writing files and reporting; every image decision is the engine's.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{IsTerminal, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use clap::Parser;
use imgbatch::{
    BatchOptions, CancelToken, ChromaSubsampling, ColorPolicy, EncodeOptions, Error, Event,
    FileResult, Format, Job, JpegPreset, MetadataPolicy, PngCompression, ResizeSpec, Source,
};
use serde_json::json;

/// Convert, resize, orient and strip metadata from many images at once.
#[derive(Parser, Debug)]
#[command(version, after_help = AFTER_HELP)]
struct Args {
    /// Files and folders to convert. Folders are walked recursively; their structure is
    /// kept under the output folder.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output folder (created if missing).
    #[arg(short, long)]
    out: PathBuf,
    /// Output format.
    #[arg(short, long, default_value = "jpeg", value_parser = format_parser())]
    to: Format,
    /// Shrink so the long edge is at most N pixels (same as --size N).
    #[arg(long, value_name = "N")]
    max: Option<u32>,
    /// An output size; repeat for several outputs per input:
    /// 2048 (long edge), s720 (short edge), w720, h480, 800x600 (fit inside),
    /// 800x600:cover | :contain | :fill, 50%, orig.
    #[arg(long = "size", value_name = "SPEC", value_parser = parse_engine::<ResizeSpec>)]
    sizes: Vec<ResizeSpec>,
    /// Resampling filter: lanczos3, mitchell, catmullrom, bilinear, box, nearest.
    #[arg(long, default_value = "lanczos3", value_parser = parse_engine::<imgbatch::Filter>)]
    filter: imgbatch::Filter,
    /// Allow outputs larger than the source.
    #[arg(long)]
    enlarge: bool,
    /// Quality of lossy formats (JPEG, AVIF), 1-100.
    #[arg(short, long, default_value_t = 82, value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,
    /// Largest file each output may be, e.g. 500K or 1.5M (K = 1,000 bytes): the quality is
    /// lowered as far as needed, never raised above --quality. Lossy formats only.
    #[arg(long, value_name = "SIZE", value_parser = parse_engine::<imgbatch::ByteSize>)]
    target_size: Option<imgbatch::ByteSize>,
    /// Write progressive JPEG (renders coarse-to-fine; about 1.8x the encode time for at
    /// most 2% fewer bytes). Baseline by default.
    #[arg(long)]
    progressive: bool,
    /// Baseline JPEG, the default now; still accepted so scripts written when progressive was
    /// the default keep working.
    #[arg(long, hide = true, conflicts_with = "progressive")]
    baseline: bool,
    /// JPEG chroma subsampling.
    #[arg(long, default_value = "420", value_parser = ["420", "422", "444"])]
    chroma: String,
    /// JPEG encoder effort. fast: no trellis, the quickest. balanced: trellis quantisation,
    /// about 10% smaller files for about 4x the encode time. smallest: balanced plus
    /// progressive scans, a little smaller again for about 8x.
    #[arg(long, default_value = "fast", value_parser = parse_engine::<JpegPreset>)]
    jpeg_effort: JpegPreset,
    /// AVIF encoder speed: 1 (smallest, slowest) to 10 (fastest).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u8).range(1..=10))]
    avif_speed: u8,
    /// PNG compression effort.
    #[arg(long, default_value = "fast", value_parser = ["fastest", "fast", "balanced", "max"])]
    png_compression: String,
    /// strip: drop EXIF (GPS, camera, date), XMP, IPTC and comments, keep the colour profile.
    /// keep: carry EXIF (orientation reset), colour profile and XMP.
    /// strip-gps: as keep, without the location (GPS, and XMP place names).
    #[arg(long, default_value = "strip", value_parser = parse_engine::<MetadataPolicy>)]
    metadata: MetadataPolicy,
    /// keep: leave colours in the photo's own profile (Display P3, Adobe RGB) and embed it;
    /// converted to sRGB where the output cannot carry it, and always for CMYK.
    /// srgb: convert to sRGB and tag the file as sRGB.
    #[arg(long, default_value = "keep", value_parser = parse_engine::<ColorPolicy>)]
    color: ColorPolicy,
    /// Colour behind transparency for formats without alpha, and for :contain padding.
    #[arg(long, default_value = "#ffffff", value_parser = parse_engine::<imgbatch::Rgb>)]
    background: imgbatch::Rgb,
    /// Output file name: {stem} {ext} {w} {h} {size}. Default: {stem}.{ext}, or
    /// {stem}-{size}.{ext} when there are several sizes.
    #[arg(long, value_name = "TEMPLATE")]
    name: Option<String>,
    /// Files converted at once (default: all cores).
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Memory budget for files in flight, in MiB.
    #[arg(long, default_value_t = 2048, value_name = "MIB")]
    memory: u64,
    /// Replace existing output files (without it they are refused, never clobbered).
    #[arg(long)]
    overwrite: bool,
    /// Print a JSON report of every file on stdout.
    #[arg(long)]
    json: bool,
}

const AFTER_HELP: &str = "Exit status: 0 all converted, 1 some failed, 2 could not run.";

/// `--to` accepts what the engine's format table can write, by id or extension.
fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let values = imgbatch::encodable()
        .map(|f| PossibleValue::new(f.id).aliases(f.extensions.iter().copied()));
    PossibleValuesParser::new(values).map(|id| Format::from_name(&id).unwrap_or(Format::Jpeg))
}

fn parse_engine<T: std::str::FromStr<Err = Error>>(s: &str) -> Result<T, String> {
    s.parse::<T>().map_err(|e| e.message())
}

fn main() -> ExitCode {
    // This same program, started by itself to decode one AV1 picture (see `isolate_av1`).
    if let Some(code) = imgbatch::serve_av1_worker_if_asked() {
        return code;
    }
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("imgbatch: {message}");
            ExitCode::from(2)
        }
    }
}

/// A file found under the inputs, with the path its outputs go under.
struct FileSource {
    path: PathBuf,
    relative: PathBuf,
    display: String,
}

impl Source for FileSource {
    fn name(&self) -> &str {
        &self.display
    }
    fn read(&self) -> imgbatch::Result<Vec<u8>> {
        fs::read(&self.path)
            .map_err(|e| Error::io(format!("cannot read {}", self.path.display())).with_source(e))
    }
}

fn job_from(args: &Args) -> Result<Job, String> {
    let mut sizes = args.sizes.clone();
    if let Some(px) = args.max {
        sizes.insert(0, ResizeSpec::LongEdge { px });
    }
    let job = Job {
        format: args.to,
        encode: EncodeOptions {
            quality: args.quality,
            progressive: args.progressive,
            chroma: match args.chroma.as_str() {
                "422" => ChromaSubsampling::S422,
                "444" => ChromaSubsampling::S444,
                _ => ChromaSubsampling::S420,
            },
            jpeg_preset: args.jpeg_effort,
            png_compression: match args.png_compression.as_str() {
                "fastest" => PngCompression::Fastest,
                "balanced" => PngCompression::Balanced,
                "max" => PngCompression::Max,
                _ => PngCompression::Fast,
            },
            avif_speed: args.avif_speed,
        },
        sizes,
        filter: args.filter,
        enlarge: args.enlarge,
        metadata: args.metadata,
        color: args.color,
        background: args.background,
        target_size: args.target_size,
        limits: imgbatch::Limits::default(),
    };
    job.validate().map_err(|e| e.message())?;
    Ok(job)
}

/// A name template checked once, before any file is converted.
struct Template(String);

impl Template {
    const FIELDS: [&str; 5] = ["stem", "ext", "w", "h", "size"];

    fn new(text: String) -> Result<Template, String> {
        let mut rest = text.as_str();
        while let Some(open) = rest.find('{') {
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("unclosed '{{' in name template '{text}'"))?;
            let field = &rest[open + 1..open + close];
            if !Self::FIELDS.contains(&field) {
                return Err(format!(
                    "unknown field {{{field}}} in name template (use {{stem}} {{ext}} {{w}} {{h}} {{size}})"
                ));
            }
            rest = &rest[open + close + 1..];
        }
        if Path::new(&text)
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(format!(
                "name template '{text}' must stay inside the output folder"
            ));
        }
        Ok(Template(text))
    }

    fn render(&self, stem: &str, output: &imgbatch::Output) -> String {
        self.0
            .replace("{stem}", stem)
            .replace("{ext}", output.format.info().extension())
            .replace("{w}", &output.width.to_string())
            .replace("{h}", &output.height.to_string())
            .replace("{size}", &output.label)
    }
}

/// A path that was not converted and why ("not an image", an unreadable folder entry).
type Skipped = (String, String);

/// Walks the inputs (following symbolic links). Files that are clearly not images (unknown
/// extension and no image magic) and entries that cannot be walked are returned separately,
/// with the reason, so they are reported as skipped rather than lost.
fn collect(inputs: &[PathBuf]) -> Result<(Vec<FileSource>, Vec<Skipped>), String> {
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
                        skipped.push((path, format!("cannot be read: {e}")));
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
            if looks_like_image(&path) {
                files.push(FileSource {
                    path,
                    relative,
                    display,
                });
            } else {
                skipped.push((display, "not an image".to_string()));
            }
        }
    }
    Ok((files, skipped))
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
    written: HashSet<PathBuf>,
    failed: usize,
    converted: usize,
    output_bytes: u64,
}

fn run(args: &Args) -> Result<ExitCode, String> {
    let job = job_from(args)?;
    // rav1d panics on some corrupt AVIFs inside its `extern "C"` API, where a panic aborts
    // the process: decode AV1 in a child of our own, so that costs one file (issue 16).
    let me = std::env::current_exe()
        .map_err(|e| format!("cannot find this program to decode AVIF with: {e}"))?;
    imgbatch::isolate_av1(me).map_err(|e| e.message())?;
    let several = job.sizes.len() > 1;
    let template = Template::new(args.name.clone().unwrap_or_else(|| {
        if several {
            "{stem}-{size}.{ext}".into()
        } else {
            "{stem}.{ext}".into()
        }
    }))?;
    let threads = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| format!("cannot start {threads} worker threads: {e}"))?;
    let (sources, skipped) = collect(&args.inputs)?;
    fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;

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
    for (path, reason) in &skipped {
        bar.suspend(|| eprintln!("skipped: {path}: {reason}"));
    }

    let report = Mutex::new(Report {
        files: BTreeMap::new(),
        written: HashSet::new(),
        failed: 0,
        converted: 0,
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
            let entry = finish_file(args, &template, source, result, &report);
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
    files.extend(
        skipped
            .iter()
            .map(|(path, reason)| json!({"input": path, "status": "skipped", "reason": reason})),
    );
    if args.json {
        let doc = json!({
            "files": files,
            "summary": {
                "converted": report.converted,
                "failed": report.failed,
                "skipped": skipped.len(),
                "input_bytes": summary.input_bytes,
                "output_bytes": report.output_bytes,
                "seconds": elapsed,
            }
        });
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut out, &doc);
        let _ = writeln!(out);
    }
    eprintln!(
        "imgbatch: converted {} of {} files ({} failed, {} skipped): {} -> {} in {:.1} s",
        report.converted,
        sources.len() + skipped.len(),
        report.failed,
        skipped.len(),
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

/// Writes one file's outputs (all or none) and returns its JSON report entry.
fn finish_file(
    args: &Args,
    template: &Template,
    source: &FileSource,
    result: FileResult,
    report: &Mutex<Report>,
) -> serde_json::Value {
    let mut entry = json!({
        "input": source.display,
        "input_bytes": result.input_bytes,
        "ms": (result.elapsed_ms * 10.0).round() / 10.0,
    });
    let written = result
        .outcome
        .and_then(|outputs| write_outputs(args, template, source, &outputs, report));
    let Ok(mut report) = report.lock() else {
        return entry;
    };
    match written {
        Ok(outputs) => {
            report.converted += 1;
            report.output_bytes += outputs
                .iter()
                .map(|o| o["bytes"].as_u64().unwrap_or(0))
                .sum::<u64>();
            entry["status"] = json!("converted");
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

fn write_outputs(
    args: &Args,
    template: &Template,
    source: &FileSource,
    outputs: &[imgbatch::Output],
    report: &Mutex<Report>,
) -> imgbatch::Result<Vec<serde_json::Value>> {
    let stem = source
        .relative
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = args
        .out
        .join(source.relative.parent().unwrap_or(Path::new("")));
    let paths: Vec<PathBuf> = outputs
        .iter()
        .map(|o| dir.join(template.render(&stem, o)))
        .collect();
    {
        let mut report = report
            .lock()
            .map_err(|_| Error::internal("report lock poisoned"))?;
        for path in &paths {
            if report.written.contains(path) {
                return Err(Error::invalid_options(format!(
                    "{} was already written by another input; add {{ext}} or {{size}} to --name",
                    path.display()
                )));
            }
            if !args.overwrite && path.exists() {
                return Err(Error::io(format!(
                    "{} exists; pass --overwrite to replace it",
                    path.display()
                )));
            }
        }
        report.written.extend(paths.iter().cloned());
    }
    let mut entries = Vec::new();
    for (output, path) in outputs.iter().zip(&paths) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| {
                Error::io(format!("cannot create {}", parent.display())).with_source(e)
            })?;
        }
        let mut options = fs::OpenOptions::new();
        options.write(true);
        if args.overwrite {
            options.create(true).truncate(true);
        } else {
            // create_new: never clobber a file that appeared since the check above.
            options.create_new(true);
        }
        options
            .open(path)
            .and_then(|mut f| f.write_all(&output.bytes))
            .map_err(|e| Error::io(format!("cannot write {}", path.display())).with_source(e))?;
        // The engine's own report of the output (format, size, timings, notes), plus where it went.
        let mut entry = serde_json::to_value(output).unwrap_or_default();
        entry["path"] = json!(path.display().to_string());
        entry["bytes"] = json!(output.bytes.len());
        entries.push(entry);
    }
    Ok(entries)
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / f64::from(1u32 << 30)),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
