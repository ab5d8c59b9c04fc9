//! What each metadata policy lets through about where a photo was taken, read back with
//! independent readers (kamadak-exif for EXIF, exiftool for every block of every output
//! format): `strip-gps` removes the location, however its XMP is spelled, and keeps the
//! camera and date, `keep` keeps everything, `strip` keeps no EXIF, XMP, IPTC or comment.

mod common;

use exif::{Context, In, Tag};
use imgbatch::{Format, Job, MetadataPolicy};
use serde_json::Value;

const GPS_PHOTOS: &str = "exif-samples/jpg/gps/";

fn gps_photos() -> Vec<String> {
    let photos: Vec<String> = common::manifest()
        .into_iter()
        .filter(|e| e.path.starts_with(GPS_PHOTOS))
        .map(|e| e.path)
        .collect();
    assert!(
        photos.len() >= 5,
        "{} GPS photos in the corpus",
        photos.len()
    );
    photos
}

fn fields(jpeg: &[u8]) -> Option<Vec<exif::Field>> {
    let raw = common::jpeg_exif(jpeg)?;
    let tiff = raw.strip_prefix(b"Exif\0\0").unwrap_or(&raw).to_vec();
    Some(
        exif::Reader::new()
            .read_raw(tiff)
            .ok()?
            .fields()
            .cloned()
            .collect(),
    )
}

fn value(fields: &[exif::Field], tag: Tag) -> Option<String> {
    fields
        .iter()
        .find(|f| f.tag == tag && f.ifd_num == In::PRIMARY)
        .map(|f| f.display_value().to_string())
}

fn convert(bytes: &[u8], metadata: MetadataPolicy) -> Vec<u8> {
    let job = Job {
        metadata,
        ..Job::new(Format::Jpeg)
    };
    imgbatch::convert(bytes, &job).unwrap().remove(0).bytes
}

#[test]
fn strip_gps_keeps_camera_and_date_but_no_location() {
    for path in gps_photos() {
        let bytes = common::read(&path);
        let source = fields(&bytes).unwrap();
        assert!(
            source.iter().any(|f| f.tag.context() == Context::Gps),
            "{path}: the source has GPS"
        );
        let out = fields(&convert(&bytes, MetadataPolicy::StripGps))
            .unwrap_or_else(|| panic!("{path}: strip-gps keeps EXIF"));
        let gps: Vec<_> = out
            .iter()
            .filter(|f| f.tag.context() == Context::Gps)
            .collect();
        assert!(gps.is_empty(), "{path}: GPS left: {gps:?}");
        for tag in [Tag::Make, Tag::Model, Tag::DateTimeOriginal] {
            assert_eq!(value(&out, tag), value(&source, tag), "{path}: {tag}");
            assert!(value(&out, tag).is_some(), "{path}: {tag} present");
        }
    }
}

#[test]
fn keep_retains_the_location_and_strip_removes_all_exif() {
    for path in gps_photos() {
        let bytes = common::read(&path);
        let source = fields(&bytes).unwrap();
        let kept = fields(&convert(&bytes, MetadataPolicy::Keep)).unwrap();
        for tag in [Tag::GPSLatitude, Tag::GPSLongitude] {
            assert_eq!(value(&kept, tag), value(&source, tag), "{path}: {tag}");
            assert!(value(&kept, tag).is_some(), "{path}: {tag} kept");
        }
        assert!(
            common::jpeg_exif(&convert(&bytes, MetadataPolicy::Strip)).is_none(),
            "{path}: strip leaves no EXIF"
        );
    }
}

#[test]
fn strip_gps_removes_xmp_places_and_gps_and_keeps_the_rest() {
    // MWG.jpg names a city, state and country in XMP; 32-lens_data.jpeg has exif:GPS fields.
    for (path, gone, kept) in [
        ("exiftool/MWG.jpg", "photoshop:City", "xmlns:photoshop"),
        (
            "exif-samples/jpg/tests/32-lens_data.jpeg",
            "exif:GPS",
            "xmlns:exif",
        ),
    ] {
        let bytes = common::read(path);
        let source = String::from_utf8_lossy(&common::jpeg_xmp(&bytes).unwrap()).into_owned();
        assert!(source.contains(gone), "{path}: the source has {gone}");
        let out = convert(&bytes, MetadataPolicy::StripGps);
        let xmp = String::from_utf8(common::jpeg_xmp(&out).expect("XMP kept")).unwrap();
        assert!(!xmp.contains(gone), "{path}: {gone} left in XMP");
        assert!(xmp.contains(kept), "{path}: the rest of the XMP is kept");
        let kept_all = convert(&bytes, MetadataPolicy::Keep);
        assert!(String::from_utf8_lossy(&common::jpeg_xmp(&kept_all).unwrap()).contains(gone));
    }
}

