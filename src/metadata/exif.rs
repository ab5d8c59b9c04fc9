//! EXIF edits: removing the GPS block, resetting and reading the orientation.

#[cfg(test)]
use super::tiff::tiff_ifd0_value;
use super::tiff::{TiffReader, ascii_value, tiff_u16};
use crate::naming::DateTime;

const ORIENTATION_TAG: u16 = 0x0112;
const GPS_IFD_TAG: u16 = 0x8825;
const EXIF_IFD_TAG: u16 = 0x8769;
const DATE_TIME_ORIGINAL_TAG: u16 = 0x9003;

/// When the photo was taken: DateTimeOriginal, in the EXIF IFD. None without one, or when it
/// is blank or damaged (every read is bounds-checked).
pub fn exif_capture_time(exif: &[u8]) -> Option<DateTime> {
    let tiff = TiffReader::new(exif)?;
    let pointer = tiff.ifd0_entry(EXIF_IFD_TAG)?;
    let exif_ifd = tiff.u32_at(pointer + 8)? as usize;
    let entry = tiff.entry(exif_ifd, DATE_TIME_ORIGINAL_TAG)?;
    DateTime::from_exif(ascii_value(&tiff, entry)?)
}

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

/// Reads the Orientation tag of IFD0 (1-8), for tests and reports.
pub fn exif_orientation(exif: &[u8]) -> Option<u8> {
    image::metadata::Orientation::from_exif_chunk(exif).map(image::metadata::Orientation::to_exif)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn truncated_exif_is_left_alone() {
        let mut exif = b"II*\0\x08\0\0\0\xff\xff".to_vec();
        let before = exif.clone();
        reset_exif_orientation(&mut exif);
        assert_eq!(exif, before);
    }
}
