//! Erasure does to each column what the personal-data registry declares, so
//! the record of processing (which prints the declaration) says what
//! erasure really does. A person with data in every declared column is
//! erased, and each column is checked against its declared action.

use hyper::Method;
use serde_json::json;
use steward_domain::mention;
use steward_domain::registry::{Erasure, Kind, Table, TABLES};
use steward_domain::search::{Phrase, TextQuery};
use steward_domain::user::DELETED_USER_ID;
use steward_storage::erasure::row_key;
use steward_storage::{params, text_index, Conn};

use crate::harness::{Backend, TestApp};
use crate::heavy_user::{build_heavy_user, HeavyUser, Scale};
use crate::work_packages_api::as_user;

/// The SQL condition that picks the rows erasure deletes with the person:
/// the account itself, or rows tied to them by a column declared
/// `DeleteRow` (a user reference, their login or their email).
fn owned_by(t: &Table, h: &HeavyUser) -> Option<String> {
    if t.name == "users" {
        return Some(format!("id = {}", h.id));
    }
    let conditions: Vec<String> = t
        .personal_columns()
        .filter(|(_, p)| p.erasure == Erasure::DeleteRow)
        .filter_map(|(c, p)| match p.kind {
            // customized_id is a user id only on a user's own values.
            Kind::UserRef if t.name == "custom_values" && c == "customized_id" => Some(format!(
                "(customized_type = 'Principal' AND customized_id = {})",
                h.id
            )),
            Kind::UserRef => Some(format!("{c} = {}", h.id)),
            Kind::Login => Some(format!("{c} = '{}'", h.login)),
            Kind::Email => Some(format!("{c} = '{}'", h.email)),
            _ => None,
        })
        .collect();
    (!conditions.is_empty()).then(|| conditions.join(" OR "))
}

