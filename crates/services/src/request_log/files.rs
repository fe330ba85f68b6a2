//! The files of the request log in their directory: the active file
//! `requests.jsonl`, rotated files `requests-<UTC time>.jsonl` (the time of
//! rotation, so that names sort oldest first), an index beside each log
//! file (`<file>.idx`, see `index.rs`), the pseudonym key, and a
//! lock file.
//!
//! Every change to the set of files (appending, rotating, deleting,
//! rewriting) happens under an exclusive `flock` on `.lock`, so that the
//! server's writer, a retention job in a worker process and an erasure run
//! from the command line never step on each other: a rewrite reads, filters
//! and atomically replaces a file while no line can be appended to it, and
//! the writer notices the replaced file (its inode changed) and reopens it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use steward_domain::Timestamp;

use memchr::memmem::Finder;

use super::index::{self, FileIndex, Query};

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
    // The index goes with its file (a rename keeps the identity it names).
    match fs::rename(index::path_of(&active), index::path_of(&target)) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
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
    remove_orphan_indexes(dir)?;
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
    // The index first: an index must never outlive its file, or a new file
    // of the same name could be taken for the one it describes.
    index::remove(&f.path)?;
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

/// Deletes indexes whose log file is gone (deleted by hand, or by a
/// retention run cut short between the two deletions).
fn remove_orphan_indexes(dir: &Path) -> io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(log) = name.strip_suffix(index::SUFFIX) else {
            continue;
        };
        let is_log = log == ACTIVE || (log.starts_with(ROTATED_PREFIX) && log.ends_with(SUFFIX));
        if is_log && !dir.join(log).exists() {
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// What a line must contain to be worth looking at: byte strings found as
/// they are, and lower-case strings found in the lower-cased line. Lines
/// with none of them are passed over without being parsed (the files that
/// cannot hold them at all are passed over by their index). Without any
/// needle every line is looked at.
#[derive(Clone, Debug, Default)]
pub struct Prefilter {
    /// Built once: a search tests every line of the files it reads.
    exact: Vec<Finder<'static>>,
    folded: Vec<Finder<'static>>,
}

impl Prefilter {
    pub fn exact<S: AsRef<str>>(mut self, needles: impl IntoIterator<Item = S>) -> Self {
        self.exact.extend(
            needles
                .into_iter()
                .map(|n| Finder::new(n.as_ref().as_bytes()).into_owned()),
        );
        self
    }

    /// Needles compared without case (ASCII case folding on both sides,
    /// which JSON text and the search terms share).
    pub fn folded<S: AsRef<str>>(mut self, needles: impl IntoIterator<Item = S>) -> Self {
        self.folded.extend(
            needles
                .into_iter()
                .map(|n| Finder::new(&n.as_ref().to_ascii_lowercase()).into_owned()),
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

    pub fn matches(&self, bytes: &[u8], lowered: &mut Vec<u8>) -> bool {
        if self.is_empty() {
            return true;
        }
        if self.exact.iter().any(|n| n.find(bytes).is_some()) {
            return true;
        }
        if self.folded.is_empty() {
            return false;
        }
        lowered.clear();
        lowered.extend_from_slice(bytes);
        lowered.make_ascii_lowercase();
        self.folded.iter().any(|n| n.find(lowered).is_some())
    }
}

/// What a search or rewrite read, to show that the indexes spare it the
/// files that cannot hold what it looks for.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SearchStats {
    /// Log files looked at.
    pub files: usize,
    /// Files read from the start (their index may hold what was looked
    /// for, or they had none to trust).
    pub files_read: usize,
    /// Files of which only lines written after their index was made were
    /// read.
    pub tails_read: usize,
    /// Indexes made anew because they were missing or damaged, or named
    /// another file.
    pub indexes_rebuilt: usize,
}

/// Where the indexes come from besides the files beside the logs: the
/// writer's index of the active file (kept in memory while it appends),
/// and the size new indexes are made for.
pub struct Indexes<'a> {
    pub active: &'a Mutex<Option<FileIndex>>,
    pub max_file_bytes: u64,
}

impl Indexes<'_> {
    /// The index that speaks for (a prefix of) `f` as opened, if any.
    fn find(&self, f: &LogFile, identity: (u64, u64), len: u64) -> io::Result<Option<FileIndex>> {
        if f.active {
            let held = self.active.lock().ok().and_then(|mut a| a.take());
            if let Some(ix) = held.filter(|ix| ix.covers(identity, len).is_some()) {
                return Ok(Some(ix));
            }
        }
        Ok(index::load(&f.path)?.filter(|ix| ix.covers(identity, len).is_some()))
    }

    /// Stores `ix` beside `f` when it learnt something, and hands the
    /// active file's index back to the writer.
    fn keep(&self, f: &LogFile, ix: FileIndex, learnt: bool) -> io::Result<()> {
        if learnt {
            ix.store(&f.path)?;
        }
        if f.active {
            if let Ok(mut a) = self.active.lock() {
                *a = Some(ix);
            }
        }
        Ok(())
    }

    fn fresh(&self, f: &LogFile, identity: (u64, u64), len: u64) -> FileIndex {
        // The active file grows up to the rotation size; a rotated file
        // stays as it is.
        let hint = if f.active {
            len.max(self.max_file_bytes)
        } else {
            len
        };
        FileIndex::new(identity, hint)
    }
}

