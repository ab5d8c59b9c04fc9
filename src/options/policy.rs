//! What happens to a photo's metadata and to the colours its ICC profile describes.

use crate::choices::{Choice, Choices, choice, choice_text_forms};

/// What happens to metadata.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MetadataPolicy {
    /// Drop EXIF (camera, date, GPS), XMP, IPTC and comments; keep the ICC colour profile,
    /// because without it colours shift.
    #[default]
    Strip,
    /// Carry EXIF (orientation reset to upright), ICC and XMP into outputs that hold them.
    Keep,
    /// As `Keep`, but without the location: the EXIF GPS block and XMP's GPS and place
    /// fields are removed. Camera, lens and capture date stay.
    StripGps,
}

impl Choices for MetadataPolicy {
    const WHAT: &'static str = "metadata policy";
    const CHOICES: &'static [Choice<Self>] = &[
        choice(
            MetadataPolicy::Strip,
            "strip",
            "Remove private metadata (keeps colour profile)",
        ),
        choice(
            MetadataPolicy::StripGps,
            "strip-gps",
            "Keep metadata, remove location",
        ),
        choice(MetadataPolicy::Keep, "keep", "Keep all metadata"),
    ];
}

/// What happens to colours described by an embedded ICC profile (Display P3 from phones,
/// Adobe RGB from cameras, CMYK from print files).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorPolicy {
    /// Keep the pixels and embed the source profile, so wide-gamut colours survive. Where
    /// the output cannot carry that profile (AVIF, GIF, BMP, QOI, ICO; a CMYK or grey profile on
    /// RGB output) the pixels are converted to sRGB instead, so colours never shift.
    #[default]
    Keep,
    /// Convert the pixels to sRGB and tag the output as sRGB: what most web pages and
    /// upload forms expect.
    Srgb,
}

impl Choices for ColorPolicy {
    const WHAT: &'static str = "colour policy";
    const CHOICES: &'static [Choice<Self>] = &[
        choice(
            ColorPolicy::Keep,
            "keep",
            "Keep the photo's colour profile (wide colour stays wide)",
        ),
        choice(
            ColorPolicy::Srgb,
            "srgb",
            "Convert to sRGB (what most websites expect)",
        ),
    ];
}

choice_text_forms!(MetadataPolicy, ColorPolicy);
