//! Metadata: what is read from the source, and what each policy lets into an output.

use crate::format::FormatInfo;
use crate::options::MetadataPolicy;

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
    pub(crate) fn read(decoder: &mut impl image::ImageDecoder) -> Metadata {
        let nonempty = |v: Option<Vec<u8>>| v.filter(|v| !v.is_empty());
        Metadata {
            icc: nonempty(decoder.icc_profile().ok().flatten()),
            exif: nonempty(decoder.exif_metadata().ok().flatten()).map(strip_exif_prefix),
            xmp: nonempty(decoder.xmp_metadata().ok().flatten()),
        }
    }

    /// What goes into an output of `format` under `policy`. The pixels are already upright,
    /// so every orientation tag carried along is reset to 1 ("upright"); a stale tag would
    /// make viewers rotate the image a second time.
    pub fn for_output(&self, policy: MetadataPolicy, format: &FormatInfo) -> Metadata {
        let icc = self.icc.clone().filter(|_| format.icc);
        match policy {
            MetadataPolicy::Strip => Metadata {
                icc,
                exif: None,
                xmp: None,
            },
            MetadataPolicy::Keep => Metadata {
                icc,
                exif: self.exif.clone().filter(|_| format.exif).map(|mut exif| {
                    reset_exif_orientation(&mut exif);
                    exif
                }),
                xmp: self
                    .xmp
                    .clone()
                    .filter(|_| format.xmp)
                    .map(|xmp| reset_xmp_orientation(&xmp)),
            },
        }
    }
}

/// JPEG's APP1 and some WebP files keep the `Exif\0\0` marker in front of the TIFF data.
fn strip_exif_prefix(exif: Vec<u8>) -> Vec<u8> {
    match exif.strip_prefix(b"Exif\0\0") {
        Some(rest) => rest.to_vec(),
        None => exif,
    }
}

const ORIENTATION_TAG: u16 = 0x0112;

/// Sets the Orientation tag (0x0112) of IFD0 to 1 in place, if present. Malformed
/// structures are left alone (every read is bounds-checked).
pub fn reset_exif_orientation(exif: &mut [u8]) {
    let Some(tiff) = TiffReader::new(exif) else {
        return;
    };
    let Some(entry) = tiff
        .ifd0_entry(ORIENTATION_TAG)
        .filter(|&e| tiff.u16_at(e + 2) == Some(3))
    else {
        return;
    };
    // Type SHORT, count 1: the value sits in the first two bytes of the value field.
    let one = if tiff.big_endian {
        1u16.to_be_bytes()
    } else {
        1u16.to_le_bytes()
    };
    if let Some(slot) = exif.get_mut(entry + 8..entry + 10) {
        slot.copy_from_slice(&one);
    }
}

/// Reads a TIFF structure (EXIF blobs and TIFF files): a byte-order mark, the offset of IFD0,
/// then 12-byte entries of tag, type, count and value.
struct TiffReader<'a> {
    bytes: &'a [u8],
    big_endian: bool,
}

