//! The per-person export (GDPR Art. 15 and 20): the heavy user's archive
//! holds every row the personal-data registry says is theirs and no secret
//! hash; the API's rights, job, download, expiry and audit trail; the
//! `steward gdpr export` command; the documented JSON Schema.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hyper::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use steward_domain::registry::{self, Data, Kind, Table};
use steward_domain::user::SYSTEM_USER_ID;
use steward_storage::{Conn, FromRow, Param, Row};

use crate::harness::{Backend, Req, Resp, TestApp};
use crate::heavy_user::{build_heavy_user, HeavyUser, Scale};

// ---------------------------------------------------------------- helpers

/// Polls an export as `token`'s owner until it is ready; panics if it
/// fails or takes more than two minutes. Returns its representation.
pub async fn wait_until_ready(app: &TestApp, token: &str, id: i64) -> Value {
    let started = Instant::now();
    loop {
        let res = app
            .anon(Method::GET, &format!("/api/v3/exports/{id}"))
            .token(token)
            .send()
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        let e = res.json();
        match e["status"].as_str() {
            Some("ready") => return e,
            Some("queued" | "running") => {}
            _ => panic!("export {id} did not become ready: {e}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "export {id} still not ready after two minutes: {e}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The members of a `.tar.gz` archive, and the whole uncompressed tar.
fn unpack(archive: &[u8]) -> (BTreeMap<String, Vec<u8>>, Vec<u8>) {
    let mut tar_bytes = Vec::new();
    flate2::read::GzDecoder::new(archive)
        .read_to_end(&mut tar_bytes)
        .expect("a gzip stream");
    let mut members = BTreeMap::new();
    let mut a = tar::Archive::new(&tar_bytes[..]);
    for entry in a.entries().expect("a tar archive") {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut body = Vec::new();
        entry.read_to_end(&mut body).unwrap();
        members.insert(name, body);
    }
    (members, tar_bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The export document inside an archive, after checking its layout.
fn document_of(archive: &[u8]) -> Value {
    let (members, _) = unpack(archive);
    let names: Vec<&str> = members.keys().map(String::as_str).collect();
    assert_eq!(names, ["README.txt", "files/", "personal-data.json"]);
    let readme = String::from_utf8(members["README.txt"].clone()).unwrap();
    assert!(readme.contains("personal-data.json") && readme.contains("files/"));
    serde_json::from_slice(&members["personal-data.json"]).expect("personal-data.json is JSON")
}

fn user_refs(t: &Table) -> Vec<&'static str> {
    t.columns
        .iter()
        .filter(|c| matches!(&c.data, Data::Personal(p) if p.kind == Kind::UserRef))
        .map(|c| c.name)
        .collect()
}

/// `WHERE` for the rows of `t` that belong to a person, written here
/// independently of the export's own query builder.
fn condition(t: &Table) -> String {
    user_refs(t)
        .iter()
        .map(|c| {
            if t.name == "custom_values" && *c == "customized_id" {
                "(customized_type = 'Principal' AND customized_id = $1)".to_string()
            } else {
                format!("{c} = $1")
            }
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

async fn count_rows(conn: &mut Conn, t: &Table, id: i64, extra: &str) -> i64 {
    conn.query_one::<i64>(
        &format!(
            "SELECT count(*) FROM {} WHERE ({}){extra}",
            t.name,
            condition(t)
        ),
        vec![Param::Int(id)],
    )
    .await
    .unwrap_or_else(|e| panic!("counting {}: {e}", t.name))
}

struct Text(Option<String>);
impl FromRow for Text {
    fn from_row(r: &Row<'_>) -> Result<Self, steward_storage::StorageError> {
        Ok(Text(r.opt_string(0)?))
    }
}

/// Every secret hash the registry says is stored about the person.
async fn secret_hashes(conn: &mut Conn, id: i64) -> Vec<String> {
    let mut out = Vec::new();
    for t in registry::TABLES {
        if user_refs(t).is_empty() {
            continue;
        }
        for c in t.columns {
            if matches!(&c.data, Data::Personal(p) if p.kind == Kind::SecretHash) {
                let rows: Vec<Text> = conn
                    .query(
                        &format!("SELECT {} FROM {} WHERE {}", c.name, t.name, condition(t)),
                        vec![Param::Int(id)],
                    )
                    .await
                    .unwrap();
                out.extend(rows.into_iter().filter_map(|Text(v)| v));
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

async fn request_export(app: &TestApp, token: &str, subject: &str) -> Value {
    let res = app
        .anon(Method::POST, &format!("/api/v3/users/{subject}/exports"))
        .token(token)
        .send()
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    let e = res.json();
    assert_eq!(e["_type"], "PersonalDataExport");
    assert_eq!(e["status"], "queued", "{e}");
    assert!(e["_links"].get("download").is_none(), "{e}");
    e
}

async fn download(app: &TestApp, token: &str, id: i64) -> Resp {
    app.anon(Method::GET, &format!("/api/v3/exports/{id}/archive"))
        .token(token)
        .send()
        .await
}

/// Audit entries of one event about `target`: (actor, details).
async fn audit_entries(app: &TestApp, event: &str, target: i64) -> Vec<(Option<i64>, Value)> {
    struct A(Option<i64>, String);
    impl FromRow for A {
        fn from_row(r: &Row<'_>) -> Result<Self, steward_storage::StorageError> {
            Ok(A(r.opt_i64(0)?, r.string(1)?))
        }
    }
    let mut conn = app.services().db.conn().await.unwrap();
    let rows: Vec<A> = conn
        .query(
            "SELECT actor_id, details FROM audit_events WHERE event = $1 AND target_user_id = $2 \
             AND category = 'access' ORDER BY id",
            vec![Param::from(event), Param::Int(target)],
        )
        .await
        .unwrap();
    rows.into_iter()
        .map(|A(a, d)| (a, serde_json::from_str(&d).unwrap()))
        .collect()
}

// ---------------------------------------------------------------- the heavy user

/// The heavy user exports their own data through the API: for every
/// registry table with a user reference, the archive holds exactly the rows
/// an independent count finds, and no secret hash appears in it anywhere.
async fn heavy_user_export_holds_every_row(backend: Backend) {
    let app = TestApp::start(backend.clone()).await;
    let started = Instant::now();
    let h = build_heavy_user(&app, Scale::FULL).await;
    eprintln!(
        "{backend:?}: built the heavy user in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let e = request_export(&app, &h.tokens[0], "me").await;
    let id = e["id"].as_i64().unwrap();
    let ready = wait_until_ready(&app, &h.tokens[0], id).await;
    eprintln!(
        "{backend:?}: the export job was ready after {:.3} s",
        started.elapsed().as_secs_f64()
    );
    let res = download(&app, &h.tokens[0], id).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        hex(&Sha256::digest(&res.body)),
        ready["sha256"].as_str().unwrap()
    );
    assert_eq!(res.body.len() as i64, ready["sizeBytes"].as_i64().unwrap());
    let (members, tar_bytes) = unpack(&res.body);
    let doc: Value = serde_json::from_slice(&members["personal-data.json"]).unwrap();

    // Every row the registry says is theirs, table by table. The audit
    // trail has grown since the export read it (the export itself and its
    // download are audited): only entries before the export's own count.
    let mut conn = app.services().db.conn().await.unwrap();
    let exported_entry: i64 = conn
        .query_one(
            "SELECT min(id) FROM audit_events WHERE event = 'personal_data.exported' \
             AND target_user_id = $1",
            vec![Param::Int(h.id)],
        )
        .await
        .unwrap();
    let tables = doc["tables"].as_array().unwrap();
    let mut checked = 0;
    for t in registry::TABLES {
        let refs = user_refs(t);
        if refs.is_empty() {
            continue;
        }
        let out = tables
            .iter()
            .find(|x| x["name"] == t.name)
            .unwrap_or_else(|| panic!("table {} is missing from the export", t.name));
        let extra = if t.name == "audit_events" {
            format!(" AND id < {exported_entry}")
        } else {
            String::new()
        };
        let expected = count_rows(&mut conn, t, h.id, &extra).await;
        assert_eq!(
            out["row_count"].as_i64().unwrap(),
            expected,
            "rows of {} in the export",
            t.name
        );
        assert_eq!(out["rows"].as_array().unwrap().len() as i64, expected);
        assert_eq!(doc["summary"]["rows_per_table"][t.name], expected);
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} tables checked");
    let rows = |name: &str| {
        tables.iter().find(|x| x["name"] == name).unwrap()["row_count"]
            .as_i64()
            .unwrap()
    };
    let sc = h.scale;
    assert_eq!(rows("users"), 1);
    assert_eq!(
        rows("work_packages") as usize,
        sc.authored + sc.assigned,
        "authored, and assigned (accountable ones are among those)"
    );
    assert_eq!(
        rows("journals") as usize,
        sc.authored + sc.journals + 1,
        "creation journals, comments and one comment edited"
    );
    assert_eq!(rows("mentions") as usize, sc.mentions);
    assert_eq!(rows("sessions"), 2);
    assert_eq!(rows("api_tokens"), 2);
    assert_eq!(
        rows("custom_values") as usize,
        sc.custom_values + 1,
        "their own field and the values naming them"
    );
    assert_eq!(rows("group_users"), 1);
    assert_eq!(rows("members"), 2, "direct memberships");

    // No secret hash anywhere in the archive, nor a secret itself.
    let hashes = secret_hashes(&mut conn, h.id).await;
    assert!(
        hashes.len() >= 2 + 2 * 2,
        "password, 2 session ids and 2 CSRF tokens, 2 tokens: {}",
        hashes.len()
    );
    for secret in hashes
        .iter()
        .chain(&h.tokens)
        .chain(&h.session_cookies)
        .chain(&h.csrf_tokens)
    {
        assert!(
            !contains(&tar_bytes, secret),
            "a secret ({}...) is in the archive",
            &secret[..8.min(secret.len())]
        );
        // The argon2 hash's last part alone, too.
        if let Some(tail) = secret.rsplit('$').next().filter(|t| t.len() >= 16) {
            assert!(
                !contains(&tar_bytes, tail),
                "part of a hash is in the archive"
            );
        }
    }
    let users = tables.iter().find(|x| x["name"] == "users").unwrap();
    assert_eq!(users["rows"][0]["password_hash"], "withheld");
    assert_eq!(users["rows"][0]["login"], h.login);
    let cols: Vec<&str> = users["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let declared: Vec<&str> = registry::table("users")
        .unwrap()
        .columns
        .iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(cols, declared, "every column, in registry order");
    let email_col = users["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "email")
        .unwrap();
    assert_eq!(email_col["category"], "bu-02");
    assert_eq!(email_col["personal"], true);
    assert!(email_col["purpose"]
        .as_str()
        .unwrap()
        .contains("Notifications"));

    // The readable sections.
    assert_eq!(doc["format"], "steward.personal-data-export");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["subject"]["id"], h.id);
    assert_eq!(doc["export"]["id"], id);
    assert_eq!(doc["export"]["self_service"], true);
    assert_eq!(doc["profile"]["first_name"], h.firstname);
    assert_eq!(doc["settings"]["email"], h.email);
    assert_eq!(doc["settings"]["language"], "de");
    assert_eq!(doc["profile"]["custom_fields"][0]["value"], "HW-4711");
    let wps = &doc["work_packages"];
    assert_eq!(wps["authored"].as_array().unwrap().len(), sc.authored);
    assert_eq!(wps["assigned"].as_array().unwrap().len(), sc.assigned);
    assert_eq!(wps["accountable"].as_array().unwrap().len(), sc.accountable);
    assert_eq!(wps["authored"][0]["project"]["identifier"], "heavy-1");
    assert_eq!(
        doc["journals"].as_array().unwrap().len(),
        sc.authored + sc.journals + 1
    );
    assert_eq!(doc["comments"].as_array().unwrap().len(), sc.journals + 1);
    let edited = doc["comments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["text"] == "A comment, reworded.")
        .expect("the edited comment");
    assert_eq!(
        edited["earlier_versions"][0]["text"],
        "A comment I will reword."
    );
    assert_eq!(doc["comment_edits"].as_array().unwrap().len(), 1);
    let mentions = doc["mentions"].as_array().unwrap();
    assert_eq!(mentions.len(), sc.mentions);
    for m in mentions {
        let ex = m["excerpts"][0].as_str().unwrap();
        assert!(
            ex.contains("@Hedwig Heavyweight-Quill please review"),
            "{ex}"
        );
        assert!(!ex.contains("<mention"), "{ex}");
        assert!(ex.chars().count() <= 140, "{ex}");
        assert_eq!(m["written_by"]["id"], h.colleague_id);
    }
    assert_eq!(
        doc["custom_field_values_about_them"]
            .as_array()
            .unwrap()
            .len(),
        sc.custom_values
    );
    let memberships = doc["memberships"].as_array().unwrap();
    assert_eq!(memberships.len(), 4, "{memberships:?}");
    assert_eq!(
        memberships.iter().filter(|m| m["via"] == "group").count(),
        2
    );
    assert!(memberships
        .iter()
        .any(|m| m["via"] == "group" && m["roles"] == json!(["Reader"])));
    assert_eq!(doc["groups"][0]["name"], "Heavy lifters");
    let auth = &doc["authentication"];
    assert_eq!(auth["password"]["set"], true);
    assert_eq!(auth["password"]["hash"], "withheld");
    assert_eq!(auth["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(auth["sessions"][0]["user_agent"], "HeavyBrowser/1.0");
    assert_eq!(auth["api_tokens"].as_array().unwrap().len(), 2);
    assert!(auth["login_attempts"].as_array().unwrap().len() >= 2);
    assert!(doc["audit_trail"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["event"] == "personal_data.export_requested" && a["as_actor"] == true));
    assert_eq!(doc["files"]["entries"], json!([]));
    // Their own API requests, from the request log: those the fixture made
    // with their token, and the request for this export.
    let lines = doc["request_log"]["lines"].as_array().unwrap();
    assert_eq!(doc["summary"]["request_log_lines"], lines.len());
    assert!(lines.len() > h.requests, "{lines:?}");
    // Pseudonymised by default: one pseudonym, no user id.
    let pseudonym = &lines[0]["user_pseudonym"];
    assert!(pseudonym.is_string(), "{lines:?}");
    assert!(
        lines
            .iter()
            .all(|l| l.get("user_id").is_none() && &l["user_pseudonym"] == pseudonym),
        "{lines:?}"
    );
    assert!(lines
        .iter()
        .any(|l| l["method"] == "GET" && l["path"] == "/api/v3/users/me"));
    assert!(lines
        .iter()
        .any(|l| l["method"] == "POST" && l["path"] == "/api/v3/users/me/exports"));

    // The same export straight through the service, timed (debug build).
    let subject = app.services().user(h.id).await.unwrap();
    let dir = app.db.dir.join("timing");
    std::fs::create_dir_all(&dir).unwrap();
    let started = Instant::now();
    let done = app
        .services()
        .export_to_file(&subject, &dir.join("heavy.tar.gz"))
        .await
        .unwrap();
    eprintln!(
        "{backend:?}: exporting the heavy user took {:.3} s ({} bytes)",
        started.elapsed().as_secs_f64(),
        done.size_bytes
    );
}
both_backends!(heavy_user_export_holds_every_row);

/// A table added to the registry later with a user reference is in the
/// export without anyone touching the export: the walk follows the
/// registry. This fails if an export leaves out any such table or column.
async fn every_registry_table_with_user_references_is_exported(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (id, token) = app.user("solo").await;
    let e = request_export(&app, &token, &id.to_string()).await;
    let eid = e["id"].as_i64().unwrap();
    wait_until_ready(&app, &token, eid).await;
    let doc = document_of(&download(&app, &token, eid).await.body);
    let tables = doc["tables"].as_array().unwrap();
    let mut expected = Vec::new();
    for t in registry::TABLES {
        let refs = user_refs(t);
        if refs.is_empty() {
            continue;
        }
        expected.push(t.name);
        let out = tables
            .iter()
            .find(|x| x["name"] == t.name)
            .unwrap_or_else(|| {
                panic!(
                    "registry table {} has user references ({refs:?}) but is not in the export",
                    t.name
                )
            });
        assert_eq!(out["matched_columns"], json!(refs), "{}", t.name);
        let cols: Vec<&str> = out["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        let declared: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
        assert_eq!(cols, declared, "{}", t.name);
    }
    let exported: Vec<&str> = tables.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        exported, expected,
        "exactly those tables, in registry order"
    );
    assert_eq!(doc["summary"]["rows_per_table"]["users"], 1);
}
both_backends!(every_registry_table_with_user_references_is_exported);

// ---------------------------------------------------------------- the API

/// The person themself and an administrator can export; nobody else can,
/// and nobody but the requester sees an export or its archive. Every
/// request and download is in the audit trail.
async fn export_rights_and_downloads(backend: Backend) {
    let app = TestApp::start(backend).await;
    let h: HeavyUser = build_heavy_user(&app, Scale::SMALL).await;
    let (stranger, stranger_token) = app.user("stranger").await;
    let heavy = h.id.to_string();

    // Self-service.
    let mine = request_export(&app, &h.tokens[0], "me").await;
    let mine_id = mine["id"].as_i64().unwrap();
    assert_eq!(
        mine["_links"]["user"]["href"],
        format!("/api/v3/users/{}", h.id)
    );
    let ready = wait_until_ready(&app, &h.tokens[0], mine_id).await;
    assert_eq!(
        ready["_links"]["download"]["href"],
        format!("/api/v3/exports/{mine_id}/archive")
    );
    let expires =
        steward_domain::Timestamp::parse_rfc3339(ready["expiresAt"].as_str().unwrap()).unwrap();
    let completed =
        steward_domain::Timestamp::parse_rfc3339(ready["completedAt"].as_str().unwrap()).unwrap();
    assert_eq!(
        (expires.0 - completed.0) / 1_000_000,
        24 * 3600,
        "expires after gdpr.export_expiry_hours (24 by default)"
    );
    let res = download(&app, &h.tokens[0], mine_id).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/gzip"));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let cd = res.header("content-disposition").unwrap();
    assert!(
        cd.starts_with("attachment; filename=\"steward-personal-data-user-")
            && cd.ends_with(".tar.gz\""),
        "{cd}"
    );
    assert_eq!(
        res.header("x-content-sha256"),
        ready["sha256"].as_str(),
        "the checksum header"
    );
    let doc = document_of(&res.body);
    assert_eq!(doc["subject"]["login"], h.login);
    assert_eq!(doc["export"]["self_service"], true);

    // An administrator, for someone else.
    let theirs = request_export(&app, &app.admin_token, &heavy).await;
    let theirs_id = theirs["id"].as_i64().unwrap();
    wait_until_ready(&app, &app.admin_token, theirs_id).await;
    let res = download(&app, &app.admin_token, theirs_id).await;
    assert_eq!(res.status, 200);
    let doc = document_of(&res.body);
    assert_eq!(doc["export"]["self_service"], false);
    assert_eq!(doc["export"]["requested_by"]["id"], app.admin_id);

    // Each sees only their own requests.
    for (token, own) in [(&h.tokens[0], mine_id), (&app.admin_token, theirs_id)] {
        let res = app
            .anon(Method::GET, &format!("/api/v3/users/{heavy}/exports"))
            .token(token)
            .send()
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        let list = res.json();
        assert_eq!(list["total"], 1, "{list}");
        assert_eq!(list["_embedded"]["elements"][0]["id"], own);
    }
    // Nobody but the requester sees an export or its archive.
    for (token, other) in [
        (&app.admin_token, mine_id),
        (&h.tokens[0], theirs_id),
        (&h.colleague_token, mine_id),
        (&stranger_token, mine_id),
    ] {
        let res = app
            .anon(Method::GET, &format!("/api/v3/exports/{other}"))
            .token(token)
            .send()
            .await;
        res.assert_error(404, "NotFound");
        download(&app, token, other)
            .await
            .assert_error(404, "NotFound");
    }
    // Others may not export: 403 when they can see the person (they share
    // a project), 404 when they cannot; anonymous callers 401.
    for method in [Method::POST, Method::GET] {
        let path = format!("/api/v3/users/{heavy}/exports");
        let res = app
            .anon(method.clone(), &path)
            .token(&h.colleague_token)
            .send()
            .await;
        res.assert_error(403, "MissingPermission");
        let res = app
            .anon(method.clone(), &path)
            .token(&stranger_token)
            .send()
            .await;
        res.assert_error(404, "NotFound");
        app.anon(method.clone(), &path)
            .send()
            .await
            .assert_error(401, "Unauthenticated");
    }
    // Bad ids, groups and built-in accounts: not found, never a 500.
    for path in [
        "/api/v3/users/abc/exports".to_string(),
        "/api/v3/users/0/exports".into(),
        "/api/v3/users/-3/exports".into(),
        "/api/v3/users/99999999999999999999/exports".into(),
        format!("/api/v3/users/{}/exports", h.group_id),
        "/api/v3/users/1/exports".into(),
        format!("/api/v3/users/{SYSTEM_USER_ID}/exports"),
    ] {
        app.admin(Method::POST, &path)
            .send()
            .await
            .assert_error(404, "NotFound");
    }
    for path in [
        "/api/v3/exports/abc",
        "/api/v3/exports/0",
        "/api/v3/exports/999999",
        "/api/v3/exports/abc/archive",
        "/api/v3/exports/-1/archive",
    ] {
        app.admin(Method::GET, path)
            .send()
            .await
            .assert_error(404, "NotFound");
    }
    // A browser session must send its CSRF token to ask for an export.
    let session = Req::new(&app.base, Method::POST, "/api/v3/users/me/exports").header(
        "cookie",
        &format!("steward_session={}", h.session_cookies[0]),
    );
    session.send().await.assert_error(403, "MissingPermission");
    let res = Req::new(&app.base, Method::POST, "/api/v3/users/me/exports")
        .header(
            "cookie",
            &format!("steward_session={}", h.session_cookies[0]),
        )
        .header("x-csrf-token", &h.csrf_tokens[0])
        .send()
        .await;
    assert_eq!(res.status, 202, "{}", res.text());

    // The audit trail: each request and download, self-service ones with
    // the person as actor.
    let requested = audit_entries(&app, "personal_data.export_requested", h.id).await;
    assert_eq!(requested.len(), 3, "{requested:?}");
    assert_eq!(requested[0].0, Some(h.id));
    assert_eq!(requested[0].1["export_id"], mine_id);
    assert_eq!(requested[1].0, Some(app.admin_id));
    let downloaded = audit_entries(&app, "personal_data.export_downloaded", h.id).await;
    assert_eq!(downloaded.len(), 2, "{downloaded:?}");
    assert_eq!(downloaded[0], (Some(h.id), json!({"export_id": mine_id})));
    assert_eq!(downloaded[1].0, Some(app.admin_id));
    let exported = audit_entries(&app, "personal_data.exported", h.id).await;
    assert!(exported.len() >= 2, "{exported:?}");
    assert!(exported
        .iter()
        .any(|(a, d)| *a == Some(h.id) && d["export_id"] == mine_id));
    let _ = stranger;
}
both_backends!(export_rights_and_downloads);

/// After its time an archive is gone: a download answers 410 and the file
/// is deleted, by the download itself or by the recurring expiry job.
async fn expired_exports_are_gone(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.gdpr.export_expiry_hours = 1).await;
    let (id, token) = app.user("expiring").await;
    let mut exports = Vec::new();
    for _ in 0..2 {
        let e = request_export(&app, &token, &id.to_string()).await;
        let eid = e["id"].as_i64().unwrap();
        let ready = wait_until_ready(&app, &token, eid).await;
        let expires =
            steward_domain::Timestamp::parse_rfc3339(ready["expiresAt"].as_str().unwrap()).unwrap();
        let completed =
            steward_domain::Timestamp::parse_rfc3339(ready["completedAt"].as_str().unwrap())
                .unwrap();
        assert_eq!((expires.0 - completed.0) / 1_000_000, 3600, "one hour");
        exports.push(eid);
    }
    let dir = app.config.data_dir.join("exports");
    let files = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    };
    assert_eq!(files(&dir).len(), 2);
    // Both run out.
    let mut conn = app.services().db.conn().await.unwrap();
    conn.execute(
        "UPDATE gdpr_exports SET expires_at = $1 WHERE subject_user_id = $2",
        vec![
            Param::Int(steward_domain::Timestamp::now().0 - 1),
            Param::Int(id),
        ],
    )
    .await
    .unwrap();
    drop(conn);
    // The first is found expired by its download...
    let res = download(&app, &token, exports[0]).await;
    let msg = res.assert_error(410, "Gone");
    assert!(msg.contains("expired"), "{msg}");
    assert_eq!(files(&dir).len(), 1, "its file is deleted at once");
    // ... the second by the expiry job.
    let n = app.services().expire_exports().await.unwrap();
    assert_eq!(n, 1);
    assert!(files(&dir).is_empty(), "{:?}", files(&dir));
    for eid in &exports {
        let res = app
            .anon(Method::GET, &format!("/api/v3/exports/{eid}"))
            .token(&token)
            .send()
            .await;
        let e = res.json();
        assert_eq!(e["status"], "expired", "{e}");
        assert!(e["_links"].get("download").is_none());
        download(&app, &token, *eid).await.assert_error(410, "Gone");
    }
    assert_eq!(app.services().expire_exports().await.unwrap(), 0);

    // Erasure's hook: the archives about a person go at once.
    let e = request_export(&app, &app.admin_token, &id.to_string()).await;
    let eid = e["id"].as_i64().unwrap();
    wait_until_ready(&app, &app.admin_token, eid).await;
    assert_eq!(files(&dir).len(), 1);
    assert_eq!(
        app.services().delete_export_archives_of(id).await.unwrap(),
        1
    );
    assert!(files(&dir).is_empty());
    download(&app, &app.admin_token, eid)
        .await
        .assert_error(410, "Gone");
}
both_backends!(expired_exports_are_gone);

/// Asking again while an export is still being prepared answers that
/// export; the job is idempotent; until it has run the archive is not
/// ready (409).
async fn repeated_requests_share_one_pending_export(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.jobs.in_process_worker = false).await;
    let (id, token) = app.user("patient").await;
    let first = request_export(&app, &token, "me").await;
    let second = request_export(&app, &token, &id.to_string()).await;
    let eid = first["id"].as_i64().unwrap();
    assert_eq!(second["id"], eid, "the pending export is answered again");
    let msg = download(&app, &token, eid)
        .await
        .assert_error(409, "Conflict");
    assert!(msg.contains("not ready"), "{msg}");
    // The job, run twice (at-least-once delivery): one archive.
    app.services().run_export(eid).await.unwrap();
    app.services().run_export(eid).await.unwrap();
    let dir = app.config.data_dir.join("exports");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    let ready = wait_until_ready(&app, &token, eid).await;
    let res = download(&app, &token, eid).await;
    assert_eq!(res.status, 200);
    assert_eq!(
        hex(&Sha256::digest(&res.body)),
        ready["sha256"].as_str().unwrap()
    );
    // A new request after that is a new export.
    let third = request_export(&app, &token, "me").await;
    assert_ne!(third["id"], eid);
    assert_eq!(
        audit_entries(&app, "personal_data.export_requested", id)
            .await
            .len(),
        2
    );
    assert_eq!(
        audit_entries(&app, "personal_data.exported", id)
            .await
            .len(),
        1
    );
}
both_backends!(repeated_requests_share_one_pending_export);

/// The archive directory is checked by the job: when it cannot be created
/// the export fails, and the download says so (409). The cause is not the
/// requester's doing: they are told of an internal error, the server log
/// gets the cause under the export's id.
async fn unwritable_export_directory_fails_the_export(backend: Backend) {
    crate::server_log::capture();
    let app = TestApp::start(backend).await;
    // A file where the exports directory should be.
    std::fs::write(app.config.data_dir.join("exports"), b"in the way").unwrap();
    let (id, token) = app.user("blocked").await;
    let e = request_export(&app, &token, &id.to_string()).await;
    let eid = e["id"].as_i64().unwrap();
    let started = Instant::now();
    let failed = loop {
        let res = app
            .anon(Method::GET, &format!("/api/v3/exports/{eid}"))
            .token(&token)
            .send()
            .await;
        let e = res.json();
        if e["status"] == "failed" {
            break e;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{e}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let shown = failed["error"].as_str().unwrap();
    assert!(shown.contains("internal error"), "{failed}");
    for raw in ["cannot create", "os error", "Not a directory", "exports"] {
        assert!(!shown.contains(raw), "{raw:?} shown: {failed}");
    }
    // The directory's path is this test's own: the line is this export's.
    let exports_dir = app.config.data_dir.join("exports");
    let logged = crate::server_log::lines_with(&[
        &format!("export={eid}"),
        &format!(
            "cannot create the export directory {}",
            exports_dir.display()
        ),
        "os error",
    ]);
    assert!(!logged.is_empty(), "the cause is not in the log");
    let res = download(&app, &token, eid).await;
    let msg = res.assert_error(409, "Conflict");
    assert!(msg.contains("failed"), "{msg}");
    assert!(!msg.contains("os error"), "{msg}");
}
both_backends!(unwritable_export_directory_fails_the_export);

// ---------------------------------------------------------------- the CLI

struct CliOut {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn steward_cli(app: &TestApp, dir: &Path, args: &[&str]) -> CliOut {
    let mut cmd = app.db.steward_command(&app.config.data_dir);
    cmd.current_dir(dir).args(args);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run steward"))
        .await
        .unwrap();
    CliOut {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `steward gdpr export USER --output FILE` writes the same archive, prints
/// where, how big, its checksum and counts, and is audited; bad input gets
/// one clear error line.
async fn cli_export_writes_an_archive(backend: Backend) {
    let app = TestApp::start(backend).await;
    let h = build_heavy_user(&app, Scale::SMALL).await;
    let dir = app.db.dir.join("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let out_file = dir.join("heavy.tar.gz");
    let out = steward_cli(
        &app,
        &dir,
        &[
            "gdpr",
            "export",
            &h.login,
            "--output",
            out_file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let bytes = std::fs::read(&out_file).unwrap();
    let sha = hex(&Sha256::digest(&bytes));
    assert!(
        out.stdout.contains(out_file.to_str().unwrap()),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(&sha), "{}", out.stdout);
    assert!(
        out.stdout
            .contains(&format!("size:      {} bytes", bytes.len())),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!(
            "{} authored, {} assigned, {} accountable",
            h.scale.authored, h.scale.assigned, h.scale.accountable
        )),
        "{}",
        out.stdout
    );
    let doc = document_of(&bytes);
    assert_eq!(doc["export"]["via"], "cli");
    assert_eq!(doc["export"]["id"], Value::Null);
    assert_eq!(doc["subject"]["id"], h.id);
    assert_eq!(
        doc["work_packages"]["authored"].as_array().unwrap().len(),
        h.scale.authored
    );
    let audited = audit_entries(&app, "personal_data.exported", h.id).await;
    assert!(audited
        .iter()
        .any(|(a, d)| *a == Some(SYSTEM_USER_ID) && d["via"] == "cli" && d["sha256"] == sha));

    // By id, to the default file name in the working directory.
    let out = steward_cli(&app, &dir, &["gdpr", "export", &h.id.to_string()]).await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let made: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("steward-personal-data-user-{}-", h.id)))
        .collect();
    assert_eq!(made.len(), 1, "{made:?}");

    // Bad input: one line that names the problem, exit code 1.
    let missing_dir = dir.join("no/such/dir/x.tar.gz");
    let group = h.group_id.to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["gdpr", "export", "nobody-here"],
            "no user \"nobody-here\"",
        ),
        (vec!["gdpr", "export", "99999999"], "no user \"99999999\""),
        (vec!["gdpr", "export", &group], "no user"),
        (vec!["gdpr", "export", "0"], "no user \"0\""),
        (
            vec![
                "gdpr",
                "export",
                &h.login,
                "--output",
                out_file.to_str().unwrap(),
            ],
            "already exists",
        ),
        (
            vec![
                "gdpr",
                "export",
                &h.login,
                "--output",
                dir.to_str().unwrap(),
            ],
            "is a directory",
        ),
        (
            vec![
                "gdpr",
                "export",
                &h.login,
                "--output",
                missing_dir.to_str().unwrap(),
            ],
            "does not exist",
        ),
    ];
    for (args, expect) in cases {
        let out = steward_cli(&app, &dir, &args).await;
        assert_eq!(
            out.code,
            Some(1),
            "{args:?}: {}\n{}",
            out.stdout,
            out.stderr
        );
        let line = out.stderr.trim_end().lines().last().unwrap_or("");
        assert!(
            line.starts_with("steward: error: ") && line.contains(expect),
            "{args:?}: {line:?} should say {expect:?}"
        );
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
    let out = steward_cli(&app, &dir, &["gdpr", "export"]).await;
    assert_eq!(out.code, Some(2), "a missing USER is a usage error");
    assert!(out.stderr.contains("<USER>"), "{}", out.stderr);
    let out = steward_cli(&app, &dir, &["gdpr", "export", &h.login, "--output", ""]).await;
    assert_eq!(out.code, Some(2), "an empty --output is a usage error");
    assert!(out.stderr.contains("--output"), "{}", out.stderr);
    // Outputs that cannot be written to, even by root. A parent that is a
    // regular file is refused before any work is done.
    let not_a_dir = dir.join("not-a-directory");
    std::fs::write(&not_a_dir, b"a file").unwrap();
    let out = steward_cli(
        &app,
        &dir,
        &[
            "gdpr",
            "export",
            &h.login,
            "--output",
            not_a_dir.join("x.tar.gz").to_str().unwrap(),
        ],
    )
    .await;
    let line = out.stderr.trim_end().lines().last().unwrap_or("");
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        line.starts_with("steward: error: ") && line.contains("is not a directory"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(&not_a_dir).unwrap(), b"a file");
    // A write that fails midway: the archive is written to NAME.partial
    // first, and a directory in that place cannot be opened as a file.
    let blocked = dir.join("blocked.tar.gz");
    std::fs::create_dir_all(dir.join("blocked.tar.gz.partial")).unwrap();
    refuses_to_write(&app, &dir, &h.login, &blocked).await;
}
both_backends!(cli_export_writes_an_archive);

/// `steward gdpr export USER --output target` fails with one "cannot
/// write" error line and leaves no file behind.
async fn refuses_to_write(app: &TestApp, dir: &Path, login: &str, target: &Path) {
    let out = steward_cli(
        app,
        dir,
        &[
            "gdpr",
            "export",
            login,
            "--output",
            target.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let line = out.stderr.trim_end().lines().last().unwrap_or("");
    assert!(
        line.starts_with("steward: error: ") && line.contains("cannot write"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(!target.exists());
}

/// A read-only output directory: only a user other than root is refused
/// by it, so as root this test is ignored and the root-proof cases of
/// cli_export_writes_an_archive stand for it.
#[cfg(unix)]
async fn cli_export_refuses_a_read_only_directory(backend: Backend) {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::start(backend).await;
    let h = build_heavy_user(&app, Scale::SMALL).await;
    let locked = app.db.dir.join("locked");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).unwrap();
    refuses_to_write(&app, &app.db.dir, &h.login, &locked.join("x.tar.gz")).await;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
}
#[cfg(unix)]
sqlite_only!(
    cli_export_refuses_a_read_only_directory,
    #[cfg_attr(
        not(steward_test_unprivileged),
        ignore = "runs as root, whom a read-only directory does not stop; cli_export_writes_an_archive checks writes that fail even for root"
    )]
);

// ---------------------------------------------------------------- the schema

const SCHEMA: &str = include_str!("../../../../docs/gdpr-export.schema.json");

/// A validator for the part of JSON Schema (2020-12) the export's schema
/// uses; a keyword it does not know fails the test rather than passing
/// unchecked.
struct Validator<'a> {
    root: &'a Value,
}

impl<'a> Validator<'a> {
    fn resolve(&self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let path = r.strip_prefix("#/").unwrap_or_else(|| panic!("ref {r}"));
                let mut at = self.root;
                for part in path.split('/') {
                    at = &at[part];
                }
                assert!(!at.is_null(), "unresolved $ref {r}");
                self.resolve(at)
            }
            None => schema,
        }
    }

    fn type_ok(ty: &str, v: &Value) -> bool {
        match ty {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            other => panic!("unknown type {other}"),
        }
    }

    fn check(&self, schema: &'a Value, v: &Value, at: &str, errors: &mut Vec<String>) {
        if errors.len() > 20 {
            return;
        }
        let schema = self.resolve(schema);
        let Some(obj) = schema.as_object() else {
            if schema == &Value::Bool(false) {
                errors.push(format!("{at}: not allowed"));
            }
            return;
        };
        for key in obj.keys() {
            assert!(
                [
                    "$schema",
                    "$id",
                    "$ref",
                    "$defs",
                    "$comment",
                    "title",
                    "description",
                    "type",
                    "properties",
                    "required",
                    "additionalProperties",
                    "items",
                    "const",
                    "enum",
                    "minimum",
                    "format",
                    "anyOf",
                ]
                .contains(&key.as_str()),
                "the schema uses {key:?} at {at}, which this validator does not check"
            );
        }
        if let Some(t) = obj.get("type") {
            let ok = match t {
                Value::String(s) => Self::type_ok(s, v),
                Value::Array(list) => list.iter().any(|s| Self::type_ok(s.as_str().unwrap(), v)),
                _ => panic!("bad type at {at}"),
            };
            if !ok {
                errors.push(format!("{at}: {v} is not of type {t}"));
                return;
            }
        }
        if let Some(c) = obj.get("const") {
            if c != v {
                errors.push(format!("{at}: {v} is not {c}"));
            }
        }
        if let Some(Value::Array(options)) = obj.get("enum") {
            if !options.contains(v) {
                errors.push(format!("{at}: {v} is not one of {options:?}"));
            }
        }
        if let (Some(min), Some(n)) = (obj.get("minimum").and_then(Value::as_f64), v.as_f64()) {
            if n < min {
                errors.push(format!("{at}: {n} < {min}"));
            }
        }
        if let Some(Value::Array(any)) = obj.get("anyOf") {
            let fits = any.iter().any(|s| {
                let mut e = Vec::new();
                self.check(s, v, at, &mut e);
                e.is_empty()
            });
            if !fits {
                errors.push(format!("{at}: {v} fits none of anyOf"));
            }
        }
        if let Some(map) = v.as_object() {
            if let Some(Value::Array(req)) = obj.get("required") {
                for r in req {
                    if !map.contains_key(r.as_str().unwrap()) {
                        errors.push(format!("{at}: missing {r}"));
                    }
                }
            }
            let props = obj.get("properties").and_then(Value::as_object);
            for (k, val) in map {
                let here = format!("{at}.{k}");
                match props.and_then(|p| p.get(k)) {
                    Some(s) => self.check(s, val, &here, errors),
                    None => match obj.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            errors.push(format!("{here}: not described by the schema"));
                        }
                        Some(s) => self.check(s, val, &here, errors),
                        None => {}
                    },
                }
            }
        }
        if let (Some(items), Some(list)) = (obj.get("items"), v.as_array()) {
            for (i, item) in list.iter().enumerate() {
                self.check(items, item, &format!("{at}[{i}]"), errors);
            }
        }
    }
}

/// A real export (every section filled) fits docs/gdpr-export.schema.json,
/// and the validator notices a document that does not.
async fn export_fits_the_documented_schema(backend: Backend) {
    let app = TestApp::start(backend).await;
    let h = build_heavy_user(&app, Scale::SMALL).await;
    let e = request_export(&app, &h.tokens[1], "me").await;
    let id = e["id"].as_i64().unwrap();
    wait_until_ready(&app, &h.tokens[1], id).await;
    let doc = document_of(&download(&app, &h.tokens[1], id).await.body);
    let schema: Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
    assert_eq!(
        schema["properties"]["format_version"]["const"],
        doc["format_version"]
    );
    let v = Validator { root: &schema };
    let mut errors = Vec::new();
    v.check(&schema, &doc, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "the export does not fit:\n{}",
        errors.join("\n")
    );
    // Every section is there and not empty, so the check above saw them.
    for key in [
        "memberships",
        "groups",
        "journals",
        "comments",
        "comment_edits",
        "mentions",
        "custom_field_values_about_them",
        "audit_trail",
        "tables",
    ] {
        assert!(
            doc[key].as_array().is_some_and(|a| !a.is_empty()),
            "{key} is empty"
        );
    }
    let mut broken = doc.clone();
    broken["format_version"] = json!(2);
    broken["profile"]["admin"] = json!("no");
    broken["tables"][0]["columns"][0]["surprise"] = json!(1);
    let mut errors = Vec::new();
    v.check(&schema, &broken, "$", &mut errors);
    assert!(errors.len() >= 3, "{errors:?}");
}
both_backends!(export_fits_the_documented_schema);
