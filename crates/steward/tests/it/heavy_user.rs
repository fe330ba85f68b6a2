//! The heavy user: one person with a lot of everything, for the export and
//! erasure tests. Built through the services layer (the code path of the
//! API) where that is quick, and for the bulk of the work packages and
//! journals through the same storage functions the services use, in large
//! transactions (as `steward seed benchmark` does): 2,000 creates through
//! the full service path take too long in a debug build.
//!
//! At full scale the person (login `hedwig.heavyweight`):
//! - authored 2,000 work packages (each with its creation journal),
//! - wrote 2,000 journals: comments on a colleague's work packages, one of
//!   them edited later,
//! - is the assignee of 500 of the colleague's work packages and
//!   accountable for 100,
//! - is a member of 3 projects: two directly with a role, one (and one of
//!   the others again) through a group,
//! - is mentioned in 50 comments (structured `<mention>` markup),
//! - is the value of a user custom field on 20 work packages and has a
//!   user custom field of their own,
//! - has 2 sessions and 2 API tokens, and made a few API requests with one.

#![allow(dead_code)]

use hyper::Method;
use steward_domain::custom_field::Input;
use steward_domain::mention;
use steward_domain::work_package::WorkPackageState;
use steward_domain::Timestamp;
use steward_services::accounts::CreateUser;
use steward_services::auth::ClientInfo;
use steward_services::custom_fields::{CustomFieldInput, CustomValuesInput};
use steward_services::groups::GroupInput;
use steward_services::memberships::MembershipInput;
use steward_services::projects::ProjectInput;
use steward_services::work_packages::WorkPackageInput;
use steward_storage::{journals, lookups, roles, work_packages as wps};

use crate::harness::TestApp;

/// How much of everything.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    /// Work packages the person authored.
    pub authored: usize,
    /// Journals (comments) the person wrote on the colleague's work packages.
    pub journals: usize,
    /// The colleague's work packages the person is assigned to.
    pub assigned: usize,
    /// ... and accountable for (a subset of those).
    pub accountable: usize,
    /// Comments that mention the person.
    pub mentions: usize,
    /// Work packages whose user custom field names the person.
    pub custom_values: usize,
}

impl Scale {
    /// The sizes the issue names.
    pub const FULL: Scale = Scale {
        authored: 2000,
        journals: 2000,
        assigned: 500,
        accountable: 100,
        mentions: 50,
        custom_values: 20,
    };

    /// A little of everything, for tests about behaviour rather than volume.
    pub const SMALL: Scale = Scale {
        authored: 12,
        journals: 12,
        assigned: 6,
        accountable: 3,
        mentions: 3,
        custom_values: 2,
    };
}

/// What was built, for assertions.
pub struct HeavyUser {
    pub id: i64,
    pub login: String,
    pub email: String,
    pub firstname: String,
    pub lastname: String,
    pub password: String,
    /// Two API tokens (the secrets; only their hashes are stored).
    pub tokens: Vec<String>,
    /// Two sessions: their cookie values and CSRF tokens (secrets).
    pub session_cookies: Vec<String>,
    pub csrf_tokens: Vec<String>,
    pub colleague_id: i64,
    pub colleague_token: String,
    pub group_id: i64,
    /// Direct member of the first two, through the group of the last two.
    pub projects: [i64; 3],
    /// The work-package custom field (format user) that names them.
    pub reviewer_field: i64,
    /// Their own user custom field.
    pub employee_field: i64,
    /// Work packages they authored.
    pub authored: Vec<i64>,
    /// The colleague's work packages, assigned to them.
    pub assigned: Vec<i64>,
    /// Ids of the comments that mention them.
    pub mention_journals: Vec<i64>,
    /// API requests they made with their token (for the request log).
    pub requests: usize,
    pub scale: Scale,
}

pub const PASSWORD: &str = "heavy password 1";

/// Rows written per transaction in the bulk part.
const BATCH: usize = 500;

