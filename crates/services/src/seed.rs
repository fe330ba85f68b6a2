//! Seed data: a small demo instance to click through, and the benchmark
//! data set (many work packages with history) used to measure Steward.

use steward_domain::date::Date;
use steward_domain::mention;
use steward_domain::user::User;
use steward_domain::work_package::WorkPackageState;
use steward_domain::Timestamp;
use steward_storage::{journals, lookups, members, roles, work_packages as wps};

use crate::accounts::CreateUser;
use crate::projects::ProjectInput;
use crate::work_packages::WorkPackageInput;
use crate::{secrets, ServiceError, Services};

/// What the demo seeding created, to tell the person who started it.
pub struct DemoSummary {
    pub logins: Vec<String>,
    pub password: String,
    pub projects: Vec<String>,
    pub work_packages: usize,
}

struct Person {
    login: &'static str,
    first: &'static str,
    last: &'static str,
}

const PEOPLE: &[Person] = &[
    Person {
        login: "alice",
        first: "Alice",
        last: "Adams",
    },
    Person {
        login: "bob",
        first: "Bob",
        last: "Baker",
    },
    Person {
        login: "carol",
        first: "Carol",
        last: "Clark",
    },
];

fn date(s: &str) -> Option<Date> {
    Date::parse(s)
}

impl Services {
    /// Whether the instance has any project yet (demo data is only added to an empty one).
    pub async fn has_projects(&self) -> Result<bool, ServiceError> {
        let mut conn = self.db.conn().await?;
        let n: i64 = conn
            .query_one("SELECT count(*) FROM projects", Vec::new())
            .await?;
        Ok(n > 0)
    }

