//! Principals (users and groups) as other people see them. Administrators
//! see everyone; anyone else sees themself and the people and groups who
//! share a project with them. A principal the caller may not see is "not
//! found".

use steward_domain::project::ProjectId;
use steward_domain::user::{PrincipalKind, User, UserId};
use steward_storage::principals::{self, PrincipalFilter, SharedWith};
use steward_storage::projects::{self, ProjectFilter};
use steward_storage::Conn;

use crate::authz::Access;
use crate::{ServiceError, Services};

/// Filters for listing principals, as the caller asked for them.
#[derive(Clone, Debug, Default)]
pub struct PrincipalQuery {
    pub kinds: Option<Vec<PrincipalKind>>,
    /// Only members of these projects.
    pub member_of: Option<Vec<ProjectId>>,
    pub name_contains: Option<String>,
}

impl Services {
    /// `filter` restricted to what the caller may see.
    pub(crate) async fn principal_filter(
        &self,
        conn: &mut Conn,
        access: &Access,
        query: &PrincipalQuery,
    ) -> Result<PrincipalFilter, ServiceError> {
        let mut filter = PrincipalFilter {
            kinds: query.kinds.clone(),
            name_contains: query.name_contains.clone(),
            ..PrincipalFilter::default()
        };
        if access.is_admin() {
            filter.member_of = query.member_of.clone();
            return Ok(filter);
        }
        let Some(user_id) = access.user_id() else {
            // Anonymous visitors see no one.
            filter.ids = Some(Vec::new());
            return Ok(filter);
        };
        filter.shared_with = Some(SharedWith {
            user_id,
            projects: access.visible_scope().ids,
        });
        if let Some(requested) = &query.member_of {
            // Only projects the caller can see may be asked about.
            let visible = ProjectFilter {
                ids: Some(requested.clone()),
                ..ProjectFilter::default()
            };
            let ids = projects::list(
                conn,
                &access.visible_scope(),
                &visible,
                "p.id",
                requested.len() as i64,
                0,
            )
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect();
            filter.member_of = Some(ids);
        }
        Ok(filter)
    }

    pub async fn list_principals(
        &self,
        access: &Access,
        query: &PrincipalQuery,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<User>, i64), ServiceError> {
        let mut conn = self.db.conn().await?;
        let filter = self.principal_filter(&mut conn, access, query).await?;
        let list = principals::list(&mut conn, &filter, limit, offset).await?;
        let total = principals::count(&mut conn, &filter).await?;
        Ok((list, total))
    }

    /// A group the caller may see, with its members.
    pub async fn group(
        &self,
        access: &Access,
        id: UserId,
    ) -> Result<(User, Vec<User>), ServiceError> {
        let mut conn = self.db.conn().await?;
        let query = PrincipalQuery {
            kinds: Some(vec![PrincipalKind::Group]),
            ..PrincipalQuery::default()
        };
        let mut filter = self.principal_filter(&mut conn, access, &query).await?;
        filter.ids = Some(match filter.ids {
            Some(ids) => ids.into_iter().filter(|i| *i == id).collect(),
            None => vec![id],
        });
        let group = principals::list(&mut conn, &filter, 1, 0)
            .await?
            .pop()
            .ok_or(ServiceError::NotFound("group"))?;
        let members = principals::group_members(&mut conn, group.id).await?;
        Ok((group, members))
    }
}
