//! The container readers that walk structures without decoding pixels: frame counts (HEIF
//! and AVIF boxes, the GIF frame walk, PNG chunks, TIFF IFDs, WebP chunks) for every format,
//! and the ZIP reader (end record, ZIP64 record, central directory, a few entries).
#![no_main]

use imgbatch::{FORMATS, Limits, ZipDirectory};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for info in &FORMATS {
        let _ = imgbatch::frame_count(info.format, data);
    }
    let limits = Limits::default();
    let _ = imgbatch::zip64_directory(data);
    let at = |offset: u64| {
        usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len())
    };
    if let Ok(ZipDirectory::At { offset, size }) = imgbatch::zip_directory(data, data.len() as u64)
    {
        let start = at(offset);
        let end = at(offset.saturating_add(size)).max(start);
        if let Ok(entries) = imgbatch::zip_entries(&data[start..end], &limits) {
            for entry in entries.iter().take(4) {
                let _ = imgbatch::zip_entry_bytes(&data[at(entry.offset)..], entry);
            }
        }
    }
});
