//! Outputs are upright: the 8 EXIF orientations of the same photo give the same pixels, and
//! no output carries a stale orientation tag.

mod common;

use imgbatch::{Format, Job, Limits, MetadataPolicy};

fn upright(path: &str) -> imgbatch::Pixels {
    imgbatch::decode_upright(&common::read(path), &Limits::default())
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn all_eight_orientations_give_the_same_upright_pixels() {
    for kind in ["Landscape", "Portrait"] {
        let reference = upright(&format!("exif-orientation-examples/{kind}_1.jpg"));
        for n in 0..=8 {
            let path = format!("exif-orientation-examples/{kind}_{n}.jpg");
            let px = upright(&path);
            // The eight files are separately JPEG-compressed rotations of one photo: they
            // differ by compression noise (about 1 level); a wrong orientation by tens.
            let diff = common::mean_difference(&reference, &px);
            assert!(
                diff < 4.0,
                "{path}: differs from {kind}_1 by {diff:.1} levels per sample"
            );
        }
    }
}

#[test]
fn kept_exif_says_upright_and_stripped_exif_is_gone() {
    for n in 1..=8 {
        let bytes = common::read(&format!("exif-orientation-examples/Portrait_{n}.jpg"));
        let keep = Job {
            metadata: MetadataPolicy::Keep,
            ..Job::new(Format::Jpeg)
        };
        let out = &imgbatch::convert(&bytes, &keep).unwrap()[0];
        assert_eq!(
            (out.width, out.height),
            (1200, 1800),
            "Portrait_{n} is upright"
        );
        let exif = common::jpeg_exif(&out.bytes).expect("keep carries EXIF");
        assert_eq!(
            imgbatch::exif_orientation(exif.strip_prefix(b"Exif\0\0").unwrap_or(&exif)),
            Some(1),
            "Portrait_{n}"
        );

        let strip = imgbatch::convert(&bytes, &Job::new(Format::Jpeg)).unwrap();
        assert!(
            common::jpeg_exif(&strip[0].bytes).is_none(),
            "strip drops EXIF from Portrait_{n}"
        );
    }
}

#[test]
fn webp_png_and_tiff_orientation_is_applied() {
    // The seven WebP files are one photo stored in orientations 2-8: all decode alike.
    let reference = upright("pillow/hopper_orientation_2.webp");
    for n in 3..=8 {
        let path = format!("pillow/hopper_orientation_{n}.webp");
        let diff = common::mean_difference(&reference, &upright(&path));
        assert!(
            diff < 4.0,
            "{path}: differs from orientation 2 by {diff:.1}"
        );
    }
    // TIFF keeps orientation in its own IFD, PNG here in XMP: sizes must be the oracle's.
    let oracle = common::oracle();
    for path in [
        "pillow/g4_orientation_6.tif",
        "pillow/xmp_tags_orientation.png",
    ] {
        let row = oracle.iter().find(|r| r.path == path).expect("oracle row");
        let px = upright(path);
        assert_eq!((px.width, px.height), (row.width, row.height), "{path}");
    }
}
