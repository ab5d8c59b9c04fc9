//! ZIP input: the entries of an archive, each checked, and their bytes inflated under the
//! limits. It works on pieces of the archive the caller reads (its tail, its central
//! directory, one entry at a time), so an archive is never held whole: the CLI reads them
//! from the file, the page slices them from the dropped `File`.

use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::naming::DateTime;

const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const ZIP64_END_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_END_OF_DIRECTORY: u32 = 0x0606_4b50;
const DIRECTORY_ENTRY: u32 = 0x0201_4b50;
const LOCAL_HEADER: u32 = 0x0403_4b50;
/// The end record (22 bytes) plus the longest comment it can carry.
pub const ZIP_TAIL_BYTES: u64 = 22 + 0xFFFF;
/// The largest local header: 30 bytes, a name and an extra field of up to 64 KiB each. An
/// entry's bytes lie within this much plus its compressed size from its offset.
pub const ZIP_LOCAL_HEADER_MAX: u64 = 30 + 2 * 0xFFFF;

/// Where the central directory is, from the archive's tail.
#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ZipDirectory {
    /// At this offset, this many bytes.
    At { offset: u64, size: u64 },
    /// A ZIP64 archive: read 56 bytes at this offset and pass them to [`zip64_directory`].
    Zip64RecordAt(u64),
}

/// One file in an archive. `problem` says why it cannot be converted (a path that would
/// escape the output folder, encryption, a compression method we lack, a size over the
/// limit); such an entry is reported as failed, and the others still convert. The page
/// hands an entry back as the JSON it got, to read its bytes.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZipEntry {
    /// The entry's path inside the archive, with `/` separators.
    pub path: String,
    /// Offset of its local header.
    pub offset: u64,
    pub compressed_size: u64,
    pub size: u64,
    /// The entry's date as the archive keeps it (local time, 2-second steps), read as UTC
    /// like every file date of ours; none when it is not a real date. In JSON, in
    /// milliseconds since 1970, as the page's `File.lastModified`.
    #[serde(serialize_with = "unix_ms_json", skip_deserializing)]
    pub modified: Option<DateTime>,
    method: u16,
    crc32: u32,
    #[serde(serialize_with = "problem_json", skip_deserializing)]
    pub problem: Option<Error>,
}

fn problem_json<S: serde::Serializer>(
    problem: &Option<Error>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    match problem {
        None => s.serialize_none(),
        Some(e) => {
            let mut map = s.serialize_map(Some(2))?;
            map.serialize_entry("code", e.code())?;
            map.serialize_entry("message", &e.message())?;
            map.end()
        }
    }
}

fn unix_ms_json<S: serde::Serializer>(
    at: &Option<DateTime>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match at {
        Some(at) => s.serialize_i64(at.unix_seconds() * 1000),
        None => s.serialize_none(),
    }
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::decode(format!("not a readable ZIP archive: {what}"))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Finds the central directory from the last [`ZIP_TAIL_BYTES`] (or fewer) bytes of an
/// archive that is `archive_len` bytes long.
pub fn zip_directory(tail: &[u8], archive_len: u64) -> Result<ZipDirectory> {
    let tail_start = archive_len.saturating_sub(tail.len() as u64);
    // The last end record wins: a comment could hold the signature too.
    let at = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(tail, i) == Some(END_OF_DIRECTORY))
        .ok_or_else(|| bad("no end-of-directory record"))?;
    let record = &tail[at..];
    let size = u64::from(u32_at(record, 12).ok_or_else(|| bad("short end record"))?);
    let offset = u64::from(u32_at(record, 16).ok_or_else(|| bad("short end record"))?);
    if (offset == 0xFFFF_FFFF || size == 0xFFFF_FFFF || u16_at(record, 10) == Some(0xFFFF))
        && at >= 20
        && u32_at(tail, at - 20) == Some(ZIP64_END_LOCATOR)
    {
        let record_at = u64_at(tail, at - 20 + 8).ok_or_else(|| bad("short ZIP64 locator"))?;
        return Ok(ZipDirectory::Zip64RecordAt(record_at));
    }
    if offset + size > tail_start + at as u64 {
        return Err(bad("the directory lies outside the archive"));
    }
    Ok(ZipDirectory::At { offset, size })
}

/// The central directory's place from a ZIP64 end record (56 bytes).
pub fn zip64_directory(record: &[u8]) -> Result<ZipDirectory> {
    if u32_at(record, 0) != Some(ZIP64_END_OF_DIRECTORY) {
        return Err(bad("the ZIP64 end record is missing"));
    }
    let size = u64_at(record, 40).ok_or_else(|| bad("short ZIP64 end record"))?;
    let offset = u64_at(record, 48).ok_or_else(|| bad("short ZIP64 end record"))?;
    Ok(ZipDirectory::At { offset, size })
}

/// An MS-DOS date and time, as ZIP stores them.
fn dos_date(date: u16, time: u16) -> Option<DateTime> {
    let at = DateTime {
        year: 1980 + (date >> 9),
        month: ((date >> 5) & 15) as u8,
        day: (date & 31) as u8,
        hour: (time >> 11) as u8,
        minute: ((time >> 5) & 63) as u8,
        second: ((time & 31) * 2) as u8,
    };
    let real = (1..=12).contains(&at.month)
        && (1..=31).contains(&at.day)
        && at.hour < 24
        && at.minute < 60
        && at.second < 60;
    real.then_some(at)
}