pub async fn build_heavy_user(app: &TestApp, scale: Scale) -> HeavyUser {
    assert!(scale.accountable <= scale.assigned);
    assert!(scale.custom_values <= scale.assigned && scale.mentions <= scale.assigned.max(1));
    let s = app.services();
    let admin = s.user(app.admin_id).await.unwrap();
    let admin_access = s.access(Some(&admin)).await.unwrap();

    let (login, firstname, lastname) = ("hedwig.heavyweight", "Hedwig", "Heavyweight-Quill");
    let email = "hedwig.heavyweight@heavy.example.net";
    let heavy = s
        .create_user(CreateUser {
            login: Some(login.into()),
            email: Some(email.into()),
            firstname: Some(firstname.into()),
            lastname: Some(lastname.into()),
            status: Some("active".into()),
            password: Some(PASSWORD.into()),
            language: Some("de".into()),
            time_zone: Some("Europe/Berlin".into()),
            ..CreateUser::default()
        })
        .await
        .unwrap();
    let colleague = s
        .create_user(CreateUser {
            login: Some("colin.colleague".into()),
            email: Some("colin@heavy.example.net".into()),
            firstname: Some("Colin".into()),
            lastname: Some("Colleague".into()),
            status: Some("active".into()),
            password: Some(PASSWORD.into()),
            ..CreateUser::default()
        })
        .await
        .unwrap();

    let mut projects = [0i64; 3];
    for (i, slot) in projects.iter_mut().enumerate() {
        let p = s
            .create_project(
                &admin_access,
                ProjectInput {
                    identifier: Some(format!("heavy-{}", i + 1)),
                    name: Some(format!("Heavy project {}", i + 1)),
                    public: Some(false),
                    ..ProjectInput::default()
                },
            )
            .await
            .unwrap();
        *slot = p.id;
    }
    let mut conn = s.db.conn().await.unwrap();
    let all_roles = roles::all(&mut conn).await.unwrap();
    let role = |name: &str| all_roles.iter().find(|r| r.name == name).unwrap().id;
    let (member, reader) = (role("Member"), role("Reader"));
    let types = lookups::types(&mut conn).await.unwrap();
    let statuses = lookups::statuses(&mut conn).await.unwrap();
    let priorities = lookups::priorities(&mut conn).await.unwrap();
    drop(conn);
    let task = types.iter().find(|t| !t.is_milestone).unwrap().id;
    let open = statuses.iter().find(|st| !st.is_closed).unwrap().id;
    let normal = priorities.iter().find(|p| p.active).unwrap().id;

    let membership = |project: i64, principal: i64, role: i64| MembershipInput {
        project_id: Some(project),
        principal_id: Some(principal),
        role_ids: vec![role],
    };
    for m in [
        membership(projects[0], heavy.id, member),
        membership(projects[1], heavy.id, member),
        membership(projects[0], colleague.id, member),
        membership(projects[1], colleague.id, member),
        membership(projects[2], colleague.id, member),
    ] {
        s.create_membership(&admin_access, m).await.unwrap();
    }
    let group = s
        .create_group(
            &admin_access,
            GroupInput {
                name: Some("Heavy lifters".into()),
                members: Some(vec![heavy.id]),
            },
        )
        .await
        .unwrap()
        .group;
    for m in [
        membership(projects[1], group.id, reader),
        membership(projects[2], group.id, member),
    ] {
        s.create_membership(&admin_access, m).await.unwrap();
    }

    // Custom fields: one of work packages that names a person, one of users.
    let reviewer_field = s
        .create_custom_field(
            &admin_access,
            CustomFieldInput {
                name: Some("Reviewer".into()),
                kind: Some("WorkPackageCustomField".into()),
                format: Some("user".into()),
                ..CustomFieldInput::default()
            },
        )
        .await
        .unwrap()
        .id;
    let employee_field = s
        .create_custom_field(
            &admin_access,
            CustomFieldInput {
                name: Some("Employee number".into()),
                kind: Some("UserCustomField".into()),
                format: Some("string".into()),
                ..CustomFieldInput::default()
            },
        )
        .await
        .unwrap()
        .id;
    s.set_user_custom_values(
        &admin_access,
        heavy.id,
        &CustomValuesInput {
            values: vec![(employee_field, Input::Text("HW-4711".into()))],
            validate_all: false,
        },
    )
    .await
    .unwrap();

    // The bulk: their own work packages, and the colleague's assigned to them.
    let now = Timestamp::now();
    let state = |project: i64, author: i64, n: usize, what: &str| WorkPackageState {
        project_id: project,
        type_id: task,
        status_id: open,
        priority_id: normal,
        subject: format!("{what} {n}"),
        description: format!("Work package {n}: {what}, with *some* text to export."),
        author_id: author,
        assigned_to_id: None,
        responsible_id: None,
        start_date: None,
        due_date: None,
        estimated_hours: Some((n % 8 + 1) as f64),
        remaining_hours: None,
        done_ratio: Some(0),
        parent_id: None,
        version_id: None,
    };
    let mut authored = Vec::with_capacity(scale.authored);
    for chunk in (0..scale.authored).collect::<Vec<_>>().chunks(BATCH) {
        let mut tx = s.db.begin().await.unwrap();
        for &n in chunk {
            let st = state(projects[0], heavy.id, n + 1, "Heavy task");
            let wp = wps::insert(&mut tx, &st, now).await.unwrap();
            journals::insert_without_custom_values(&mut tx, wp.id, heavy.id, "", &st, now)
                .await
                .unwrap();
            authored.push(wp.id);
        }
        wps::bump_data_version(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
    }
    let mut assigned = Vec::with_capacity(scale.assigned);
    let mut states = Vec::with_capacity(scale.assigned);
    for chunk in (0..scale.assigned).collect::<Vec<_>>().chunks(BATCH) {
        let mut tx = s.db.begin().await.unwrap();
        for &n in chunk {
            let mut st = state(projects[1], colleague.id, n + 1, "Colleague's task");
            st.assigned_to_id = Some(heavy.id);
            if n < scale.accountable {
                st.responsible_id = Some(heavy.id);
            }
            let wp = wps::insert(&mut tx, &st, now).await.unwrap();
            journals::insert_without_custom_values(&mut tx, wp.id, colleague.id, "", &st, now)
                .await
                .unwrap();
            assigned.push(wp.id);
            states.push(st);
        }
        wps::bump_data_version(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
    }
    // Their journals: comments spread over the colleague's work packages.
    let comments: Vec<usize> = (0..scale.journals).collect();
    for chunk in comments.chunks(BATCH) {
        let mut tx = s.db.begin().await.unwrap();
        for &n in chunk {
            let k = n % assigned.len().max(1);
            journals::insert(
                &mut tx,
                assigned[k],
                heavy.id,
                &format!("Heavy comment {} on this task.", n + 1),
                &states[k],
                now,
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    drop(states);

    // Through the services, as the API would: the custom field values...
    for &wp in &assigned[..scale.custom_values] {
        let current = s.work_package(&admin_access, wp).await.unwrap().0;
        s.update_work_package(
            &admin_access,
            &admin,
            wp,
            Some(current.wp.lock_version),
            WorkPackageInput {
                custom_fields: CustomValuesInput {
                    values: vec![(
                        reviewer_field,
                        Input::Href(format!("/api/v3/users/{}", heavy.id)),
                    )],
                    validate_all: false,
                },
                ..WorkPackageInput::default()
            },
            None,
        )
        .await
        .unwrap();
    }
    // ... the comments that mention them ...
    let colleague_access = s.access(Some(&colleague)).await.unwrap();
    let mut mention_journals = Vec::with_capacity(scale.mentions);
    for n in 0..scale.mentions {
        let text = format!(
            "Update {n}: {} please review the figures in section {n} before the release \
             meeting, they changed after the last import.",
            mention::markup(heavy.id, &format!("{firstname} {lastname}"))
        );
        let activity = s
            .add_comment(
                &colleague_access,
                &colleague,
                assigned[n % assigned.len()],
                &text,
            )
            .await
            .unwrap();
        mention_journals.push(activity.journal.id);
    }
    // ... an edit of one of their own comments ...
    let heavy_access = s.access(Some(&heavy)).await.unwrap();
    if let Some(&wp) = assigned.first() {
        let own = s
            .add_comment(&heavy_access, &heavy, wp, "A comment I will reword.")
            .await
            .unwrap();
        s.edit_comment(
            &heavy_access,
            &heavy,
            own.journal.id,
            "A comment, reworded.",
        )
        .await
        .unwrap();
    }
    // ... sessions and tokens ...
    let mut session_cookies = Vec::new();
    let mut csrf_tokens = Vec::new();
    for agent in ["HeavyBrowser/1.0", "HeavyPhone/2.0"] {
        let signed = s
            .sign_in(
                login,
                PASSWORD,
                &ClientInfo {
                    ip_address: Some("203.0.113.7".into()),
                    user_agent: Some(agent.into()),
                },
            )
            .await
            .unwrap_or_else(|e| panic!("sign in: {e}"));
        session_cookies.push(signed.cookie_value);
        csrf_tokens.push(signed.session.csrf_token);
    }
    let mut tokens = Vec::new();
    for name in ["heavy laptop", "heavy script"] {
        tokens.push(s.create_api_token(heavy.id, name).await.unwrap().1);
    }
    let (_, colleague_token) = s.create_api_token(colleague.id, "colleague").await.unwrap();
    // ... and a few API requests with their token, for the request log.
    let mut requests = 0;
    for path in [
        "/api/v3/users/me".to_string(),
        format!("/api/v3/projects/{}", projects[0]),
        "/api/v3/work_packages?pageSize=5".to_string(),
    ] {
        let res = app.anon(Method::GET, &path).token(&tokens[0]).send().await;
        assert_eq!(res.status, 200, "GET {path}: {}", res.text());
        requests += 1;
    }

    HeavyUser {
        id: heavy.id,
        login: login.into(),
        email: email.into(),
        firstname: firstname.into(),
        lastname: lastname.into(),
        password: PASSWORD.into(),
        tokens,
        session_cookies,
        csrf_tokens,
        colleague_id: colleague.id,
        colleague_token,
        group_id: group.id,
        projects,
        reviewer_field,
        employee_field,
        authored,
        assigned,
        mention_journals,
        requests,
        scale,
    }
}