/// A log file opened for reading, with the identity and length its index
/// is checked against.
struct Opened {
    file: File,
    identity: (u64, u64),
    len: u64,
}

/// Opens a log file for reading: `None` when retention deleted it between
/// listing and reading.
fn open(path: &Path) -> io::Result<Option<Opened>> {
    match File::open(path) {
        Ok(file) => {
            let meta = file.metadata()?;
            Ok(Some(Opened {
                identity: identity(&meta),
                len: meta.len(),
                file,
            }))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads `file` line by line from byte `from` (the start of a line),
/// one line in memory at a time: `each` gets the line without its newline
/// and whether the newline was there (a last line cut short by a crash
/// has none).
fn read_lines(
    file: File,
    from: u64,
    mut each: impl FnMut(&[u8], bool) -> io::Result<()>,
) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(READ_BUFFER, file);
    if from > 0 {
        reader.seek(SeekFrom::Start(from))?;
    }
    // Lines are handed out of the buffer where they lie; only a line
    // that straddles two fills is copied.
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            if !carry.is_empty() {
                each(&carry, false)?;
            }
            return Ok(());
        }
        let mut start = 0;
        while let Some(i) = memchr::memchr(b'\n', &chunk[start..]) {
            let end = start + i;
            if carry.is_empty() {
                each(&chunk[start..end], true)?;
            } else {
                carry.extend_from_slice(&chunk[start..end]);
                each(&carry, true)?;
                carry.clear();
            }
            start = end + 1;
        }
        carry.extend_from_slice(&chunk[start..]);
        let len = chunk.len();
        reader.consume(len);
    }
}

const READ_BUFFER: usize = 256 * 1024;