/// Why an entry's path cannot be written under an output folder, if it cannot.
fn path_problem(path: &str) -> Option<String> {
    let absolute = path.starts_with('/')
        || path.as_bytes().get(1) == Some(&b':')
        || path
            .split('/')
            .next()
            .is_some_and(|first| first.is_empty() && !path.is_empty());
    if absolute {
        return Some(format!("'{path}' is an absolute path"));
    }
    if path.split('/').any(|part| part == "..") {
        return Some(format!("'{path}' points outside the archive's folder (..)"));
    }
    None
}

/// Every file entry of a central directory, folders left out, each with its problem if it
/// has one. `limits` bounds each entry's unpacked size as it bounds an input file's.
pub fn zip_entries(directory: &[u8], limits: &Limits) -> Result<Vec<ZipEntry>> {
    let mut entries = Vec::new();
    let mut at = 0;
    while at < directory.len() {
        let h = &directory[at..];
        if u32_at(h, 0) != Some(DIRECTORY_ENTRY) {
            return Err(bad(format!(
                "directory entry {} is damaged",
                entries.len() + 1
            )));
        }
        let field = |offset, width| -> Result<u64> {
            match width {
                2 => u16_at(h, offset).map(u64::from),
                _ => u32_at(h, offset).map(u64::from),
            }
            .ok_or_else(|| bad("a directory entry is cut short"))
        };
        let flags = field(8, 2)?;
        let (time, date) = (field(12, 2)?, field(14, 2)?);
        let method = field(10, 2)? as u16;
        let crc32 = field(16, 4)? as u32;
        let (mut compressed_size, mut size) = (field(20, 4)?, field(24, 4)?);
        let (name_len, extra_len, comment_len) = (
            field(28, 2)? as usize,
            field(30, 2)? as usize,
            field(32, 2)? as usize,
        );
        let mut offset = field(42, 4)?;
        let end = 46 + name_len + extra_len + comment_len;
        let name = h
            .get(46..46 + name_len)
            .ok_or_else(|| bad("a name is cut short"))?;
        let extra = h
            .get(46 + name_len..46 + name_len + extra_len)
            .ok_or_else(|| bad("an extra field is cut short"))?;
        // ZIP64: the sizes and offset that overflow 32 bits, in this order, in field 1.
        let mut e = 0;
        while e + 4 <= extra.len() {
            let (id, len) = (
                u16_at(extra, e).unwrap_or(0),
                usize::from(u16_at(extra, e + 2).unwrap_or(0)),
            );
            if id == 1 {
                let mut values = extra.get(e + 4..e + 4 + len).unwrap_or(&[]).chunks_exact(8);
                for slot in [&mut size, &mut compressed_size, &mut offset] {
                    if *slot == 0xFFFF_FFFF
                        && let Some(v) = values.next()
                    {
                        *slot = u64::from_le_bytes(v.try_into().unwrap_or_default());
                    }
                }
            }
            e += 4 + len;
        }
        at += end;
        // Bit 11: the name is UTF-8; older tools wrote their code page, read here leniently.
        let path = String::from_utf8_lossy(name).replace('\\', "/");
        if path.ends_with('/') {
            continue; // a folder
        }
        let problem = if let Some(why) = path_problem(&path) {
            Some(Error::unsupported(format!("refused: {why}")))
        } else if flags & 1 != 0 {
            Some(Error::unsupported("refused: the entry is encrypted"))
        } else if method != 0 && method != 8 {
            Some(Error::unsupported(format!(
                "compression method {method} is not supported (only stored and deflate)"
            )))
        } else {
            limits.check_input_bytes(size.max(compressed_size)).err()
        };
        entries.push(ZipEntry {
            path,
            offset,
            compressed_size,
            size,
            modified: dos_date(date as u16, time as u16),
            method,
            crc32,
            problem,
        });
    }
    Ok(entries)
}

/// The bytes of one entry, from a slice of the archive that starts at its local header and
/// holds at least its data (the caller reads [`ZIP_LOCAL_HEADER_MAX`] plus the compressed
/// size, or up to the archive's end).
pub fn zip_entry_bytes(slice: &[u8], entry: &ZipEntry) -> Result<Vec<u8>> {
    if let Some(problem) = &entry.problem {
        return Err(Error::new(problem.kind(), problem.message()));
    }
    if u32_at(slice, 0) != Some(LOCAL_HEADER) {
        return Err(bad(format!(
            "{}: the entry's header is missing",
            entry.path
        )));
    }
    let start = 30
        + usize::from(u16_at(slice, 26).unwrap_or(0))
        + usize::from(u16_at(slice, 28).unwrap_or(0));
    let data = usize::try_from(entry.compressed_size)
        .ok()
        .and_then(|n| slice.get(start..start.checked_add(n)?))
        .ok_or_else(|| bad(format!("{}: the entry is cut short", entry.path)))?;
    let size = usize::try_from(entry.size).map_err(|_| Error::limit("the entry is too large"))?;
    let bytes = match entry.method {
        0 => data.to_vec(),
        _ => {
            // Never more than the directory says: a deflate bomb stops at the declared size.
            let mut out = Vec::with_capacity(size.min(64 << 20));
            flate2::read::DeflateDecoder::new(data)
                .take(entry.size + 1)
                .read_to_end(&mut out)
                .map_err(|e| bad(format!("{}: {e}", entry.path)))?;
            out
        }
    };
    if bytes.len() != size || crc32fast::hash(&bytes) != entry.crc32 {
        return Err(bad(format!(
            "{}: the entry's data does not match its size and checksum",
            entry.path
        )));
    }
    Ok(bytes)
}
