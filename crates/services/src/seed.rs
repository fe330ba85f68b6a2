//! Seed data: a small demo instance to click through, and the benchmark
//! data set (many work packages with history) used to measure Steward.

mod benchmark;
mod texts;

pub use benchmark::{BenchmarkSeed, BenchmarkSummary, SeedProgress};

use steward_domain::date::Date;
use steward_domain::mention;
use steward_domain::project::Project;
use steward_domain::user::User;
use steward_domain::Timestamp;
use steward_storage::work_packages::WorkPackageRow;
use steward_storage::{lookups, members, roles};

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

/// One work package of the demo project, created by Alice.
struct DemoItem {
    kind: &'static str,
    subject: &'static str,
    description: &'static str,
    /// The login of the assignee.
    assignee: Option<&'static str>,
    /// The status set by the first update.
    status: &'static str,
    priority: &'static str,
}

const DEMO_ITEMS: &[DemoItem] = &[
    DemoItem {
        kind: "Epic",
        subject: "Plan the first release",
        description: "What goes into 1.0, and when.",
        assignee: Some("alice"),
        status: "In progress",
        priority: "High",
    },
    DemoItem {
        kind: "Feature",
        subject: "Sign-in with two factors",
        description: "TOTP as a second factor for every account.",
        assignee: Some("bob"),
        status: "Specified",
        priority: "Normal",
    },
    DemoItem {
        kind: "Bug",
        subject: "Dates shown in the wrong time zone",
        description: "Reported by a user in Berlin: due dates are a day early.",
        assignee: Some("bob"),
        status: "New",
        priority: "Immediate",
    },
    DemoItem {
        kind: "Task",
        subject: "Write the installation guide",
        description: "",
        assignee: Some("alice"),
        status: "In progress",
        priority: "Normal",
    },
    DemoItem {
        kind: "User story",
        subject: "As a reader I want to subscribe to a calendar",
        description: "",
        assignee: None,
        status: "New",
        priority: "Low",
    },
    DemoItem {
        kind: "Milestone",
        subject: "Release 1.0",
        description: "",
        assignee: None,
        status: "Scheduled",
        priority: "Normal",
    },
];

/// The website project's work packages, created by Bob for Alice:
/// (type, subject).
const WEBSITE_ITEMS: &[(&str, &str)] = &[
    ("Task", "New landing page"),
    ("Task", "Migrate the blog"),
    ("Bug", "Broken links in the footer"),
];

fn date(s: &str) -> Option<Date> {
    Date::parse(s)
}

/// The demo's three people, in the order of [`PEOPLE`].
struct DemoPeople {
    alice: User,
    bob: User,
    carol: User,
}

impl DemoPeople {
    fn by_login(&self, login: &str) -> Option<&User> {
        [&self.alice, &self.bob, &self.carol]
            .into_iter()
            .find(|u| u.login == login)
    }
}

/// Types, statuses and priorities, found by name.
struct Lookups {
    types: Vec<lookups::WpType>,
    statuses: Vec<lookups::Status>,
    priorities: Vec<lookups::Priority>,
}