async fn count(conn: &mut Conn, sql: &str) -> i64 {
    conn.query_one::<i64>(sql, params![])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// What each declared column looked like before the erasure.
enum Before {
    /// Keys of the rows whose reference named the person.
    Repointed(Vec<i64>),
    /// The person's rows in the table, and all its rows.
    RowsDeleted { owned: i64, total: i64 },
    /// The key of a row whose text names and mentions the person.
    TextKept(i64),
    /// Every row's terms, as (key, terms).
    Untouched(Vec<(String, String)>),
    /// The text index: how many entries held the person's mention.
    Mirror(usize),
}

/// The index entries whose text has a mention markup of user `id`.
async fn index_entries_mentioning(conn: &mut Conn, id: i64) -> Vec<i64> {
    let query = TextQuery {
        phrases: vec![Phrase {
            words: vec!["data".into(), "id".into(), id.to_string()],
            prefix: false,
            adjacent: true,
        }],
        all: true,
    };
    text_index::keys_matching(conn, &query, i64::MIN, 10_000)
        .await
        .unwrap()
}

/// Rows the heavy user lacks: a version, an export of the person, and an
/// earlier erasure of someone else (its certificate and redaction queue).
pub(crate) async fn add_missing_rows(app: &TestApp, h: &HeavyUser) {
    let res = app
        .admin(Method::POST, "/api/v3/versions")
        .json(&json!({
            "name": "Spring release",
            "_links": {"definingProject": {"href": format!("/api/v3/projects/{}", h.projects[0])}},
        }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = as_user(app, &h.tokens[0], Method::POST, "/api/v3/users/me/exports")
        .send()
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    let other = app
        .created(
            "/api/v3/users",
            json!({
                "login": "zebulon.z", "email": "zebulon@example.org",
                "firstName": "Zebulon", "lastName": "Zarathustra",
                "password": "user password 1", "status": "active",
            }),
        )
        .await;
    let res = crate::activities_api::comment(
        app,
        &h.colleague_token,
        h.assigned[0],
        "Zebulon Zarathustra reviewed this.",
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = app
        .admin(Method::POST, "/api/v3/gdpr/erasures")
        .json(&json!({"user": other["id"].as_i64().unwrap().to_string()}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
}

async fn erasure_does_what_the_registry_declares(backend: Backend) {
    let app = TestApp::start(backend).await;
    let h = build_heavy_user(&app, Scale::SMALL).await;
    add_missing_rows(&app, &h).await;
    let full_name = format!("{} {}", h.firstname, h.lastname);
    let text = format!(
        "Ask {} or write to {full_name} directly.",
        mention::markup(h.id, &full_name)
    );

    let mut conn = app.services().db.conn().await.unwrap();
    let mut before: Vec<(&'static Table, &'static str, Before)> = Vec::new();
    for t in TABLES {
        let key = row_key(t.name);
        for (c, p) in t.personal_columns() {
            let state = match p.erasure {
                Erasure::DeletedUser => {
                    // A reference the fixture does not make yet points to
                    // the person now.
                    let refs = format!("SELECT count(*) FROM {t} WHERE {c} = {}", h.id, t = t.name);
                    if count(&mut conn, &refs).await == 0 {
                        conn.execute(
                            &format!(
                                "UPDATE {t} SET {c} = $1 WHERE {key} = (SELECT min({key}) FROM {t})",
                                t = t.name
                            ),
                            params![h.id],
                        )
                        .await
                        .unwrap();
                    }
                    let keys = conn
                        .query::<i64>(
                            &format!("SELECT {key} FROM {t} WHERE {c} = $1", t = t.name),
                            params![h.id],
                        )
                        .await
                        .unwrap();
                    assert!(!keys.is_empty(), "no row of {} to test {c} on", t.name);
                    Before::Repointed(keys)
                }
                Erasure::DeleteRow => {
                    let owned = owned_by(t, &h).unwrap_or_else(|| {
                        panic!(
                            "{}.{c}: declared DeleteRow, but nothing ties the row to the person",
                            t.name
                        )
                    });
                    let owned_rows = count(
                        &mut conn,
                        &format!("SELECT count(*) FROM {} WHERE {owned}", t.name),
                    )
                    .await;
                    assert!(
                        owned_rows > 0,
                        "the person has no row in {} ({owned})",
                        t.name
                    );
                    let total = count(&mut conn, &format!("SELECT count(*) FROM {}", t.name)).await;
                    Before::RowsDeleted {
                        owned: owned_rows,
                        total,
                    }
                }
                Erasure::ReviewText => {
                    // A row that outlives the person gets a text that
                    // mentions them and names them in plain words.
                    let outlives = owned_by(t, &h).map_or("1 = 1".into(), |o| format!("NOT ({o})"));
                    let row = conn
                        .query_one::<i64>(
                            &format!("SELECT min({key}) FROM {t} WHERE {outlives}", t = t.name),
                            params![],
                        )
                        .await
                        .unwrap_or_else(|e| panic!("no row of {} to test {c} on: {e}", t.name));
                    let n = conn
                        .execute(
                            &format!("UPDATE {t} SET {c} = $1 WHERE {key} = $2", t = t.name),
                            params![text.clone(), row],
                        )
                        .await
                        .unwrap();
                    assert_eq!(n, 1, "{}.{c}", t.name);
                    Before::TextKept(row)
                }
                Erasure::ForgottenWhenReviewed => {
                    let rows = conn
                        .query::<(String, String)>(
                            &format!(
                                "SELECT CAST({key} AS TEXT), {c} FROM {t} WHERE {c} IS NOT NULL",
                                t = t.name
                            ),
                            params![],
                        )
                        .await
                        .unwrap();
                    assert!(!rows.is_empty(), "no row of {} to test {c} on", t.name);
                    Before::Untouched(rows)
                }
                Erasure::Mirrored => {
                    // Every text above was written by now; the triggers
                    // indexed each.
                    let n = index_entries_mentioning(&mut conn, h.id).await.len();
                    assert!(n > 0, "{}.{c}: the texts above are not indexed", t.name);
                    Before::Mirror(n)
                }
            };
            before.push((t, c, state));
        }
    }
    drop(conn);

    let res = app
        .admin(Method::POST, "/api/v3/gdpr/erasures")
        .json(&json!({"user": h.login}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());

    let mut conn = app.services().db.conn().await.unwrap();
    for (t, c, state) in before {
        let key = row_key(t.name);
        let what = format!("{}.{c}", t.name);
        match state {
            Before::Repointed(keys) => {
                for k in keys {
                    let sql = format!(
                        "SELECT count(*) FROM {t} WHERE {key} = {k} AND {c} = {DELETED_USER_ID}",
                        t = t.name
                    );
                    assert_eq!(
                        count(&mut conn, &sql).await,
                        1,
                        "{what}: row {k} not re-pointed"
                    );
                }
            }
            Before::RowsDeleted { owned, total } => {
                let condition = owned_by(t, &h).unwrap();
                let left = count(
                    &mut conn,
                    &format!("SELECT count(*) FROM {} WHERE {condition}", t.name),
                )
                .await;
                assert_eq!(left, 0, "{what}: the person's rows are still there");
                let now = count(&mut conn, &format!("SELECT count(*) FROM {}", t.name)).await;
                assert_eq!(
                    now,
                    total - owned,
                    "{what}: the person's rows were not deleted"
                );
            }
            Before::TextKept(row) => {
                let now = conn
                    .query_one::<Option<String>>(
                        &format!("SELECT {c} FROM {t} WHERE {key} = $1", t = t.name),
                        params![row],
                    )
                    .await
                    .unwrap()
                    .unwrap_or_default();
                assert!(
                    now.contains(&full_name),
                    "{what}: the text was not kept: {now:?}"
                );
                assert!(
                    now.contains(&mention::markup(DELETED_USER_ID, "Deleted user")),
                    "{what}: the mention does not name the \"Deleted user\": {now:?}"
                );
                assert!(
                    !now.contains(&format!("data-id=\"{}\"", h.id)),
                    "{what}: the mention still names the person: {now:?}"
                );
                let queued = count(
                    &mut conn,
                    &format!(
                        "SELECT count(*) FROM redaction_entries WHERE table_name = '{}' \
                         AND column_name = '{c}' AND row_id = {row} AND status = 'open'",
                        t.name
                    ),
                )
                .await;
                assert_eq!(queued, 1, "{what}: the text is not queued for redaction");
            }
            Before::Mirror(n) => {
                assert_eq!(
                    index_entries_mentioning(&mut conn, h.id).await,
                    Vec::<i64>::new(),
                    "{what}: entries still hold the person's mention"
                );
                let now = index_entries_mentioning(&mut conn, DELETED_USER_ID).await;
                assert!(
                    now.len() >= n,
                    "{what}: the rewritten texts are not indexed ({} of {n})",
                    now.len()
                );
            }
            Before::Untouched(rows) => {
                for (k, terms) in rows {
                    let now = conn
                        .query_one::<Option<String>>(
                            &format!(
                                "SELECT {c} FROM {t} WHERE CAST({key} AS TEXT) = $1",
                                t = t.name
                            ),
                            params![k.clone()],
                        )
                        .await
                        .unwrap();
                    assert_eq!(
                        now.as_deref(),
                        Some(terms.as_str()),
                        "{what}: row {k} changed"
                    );
                }
            }
        }
    }
}
both_backends!(erasure_does_what_the_registry_declares);
