//! Work packages: read, list, create, update (optimistic locking), delete,
//! comments and the change history. Every change writes exactly one
//! journal, in the same transaction as the change, with the state after it;
//! mentions in the description and in comments are resolved and stored.

use std::collections::HashMap;
use std::sync::Mutex;

use steward_domain::custom_field::Kind as CustomKind;
use steward_domain::date::Date;
use steward_domain::mention;
use steward_domain::permission::Permission;
use steward_domain::project::{Project, ProjectId};
use steward_domain::user::{PrincipalKind, User, UserId};
use steward_domain::work_package::{self, Change, WorkPackageId, WorkPackageState};
use steward_domain::{Timestamp, ValidationError, ValidationErrors};
use steward_storage::journals::{self, Journal};
use steward_storage::work_packages::{self as wps, Query, WorkPackageRow};
use steward_storage::{lookups, projects, users, Conn, Param};

use crate::authz::Access;
use crate::custom_fields::{CustomHistory, CustomValuesInput, PreparedValues};
use crate::error::gather;
use crate::{ServiceError, Services};

pub const SUBJECT_MAX: usize = 255;

/// Fields to set on a work package; `None` leaves a field alone, and for
/// nullable fields `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct WorkPackageInput {
    pub project_id: Option<ProjectId>,
    pub type_id: Option<i64>,
    pub status_id: Option<i64>,
    pub priority_id: Option<i64>,
    pub subject: Option<String>,
    pub description: Option<String>,
    pub assigned_to_id: Option<Option<UserId>>,
    pub responsible_id: Option<Option<UserId>>,
    pub start_date: Option<Option<Date>>,
    pub due_date: Option<Option<Date>>,
    pub estimated_hours: Option<Option<f64>>,
    pub remaining_hours: Option<Option<f64>>,
    pub done_ratio: Option<Option<i64>>,
    pub parent_id: Option<Option<WorkPackageId>>,
    pub version_id: Option<Option<i64>>,
    /// Values of custom fields (`customFieldN`).
    pub custom_fields: CustomValuesInput,
}

/// Cached collection totals, keyed by the count query, valid while the
/// work packages' data version is unchanged. A `count(*)` per list request
/// costs more than the page itself; the version check is one primary-key read.
#[derive(Default)]
pub struct TotalCache {
    entries: Mutex<HashMap<String, (i64, i64)>>,
}

const TOTAL_CACHE_MAX: usize = 2048;

impl TotalCache {
    fn get(&self, key: &str, version: i64) -> Option<i64> {
        let map = self.entries.lock().ok()?;
        map.get(key).filter(|(v, _)| *v == version).map(|(_, t)| *t)
    }
    /// Entries whose query has `id` among its parameters (a filter on an
    /// assignee, say): what the residue scan counts as cached references.
    /// Conservative: an equal project id counts too.
    pub fn entries_mentioning(&self, id: i64) -> usize {
        let needle = format!("{:?}", Param::Int(id));
        self.entries
            .lock()
            .map_or(0, |map| map.keys().filter(|k| k.contains(&needle)).count())
    }

    /// Forgets every entry (after an erasure, so no key names the person).
    pub fn clear(&self) {
        if let Ok(mut map) = self.entries.lock() {
            map.clear();
        }
    }

    fn put(&self, key: String, version: i64, total: i64) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= TOTAL_CACHE_MAX {
                map.clear();
            }
            map.insert(key, (version, total));
        }
    }
}

fn cache_key(sql: &str, params: &[Param]) -> String {
    format!("{sql}|{params:?}")
}

/// The project a new work package goes to: named, visible, and open to the
/// caller's "add work packages". Shared by creation and its dry run (forms).
async fn creation_target(
    conn: &mut Conn,
    access: &Access,
    project_id: Option<ProjectId>,
) -> Result<Project, ServiceError> {
    let project_id = project_id.ok_or_else(|| invalid("project", "Project can't be blank."))?;
    let project = projects::find(conn, project_id)
        .await?
        .filter(|p| access.can_see(p))
        .ok_or_else(|| {
            invalid(
                "project",
                "The project does not exist or you cannot see it.",
            )
        })?;
    if !access.allowed(&project, Permission::AddWorkPackages) {
        return Err(ServiceError::Forbidden(
            "You are not allowed to add work packages to this project.".into(),
        ));
    }
    Ok(project)
}

fn invalid(attribute: &'static str, message: impl Into<String>) -> ServiceError {
    ValidationError::new(attribute, message).into()
}

fn stale() -> ServiceError {
    ServiceError::StaleLockVersion(
        "The work package was changed by someone else since you read it (lockVersion mismatch). Reload it and apply your change again.".into(),
    )
}

