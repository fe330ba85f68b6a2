//! The files of the request log in their directory: the active file
//! `requests.jsonl`, rotated files `requests-<UTC time>.jsonl` (the time of
//! rotation, so that names sort oldest first), the pseudonym key, and a
//! lock file.
//!
//! Every change to the set of files (appending, rotating, deleting,
//! rewriting) happens under an exclusive `flock` on `.lock`, so that the
//! server's writer, a retention job in a worker process and an erasure run
//! from the command line never step on each other: a rewrite reads, filters
//! and atomically replaces a file while no line can be appended to it, and
//! the writer notices the replaced file (its inode changed) and reopens it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use steward_domain::Timestamp;

pub const ACTIVE: &str = "requests.jsonl";
const ROTATED_PREFIX: &str = "requests-";
const SUFFIX: &str = ".jsonl";
const LOCK: &str = ".lock";

/// The lock file of a log directory. [`LockFile::lock`] takes the
/// exclusive lock; the guard releases it. The writer keeps one open and
/// locks it around each batch.
pub struct LockFile {
    file: File,
}

/// Holds the directory lock until dropped.
pub struct Guard<'a> {
    file: &'a File,
}

impl LockFile {
    /// Opens the lock file. Creates the directory when `create` is set;
    /// otherwise a missing directory is `NotFound` (nothing to lock).
    pub fn open(dir: &Path, create: bool) -> io::Result<LockFile> {
        if create {
            fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(dir.join(LOCK))?;
        Ok(LockFile { file })
    }

    /// Waits for the exclusive lock.
    pub fn lock(&self) -> io::Result<Guard<'_>> {
        lock_file(&self.file)?;
        Ok(Guard { file: &self.file })
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let _ = unlock_file(self.file);
    }
}

/// The operating system's advisory lock on the whole file (`flock` on
/// Unix, `LockFileEx` on Windows), through the standard library.
fn lock_file(file: &File) -> io::Result<()> {
    file.lock()
}

fn unlock_file(file: &File) -> io::Result<()> {
    file.unlock()
}

/// One file of the log.
#[derive(Clone, Debug)]
pub struct LogFile {
    pub path: PathBuf,
    pub size: u64,
    pub modified: SystemTime,
    pub active: bool,
}

/// The log's files, oldest first: rotated files by name (their names are
/// their rotation times), then the active file.
pub fn list(dir: &Path) -> io::Result<Vec<LogFile>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut rotated = Vec::new();
    let mut active = None;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let is_active = name == ACTIVE;
        let is_rotated = name.starts_with(ROTATED_PREFIX) && name.ends_with(SUFFIX);
        if !(is_active || is_rotated) {
            continue;
        }
        let meta = match entry.metadata() {
            Ok(m) if m.is_file() => m,
            _ => continue,
        };
        let file = LogFile {
            path: entry.path(),
            size: meta.len(),
            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            active: is_active,
        };
        if is_active {
            active = Some(file);
        } else {
            rotated.push(file);
        }
    }
    rotated.sort_by(|a, b| a.path.cmp(&b.path));
    rotated.extend(active);
    Ok(rotated)
}

/// `20240501T101500.123456Z`: sorts like the time it names.
fn stamp(t: Timestamp) -> String {
    let shown = t.to_string(); // 2024-05-01T10:15:00.123Z
    let micros = t.0.rem_euclid(1_000_000);
    let date: String = shown[..10].chars().filter(|c| *c != '-').collect();
    let time: String = shown[11..19].chars().filter(|c| *c != ':').collect();
    format!("{date}T{time}.{micros:06}Z")
}

/// Renames the active file to a rotated name. The caller holds the lock.
pub fn rotate(dir: &Path, now: Timestamp) -> io::Result<Option<PathBuf>> {
    let active = dir.join(ACTIVE);
    if !active.exists() {
        return Ok(None);
    }
    // Two rotations within a microsecond: the later one takes the next
    // microsecond, so that names still sort in rotation order.
    let mut t = now;
    let mut target = dir.join(format!("{ROTATED_PREFIX}{}{SUFFIX}", stamp(t)));
    while target.exists() {
        t = Timestamp(t.0 + 1);
        target = dir.join(format!("{ROTATED_PREFIX}{}{SUFFIX}", stamp(t)));
    }
    fs::rename(&active, &target)?;
    Ok(Some(target))
}

/// What a retention run removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Removed {
    pub files: usize,
    pub bytes: u64,
}