/// Values that exist only in the location properties of [`PACKET`]: none may reach an output
/// under `strip-gps`. Long enough never to turn up by chance in compressed pixels.
const PLACE_VALUES: [&str; 8] = [
    "43,28.0468N",
    "11,53.1077E",
    "4200/100",
    "Lutetia-City",
    "Tuscia-State",
    "Atlantis-Country",
    "Ponte-Vecchio-Place",
    "ATLANTIS-CC",
];

/// An XMP packet with the camera and date in the usual prefixes, and the location in the
/// spellings a prefix-matching filter misses: EXIF GPS under the prefix `e`, Photoshop's
/// City under a default namespace, State and Country as attributes of the prefix `ps`, IPTC
/// Core under `core` and an IPTC Extension LocationCreated structure under `ext`.
const PACKET: &str = concat!(
    "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n",
    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n",
    "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n",
    "<rdf:Description rdf:about=\"\" xmlns:tiff=\"http://ns.adobe.com/tiff/1.0/\"",
    " xmlns:exif=\"http://ns.adobe.com/exif/1.0/\" tiff:Make=\"NIKON\"",
    " tiff:Model=\"COOLPIX P6000\" exif:DateTimeOriginal=\"2008-10-22T16:28:39\"/>\n",
    "<rdf:Description rdf:about=\"\" xmlns:e=\"http://ns.adobe.com/exif/1.0/\"",
    " e:GPSLatitude=\"43,28.0468N\" e:GPSLongitude=\"11,53.1077E\">\n",
    " <e:GPSAltitude>4200/100</e:GPSAltitude>\n",
    "</rdf:Description>\n",
    "<rdf:Description rdf:about=\"\" xmlns=\"http://ns.adobe.com/photoshop/1.0/\">\n",
    " <City>Lutetia-City</City>\n",
    "</rdf:Description>\n",
    "<rdf:Description rdf:about=\"\" xmlns:ps=\"http://ns.adobe.com/photoshop/1.0/\"",
    " ps:State=\"Tuscia-State\" ps:Country=\"Atlantis-Country\"/>\n",
    "<rdf:Description rdf:about=\"\" xmlns:core=\"http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/\"",
    " xmlns:ext=\"http://iptc.org/std/Iptc4xmpExt/2008-02-29/\" core:CountryCode=\"ATLANTIS-CC\">\n",
    " <ext:LocationCreated><rdf:Bag><rdf:li rdf:parseType=\"Resource\">",
    "<ext:Sublocation>Ponte-Vecchio-Place</ext:Sublocation>",
    "<ext:City>Lutetia-City</ext:City></rdf:li></rdf:Bag></ext:LocationCreated>\n",
    "</rdf:Description>\n",
    "</rdf:RDF>\n",
    "</x:xmpmeta>\n",
    "<?xpacket end=\"w\"?>"
);

/// An IPTC-IIM block (Photoshop IRB 0x0404) naming the city (2:90), province (2:95) and
/// country (2:101): the engine must not carry it into any output.
fn iptc_app13() -> Vec<u8> {
    let mut iim = Vec::new();
    for (dataset, value) in [
        (90u8, "Lutetia-City"),
        (95, "Tuscia-State"),
        (101, "Atlantis-Country"),
    ] {
        iim.extend([0x1c, 2, dataset]);
        iim.extend((value.len() as u16).to_be_bytes());
        iim.extend(value.as_bytes());
    }
    let mut irb = b"Photoshop 3.0\0".to_vec();
    irb.extend(b"8BIM\x04\x04\0\0");
    irb.extend((iim.len() as u32).to_be_bytes());
    irb.extend(&iim);
    if iim.len() % 2 == 1 {
        irb.push(0);
    }
    irb
}

