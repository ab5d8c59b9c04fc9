//! ZIP input: the engine's reading of archives, piece by piece, and the CLI taking a `.zip`
//! as it takes a folder: entries keep their folder paths, hostile or unreadable entries are
//! reported by name, and the rest convert.

mod common;

use common::zip_writer::{Put, zip};
use imgbatch::{
    Limits, Result, ZIP_LOCAL_HEADER_MAX, ZIP_TAIL_BYTES, ZipDirectory, ZipEntry, zip_directory,
    zip_entries, zip_entry_bytes,
};

/// Reads an archive the way the adapters do: tail, directory, then each entry's slice.
fn read_all(archive: &[u8], limits: &Limits) -> Result<Vec<(ZipEntry, Result<Vec<u8>>)>> {
    let tail = &archive[archive.len().saturating_sub(ZIP_TAIL_BYTES as usize)..];
    let ZipDirectory::At { offset, size } = zip_directory(tail, archive.len() as u64)? else {
        panic!("not ZIP64");
    };
    let directory = &archive[offset as usize..(offset + size) as usize];
    Ok(zip_entries(directory, limits)?
        .into_iter()
        .map(|entry| {
            let end = (entry.offset + ZIP_LOCAL_HEADER_MAX + entry.compressed_size)
                .min(archive.len() as u64);
            let bytes = zip_entry_bytes(&archive[entry.offset as usize..end as usize], &entry);
            (entry, bytes)
        })
        .collect())
}

#[test]
fn entries_keep_their_folder_paths_and_bytes_and_folders_are_left_out() {
    let photo: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    let archive = zip(&[
        Put("trip/", b"", false, 0),
        Put("trip/a.jpg", &photo, false, 0),
        Put("trip/day 2/b.png", &photo, true, 0),
    ]);
    let read = read_all(&archive, &Limits::default()).unwrap();
    let paths: Vec<_> = read.iter().map(|(e, _)| e.path.as_str()).collect();
    assert_eq!(paths, ["trip/a.jpg", "trip/day 2/b.png"]);
    for (_, bytes) in read {
        assert_eq!(bytes.unwrap(), photo);
    }
}

#[test]
fn paths_that_escape_and_encrypted_entries_are_refused_and_the_rest_read() {
    let archive = zip(&[
        Put("../evil.jpg", b"x", false, 0),
        Put("/etc/passwd.jpg", b"x", false, 0),
        Put("a/../../b.jpg", b"x", false, 0),
        Put("C:/windows.jpg", b"x", false, 0),
        Put("..\\dos.jpg", b"x", false, 0),
        Put("secret.jpg", b"x", false, 1),
        Put("fine/ok.jpg", b"ok", true, 0),
    ]);
    let read = read_all(&archive, &Limits::default()).unwrap();
    let codes: Vec<_> = read
        .iter()
        .map(|(_, r)| r.as_ref().map_or_else(|e| e.code(), |_| "read"))
        .collect();
    assert_eq!(
        codes,
        ["unsupported"; 6]
            .iter()
            .copied()
            .chain(["read"])
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_deflate_bomb_stops_at_its_declared_size() {
    let mut archive = zip(&[Put("bomb.jpg", &vec![0u8; 1 << 20], true, 0)]);
    // Shrink the declared size in both headers: the data now inflates far past it.
    let directory_at = u32::from_le_bytes(
        archive[archive.len() - 6..archive.len() - 2]
            .try_into()
            .unwrap(),
    ) as usize;
    for size_at in [22, directory_at + 24] {
        archive[size_at..size_at + 4].copy_from_slice(&16u32.to_le_bytes());
    }
    let read = read_all(&archive, &Limits::default()).unwrap();
    assert_eq!(read[0].1.as_ref().unwrap_err().code(), "decode");
}

#[test]
fn an_entry_over_the_input_limit_is_refused_before_it_is_read() {
    let archive = zip(&[Put("big.jpg", &[0u8; 4096], true, 0)]);
    let limits = Limits {
        max_input_bytes: 1000,
        ..Limits::default()
    };
    let read = read_all(&archive, &limits).unwrap();
    assert_eq!(read[0].1.as_ref().unwrap_err().code(), "limit");
}

#[test]
fn a_cut_or_damaged_archive_is_a_decode_error() {
    let archive = zip(&[Put("a.jpg", b"hello", false, 0)]);
    for cut in [archive.len() - 10, archive.len() / 2, 3] {
        let piece = &archive[..cut];
        let result = zip_directory(piece, piece.len() as u64);
        assert!(
            result.is_err() || read_all(piece, &Limits::default()).is_err(),
            "cut at {cut}"
        );
    }
    assert_eq!(
        zip_entries(b"PK\x01\x02short", &Limits::default())
            .unwrap_err()
            .code(),
        "decode"
    );
}

#[test]
fn the_cli_converts_a_zip_like_a_folder_and_reports_the_entries_it_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let photo = common::read("exif-orientation-examples/Landscape_6.jpg");
    let icon = common::read("pngsuite/png/basn6a08.png");
    let archive = dir.path().join("shoot.zip");
    std::fs::write(
        &archive,
        zip(&[
            Put("trip/", b"", false, 0),
            Put("trip/day 1/a.jpg", &photo, true, 0),
            Put("icons/i.png", &icon, false, 0),
            Put("trip/notes.txt", b"not a photo", true, 0),
            Put("../evil.jpg", &photo, true, 0),
            Put("secret.jpg", &photo, false, 1),
        ]),
    )
    .unwrap();
    let out = dir.path().join("out");
    let (code, stdout, stderr) = common::imgbatch(&[
        archive.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--max",
        "256",
        "--json",
    ]);
    assert_eq!(code, 1, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let by_status = |status: &str| -> Vec<String> {
        let mut found: Vec<String> = report["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["status"] == status)
            .map(|f| {
                let name = f["input"].as_str().unwrap();
                let name = name
                    .rsplit_once("shoot.zip/")
                    .map_or(name, |(_, inner)| inner);
                format!("{name} {}", f["error"]["code"].as_str().unwrap_or(""))
            })
            .collect();
        found.sort();
        found
    };
    assert_eq!(
        by_status("converted"),
        ["icons/i.png ", "trip/day 1/a.jpg "]
    );
    assert_eq!(
        by_status("failed"),
        ["../evil.jpg unsupported", "secret.jpg unsupported"]
    );
    assert_eq!(
        by_status("skipped").len(),
        1,
        "notes.txt is listed as skipped"
    );
    assert!(out.join("trip/day 1/a.jpg").is_file());
    assert!(out.join("icons/i.jpg").is_file());
    assert!(!dir.path().join("evil.jpg").exists());
}
