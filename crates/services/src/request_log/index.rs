//! The index of one log file, kept beside it as `<file>.idx`: which user
//! ids and pseudonyms its lines carry, which user ids their paths and
//! links name, and a Bloom filter of the character 3- and 5-grams of
//! their paths and parameter values (lower case). A search asks the index
//! whether the file may hold what it looks for and reads only the files
//! that may; see docs/adr/0023-request-log-index.md.
//!
//! An index is a claim about a prefix of one file: it records the file's
//! identity (device and inode) and how many bytes and lines it has seen.
//! It is used only while that identity holds and the file is at least that
//! long; the lines after the prefix are read and added. An index that is
//! missing, damaged (its checksum fails), or names another file is
//! rebuilt by reading the file once. A wrong "no" would lose a line, so
//! every doubt reads the file.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// What an index file starts with; a different version is rebuilt.
const MAGIC: &[u8; 8] = b"SRLIDX1\n";

/// The suffix of an index beside its log file.
pub const SUFFIX: &str = ".idx";

/// Lengths of the character n-grams in the filter. A term of at least
/// three characters (shorter ones are never searched) is looked up by its
/// 5-grams, or its 3-grams when it is shorter than five.
const SHORT_GRAM: usize = 3;
const LONG_GRAM: usize = 5;

/// Bits of the filter per byte of log while it is made (rounded down to a
/// power of two), room for the most varied text. The filter is folded in
/// halves before it is stored for as long as no more than
/// [`MAX_STORED_FILL`] of its bits would be set, so that a file of
/// repetitive lines gets a small index.
const BITS_PER_LOG_BYTE: u64 = 1;
const MIN_BITS: u64 = 1 << 13;
const MAX_BITS: u64 = 1 << 27;
const MAX_STORED_FILL: f64 = 0.2;
/// Bits set per n-gram, all in one 64-bit word of the filter (one cache
/// miss per n-gram instead of one per bit).
const HASHES: u32 = 3;

/// Recently added strings, per index: paths and values repeat from line
/// to line, and a string whose n-grams are in the filter already need not
/// be cut into them again. Compared in full, so a hit is never wrong.
const SEEN_SLOTS: usize = 1024;
const SEEN_MAX_LEN: usize = 96;

/// The index file beside a log file.
pub fn path_of(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(SUFFIX);
    PathBuf::from(name)
}

/// What a search looks for. A file may hold it when its index has any of
/// the ids or pseudonyms, or all the n-grams of any of the terms.
#[derive(Debug, Default)]
pub struct Query {
    /// Lines of the person's own requests (`user_id`).
    pub own_ids: Vec<i64>,
    /// Paths and links naming the person (`users/42`).
    pub linked_ids: Vec<i64>,
    pub pseudonyms: Vec<String>,
    /// Lower case, at least three characters each.
    pub terms: Vec<String>,
}

/// The index of a prefix of one log file.
#[derive(Clone, Debug)]
pub struct FileIndex {
    identity: (u64, u64),
    /// Bytes and lines of the file the index has seen (whole lines).
    pub covered_bytes: u64,
    pub covered_lines: u64,
    own_ids: Vec<i64>,
    linked_ids: Vec<i64>,
    pseudonyms: Vec<String>,
    bits: Vec<u64>,
    /// Strings added lately (not stored: an index read back starts empty).
    seen: Vec<Option<Box<str>>>,
}

impl FileIndex {
    /// An empty index for the file with `identity`, with a filter sized
    /// for a file of `size_hint` bytes.
    pub fn new(identity: (u64, u64), size_hint: u64) -> FileIndex {
        let wanted = (size_hint.saturating_mul(BITS_PER_LOG_BYTE)).clamp(MIN_BITS, MAX_BITS);
        // A power of two, so that folding in halves keeps every position.
        let nbits = 1u64 << (63 - wanted.leading_zeros());
        FileIndex {
            identity,
            covered_bytes: 0,
            covered_lines: 0,
            own_ids: Vec::new(),
            linked_ids: Vec::new(),
            pseudonyms: Vec::new(),
            bits: vec![0; (nbits / 64) as usize],
            seen: Vec::new(),
        }
    }

