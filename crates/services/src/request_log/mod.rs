//! The request log: one JSON line per HTTP request (time, request id, user
//! id or its pseudonym, method, path, query and body parameters, status,
//! duration), with secrets filtered out before anything is written.
//!
//! The request path only hands a raw [`Entry`] to a bounded queue and
//! never waits for the disk: when the queue is full the line is dropped and
//! counted. A writer thread parses and filters the parameters, computes
//! pseudonyms, appends lines in batches, rotates the active file by size
//! and at the change of day, and applies retention: a maximum total size
//! (oldest files dropped first) and a maximum age. The same rules run from
//! [`RequestLog::enforce_retention`] for the recurring job, so that files
//! expire on an idle server and after logging was switched off.
//!
//! For the data subject's rights: [`RequestLog::lines_for_user`] (export),
//! [`RequestLog::unlink_user`] (erasure) and [`RequestLog::mentions_user`]
//! (the residue scan), plus [`RequestLog::redact_terms`] and
//! [`RequestLog::mentions_terms`] for names and e-mail addresses typed into
//! parameters. See docs/adr/0009-request-log-and-audit.md.

mod files;
mod filter;
mod index;
mod pseudonym;

use std::borrow::Cow;
use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_domain::user::UserId;
use steward_domain::Timestamp;

pub use files::{SearchStats, ACTIVE as ACTIVE_FILE};
pub use filter::{SecretFilter, FILTERED};
pub use index::SUFFIX as INDEX_SUFFIX;
pub use pseudonym::{hmac_sha256, KEY_FILE};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// How often the writer re-reads the pseudonym key file (another process
/// may have rotated it) and applies the age limit when idle.
const MAINTENANCE_EVERY: Duration = Duration::from_secs(60);

/// Request bodies waiting in the queue may hold at most this much memory;
/// beyond it lines are dropped like on a full queue.
const MAX_QUEUED_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Lines written per batch at most (one lock, one `write`).
const BATCH: usize = 4096;

/// After the first line of a batch the writer waits this long for more
/// before writing. Waking the writer for every line would cost every request
/// a thread switch and a few system calls; while the writer waits, queueing
/// a line costs no wake-up at all, and a busy server writes a few hundred
/// lines per batch. A line reaches the disk at most this much later.
const COALESCE: Duration = Duration::from_millis(20);

/// The recurring job that applies the retention rules (registered in
/// [`crate::jobs::Registry::builtin`]).
pub const RETENTION_JOB: &str = "request_log.retention";
/// Hourly: the age limit is in days, and the writer applies both limits at
/// every rotation anyway; the job covers idle servers and switched-off logs.
pub const RETENTION_SCHEDULE: &str = "hourly :15";

/// The handler of [`RETENTION_JOB`].
pub async fn retention_job(services: crate::Services, _payload: Value) -> Result<(), String> {
    let report = services
        .request_log()
        .enforce_retention()
        .await
        .map_err(|e| format!("request log retention: {e}"))?;
    if report != RetentionReport::default() {
        tracing::info!(
            files = report.files_removed,
            bytes = report.bytes_removed,
            key_rotated = report.key_rotated,
            "request log retention"
        );
    }
    Ok(())
}

/// What replaces an erased person's id in paths and links.
pub const ERASED: &str = "erased";

/// What replaces redacted terms. Without letters, so that no name can be
/// found inside it and a residue scan after redaction comes back clean.
pub const REDACTED: &str = "[***]";

/// The request log's settings, from the `[request_log]` section.
#[derive(Clone, Debug)]
pub struct RequestLogConfig {
    /// Write lines. When off, existing files are still expired, exported
    /// and unlinked.
    pub enabled: bool,
    pub dir: PathBuf,
    /// The active file is rotated before it would grow beyond this.
    pub max_file_bytes: u64,
    /// All files together; the oldest go first.
    pub max_total_bytes: u64,
    /// Files last written longer ago are deleted.
    pub max_age_days: u32,
    /// Parameter names filtered on top of the built-in list.
    pub filter_parameters: Vec<String>,
    /// Store a keyed pseudonym instead of the user id.
    pub pseudonymize: bool,
    pub pseudonym_key_rotation_days: u32,
    /// Lines that may wait for the writer; more are dropped and counted.
    pub queue_capacity: usize,
}

impl RequestLogConfig {
    pub fn new(dir: PathBuf) -> Self {
        RequestLogConfig {
            enabled: true,
            dir,
            max_file_bytes: 10 * 1024 * 1024,
            max_total_bytes: 100 * 1024 * 1024,
            max_age_days: 30,
            filter_parameters: Vec::new(),
            pseudonymize: true,
            pseudonym_key_rotation_days: 7,
            queue_capacity: 8192,
        }
    }

    fn max_age(&self) -> Duration {
        Duration::from_secs(u64::from(self.max_age_days) * 86_400)
    }
}

/// How a buffered request body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Form,
}

/// One request, as the HTTP layer saw it. Nothing here is parsed or
/// filtered yet: that is the writer's work, off the request path.
#[derive(Debug)]
pub struct Entry {
    pub time: Timestamp,
    pub request_id: String,
    pub user_id: Option<UserId>,
    pub method: Cow<'static, str>,
    pub path: String,
    pub query: Option<String>,
    pub body: Option<(BodyKind, bytes::Bytes)>,
    pub status: u16,
    pub duration_micros: u64,
}

