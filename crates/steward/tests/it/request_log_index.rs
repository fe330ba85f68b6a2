//! The request log's per-file indexes: a search for a person reads only
//! the files whose index may name them, finds exactly what reading every
//! line finds (ids, pseudonyms, links, and logins, e-mail addresses and
//! names in paths and parameters, in rotated files, in the active one and
//! in files older than the indexes), rebuilds indexes that are missing or
//! damaged, and after a scrub no index claims the person any more.
//! Retention deletes indexes with their files. File level: no server, so
//! no database engine is involved.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};
use steward_domain::Timestamp;
use steward_services::request_log::{
    BodyKind, Entry, RequestLog, RequestLogConfig, ACTIVE_FILE, INDEX_SUFFIX,
};

const PERSON: i64 = 4242;

fn terms() -> Vec<String> {
    ["annlee", "Ann.Lee@example.org", "Ann Lee"]
        .map(String::from)
        .to_vec()
}

fn scratch_dir() -> PathBuf {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("steward-request-log-index-{hex}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn entry(
    id: &str,
    user: Option<i64>,
    path: &str,
    query: Option<&str>,
    body: Option<Value>,
) -> Entry {
    Entry {
        time: Timestamp::now(),
        request_id: id.into(),
        user_id: user,
        method: Cow::Borrowed("POST"),
        path: path.into(),
        query: query.map(String::from),
        body: body.map(|b| (BodyKind::Json, serde_json::to_vec(&b).unwrap().into())),
        status: 200,
        duration_micros: 1000,
    }
}

/// Another person's ordinary request: never names the person.
fn filler(i: usize) -> Entry {
    entry(
        &format!("f-{i}"),
        Some(1 + (i % 20) as i64),
        &format!("/api/v3/work_packages/{i}"),
        Some("pageSize=20&sortBy=id"),
        Some(json!({"subject": format!("Task {i} for team {}", i % 7), "lockVersion": i})),
    )
}

fn log_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with("requests") && name.ends_with(".jsonl")
        })
        .collect();
    files.sort();
    files
}

fn index_of(log: &Path) -> PathBuf {
    PathBuf::from(format!("{}{INDEX_SUFFIX}", log.display()))
}

fn indexes(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_str().unwrap().ends_with(INDEX_SUFFIX))
        .collect();
    v.sort();
    v
}