/// A JPEG segment: marker, big-endian length (itself included), payload.
fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut s = vec![0xff, marker];
    s.extend((payload.len() as u16 + 2).to_be_bytes());
    s.extend(payload);
    s
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend(kind);
    c.extend(data);
    c.extend(crc32(&c[4..]).to_be_bytes());
    c
}

/// A small image with the GPS photo's EXIF (camera, date, GPS IFD) and [`PACKET`], as JPEG
/// (plus IPTC-IIM and a comment), PNG, lossless WebP and TIFF. Built here, byte by byte,
/// so no other tool decides what the inputs hold. TIFF holds only the XMP: image-rs does
/// not read EXIF from TIFF.
fn inputs_with_location() -> Vec<(Format, Vec<u8>)> {
    let photo = common::read(&gps_photos()[0]);
    let exif = common::jpeg_exif(&photo).unwrap();
    let tiff_exif = exif.strip_prefix(b"Exif\0\0").unwrap_or(&exif).to_vec();
    let small = |format| Job {
        sizes: vec![imgbatch::ResizeSpec::LongEdge { px: 48 }],
        metadata: MetadataPolicy::Strip,
        color: imgbatch::ColorPolicy::Srgb,
        ..Job::new(format)
    };
    let bare = |format| imgbatch::convert(&photo, &small(format)).unwrap().remove(0);

    let jpeg = bare(Format::Jpeg).bytes;
    let mut with = jpeg[..2].to_vec();
    with.extend(segment(
        0xe1,
        &[b"Exif\0\0".as_slice(), &tiff_exif].concat(),
    ));
    with.extend(segment(
        0xe1,
        &[
            b"http://ns.adobe.com/xap/1.0/\0".as_slice(),
            PACKET.as_bytes(),
        ]
        .concat(),
    ));
    with.extend(segment(0xed, &iptc_app13()));
    with.extend(segment(0xfe, b"taken at Lutetia-City"));
    with.extend(&jpeg[2..]);
    let jpeg = with;

    let png = bare(Format::Png).bytes;
    let ihdr_end = 8 + 8 + 13 + 4;
    let mut with = png[..ihdr_end].to_vec();
    with.extend(png_chunk(b"eXIf", &tiff_exif));
    let mut itxt = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
    itxt.extend(PACKET.as_bytes());
    with.extend(png_chunk(b"iTXt", &itxt));
    with.extend(&png[ihdr_end..]);
    let png = with;

    let pixels = image::load_from_memory(&png).unwrap().to_rgb8();
    let mut webp = Vec::new();
    let mut encoder = image_webp::WebPEncoder::new(&mut webp);
    encoder.set_exif_metadata(tiff_exif.clone());
    encoder.set_xmp_metadata(PACKET.as_bytes().to_vec());
    encoder
        .encode(
            &pixels,
            pixels.width(),
            pixels.height(),
            image_webp::ColorType::Rgb8,
        )
        .unwrap();

    let tiff = tiff_with_xmp(&pixels, PACKET.as_bytes());
    vec![
        (Format::Jpeg, jpeg),
        (Format::Png, png),
        (Format::WebP, webp),
        (Format::Tiff, tiff),
    ]
}

/// A little-endian, uncompressed RGB TIFF: one strip, and the XMP in tag 700.
fn tiff_with_xmp(pixels: &image::RgbImage, xmp: &[u8]) -> Vec<u8> {
    let (w, h) = pixels.dimensions();
    let data = pixels.as_raw();
    // Header 8 | IFD at 8: 2 + 10 entries * 12 + 4 = 126 | BitsPerSample at 134 (6) |
    // XMP at 140 | pixels after the XMP.
    let bits_at = 134u32;
    let xmp_at = bits_at + 6;
    let strip_at = xmp_at + xmp.len() as u32;
    let entries: [(u16, u16, u32, u32); 10] = [
        (256, 4, 1, w),
        (257, 4, 1, h),
        (258, 3, 3, bits_at),
        (259, 3, 1, 1),
        (262, 3, 1, 2),
        (273, 4, 1, strip_at),
        (277, 3, 1, 3),
        (278, 4, 1, h),
        (279, 4, 1, data.len() as u32),
        (700, 1, xmp.len() as u32, xmp_at),
    ];
    let mut t = b"II*\0".to_vec();
    t.extend(8u32.to_le_bytes());
    t.extend((entries.len() as u16).to_le_bytes());
    for (tag, kind, count, value) in entries {
        t.extend(tag.to_le_bytes());
        t.extend(kind.to_le_bytes());
        t.extend(count.to_le_bytes());
        t.extend(value.to_le_bytes());
    }
    t.extend(0u32.to_le_bytes());
    assert_eq!(t.len() as u32, bits_at);
    for _ in 0..3 {
        t.extend(8u16.to_le_bytes());
    }
    t.extend(xmp);
    t.extend(data);
    t
}