/// A check came back without a value and without saying why: a bug here,
/// not the caller's doing.
fn unexplained() -> ServiceError {
    ServiceError::Internal("a work-package check refused without a reason".into())
}

/// What checking a new work package found: its project and custom values
/// when they passed, and every error of every field.
struct CheckedNew {
    project: Option<Project>,
    custom: Option<PreparedValues>,
    errors: ValidationErrors,
}

impl CheckedNew {
    /// The project and custom values to write, or every error found.
    fn finish(self) -> Result<(Project, PreparedValues), ServiceError> {
        self.errors.finish()?;
        match (self.project, self.custom) {
            (Some(p), Some(c)) => Ok((p, c)),
            _ => Err(unexplained()),
        }
    }
}

/// A new work package as its transaction read it, with its project.
#[derive(Clone, Debug)]
pub struct CreatedWorkPackage {
    pub row: WorkPackageRow,
    pub project: Project,
    /// No custom field of work packages existed when it was created, so
    /// its representation has no custom values to look up.
    pub no_custom_fields: bool,
}

/// A change with names for the ids it mentions, ready to show.
#[derive(Clone, Debug)]
pub struct NamedChange {
    pub attribute: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// A journal with its changes against the previous one.
#[derive(Clone, Debug)]
pub struct Activity {
    pub journal: Journal,
    pub changes: Vec<NamedChange>,
    /// Earlier wordings of the comment, oldest first.
    pub edits: usize,
}

/// Types, statuses and priorities, each read at most once per request
/// and only when needed.
#[derive(Default)]
struct Lookups {
    types: Option<Vec<lookups::WpType>>,
    statuses: Option<Vec<lookups::Status>>,
    priorities: Option<Vec<lookups::Priority>>,
}

impl Lookups {
    async fn types(&mut self, conn: &mut Conn) -> Result<&[lookups::WpType], ServiceError> {
        if self.types.is_none() {
            self.types = Some(lookups::types(conn).await?);
        }
        Ok(self.types.as_deref().unwrap_or_default())
    }

    async fn statuses(&mut self, conn: &mut Conn) -> Result<&[lookups::Status], ServiceError> {
        if self.statuses.is_none() {
            self.statuses = Some(lookups::statuses(conn).await?);
        }
        Ok(self.statuses.as_deref().unwrap_or_default())
    }

    async fn priorities(&mut self, conn: &mut Conn) -> Result<&[lookups::Priority], ServiceError> {
        if self.priorities.is_none() {
            self.priorities = Some(lookups::priorities(conn).await?);
        }
        Ok(self.priorities.as_deref().unwrap_or_default())
    }
}

/// The state a new work package starts from: the default type, status and
/// priority (or the first of each), before the input is applied.
async fn new_state(
    conn: &mut Conn,
    lookups: &mut Lookups,
    project_id: ProjectId,
    author_id: UserId,
) -> Result<WorkPackageState, ServiceError> {
    let types = lookups.types(conn).await?;
    let type_id = types
        .iter()
        .find(|t| t.is_default)
        .or(types.first())
        .map_or(0, |t| t.id);
    let statuses = lookups.statuses(conn).await?;
    let status_id = statuses
        .iter()
        .find(|s| s.is_default)
        .or(statuses.first())
        .map_or(0, |s| s.id);
    let priorities = lookups.priorities(conn).await?;
    let priority_id = priorities
        .iter()
        .find(|p| p.is_default)
        .or(priorities.first())
        .map_or(0, |p| p.id);
    Ok(WorkPackageState {
        project_id,
        type_id,
        status_id,
        priority_id,
        subject: String::new(),
        description: String::new(),
        author_id,
        assigned_to_id: None,
        responsible_id: None,
        start_date: None,
        due_date: None,
        estimated_hours: None,
        remaining_hours: None,
        done_ratio: None,
        parent_id: None,
        version_id: None,
    })
}

impl Services {
    async fn visible_project(
        &self,
        conn: &mut Conn,
        access: &Access,
        id: ProjectId,
    ) -> Result<Option<Project>, ServiceError> {
        Ok(projects::find(conn, id)
            .await?
            .filter(|p| access.allowed(p, Permission::ViewWorkPackages)))
    }

    /// A work package the caller may see, with its project.
    pub async fn work_package(
        &self,
        access: &Access,
        id: WorkPackageId,
    ) -> Result<(WorkPackageRow, Project), ServiceError> {
        let mut conn = self.db.conn().await?;
        let row = wps::find_row(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("work package"))?;
        let project = self
            .visible_project(&mut conn, access, row.wp.state.project_id)
            .await?
            .ok_or(ServiceError::NotFound("work package"))?;
        Ok((row, project))
    }

