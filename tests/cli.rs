//! The `imgbatch` command end to end: mixed good and bad inputs, folder structure, never
//! clobbering, exit codes and the documented `--json` shape.

mod common;

use common::{copy, imgbatch};

use std::fs;
use std::path::Path;

/// photos/ with a nested folder, a truncated JPEG, a bomb, a text file and a HEIC we
/// recognise but cannot read yet.
fn mixed_folder(root: &Path) {
    copy(
        "exif-orientation-examples/Landscape_6.jpg",
        &root.join("photos/trip/a.jpg"),
    );
    copy(
        "exif-orientation-examples/Portrait_3.jpg",
        &root.join("photos/b.jpg"),
    );
    copy(
        "pngsuite/png/basn6a08.png",
        &root.join("photos/icons/c.png"),
    );
    let truncated = common::read("exif-orientation-examples/Landscape_1.jpg");
    fs::write(
        root.join("photos/broken.jpg"),
        &truncated[..truncated.len() / 3],
    )
    .unwrap();
    copy("pillow/bmp/b/reallybig.bmp", &root.join("photos/bomb.bmp"));
    fs::write(root.join("photos/notes.txt"), "not an image").unwrap();
    // A symlinked photo is followed, not silently dropped.
    std::os::unix::fs::symlink(
        root.join("photos/b.jpg"),
        root.join("photos/trip/linked.jpg"),
    )
    .unwrap();
}

#[test]
fn mixed_inputs_convert_the_good_report_the_bad_and_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    mixed_folder(tmp.path());
    let photos = tmp.path().join("photos");
    let out = tmp.path().join("out");
    let (code, stdout, stderr) = imgbatch(&[
        photos.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--to",
        "webp",
        "--max",
        "300",
        "--json",
    ]);
    assert_eq!(code, 1, "some failed: {stderr}");

    // Structure kept, good files converted, upright.
    for (path, w, h) in [
        ("trip/a.webp", 200, 300),
        ("b.webp", 200, 300),
        ("icons/c.webp", 32, 32),
    ] {
        let bytes = fs::read(out.join(path)).unwrap_or_else(|_| panic!("{path} written"));
        let px = imgbatch::decode_upright(&bytes, &imgbatch::Limits::default()).unwrap();
        let (long, short) = (px.width.max(px.height), px.width.min(px.height));
        assert_eq!((long, short), (w.max(h), w.min(h)), "{path}");
    }
    assert!(!out.join("broken.webp").exists() && !out.join("bomb.webp").exists());

    let report: serde_json::Value = serde_json::from_str(&stdout).expect("--json prints JSON");
    let files = report["files"].as_array().unwrap();
    let by_name = |name: &str| {
        files
            .iter()
            .find(|f| f["input"].as_str().unwrap().ends_with(name))
            .unwrap()
    };
    assert_eq!(by_name("broken.jpg")["status"], "failed");
    assert_eq!(by_name("broken.jpg")["error"]["code"], "decode");
    assert_eq!(by_name("bomb.bmp")["error"]["code"], "limit");
    assert_eq!(by_name("notes.txt")["status"], "skipped");
    let good = by_name("a.jpg");
    assert_eq!(good["status"], "converted");
    assert!(good["error"].is_null());
    // The file's own time covers its stages, so it is at least their sum (it is rounded to
    // a tenth of a millisecond).
    let stages: f64 = ["decode_ms", "resize_ms", "encode_ms"]
        .iter()
        .map(|k| good["outputs"][0]["timings"][k].as_f64().unwrap())
        .sum();
    assert!(good["ms"].as_f64().unwrap() >= stages - 0.1 && stages > 0.0);
    assert!(good["input_bytes"].as_u64().unwrap() > 0);
    let output = &good["outputs"][0];
    for key in [
        "path", "bytes", "width", "height", "format", "size", "timings", "notes",
    ] {
        assert!(!output[key].is_null(), "output has {key}");
    }
    assert_eq!(output["format"], "webp");
    let summary = &report["summary"];
    assert_eq!(
        (
            summary["converted"].as_u64(),
            summary["failed"].as_u64(),
            summary["skipped"].as_u64()
        ),
        (Some(4), Some(2), Some(1))
    );
    assert!(
        stderr.contains("broken.jpg") && stderr.contains("(decode)"),
        "errors name the file: {stderr}"
    );
    assert!(
        stderr.contains("skipped") && stderr.contains("notes.txt"),
        "skips are reported: {stderr}"
    );
}

#[test]
fn existing_outputs_are_refused_without_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in/a.jpg");
    copy("exif-orientation-examples/Landscape_1.jpg", &input);
    let out = tmp.path().join("out");
    let args = [
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--to",
        "png",
        "--max",
        "64",
    ];
    assert_eq!(imgbatch(&args).0, 0);
    fs::write(out.join("a.png"), b"precious").unwrap();

    let (code, _, stderr) = imgbatch(&args);
    assert_eq!(code, 1);
    assert!(stderr.contains("--overwrite"), "{stderr}");
    assert_eq!(fs::read(out.join("a.png")).unwrap(), b"precious");

    let mut with_overwrite = args.to_vec();
    with_overwrite.push("--overwrite");
    assert_eq!(imgbatch(&with_overwrite).0, 0);
    assert_ne!(fs::read(out.join("a.png")).unwrap(), b"precious");
}

