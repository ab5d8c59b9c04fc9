//! Interrupted runs: an output appears whole under its name or not at all, and
//! `--skip-existing` converts only what is missing, leaving existing outputs alone.

mod common;

use common::{copy, imgbatch};

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

/// The 12 smallest real camera JPEGs of 1 MP or more (the crash-test files aside): enough
/// work that a run can be stopped part-way, little enough to run three times.
fn twelve_photos(dir: &Path) {
    let mut photos: Vec<_> = common::manifest()
        .into_iter()
        .filter(|e| e.format == "JPEG" && e.pillow_ok && e.has("exif"))
        .filter(|e| e.width * e.height >= 1_000_000)
        .filter(|e| !e.path.contains("crashtest") && !e.path.contains("corrupted"))
        .collect();
    photos.sort_by_key(|e| e.width * e.height);
    assert!(photos.len() >= 12, "{} photos in the corpus", photos.len());
    for (i, photo) in photos.iter().take(12).enumerate() {
        copy(&photo.path, &dir.join(format!("photo{i:02}.jpg")));
    }
}

/// Files under their final names (not hidden), by name.
fn finals(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| !name.starts_with('.'))
                .map(|name| {
                    let bytes = fs::read(dir.join(&name)).unwrap_or_default();
                    (name, bytes)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn count_finals(dir: &Path) -> usize {
    fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .count()
    })
}

fn temps(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir).map_or(Vec::new(), |entries| {
        entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().contains(".imgbatch-tmp-"))
            .collect()
    })
}

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_imgbatch"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("imgbatch starts")
}