/// The request ids of the lines a search answered with.
fn request_ids(found: &[(PathBuf, usize)]) -> BTreeSet<String> {
    found
        .iter()
        .map(|(path, n)| {
            let text = std::fs::read_to_string(path).unwrap();
            let line = text.lines().nth(n - 1).unwrap();
            let v: Value = serde_json::from_str(line).unwrap();
            v["request_id"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The files holding a line with one of `ids`, by reading every line.
fn files_with(dir: &Path, ids: &BTreeSet<String>) -> BTreeSet<PathBuf> {
    log_files(dir)
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(p).unwrap().lines().any(|l| {
                serde_json::from_str::<Value>(l)
                    .ok()
                    .and_then(|v| v["request_id"].as_str().map(|r| ids.contains(r)))
                    .unwrap_or(false)
            })
        })
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(ToString::to_string).collect()
}

/// A log over `dir` with small files, so that a few hundred lines make
/// many of them.
fn small_log(dir: &Path) -> RequestLog {
    RequestLog::new(RequestLogConfig {
        max_file_bytes: 2048,
        max_total_bytes: 64 * 1024 * 1024,
        ..RequestLogConfig::new(dir.to_path_buf())
    })
}

/// What the fixture holds, as written: which lines name the person, and
/// how.
struct Fixture {
    dir: PathBuf,
    log: RequestLog,
    /// Their own requests (the export's lines).
    own: BTreeSet<String>,
    /// Own, links to them, and their login, e-mail or name anywhere in a
    /// path or parameter value.
    mentions: BTreeSet<String>,
    /// Only the login, e-mail or name.
    named: BTreeSet<String>,
    /// A name outside ASCII.
    zoe: BTreeSet<String>,
}

/// A file from before the indexes (none beside it), holding the person's
/// id (pseudonyms were off then), a link, a name, and a last line cut
/// off before its newline.
fn old_file(dir: &Path) {
    let lines = [
        json!({"request_id": "old-own", "user_id": PERSON, "method": "GET", "path": "/api/v3/projects", "status": 200}),
        json!({"request_id": "old-link", "user_id": 3, "method": "GET", "path": "/api/v3/principals/4242", "status": 200}),
        json!({"request_id": "old-other", "user_id": 3, "method": "GET", "path": "/api/v3/users/42", "status": 200}),
        json!({"request_id": "old-named", "user_id": 3, "method": "PATCH", "path": "/api/v3/users/5", "params": {"email": "ANN.LEE@EXAMPLE.ORG"}, "status": 200}),
    ];
    let mut text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    text.push_str("not json at all\n");
    text.push_str(
        &json!({"request_id": "old-tail", "user_id": PERSON, "method": "GET", "path": "/x", "status": 200})
            .to_string(),
    );
    std::fs::write(dir.join("requests-20200101T000000.000000Z.jsonl"), text).unwrap();
}

async fn fixture() -> Fixture {
    let dir = scratch_dir();
    old_file(&dir);
    let log = small_log(&dir);
    let specials: Vec<(Entry, &str)> = vec![
        (
            entry("own", Some(PERSON), "/api/v3/work_packages", None, None),
            "own",
        ),
        (
            entry(
                "own-2",
                Some(PERSON),
                "/api/v3/my/preferences",
                Some("x=1"),
                None,
            ),
            "own",
        ),
        (
            entry("link-path", Some(7), "/api/v3/users/4242/lock", None, None),
            "link",
        ),
        (
            entry(
                "link-param",
                Some(7),
                "/api/v3/work_packages/9",
                None,
                Some(json!({"_links": {"assignee": {"href": "/api/v3/users/4242"}}})),
            ),
            "link",
        ),
        (
            entry("not-link", Some(7), "/api/v3/users/42420", None, None),
            "none",
        ),
        (
            entry(
                "not-link-2",
                Some(7),
                "/api/v3/work_packages/4242",
                None,
                None,
            ),
            "none",
        ),
        (
            entry("named-path", Some(7), "/people/ANNLEE/profile", None, None),
            "named",
        ),
        (
            entry(
                "named-query",
                Some(7),
                "/api/v3/users",
                Some("q=Ann%20Lee"),
                None,
            ),
            "named",
        ),
        (
            entry(
                "named-nested",
                Some(8),
                "/api/v3/work_packages",
                None,
                Some(json!({"watchers": [{"name": "Dr. ann lee"}], "n": 1})),
            ),
            "named",
        ),
        (
            entry(
                "named-inside",
                Some(8),
                "/api/v3/work_packages",
                None,
                Some(json!({"description": "see joAnn Leeds about it"})),
            ),
            "named",
        ),
        (
            entry(
                "not-named",
                Some(8),
                "/api/v3/users",
                Some("q=Anne%20Lea&login=annle"),
                None,
            ),
            "none",
        ),
        (
            entry(
                "not-named-key",
                Some(8),
                "/api/v3/x",
                None,
                Some(json!({"annlee": 1})),
            ),
            "none",
        ),
        (
            entry(
                "zoe",
                Some(9),
                "/api/v3/users",
                None,
                Some(json!({"name": "ZOË ÜNAL"})),
            ),
            "zoe",
        ),
    ];
    let mut fixture = Fixture {
        dir: dir.clone(),
        log,
        own: set(&["old-own", "old-tail"]),
        mentions: set(&["old-own", "old-tail", "old-link", "old-named"]),
        named: set(&["old-named"]),
        zoe: BTreeSet::new(),
    };
    let mut i = 0;
    for (e, kind) in specials {
        for _ in 0..15 {
            fixture.log.record(filler(i));
            i += 1;
        }
        let id = e.request_id.clone();
        match kind {
            "own" => {
                fixture.own.insert(id.clone());
                fixture.mentions.insert(id);
            }
            "link" => {
                fixture.mentions.insert(id);
            }
            "named" => {
                fixture.named.insert(id.clone());
                fixture.mentions.insert(id);
            }
            "zoe" => {
                fixture.zoe.insert(id);
            }
            _ => {}
        }
        fixture.log.record(e);
        fixture.log.flush().await;
    }
    // The last ones stay in the active file.
    fixture
        .log
        .record(entry("own-active", Some(PERSON), "/api/v3/x", None, None));
    fixture.own.insert("own-active".into());
    fixture.mentions.insert("own-active".into());
    fixture.log.flush().await;
    assert_eq!(fixture.log.dropped(), 0);
    assert!(log_files(&dir).len() > 20, "{:?}", log_files(&dir));
    fixture
}

impl Fixture {
    /// Every search agrees with what was written.
    async fn assert_exact(&self, log: &RequestLog) {
        let found = log.find_person(Some(PERSON), &terms()).await.unwrap();
        assert_eq!(request_ids(&found.lines), self.mentions);
        assert_eq!(found.lines.len(), self.mentions.len(), "one hit per line");
        let named = log.find_person(None, &terms()).await.unwrap();
        assert_eq!(request_ids(&named.lines), self.named);
        let zoe = log.mentions_terms(&["zoë ünal".into()]).await.unwrap();
        assert_eq!(request_ids(&zoe), self.zoe);
        let own: BTreeSet<String> = log
            .lines_for_user(PERSON)
            .await
            .unwrap()
            .iter()
            .map(|l| l["request_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(own, self.own);
    }
}

/// A person in one file of many: that file is the only one read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_file_naming_the_person_is_read() {
    let dir = scratch_dir();
    let log = small_log(&dir);
    for i in 0..150 {
        log.record(filler(i));
    }
    log.flush().await;
    log.record(entry(
        "theirs",
        Some(PERSON),
        "/api/v3/users",
        Some("login=annlee"),
        Some(json!({"email": "ann.lee@example.org"})),
    ));
    log.flush().await;
    for i in 150..300 {
        log.record(filler(i));
    }
    log.flush().await;
    let files = log_files(&dir).len();
    assert!(files > 10, "{files} files");

    let found = log.find_person(Some(PERSON), &terms()).await.unwrap();
    assert_eq!(request_ids(&found.lines), set(&["theirs"]));
    assert_eq!(found.stats.files, files);
    assert_eq!(found.stats.files_read, 1, "{:?}", found.stats);
    assert_eq!(found.stats.tails_read, 0, "{:?}", found.stats);
    assert_eq!(found.stats.indexes_rebuilt, 0, "{:?}", found.stats);
    // By the name alone, and for the export, the same.
    let named = log
        .find_person(None, &["Ann Lee".into(), "annlee".into()])
        .await
        .unwrap();
    assert_eq!(named.lines.len(), 1);
    assert_eq!(named.stats.files_read, 1, "{:?}", named.stats);
    assert_eq!(log.lines_for_user(PERSON).await.unwrap().len(), 1);
    // Someone in no file: no file is read.
    let nobody = log
        .find_person(Some(999), &["nobody at all".into()])
        .await
        .unwrap();
    assert!(nobody.lines.is_empty());
    assert_eq!(nobody.stats.files_read, 0, "{:?}", nobody.stats);

    // A line another process appended behind the active file's index:
    // only the lines after the index are read, and it is found.
    let mut active = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join(ACTIVE_FILE))
        .unwrap();
    writeln!(
        active,
        "{}",
        json!({"request_id": "appended", "user_id": 5, "path": "/api/v3/users/4242", "status": 200})
    )
    .unwrap();
    drop(active);
    let found = log.find_person(Some(PERSON), &terms()).await.unwrap();
    assert_eq!(request_ids(&found.lines), set(&["theirs", "appended"]));
    assert_eq!(found.stats.files_read, 1, "{:?}", found.stats);
    assert_eq!(found.stats.tails_read, 1, "{:?}", found.stats);
    let found = log.find_person(Some(PERSON), &terms()).await.unwrap();
    assert_eq!(
        found.stats.files_read, 2,
        "the index knows it now: {:?}",
        found.stats
    );
    assert_eq!(found.stats.tails_read, 0, "{:?}", found.stats);

    // Indexes are private like the files.
    #[cfg(unix)]
    for ix in indexes(&dir) {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&ix).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{ix:?}");
    }
    drop(log);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Searches through the indexes find exactly the lines that were written
/// naming the person, in rotated files, in the active file and in a file
/// older than the indexes; another process without the writer's index of
/// the active file, and one more line appended behind the index, too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_through_indexes_are_exact() {
    let f = fixture().await;
    f.assert_exact(&f.log).await;
    let first = f.log.find_person(Some(PERSON), &terms()).await.unwrap();
    let holding = files_with(&f.dir, &f.mentions);
    // The old file had no index; it has one now.
    assert!(index_of(&f.dir.join("requests-20200101T000000.000000Z.jsonl")).exists());
    assert_eq!(first.stats.indexes_rebuilt, 0, "{:?}", first.stats);
    // The old file's last line is cut short: it stays behind its index
    // and is read again each time.
    assert_eq!(
        first.stats.files_read + first.stats.tails_read,
        holding.len()
    );
    assert!(first.stats.files > holding.len() + 10, "{:?}", first.stats);

    // Another process: no writer, so the active file's index is made
    // from the file.
    let other = small_log(&f.dir);
    f.assert_exact(&other).await;
    // A line appended behind the indexes is found by both.
    let mut active = std::fs::OpenOptions::new()
        .append(true)
        .open(f.dir.join(ACTIVE_FILE))
        .unwrap();
    writeln!(
        active,
        "{}",
        json!({"request_id": "appended", "user_id": 5, "path": "/api/v3/users/4242", "status": 200})
    )
    .unwrap();
    drop(active);
    let found = other.find_person(Some(PERSON), &terms()).await.unwrap();
    let mut expected = f.mentions.clone();
    expected.insert("appended".into());
    assert_eq!(request_ids(&found.lines), expected);
    let found = f.log.find_person(Some(PERSON), &terms()).await.unwrap();
    assert_eq!(request_ids(&found.lines), expected);
    let _ = std::fs::remove_dir_all(&f.dir);
}

/// Missing, damaged, cut short or borrowed from another file: the index
/// is made again from its file, and the search is still exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_indexes_are_rebuilt() {
    let mut f = fixture().await;
    f.assert_exact(&f.log).await;
    let holding: Vec<PathBuf> = files_with(&f.dir, &f.mentions)
        .into_iter()
        .filter(|p| !p.ends_with(ACTIVE_FILE))
        .collect();
    let clean: Vec<PathBuf> = log_files(&f.dir)
        .into_iter()
        .filter(|p| !holding.contains(p) && !p.ends_with(ACTIVE_FILE))
        .collect();
    assert!(holding.len() >= 4 && clean.len() >= 4);
    // Files naming the person, whose index no longer says so.
    std::fs::remove_file(index_of(&holding[0])).unwrap();
    let mut bytes = std::fs::read(index_of(&holding[1])).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(index_of(&holding[1]), &bytes).unwrap();
    let bytes = std::fs::read(index_of(&holding[2])).unwrap();
    std::fs::write(index_of(&holding[2]), &bytes[..bytes.len() - 9]).unwrap();
    std::fs::copy(index_of(&clean[0]), index_of(&holding[3])).unwrap();
    std::fs::write(index_of(&clean[1]), b"").unwrap();
    // A file replaced by another (a new inode) that starts with a line
    // naming the person: its old index speaks for a prefix no longer
    // there, and is not believed.
    let replaced = &clean[2];
    let mut content = format!(
        "{}\n",
        json!({"request_id": "replaced", "user_id": 5, "path": "/api/v3/users/4242", "status": 200})
    )
    .into_bytes();
    content.extend_from_slice(&std::fs::read(replaced).unwrap());
    let tmp = replaced.with_extension("tmp");
    std::fs::write(&tmp, &content).unwrap();
    std::fs::rename(&tmp, replaced).unwrap();
    f.mentions.insert("replaced".into());

    let found = f.log.find_person(Some(PERSON), &terms()).await.unwrap();
    assert_eq!(request_ids(&found.lines), f.mentions);
    assert_eq!(found.stats.indexes_rebuilt, 6, "{:?}", found.stats);
    f.assert_exact(&f.log).await;
    let again = f.log.find_person(Some(PERSON), &terms()).await.unwrap();
    assert_eq!(again.stats.indexes_rebuilt, 0, "{:?}", again.stats);

    // Every index gone: all are made again, and nothing is missed.
    for ix in indexes(&f.dir) {
        std::fs::remove_file(ix).unwrap();
    }
    let other = small_log(&f.dir);
    let found = other.find_person(Some(PERSON), &terms()).await.unwrap();
    assert_eq!(request_ids(&found.lines), f.mentions);
    assert_eq!(
        found.stats.indexes_rebuilt, found.stats.files,
        "{:?}",
        found.stats
    );
    f.assert_exact(&f.log).await;
    let _ = std::fs::remove_dir_all(&f.dir);
}