#[test]
fn two_inputs_named_alike_are_a_collision_even_after_the_first_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    copy("pngsuite/png/basn6a08.png", &tmp.path().join("in/i.png"));
    copy("pngsuite/png/basn6a08.png", &tmp.path().join("in/i.PNG"));
    let out = tmp.path().join("out");
    // One worker: the first output is on disk before the second is named, the order in
    // which a plain existence check would mistake the collision for a leftover.
    let (code, stdout, stderr) = imgbatch(&[
        tmp.path().join("in").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--name",
        "{stem}.{ext}",
        "--jobs",
        "1",
        "--json",
    ]);
    assert_eq!(code, 1, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let codes: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "failed")
        .map(|f| f["error"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["invalid-options"], "{stdout}");
}

#[test]
fn several_sizes_are_named_by_the_template() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("a.jpg");
    copy("exif-orientation-examples/Landscape_1.jpg", &input);
    let out = tmp.path().join("out");
    let (code, _, stderr) = imgbatch(&[
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--size",
        "1024",
        "--size",
        "320",
        "--size",
        "100x100:cover",
        "--name",
        "{stem}_{w}x{h}.{ext}",
    ]);
    assert_eq!(code, 0, "{stderr}");
    for name in ["a_1024x683.jpg", "a_320x213.jpg", "a_100x100.jpg"] {
        assert!(out.join(name).is_file(), "{name} written");
    }
}

#[test]
fn unusable_arguments_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    assert_eq!(imgbatch(&["/nonexistent/folder", "-o", o]).0, 2);
    let input = tmp.path().join("a.jpg");
    copy("exif-orientation-examples/Landscape_1.jpg", &input);
    let i = input.to_str().unwrap();
    assert_eq!(
        imgbatch(&[i, "-o", o, "--to", "heic"]).0,
        2,
        "HEIC cannot be written"
    );
    assert_eq!(imgbatch(&[i, "-o", o, "--size", "banana"]).0, 2);
    assert_eq!(imgbatch(&[i, "-o", o, "--name", "{nope}.{ext}"]).0, 2);
    assert_eq!(imgbatch(&[i, "-o", o, "--name", "../escape.{ext}"]).0, 2);
}

/// DateTimeOriginal as kamadak-exif, an independent reader, reads it from `path`.
fn capture_date(path: &Path) -> exif::DateTime {
    let mut reader = std::io::BufReader::new(fs::File::open(path).unwrap());
    let exif = exif::Reader::new()
        .read_from_container(&mut reader)
        .unwrap();
    let field = exif
        .get_field(exif::Tag::DateTimeOriginal, exif::In::PRIMARY)
        .expect("the photo has a capture date");
    match &field.value {
        exif::Value::Ascii(text) => exif::DateTime::from_ascii(&text[0]).unwrap(),
        other => panic!("DateTimeOriginal is {other:?}"),
    }
}

fn set_mtime(path: &Path, unix_seconds: u64) {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix_seconds);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

fn mtime(path: &Path) -> u64 {
    let modified = fs::metadata(path).unwrap().modified().unwrap();
    modified
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// 2001-02-03 04:05:06 UTC.
const FILE_DATE: u64 = 981_173_106;

#[test]
fn names_come_from_the_capture_date_else_the_file_date_with_a_counter() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    copy("exif-samples/jpg/Nikon_D70.jpg", &photos.join("a.jpg"));
    copy("pngsuite/png/basn6a08.png", &photos.join("b.png"));
    set_mtime(&photos.join("b.png"), FILE_DATE);
    let out = tmp.path().join("out");
    let (code, _, stderr) = imgbatch(&[
        photos.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--name",
        "{n} {date} {time} {stem}.{ext}",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let taken = capture_date(&photos.join("a.jpg"));
    let expected = format!(
        "0001 {:04}-{:02}-{:02} {:02}-{:02}-{:02} a.jpg",
        taken.year, taken.month, taken.day, taken.hour, taken.minute, taken.second
    );
    assert!(out.join(&expected).is_file(), "{expected} written");
    assert!(out.join("0002 2001-02-03 04-05-06 b.jpg").is_file());
}

#[test]
fn outputs_keep_the_inputs_dates_or_take_when_the_photo_was_taken() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("a.jpg");
    copy("exif-samples/jpg/Nikon_D70.jpg", &input);
    set_mtime(&input, FILE_DATE);
    let kept = tmp.path().join("kept");
    let taken = tmp.path().join("taken");
    let i = input.to_str().unwrap();
    assert_eq!(imgbatch(&[i, "-o", kept.to_str().unwrap()]).0, 0);
    assert_eq!(mtime(&kept.join("a.jpg")), FILE_DATE);
    let (code, _, stderr) = imgbatch(&[i, "-o", taken.to_str().unwrap(), "--dates", "capture"]);
    assert_eq!(code, 0, "{stderr}");
    let date = capture_date(&input);
    let expected = imgbatch::DateTime {
        year: date.year,
        month: date.month,
        day: date.day,
        hour: date.hour,
        minute: date.minute,
        second: date.second,
    };
    assert_eq!(mtime(&taken.join("a.jpg")) as i64, expected.unix_seconds());
}

#[test]
fn licenses_prints_the_third_party_notice_the_site_ships() {
    let (code, stdout, _) = imgbatch(&["--licenses"]);
    assert_eq!(code, 0);
    let notice =
        fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/THIRD-PARTY.txt")).unwrap();
    assert_eq!(stdout, notice);
    for dependency in ["mozjpeg-rs", "zenwebp", "rav1e", "client-zip"] {
        assert!(stdout.contains(dependency), "the notice names {dependency}");
    }
}
