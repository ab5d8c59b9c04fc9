//! ZIP files among the inputs: their entries join the batch with their folder paths. Only
//! the archive's directory and one entry at a time are read, never the whole archive; the
//! engine checks each entry (paths that would escape, encryption, the size limits) and
//! inflates it.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use imgbatch::{
    Error, Limits, ZIP_LOCAL_HEADER_MAX, ZIP_TAIL_BYTES, ZipDirectory, ZipEntry, zip_directory,
    zip_entries, zip_entry_bytes, zip64_directory,
};

/// A ZIP archive by its name, as the page tells one apart.
pub fn is_zip(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

fn read_at(file: &mut File, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    file.take(len).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::io(format!("cannot read {}", path.display())).with_source(e)
}

/// The archive's file entries, each with its problem if it has one.
pub fn entries(path: &Path, limits: &Limits) -> Result<Vec<ZipEntry>, Error> {
    let mut file = File::open(path).map_err(|e| io_error(path, e))?;
    let len = file.metadata().map_err(|e| io_error(path, e))?.len();
    let tail_len = ZIP_TAIL_BYTES.min(len);
    let tail = read_at(&mut file, len - tail_len, tail_len).map_err(|e| io_error(path, e))?;
    let mut directory = zip_directory(&tail, len)?;
    if let ZipDirectory::Zip64RecordAt(at) = directory {
        let record = read_at(&mut file, at, 56).map_err(|e| io_error(path, e))?;
        directory = zip64_directory(&record)?;
    }
    let ZipDirectory::At { offset, size } = directory else {
        return Err(Error::decode("a ZIP64 end record points at another"));
    };
    // The directory is read whole; it is bounded like an input file.
    limits.check_input_bytes(size)?;
    let bytes = read_at(&mut file, offset, size).map_err(|e| io_error(path, e))?;
    zip_entries(&bytes, limits)
}

/// One entry's bytes, read from its place in the archive.
pub fn read_entry(path: &Path, entry: &ZipEntry) -> Result<Vec<u8>, Error> {
    if entry.problem.is_some() {
        return zip_entry_bytes(&[], entry);
    }
    let mut file = File::open(path).map_err(|e| io_error(path, e))?;
    let slice = read_at(
        &mut file,
        entry.offset,
        ZIP_LOCAL_HEADER_MAX + entry.compressed_size,
    )
    .map_err(|e| io_error(path, e))?;
    zip_entry_bytes(&slice, entry)
}