    /// A page of the work packages the caller may see that match `query`
    /// (its scope is set here), and the total.
    pub async fn list_work_packages(
        &self,
        access: &Access,
        mut query: Query,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<WorkPackageRow>, i64), ServiceError> {
        visible_only(access, &mut query);
        let mut conn = self.db.conn().await?;
        let rows = wps::list(&mut conn, &query, limit, offset).await?;
        let version = wps::data_version(&mut conn).await?;
        let (sql, params) = wps::count_sql(&query, self.db.engine());
        let key = cache_key(&sql, &params);
        let total = match self.totals.get(&key, version) {
            Some(t) => t,
            None => {
                let t = wps::count(&mut conn, &query).await?;
                self.totals.put(key, version, t);
                t
            }
        };
        Ok((rows, total))
    }

    /// How many of the work packages `query` finds (of those `access` may
    /// see) have each value of `by`: the groups of a grouped listing.
    pub async fn work_package_groups(
        &self,
        access: &Access,
        mut query: Query,
        by: wps::GroupColumn,
    ) -> Result<Vec<wps::GroupCount>, ServiceError> {
        visible_only(access, &mut query);
        let mut conn = self.db.conn().await?;
        Ok(wps::group_counts(&mut conn, &query, by).await?)
    }

    /// Creates a work package in the project named by `input.project_id`.
    pub async fn create_work_package(
        &self,
        access: &Access,
        author: &User,
        input: WorkPackageInput,
    ) -> Result<WorkPackageRow, ServiceError> {
        Ok(self
            .create_work_package_in(access, author, input)
            .await?
            .row)
    }

    /// [`Self::create_work_package`], also returning what showing the new
    /// work package needs besides its row, so that a caller need not read
    /// it back.
    pub async fn create_work_package_in(
        &self,
        access: &Access,
        author: &User,
        input: WorkPackageInput,
    ) -> Result<CreatedWorkPackage, ServiceError> {
        let mut tx = self.db.begin().await?;
        let (state, checked) = self.check_new(&mut tx, access, author, &input).await?;
        let (project, custom) = checked.finish()?;
        let now = Timestamp::now();
        let wp = wps::insert(&mut tx, &state, now).await?;
        // Before the journal, which records the custom values too.
        custom.store(&mut tx, wp.id).await?;
        if custom.changed() {
            journals::insert(&mut tx, wp.id, author.id, "", &state, now).await?;
        } else {
            // Ids are never reused, so a new work package without custom
            // values given has none to copy into its first journal.
            journals::insert_without_custom_values(&mut tx, wp.id, author.id, "", &state, now)
                .await?;
        }
        // A new work package has no stored mentions to replace, so a
        // description that cannot mention anyone needs no statement at all.
        if mention::may_mention(&state.description) {
            self.store_mentions(&mut tx, "work_package", wp.id, &state.description, now)
                .await?;
        }
        let row = wps::find_row(&mut tx, wp.id)
            .await?
            .ok_or(ServiceError::NotFound("work package"))?;
        tx.commit().await?;
        Ok(CreatedWorkPackage {
            row,
            project,
            no_custom_fields: custom.none_defined(),
        })
    }