/// One line as written. The field order is the order in the file.
#[derive(Serialize, Deserialize, Debug, Default)]
struct Line {
    #[serde(default)]
    time: String,
    #[serde(default)]
    request_id: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    user_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    user_pseudonym: Option<String>,
    #[serde(default)]
    method: String,
    #[serde(default)]
    path: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    query: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    params: Option<Value>,
    #[serde(default)]
    status: u16,
    #[serde(default)]
    duration_ms: f64,
    /// Anything a later version adds is carried through rewrites.
    #[serde(flatten)]
    extra: serde_json::Map<String, Value>,
}

/// What a retention run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    pub files_removed: usize,
    pub bytes_removed: u64,
    /// The pseudonym key was due and has been destroyed (and replaced when
    /// pseudonyms are on).
    pub key_rotated: bool,
}

/// The request log. Cheap to clone; [`RequestLog::disabled`] has no
/// directory and does nothing.
#[derive(Clone, Default)]
pub struct RequestLog {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    shared: Arc<Shared>,
    /// Started with the first line, so that commands that never log (the
    /// CLI) never start a thread. Dropping it ends the writer.
    sender: OnceLock<SyncSender<Msg>>,
}

struct Shared {
    config: RequestLogConfig,
    filter: SecretFilter,
    dropped: AtomicU64,
    queued_body_bytes: AtomicUsize,
    /// People unlinked by this process: a line of theirs still in the
    /// queue (the erasure request's own, say) is written without them.
    erased: Mutex<HashSet<UserId>>,
    any_erased: AtomicBool,
    /// The index of the active file while this process's writer appends
    /// to it; searches in this process use it instead of reading the
    /// file, and hand back the one they made.
    active_index: Mutex<Option<index::FileIndex>>,
}

impl Shared {
    fn indexes(&self) -> files::Indexes<'_> {
        files::Indexes {
            active: &self.active_index,
            max_file_bytes: self.config.max_file_bytes,
        }
    }
}

/// Where the log names a person, and what finding it read.
#[derive(Clone, Debug, Default)]
pub struct Mentions {
    /// (file, line number from 1).
    pub lines: Vec<(PathBuf, usize)>,
    pub stats: SearchStats,
}

/// What a scrub changed, and what it read.
#[derive(Clone, Debug, Default)]
pub struct Scrubbed {
    pub lines_changed: usize,
    pub stats: SearchStats,
}

enum Msg {
    Line(Box<Entry>),
    Flush(tokio::sync::oneshot::Sender<()>),
}

impl RequestLog {
    /// A log that writes nothing and has no files.
    pub fn disabled() -> Self {
        RequestLog { inner: None }
    }

    pub fn new(config: RequestLogConfig) -> Self {
        let filter = SecretFilter::new(&config.filter_parameters);
        RequestLog {
            inner: Some(Arc::new(Inner {
                shared: Arc::new(Shared {
                    config,
                    filter,
                    dropped: AtomicU64::new(0),
                    queued_body_bytes: AtomicUsize::new(0),
                    erased: Mutex::new(HashSet::new()),
                    any_erased: AtomicBool::new(false),
                    active_index: Mutex::new(None),
                }),
                sender: OnceLock::new(),
            })),
        }
    }

    /// Whether lines are written (the HTTP layer buffers bodies only then).
    pub fn is_enabled(&self) -> bool {
        self.inner.as_ref().is_some_and(|i| i.shared.config.enabled)
    }

    pub fn config(&self) -> Option<&RequestLogConfig> {
        self.inner.as_ref().map(|i| &i.shared.config)
    }

    pub fn dir(&self) -> Option<&Path> {
        self.config().map(|c| c.dir.as_path())
    }

    /// Lines dropped because the writer could not keep up.
    pub fn dropped(&self) -> u64 {
        self.inner
            .as_ref()
            .map_or(0, |i| i.shared.dropped.load(Ordering::Relaxed))
    }

