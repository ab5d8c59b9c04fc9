//! Putting outputs on disk: naming them (the engine's templates), refusing to clobber what
//! is there, and writing so that no one, not even a killed run, sees half a file.

use std::collections::HashSet;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use imgbatch::{
    Collision, DateSource, Error, Format, NameInput, NameOutput, NameTemplate, Names, Output,
};

use crate::inputs::FileSource;
use crate::report::OutputEntry;

/// Where outputs go: the engine names them, for writing and for --skip-existing.
pub(crate) struct Naming {
    pub(crate) out: PathBuf,
    pub(crate) format: Format,
    pub(crate) template: NameTemplate,
    pub(crate) dates: DateSource,
}

impl Naming {
    /// None when the name needs what only decoding tells and `output` is None.
    pub(crate) fn path(
        &self,
        source: &FileSource,
        label: &str,
        output: Option<&NameOutput>,
    ) -> Option<PathBuf> {
        let input = NameInput {
            path: &source.relative,
            number: source.number,
            file_date: source.modified,
            format: self.format,
        };
        let name = self.template.render(&input, label, output)?;
        Some(
            name.split('/')
                .fold(self.out.clone(), |path, part| path.join(part)),
        )
    }
}

/// Something is at `path`, even a dangling link: it is not ours to replace.
pub(crate) fn occupied(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// What this run has taken on disk so far, shared by the workers.
struct Claims {
    /// Every output name handed out so far; a second output of the same name is refused.
    names: Names,
    /// Output folders already cleared of a killed run's temporary files.
    swept: HashSet<PathBuf>,
}

/// Writes each file's outputs under their names, by the --overwrite and --skip-existing
/// rules.
pub(crate) struct Writer<'a> {
    pub(crate) naming: &'a Naming,
    overwrite: bool,
    skip_existing: bool,
    claims: Mutex<Claims>,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(naming: &'a Naming, overwrite: bool, skip_existing: bool) -> Self {
        Writer {
            naming,
            overwrite,
            skip_existing,
            claims: Mutex::new(Claims {
                names: Names::new(Collision::Refuse),
                swept: HashSet::new(),
            }),
        }
    }

    fn claims(&self) -> imgbatch::Result<std::sync::MutexGuard<'_, Claims>> {
        self.claims
            .lock()
            .map_err(|_| Error::internal("output names lock poisoned"))
    }

    /// Writes one file's outputs; their report entries keep everything but the bytes.
    pub(crate) fn write(
        &self,
        source: &FileSource,
        outputs: Vec<Output>,
    ) -> imgbatch::Result<Vec<OutputEntry>> {
        let paths: Vec<PathBuf> = outputs
            .iter()
            .filter_map(|o| {
                let made = NameOutput {
                    width: o.width,
                    height: o.height,
                    captured: o.captured,
                };
                self.naming.path(source, &o.label, Some(&made))
            })
            .collect();
        {
            let mut claims = self.claims()?;
            // Claim before looking at the disk: a name this batch already wrote is a
            // collision of two inputs, whichever of them finished first, not a leftover of an
            // earlier run.
            for path in &paths {
                claims.names.claim(path.to_string_lossy().into_owned())?;
            }
            if let Some(path) = paths
                .iter()
                .find(|p| !self.overwrite && !self.skip_existing && occupied(p))
            {
                return Err(exists_error(path));
            }
        }
        let mut entries = Vec::new();
        for (mut output, path) in outputs.into_iter().zip(&paths) {
            let date = self.naming.dates.pick(source.modified, output.captured);
            let modified = u64::try_from(date.unix_seconds())
                .ok()
                .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s));
            let dir = path.parent().unwrap_or(Path::new("."));
            fs::create_dir_all(dir).map_err(|e| {
                Error::io(format!("cannot create {}", dir.display())).with_source(e)
            })?;
            if self.claims()?.swept.insert(dir.to_path_buf()) {
                remove_strays(dir);
            }
            match write_atomically(path, &output.bytes, modified, self.overwrite) {
                Ok(()) => {}
                // Appeared since the check (a name that needs {w} or {h} is only known now).
                Err(e) if e.kind() == ErrorKind::AlreadyExists && self.skip_existing => {
                    entries.push(OutputEntry::existing(path));
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => return Err(exists_error(path)),
                Err(e) => {
                    return Err(
                        Error::io(format!("cannot write {}", path.display())).with_source(e)
                    );
                }
            }
            // The report keeps the engine's own account of the output, not its bytes.
            let bytes = std::mem::take(&mut output.bytes).len();
            entries.push(OutputEntry::written(path, bytes, output));
        }
        Ok(entries)
    }
}

fn exists_error(path: &Path) -> Error {
    Error::io(format!(
        "{} exists; pass --overwrite to replace it, or --skip-existing to keep it",
        path.display()
    ))
}

/// Marks the hidden temporary file an output is written to before it gets its name:
/// `.<name>.imgbatch-tmp-<pid>`.
const TEMP_MARK: &str = ".imgbatch-tmp-";

fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".{name}{TEMP_MARK}{}", std::process::id()))
}

/// The process that wrote a temporary file, from its name; None for any other file.
pub(crate) fn temp_owner(name: &str) -> Option<u32> {
    let (_, pid) = name.strip_prefix('.')?.rsplit_once(TEMP_MARK)?;
    pid.parse().ok()
}

/// Removes the temporary files a killed run left in `dir`, but only those of processes that
/// are gone: another imgbatch may be writing into the same folder right now. Asks /proc, so
/// Linux only; elsewhere strays stay, harmless: hidden, never taken for outputs (names
/// differ), skipped by the input walk.
fn remove_strays(dir: &Path) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let owner = entry.file_name().to_str().and_then(temp_owner);
        if owner.is_some_and(|pid| !Path::new("/proc").join(pid.to_string()).exists()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Writes `bytes` so that no one, not even a killed run, sees a partial file under `path`:
/// into a hidden temporary file beside it (same folder, so same file system, so the move is
/// atomic), flushed to disk, then moved into place.
/// The file gets `modified` as its modification time, before it has its name.
fn write_atomically(
    path: &Path,
    bytes: &[u8],
    modified: Option<SystemTime>,
    replace: bool,
) -> std::io::Result<()> {
    // Named after our pid, so two runs never write into each other's temporary file; a
    // file of ours with this name can only be left from an earlier output of this run
    // that failed, so truncating it is safe.
    let temp = temp_path(path);
    let moved = (|| {
        let mut file = fs::File::create(&temp)?;
        file.write_all(bytes)?;
        if let Some(time) = modified {
            file.set_modified(time)?;
        }
        // Without it, a crash of the machine (not just of the run) soon after the rename
        // can leave the final name on an empty file (ext4, XFS delayed allocation).
        file.sync_all()?;
        drop(file);
        if replace {
            return fs::rename(&temp, path);
        }
        // rename() would silently replace a file that appeared since the check (another
        // run into the same folder); a hard link refuses with AlreadyExists, atomically.
        // Where links are not supported (FAT, some network shares), check then rename:
        // racy only for that instant.
        match fs::hard_link(&temp, path) {
            Ok(()) => {
                let _ = fs::remove_file(&temp);
                Ok(())
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(e),
            Err(_) if occupied(path) => Err(ErrorKind::AlreadyExists.into()),
            Err(_) => fs::rename(&temp, path),
        }
    })();
    if moved.is_err() {
        let _ = fs::remove_file(&temp);
    }
    moved
}
