//! What each metadata policy lets through about where a photo was taken, read back with an
//! independent EXIF reader (kamadak-exif): `strip-gps` removes the location and keeps the
//! camera and date, `keep` keeps everything, `strip` keeps no EXIF at all.

mod common;

use exif::{Context, In, Tag};
use imgbatch::{Format, Job, MetadataPolicy};

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