    /// The same claims about another file with the same content (a
    /// rewrite's new file).
    pub fn for_file(mut self, identity: (u64, u64)) -> FileIndex {
        self.identity = identity;
        self
    }

    /// Whether the index speaks for the whole of a file with this identity
    /// and length; `Some(false)` when it covers only a prefix of it, `None`
    /// when it is about another file.
    pub fn covers(&self, identity: (u64, u64), len: u64) -> Option<bool> {
        (identity == self.identity && self.covered_bytes <= len)
            .then_some(self.covered_bytes == len)
    }

    /// Adds one line as read from the file (`bytes` without the newline,
    /// which must follow it: a last line cut short is left out, to be read
    /// again once it is whole). A line that is not UTF-8 JSON adds nothing:
    /// no search finds anything in such a line either.
    pub fn add_line(&mut self, bytes: &[u8]) {
        self.covered_bytes += bytes.len() as u64 + 1;
        self.covered_lines += 1;
        let Ok(text) = std::str::from_utf8(bytes) else {
            return;
        };
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return;
        };
        self.add_fields(
            v.get("user_id").and_then(Value::as_i64),
            v.get("user_pseudonym").and_then(Value::as_str),
            v.get("path").and_then(Value::as_str),
            [v.get("query"), v.get("params")],
        );
    }

    /// Adds a line the writer is about to append, `len` bytes with its
    /// newline, from its fields (no parsing).
    pub fn add_written(
        &mut self,
        len: u64,
        user_id: Option<i64>,
        pseudonym: Option<&str>,
        path: &str,
        values: [Option<&Value>; 2],
    ) {
        self.covered_bytes += len;
        self.covered_lines += 1;
        self.add_fields(user_id, pseudonym, Some(path), values);
    }

    fn add_fields(
        &mut self,
        user_id: Option<i64>,
        pseudonym: Option<&str>,
        path: Option<&str>,
        values: [Option<&Value>; 2],
    ) {
        if let Some(id) = user_id {
            insert_sorted(&mut self.own_ids, id);
        }
        if let Some(p) = pseudonym {
            if let Err(i) = self.pseudonyms.binary_search_by(|q| q.as_str().cmp(p)) {
                self.pseudonyms.insert(i, p.to_string());
            }
        }
        if let Some(path) = path {
            self.add_string(path);
        }
        for v in values.into_iter().flatten() {
            self.add_value(v);
        }
    }

    /// Strings anywhere in a parameter value (not object keys: neither the
    /// search nor the redaction looks at them).
    fn add_value(&mut self, v: &Value) {
        match v {
            Value::String(s) => self.add_string(s),
            Value::Array(items) => items.iter().for_each(|v| self.add_value(v)),
            Value::Object(map) => map.values().for_each(|v| self.add_value(v)),
            _ => {}
        }
    }

    fn add_string(&mut self, s: &str) {
        // Only segments after `users` or `principals` can name anyone;
        // one finder, built once, looks for the `s/` both end with.
        static LINK: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new("s/"));
        if LINK.find(s.as_bytes()).is_some() {
            for id in linked_ids(s) {
                insert_sorted(&mut self.linked_ids, id);
            }
        }
        let slot = if s.len() <= SEEN_MAX_LEN {
            let slot = (gram_of_bytes(s.as_bytes()) as usize) % SEEN_SLOTS;
            if self.seen.is_empty() {
                self.seen.resize(SEEN_SLOTS, None);
            }
            if self.seen[slot].as_deref() == Some(s) {
                return;
            }
            Some(slot)
        } else {
            None
        };
        let nwords = self.bits.len();
        let bits = &mut self.bits;
        let mut set = |h: u64| {
            let (word, mask) = word_and_mask(h, nwords);
            bits[word] |= mask;
        };
        if s.is_ascii() {
            grams(s.as_bytes(), true, |_, h| set(h));
        } else {
            grams(s.to_lowercase().as_bytes(), false, |_, h| set(h));
        }
        if let Some(slot) = slot {
            self.seen[slot] = Some(s.into());
        }
    }

    fn has(&self, h: u64) -> bool {
        let (word, mask) = word_and_mask(h, self.bits.len());
        self.bits[word] & mask == mask
    }

    /// Whether a string of the file may contain `term` (lower case):
    /// every n-gram of the term is in the filter.
    fn may_contain_term(&self, term: &str) -> bool {
        let chars = term.chars().count();
        if chars < SHORT_GRAM {
            // No answer from the filter (such terms are never searched).
            return true;
        }
        let n = if chars >= LONG_GRAM {
            LONG_GRAM
        } else {
            SHORT_GRAM
        };
        let mut all = true;
        grams(term.as_bytes(), false, |len, h| {
            if len == n {
                all &= self.has(h);
            }
        });
        all
    }

    /// The filter as stored: folded in halves while it stays sparse.
    fn folded_bits(&self) -> Vec<u64> {
        let mut bits = self.bits.clone();
        while bits.len() as u64 * 64 > MIN_BITS {
            let half = bits.len() / 2;
            let ones: u64 = (0..half)
                .map(|i| u64::from((bits[i] | bits[i + half]).count_ones()))
                .sum();
            if ones as f64 > MAX_STORED_FILL * (half as f64 * 64.0) {
                break;
            }
            for i in 0..half {
                bits[i] |= bits[i + half];
            }
            bits.truncate(half);
        }
        bits
    }

    /// Whether the lines the index has seen may hold what `q` looks for.
    pub fn may_contain(&self, q: &Query) -> bool {
        q.own_ids
            .iter()
            .any(|id| self.own_ids.binary_search(id).is_ok())
            || q.linked_ids
                .iter()
                .any(|id| self.linked_ids.binary_search(id).is_ok())
            || q.pseudonyms
                .iter()
                .any(|p| self.pseudonyms.binary_search(p).is_ok())
            || q.terms.iter().any(|t| self.may_contain_term(t))
    }

    fn encode(&self) -> Vec<u8> {
        let bits = self.folded_bits();
        let mut out = Vec::with_capacity(bits.len() * 8 + 256);
        out.extend_from_slice(MAGIC);
        for n in [
            self.identity.0,
            self.identity.1,
            self.covered_bytes,
            self.covered_lines,
            bits.len() as u64 * 64,
            self.own_ids.len() as u64,
            self.linked_ids.len() as u64,
            self.pseudonyms.len() as u64,
        ] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        for id in self.own_ids.iter().chain(&self.linked_ids) {
            out.extend_from_slice(&id.to_le_bytes());
        }
        for p in &self.pseudonyms {
            out.extend_from_slice(&(p.len() as u64).to_le_bytes());
            out.extend_from_slice(p.as_bytes());
        }
        for w in &bits {
            out.extend_from_slice(&w.to_le_bytes());
        }
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum);
        out
    }

    fn decode(bytes: &[u8]) -> Option<FileIndex> {
        let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(32)?)?;
        if Sha256::digest(body).as_slice() != sum {
            return None;
        }
        let mut r = body.strip_prefix(MAGIC.as_slice())?;
        let mut u64s = [0u64; 8];
        for n in &mut u64s {
            *n = u64::from_le_bytes(take(&mut r, 8)?.try_into().ok()?);
        }
        let [dev, ino, covered_bytes, covered_lines, nbits, own, linked, pseudonyms] = u64s;
        if nbits < 64 || !nbits.is_power_of_two() || nbits > MAX_BITS {
            return None;
        }
        let mut ids = |count: u64| -> Option<Vec<i64>> {
            (0..count)
                .map(|_| Some(i64::from_le_bytes(take(&mut r, 8)?.try_into().ok()?)))
                .collect()
        };
        let own_ids = ids(own)?;
        let linked_ids = ids(linked)?;
        let pseudonyms = (0..pseudonyms)
            .map(|_| {
                let len = u64::from_le_bytes(take(&mut r, 8)?.try_into().ok()?);
                let s = take(&mut r, usize::try_from(len).ok()?)?;
                String::from_utf8(s.to_vec()).ok()
            })
            .collect::<Option<Vec<String>>>()?;
        let bits: Vec<u64> = r
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("eight bytes")))
            .collect();
        if r.len() as u64 != nbits / 8 {
            return None;
        }
        let sorted = |v: &[i64]| v.windows(2).all(|w| w[0] < w[1]);
        if !sorted(&own_ids) || !sorted(&linked_ids) || !pseudonyms.windows(2).all(|w| w[0] < w[1])
        {
            return None;
        }
        Some(FileIndex {
            identity: (dev, ino),
            covered_bytes,
            covered_lines,
            own_ids,
            linked_ids,
            pseudonyms,
            bits,
            seen: Vec::new(),
        })
    }

    /// Writes the index beside `log` (private, replaced in one rename).
    pub fn store(&self, log: &Path) -> io::Result<()> {
        let path = path_of(log);
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut file = super::files::private_file()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        file.write_all(&self.encode())?;
        drop(file);
        fs::rename(&tmp, &path)
    }
}

