//! TIFF structures (EXIF blocks and TIFF files): bounds-checked reads of the first IFD.

pub(super) fn tiff_u16(big_endian: bool, v: u16) -> [u8; 2] {
    if big_endian {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

/// Reads a TIFF structure (EXIF blobs and TIFF files): a byte-order mark, the offset of IFD0,
/// then 12-byte entries of tag, type, count and value.
pub(super) struct TiffReader<'a> {
    bytes: &'a [u8],
    pub(super) big_endian: bool,
}

impl<'a> TiffReader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Option<Self> {
        let big_endian = match bytes.get(0..2)? {
            b"MM" => true,
            b"II" => false,
            _ => return None,
        };
        Some(TiffReader { bytes, big_endian })
    }

    pub(super) fn u16_at(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    pub(super) fn u32_at(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// Offset of IFD0's entry for `tag`.
    pub(super) fn ifd0_entry(&self, tag: u16) -> Option<usize> {
        self.entry(self.u32_at(4)? as usize, tag)
    }

    /// Offset of the entry for `tag` in the IFD at `ifd`.
    pub(super) fn entry(&self, ifd: usize, tag: u16) -> Option<usize> {
        let count = self.u16_at(ifd)?;
        (0..usize::from(count))
            .map(|i| ifd + 2 + i * 12)
            .find(|&e| self.u16_at(e) == Some(tag))
    }
}

/// The bytes of an ASCII value (type 2) at `entry`: in the entry itself up to four bytes,
/// else at the offset it holds.
pub(super) fn ascii_value<'a>(tiff: &TiffReader<'a>, entry: usize) -> Option<&'a [u8]> {
    if tiff.u16_at(entry + 2)? != 2 {
        return None;
    }
    let count = tiff.u32_at(entry + 4)? as usize;
    let at = if count <= 4 {
        entry + 8
    } else {
        tiff.u32_at(entry + 8)? as usize
    };
    tiff.bytes.get(at..at.checked_add(count)?)
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
