//! The search results page (`/search?q=`): work packages, comments and
//! projects the reader may see, best matches first, the matching words
//! marked. The box that leads here is in every page's header.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use steward_domain::search::{highlights, TextQuery};
use steward_http::AppState;
use steward_storage::search::{HitKind, SearchHit};

use crate::error::WebError;
use crate::forms::Query;
use crate::layout::Nav;
use crate::session::Viewer;

/// Characters of a matching text shown around its first marked word.
const CONTEXT: usize = 160;

#[derive(Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
}

pub async fn search(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<SearchQuery>,
) -> Result<Response, WebError> {
    let access = viewer.access(&state).await?;
    let text = super::search_text(params.q.as_deref());
    let results = state.services.search(&access, &text).await?;
    let main = html! {
        h1 { "Search" }
        form.search-page role="search" method="get" action="/search" {
            label for="search-q" { "Search for" }
            input #search-q type="search" name="q" value=(text) maxlength="200" autofocus;
            button type="submit" { "Search" }
        }
        @match &results.query {
            None if text.is_empty() => {
                p.muted { "Type words to look for in work packages, comments and projects." }
            }
            None => {
                p.muted { "Type letters or digits: the search holds no word to look for." }
            }
            Some(query) => {
                @if results.is_empty() {
                    p { "Nothing you may see matches " q { (text) } "." }
                }
                (section("Work packages", "results-wps", &results.work_packages, query))
                (section("Comments", "results-comments", &results.comments, query))
                (section("Projects", "results-projects", &results.projects, query))
            }
        }
    };
    let title = if text.is_empty() {
        "Search".to_string()
    } else {
        format!("Search: {text}")
    };
    Ok(viewer.page(StatusCode::OK, &title, Nav::Search, None, main))
}

fn section(title: &str, id: &str, hits: &[SearchHit], query: &TextQuery) -> Markup {
    html! {
        @if !hits.is_empty() {
            section aria-labelledby=(id) {
                h2 #(id) { (title) " " span.muted { "(" (hits.len()) ")" } }
                ol.results {
                    @for hit in hits {
                        li { (result(hit, query)) }
                    }
                }
            }
        }
    }
}

fn result(hit: &SearchHit, query: &TextQuery) -> Markup {
    let (href, label) = match hit.kind {
        HitKind::WorkPackage => (
            format!("/work_packages/{}", hit.id),
            format!("#{} ", hit.id),
        ),
        HitKind::Comment => (
            format!(
                "/work_packages/{}#activity-{}",
                hit.id,
                hit.journal_id.unwrap_or(0)
            ),
            format!("Comment on #{} ", hit.id),
        ),
        HitKind::Project => (format!("/projects/{}", hit.project_id), String::new()),
    };
    let context = context(&crate::layout::excerpt(&hit.text, 100_000), query);
    html! {
        a href=(href) { (label) (marked(&hit.title, query)) }
        @if hit.kind != HitKind::Project {
            " " span.muted { "in " (hit.project_name) }
        }
        @if !context.is_empty() {
            p.context { (marked(&context, query)) }
        }
    }
}

/// Up to [`CONTEXT`] characters of `text` around its first marked word.
fn context(text: &str, query: &TextQuery) -> String {
    let first = highlights(text, query).first().map_or(0, |&(s, _)| s);
    let before: Vec<char> = text[..first].chars().rev().take(CONTEXT / 3).collect();
    let start = first - before.iter().map(|c| c.len_utf8()).sum::<usize>();
    let mut out: String = text[start..].chars().take(CONTEXT).collect();
    if start > 0 {
        out.insert(0, '…');
    }
    if text[start..].chars().count() > CONTEXT {
        out.push('…');
    }
    out
}

/// `text` with the words the query looks for in `<mark>` (escaped).
fn marked(text: &str, query: &TextQuery) -> Markup {
    // (plain text before, marked word) pairs, then the rest.
    let mut parts: Vec<(&str, &str)> = Vec::new();
    let mut last = 0;
    for (s, e) in highlights(text, query) {
        parts.push((&text[last..s], &text[s..e]));
        last = e;
    }
    let rest = &text[last..];
    html! {
        @for (plain, word) in parts {
            (plain) mark { (word) }
        }
        (rest)
    }
}