/// Every output format that can hold metadata.
const METADATA_OUTPUTS: [Format; 5] = [
    Format::Jpeg,
    Format::Png,
    Format::WebP,
    Format::Tiff,
    Format::Avif,
];

/// One output of [`convert_all`], with what exiftool reads in it.
struct Converted {
    input: Format,
    output: Format,
    bytes: Vec<u8>,
    /// By family-0-group:family-1-group:name, e.g. `EXIF:GPS:GPSLatitude`.
    tags: serde_json::Map<String, Value>,
}

impl Converted {
    /// Fails if any of [`PLACE_VALUES`] is anywhere in the output's bytes; returns
    /// "JPEG to PNG", for messages.
    fn without_place_values(&self) -> String {
        let what = format!("{} to {}", self.input, self.output);
        let text = String::from_utf8_lossy(&self.bytes);
        for value in PLACE_VALUES {
            assert!(!text.contains(value), "{what}: {value} left");
        }
        what
    }
}

/// Converts every input to every metadata-holding format under `policy`, and reads each
/// output back with exiftool (`-j -G0:1 -a`).
fn convert_all(policy: MetadataPolicy) -> Vec<Converted> {
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for (input, bytes) in inputs_with_location() {
        for output in METADATA_OUTPUTS {
            let job = Job {
                metadata: policy,
                ..Job::new(output)
            };
            let out = imgbatch::convert(&bytes, &job).unwrap().remove(0).bytes;
            let path = dir
                .path()
                .join(format!("{input}-to.{}", output.info().extensions[0]));
            std::fs::write(&path, &out).unwrap();
            outputs.push((input, output, out, path));
        }
    }
    let read = std::process::Command::new("exiftool")
        .args(["-j", "-G0:1", "-a"])
        .args(outputs.iter().map(|o| &o.3))
        .output()
        .expect(
            "exiftool reads the outputs (Debian: libimage-exiftool-perl; scripts/test installs it)",
        );
    let tags: Vec<Value> = serde_json::from_slice(&read.stdout).unwrap();
    assert_eq!(tags.len(), outputs.len());
    outputs
        .into_iter()
        .zip(tags)
        .map(|((input, output, bytes, _), tags)| {
            let Value::Object(tags) = tags else {
                panic!("exiftool: {tags}")
            };
            Converted {
                input,
                output,
                bytes,
                tags,
            }
        })
        .collect()
}

/// The tag part of exiftool's `Group:Group:Tag` keys.
fn tag_names(tags: &serde_json::Map<String, Value>) -> Vec<&str> {
    tags.keys()
        .map(|k| k.rsplit_once(':').map_or(k.as_str(), |(_, t)| t))
        .collect()
}

fn is_location_tag(tag: &str) -> bool {
    ["GPS", "City", "State", "Country", "Location", "Province"]
        .iter()
        .any(|word| tag.contains(word))
}