impl Lookups {
    fn type_id(&self, name: &str) -> Option<i64> {
        self.types.iter().find(|t| t.name == name).map(|t| t.id)
    }
    fn status_id(&self, name: &str) -> Option<i64> {
        self.statuses.iter().find(|s| s.name == name).map(|s| s.id)
    }
    fn priority_id(&self, name: &str) -> Option<i64> {
        self.priorities
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.id)
    }
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
        let people = self.demo_people(&password).await?;
        let (demo, website) = self.demo_projects(admin).await?;
        let version = self
            .demo_members_and_version(&demo, &website, &people)
            .await?;
        let lookups = self.lookups().await?;
        let created = self
            .demo_work_packages(&people, demo.id, version, &lookups)
            .await?;
        self.demo_history(&people, &created, &lookups).await?;
        let website_count = self
            .website_work_packages(&people, website.id, &lookups)
            .await?;
        Ok(Some(DemoSummary {
            logins: PEOPLE.iter().map(|p| p.login.to_string()).collect(),
            password,
            projects: vec![demo.identifier, website.identifier],
            work_packages: created.len() + website_count,
        }))
    }

    /// Alice, Bob and Carol: found if they exist, created otherwise.
    async fn demo_people(&self, password: &str) -> Result<DemoPeople, ServiceError> {
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
                        password: Some(password.to_string()),
                        ..CreateUser::default()
                    })
                    .await?
                }
            };
            people.push(user);
        }
        let [alice, bob, carol]: [User; 3] = people
            .try_into()
            .map_err(|_| ServiceError::Conflict("the demo has three people".into()))?;
        Ok(DemoPeople { alice, bob, carol })
    }

    /// The public demo project and the private website project.
    async fn demo_projects(&self, admin: &User) -> Result<(Project, Project), ServiceError> {
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
        Ok((demo, website))
    }

    /// Who has which role in which project, and the demo's version 1.0
    /// (returned).
    async fn demo_members_and_version(
        &self,
        demo: &Project,
        website: &Project,
        people: &DemoPeople,
    ) -> Result<i64, ServiceError> {
        let now = Timestamp::now();
        // Seeding writes hundreds of rows: off the request threads.
        let mut conn = self.db.for_long_work().conn().await?;
        let all_roles = roles::all(&mut conn).await?;
        let role = |name: &str| {
            all_roles
                .iter()
                .find(|r| r.name == name)
                .map(|r| r.id)
                .unwrap_or(0)
        };
        for (project, user, role_name) in [
            (demo, &people.alice, "Project admin"),
            (demo, &people.bob, "Member"),
            (demo, &people.carol, "Reader"),
            (website, &people.alice, "Member"),
            (website, &people.bob, "Project admin"),
        ] {
            members::insert(
                &mut conn,
                Some(project.id),
                user.id,
                &[role(role_name)],
                now,
            )
            .await?;
        }
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
        Ok(version)
    }

    async fn lookups(&self) -> Result<Lookups, ServiceError> {
        let mut conn = self.db.conn().await?;
        Ok(Lookups {
            types: lookups::types(&mut conn).await?,
            statuses: lookups::statuses(&mut conn).await?,
            priorities: lookups::priorities(&mut conn).await?,
        })
    }

    /// [`DEMO_ITEMS`] in the demo project, by Alice, in version 1.0.
    async fn demo_work_packages(
        &self,
        people: &DemoPeople,
        project_id: i64,
        version: i64,
        lookups: &Lookups,
    ) -> Result<Vec<WorkPackageRow>, ServiceError> {
        let alice_access = self.access(Some(&people.alice)).await?;
        let mut created = Vec::new();
        for item in DEMO_ITEMS {
            let (start, due) = if item.kind == "Milestone" {
                ("2026-12-31", "2026-12-31")
            } else {
                ("2026-11-23", "2026-12-12")
            };
            let assignee = item.assignee.and_then(|login| people.by_login(login));
            let row = self
                .create_work_package(
                    &alice_access,
                    &people.alice,
                    WorkPackageInput {
                        project_id: Some(project_id),
                        type_id: lookups.type_id(item.kind),
                        priority_id: lookups.priority_id(item.priority),
                        subject: Some(item.subject.to_string()),
                        description: Some(item.description.to_string()),
                        assigned_to_id: Some(assignee.map(|u| u.id)),
                        start_date: Some(date(start)),
                        due_date: Some(date(due)),
                        version_id: Some(Some(version)),
                        ..WorkPackageInput::default()
                    },
                )
                .await?;
            created.push(row);
        }
        Ok(created)
    }

    /// History on the demo's work packages: status changes, progress,
    /// comments with mentions, and the epic's children.
    async fn demo_history(
        &self,
        people: &DemoPeople,
        created: &[WorkPackageRow],
        lookups: &Lookups,
    ) -> Result<(), ServiceError> {
        let (alice, bob) = (&people.alice, &people.bob);
        let alice_access = self.access(Some(alice)).await?;
        let bob_access = self.access(Some(bob)).await?;
        for (row, item) in created.iter().zip(DEMO_ITEMS) {
            let wp = &row.wp;
            self.update_work_package(
                &alice_access,
                alice,
                wp.id,
                Some(wp.lock_version),
                WorkPackageInput {
                    status_id: lookups.status_id(item.status),
                    done_ratio: Some(Some(if item.status == "In progress" { 40 } else { 0 })),
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
        Ok(())
    }

    /// [`WEBSITE_ITEMS`] in the website project, by Bob, assigned to
    /// Alice; returns how many.
    async fn website_work_packages(
        &self,
        people: &DemoPeople,
        project_id: i64,
        lookups: &Lookups,
    ) -> Result<usize, ServiceError> {
        let bob_access = self.access(Some(&people.bob)).await?;
        for (kind, subject) in WEBSITE_ITEMS {
            self.create_work_package(
                &bob_access,
                &people.bob,
                WorkPackageInput {
                    project_id: Some(project_id),
                    type_id: lookups.type_id(kind),
                    subject: Some(subject.to_string()),
                    assigned_to_id: Some(Some(people.alice.id)),
                    ..WorkPackageInput::default()
                },
            )
            .await?;
        }
        Ok(WEBSITE_ITEMS.len())
    }
}