impl<'a> TiffReader<'a> {
    fn new(bytes: &'a [u8]) -> Option<Self> {
        let big_endian = match bytes.get(0..2)? {
            b"MM" => true,
            b"II" => false,
            _ => return None,
        };
        Some(TiffReader { bytes, big_endian })
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// Offset of IFD0's entry for `tag`.
    fn ifd0_entry(&self, tag: u16) -> Option<usize> {
        let ifd = self.u32_at(4)? as usize;
        let count = self.u16_at(ifd)?;
        (0..usize::from(count))
            .map(|i| ifd + 2 + i * 12)
            .find(|&e| self.u16_at(e) == Some(tag))
    }
}

/// Reads a SHORT or LONG tag of a TIFF structure's first IFD (EXIF blobs and TIFF files).
pub(crate) fn tiff_ifd0_value(bytes: &[u8], tag: u16) -> Option<u32> {
    let tiff = TiffReader::new(bytes)?;
    let entry = tiff.ifd0_entry(tag)?;
    match tiff.u16_at(entry + 2)? {
        3 => tiff.u16_at(entry + 8).map(u32::from),
        4 => tiff.u32_at(entry + 8),
        _ => None,
    }
}

/// Reads the Orientation tag of IFD0 (1-8), for tests and reports.
pub fn exif_orientation(exif: &[u8]) -> Option<u8> {
    image::metadata::Orientation::from_exif_chunk(exif).map(|o| match o {
        image::metadata::Orientation::NoTransforms => 1,
        image::metadata::Orientation::FlipHorizontal => 2,
        image::metadata::Orientation::Rotate180 => 3,
        image::metadata::Orientation::FlipVertical => 4,
        image::metadata::Orientation::Rotate90FlipH => 5,
        image::metadata::Orientation::Rotate90 => 6,
        image::metadata::Orientation::Rotate270FlipH => 7,
        image::metadata::Orientation::Rotate270 => 8,
    })
}

/// Reads `tiff:Orientation` (1-8) from an XMP packet, in attribute or element form.
pub fn xmp_orientation(xmp: &[u8]) -> Option<u8> {
    let text = std::str::from_utf8(xmp).ok()?;
    let at = text.find("tiff:Orientation")? + "tiff:Orientation".len();
    let value = text[at..].trim_start_matches(['=', '"', '\'', '>']);
    let digit = value.bytes().next().filter(u8::is_ascii_digit)? - b'0';
    (1..=8).contains(&digit).then_some(digit)
}

/// XMP repeats the orientation as `tiff:Orientation`, as an attribute or an element.
fn reset_xmp_orientation(xmp: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(xmp) else {
        return xmp.to_vec();
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    const KEY: &str = "tiff:Orientation";
    while let Some(at) = rest.find(KEY) {
        let (head, tail) = rest.split_at(at + KEY.len());
        out.push_str(head);
        // Attribute form: tiff:Orientation="6"; element form: <tiff:Orientation>6</...>.
        let value_start = match tail.as_bytes() {
            [b'=', b'"' | b'\'', ..] => 2,
            [b'>', ..] => 1,
            _ => {
                rest = tail;
                continue;
            }
        };
        let digits = tail[value_start..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        out.push_str(&tail[..value_start]);
        if digits > 0 {
            out.push('1');
        }
        rest = &tail[value_start + digits..];
    }
    out.push_str(rest);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xmp_orientation_is_read_in_both_forms() {
        assert_eq!(xmp_orientation(br#"<x tiff:Orientation="6"/>"#), Some(6));
        assert_eq!(
            xmp_orientation(b"<tiff:Orientation>3</tiff:Orientation>"),
            Some(3)
        );
        assert_eq!(
            xmp_orientation(b"<tiff:Orientation>9</tiff:Orientation>"),
            None
        );
    }

    #[test]
    fn xmp_orientation_is_reset_in_both_forms() {
        let xmp = br#"<x tiff:Orientation="6"/><tiff:Orientation>8</tiff:Orientation>"#;
        let out = String::from_utf8(reset_xmp_orientation(xmp)).unwrap();
        assert_eq!(
            out,
            r#"<x tiff:Orientation="1"/><tiff:Orientation>1</tiff:Orientation>"#
        );
    }

    #[test]
    fn exif_orientation_is_reset_in_either_byte_order() {
        for big in [false, true] {
            let w16 = |v: u16| {
                if big {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                }
            };
            let w32 = |v: u32| {
                if big {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                }
            };
            let mut exif = Vec::new();
            exif.extend_from_slice(if big { b"MM" } else { b"II" });
            exif.extend_from_slice(&w16(42));
            exif.extend_from_slice(&w32(8));
            exif.extend_from_slice(&w16(1));
            exif.extend_from_slice(&w16(ORIENTATION_TAG));
            exif.extend_from_slice(&w16(3));
            exif.extend_from_slice(&w32(1));
            exif.extend_from_slice(&w16(6));
            exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
            assert_eq!(exif_orientation(&exif), Some(6));
            reset_exif_orientation(&mut exif);
            assert_eq!(exif_orientation(&exif), Some(1));
        }
    }

    #[test]
    fn truncated_exif_is_left_alone() {
        let mut exif = b"II*\0\x08\0\0\0\xff\xff".to_vec();
        let before = exif.clone();
        reset_exif_orientation(&mut exif);
        assert_eq!(exif, before);
    }
}
