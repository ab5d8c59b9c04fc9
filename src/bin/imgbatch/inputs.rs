//! Gathering the inputs: walking folders and ZIP archives into the engine's sources, and
//! setting aside, with a reason, what is not an image or cannot be read.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use imgbatch::{DateTime, Error, ErrorKind, Format, ResizeSpec, Source};

use crate::output::{Naming, occupied, temp_owner};
use crate::report::Skip;
use crate::zip_input;

/// A file found under the inputs, with the path its outputs go under.
pub(crate) struct FileSource<'a> {
    path: PathBuf,
    /// Below the input folder, `/`-separated, as names are made.
    pub(crate) relative: String,
    pub(crate) display: String,
    /// Its position among the inputs, from 1, for `{n}`.
    pub(crate) number: usize,
    pub(crate) modified: DateTime,
    /// Set by --skip-existing: outputs already under their final name are not wanted.
    skip_existing: Option<&'a Naming>,
    origin: Origin,
}

/// Where a source's bytes come from.
enum Origin {
    File,
    /// An entry of the ZIP archive at the source's `path`.
    ZipEntry(imgbatch::ZipEntry),
    /// A ZIP archive whose directory cannot be read: reported as one failed file.
    Unreadable(imgbatch::ErrorKind, String),
}

impl Source for FileSource<'_> {
    fn name(&self) -> &str {
        &self.display
    }
    fn read(&self) -> imgbatch::Result<Vec<u8>> {
        match &self.origin {
            Origin::File => fs::read(&self.path).map_err(|e| {
                Error::io(format!("cannot read {}", self.path.display())).with_source(e)
            }),
            Origin::ZipEntry(entry) => zip_input::read_entry(&self.path, entry),
            Origin::Unreadable(kind, message) => Err(Error::new(*kind, message.clone())),
        }
    }
    /// An output whose name needs its pixel size ({w}, {h}) cannot be looked for before
    /// decoding: it is wanted here and left alone when it is found at write time.
    fn wanted(&self, sizes: &[ResizeSpec]) -> Vec<bool> {
        sizes
            .iter()
            .map(|spec| {
                self.skip_existing
                    .and_then(|naming| naming.path(self, &spec.label(), None))
                    .is_none_or(|path| !occupied(&path))
            })
            .collect()
    }
}

/// A path that was not converted, and why.
pub(crate) struct Skipped {
    pub(crate) path: String,
    pub(crate) why: Skip,
}

impl Skipped {
    fn new(path: String, code: &'static str, reason: impl Into<String>) -> Self {
        Skipped {
            path,
            why: Skip {
                code,
                reason: reason.into(),
            },
        }
    }
}

/// Walks the inputs (following symbolic links). Files that are clearly not images (unknown
/// extension and no image magic) and entries that cannot be walked are returned separately,
/// with the reason, so they are reported as skipped rather than lost.
pub(crate) fn collect<'a>(
    inputs: &[PathBuf],
    skip_existing: Option<&'a Naming>,
) -> Result<(Vec<FileSource<'a>>, Vec<Skipped>), String> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for input in inputs {
        let meta =
            fs::metadata(input).map_err(|e| format!("cannot open {}: {e}", input.display()))?;
        let mut found: Vec<(PathBuf, PathBuf)> = Vec::new();
        if meta.is_dir() {
            for entry in walkdir::WalkDir::new(input)
                .follow_links(true)
                .sort_by_file_name()
            {
                match entry {
                    Ok(entry) if entry.file_type().is_file() => {
                        let relative = entry
                            .path()
                            .strip_prefix(input)
                            .unwrap_or(entry.path())
                            .to_path_buf();
                        found.push((entry.path().to_path_buf(), relative));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let path = e.path().unwrap_or(input).display().to_string();
                        skipped.push(Skipped::new(
                            path,
                            "unreadable",
                            format!("cannot be read: {e}"),
                        ));
                    }
                }
            }
        } else {
            let name = input
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| input.clone());
            found.push((input.clone(), name));
        }
        for (path, relative) in found {
            let display = path.display().to_string();
            // A killed run's unfinished output, when the output folder is inside an input:
            // it holds image magic, but it is not a photo of the user's.
            if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| temp_owner(n).is_some())
            {
                continue;
            }
            let relative: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let source = |relative, display, number, date, origin| FileSource {
                path: path.clone(),
                modified: date,
                relative,
                display,
                number,
                skip_existing,
                origin,
            };
            if zip_input::is_zip(&path) {
                // Its entries go where a folder of the same contents would.
                let folder = relative[..relative.len().saturating_sub(1)].join("/");
                let under = |inner: &str| match folder.as_str() {
                    "" => inner.to_string(),
                    _ => format!("{folder}/{inner}"),
                };
                match zip_input::entries(&path, &imgbatch::Limits::default()) {
                    Ok(entries) => {
                        for entry in entries {
                            let shown = format!("{display}/{}", entry.path);
                            if entry.problem.is_none() && !has_image_extension(&entry.path) {
                                skipped.push(Skipped::new(
                                    shown,
                                    ErrorKind::NotAnImage.code(),
                                    "not an image",
                                ));
                                continue;
                            }
                            let date = entry.modified.unwrap_or_else(|| modified(&path));
                            let inner = under(&entry.path);
                            let origin = Origin::ZipEntry(entry);
                            files.push(source(inner, shown, files.len() + 1, date, origin));
                        }
                    }
                    Err(e) => files.push(source(
                        relative.join("/"),
                        display,
                        files.len() + 1,
                        modified(&path),
                        Origin::Unreadable(e.kind(), e.message()),
                    )),
                }
            } else if looks_like_image(&path) {
                files.push(source(
                    relative.join("/"),
                    display,
                    files.len() + 1,
                    modified(&path),
                    Origin::File,
                ));
            } else {
                skipped.push(Skipped::new(
                    display,
                    ErrorKind::NotAnImage.code(),
                    "not an image",
                ));
            }
        }
    }
    Ok((files, skipped))
}

/// The file's modification time, or the epoch where the file system keeps none.
fn modified(path: &Path) -> DateTime {
    let seconds = fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    DateTime::from_unix_seconds(seconds)
}

fn has_image_extension(path: impl AsRef<Path>) -> bool {
    path.as_ref()
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(Format::is_image_extension)
}

fn looks_like_image(path: &Path) -> bool {
    has_image_extension(path) || {
        let mut head = [0u8; 64];
        let n = fs::File::open(path)
            .and_then(|mut f| f.read(&mut head))
            .unwrap_or(0);
        Format::sniff(&head[..n]).is_some()
    }
}
