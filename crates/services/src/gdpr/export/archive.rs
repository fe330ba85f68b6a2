//! The export archive: one `.tar.gz` holding `personal-data.json`,
//! `README.txt` and a `files/` directory for what the person uploaded.
//! Written to a temporary name beside the destination and renamed into
//! place when complete, so that no reader ever sees half an archive; its
//! size and SHA-256 are computed while it is written.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

/// One member of the archive besides the directories.
pub struct Member<'a> {
    /// Path inside the archive, relative (`personal-data.json`, `files/12-report.pdf`).
    pub path: &'a str,
    pub data: &'a [u8],
}

/// What was written.
#[derive(Clone, Debug)]
pub struct Written {
    pub size_bytes: u64,
    /// Lower-case hex.
    pub sha256: String,
}

/// Counts and hashes the bytes on their way to the file.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// A new file only the owner may read (the archive holds personal data).
fn create_private(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest
        .file_name()
        .map(std::ffi::OsStr::to_os_string)
        .unwrap_or_default();
    name.push(".partial");
    dest.with_file_name(name)
}

/// Writes the archive to `dest`, which must not exist yet. `mtime` (seconds
/// since the epoch) is recorded for every member. On any failure nothing is
/// left at `dest` or beside it.
pub fn write(
    dest: &Path,
    members: &[Member<'_>],
    dirs: &[&str],
    mtime: u64,
) -> io::Result<Written> {
    if dest.exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} already exists", dest.display()),
        ));
    }
    let partial = partial_path(dest);
    let result = write_to(&partial, members, dirs, mtime).and_then(|w| {
        std::fs::rename(&partial, dest)?;
        Ok(w)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn write_to(path: &Path, members: &[Member<'_>], dirs: &[&str], mtime: u64) -> io::Result<Written> {
    let file = create_private(path)?;
    let hashing = Hashing {
        inner: BufWriter::with_capacity(256 * 1024, file),
        hasher: Sha256::new(),
        bytes: 0,
    };
    // Level 6 (the gzip default) shrinks the JSON about tenfold; faster
    // levels save little time on the sizes an export has.
    let gz = GzEncoder::new(hashing, Compression::default());
    let mut tar = tar::Builder::new(gz);
    for dir in dirs {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        h.set_mtime(mtime);
        tar.append_data(&mut h, dir, io::empty())?;
    }
    for m in members {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(m.data.len() as u64);
        h.set_mtime(mtime);
        tar.append_data(&mut h, m.path, m.data)?;
    }
    let gz = tar.into_inner()?;
    let mut hashing = gz.finish()?;
    hashing.flush()?;
    let Hashing {
        inner,
        hasher,
        bytes,
    } = hashing;
    let file = inner
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)?;
    file.sync_all()?;
    Ok(Written {
        size_bytes: bytes,
        sha256: hex(&hasher.finalize()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn writes_a_readable_archive_with_its_hash() {
        let dir = std::env::temp_dir().join(format!(
            "steward-archive-{}",
            hex(&crate::secrets::random_bytes::<6>())
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let dest = dir.join("x.tar.gz");
        let json = br#"{"a": 1}"#;
        let w = write(
            &dest,
            &[
                Member {
                    path: "personal-data.json",
                    data: json,
                },
                Member {
                    path: "README.txt",
                    data: b"hello",
                },
            ],
            &["files/"],
            1_700_000_000,
        )
        .unwrap();
        let bytes = std::fs::read(&dest).unwrap();
        assert_eq!(w.size_bytes, bytes.len() as u64);
        assert_eq!(w.sha256, hex(&Sha256::digest(&bytes)));
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let mut names = Vec::new();
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut body = Vec::new();
            e.read_to_end(&mut body).unwrap();
            if name == "personal-data.json" {
                assert_eq!(body, json);
            }
            names.push(name);
        }
        assert_eq!(names, ["files/", "personal-data.json", "README.txt"]);
        assert!(!partial_path(&dest).exists());
        // Never overwrites.
        assert!(write(&dest, &[], &[], 0).is_err());
        assert_eq!(std::fs::read(&dest).unwrap(), bytes);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
