//! The text index: every free-text column the registry declares is in it,
//! kept by the database in the same transaction as the row; the residue
//! scan that reads through it finds exactly what reading every text of
//! every table finds; an entry that outlived its text is residue.

use std::collections::BTreeSet;

use steward_domain::redaction;
use steward_domain::registry::{self, Data, Erasure};
use steward_domain::search::TextQuery;
use steward_domain::user::{DELETED_USER_ID, SYSTEM_USER_ID};
use steward_services::gdpr::scan::{self, HitClass, ScanTarget};
use steward_storage::erasure::{self, row_key};
use steward_storage::{params, text_index, Conn, Engine};

use crate::activities_api::comment;
use crate::erasure_registry::add_missing_rows;
use crate::harness::{Backend, TestApp};
use crate::heavy_user::{build_heavy_user, HeavyUser, Scale};

async fn keys_for(conn: &mut Conn, word: &str) -> Vec<i64> {
    let q = TextQuery::from_search(word, false).unwrap();
    text_index::keys_matching(conn, &q, i64::MIN, 1000)
        .await
        .unwrap()
}

/// Each declared column, written with SQL of its own (as any writer
/// would), is found by a word of its new text and no longer by its old one.
async fn every_declared_text_column_is_indexed(backend: Backend) {
    let app = TestApp::start(backend).await;
    let h = build_heavy_user(&app, Scale::SMALL).await;
    add_missing_rows(&app, &h).await;
    let mut conn = app.services().db.conn().await.unwrap();
    assert_eq!(
        text_index::missing_triggers(&mut conn).await.unwrap(),
        Vec::<String>::new()
    );
    let sources = text_index::sources(&mut conn).await.unwrap();
    let declared = text_index::declared();
    assert!(declared.len() >= 10, "{declared:?}");
    assert_eq!(sources.len(), declared.len());
    for (i, (table, column)) in declared.into_iter().enumerate() {
        let source = sources
            .iter()
            .find(|s| s.table == table && s.column == column)
            .unwrap_or_else(|| panic!("{table}.{column} has no source"));
        let key = row_key(table);
        let row: Option<i64> = conn
            .query_one(&format!("SELECT min({key}) FROM {table}"), params![])
            .await
            .unwrap();
        let row = row.unwrap_or_else(|| panic!("no row of {table} to test {column} on"));
        let (old, new) = (format!("oldword{i}x"), format!("Néwword{i}x"));
        for word in [&old, &new] {
            let n = conn
                .execute(
                    &format!("UPDATE {table} SET {column} = $1 WHERE {key} = $2"),
                    params![format!("before {word} after"), row],
                )
                .await
                .unwrap();
            assert_eq!(n, 1);
        }
        assert_eq!(
            keys_for(&mut conn, &format!("newword{i}x")).await,
            vec![source.entry_key(row)],
            "{table}.{column}: the new text is not indexed (accents and case folded)"
        );
        assert!(
            keys_for(&mut conn, &old).await.is_empty(),
            "{table}.{column}: the old text is still indexed"
        );
    }
    drop(conn);

    // A column whose triggers are gone is reported, and the next start
    // puts them back and re-indexes what was written meanwhile.
    let db = &app.services().db;
    let mut conn = db.conn().await.unwrap();
    let drop_sql = match conn.engine() {
        Engine::Sqlite => "DROP TRIGGER text_index_journals_notes_upd".to_string(),
        Engine::Postgres => "DROP TRIGGER text_index_journals_notes ON journals".to_string(),
    };
    conn.batch(&drop_sql).await.unwrap();
    let missing = text_index::missing_triggers(&mut conn).await.unwrap();
    assert_eq!(missing, vec!["journals.notes (no triggers)".to_string()]);
    let journal: i64 = conn
        .query_one("SELECT min(id) FROM journals", params![])
        .await
        .unwrap();
    conn.execute(
        "UPDATE journals SET notes = 'writtenunseen' WHERE id = $1",
        params![journal],
    )
    .await
    .unwrap();
    assert!(keys_for(&mut conn, "writtenunseen").await.is_empty());
    drop(conn);
    let report = text_index::sync(db).await.unwrap();
    assert!(report.rebuilt, "{report:?}");
    let mut conn = db.conn().await.unwrap();
    assert!(text_index::missing_triggers(&mut conn)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(keys_for(&mut conn, "writtenunseen").await.len(), 1);
}
both_backends!(every_declared_text_column_is_indexed);

/// One hit as both scans report it.
type Place = (String, String, String, HitClass);

/// The residue scan as it was before the text index: every text cell of
/// every table read and searched (the reference the indexed scan must
/// agree with).
async fn scan_by_reading_everything(conn: &mut Conn, target: &ScanTarget) -> BTreeSet<Place> {
    let terms = target.terms();
    let identifiers = target.identifier_terms();
    let mut out = BTreeSet::new();
    let mut by_table: Vec<(&'static registry::Table, Vec<&'static str>)> = Vec::new();
    for (t, c) in erasure::text_columns(conn).await.unwrap() {
        let Some(table) = registry::table(&t) else {
            continue;
        };
        let Some(column) = table.column(&c) else {
            continue;
        };
        if table.name == "schema_migrations" {
            continue;
        }
        match by_table.iter_mut().find(|(x, _)| x.name == table.name) {
            Some((_, cols)) => cols.push(column.name),
            None => by_table.push((table, vec![column.name])),
        }
    }
    for (table, columns) in by_table {
        for row in erasure::text_cells(conn, table.name, &columns)
            .await
            .unwrap()
        {
            let builtin = [DELETED_USER_ID, SYSTEM_USER_ID].map(|id| id.to_string());
            if table.name == "users" && builtin.contains(&row.key) {
                continue;
            }
            for (column, text) in columns.iter().zip(&row.cells) {
                let Some(text) = text else { continue };
                let class = match table.column(column).map(|c| &c.data) {
                    Some(Data::Personal(p)) => match p.erasure {
                        Erasure::ForgottenWhenReviewed => HitClass::Held,
                        Erasure::ReviewText => HitClass::FreeText,
                        _ => HitClass::Residue,
                    },
                    _ => HitClass::FreeText,
                };
                let evidence = if class == HitClass::Residue {
                    &identifiers
                } else {
                    &terms
                };
                if !redaction::occurrences(text, evidence).is_empty() {
                    out.insert((
                        table.name.to_string(),
                        (*column).to_string(),
                        row.key.clone(),
                        class,
                    ));
                }
            }
        }
    }
    out
}

/// The text hits of the indexed scan, and its hits in the index itself.
async fn scan_through_the_index(
    conn: &mut Conn,
    target: &ScanTarget,
) -> (BTreeSet<Place>, Vec<String>) {
    let report = scan::scan_database(conn, target).await.unwrap();
    let mut places = BTreeSet::new();
    let mut in_index = Vec::new();
    for hit in report
        .residue
        .iter()
        .chain(&report.free_text)
        .chain(&report.held)
    {
        if hit.table == "text_index" {
            in_index.push(hit.row.clone());
        } else if hit.found == "text" {
            places.insert((
                hit.table.clone(),
                hit.column.clone(),
                hit.row.clone(),
                hit.class,
            ));
        }
    }
    (places, in_index)
}

/// Texts that test where words begin and end, accents, case, addresses,
/// and a name far into a long text (PostgreSQL keeps no word positions
/// past 16,383).
async fn tricky_texts(app: &TestApp, h: &HeavyUser) {
    let long = format!("{} then {}", "filler ".repeat(20_000), h.email);
    let texts = [
        format!(
            "{}'s plan, agreed with {}.",
            h.firstname,
            h.lastname.to_uppercase()
        ),
        format!(
            "{}_{} is a file name, not a person",
            h.firstname, h.lastname
        ),
        "Hédwig with an accent is someone else's spelling".to_string(),
        format!(
            "Write to <{}> or see https://x.example/u/{}/profile",
            h.email, h.login
        ),
        format!("Login {}X is longer", h.login),
        long,
    ];
    for text in texts {
        let res = comment(app, &h.colleague_token, h.assigned[0], &text).await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
}

async fn indexed_scan_finds_what_reading_everything_finds(backend: Backend) {
    let app = TestApp::start(backend).await;
    let h = build_heavy_user(&app, Scale::SMALL).await;
    add_missing_rows(&app, &h).await;
    tricky_texts(&app, &h).await;
    let target = app.services().scan_target_of(&h.login).await.unwrap();

    let mut conn = app.services().db.conn().await.unwrap();
    let reference = scan_by_reading_everything(&mut conn, &target).await;
    let (indexed, in_index) = scan_through_the_index(&mut conn, &target).await;
    assert!(in_index.is_empty(), "{in_index:?}");
    assert!(
        reference.len() >= 10,
        "the fixture should name the person often: {reference:?}"
    );
    assert!(
        reference
            .iter()
            .any(|(t, c, _, k)| t == "journals" && c == "notes" && *k == HitClass::FreeText),
        "{reference:?}"
    );
    assert_eq!(
        indexed.symmetric_difference(&reference).collect::<Vec<_>>(),
        Vec::<&Place>::new(),
        "the indexed scan and the full read disagree"
    );
    drop(conn);

    // After the erasure both agree again: on the texts the redaction queue
    // now holds, and nothing in the index outlived its text.
    let res = app
        .admin(hyper::Method::POST, "/api/v3/gdpr/erasures")
        .json(&serde_json::json!({"user": h.login}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let erased = ScanTarget {
        id: Some(h.id),
        secret_hashes: Vec::new(),
        ..target
    };
    let mut conn = app.services().db.conn().await.unwrap();
    let reference = scan_by_reading_everything(&mut conn, &erased).await;
    let (indexed, in_index) = scan_through_the_index(&mut conn, &erased).await;
    assert!(in_index.is_empty(), "{in_index:?}");
    assert!(!reference.is_empty());
    assert!(
        reference.iter().all(|(_, _, _, k)| *k != HitClass::Residue),
        "{reference:?}"
    );
    assert_eq!(
        indexed.symmetric_difference(&reference).collect::<Vec<_>>(),
        Vec::<&Place>::new(),
        "after the erasure, the indexed scan and the full read disagree"
    );
}
both_backends!(indexed_scan_finds_what_reading_everything_finds);

/// An index entry whose row is gone, or whose row no longer says what the
/// entry says, is residue in the index itself.
async fn an_entry_that_outlived_its_text_is_residue(backend: Backend) {
    let app = TestApp::start(backend).await;
    let h = build_heavy_user(&app, Scale::SMALL).await;
    let target = app.services().scan_target_of(&h.login).await.unwrap();
    let mut conn = app.services().db.conn().await.unwrap();
    let notes = text_index::sources(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.table == "journals" && s.column == "notes")
        .unwrap();
    let (clean, _) = scan_through_the_index(&mut conn, &target).await;
    assert!(!clean.is_empty());
    let ghost = notes.entry_key(9_999_999);
    let sql = match conn.engine() {
        Engine::Sqlite => "INSERT INTO text_index (rowid, doc) VALUES ($1, $2)",
        Engine::Postgres => {
            "INSERT INTO text_index (key, doc) VALUES ($1, to_tsvector('simple', steward_fold($2)))"
        }
    };
    conn.execute(sql, params![ghost, format!("left behind by {}", h.login)])
        .await
        .unwrap();
    // And an entry for a row whose text never said so (a journal without
    // notes has no entry of its own).
    let quiet: i64 = conn
        .query_one(
            "SELECT min(id) FROM journals WHERE notes IS NULL OR notes = ''",
            params![],
        )
        .await
        .unwrap();
    conn.execute(
        sql,
        params![notes.entry_key(quiet), format!("{} said this", h.email)],
    )
    .await
    .unwrap();
    let (_, in_index) = scan_through_the_index(&mut conn, &target).await;
    assert_eq!(
        in_index,
        vec![
            format!("journals.notes row {quiet}"),
            "journals.notes row 9999999".to_string()
        ]
    );
    let report = scan::scan_database(&mut conn, &target).await.unwrap();
    assert!(report
        .residue
        .iter()
        .any(|hit| hit.table == "text_index" && hit.class == HitClass::Residue));
}
both_backends!(an_entry_that_outlived_its_text_is_residue);