    /// Changes a work package if `lock_version` is current. A comment may
    /// come with the change; both land in one journal.
    pub async fn update_work_package(
        &self,
        access: &Access,
        user: &User,
        id: WorkPackageId,
        lock_version: Option<i64>,
        input: WorkPackageInput,
        comment: Option<String>,
    ) -> Result<WorkPackageRow, ServiceError> {
        let mut tx = self.db.begin().await?;
        let current = wps::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("work package"))?;
        let project = self
            .visible_project(&mut tx, access, current.state.project_id)
            .await?
            .ok_or(ServiceError::NotFound("work package"))?;
        let mut errors = ValidationErrors::new();
        if lock_version.is_none() {
            errors.add(
                "lockVersion",
                "lockVersion is required to update a work package.",
            );
        }
        if lock_version.is_some_and(|v| v != current.lock_version) {
            return Err(stale());
        }
        let (state, custom) = self
            .check_change(&mut tx, access, id, &current.state, &input, &mut errors)
            .await?;
        errors.finish()?;
        let (Some(lock_version), Some(custom)) = (lock_version, custom) else {
            return Err(unexplained());
        };
        let changed = state != current.state || custom.changed();
        let comment = comment
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        if changed && !access.allowed(&project, Permission::EditWorkPackages) {
            return Err(ServiceError::Forbidden(
                "You are not allowed to edit this work package.".into(),
            ));
        }
        if comment.is_some()
            && !changed
            && !access.allowed(&project, Permission::AddWorkPackageNotes)
        {
            return Err(ServiceError::Forbidden(
                "You are not allowed to comment on this work package.".into(),
            ));
        }
        if state.project_id != current.state.project_id {
            let target = projects::find(&mut tx, state.project_id).await?;
            if target.is_none_or(|p| !access.allowed(&p, Permission::AddWorkPackages)) {
                return Err(invalid(
                    "project",
                    "You may not move the work package to that project.",
                ));
            }
        }
        let now = Timestamp::now();
        if changed || comment.is_some() {
            let stored = wps::update(&mut tx, id, &state, lock_version, now)
                .await?
                .ok_or_else(|| {
                    ServiceError::StaleLockVersion(
                        "The work package was changed by someone else meanwhile.".into(),
                    )
                })?;
            custom.store(&mut tx, id).await?;
            let jid = journals::insert(
                &mut tx,
                id,
                user.id,
                comment.as_deref().unwrap_or(""),
                &stored.state,
                now,
            )
            .await?;
            if let Some(text) = &comment {
                self.store_mentions(&mut tx, "journal", jid, text, now)
                    .await?;
            }
            if state.description != current.state.description {
                self.store_mentions(&mut tx, "work_package", id, &state.description, now)
                    .await?;
            }
        }
        let row = wps::find_row(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("work package"))?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn delete_work_package(
        &self,
        access: &Access,
        id: WorkPackageId,
    ) -> Result<(), ServiceError> {
        let mut tx = self.db.begin().await?;
        let current = wps::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("work package"))?;
        let project = self
            .visible_project(&mut tx, access, current.state.project_id)
            .await?
            .ok_or(ServiceError::NotFound("work package"))?;
        if !access.allowed(&project, Permission::DeleteWorkPackages) {
            return Err(ServiceError::Forbidden(
                "You are not allowed to delete this work package.".into(),
            ));
        }
        wps::delete(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks a new work package: its project (which must be open to the
    /// caller; `Forbidden` otherwise), then every field even when the
    /// project was refused, so that all errors are reported at once.
    /// Shared by creation and its dry run.
    async fn check_new(
        &self,
        conn: &mut Conn,
        access: &Access,
        author: &User,
        input: &WorkPackageInput,
    ) -> Result<(WorkPackageState, CheckedNew), ServiceError> {
        let mut errors = ValidationErrors::new();
        let project = gather(
            &mut errors,
            creation_target(conn, access, input.project_id).await,
        )?;
        // Read once here and handed to `apply`: inside the write transaction
        // every statement holds SQLite's single write lock.
        let mut lookups = Lookups::default();
        let project_id = project.as_ref().map_or(0, |p| p.id);
        let base = new_state(conn, &mut lookups, project_id, author.id).await?;
        let state = self
            .apply(conn, &mut lookups, access, None, &base, input, &mut errors)
            .await?;
        let custom = match &project {
            Some(p) => gather(
                &mut errors,
                self.prepare_custom_values(
                    conn,
                    CustomKind::WorkPackage,
                    None,
                    Some((p.id, true)),
                    &input.custom_fields,
                )
                .await,
            )?,
            None => None,
        };
        Ok((
            state,
            CheckedNew {
                project,
                custom,
                errors,
            },
        ))
    }

    /// Checks a change of work package `id` (now `current`): every field
    /// and the custom values, errors pushed into `errors`. Returns the
    /// state after the change and the custom values to write (`None` when
    /// they were refused). Shared by the update and its dry run.
    async fn check_change(
        &self,
        conn: &mut Conn,
        access: &Access,
        id: WorkPackageId,
        current: &WorkPackageState,
        input: &WorkPackageInput,
        errors: &mut ValidationErrors,
    ) -> Result<(WorkPackageState, Option<PreparedValues>), ServiceError> {
        let state = self
            .apply(
                conn,
                &mut Lookups::default(),
                access,
                Some((id, current)),
                current,
                input,
                errors,
            )
            .await?;
        let custom = gather(
            errors,
            self.prepare_custom_values(
                conn,
                CustomKind::WorkPackage,
                Some(id),
                Some((state.project_id, state.project_id != current.project_id)),
                &input.custom_fields,
            )
            .await,
        )?;
        Ok((state, custom))
    }

    /// Lays `input` over `base` and returns the resulting state, pushing
    /// every field's errors into `errors` (the state must then not be
    /// written). Checks that need the project are left out when `errors`
    /// already refuses it; checks that need another field's value are
    /// left out when that value was refused.
    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &self,
        conn: &mut Conn,
        lookups: &mut Lookups,
        access: &Access,
        current: Option<(WorkPackageId, &WorkPackageState)>,
        base: &WorkPackageState,
        input: &WorkPackageInput,
        errors: &mut ValidationErrors,
    ) -> Result<WorkPackageState, ServiceError> {
        let current_id = current.map(|(id, _)| id);
        let current = current.map(|(_, s)| s);
        let mut s = base.clone();
        if let Some(p) = input.project_id {
            s.project_id = p;
        }
        let project_known = !errors.has("project");
        if let Some(v) = &input.subject {
            s.subject = v.trim().to_string();
        }
        if s.subject.chars().count() > SUBJECT_MAX {
            errors.add(
                "subject",
                format!("Subject is too long (maximum is {SUBJECT_MAX} characters)."),
            );
        } else if s.subject.is_empty() {
            errors.add("subject", "Subject can't be blank.");
        }
        if let Some(v) = &input.description {
            s.description = v.clone();
        }
        if let Some(t) = input.type_id {
            s.type_id = t;
        }
        let is_milestone = match lookups
            .types(conn)
            .await?
            .iter()
            .find(|t| t.id == s.type_id)
        {
            Some(t) => t.is_milestone,
            None => {
                errors.add("type", format!("Type {} does not exist.", s.type_id));
                false
            }
        };
        if let Some(v) = input.status_id {
            if !lookups.statuses(conn).await?.iter().any(|st| st.id == v) {
                errors.add("status", format!("Status {v} does not exist."));
            }
            s.status_id = v;
        }
        if let Some(v) = input.priority_id {
            if !lookups
                .priorities(conn)
                .await?
                .iter()
                .any(|p| p.id == v && p.active)
            {
                errors.add("priority", format!("Priority {v} does not exist."));
            }
            s.priority_id = v;
        }
        if let Some(v) = input.assigned_to_id {
            s.assigned_to_id = v;
        }
        if let Some(v) = input.responsible_id {
            s.responsible_id = v;
        }
        for (attr, value, before) in [
            (
                "assignee",
                s.assigned_to_id,
                current.and_then(|c| c.assigned_to_id),
            ),
            (
                "responsible",
                s.responsible_id,
                current.and_then(|c| c.responsible_id),
            ),
        ] {
            // An unchanged reference stays valid even if the person left the project.
            if let Some(uid) = value.filter(|v| Some(*v) != before || input.project_id.is_some()) {
                if project_known {
                    gather(
                        errors,
                        self.check_assignable(conn, attr, s.project_id, uid).await,
                    )?;
                }
            }
        }
        if let Some(v) = input.start_date {
            s.start_date = v;
        }
        if let Some(v) = input.due_date {
            s.due_date = v;
        }
        if is_milestone {
            // A milestone has one date: whichever was given is both.
            match (input.start_date.is_some(), input.due_date.is_some()) {
                (true, false) => s.due_date = s.start_date,
                (false, true) => s.start_date = s.due_date,
                _ => {}
            }
            if s.start_date != s.due_date {
                errors.add(
                    "date",
                    "A milestone has a single date: start and finish must be the same.",
                );
            }
        } else if let (Some(a), Some(b)) = (s.start_date, s.due_date) {
            if a > b {
                errors.add(
                    "dueDate",
                    "The finish date must not be before the start date.",
                );
            }
        }
        for (attr, value, slot) in [
            (
                "estimatedTime",
                input.estimated_hours,
                &mut s.estimated_hours,
            ),
            (
                "remainingTime",
                input.remaining_hours,
                &mut s.remaining_hours,
            ),
        ] {
            if let Some(v) = value {
                if v.is_some_and(|h| !(0.0..=1_000_000.0).contains(&h)) {
                    errors.add(attr, "Time must be between 0 and 1,000,000 hours.");
                }
                *slot = v;
            }
        }
        if let Some(v) = input.done_ratio {
            if v.is_some_and(|r| !(0..=100).contains(&r)) {
                errors.add("percentageDone", "% Complete must be between 0 and 100.");
            }
            s.done_ratio = v;
        }
        if let Some(v) = input.version_id {
            if let Some(vid) = v.filter(|_| project_known) {
                let version = lookups::version(conn, vid).await?;
                if version.is_none_or(|ver| ver.project_id != s.project_id) {
                    errors.add("version", "The version does not exist in this project.");
                }
            }
            s.version_id = v;
        }
        if let Some(v) = input.parent_id {
            if let Some(pid) = v {
                gather(
                    errors,
                    self.check_parent_wp(conn, access, current_id, pid).await,
                )?;
            }
            s.parent_id = v;
        }
        Ok(s)
    }

    async fn check_assignable(
        &self,
        conn: &mut Conn,
        attribute: &'static str,
        project_id: ProjectId,
        uid: UserId,
    ) -> Result<(), ServiceError> {
        let user = users::find(conn, uid).await?;
        let ok_kind = user
            .as_ref()
            .is_some_and(|u| matches!(u.kind, PrincipalKind::User | PrincipalKind::Group));
        if !ok_kind {
            return Err(invalid(attribute, format!("User {uid} does not exist.")));
        }
        let members = steward_storage::members::principal_ids(conn, project_id).await?;
        if !members.contains(&uid) {
            return Err(invalid(
                attribute,
                format!("User {uid} is not a member of the project and cannot be assigned."),
            ));
        }
        Ok(())
    }

    /// The parent must be visible and must not be the work package itself
    /// or one of its descendants.
    async fn check_parent_wp(
        &self,
        conn: &mut Conn,
        access: &Access,
        id: Option<WorkPackageId>,
        parent: WorkPackageId,
    ) -> Result<(), ServiceError> {
        let p = wps::find(conn, parent).await?;
        let Some(p) = p else {
            return Err(invalid(
                "parent",
                format!("Work package {parent} does not exist."),
            ));
        };
        if self
            .visible_project(conn, access, p.state.project_id)
            .await?
            .is_none()
        {
            return Err(invalid(
                "parent",
                format!("Work package {parent} does not exist."),
            ));
        }
        // The parent may not be the work package itself or a descendant of it.
        if let Some(id) = id {
            if parent == id || wps::ancestors(conn, parent).await?.contains(&id) {
                return Err(invalid(
                    "parent",
                    "A work package cannot be its own ancestor: this parent would make a cycle.",
                ));
            }
        }
        Ok(())
    }

    /// Resolves the mentions in `text` and stores them for `source`.
    async fn store_mentions(
        &self,
        conn: &mut Conn,
        source_type: &str,
        source_id: i64,
        text: &str,
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        let found = mention::find(text);
        let mut ids: Vec<i64> = Vec::new();
        for id in found.user_ids {
            if users::find(conn, id)
                .await?
                .is_some_and(|u| u.kind == PrincipalKind::User)
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
        for login in found.logins {
            if let Some(u) = users::find_by_login(conn, &login).await? {
                if u.kind == PrincipalKind::User && !ids.contains(&u.id) {
                    ids.push(u.id);
                }
            }
        }
        journals::set_mentions(conn, source_type, source_id, &ids, now).await?;
        Ok(())
    }

    /// The change history of a work package, oldest first, with the changes
    /// each journal made (ids replaced by names).
    pub async fn activities(
        &self,
        access: &Access,
        wp_id: WorkPackageId,
    ) -> Result<Vec<Activity>, ServiceError> {
        self.work_package(access, wp_id).await?;
        let mut conn = self.db.conn().await?;
        let list = journals::for_work_package(&mut conn, wp_id).await?;
        let names = Names::load(&mut conn, &list).await?;
        let custom = CustomHistory::load(&mut conn, &list).await?;
        let edit_counts = journals::note_edit_counts(&mut conn, wp_id).await?;
        let mut out = Vec::with_capacity(list.len());
        let mut prev: Option<&WorkPackageState> = None;
        let mut prev_id: Option<i64> = None;
        for j in &list {
            let mut changes: Vec<NamedChange> = work_package::changes(prev, &j.state)
                .into_iter()
                .map(|c| names.name(c))
                .collect();
            changes.extend(custom.changes(prev_id, j.id));
            let edits = edit_counts.get(&j.id).copied().unwrap_or(0);
            out.push(Activity {
                journal: j.clone(),
                changes,
                edits,
            });
            prev = Some(&j.state);
            prev_id = Some(j.id);
        }
        Ok(out)
    }

    pub async fn activity(
        &self,
        access: &Access,
        journal_id: i64,
    ) -> Result<Activity, ServiceError> {
        let mut conn = self.db.conn().await?;
        let j = journals::find(&mut conn, journal_id)
            .await?
            .ok_or(ServiceError::NotFound("activity"))?;
        drop(conn);
        self.activities(access, j.journable_id)
            .await
            .map_err(|_| ServiceError::NotFound("activity"))?
            .into_iter()
            .find(|a| a.journal.id == journal_id)
            .ok_or(ServiceError::NotFound("activity"))
    }

    /// Adds a comment (a journal with a note and no other change).
    pub async fn add_comment(
        &self,
        access: &Access,
        user: &User,
        wp_id: WorkPackageId,
        text: &str,
    ) -> Result<Activity, ServiceError> {
        let (_, project) = self.work_package(access, wp_id).await?;
        if !access.allowed(&project, Permission::AddWorkPackageNotes) {
            return Err(ServiceError::Forbidden(
                "You are not allowed to comment on this work package.".into(),
            ));
        }
        let text = text.trim();
        if text.is_empty() {
            return Err(invalid("comment", "Comment can't be blank."));
        }
        let now = Timestamp::now();
        let mut tx = self.db.begin().await?;
        // Take the work package's row lock first (marking it updated now,
        // as a comment is a change to it): concurrent comments on one work
        // package then number their journals one after the other instead
        // of colliding on the version. The state is read in the same
        // transaction, so the journal records the state it was written against.
        wps::touch(&mut tx, wp_id, now).await?;
        let current = wps::find(&mut tx, wp_id)
            .await?
            .ok_or(ServiceError::NotFound("work package"))?;
        let jid = journals::insert(&mut tx, wp_id, user.id, text, &current.state, now).await?;
        self.store_mentions(&mut tx, "journal", jid, text, now)
            .await?;
        tx.commit().await?;
        self.activity(access, jid).await
    }

    /// Edits a comment: its author with "edit own comments", anyone with
    /// "edit comments". The earlier wording is kept.
    pub async fn edit_comment(
        &self,
        access: &Access,
        user: &User,
        journal_id: i64,
        text: &str,
    ) -> Result<Activity, ServiceError> {
        let activity = self.activity(access, journal_id).await?;
        let (_, project) = self
            .work_package(access, activity.journal.journable_id)
            .await?;
        let own = activity.journal.user_id == user.id;
        let may = access.allowed(&project, Permission::EditWorkPackageNotes)
            || (own && access.allowed(&project, Permission::EditOwnWorkPackageNotes));
        if !may {
            return Err(ServiceError::Forbidden(
                "You are not allowed to edit this comment.".into(),
            ));
        }
        let text = text.trim();
        let now = Timestamp::now();
        let mut tx = self.db.begin().await?;
        journals::edit_notes(&mut tx, journal_id, text, user.id, now).await?;
        self.store_mentions(&mut tx, "journal", journal_id, text, now)
            .await?;
        tx.commit().await?;
        self.activity(access, journal_id).await
    }

    /// The states of the given work packages as they were at `at`.
    pub async fn work_packages_as_of(
        &self,
        ids: &[WorkPackageId],
        at: Timestamp,
    ) -> Result<HashMap<WorkPackageId, WorkPackageState>, ServiceError> {
        let mut conn = self.db.conn().await?;
        Ok(journals::states_as_of(&mut conn, ids, at)
            .await?
            .into_iter()
            .map(|(id, (_, s))| (id, s))
            .collect())
    }

    /// The refusal of a create (`id` is `None`) or an update whose input
    /// had fields the front-end could not even read: their errors
    /// (`malformed`; `input` leaves those fields alone), then those the
    /// dry run ([`Self::validate_work_package`]) finds in the rest, so that
    /// every field's message comes back at once. Nothing is written. A
    /// failure of the dry run that is not about the values (not allowed, a
    /// stale lock version, the database) is that failure.
    pub async fn refuse_malformed_work_package(
        &self,
        access: &Access,
        user: &User,
        id: Option<WorkPackageId>,
        lock_version: Option<i64>,
        input: WorkPackageInput,
        mut malformed: ValidationErrors,
    ) -> ServiceError {
        match self
            .validate_work_package(access, user, id, lock_version, input)
            .await
        {
            Ok(()) => ServiceError::Invalid(malformed),
            Err(ServiceError::Invalid(more)) => {
                let unreadable: Vec<&'static str> = malformed.iter().map(|e| e.attribute).collect();
                for e in more {
                    // A field left alone for being malformed may be refused
                    // again for what it then is: its own message says why.
                    if !unreadable.contains(&e.attribute) {
                        malformed.push(e);
                    }
                }
                ServiceError::Invalid(malformed)
            }
            Err(other) => other,
        }
    }

    /// Runs the checks of `create_work_package` (`id` is `None`) or
    /// `update_work_package` on `input` without writing anything: they run
    /// in a transaction that is rolled back. For forms, which show what a
    /// write would do. Besides the values, the caller must be allowed to
    /// write (Forbidden otherwise): add work packages in the project of a
    /// new one, edit work packages for an existing one. `lock_version`,
    /// when given, must be current.
    pub async fn validate_work_package(
        &self,
        access: &Access,
        user: &User,
        id: Option<WorkPackageId>,
        lock_version: Option<i64>,
        input: WorkPackageInput,
    ) -> Result<(), ServiceError> {
        let mut tx = self.db.begin().await?;
        let result: Result<(), ServiceError> = async {
            match id {
                None => {
                    let (_, checked) = self.check_new(&mut tx, access, user, &input).await?;
                    checked.finish()?;
                }
                Some(id) => {
                    let current = wps::find(&mut tx, id)
                        .await?
                        .ok_or(ServiceError::NotFound("work package"))?;
                    let project = self
                        .visible_project(&mut tx, access, current.state.project_id)
                        .await?
                        .ok_or(ServiceError::NotFound("work package"))?;
                    if lock_version.is_some_and(|v| v != current.lock_version) {
                        return Err(stale());
                    }
                    let mut errors = ValidationErrors::new();
                    let (state, _) = self
                        .check_change(&mut tx, access, id, &current.state, &input, &mut errors)
                        .await?;
                    errors.finish()?;
                    if !access.allowed(&project, Permission::EditWorkPackages) {
                        return Err(ServiceError::Forbidden(
                            "You are not allowed to edit this work package.".into(),
                        ));
                    }
                    if state.project_id != current.state.project_id {
                        let target = projects::find(&mut tx, state.project_id).await?;
                        if target.is_none_or(|p| !access.allowed(&p, Permission::AddWorkPackages)) {
                            return Err(invalid(
                                "project",
                                "You may not move the work package to that project.",
                            ));
                        }
                    }
                }
            }
            Ok(())
        }
        .await;
        tx.rollback().await?;
        result
    }
}

/// Names for the ids that appear in a set of journals.
struct Names {
    statuses: HashMap<i64, String>,
    types: HashMap<i64, String>,
    priorities: HashMap<i64, String>,
    projects: HashMap<i64, String>,
    users: HashMap<i64, String>,
    versions: HashMap<i64, String>,
}

impl Names {
    async fn load(conn: &mut Conn, journals: &[Journal]) -> Result<Names, ServiceError> {
        let statuses = lookups::statuses(conn)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        let types = lookups::types(conn)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect();
        let priorities = lookups::priorities(conn)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        let mut projects_map = HashMap::new();
        let mut users_map = HashMap::new();
        let mut versions = HashMap::new();
        for j in journals {
            let s = &j.state;
            if let std::collections::hash_map::Entry::Vacant(e) = projects_map.entry(s.project_id) {
                if let Some(p) = projects::find(conn, s.project_id).await? {
                    e.insert(p.name);
                }
            }
            for uid in [Some(s.author_id), s.assigned_to_id, s.responsible_id]
                .into_iter()
                .flatten()
            {
                if let std::collections::hash_map::Entry::Vacant(e) = users_map.entry(uid) {
                    if let Some(u) = users::find(conn, uid).await? {
                        e.insert(u.name());
                    }
                }
            }
            if let Some(vid) = s.version_id {
                if let std::collections::hash_map::Entry::Vacant(e) = versions.entry(vid) {
                    if let Some(v) = lookups::version(conn, vid).await? {
                        e.insert(v.name);
                    }
                }
            }
        }
        Ok(Names {
            statuses,
            types,
            priorities,
            projects: projects_map,
            users: users_map,
            versions,
        })
    }

    fn name(&self, c: Change) -> NamedChange {
        let map: Option<&HashMap<i64, String>> = match c.attribute {
            "status" => Some(&self.statuses),
            "type" => Some(&self.types),
            "priority" => Some(&self.priorities),
            "project" => Some(&self.projects),
            "author" | "assignee" | "responsible" => Some(&self.users),
            "version" => Some(&self.versions),
            _ => None,
        };
        let look = |v: Option<String>| -> Option<String> {
            match (map, v) {
                (Some(m), Some(v)) => Some(
                    v.parse::<i64>()
                        .ok()
                        .and_then(|id| m.get(&id).cloned())
                        .unwrap_or(v),
                ),
                (_, v) => v,
            }
        };
        NamedChange {
            attribute: c.attribute,
            old: look(c.old),
            new: look(c.new),
        }
    }
}

/// Restricts a listing to the projects whose work packages `access` may
/// see; a caller-supplied project restriction narrows that scope.
fn visible_only(access: &Access, query: &mut Query) {
    let scope = access.scope(Permission::ViewWorkPackages);
    if !query.scope.ids.is_empty() {
        let wanted = std::mem::take(&mut query.scope.ids);
        query.conds.push(wps::Cond::IdIn {
            col: wps::IdColumn::Project,
            ids: wanted,
            negate: false,
        });
    }
    query.scope = scope;
}