/// Calls `each` with (file, line number from 1, line) for every line that
/// passes the prefilter in the files whose index may hold what `query`
/// looks for, oldest file first; the other files are passed over, or
/// only their lines written after their index are read. Indexes that
/// were missing or have grown are stored. The caller holds the lock.
pub fn scan(
    dir: &Path,
    query: &Query,
    filter: &Prefilter,
    indexes: &Indexes<'_>,
    mut each: impl FnMut(&Path, usize, &str),
) -> io::Result<SearchStats> {
    let mut stats = SearchStats::default();
    let mut lowered = Vec::new();
    for f in list(dir)? {
        let Some(Opened {
            file,
            identity,
            len,
        }) = open(&f.path)?
        else {
            continue;
        };
        stats.files += 1;
        let (mut ix, from, learnt) = match indexes.find(&f, identity, len)? {
            Some(ix) if !ix.may_contain(query) => {
                if ix.covers(identity, len) == Some(true) {
                    indexes.keep(&f, ix, false)?;
                    continue;
                }
                stats.tails_read += 1;
                let from = ix.covered_bytes;
                (ix, from, true)
            }
            Some(ix) => {
                stats.files_read += 1;
                let learnt = ix.covers(identity, len) == Some(false);
                (ix, 0, learnt)
            }
            None => {
                stats.files_read += 1;
                stats.indexes_rebuilt += 1;
                (indexes.fresh(&f, identity, len), 0, true)
            }
        };
        let known = ix.covered_bytes;
        let mut at = from;
        let mut n = if from > 0 {
            ix.covered_lines as usize
        } else {
            0
        };
        read_lines(file, from, |line, whole| {
            n += 1;
            if at >= known && whole {
                ix.add_line(line);
            }
            at += line.len() as u64 + u64::from(whole);
            if filter.matches(line, &mut lowered) {
                if let Ok(text) = std::str::from_utf8(line) {
                    each(&f.path, n, text);
                }
            }
            Ok(())
        })?;
        indexes.keep(&f, ix, learnt)?;
    }
    Ok(stats)
}

/// Rewrites every file in which `change` alters a line that passes the
/// prefilter, reading only the files whose index may hold what `query`
/// looks for (and those without a sound index). The new content goes to
/// a temporary file beside it, line by line, which then replaces the
/// original in one rename, keeping the original's modification time so
/// that a rewrite does not extend the file's life under the age limit;
/// the new file's index is made on the way and stored with it (the old
/// one is deleted first, so that no index outlives the content it
/// describes). Returns how many lines changed. The caller holds the lock.
pub fn rewrite(
    dir: &Path,
    query: &Query,
    filter: &Prefilter,
    indexes: &Indexes<'_>,
    mut change: impl FnMut(&str) -> Option<String>,
) -> io::Result<(usize, SearchStats)> {
    let mut stats = SearchStats::default();
    let mut changed = 0;
    let mut lowered = Vec::new();
    for f in list(dir)? {
        let Some(Opened {
            file,
            identity,
            len,
        }) = open(&f.path)?
        else {
            continue;
        };
        stats.files += 1;
        match indexes.find(&f, identity, len)? {
            Some(ix) if !ix.may_contain(query) && ix.covers(identity, len) == Some(true) => {
                indexes.keep(&f, ix, false)?;
                continue;
            }
            Some(_) => {}
            None => stats.indexes_rebuilt += 1,
        }
        stats.files_read += 1;
        let modified = file.metadata()?.modified()?;
        let tmp = f.path.with_extension("jsonl.rewrite");
        let mut out = BufWriter::with_capacity(
            READ_BUFFER,
            private_file()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?,
        );
        let mut ix = indexes.fresh(&f, identity, len);
        let mut here = 0;
        read_lines(file, 0, |line, _| {
            let replacement = if filter.matches(line, &mut lowered) {
                std::str::from_utf8(line).ok().and_then(&mut change)
            } else {
                None
            };
            let written = match &replacement {
                Some(new) => {
                    here += 1;
                    new.as_bytes()
                }
                None => line,
            };
            out.write_all(written)?;
            out.write_all(b"\n")?;
            ix.add_line(written);
            Ok(())
        })?;
        if here == 0 {
            drop(out);
            fs::remove_file(&tmp)?;
            if ix.covered_bytes == len {
                // Same content: the index made on the way is the file's.
                indexes.keep(&f, ix, true)?;
            }
            continue;
        }
        let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        file.set_modified(modified)?;
        let ix = ix.for_file(identity_of(&file)?);
        drop(file);
        index::remove(&f.path)?;
        fs::rename(&tmp, &f.path)?;
        indexes.keep(&f, ix, true)?;
        changed += here;
    }
    Ok((changed, stats))
}

fn identity_of(file: &File) -> io::Result<(u64, u64)> {
    Ok(identity(&file.metadata()?))
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