#[test]
fn strip_gps_removes_the_location_under_any_prefix_in_every_format() {
    let inputs = inputs_with_location();
    for (format, bytes) in &inputs {
        let text = String::from_utf8_lossy(bytes);
        for value in PLACE_VALUES {
            assert!(text.contains(value), "{format} input holds {value}");
        }
    }
    for out in convert_all(MetadataPolicy::StripGps) {
        let what = out.without_place_values();
        let (input, output) = (out.input, out.output);
        let names = tag_names(&out.tags);
        let left: Vec<_> = names.iter().filter(|t| is_location_tag(t)).collect();
        assert!(left.is_empty(), "{what}: exiftool finds {left:?}");
        let info = output.info();
        // The camera and date come from EXIF or XMP. A TIFF input's XMP (tag 700) does not
        // reach any output today, under `keep` either, and its EXIF is not read.
        if input != Format::Tiff && (info.xmp || info.exif) {
            for tag in ["Make", "Model", "DateTimeOriginal"] {
                assert!(names.contains(&tag), "{what}: {tag} kept: {names:?}");
            }
        }
    }
}

#[test]
fn keep_carries_the_hand_made_location_so_the_strip_gps_test_can_fail() {
    for Converted {
        input,
        output,
        bytes,
        tags,
    } in convert_all(MetadataPolicy::Keep)
    {
        // TIFF inputs' XMP is not carried today (see above), so they prove nothing here.
        if !output.info().xmp || input == Format::Tiff {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("Lutetia-City"), "{input} to {output}");
        let names = tag_names(&tags);
        for tag in ["GPSLatitude", "City", "State", "Country", "CountryCode"] {
            assert!(
                names.contains(&tag),
                "{input} to {output}: exiftool reads {tag}: {names:?}"
            );
        }
    }
}

#[test]
fn strip_leaves_no_exif_xmp_iptc_or_comment_in_any_format() {
    for out in convert_all(MetadataPolicy::Strip) {
        let what = out.without_place_values();
        // A TIFF output's own IFD0 is the image (exiftool files it under EXIF:IFD0), so EXIF
        // counts by its metadata directories and camera tags, not by the group alone.
        let left: Vec<_> = out
            .tags
            .keys()
            .filter(|k| {
                let mut parts = k.splitn(3, ':');
                let (family0, family1, tag) = (
                    parts.next().unwrap_or(""),
                    parts.next().unwrap_or(""),
                    parts.next().unwrap_or(""),
                );
                matches!(family0, "XMP" | "IPTC" | "Photoshop" | "MakerNotes")
                    || matches!(family1, "ExifIFD" | "GPS" | "IFD1" | "InteropIFD")
                    || matches!(tag, "Make" | "Model" | "DateTimeOriginal" | "Software")
                    || tag.contains("Comment")
            })
            .collect();
        assert!(left.is_empty(), "{what}: exiftool finds {left:?}");
    }
}

#[test]
fn strip_gps_drops_xmp_it_cannot_parse_and_says_so() {
    let photo = common::read(&gps_photos()[0]);
    let job = Job {
        sizes: vec![imgbatch::ResizeSpec::LongEdge { px: 48 }],
        metadata: MetadataPolicy::Strip,
        ..Job::new(Format::Jpeg)
    };
    let jpeg = imgbatch::convert(&photo, &job).unwrap().remove(0).bytes;
    // The prefix is never declared: not namespace-well-formed, so no parser can say where
    // `photoshop:City` belongs, but a reader going by prefix would still show the city.
    let broken = "<x:xmpmeta><photoshop:City>Lutetia-City</photoshop:City></x:xmpmeta>";
    let mut input = jpeg[..2].to_vec();
    input.extend(segment(
        0xe1,
        &[
            b"http://ns.adobe.com/xap/1.0/\0".as_slice(),
            broken.as_bytes(),
        ]
        .concat(),
    ));
    input.extend(&jpeg[2..]);
    let kept = convert(&input, MetadataPolicy::Keep);
    assert!(String::from_utf8_lossy(&kept).contains("Lutetia-City"));
    let job = Job {
        metadata: MetadataPolicy::StripGps,
        ..Job::new(Format::Jpeg)
    };
    let out = imgbatch::convert(&input, &job).unwrap().remove(0);
    assert!(!String::from_utf8_lossy(&out.bytes).contains("Lutetia-City"));
    assert!(common::jpeg_xmp(&out.bytes).is_none(), "no XMP at all");
    assert!(
        out.notes
            .iter()
            .any(|n| matches!(n, imgbatch::Note::MetadataDropped { block, .. } if block == "XMP")),
        "{:?}",
        out.notes
    );
}