/// After a scrub the person is found nowhere, and no index (the rewritten
/// files' included) claims them: a second search reads no file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrubbed_person_is_claimed_by_no_index() {
    let f = fixture().await;
    let holding = files_with(&f.dir, &f.mentions);
    let scrubbed = f.log.scrub_person_counted(PERSON, &terms()).await.unwrap();
    assert_eq!(scrubbed.lines_changed, f.mentions.len());
    assert_eq!(
        scrubbed.stats.files_read,
        holding.len(),
        "{:?}",
        scrubbed.stats
    );

    let found = f.log.find_person(Some(PERSON), &terms()).await.unwrap();
    assert!(found.lines.is_empty(), "{:?}", found.lines);
    assert_eq!(found.stats.files_read, 0, "{:?}", found.stats);
    assert_eq!(found.stats.tails_read, 0, "{:?}", found.stats);
    assert!(f.log.lines_for_user(PERSON).await.unwrap().is_empty());
    let again = f.log.scrub_person_counted(PERSON, &terms()).await.unwrap();
    assert_eq!(again.lines_changed, 0);
    assert_eq!(again.stats.files_read, 0, "{:?}", again.stats);
    // What the indexes say is what the files hold: without them, the same.
    for ix in indexes(&f.dir) {
        std::fs::remove_file(ix).unwrap();
    }
    let other = small_log(&f.dir);
    assert!(other
        .mentions_person(Some(PERSON), &terms())
        .await
        .unwrap()
        .is_empty());
    // The writer goes on after the rewrite of its file, and its index
    // with it.
    f.log.record(entry("later", Some(77), "/later", None, None));
    f.log.flush().await;
    let found = f.log.find_person(Some(77), &[]).await.unwrap();
    assert_eq!(request_ids(&found.lines), set(&["later"]));
    assert_eq!(found.stats.files_read, 1, "{:?}", found.stats);
    assert_eq!(found.stats.indexes_rebuilt, 0, "{:?}", found.stats);
    let _ = std::fs::remove_dir_all(&f.dir);
}