/// SIGKILLs `child` as soon as `now` holds. Polls rather than sleeps, so the kill point is
/// an event in the run, not a time. False if the run ended first.
fn kill_when(mut child: Child, now: impl Fn() -> bool) -> bool {
    loop {
        if now() {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Every file under a final name is a whole output: it decodes completely and it is
/// byte for byte what an uninterrupted run wrote.
fn assert_all_whole(out: &Path, reference: &BTreeMap<String, Vec<u8>>, when: &str) {
    for (name, bytes) in finals(out) {
        image::load_from_memory(&bytes)
            .unwrap_or_else(|e| panic!("{when}: {name} does not decode: {e}"));
        assert!(
            reference.get(&name) == Some(&bytes),
            "{when}: {name} differs from the uninterrupted run's ({} bytes)",
            bytes.len()
        );
    }
}

#[test]
fn a_killed_run_leaves_only_whole_outputs_and_skip_existing_finishes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    twelve_photos(&photos);
    let reference_dir = tmp.path().join("reference");
    let out = tmp.path().join("out");
    let args = |to: &Path| -> Vec<String> {
        [photos.as_path(), "-o".as_ref(), to]
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .chain(["--max", "1024", "-j", "1"].map(String::from))
            .collect()
    };
    let reference_args = args(&reference_dir);
    let reference_args: Vec<&str> = reference_args.iter().map(String::as_str).collect();
    let (code, _, stderr) = imgbatch(&reference_args);
    assert_eq!(code, 0, "{stderr}");
    let reference = finals(&reference_dir);
    assert_eq!(reference.len(), 12);

    let plain = args(&out);
    let plain: Vec<&str> = plain.iter().map(String::as_str).collect();
    let mut resume = plain.clone();
    resume.push("--skip-existing");

    // Killed as soon as the first output has its final name.
    let killed = kill_when(spawn(&plain), || count_finals(&out) > 0);
    assert!(killed, "the first run ended before it could be killed");
    let done = count_finals(&out);
    assert!(done < 12, "the first run was not interrupted");
    assert_all_whole(&out, &reference, "after the first kill");

    // Resumed, then killed again mid-write (a temporary file exists) or, if that moment is
    // too short to see, as soon as one more output is in place.
    let killed = kill_when(spawn(&resume), || {
        !temps(&out).is_empty() || count_finals(&out) > done
    });
    assert!(killed, "the resumed run ended before it could be killed");
    let done = count_finals(&out);
    assert!(done < 12, "the resumed run was not interrupted");
    assert_all_whole(&out, &reference, "after the second kill");

    // Resumed to the end: only the missing are converted, and the set is complete.
    let (code, stdout, stderr) = imgbatch(&[&resume[..], &["--json"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let summary = &report["summary"];
    assert_eq!(summary["converted"].as_u64(), Some(12 - done as u64));
    assert_eq!(summary["skipped"].as_u64(), Some(done as u64));
    assert_eq!(finals(&out), reference);
    assert_eq!(
        temps(&out),
        Vec::<PathBuf>::new(),
        "a killed run's temporary files are cleaned up"
    );

    // Nothing left to do: everything is skipped and the run still succeeds.
    let (code, _, stderr) = imgbatch(&resume);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("12 already converted"), "{stderr}");
}

#[test]
fn skip_existing_reports_existing_outputs_and_leaves_them_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    copy(
        "exif-orientation-examples/Landscape_1.jpg",
        &input.join("a.jpg"),
    );
    copy(
        "exif-orientation-examples/Portrait_1.jpg",
        &input.join("b.jpg"),
    );
    let out = tmp.path().join("out");
    let args = [
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--size",
        "320",
        "--size",
        "160",
    ];
    assert_eq!(imgbatch(&args).0, 0);
    let first = finals(&out);
    assert_eq!(first.len(), 4);

    // b lost one of its two outputs; every other one is dated long ago, so a rewrite shows.
    fs::remove_file(out.join("b-160.jpg")).unwrap();
    let long_ago = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    for name in ["a-320.jpg", "a-160.jpg", "b-320.jpg"] {
        fs::File::options()
            .write(true)
            .open(out.join(name))
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
    }
    // a's outputs are all there, so a is not even decoded: damaging it changes nothing.
    let whole = fs::read(input.join("a.jpg")).unwrap();
    fs::write(input.join("a.jpg"), &whole[..whole.len() / 3]).unwrap();

    let (code, stdout, stderr) = imgbatch(&[&args[..], &["--skip-existing", "--json"]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        finals(&out),
        first,
        "b-160 is back, the same; the rest unchanged"
    );
    for name in ["a-320.jpg", "a-160.jpg", "b-320.jpg"] {
        let modified = fs::metadata(out.join(name)).unwrap().modified().unwrap();
        assert_eq!(modified, long_ago, "{name} was not rewritten");
    }

    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let files = report["files"].as_array().unwrap();
    let by_name = |name: &str| {
        files
            .iter()
            .find(|f| f["input"].as_str().unwrap().ends_with(name))
            .unwrap()
    };
    let a = by_name("a.jpg");
    assert_eq!(a["status"], "skipped");
    assert_eq!(a["code"], "exists");
    assert!(a["error"].is_null());
    let statuses = |file: &serde_json::Value| {
        let mut s: Vec<(String, String)> = file["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                let path = o["path"].as_str().unwrap();
                let name = Path::new(path).file_name().unwrap().to_string_lossy();
                (name.into_owned(), o["status"].as_str().unwrap().to_owned())
            })
            .collect();
        s.sort();
        s
    };
    let pair = |n: &str, s: &str| (n.to_owned(), s.to_owned());
    assert_eq!(
        statuses(a),
        [pair("a-160.jpg", "skipped"), pair("a-320.jpg", "skipped")]
    );
    let b = by_name("b.jpg");
    assert_eq!(b["status"], "converted");
    assert_eq!(
        statuses(b),
        [pair("b-160.jpg", "written"), pair("b-320.jpg", "skipped")]
    );
    assert!(
        b["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| { o["status"] == "written" || o["code"] == "exists" })
    );
    let summary = &report["summary"];
    assert_eq!(
        (
            summary["converted"].as_u64(),
            summary["skipped"].as_u64(),
            summary["failed"].as_u64(),
            summary["existing_outputs"].as_u64()
        ),
        (Some(1), Some(1), Some(0), Some(3))
    );
}

#[test]
fn skip_existing_with_overwrite_is_refused() {
    // An empty input folder: without the conflict this run would succeed.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, _, stderr) = imgbatch(&[
        tmp.path().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--skip-existing",
        "--overwrite",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--skip-existing") && stderr.contains("--overwrite"),
        "the message names both: {stderr}"
    );
    assert!(!out.exists(), "nothing was done");
}