/// The index stored beside `log`, when there is a sound one; `None` when
/// it is missing or damaged (then the caller reads the file).
pub fn load(log: &Path) -> io::Result<Option<FileIndex>> {
    let mut bytes = Vec::new();
    match fs::File::open(path_of(log)) {
        Ok(mut f) => {
            // Bounded: a filter is at most MAX_BITS / 8 bytes, the id and
            // pseudonym lists at most a few per line of one file.
            f.read_to_end(&mut bytes)?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    }
    Ok(FileIndex::decode(&bytes))
}

/// Deletes the index beside `log`; a missing one is fine.
pub fn remove(log: &Path) -> io::Result<()> {
    match fs::remove_file(path_of(log)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

fn take<'a>(r: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, tail) = r.split_at_checked(n)?;
    *r = tail;
    Some(head)
}

fn insert_sorted(v: &mut Vec<i64>, id: i64) {
    if let Err(i) = v.binary_search(&id) {
        v.insert(i, id);
    }
}

/// The ids a string names as `users/<id>` or `principals/<id>`, segments
/// split like [`super::names_user`] splits them.
fn linked_ids(s: &str) -> impl Iterator<Item = i64> + '_ {
    let mut prev = "";
    s.split(['/', '?']).filter_map(move |seg| {
        let named = (prev == "users" || prev == "principals")
            .then(|| seg.parse::<i64>().ok().filter(|n| n.to_string() == seg))
            .flatten();
        prev = seg;
        named
    })
}

/// Calls `each` with (length in characters, hash) for every 3- and
/// 5-gram of `text` (UTF-8, lower case; or ASCII to be lowered on the way
/// when `lower_ascii`). The hash is FNV-1a over the n-gram's bytes, its
/// length mixed in by a finaliser, the same for a term as for the text.
fn grams(text: &[u8], lower_ascii: bool, mut each: impl FnMut(usize, u64)) {
    let starts_char = |b: u8| b & 0xc0 != 0x80;
    for start in 0..text.len() {
        if !starts_char(text[start]) {
            continue;
        }
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut chars = 0;
        for (pos, b) in text.iter().enumerate().skip(start) {
            let b = if lower_ascii {
                b.to_ascii_lowercase()
            } else {
                *b
            };
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
            if text.get(pos + 1).is_none_or(|next| starts_char(*next)) {
                chars += 1;
                if chars == SHORT_GRAM || chars == LONG_GRAM {
                    each(chars, mix(h ^ chars as u64));
                }
                if chars == LONG_GRAM {
                    break;
                }
            }
        }
    }
}

/// The word of the filter and the bits in it for one n-gram's hash. The
/// number of words is a power of two, so that in a filter folded in half
/// the word is the same modulo the half and the bits are the same.
fn word_and_mask(h: u64, nwords: usize) -> (usize, u64) {
    let word = (h as usize) & (nwords - 1);
    let h2 = mix(h ^ 0x9e37_79b9_7f4a_7c15);
    let mask = (0..HASHES).fold(0u64, |m, i| m | 1 << ((h2 >> (6 * i)) & 63));
    (word, mask)
}

/// A cheap hash of a whole string, for the cache of strings seen.
fn gram_of_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (h >> 29)
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_of(lines: &[&str]) -> FileIndex {
        let mut ix = FileIndex::new((1, 2), 4096);
        for l in lines {
            ix.add_line(l.as_bytes());
        }
        ix
    }

    fn terms(t: &[&str]) -> Query {
        Query {
            terms: t.iter().map(|s| s.to_lowercase()).collect(),
            ..Query::default()
        }
    }

    #[test]
    fn finds_what_the_lines_hold() {
        let ix = index_of(&[
            r#"{"user_id":7,"path":"/api/v3/users/42/lock","params":{"name":"Ann Lee","tags":["Zoë Ünal"]}}"#,
            r#"{"user_pseudonym":"abc","path":"/x","query":{"q":"see /api/v3/principals/9"}}"#,
            "not json",
        ]);
        assert_eq!(ix.covered_lines, 3);
        let q = |own: &[i64], linked: &[i64], p: &[&str]| Query {
            own_ids: own.to_vec(),
            linked_ids: linked.to_vec(),
            pseudonyms: p.iter().map(ToString::to_string).collect(),
            terms: Vec::new(),
        };
        assert!(ix.may_contain(&q(&[7], &[], &[])));
        assert!(!ix.may_contain(&q(&[42], &[], &[])));
        assert!(ix.may_contain(&q(&[], &[42], &[])));
        assert!(ix.may_contain(&q(&[], &[9], &[])));
        assert!(!ix.may_contain(&q(&[], &[4], &[])));
        assert!(ix.may_contain(&q(&[], &[], &["abc"])));
        assert!(!ix.may_contain(&q(&[], &[], &["abd"])));
        for t in [
            "ann",
            "ann lee",
            "n le",
            "ANN LEE",
            "zoë ünal",
            "ünal",
            "lock",
        ] {
            assert!(ix.may_contain(&terms(&[t])), "{t}");
        }
        for t in ["ann leeds", "bob", "lee ann", "json"] {
            assert!(!ix.may_contain(&terms(&[t])), "{t}");
        }
    }

    #[test]
    fn round_trips_and_refuses_damage() {
        let ix = index_of(&[r#"{"user_id":7,"user_pseudonym":"p","path":"/users/3/x"}"#]);
        let bytes = ix.encode();
        let back = FileIndex::decode(&bytes).unwrap();
        assert_eq!(back.covered_bytes, ix.covered_bytes);
        assert_eq!(back.own_ids, vec![7]);
        assert_eq!(back.linked_ids, vec![3]);
        assert_eq!(back.bits, ix.folded_bits());
        for i in [0, 9, bytes.len() / 2, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            assert!(FileIndex::decode(&bad).is_none(), "byte {i}");
        }
        assert!(FileIndex::decode(&bytes[..bytes.len() - 1]).is_none());
        assert!(FileIndex::decode(b"").is_none());
    }

    #[test]
    fn a_folded_filter_finds_the_same() {
        let mut ix = FileIndex::new((1, 2), 1 << 20);
        ix.add_line(
            r#"{"path":"/people/ann.lee@example.org","params":{"q":"Zoë Ünal"}}"#.as_bytes(),
        );
        let back = FileIndex::decode(&ix.encode()).unwrap();
        assert!(back.bits.len() < ix.bits.len(), "{} words", back.bits.len());
        for t in ["ann.lee@example.org", "lee@e", "zoë ünal", "peo"] {
            assert!(back.may_contain(&terms(&[t])), "{t}");
        }
        assert!(!back.may_contain(&terms(&["ann.lee@example.com"])));
    }

    #[test]
    fn covers_only_its_own_file() {
        let ix = index_of(&["{}"]);
        assert_eq!(ix.covers((1, 2), 3), Some(true));
        assert_eq!(ix.covers((1, 2), 10), Some(false));
        assert_eq!(ix.covers((1, 2), 2), None);
        assert_eq!(ix.covers((1, 3), 3), None);
    }
}