/// Retention deletes a file's index with it, and indexes left without a
/// file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_indexes_with_their_files() {
    let dir = scratch_dir();
    let log = RequestLog::new(RequestLogConfig {
        max_file_bytes: 4096,
        max_total_bytes: 16 * 1024,
        ..RequestLogConfig::new(dir.clone())
    });
    for i in 0..400 {
        log.record(filler(i));
        if i % 50 == 49 {
            log.flush().await;
        }
    }
    log.flush().await;
    let rotated: Vec<PathBuf> = log_files(&dir)
        .into_iter()
        .filter(|p| !p.ends_with(ACTIVE_FILE))
        .collect();
    assert!(rotated.len() >= 3, "{rotated:?}");
    let expected: Vec<PathBuf> = rotated.iter().map(|p| index_of(p)).collect();
    assert_eq!(
        indexes(&dir),
        expected,
        "each rotated file has its index, no more"
    );

    // An index whose file was deleted by hand goes at the next run; one
    // whose file expires goes with it.
    let orphan = dir.join(format!(
        "requests-20200101T000000.000000Z.jsonl{INDEX_SUFFIX}"
    ));
    std::fs::write(&orphan, b"left behind").unwrap();
    let old = &rotated[rotated.len() - 1];
    std::fs::File::options()
        .write(true)
        .open(old)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(40 * 86_400))
        .unwrap();
    let report = log.enforce_retention().await.unwrap();
    assert_eq!(report.files_removed, 1, "{report:?}");
    assert!(!old.exists() && !index_of(old).exists());
    assert!(!orphan.exists());
    for ix in indexes(&dir) {
        let log_file = PathBuf::from(ix.to_str().unwrap().strip_suffix(INDEX_SUFFIX).unwrap());
        assert!(log_file.exists(), "{ix:?} outlived its file");
    }
    drop(log);
    let _ = std::fs::remove_dir_all(&dir);
}
