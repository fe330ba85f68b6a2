//! Search for people: one box, every kind of text the reader may see
//! (work packages, their comments, projects; each module adds its own),
//! ranked by the text index, with the words to highlight.

use steward_domain::permission::Permission;
use steward_domain::search::TextQuery;
use steward_storage::search::{self, SearchHit};

use crate::authz::Access;
use crate::{ServiceError, Services};

/// Results of each kind on one page.
pub const PER_KIND: i64 = 20;

/// What a search found, per kind, best first.
#[derive(Clone, Debug, Default)]
pub struct SearchResults {
    /// The words searched for (folded); `None` when the search held no
    /// word at all (only spaces or punctuation).
    pub query: Option<TextQuery>,
    pub work_packages: Vec<SearchHit>,
    pub comments: Vec<SearchHit>,
    pub projects: Vec<SearchHit>,
}

impl SearchResults {
    pub fn is_empty(&self) -> bool {
        self.work_packages.is_empty() && self.comments.is_empty() && self.projects.is_empty()
    }
}

impl Services {
    /// Searches everything `access` may see for `text`: every word must
    /// occur (case and accents folded; a login or email address is found
    /// whole); whatever the input, it is searched as text.
    pub async fn search(&self, access: &Access, text: &str) -> Result<SearchResults, ServiceError> {
        let Some(query) = TextQuery::from_search(text, false) else {
            return Ok(SearchResults::default());
        };
        let wp_scope = access.scope(Permission::ViewWorkPackages);
        let project_scope = access.visible_scope();
        let mut conn = self.db.conn().await?;
        let work_packages = search::work_packages(&mut conn, &wp_scope, &query, PER_KIND).await?;
        let comments = search::comments(&mut conn, &wp_scope, &query, PER_KIND).await?;
        let projects = search::projects(&mut conn, &project_scope, &query, PER_KIND).await?;
        Ok(SearchResults {
            query: Some(query),
            work_packages,
            comments,
            projects,
        })
    }
}
