//! No input can end a batch (issue 16): files that crash a decoder fail one file each, by
//! name, as `decode`, while every good photo beside them converts, in the CLI and through
//! `run_batch`. tests/fixtures/crash/README.md says where each came from: AVIFs that make
//! rav1d panic inside dav1d's `extern "C"` API (where a panic aborts the process), and JPEG
//! XL files, found by scripts/fuzz, that make jxl-oxide panic (one of them while the batch
//! only reads its header, which once ended the whole run).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use imgbatch::{BatchOptions, CancelToken, Event, Format, Job, MemorySource, ResizeSpec};

/// Good inputs of three decoders, one of them an AVIF (which goes through the child too).
const GOOD: [(&str, &str); 3] = [
    ("exif-orientation-examples/Landscape_1.jpg", "photo.jpg"),
    ("libavif/colors_sdr_srgb.avif", "colours.avif"),
    ("pngsuite/png/basn6a08.png", "icon.png"),
];

/// Every crash fixture, by file name.
fn crash_fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crash");
    let mut found: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "md"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&p).unwrap())
        })
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no crash fixtures in {}", dir.display());
    found
}

/// A folder of the good photos and the crash fixtures; returns the fixtures' names.
fn mixed_folder(dir: &Path) -> Vec<String> {
    fs::create_dir_all(dir).unwrap();
    for (path, name) in GOOD {
        fs::write(dir.join(name), common::read(path)).unwrap();
    }
    crash_fixtures()
        .into_iter()
        .map(|(name, bytes)| {
            fs::write(dir.join(&name), bytes).unwrap();
            name
        })
        .collect()
}

#[test]
fn the_cli_reports_each_crashing_file_and_converts_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    let out = tmp.path().join("out");
    let bad = mixed_folder(&input);
    let run = Command::new(env!("CARGO_BIN_EXE_imgbatch"))
        .args([input.as_os_str(), "-o".as_ref(), out.as_os_str()])
        .args(["--to", "png", "--max", "64", "--json"])
        .output()
        .expect("imgbatch runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(
        run.status.code(),
        Some(1),
        "some failed, none aborted: {stderr}"
    );

    let report: serde_json::Value = serde_json::from_slice(&run.stdout).expect("--json report");
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), GOOD.len() + bad.len());
    for (_, name) in GOOD {
        let entry = files
            .iter()
            .find(|f| f["input"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} is in the report"));
        assert_eq!(entry["status"], "converted", "{name}: {entry}");
        let stem = name.split('.').next().unwrap();
        assert!(out.join(format!("{stem}.png")).is_file(), "{stem}.png");
    }
    for name in &bad {
        let entry = files
            .iter()
            .find(|f| f["input"].as_str().unwrap().ends_with(name.as_str()))
            .unwrap_or_else(|| panic!("{name} is in the report"));
        assert_eq!(entry["status"], "failed", "{name}: {entry}");
        assert_eq!(entry["error"]["code"], "decode", "{name}: {entry}");
        // One line per bad file on stderr, naming it; no panic text or backtrace note.
        let lines = stderr.lines().filter(|l| l.contains(name.as_str()));
        assert_eq!(lines.count(), 1, "{name}: {stderr}");
    }
    assert_eq!(report["summary"]["converted"], GOOD.len());
    assert_eq!(report["summary"]["failed"], bad.len());
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
}

#[test]
fn run_batch_survives_them_once_av1_is_isolated() {
    // The library decodes AV1 in-process unless asked; the CLI binary serves as the child.
    imgbatch::isolate_av1(env!("CARGO_BIN_EXE_imgbatch")).unwrap();
    let bad = crash_fixtures();
    let sources: Vec<MemorySource> = GOOD
        .iter()
        .map(|(path, name)| MemorySource {
            name: name.to_string(),
            bytes: common::read(path),
        })
        .chain(bad.iter().map(|(name, bytes)| MemorySource {
            name: name.clone(),
            bytes: bytes.clone(),
        }))
        .collect();
    let job = Job {
        sizes: vec![ResizeSpec::LongEdge { px: 64 }],
        ..Job::new(Format::Png)
    };
    let results = Mutex::new(Vec::new());
    let summary = imgbatch::run_batch(
        &sources,
        &job,
        &BatchOptions::default(),
        &CancelToken::new(),
        &|event| {
            if let Event::Finished(result) = event {
                let code = result.outcome.as_ref().err().map(|e| e.code());
                results.lock().unwrap().push((result.name, code));
            }
        },
    )
    .unwrap();
    assert_eq!((summary.converted, summary.failed), (GOOD.len(), bad.len()));
    let results = results.into_inner().unwrap();
    for (name, _) in &bad {
        assert!(
            results.contains(&(name.clone(), Some("decode"))),
            "{name}: {results:?}"
        );
    }
}
