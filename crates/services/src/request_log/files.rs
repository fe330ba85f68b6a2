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
use std::io::{self, Write};
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

/// What a line must contain to be worth looking at: byte strings found as
/// they are, and lower-case strings found in the lower-cased line. Files
/// and lines with none of them are passed over without being parsed, which
/// keeps a search of a full log (100 MB) to a few tens of milliseconds.
/// Without any needle every line is looked at.
#[derive(Clone, Debug, Default)]
pub struct Prefilter {
    exact: Vec<Vec<u8>>,
    folded: Vec<Vec<u8>>,
}

impl Prefilter {
    pub fn exact<S: AsRef<str>>(mut self, needles: impl IntoIterator<Item = S>) -> Self {
        self.exact
            .extend(needles.into_iter().map(|n| n.as_ref().as_bytes().to_vec()));
        self
    }

    /// Needles compared without case (ASCII case folding on both sides,
    /// which JSON text and the search terms share).
    pub fn folded<S: AsRef<str>>(mut self, needles: impl IntoIterator<Item = S>) -> Self {
        self.folded.extend(
            needles
                .into_iter()
                .map(|n| n.as_ref().to_ascii_lowercase().into_bytes()),
        );
        self
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.folded.is_empty()
    }

    /// Lines that pass either filter.
    pub fn union(mut self, other: Prefilter) -> Self {
        self.exact.extend(other.exact);
        self.folded.extend(other.folded);
        self
    }

    fn matches(&self, bytes: &[u8], lowered: &mut Vec<u8>) -> bool {
        if self.is_empty() {
            return true;
        }
        if self
            .exact
            .iter()
            .any(|n| memchr::memmem::find(bytes, n).is_some())
        {
            return true;
        }
        if self.folded.is_empty() {
            return false;
        }
        lowered.clear();
        lowered.extend_from_slice(bytes);
        lowered.make_ascii_lowercase();
        self.folded
            .iter()
            .any(|n| memchr::memmem::find(lowered, n).is_some())
    }
}

/// The lines of a file's content: (number from 1, bytes without the newline).
fn lines(content: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut start = 0;
    let mut n = 0;
    std::iter::from_fn(move || {
        if start >= content.len() {
            return None;
        }
        let end = memchr::memchr(b'\n', &content[start..]).map_or(content.len(), |i| start + i);
        let line = &content[start..end];
        start = end + 1;
        n += 1;
        Some((n, line))
    })
}

/// A file's content, or `None` when retention deleted it between listing
/// and reading. Files are at most `max_file_mb` large.
fn read(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(content) => Ok(Some(content)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Calls `each` with (file, line number from 1, line) for every line that
/// passes the prefilter, oldest file first. The caller holds the lock.
pub fn scan(
    dir: &Path,
    filter: &Prefilter,
    mut each: impl FnMut(&Path, usize, &str),
) -> io::Result<()> {
    let mut lowered = Vec::new();
    for f in list(dir)? {
        let Some(content) = read(&f.path)? else {
            continue;
        };
        if !filter.matches(&content, &mut lowered) {
            continue;
        }
        for (n, line) in lines(&content) {
            if !filter.matches(line, &mut lowered) {
                continue;
            }
            if let Ok(text) = std::str::from_utf8(line) {
                each(&f.path, n, text);
            }
        }
    }
    Ok(())
}

/// Rewrites every file in which `change` alters a line that passes the
/// prefilter: the new content goes to a temporary file beside it, which
/// then replaces the original in one rename, keeping the original's
/// modification time so that a rewrite does not extend the file's life
/// under the age limit. Returns how many lines changed. The caller holds
/// the lock.
pub fn rewrite(
    dir: &Path,
    filter: &Prefilter,
    mut change: impl FnMut(&str) -> Option<String>,
) -> io::Result<usize> {
    let mut changed = 0;
    let mut lowered = Vec::new();
    for f in list(dir)? {
        let Some(content) = read(&f.path)? else {
            continue;
        };
        if !filter.matches(&content, &mut lowered) {
            continue;
        }
        let mut out: Vec<u8> = Vec::with_capacity(content.len());
        let mut here = 0;
        for (_, line) in lines(&content) {
            let replacement = if filter.matches(line, &mut lowered) {
                std::str::from_utf8(line).ok().and_then(&mut change)
            } else {
                None
            };
            match replacement {
                Some(new) => {
                    here += 1;
                    out.extend_from_slice(new.as_bytes());
                }
                None => out.extend_from_slice(line),
            }
            out.push(b'\n');
        }
        if here == 0 {
            continue;
        }
        let tmp = f.path.with_extension("jsonl.rewrite");
        let mut file = private_file()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        file.write_all(&out)?;
        file.sync_all()?;
        file.set_modified(f.modified)?;
        drop(file);
        fs::rename(&tmp, &f.path)?;
        changed += here;
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