    /// Queues a line. Never blocks: on a full queue the line is dropped
    /// and counted.
    pub fn record(&self, entry: Entry) {
        let Some(inner) = self.inner.as_ref().filter(|i| i.shared.config.enabled) else {
            return;
        };
        let shared = &inner.shared;
        let body_len = entry.body.as_ref().map_or(0, |(_, b)| b.len());
        if body_len > 0
            && shared
                .queued_body_bytes
                .fetch_add(body_len, Ordering::Relaxed)
                + body_len
                > MAX_QUEUED_BODY_BYTES
        {
            shared
                .queued_body_bytes
                .fetch_sub(body_len, Ordering::Relaxed);
            shared.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        match inner.sender().try_send(Msg::Line(Box::new(entry))) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                shared
                    .queued_body_bytes
                    .fetch_sub(body_len, Ordering::Relaxed);
                shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Waits until every line queued before the call is on disk.
    pub async fn flush(&self) {
        let Some(inner) = &self.inner else { return };
        let Some(sender) = inner.sender.get().cloned() else {
            return;
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        // A full queue makes `send` wait: not on an async worker.
        let sent = tokio::task::spawn_blocking(move || sender.send(Msg::Flush(tx)).is_ok()).await;
        if sent.unwrap_or(false) {
            let _ = rx.await;
        }
    }

    /// Every line of the person's own requests still in the log, oldest
    /// first (for their export). With pseudonyms, lines under the current
    /// key are found; older keys are gone, and with them the link.
    pub async fn lines_for_user(&self, user: UserId) -> io::Result<Vec<Value>> {
        self.flush().await;
        self.blocking(move |shared| {
            let Some(lock) = open_lock(&shared.config.dir)? else {
                return Ok(Vec::new());
            };
            let _guard = lock.lock()?;
            let m = Matcher::for_user(&shared.config.dir, user)?;
            let mut out = Vec::new();
            let query = m.query(true, &Terms::new(&[]));
            let indexes = shared.indexes();
            files::scan(
                &shared.config.dir,
                &query,
                &m.prefilter(true),
                &indexes,
                |_, _, text| {
                    if !m.may_be_own(text) {
                        return;
                    }
                    if let Ok(v) = serde_json::from_str::<Value>(text) {
                        if m.is_own(&v) {
                            out.push(v);
                        }
                    }
                },
            )?;
            Ok(out)
        })
        .await
    }

    /// Removes the person from the log: their id (and current pseudonym)
    /// from the lines of their requests, and their id from paths and links
    /// of others' requests (`/api/v3/users/42` becomes
    /// `/api/v3/users/erased`). Each file is rewritten and replaced
    /// atomically. Returns the number of lines changed.
    pub async fn unlink_user(&self, user: UserId) -> io::Result<usize> {
        Ok(self.scrub(Some(user), Terms::new(&[])).await?.lines_changed)
    }

    /// Where the log still names the person (their id, current pseudonym,
    /// or id in a path or link): (file, line number from 1). Empty after
    /// [`RequestLog::unlink_user`].
    pub async fn mentions_user(&self, user: UserId) -> io::Result<Vec<(PathBuf, usize)>> {
        self.mentions_person(Some(user), &[]).await
    }

    /// Replaces parameter values that contain one of `terms` (a person's
    /// login, e-mail address, names; compared without case) with
    /// [`REDACTED`], and the terms in paths. Terms shorter than three characters
    /// are ignored: they would match nearly everything. Returns the number
    /// of lines changed.
    pub async fn redact_terms(&self, terms: &[String]) -> io::Result<usize> {
        let terms = Terms::new(terms);
        if terms.is_empty() {
            return Ok(0);
        }
        Ok(self.scrub(None, terms).await?.lines_changed)
    }

    /// [`RequestLog::unlink_user`] and [`RequestLog::redact_terms`] in one
    /// pass over the files: what erasure does to the log.
    pub async fn scrub_person(&self, user: UserId, terms: &[String]) -> io::Result<usize> {
        Ok(self.scrub_person_counted(user, terms).await?.lines_changed)
    }

    /// [`RequestLog::scrub_person`], telling also which files it read:
    /// only those whose index may name the person are.
    pub async fn scrub_person_counted(
        &self,
        user: UserId,
        terms: &[String],
    ) -> io::Result<Scrubbed> {
        self.scrub(Some(user), Terms::new(terms)).await
    }

    /// Unlinks `user` (when given) and redacts `terms` in one pass.
    async fn scrub(&self, user: Option<UserId>, terms: Terms) -> io::Result<Scrubbed> {
        if let (Some(inner), Some(user)) = (&self.inner, user) {
            if let Ok(mut set) = inner.shared.erased.lock() {
                set.insert(user);
            }
            inner.shared.any_erased.store(true, Ordering::Relaxed);
        }
        self.flush().await;
        self.blocking(move |shared| {
            let Some(lock) = open_lock(&shared.config.dir)? else {
                return Ok(Scrubbed::default());
            };
            let _guard = lock.lock()?;
            let (m, filter, query) = person_matcher(&shared.config.dir, user, &terms)?;
            let indexes = shared.indexes();
            let (lines_changed, stats) =
                files::rewrite(&shared.config.dir, &query, &filter, &indexes, |text| {
                    let mentions = m.as_ref().is_some_and(|m| m.may_mention(text));
                    let named = !terms.is_empty() && terms.in_raw(text);
                    if !mentions && !named {
                        return None;
                    }
                    let mut line: Line = serde_json::from_str(text).ok()?;
                    let unlinked = mentions && m.as_ref().is_some_and(|m| m.unlink(&mut line));
                    let redacted = named && terms.redact(&mut line);
                    (unlinked || redacted).then(|| to_json(&line))
                })?;
            Ok(Scrubbed {
                lines_changed,
                stats,
            })
        })
        .await
    }

    /// [`RequestLog::mentions_user`] and [`RequestLog::mentions_terms`] in
    /// one pass: the lines that still name the person, for the residue scan.
    pub async fn mentions_person(
        &self,
        user: Option<UserId>,
        terms: &[String],
    ) -> io::Result<Vec<(PathBuf, usize)>> {
        Ok(self.find_person(user, terms).await?.lines)
    }

    /// [`RequestLog::mentions_person`], telling also which files it read:
    /// only those whose index may name the person, and the lines written
    /// after a file's index was made.
    pub async fn find_person(
        &self,
        user: Option<UserId>,
        terms: &[String],
    ) -> io::Result<Mentions> {
        let terms = Terms::new(terms);
        if user.is_none() && terms.is_empty() {
            return Ok(Mentions::default());
        }
        self.flush().await;
        self.blocking(move |shared| {
            let Some(lock) = open_lock(&shared.config.dir)? else {
                return Ok(Mentions::default());
            };
            let _guard = lock.lock()?;
            let (m, filter, query) = person_matcher(&shared.config.dir, user, &terms)?;
            let mut out = Vec::new();
            let indexes = shared.indexes();
            let stats = files::scan(
                &shared.config.dir,
                &query,
                &filter,
                &indexes,
                |path, n, text| {
                    let mentions = m.as_ref().is_some_and(|m| m.may_mention(text));
                    let named = !terms.is_empty() && terms.in_raw(text);
                    if !mentions && !named {
                        return;
                    }
                    if let Ok(mut line) = serde_json::from_str::<Line>(text) {
                        let unlinked = mentions && m.as_ref().is_some_and(|m| m.unlink(&mut line));
                        if unlinked || (named && terms.redact(&mut line)) {
                            out.push((path.to_path_buf(), n));
                        }
                    }
                },
            )?;
            Ok(Mentions { lines: out, stats })
        })
        .await
    }

    /// Where one of `terms` still appears in a path or parameter.
    pub async fn mentions_terms(&self, terms: &[String]) -> io::Result<Vec<(PathBuf, usize)>> {
        self.mentions_person(None, terms).await
    }

    /// Applies the age and size limits to the files and rotates the
    /// pseudonym key when it is due. Run by the recurring job; the writer
    /// does the same at each rotation and once a minute.
    pub async fn enforce_retention(&self) -> io::Result<RetentionReport> {
        self.blocking(|shared| {
            let Some(lock) = open_lock(&shared.config.dir)? else {
                return Ok(RetentionReport::default());
            };
            let _guard = lock.lock()?;
            enforce(shared)
        })
        .await
    }

    /// Runs file work on a blocking thread; a log without a directory
    /// yields the default.
    async fn blocking<T: Default + Send + 'static>(
        &self,
        work: impl FnOnce(&Shared) -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        let Some(inner) = &self.inner else {
            return Ok(T::default());
        };
        let shared = inner.shared.clone();
        tokio::task::spawn_blocking(move || work(&shared))
            .await
            .map_err(|e| io::Error::other(format!("request log task failed: {e}")))?
    }
}

impl crate::Services {
    /// These services with a request log (the server and the CLI build
    /// one from the configuration; [`crate::Services::new`] has none).
    pub fn with_request_log(mut self, log: RequestLog) -> Self {
        self.request_log = log;
        self
    }

    pub fn request_log(&self) -> &RequestLog {
        &self.request_log
    }
}

impl Inner {
    fn sender(&self) -> &SyncSender<Msg> {
        self.sender.get_or_init(|| {
            let (tx, rx) = mpsc::sync_channel(self.shared.config.queue_capacity.max(16));
            let shared = self.shared.clone();
            let spawned = std::thread::Builder::new()
                .name("request-log".into())
                .spawn(move || Writer::new(shared).run(rx));
            if let Err(e) = spawned {
                // Without a thread the receiver is gone: every line is
                // dropped and counted, the server keeps serving.
                tracing::error!(error = %e, "cannot start the request log writer");
            }
            tx
        })
    }
}

fn open_lock(dir: &Path) -> io::Result<Option<files::LockFile>> {
    match files::LockFile::open(dir, false) {
        Ok(l) => Ok(Some(l)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn enforce(shared: &Shared) -> io::Result<RetentionReport> {
    let c = &shared.config;
    let removed = files::enforce(&c.dir, c.max_total_bytes, c.max_age(), SystemTime::now())?;
    let (_, key_rotated) = pseudonym::current(
        &c.dir,
        c.pseudonymize,
        c.pseudonym_key_rotation_days,
        Timestamp::now(),
    )?;
    Ok(RetentionReport {
        files_removed: removed.files,
        bytes_removed: removed.bytes,
        key_rotated,
    })
}

fn to_json(line: &Line) -> String {
    // A struct of strings, numbers and JSON values always serialises.
    serde_json::to_string(line).unwrap_or_default()
}

/// Whether a path or link names principal `id`: `.../users/42` or
/// `.../principals/42` as whole segments.
fn names_user(path: &str, id: &str) -> bool {
    let mut prev = "";
    for seg in path.split(['/', '?']) {
        if seg == id && (prev == "users" || prev == "principals") {
            return true;
        }
        prev = seg;
    }
    false
}

fn scrub_path(path: &str, id: &str) -> Option<String> {
    if !names_user(path, id) {
        return None;
    }
    let mut prev = "";
    let mut out = Vec::new();
    for seg in path.split('/') {
        if seg == id && (prev == "users" || prev == "principals") {
            out.push(ERASED);
        } else {
            out.push(seg);
        }
        prev = seg;
    }
    Some(out.join("/"))
}

/// Replaces links naming the person anywhere in a parameter value.
fn scrub_value(v: &mut Value, id: &str) -> bool {
    match v {
        Value::String(s) => match scrub_path(s, id) {
            Some(new) => {
                *s = new;
                true
            }
            None => false,
        },
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |acc, v| scrub_value(v, id) | acc),
        Value::Object(map) => map
            .values_mut()
            .fold(false, |acc, v| scrub_value(v, id) | acc),
        _ => false,
    }
}

/// The matcher of `user` (when given), the prefilter of the lines that
/// may name them or one of `terms`, and what the files' indexes are asked.
fn person_matcher(
    dir: &Path,
    user: Option<UserId>,
    terms: &Terms,
) -> io::Result<(Option<Matcher>, files::Prefilter, index::Query)> {
    let m = user.map(|u| Matcher::for_user(dir, u)).transpose()?;
    let (filter, query) = match &m {
        Some(m) => (person_prefilter(m, terms), m.query(false, terms)),
        None => (
            terms.prefilter(),
            index::Query {
                terms: terms.0.clone(),
                ..index::Query::default()
            },
        ),
    };
    Ok((m, filter, query))
}

/// Lines that may name the person: by id (or pseudonym) or by a term.
fn person_prefilter(m: &Matcher, terms: &Terms) -> files::Prefilter {
    let by_terms = terms.prefilter();
    if !terms.is_empty() && by_terms.is_empty() {
        // Terms outside ASCII: every line must be looked at.
        return by_terms;
    }
    by_terms.union(m.prefilter(false))
}

/// Finds one person in lines: cheap substring tests on the raw text first,
/// so that a large log is parsed only where it may matter.
struct Matcher {
    user: UserId,
    id: String,
    pseudonym: Option<String>,
    raw_id: String,
    raw_links: [String; 2],
}

impl Matcher {
    fn for_user(dir: &Path, user: UserId) -> io::Result<Matcher> {
        let pseudonym = pseudonym::load(dir)?.map(|k| k.pseudonym(user));
        Ok(Matcher {
            user,
            id: user.to_string(),
            pseudonym,
            raw_id: format!("\"user_id\":{user}"),
            raw_links: [format!("users/{user}"), format!("principals/{user}")],
        })
    }

    /// The needles of [`Matcher::may_be_own`] (`own_only`) or
    /// [`Matcher::may_mention`], for the file-level prefilter.
    fn prefilter(&self, own_only: bool) -> files::Prefilter {
        let mut needles: Vec<&str> = vec![&self.raw_id];
        needles.extend(self.pseudonym.as_deref());
        if !own_only {
            needles.extend(self.raw_links.iter().map(String::as_str));
        }
        files::Prefilter::default().exact(needles)
    }

    /// What the files' indexes are asked: the lines of the person's own
    /// requests (`own_only`), or also links to them and `terms`.
    fn query(&self, own_only: bool, terms: &Terms) -> index::Query {
        index::Query {
            own_ids: vec![self.user],
            linked_ids: if own_only {
                Vec::new()
            } else {
                vec![self.user]
            },
            pseudonyms: self.pseudonym.iter().cloned().collect(),
            terms: if own_only {
                Vec::new()
            } else {
                terms.0.clone()
            },
        }
    }

    fn may_be_own(&self, text: &str) -> bool {
        text.contains(&self.raw_id) || self.pseudonym.as_ref().is_some_and(|p| text.contains(p))
    }

    fn may_mention(&self, text: &str) -> bool {
        self.may_be_own(text) || self.raw_links.iter().any(|l| text.contains(l.as_str()))
    }

    fn is_own(&self, v: &Value) -> bool {
        v.get("user_id").and_then(Value::as_i64) == Some(self.user)
            || self
                .pseudonym
                .as_deref()
                .is_some_and(|p| v.get("user_pseudonym").and_then(Value::as_str) == Some(p))
    }

    /// Takes the person out of a line; whether anything changed.
    fn unlink(&self, line: &mut Line) -> bool {
        let mut changed = false;
        if line.user_id == Some(self.user) {
            line.user_id = None;
            changed = true;
        }
        if line.user_pseudonym.is_some() && line.user_pseudonym == self.pseudonym {
            line.user_pseudonym = None;
            changed = true;
        }
        if let Some(p) = scrub_path(&line.path, &self.id) {
            line.path = p;
            changed = true;
        }
        for v in [&mut line.query, &mut line.params].into_iter().flatten() {
            changed |= scrub_value(v, &self.id);
        }
        changed
    }
}

/// Terms to redact, lower-cased.
struct Terms(Vec<String>);

impl Terms {
    fn new(terms: &[String]) -> Terms {
        Terms(
            terms
                .iter()
                .map(|t| t.trim().to_lowercase())
                .filter(|t| t.chars().count() >= 3)
                .collect(),
        )
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Lines worth parsing: those with a term, compared without ASCII
    /// case. A term outside ASCII has case forms ASCII folding cannot
    /// match, so then every line is parsed.
    fn prefilter(&self) -> files::Prefilter {
        if self.0.iter().all(|t| t.is_ascii()) {
            files::Prefilter::default().folded(&self.0)
        } else {
            files::Prefilter::default()
        }
    }

    fn in_text(&self, text: &str) -> bool {
        let lower = text.to_lowercase();
        self.0.iter().any(|t| lower.contains(t.as_str()))
    }

    fn in_raw(&self, text: &str) -> bool {
        // JSON escapes only quotes, backslashes and control characters, so
        // a term without those appears in the raw line as typed.
        self.in_text(text)
    }

    fn redact_value(&self, v: &mut Value) -> bool {
        match v {
            Value::String(s) if self.in_text(s) => {
                *s = REDACTED.into();
                true
            }
            Value::Array(items) => items
                .iter_mut()
                .fold(false, |acc, v| self.redact_value(v) | acc),
            Value::Object(map) => map
                .values_mut()
                .fold(false, |acc, v| self.redact_value(v) | acc),
            _ => false,
        }
    }

    fn redact(&self, line: &mut Line) -> bool {
        let mut changed = false;
        if self.in_text(&line.path) {
            let mut path = line.path.clone();
            for t in &self.0 {
                path = replace_ignoring_case(&path, t, REDACTED);
            }
            line.path = path;
            changed = true;
        }
        for v in [&mut line.query, &mut line.params].into_iter().flatten() {
            changed |= self.redact_value(v);
        }
        changed
    }
}

/// Replaces every occurrence of `lower` (already lower case) in `text`,
/// compared without case.
fn replace_ignoring_case(text: &str, lower: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for (i, _) in rest.char_indices() {
            let tail = &rest[i..];
            let mut matched = 0;
            let mut t = lower.chars();
            let mut want = t.next();
            for (j, c) in tail.char_indices() {
                let Some(w) = want else { break };
                let mut lc = c.to_lowercase();
                if lc.next() != Some(w) || lc.next().is_some() {
                    break;
                }
                matched = j + c.len_utf8();
                want = t.next();
            }
            if want.is_none() && matched > 0 {
                out.push_str(&rest[..i]);
                out.push_str(with);
                rest = &tail[matched..];
                continue 'outer;
            }
        }
        out.push_str(rest);
        break;
    }
    out
}

// ---------------------------------------------------------------- the writer

struct Active {
    file: File,
    identity: (u64, u64),
    size: u64,
    /// The UTC day (days since the epoch) the file's lines belong to.
    day: i64,
}

struct Writer {
    shared: Arc<Shared>,
    lock: Option<files::LockFile>,
    active: Option<Active>,
    /// The active file's index while a batch is written; between batches
    /// it is in [`Shared::active_index`].
    index: Option<index::FileIndex>,
    key: Option<pseudonym::Key>,
    /// The key file as it was when the key was read: another process that
    /// rotates it replaces the file, and the next batch notices.
    key_file: Option<(u64, u64, SystemTime)>,
    last_maintenance: Instant,
    reported_drops: u64,
    last_error: Option<Instant>,
}

impl Writer {
    fn new(shared: Arc<Shared>) -> Writer {
        Writer {
            shared,
            lock: None,
            active: None,
            index: None,
            key: None,
            key_file: None,
            last_maintenance: Instant::now(),
            reported_drops: 0,
            last_error: None,
        }
    }

    fn run(mut self, rx: Receiver<Msg>) {
        let mut batch: Vec<Box<Entry>> = Vec::with_capacity(BATCH);
        let mut acks = Vec::new();
        loop {
            let first = match rx.recv_timeout(MAINTENANCE_EVERY) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    self.maintain();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            if matches!(first, Msg::Line(_)) {
                std::thread::sleep(COALESCE);
            }
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                match msg {
                    Msg::Line(e) => batch.push(e),
                    Msg::Flush(ack) => acks.push(ack),
                }
                if batch.len() < BATCH {
                    next = rx.try_recv().ok();
                }
            }
            if !batch.is_empty() {
                let body_bytes: usize = batch
                    .iter()
                    .map(|e| e.body.as_ref().map_or(0, |(_, b)| b.len()))
                    .sum();
                if let Err(e) = self.write(&batch) {
                    self.shared
                        .dropped
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                    self.report_error(&e);
                    // Reopen everything on the next batch. The index may
                    // claim lines that did not reach the disk: dropped.
                    self.active = None;
                    self.lock = None;
                    self.index = None;
                }
                self.shared
                    .queued_body_bytes
                    .fetch_sub(body_bytes, Ordering::Relaxed);
                batch.clear();
            }
            for ack in acks.drain(..) {
                let _ = ack.send(());
            }
            if self.last_maintenance.elapsed() >= MAINTENANCE_EVERY {
                self.maintain();
            }
        }
    }

    fn report_error(&mut self, e: &io::Error) {
        // One message a minute at most: a full disk must not flood stderr.
        if self
            .last_error
            .is_none_or(|t| t.elapsed() >= MAINTENANCE_EVERY)
        {
            tracing::error!(error = %e, dir = %self.shared.config.dir.display(), "cannot write the request log; lines are dropped");
            self.last_error = Some(Instant::now());
        }
    }

    fn maintain(&mut self) {
        self.last_maintenance = Instant::now();
        let dropped = self.shared.dropped.load(Ordering::Relaxed);
        if dropped > self.reported_drops {
            tracing::warn!(
                dropped = dropped - self.reported_drops,
                "request log lines dropped: the writer could not keep up or could not write"
            );
            self.reported_drops = dropped;
        }
        let result = if self.shared.config.dir.exists() {
            self.with_lock(|w| enforce(&w.shared).map(drop))
        } else {
            Ok(())
        };
        if let Err(e) = result {
            self.report_error(&e);
        }
    }

    /// Runs `work` holding the directory lock (the lock file stays open
    /// between batches).
    fn with_lock<T>(&mut self, work: impl FnOnce(&mut Self) -> io::Result<T>) -> io::Result<T> {
        let lock = match self.lock.take() {
            Some(l) => l,
            None => files::LockFile::open(&self.shared.config.dir, true)?,
        };
        let result = match lock.lock() {
            Ok(_guard) => work(self),
            Err(e) => Err(e),
        };
        self.lock = Some(lock);
        result
    }

    fn write(&mut self, batch: &[Box<Entry>]) -> io::Result<()> {
        self.with_lock(|w| w.write_locked(batch))
    }

    fn write_locked(&mut self, batch: &[Box<Entry>]) -> io::Result<()> {
        // The active file's index: a search may have made a new one since
        // the last batch. It goes back only when the whole batch is on
        // disk, so that it never claims lines that are not there.
        self.index = self
            .shared
            .active_index
            .lock()
            .ok()
            .and_then(|mut a| a.take());
        let shared = self.shared.clone();
        let config = &shared.config;
        let dir = &config.dir;
        self.refresh_key()?;
        let mut rotated = false;
        let mut buf: Vec<u8> = Vec::with_capacity(batch.len() * 256);
        self.ensure_active(dir)?;
        for entry in batch {
            let line = self.render(entry);
            let text = to_json(&line);
            let day = entry.time.0.div_euclid(MICROS_PER_DAY);
            let active = self.active.as_ref().expect("opened above");
            let pending = active.size + buf.len() as u64;
            if pending > 0
                && (pending + text.len() as u64 + 1 > config.max_file_bytes || active.day != day)
            {
                self.append(&mut buf)?;
                self.rotate(dir)?;
                rotated = true;
                self.ensure_active(dir)?;
            }
            let active = self.active.as_mut().expect("opened above");
            if active.size + buf.len() as u64 == 0 {
                active.day = day;
            }
            if let Some(ix) = &mut self.index {
                ix.add_written(
                    text.len() as u64 + 1,
                    line.user_id,
                    line.user_pseudonym.as_deref(),
                    &line.path,
                    [line.query.as_ref(), line.params.as_ref()],
                );
            }
            buf.extend_from_slice(text.as_bytes());
            buf.push(b'\n');
        }
        self.append(&mut buf)?;
        if let Ok(mut a) = self.shared.active_index.lock() {
            *a = self.index.take();
        }
        if rotated {
            files::enforce(
                dir,
                config.max_total_bytes,
                config.max_age(),
                SystemTime::now(),
            )?;
        }
        Ok(())
    }

    /// Rotates the active file; its index, when it speaks for the whole
    /// file, is stored beside the rotated file, so that no search has to
    /// read the file to know what it holds.
    fn rotate(&mut self, dir: &Path) -> io::Result<()> {
        let whole = match (&self.active, &self.index) {
            (Some(a), Some(ix)) => ix.covers(a.identity, a.size) == Some(true),
            _ => false,
        };
        self.active = None;
        let index = self.index.take();
        if let Some(target) = files::rotate(dir, Timestamp::now())? {
            if let Some(ix) = index.filter(|_| whole) {
                ix.store(&target)?;
            }
        }
        Ok(())
    }

    /// Writes the buffer to the active file in one call, so that lines of
    /// two processes sharing a directory never interleave mid-line.
    fn append(&mut self, buf: &mut Vec<u8>) -> io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let active = self.active.as_mut().expect("opened before appending");
        active.file.write_all(buf)?;
        active.size += buf.len() as u64;
        buf.clear();
        Ok(())
    }

    /// Opens the active file, or reopens it when another process replaced
    /// it (a rewrite for erasure) or deleted it (retention). Called with
    /// the lock held.
    fn ensure_active(&mut self, dir: &Path) -> io::Result<()> {
        let path = dir.join(files::ACTIVE);
        if let Some(active) = &self.active {
            match fs::metadata(&path) {
                Ok(meta) if files::identity(&meta) == active.identity => {
                    // Another process may have appended: then the index
                    // does not know those lines, and is dropped.
                    self.keep_index_if_whole(active.identity, meta.len());
                    self.active.as_mut().expect("checked").size = meta.len();
                    return Ok(());
                }
                _ => self.active = None,
            }
        }
        let file = files::private_file()
            .create(true)
            .append(true)
            .open(&path)?;
        let meta = file.metadata()?;
        let identity = files::identity(&meta);
        if meta.len() == 0 {
            // A new file: an index left beside the old one is not its.
            index::remove(&path)?;
            self.index = Some(index::FileIndex::new(
                identity,
                self.shared.config.max_file_bytes,
            ));
        } else {
            self.keep_index_if_whole(identity, meta.len());
            if self.index.is_none() {
                // Reopened after a restart or a rewrite: the index stored
                // beside the file, when it speaks for all of it. Otherwise
                // the file has none until a search makes one.
                self.index = index::load(&path)
                    .ok()
                    .flatten()
                    .filter(|ix| ix.covers(identity, meta.len()) == Some(true));
            }
        }
        let day = meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64 / 86_400);
        self.active = Some(Active {
            identity,
            size: meta.len(),
            day,
            file,
        });
        Ok(())
    }

    fn keep_index_if_whole(&mut self, identity: (u64, u64), len: u64) {
        if self
            .index
            .as_ref()
            .is_some_and(|ix| ix.covers(identity, len) != Some(true))
        {
            self.index = None;
        }
    }

    /// Keeps the pseudonym key current: read again when the key file
    /// changed (another process rotated it), rotated when due. Called with
    /// the lock held; one `stat` per batch.
    fn refresh_key(&mut self) -> io::Result<()> {
        let c = &self.shared.config;
        if !c.pseudonymize {
            return Ok(());
        }
        let now = Timestamp::now();
        let path = c.dir.join(KEY_FILE);
        let stamp = |p: &Path| {
            fs::metadata(p).ok().map(|m| {
                let (dev, ino) = files::identity(&m);
                (dev, ino, m.modified().unwrap_or(SystemTime::UNIX_EPOCH))
            })
        };
        let due = self
            .key
            .as_ref()
            .is_none_or(|k| k.is_due(c.pseudonym_key_rotation_days, now));
        if !due && self.key_file.is_some() && stamp(&path) == self.key_file {
            return Ok(());
        }
        let (key, _) = pseudonym::current(&c.dir, true, c.pseudonym_key_rotation_days, now)?;
        self.key = key;
        self.key_file = stamp(&path);
        Ok(())
    }

    fn render(&self, e: &Entry) -> Line {
        let shared = &self.shared;
        let mut user_id = e.user_id;
        let mut path = Cow::Borrowed(e.path.as_str());
        if shared.any_erased.load(Ordering::Relaxed) {
            if let Ok(erased) = shared.erased.lock() {
                if user_id.is_some_and(|u| erased.contains(&u)) {
                    user_id = None;
                }
                for id in erased.iter() {
                    if let Some(p) = scrub_path(&path, &id.to_string()) {
                        path = Cow::Owned(p);
                    }
                }
            }
        }
        let (user_id, user_pseudonym) = match (user_id, &self.key) {
            (Some(u), Some(key)) if shared.config.pseudonymize => (None, Some(key.pseudonym(u))),
            // Pseudonyms are on but there is no key (it could not be
            // written): better no user than the id.
            (Some(_), None) if shared.config.pseudonymize => (None, None),
            (u, _) => (u, None),
        };
        let query = e.query.as_deref().filter(|q| !q.is_empty()).map(|q| {
            shared
                .filter
                .filter_urlencoded(q.as_bytes())
                .unwrap_or_else(|| Value::String("[not valid URL encoding]".into()))
        });
        let params = e.body.as_ref().and_then(|(kind, bytes)| {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return None;
            }
            Some(match kind {
                BodyKind::Json => match serde_json::from_slice::<Value>(bytes) {
                    Ok(mut v) => {
                        shared.filter.filter_json(&mut v);
                        v
                    }
                    Err(_) => Value::String(format!("[not valid JSON, {} bytes]", bytes.len())),
                },
                BodyKind::Form => shared
                    .filter
                    .filter_urlencoded(bytes)
                    .unwrap_or_else(|| Value::String("[not valid URL encoding]".into())),
            })
        });
        Line {
            time: e.time.to_string(),
            request_id: e.request_id.clone(),
            user_id,
            user_pseudonym,
            method: e.method.to_string(),
            path: path.into_owned(),
            query,
            params,
            status: e.status,
            duration_ms: (e.duration_micros as f64) / 1000.0,
            extra: serde_json::Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_naming_users() {
        assert!(names_user("/api/v3/users/42", "42"));
        assert!(names_user("/api/v3/users/42/lock", "42"));
        assert!(names_user("/api/v3/principals/42", "42"));
        assert!(!names_user("/api/v3/users/420", "42"));
        assert!(!names_user("/api/v3/work_packages/42", "42"));
        assert_eq!(
            scrub_path("/api/v3/users/42/lock", "42").as_deref(),
            Some("/api/v3/users/erased/lock")
        );
    }

    #[test]
    fn replaces_without_case() {
        assert_eq!(
            replace_ignoring_case("/x/Ann.Lee@Example.org/y", "ann.lee@example.org", "erased"),
            "/x/erased/y"
        );
        assert_eq!(replace_ignoring_case("aaa", "aa", "b"), "ba");
        assert_eq!(replace_ignoring_case("nothing", "zz", "b"), "nothing");
    }
}
