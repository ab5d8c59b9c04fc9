//! Metadata: what is read from the source, and what each policy lets into an output.

mod exif;
mod tiff;
mod xmp;

use crate::format::FormatInfo;
use crate::note::Note;
use crate::options::MetadataPolicy;

use exif::{remove_exif_gps, reset_exif_orientation};
use xmp::{Unreadable, remove_xmp_location, reset_xmp_orientation};

pub use exif::{exif_capture_time, exif_orientation};
pub(crate) use tiff::tiff_ifd0_value;
pub use xmp::xmp_orientation;

/// The metadata blocks imgbatch carries. IPTC and comments are never carried.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// ICC colour profile.
    pub icc: Option<Vec<u8>>,
    /// EXIF as a TIFF structure (no `Exif\0\0` prefix).
    pub exif: Option<Vec<u8>>,
    /// XMP packet (XML).
    pub xmp: Option<Vec<u8>>,
}

impl Metadata {
    /// Reads the blocks a decoder exposes. A damaged metadata block is dropped rather than
    /// failing the file: the pixels are what the user came for.
    pub(crate) fn read(decoder: &mut dyn image::ImageDecoder) -> Metadata {
        let nonempty = |v: Option<Vec<u8>>| v.filter(|v| !v.is_empty());
        Metadata {
            icc: nonempty(decoder.icc_profile().ok().flatten()),
            exif: nonempty(decoder.exif_metadata().ok().flatten()).map(strip_exif_prefix),
            xmp: nonempty(decoder.xmp_metadata().ok().flatten()),
        }
    }

    /// What goes into an output of `format` under `policy`, and a note for each block left
    /// out because its location could not be removed safely. The pixels are already
    /// upright, so every orientation tag carried along is reset to 1 ("upright"); a stale tag
    /// would make viewers rotate the image a second time.
    pub fn for_output(&self, policy: MetadataPolicy, format: &FormatInfo) -> (Metadata, Vec<Note>) {
        let icc = self.icc.clone().filter(|_| format.icc);
        let mut notes = Vec::new();
        let metadata = match policy {
            MetadataPolicy::Strip => Metadata {
                icc,
                exif: None,
                xmp: None,
            },
            MetadataPolicy::Keep | MetadataPolicy::StripGps => {
                let without_location = policy == MetadataPolicy::StripGps;
                let exif = self
                    .exif
                    .clone()
                    .filter(|_| format.exif)
                    .and_then(|mut exif| {
                        reset_exif_orientation(&mut exif);
                        // EXIF whose GPS block cannot be removed safely is dropped whole: the
                        // location must never survive by accident.
                        if without_location && !remove_exif_gps(&mut exif) {
                            notes.push(Note::MetadataDropped {
                                block: "EXIF".into(),
                                reason: "its GPS block could not be located safely".into(),
                            });
                            return None;
                        }
                        Some(exif)
                    });
                let xmp = self.xmp.as_deref().filter(|_| format.xmp).and_then(|xmp| {
                    if !without_location {
                        return Some(xmp.to_vec());
                    }
                    // So is XMP that does not parse: a reader more lenient than ours could
                    // still find the location in it.
                    remove_xmp_location(xmp)
                        .map_err(|Unreadable(reason)| {
                            notes.push(Note::MetadataDropped {
                                block: "XMP".into(),
                                reason: format!("it is not well-formed XML ({reason})"),
                            })
                        })
                        .ok()
                });
                Metadata {
                    icc,
                    exif,
                    xmp: xmp.map(|xmp| reset_xmp_orientation(&xmp)),
                }
            }
        };
        (metadata, notes)
    }
}

/// JPEG's APP1 and some WebP files keep the `Exif\0\0` marker in front of the TIFF data.
fn strip_exif_prefix(exif: Vec<u8>) -> Vec<u8> {
    match exif.strip_prefix(b"Exif\0\0") {
        Some(rest) => rest.to_vec(),
        None => exif,
    }
}
