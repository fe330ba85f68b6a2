//! Pseudonyms for user ids in the request log: HMAC-SHA256 of the id under
//! a random key kept in the log directory. Lines of one person share a
//! pseudonym while the key lives, so that an operator can follow one
//! person's requests and the person's own export can find them; when the
//! key is rotated the old one is overwritten and deleted, and nobody (not
//! Steward either) can link the old pseudonyms to anyone again.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use steward_domain::user::UserId;
use steward_domain::Timestamp;

use crate::gdpr::export::archive::hex;

pub const KEY_FILE: &str = "pseudonym.key";

/// HMAC-SHA256 (RFC 2104) over SHA-256, which the workspace has already;
/// twenty lines do not justify another crate.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut ipad = [0x36u8; BLOCK];
    let mut opad = [0x5cu8; BLOCK];
    for i in 0..BLOCK {
        ipad[i] ^= k[i];
        opad[i] ^= k[i];
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    s.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [_, _] => u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok(),
            _ => None,
        })
        .collect()
}

/// The current pseudonym key.
#[derive(Clone)]
pub struct Key {
    bytes: [u8; 32],
    pub created_at: Timestamp,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    created_at: i64,
    key: String,
}

impl Key {
    /// 128 bits of the HMAC in hex: short in every line, still far beyond
    /// guessing (and the id space is small, which is why a keyed hash is
    /// needed at all: a plain hash of an id is reversed by trying them all).
    pub fn pseudonym(&self, user: UserId) -> String {
        let mac = hmac_sha256(&self.bytes, format!("steward-user:{user}").as_bytes());
        hex(&mac[..16])
    }

    pub fn is_due(&self, rotation_days: u32, now: Timestamp) -> bool {
        self.created_at <= now.minus_seconds(i64::from(rotation_days) * 86_400)
    }

    fn generate(now: Timestamp) -> Key {
        Key {
            bytes: crate::secrets::random_bytes::<32>(),
            created_at: now,
        }
    }
}

/// Reads the key; `None` when there is none (or it is unreadable garbage,
/// which is treated like no key: a fresh one replaces it).
pub fn load(dir: &Path) -> io::Result<Option<Key>> {
    let text = match fs::read_to_string(dir.join(KEY_FILE)) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let Ok(file) = serde_json::from_str::<KeyFile>(&text) else {
        return Ok(None);
    };
    let Some(bytes) = unhex(&file.key).and_then(|b| <[u8; 32]>::try_from(b).ok()) else {
        return Ok(None);
    };
    Ok(Some(Key {
        bytes,
        created_at: Timestamp(file.created_at),
    }))
}

/// Overwrites the key file with zeros before deleting it, so that the old
/// key does not linger in the file's blocks for the next reader of the disk
/// (as far as the file system lets a program decide that).
fn destroy(dir: &Path) -> io::Result<()> {
    let path = dir.join(KEY_FILE);
    match fs::metadata(&path) {
        Ok(meta) => {
            if let Ok(mut f) = OpenOptions::new().write(true).open(&path) {
                let _ = f.write_all(&vec![0u8; meta.len() as usize]);
                let _ = f.sync_all();
            }
            fs::remove_file(&path)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

fn store(dir: &Path, key: &Key) -> io::Result<()> {
    let text = serde_json::to_string(&KeyFile {
        created_at: key.created_at.0,
        key: hex(&key.bytes),
    })
    .map_err(io::Error::other)?;
    let tmp = dir.join(format!("{KEY_FILE}.tmp"));
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, dir.join(KEY_FILE))
}

/// Brings the key file up to date and returns the key in force: a key
/// older than the rotation period is destroyed; a new one is made when
/// pseudonyms are on and there is none. With pseudonyms off, a leftover key
/// is kept until it is due (lines written under it stay linkable for export
/// and erasure until then), and no new one is made. The caller holds the
/// directory lock.
pub fn current(
    dir: &Path,
    pseudonymize: bool,
    rotation_days: u32,
    now: Timestamp,
) -> io::Result<(Option<Key>, bool)> {
    let mut rotated = false;
    let mut key = load(dir)?;
    if key.as_ref().is_some_and(|k| k.is_due(rotation_days, now)) {
        destroy(dir)?;
        key = None;
        rotated = true;
    }
    if key.is_none() && pseudonymize {
        let fresh = Key::generate(now);
        store(dir, &fresh)?;
        key = Some(fresh);
    }
    Ok((key, rotated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block is hashed first.
        let mac = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex(&mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn keys_rotate_and_are_destroyed() {
        let dir = std::env::temp_dir().join(format!(
            "steward-pseudonym-{}",
            hex(&crate::secrets::random_bytes::<6>())
        ));
        fs::create_dir_all(&dir).unwrap();
        let t0 = Timestamp(1_700_000_000_000_000);
        assert!(current(&dir, false, 7, t0).unwrap().0.is_none());
        let (k1, rotated) = current(&dir, true, 7, t0).unwrap();
        let k1 = k1.unwrap();
        assert!(!rotated);
        let p1 = k1.pseudonym(42);
        assert_eq!(p1.len(), 32);
        assert_ne!(p1, k1.pseudonym(43));
        // Same key a day later; a new one after the period.
        let (k, _) = current(&dir, true, 7, t0.plus_seconds(86_400)).unwrap();
        assert_eq!(k.unwrap().pseudonym(42), p1);
        let (k2, rotated) = current(&dir, true, 7, t0.plus_seconds(7 * 86_400)).unwrap();
        assert!(rotated);
        assert_ne!(k2.unwrap().pseudonym(42), p1);
        // With pseudonyms off, a due key goes and none replaces it.
        let (k3, rotated) = current(&dir, false, 7, t0.plus_seconds(30 * 86_400)).unwrap();
        assert!(rotated && k3.is_none());
        assert!(!dir.join(KEY_FILE).exists());
        let _ = fs::remove_dir_all(&dir);
    }
}
