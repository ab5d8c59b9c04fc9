//! The one format table is complete and honest: every encodable format round-trips, every
//! decodable format has a corpus file that decodes, sniffing agrees with the table, and the
//! README's table is the table.

mod common;

use imgbatch::{FORMATS, Format, Job, Limits, MetadataPolicy};

/// A 97x61 gradient with a soft alpha edge: odd sizes catch stride bugs.
fn sample(alpha: bool) -> Vec<u8> {
    let mut png = Vec::new();
    let img = image::RgbaImage::from_fn(97, 61, |x, y| {
        let a = if alpha { (x * 255 / 96) as u8 } else { 255 };
        image::Rgba([(x * 2) as u8, (y * 4) as u8, 128, a])
    });
    image::DynamicImage::ImageRgba8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

#[test]
fn every_encodable_format_round_trips() {
    for info in imgbatch::encodable() {
        for alpha in [false, true] {
            let input = sample(alpha);
            let job = Job::new(info.format);
            let out =
                imgbatch::convert(&input, &job).unwrap_or_else(|e| panic!("{}: {e}", info.name));
            assert_eq!(out.len(), 1);
            let bytes = &out[0].bytes;
            assert_eq!(
                Format::sniff(bytes),
                Some(info.format),
                "{} output sniffs as itself",
                info.name
            );
            let back = if info.can_decode {
                imgbatch::decode_upright(bytes, &Limits::default())
                    .unwrap_or_else(|e| panic!("{}: {e}", info.name))
            } else {
                common::pillow_decode(bytes, info.extension())
            };
            assert_eq!((back.width, back.height), (97, 61), "{}", info.name);
            assert_eq!(
                back.has_alpha,
                alpha && info.alpha,
                "{} alpha (input alpha {alpha})",
                info.name
            );
            // Lossy formats and 256-colour GIF are close, the rest exact. GIF's 1-bit
            // transparency cannot hold a soft alpha ramp, so only its opaque case is compared.
            let original = imgbatch::decode_upright(&input, &Limits::default()).unwrap();
            if !alpha || (info.alpha && info.format != Format::Gif) {
                let diff: f64 = original
                    .data
                    .iter()
                    .zip(&back.data)
                    .map(|(a, b)| f64::from(a.abs_diff(*b)))
                    .sum::<f64>()
                    / back.data.len() as f64;
                let tolerance = match info.format {
                    _ if info.lossy => 3.0,
                    Format::Gif => 6.0,
                    _ => 0.0,
                };
                assert!(
                    diff <= tolerance,
                    "{}: mean difference {diff:.2}",
                    info.name
                );
            }
        }
    }
}

#[test]
fn every_decodable_format_has_a_file_that_decodes() {
    let mut decoded = std::collections::HashSet::new();
    for entry in common::manifest() {
        let bytes = common::read(&entry.path);
        if let Some(format) = Format::sniff(&bytes)
            && !decoded.contains(&format)
            && imgbatch::decode_upright(&bytes, &Limits::default()).is_ok()
        {
            decoded.insert(format);
        }
    }
    // The corpus holds no farbfeld or DDS file: prove those decoders with files made here.
    for made in [farbfeld_2x1(), dds_dxt1_red_4x4()] {
        let px = imgbatch::decode_upright(&made, &Limits::default()).unwrap();
        assert_eq!(&px.data[..3], &[255, 0, 0]);
        decoded.insert(Format::sniff(&made).unwrap());
    }
    for info in imgbatch::decodable() {
        assert!(
            decoded.contains(&info.format),
            "no file of {} decodes",
            info.name
        );
    }
}

/// farbfeld: magic, u32 BE width and height, then RGBA as u16 BE. Red then green.
fn farbfeld_2x1() -> Vec<u8> {
    let mut ff = b"farbfeld".to_vec();
    ff.extend_from_slice(&2u32.to_be_bytes());
    ff.extend_from_slice(&1u32.to_be_bytes());
    for v in [0xFFFFu16, 0, 0, 0xFFFF, 0, 0xFFFF, 0, 0xFFFF] {
        ff.extend_from_slice(&v.to_be_bytes());
    }
    ff
}

/// A 4x4 DDS holding one DXT1 block whose colours are all pure red.
fn dds_dxt1_red_4x4() -> Vec<u8> {
    let u32le = |v: u32| v.to_le_bytes();
    let mut dds = b"DDS ".to_vec();
    let mut header = [0u8; 124];
    header[0..4].copy_from_slice(&u32le(124)); // dwSize
    header[4..8].copy_from_slice(&u32le(0x1 | 0x2 | 0x4 | 0x1000 | 0x80000)); // caps|height|width|pixelformat|linearsize
    header[8..12].copy_from_slice(&u32le(4)); // height
    header[12..16].copy_from_slice(&u32le(4)); // width
    header[16..20].copy_from_slice(&u32le(8)); // linear size
    header[72..76].copy_from_slice(&u32le(32)); // pixel format size
    header[76..80].copy_from_slice(&u32le(0x4)); // DDPF_FOURCC
    header[80..84].copy_from_slice(b"DXT1");
    header[104..108].copy_from_slice(&u32le(0x1000)); // DDSCAPS_TEXTURE
    dds.extend_from_slice(&header);
    dds.extend_from_slice(&[0x00, 0xF8, 0x00, 0x00, 0, 0, 0, 0]); // colour0 = red (RGB565), all indices 0
    dds
}

#[test]
fn the_table_is_consistent() {
    let mut ids = std::collections::HashSet::new();
    for info in &FORMATS {
        assert!(ids.insert(info.id), "duplicate id {}", info.id);
        assert_eq!(info.format.info().id, info.id);
        assert_eq!(Format::from_name(info.id), Some(info.format));
        for ext in info.extensions {
            assert_eq!(Format::from_name(ext), Some(info.format), "extension {ext}");
            assert!(Format::is_image_extension(ext));
        }
        assert!(info.mime.starts_with("image/"), "{} MIME", info.name);
    }
}

#[test]
fn metadata_follows_the_format_abilities() {
    let bytes = common::read("exif-orientation-examples/Landscape_6.jpg");
    for info in imgbatch::encodable() {
        let job = Job {
            metadata: MetadataPolicy::Keep,
            ..Job::new(info.format)
        };
        let out = imgbatch::convert(&bytes, &job).unwrap_or_else(|e| panic!("{}: {e}", info.name));
        let carries_exif = out[0]
            .bytes
            .windows(4)
            .any(|w| w == b"MM\0*" || w == b"II*\0");
        if info.exif {
            assert!(carries_exif, "{} keeps EXIF", info.name);
        }
    }
}

/// The README's format table, rendered from [`FORMATS`].
fn readme_table() -> String {
    let yes = |b: bool| if b { "yes" } else { "no" };
    let mut t = String::from(
        "| Format | Extensions | Read | Write | Alpha | Notes |\n|---|---|---|---|---|---|\n",
    );
    for f in &FORMATS {
        t.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            f.name,
            f.extensions
                .iter()
                .map(|e| format!(".{e}"))
                .collect::<Vec<_>>()
                .join(" "),
            yes(f.can_decode),
            yes(f.can_encode),
            if f.can_encode { yes(f.alpha) } else { "" },
            f.note
        ));
    }
    t
}

#[test]
fn readme_format_table_matches_the_engine() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme_table();
    assert!(
        readme.contains(&table),
        "README.md's format table is stale; replace it with:\n\n{table}"
    );
}