/// Deletes files last written more than `max_age` ago (the active one too:
/// an idle server's log must expire as well), then the oldest rotated
/// files until all together fit in `max_total_bytes`. The caller holds the
/// lock.
pub fn enforce(
    dir: &Path,
    max_total_bytes: u64,
    max_age: Duration,
    now: SystemTime,
) -> io::Result<Removed> {
    let mut removed = Removed::default();
    let cutoff = now.checked_sub(max_age).unwrap_or(SystemTime::UNIX_EPOCH);
    let mut kept = Vec::new();
    for f in list(dir)? {
        if f.modified < cutoff {
            remove(&f, &mut removed)?;
        } else {
            kept.push(f);
        }
    }
    let mut total: u64 = kept.iter().map(|f| f.size).sum();
    for f in &kept {
        if total <= max_total_bytes {
            break;
        }
        if f.active {
            // The active file is at most one file's size; it goes by age
            // or after its rotation.
            continue;
        }
        total -= f.size;
        remove(f, &mut removed)?;
    }
    Ok(removed)
}

fn remove(f: &LogFile, removed: &mut Removed) -> io::Result<()> {
    match fs::remove_file(&f.path) {
        Ok(()) => {
            removed.files += 1;
            removed.bytes += f.size;
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Reads every line of every file, oldest first, calling `each` with the
/// file, its 1-based line number and the line. The caller holds the lock.
pub fn scan(dir: &Path, mut each: impl FnMut(&Path, usize, &str)) -> io::Result<()> {
    for f in list(dir)? {
        let file = match File::open(&f.path) {
            Ok(file) => file,
            // Deleted by retention between listing and opening.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for (i, line) in BufReader::new(file).split(b'\n').enumerate() {
            let line = line?;
            if let Ok(text) = std::str::from_utf8(&line) {
                each(&f.path, i + 1, text);
            }
        }
    }
    Ok(())
}

/// Rewrites every file in which `change` alters a line: the new content
/// goes to a temporary file beside it, which then replaces the original in
/// one rename, keeping the original's modification time so that a rewrite
/// does not extend the file's life under the age limit. Returns how many
/// lines changed. The caller holds the lock.
pub fn rewrite(dir: &Path, mut change: impl FnMut(&str) -> Option<String>) -> io::Result<usize> {
    let mut changed = 0;
    for f in list(dir)? {
        let file = match File::open(&f.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let tmp = f.path.with_extension("jsonl.rewrite");
        let mut out: Option<io::BufWriter<File>> = None;
        let mut kept: Vec<u8> = Vec::new();
        let mut here = 0;
        for line in BufReader::new(file).split(b'\n') {
            let line = line?;
            let replacement = std::str::from_utf8(&line).ok().and_then(&mut change);
            if replacement.is_some() && out.is_none() {
                // First change in this file: start the copy with the lines
                // read so far.
                let file = private_file()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&tmp)?;
                let mut w = io::BufWriter::new(file);
                w.write_all(&kept)?;
                kept = Vec::new();
                out = Some(w);
            }
            match (&mut out, replacement) {
                (Some(w), Some(new)) => {
                    here += 1;
                    w.write_all(new.as_bytes())?;
                    w.write_all(b"\n")?;
                }
                (Some(w), None) => {
                    w.write_all(&line)?;
                    w.write_all(b"\n")?;
                }
                (None, _) => {
                    kept.extend_from_slice(&line);
                    kept.push(b'\n');
                }
            }
        }
        if let Some(w) = out {
            let file = w.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            file.set_modified(f.modified)?;
            drop(file);
            fs::rename(&tmp, &f.path)?;
            changed += here;
        }
    }
    Ok(changed)
}

/// Options to create a log file: readable and writable by Steward's user
/// only, since the lines hold personal data.
pub fn private_file() -> OpenOptions {
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

/// The identity of a file on disk, to notice that the active file was
/// replaced or deleted by another process.
#[cfg(unix)]
pub fn identity(meta: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
pub fn identity(meta: &fs::Metadata) -> (u64, u64) {
    (meta.len(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_sort_like_times() {
        let a = stamp(Timestamp(1_700_000_000_000_001));
        let b = stamp(Timestamp(1_700_000_000_000_002));
        let c = stamp(Timestamp(1_700_000_100_000_000));
        assert_eq!(a, "20231114T221320.000001Z");
        assert!(a < b && b < c);
    }
}
