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
    pub(crate) fn read(decoder: &mut dyn image::ImageDecoder) -> Metadata {
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
            MetadataPolicy::Keep | MetadataPolicy::StripGps => {
                let without_location = policy == MetadataPolicy::StripGps;
                Metadata {
                    icc,
                    exif: self
                        .exif
                        .clone()
                        .filter(|_| format.exif)
                        .and_then(|mut exif| {
                            reset_exif_orientation(&mut exif);
                            // EXIF whose GPS block cannot be removed safely is dropped whole:
                            // the location must never survive by accident.
                            (!without_location || remove_exif_gps(&mut exif)).then_some(exif)
                        }),
                    xmp: self
                        .xmp
                        .as_deref()
                        .filter(|_| format.xmp)
                        .and_then(|xmp| {
                            if without_location {
                                remove_xmp_location(xmp)
                            } else {
                                Some(xmp.to_vec())
                            }
                        })
                        .map(|xmp| reset_xmp_orientation(&xmp)),
                }
            }
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
const GPS_IFD_TAG: u16 = 0x8825;

/// Removes the GPS block from EXIF: IFD0 loses its pointer to the GPS IFD, and the IFD and
/// every value it holds are overwritten with zeros, so the coordinates are gone from the
/// bytes, not merely unlinked. Everything else (camera, lens, capture date) stays. Returns
/// false if the structure is too damaged to edit safely; the caller then drops the EXIF.
pub fn remove_exif_gps(exif: &mut [u8]) -> bool {
    let Some(edit) = gps_removal(exif) else {
        return false;
    };
    for range in edit.zero {
        exif[range].fill(0);
    }
    if let Some((entry, table_end, count)) = edit.unlink {
        // Shift the later entries (and the next-IFD offset) over the GPS entry, blank the
        // freed last slot, and count one entry fewer.
        exif.copy_within(entry + 12..table_end, entry);
        exif[table_end - 12..table_end].fill(0);
        exif[edit.ifd0..edit.ifd0 + 2].copy_from_slice(&tiff_u16(edit.big_endian, count - 1));
    }
    true
}

fn tiff_u16(big_endian: bool, v: u16) -> [u8; 2] {
    if big_endian {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

/// What [`remove_exif_gps`] changes, worked out (and bounds-checked) before any byte moves.
struct GpsRemoval {
    big_endian: bool,
    ifd0: usize,
    /// IFD0's GPS entry, the end of IFD0's entries plus next-IFD offset, and the entry count.
    unlink: Option<(usize, usize, u16)>,
    zero: Vec<std::ops::Range<usize>>,
}

fn gps_removal(exif: &[u8]) -> Option<GpsRemoval> {
    let tiff = TiffReader::new(exif)?;
    let ifd0 = tiff.u32_at(4)? as usize;
    let count = tiff.u16_at(ifd0)?;
    let table_end = ifd0 + 2 + usize::from(count) * 12 + 4;
    exif.get(ifd0..table_end)?;
    let mut edit = GpsRemoval {
        big_endian: tiff.big_endian,
        ifd0,
        unlink: None,
        zero: Vec::new(),
    };
    let Some(entry) = tiff.ifd0_entry(GPS_IFD_TAG) else {
        return Some(edit);
    };
    edit.unlink = Some((entry, table_end, count));
    let gps = tiff.u32_at(entry + 8)? as usize;
    let gps_count = usize::from(tiff.u16_at(gps)?);
    let gps_end = gps + 2 + gps_count * 12 + 4;
    exif.get(gps..gps_end)?;
    for e in (0..gps_count).map(|i| gps + 2 + i * 12) {
        let unit = match tiff.u16_at(e + 2)? {
            1 | 2 | 6 | 7 => 1,
            3 | 8 => 2,
            4 | 9 | 11 => 4,
            5 | 10 | 12 => 8,
            _ => return None, // an unknown type: its size, and so its value, is unknown
        };
        let size = unit * tiff.u32_at(e + 4)? as usize;
        if size > 4 {
            // Values over four bytes live elsewhere, at the offset in the value field.
            let at = tiff.u32_at(e + 8)? as usize;
            exif.get(at..at.checked_add(size)?)?;
            edit.zero.push(at..at + size);
        }
    }
    edit.zero.push(gps..gps_end);
    Some(edit)
}

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
    let one = tiff_u16(tiff.big_endian, 1);
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

/// XMP properties that say where a photo was taken: the GPS copy in the EXIF namespace, and
/// the place names of the IPTC and Photoshop schemas. Matched as name prefixes.
const XMP_LOCATION_FIELDS: [&str; 8] = [
    "exif:GPS",
    "photoshop:City",
    "photoshop:State",
    "photoshop:Country",
    "Iptc4xmpCore:Location",
    "Iptc4xmpCore:CountryCode",
    "Iptc4xmpExt:LocationCreated",
    "Iptc4xmpExt:LocationShown",
];

/// Removes [`XMP_LOCATION_FIELDS`] from an XMP packet, in attribute form (`exif:GPSLatitude="…"`)
/// and element form (`<exif:GPSLatitude>…</exif:GPSLatitude>`). None if the packet is not
/// text or a field cannot be delimited: the caller then drops the XMP rather than risk
/// keeping the location.
pub fn remove_xmp_location(xmp: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(xmp).ok()?;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = XMP_LOCATION_FIELDS
        .iter()
        .filter_map(|field| rest.find(field))
        .min()
    {
        let name_len = rest[at..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-' | '.')))
            .unwrap_or(rest.len() - at);
        let (before, field) = rest.split_at(at);
        let (name, after) = field.split_at(name_len);
        if let Some(head) = before.strip_suffix('<') {
            // Element: up to its closing tag, or the end of a self-closing tag.
            let tag_end = after.find('>')?;
            let end = if after[..tag_end].ends_with('/') {
                tag_end + 1
            } else {
                let close = format!("</{name}>");
                after.find(&close)? + close.len()
            };
            out.push_str(head);
            rest = &after[end..];
        } else if before.ends_with(char::is_whitespace) && after.starts_with('=') {
            // Attribute: name="value" or name='value', with the space before it.
            let quote = after[1..]
                .chars()
                .next()
                .filter(|q| matches!(q, '"' | '\''))?;
            let end = 2 + after[2..].find(quote)? + 1;
            out.push_str(before.trim_end());
            rest = &after[end..];
        } else {
            out.push_str(before);
            out.push_str(name);
            rest = after;
        }
    }
    out.push_str(rest);
    Some(out.into_bytes())
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

    /// TIFF bytes in either byte order, for hand-built EXIF blocks.
    struct TiffBuilder {
        big: bool,
        bytes: Vec<u8>,
    }

    impl TiffBuilder {
        /// The header, with IFD0 right after it at offset 8.
        fn new(big: bool) -> Self {
            let mut tiff = TiffBuilder {
                big,
                bytes: if big { b"MM" } else { b"II" }.to_vec(),
            };
            tiff.u16(42).u32(8);
            tiff
        }
        fn u16(&mut self, v: u16) -> &mut Self {
            self.bytes.extend(tiff_u16(self.big, v));
            self
        }
        fn u32(&mut self, v: u32) -> &mut Self {
            let b = if self.big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            self.bytes.extend(b);
            self
        }
        fn raw(&mut self, b: &[u8]) -> &mut Self {
            self.bytes.extend_from_slice(b);
            self
        }
        /// An IFD entry whose value field holds a u32 (a LONG or an offset).
        fn entry(&mut self, tag: u16, kind: u16, count: u32, value: u32) -> &mut Self {
            self.u16(tag).u16(kind).u32(count).u32(value)
        }
    }

    #[test]
    fn exif_orientation_is_reset_in_either_byte_order() {
        for big in [false, true] {
            let mut tiff = TiffBuilder::new(big);
            tiff.u16(1)
                .u16(ORIENTATION_TAG)
                .u16(3)
                .u32(1)
                .u16(6)
                .u16(0)
                .u32(0);
            let mut exif = tiff.bytes;
            assert_eq!(exif_orientation(&exif), Some(6));
            reset_exif_orientation(&mut exif);
            assert_eq!(exif_orientation(&exif), Some(1));
        }
    }

    /// EXIF with IFD0 = [Make "Nikon\0\0\0" (out of line), GPS pointer] and a GPS IFD
    /// holding GPSLatitudeRef "N" (inline) and GPSLatitude as three rationals (out of line).
    fn exif_with_gps(big: bool) -> (Vec<u8>, std::ops::Range<usize>) {
        // Layout: header 8 | IFD0 at 8 (2 + 2*12 + 4 = 30) | make at 38 (8) | GPS IFD at 46
        // (2 + 2*12 + 4 = 30) | latitude at 76 (24).
        let mut tiff = TiffBuilder::new(big);
        tiff.u16(2)
            .entry(0x010f, 2, 8, 38)
            .entry(GPS_IFD_TAG, 4, 1, 46)
            .u32(0)
            .raw(b"Nikon\0\0\0");
        tiff.u16(2)
            .u16(0x0001)
            .u16(2)
            .u32(2)
            .raw(b"N\0\0\0")
            .entry(0x0002, 5, 3, 76)
            .u32(0);
        for v in [43, 1, 28, 1, 1234, 100] {
            tiff.u32(v);
        }
        (tiff.bytes, 76..100)
    }

    #[test]
    fn gps_is_unlinked_and_erased_and_the_rest_stays() {
        for big in [false, true] {
            let (mut exif, latitude) = exif_with_gps(big);
            assert!(remove_exif_gps(&mut exif));
            assert_eq!(tiff_ifd0_value(&exif, GPS_IFD_TAG), None);
            assert_eq!(
                tiff_ifd0_value(&exif, 0x010f),
                None,
                "Make is ASCII, not a number"
            );
            let tiff = TiffReader::new(&exif).unwrap();
            assert_eq!(tiff.u16_at(8), Some(1), "one entry left in IFD0");
            assert_eq!(
                tiff.ifd0_entry(0x010f),
                Some(10),
                "Make moved into the first slot"
            );
            assert_eq!(&exif[38..46], b"Nikon\0\0\0");
            assert!(exif[46..76].iter().all(|&b| b == 0), "GPS IFD erased");
            assert!(exif[latitude].iter().all(|&b| b == 0), "latitude erased");
        }
    }

    #[test]
    fn exif_without_gps_is_unchanged_and_damaged_gps_is_refused() {
        let (mut exif, _) = exif_with_gps(false);
        assert!(remove_exif_gps(&mut exif));
        let once = exif.clone();
        assert!(remove_exif_gps(&mut exif));
        assert_eq!(exif, once);
        let (mut exif, _) = exif_with_gps(false);
        exif.truncate(90); // the latitude's value runs past the end
        assert!(!remove_exif_gps(&mut exif));
    }

    #[test]
    fn xmp_location_goes_in_attribute_element_and_struct_form() {
        let xmp = concat!(
            r#"<rdf:Description exif:GPSLatitude="43,28.2N" exif:DateTimeOriginal="2008:10:22" "#,
            r#"exif:GPSLongitude='11,52.9E'><photoshop:City>Firenze</photoshop:City>"#,
            r#"<exif:GPSVersionID>2.2.0.0</exif:GPSVersionID><Iptc4xmpExt:LocationShown/>"#,
            r#"<Iptc4xmpExt:LocationCreated rdf:parseType="Resource"><Iptc4xmpExt:City>Firenze"#,
            r#"</Iptc4xmpExt:City></Iptc4xmpExt:LocationCreated><tiff:Make>NIKON</tiff:Make>"#,
            r#"</rdf:Description>"#
        );
        let out = String::from_utf8(remove_xmp_location(xmp.as_bytes()).unwrap()).unwrap();
        assert_eq!(
            out,
            concat!(
                r#"<rdf:Description exif:DateTimeOriginal="2008:10:22">"#,
                r#"<tiff:Make>NIKON</tiff:Make></rdf:Description>"#
            )
        );
    }

    #[test]
    fn xmp_with_an_unclosed_location_is_refused() {
        assert_eq!(remove_xmp_location(b"<photoshop:City>Firenze"), None);
        assert_eq!(remove_xmp_location(b"<x exif:GPSLatitude=\"43"), None);
        assert_eq!(remove_xmp_location(b"\xff\xfe"), None);
    }

    #[test]
    fn truncated_exif_is_left_alone() {
        let mut exif = b"II*\0\x08\0\0\0\xff\xff".to_vec();
        let before = exif.clone();
        reset_exif_orientation(&mut exif);
        assert_eq!(exif, before);
    }
}
