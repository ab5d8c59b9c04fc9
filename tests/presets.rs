//! `--preset`: each built-in preset makes what its name promises, a preset file gives the
//! same bytes as the options it holds, and a preset is never silently mixed with options.

mod common;

use common::{copy, imgbatch};

use std::fs;
use std::path::Path;

/// A phone photo, 3024x4032 upright, with EXIF, XMP and an ICC profile.
const PHOTO: &str = "libavif/dog_exif_extended_xmp_icc.jpg";

/// (file name, format, width, height, bytes) of every output in `dir`, sorted by name.
fn outputs(dir: &Path) -> Vec<(String, imgbatch::Format, u32, u32, Vec<u8>)> {
    let mut found: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let bytes = fs::read(&path).unwrap();
            let info = imgbatch::inspect(&bytes, &imgbatch::Limits::default()).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, info.format, info.width, info.height, bytes)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn each_built_in_preset_makes_what_it_promises() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in/dog.jpg");
    copy(PHOTO, &input);
    let run = |preset: &str| {
        let out = dir.path().join(preset);
        let (code, _, stderr) = imgbatch(&[
            "--preset",
            preset,
            "-o",
            out.to_str().unwrap(),
            input.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{preset}: {stderr}");
        outputs(&out)
    };
    use imgbatch::Format::{Jpeg, Png};

    let web = run("web-2048");
    assert_eq!(web.len(), 1);
    assert_eq!((web[0].1, web[0].2, web[0].3), (Jpeg, 1536, 2048));
    assert!(
        common::jpeg_exif(&web[0].4).is_none(),
        "web-2048 keeps EXIF"
    );

    let instagram = run("instagram-1080");
    assert_eq!((instagram[0].1, instagram[0].2), (Jpeg, 1080));

    let email = run("email-1600");
    assert_eq!((email[0].1, email[0].2, email[0].3), (Jpeg, 1200, 1600));
    assert!(email[0].4.len() <= 500_000, "{} bytes", email[0].4.len());

    let archive = run("archive");
    assert_eq!(
        (archive[0].1, archive[0].2, archive[0].3),
        (Png, 3024, 4032)
    );
    for chunk in [b"eXIf", b"iCCP", b"iTXt"] {
        assert!(contains(&archive[0].4, chunk), "archive lost a chunk");
    }

    let thumbnails = run("thumbnails");
    let sizes: Vec<_> = thumbnails
        .iter()
        .map(|o| (o.0.as_str(), o.2.max(o.3)))
        .collect();
    assert_eq!(
        sizes,
        [
            ("dog-1024.jpg", 1024),
            ("dog-2048.jpg", 2048),
            ("dog-320.jpg", 320)
        ]
    );
}

#[test]
fn a_preset_file_gives_the_bytes_of_the_options_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("dog.jpg");
    copy(PHOTO, &input);
    let preset = dir.path().join("mine.json");
    fs::write(
        &preset,
        r#"{"label": "Mine", "settings": {"format": "webp", "quality": 70,
            "sizes": ["800", "320x320:cover"], "metadata": "strip-gps", "name": "{stem}_{w}.{ext}"}}"#,
    )
    .unwrap();
    let (from_file, from_flags) = (dir.path().join("file"), dir.path().join("flags"));
    let (code, _, stderr) = imgbatch(&[
        "--preset",
        preset.to_str().unwrap(),
        "-o",
        from_file.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = imgbatch(&[
        "--to=webp",
        "-q70",
        "--size=800",
        "--size=320x320:cover",
        "--metadata=strip-gps",
        "--name={stem}_{w}.{ext}",
        "-o",
        from_flags.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let file = outputs(&from_file);
    assert_eq!(file.len(), 2);
    assert_eq!(file, outputs(&from_flags));
}

#[test]
fn a_preset_is_never_mixed_with_options_or_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("dog.jpg");
    copy(PHOTO, &input);
    let out = dir.path().join("out");
    let bad = dir.path().join("bad.json");
    fs::write(&bad, r#"{"label": "Typo", "settings": {"qualty": 50}}"#).unwrap();
    for args in [
        vec!["--preset", "web-2048", "-q", "50"],
        vec!["--preset", "no-such-preset"],
        vec!["--preset", bad.to_str().unwrap()],
    ] {
        let mut all = args.clone();
        all.extend(["-o", out.to_str().unwrap(), input.to_str().unwrap()]);
        let (code, _, stderr) = imgbatch(&all);
        assert_eq!(code, 2, "{args:?} ran: {stderr}");
        assert!(!out.exists(), "{args:?} wrote outputs");
    }
}

#[test]
fn the_readme_lists_every_built_in_preset_as_the_engine_defines_it() {
    let rows: String = imgbatch::built_in_presets()
        .iter()
        .map(|p| format!("| `{}` | {} | {} |\n", p.id, p.preset.label, p.summary))
        .collect();
    let table = format!("| preset | page | what it makes |\n|---|---|---|\n{rows}");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(&table),
        "README.md's preset table is stale; replace it with:\n\n{table}"
    );
}