    /// Seeds three people, two projects, work packages with comments,
    /// mentions and a change history. Only on an instance without projects.
    pub async fn seed_demo(&self, admin: &User) -> Result<Option<DemoSummary>, ServiceError> {
        if self.has_projects().await? {
            return Ok(None);
        }
        let password = secrets::random_password();
        let mut people = Vec::new();
        for p in PEOPLE {
            let user = match self.user_by_ref(p.login).await {
                Ok(u) => u,
                Err(_) => {
                    self.create_user(CreateUser {
                        login: Some(p.login.into()),
                        email: Some(format!("{}@demo.example.net", p.login)),
                        firstname: Some(p.first.into()),
                        lastname: Some(p.last.into()),
                        status: Some("active".into()),
                        password: Some(password.clone()),
                        ..CreateUser::default()
                    })
                    .await?
                }
            };
            people.push(user);
        }
        let (alice, bob, carol) = (&people[0], &people[1], &people[2]);
        let admin_access = self.access(Some(admin)).await?;
        let demo = self
            .create_project(
                &admin_access,
                ProjectInput {
                    identifier: Some("demo".into()),
                    name: Some("Demo project".into()),
                    description: Some("A project to try Steward with: work packages, comments, mentions and history.".into()),
                    public: Some(true),
                    ..ProjectInput::default()
                },
            )
            .await?;
        let website = self
            .create_project(
                &admin_access,
                ProjectInput {
                    identifier: Some("website".into()),
                    name: Some("Website relaunch".into()),
                    description: Some("Private project of the web team.".into()),
                    public: Some(false),
                    ..ProjectInput::default()
                },
            )
            .await?;
        let now = Timestamp::now();
        let mut conn = self.db.conn().await?;
        let all_roles = roles::all(&mut conn).await?;
        let role = |name: &str| {
            all_roles
                .iter()
                .find(|r| r.name == name)
                .map(|r| r.id)
                .unwrap_or(0)
        };
        members::insert(
            &mut conn,
            Some(demo.id),
            alice.id,
            &[role("Project admin")],
            now,
        )
        .await?;
        members::insert(&mut conn, Some(demo.id), bob.id, &[role("Member")], now).await?;
        members::insert(&mut conn, Some(demo.id), carol.id, &[role("Reader")], now).await?;
        members::insert(
            &mut conn,
            Some(website.id),
            alice.id,
            &[role("Member")],
            now,
        )
        .await?;
        members::insert(
            &mut conn,
            Some(website.id),
            bob.id,
            &[role("Project admin")],
            now,
        )
        .await?;
        let version = lookups::insert_version(
            &mut conn,
            &lookups::NewVersion {
                project_id: demo.id,
                name: "1.0",
                description: "The first release.",
                status: "open",
                start_date: date("2026-11-01"),
                due_date: date("2026-12-31"),
            },
            now,
        )
        .await?;
        let types = lookups::types(&mut conn).await?;
        let statuses = lookups::statuses(&mut conn).await?;
        let priorities = lookups::priorities(&mut conn).await?;
        drop(conn);
        let type_id = |n: &str| types.iter().find(|t| t.name == n).map(|t| t.id);
        let status_id = |n: &str| statuses.iter().find(|s| s.name == n).map(|s| s.id);
        let priority_id = |n: &str| priorities.iter().find(|p| p.name == n).map(|p| p.id);

        let alice_access = self.access(Some(alice)).await?;
        let bob_access = self.access(Some(bob)).await?;
        let mut count = 0;
        // (type, subject, description, assignee, status after the first update, priority)
        type Item<'a> = (
            &'a str,
            &'a str,
            &'a str,
            Option<&'a User>,
            &'a str,
            &'a str,
        );
        let items: &[Item] = &[
            (
                "Epic",
                "Plan the first release",
                "What goes into 1.0, and when.",
                Some(alice),
                "In progress",
                "High",
            ),
            (
                "Feature",
                "Sign-in with two factors",
                "TOTP as a second factor for every account.",
                Some(bob),
                "Specified",
                "Normal",
            ),
            (
                "Bug",
                "Dates shown in the wrong time zone",
                "Reported by a user in Berlin: due dates are a day early.",
                Some(bob),
                "New",
                "Immediate",
            ),
            (
                "Task",
                "Write the installation guide",
                "",
                Some(alice),
                "In progress",
                "Normal",
            ),
            (
                "User story",
                "As a reader I want to subscribe to a calendar",
                "",
                None,
                "New",
                "Low",
            ),
            ("Milestone", "Release 1.0", "", None, "Scheduled", "Normal"),
        ];
        let mut created = Vec::new();
        for (ty, subject, description, assignee, _, priority) in items {
            let is_milestone = *ty == "Milestone";
            let row = self
                .create_work_package(
                    &alice_access,
                    alice,
                    WorkPackageInput {
                        project_id: Some(demo.id),
                        type_id: type_id(ty),
                        priority_id: priority_id(priority),
                        subject: Some(subject.to_string()),
                        description: Some(description.to_string()),
                        assigned_to_id: Some(assignee.map(|u| u.id)),
                        start_date: Some(date(if is_milestone {
                            "2026-12-31"
                        } else {
                            "2026-11-23"
                        })),
                        due_date: Some(date(if is_milestone {
                            "2026-12-31"
                        } else {
                            "2026-12-12"
                        })),
                        version_id: Some(Some(version)),
                        ..WorkPackageInput::default()
                    },
                )
                .await?;
            created.push(row);
            count += 1;
        }
        // History: status changes, progress and comments with mentions.
        for (row, (_, _, _, _, status, _)) in created.iter().zip(items) {
            let wp = &row.wp;
            self.update_work_package(
                &alice_access,
                alice,
                wp.id,
                Some(wp.lock_version),
                WorkPackageInput {
                    status_id: status_id(status),
                    done_ratio: Some(Some(if *status == "In progress" { 40 } else { 0 })),
                    ..WorkPackageInput::default()
                },
                None,
            )
            .await?;
        }
        let first = &created[0].wp;
        self.add_comment(
            &bob_access,
            bob,
            first.id,
            &format!(
                "{} could you check the scope with @carol before Friday?",
                mention::markup(alice.id, &alice.name())
            ),
        )
        .await?;
        self.add_comment(
            &alice_access,
            alice,
            first.id,
            "Done: scope agreed, see the child work packages.",
        )
        .await?;
        let bug = &created[2].wp;
        self.add_comment(
            &bob_access,
            bob,
            bug.id,
            "Reproduced with the Europe/Berlin time zone. @alice this blocks the release.",
        )
        .await?;
        // Children of the epic.
        for child in &created[1..4] {
            let current = self.work_package(&alice_access, child.wp.id).await?.0;
            self.update_work_package(
                &alice_access,
                alice,
                child.wp.id,
                Some(current.wp.lock_version),
                WorkPackageInput {
                    parent_id: Some(Some(first.id)),
                    ..WorkPackageInput::default()
                },
                Some("Part of the release plan.".into()),
            )
            .await?;
        }
        let bob_website = self.access(Some(bob)).await?;
        for (ty, subject) in [
            ("Task", "New landing page"),
            ("Task", "Migrate the blog"),
            ("Bug", "Broken links in the footer"),
        ] {
            self.create_work_package(
                &bob_website,
                bob,
                WorkPackageInput {
                    project_id: Some(website.id),
                    type_id: type_id(ty),
                    subject: Some(subject.into()),
                    assigned_to_id: Some(Some(alice.id)),
                    ..WorkPackageInput::default()
                },
            )
            .await?;
            count += 1;
        }
        Ok(Some(DemoSummary {
            logins: PEOPLE.iter().map(|p| p.login.to_string()).collect(),
            password,
            projects: vec![demo.identifier, website.identifier],
            work_packages: count,
        }))
    }
}

/// The benchmark data set's shape.
#[derive(Clone, Debug)]
pub struct BenchmarkSeed {
    pub work_packages: usize,
    pub users: usize,
    /// Work packages authored by the first benchmark user (the "heavy" user).
    pub heavy_author: usize,
}

impl Default for BenchmarkSeed {
    fn default() -> Self {
        BenchmarkSeed {
            work_packages: 10_000,
            users: 20,
            heavy_author: 2_000,
        }
    }
}

impl Services {
    /// Seeds project `bench`: `users` members, `work_packages` work packages
    /// with three journals each (create, a status change, a % complete
    /// change), the first `heavy_author` of them by user bench1. Written in
    /// batches through the storage layer, not per request, to be quick.
    pub async fn seed_benchmark(
        &self,
        admin: &User,
        seed: &BenchmarkSeed,
    ) -> Result<i64, ServiceError> {
        let access = self.access(Some(admin)).await?;
        let project = self
            .create_project(
                &access,
                ProjectInput {
                    identifier: Some("bench".into()),
                    name: Some("Benchmark".into()),
                    public: Some(false),
                    ..ProjectInput::default()
                },
            )
            .await?;
        let password = secrets::random_password();
        if seed.users == 0 {
            return Err(ServiceError::Conflict(
                "the benchmark needs at least one user".into(),
            ));
        }
        let mut users = Vec::new();
        for i in 1..=seed.users {
            users.push(
                self.create_user(CreateUser {
                    login: Some(format!("bench{i}")),
                    email: Some(format!("bench{i}@bench.example.net")),
                    firstname: Some("Bench".into()),
                    lastname: Some(format!("User {i}")),
                    status: Some("active".into()),
                    password: Some(password.clone()),
                    ..CreateUser::default()
                })
                .await?,
            );
        }
        let now = Timestamp::now();
        let mut conn = self.db.conn().await?;
        let member_role = roles::all(&mut conn)
            .await?
            .into_iter()
            .find(|r| r.name == "Member")
            .map(|r| r.id)
            .unwrap_or(0);
        for u in &users {
            members::insert(&mut conn, Some(project.id), u.id, &[member_role], now).await?;
        }
        let types = lookups::types(&mut conn).await?;
        let statuses = lookups::statuses(&mut conn).await?;
        drop(conn);
        let open: Vec<i64> = statuses
            .iter()
            .filter(|s| !s.is_closed)
            .map(|s| s.id)
            .collect();
        let task = types
            .iter()
            .find(|t| !t.is_milestone)
            .map(|t| t.id)
            .unwrap_or(1);
        let mut made = 0usize;
        while made < seed.work_packages {
            let batch = (seed.work_packages - made).min(500);
            let mut tx = self.db.begin().await?;
            for k in 0..batch {
                let i = made + k;
                // Exactly `heavy_author` work packages are by bench1; the rest by the others.
                let author = if i < seed.heavy_author || users.len() == 1 {
                    &users[0]
                } else {
                    &users[1 + i % (users.len() - 1)]
                };
                let assignee = &users[(i * 7 + 3) % users.len()];
                let state = WorkPackageState {
                    project_id: project.id,
                    type_id: task,
                    status_id: open[0],
                    priority_id: 2,
                    subject: format!("Benchmark work package {}", i + 1),
                    description: format!(
                        "Work package number {} of the benchmark data set.",
                        i + 1
                    ),
                    author_id: author.id,
                    assigned_to_id: Some(assignee.id),
                    responsible_id: Some(users[(i * 3 + 1) % users.len()].id),
                    start_date: None,
                    due_date: None,
                    estimated_hours: Some(((i % 16) + 1) as f64),
                    remaining_hours: None,
                    done_ratio: Some(0),
                    parent_id: None,
                    version_id: None,
                };
                let wp = wps::insert(&mut tx, &state, now).await?;
                journals::insert(&mut tx, wp.id, author.id, "", &state, now).await?;
                let mut s2 = state.clone();
                s2.status_id = open[(i % open.len().max(1)).min(open.len() - 1)];
                let wp2 = wps::update(&mut tx, wp.id, &s2, wp.lock_version, now)
                    .await?
                    .ok_or_else(|| ServiceError::Internal("benchmark seed: lost update".into()))?;
                journals::insert(&mut tx, wp.id, assignee.id, "Status updated.", &s2, now).await?;
                let mut s3 = s2.clone();
                s3.done_ratio = Some(((i % 10) * 10) as i64);
                wps::update(&mut tx, wp.id, &s3, wp2.lock_version, now)
                    .await?
                    .ok_or_else(|| ServiceError::Internal("benchmark seed: lost update".into()))?;
                journals::insert(&mut tx, wp.id, author.id, "", &s3, now).await?;
            }
            tx.commit().await?;
            made += batch;
        }
        steward_storage::schema::analyze(&self.db).await?;
        Ok(project.id)
    }
}
