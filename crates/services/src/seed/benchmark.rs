//! The benchmark data set: projects `bench` (and `bench-2`, ... when asked
//! for several), users bench1.. with their memberships, and work packages
//! with three journals each (create, a status change, a % complete
//! change). bench1 is the heavy user: author of the first `heavy_author`
//! work packages at every size, and mentioned in a few comments.
//!
//! Projects go through the services (as an administrator creates them);
//! users through the same storage calls as `create_user`, with one
//! password hash for all of them; memberships, work packages and journals
//! through the storage layer's bulk load (`steward_storage::bulk`), in
//! large transactions, writing the rows the row-at-a-time path would.

use std::time::Instant;

use steward_domain::mention;
use steward_domain::user::{NewUser, User, UserStatus};
use steward_domain::work_package::WorkPackageState;
use steward_domain::{validate, Timestamp};
use steward_storage::bulk::{self, IdsOf, LoadedJournal, LoadedMember, LoadedWorkPackage};
use steward_storage::{lookups, roles, users};

use super::texts;
use crate::audit::{self, current_actor, AuditEntry};
use crate::projects::ProjectInput;
use crate::{passwords, secrets, ServiceError, Services};

/// The benchmark data set's shape.
#[derive(Clone, Debug)]
pub struct BenchmarkSeed {
    pub work_packages: usize,
    pub users: usize,
    /// Work packages authored by the first benchmark user (the "heavy" user).
    pub heavy_author: usize,
    /// Projects the work packages are spread over (round robin): `bench`,
    /// `bench-2`, ... bench1 is a member of all of them, every other user
    /// of two neighbouring ones (of the one project when there is one).
    pub projects: usize,
}

impl Default for BenchmarkSeed {
    fn default() -> Self {
        BenchmarkSeed {
            work_packages: 10_000,
            users: 20,
            heavy_author: 2_000,
            projects: 1,
        }
    }
}

/// What the seed wrote.
#[derive(Clone, Debug, Default)]
pub struct BenchmarkSummary {
    /// The id of project `bench`.
    pub project_id: i64,
    pub projects: usize,
    pub users: usize,
    pub members: usize,
    pub work_packages: usize,
    pub journals: usize,
    /// Comments that mention bench1.
    pub mentions: usize,
    /// Every row written, snapshots and role assignments included.
    pub rows: u64,
}

/// How far the seed is, for a progress display.
#[derive(Clone, Copy, Debug)]
pub struct SeedProgress {
    /// "projects", "users", "members", "work packages" or "statistics".
    pub stage: &'static str,
    pub done: usize,
    pub total: usize,
}

/// Work packages per transaction: large enough that commits cost nothing,
/// small enough that a batch's rows (four per work package, journals'
/// snapshots besides) are a few megabytes in memory.
const BATCH: usize = 5_000;

/// Users per transaction.
const USER_BATCH: usize = 2_000;

/// Comments that mention bench1, at every size (fewer in a smaller set).
const MENTIONS: usize = 50;

/// The password every benchmark user gets: random, never shown, hashed
/// once. Hashing 10,000 passwords with Argon2id would take minutes, and
/// the hash of one password is as valid for each of them.
struct SharedPassword {
    hash: String,
}

/// Who is a member of which project (user positions, 0 = bench1), and the
/// work packages' authors, assignees and accountables drawn from them.
struct Memberships {
    /// For each project, its members in user order; bench1 first.
    of_project: Vec<Vec<usize>>,
}

impl Memberships {
    fn new(users: usize, projects: usize) -> Memberships {
        let mut of_project = vec![Vec::new(); projects];
        for (p, members) in of_project.iter_mut().enumerate() {
            members.push(0);
            for u in 1..users {
                let home = (u - 1) % projects;
                if projects == 1 || home == p || (home + 1) % projects == p {
                    members.push(u);
                }
            }
        }
        Memberships { of_project }
    }

    fn count(&self) -> usize {
        self.of_project.iter().map(Vec::len).sum()
    }

    /// Author, assignee and accountable of work package `i` (its
    /// project's `j`-th): bench1 writes the first `heavy` of all, the
    /// others in turn the rest of their project's.
    fn people(&self, i: usize, projects: usize, heavy: usize) -> (usize, usize, usize) {
        let members = &self.of_project[i % projects];
        let j = i / projects;
        let author = if i < heavy || members.len() == 1 {
            members[0]
        } else {
            members[1 + j % (members.len() - 1)]
        };
        let assignee = members[(j * 7 + 3) % members.len()];
        let accountable = members[(j * 3 + 1) % members.len()];
        (author, assignee, accountable)
    }
}

impl Services {
    /// Seeds the benchmark data set and returns the id of project `bench`.
    pub async fn seed_benchmark(
        &self,
        admin: &User,
        seed: &BenchmarkSeed,
    ) -> Result<i64, ServiceError> {
        Ok(self
            .seed_benchmark_reporting(admin, seed, &|_| {})
            .await?
            .project_id)
    }

    /// [`Services::seed_benchmark`], telling `progress` how far it is after
    /// each batch.
    pub async fn seed_benchmark_reporting(
        &self,
        admin: &User,
        seed: &BenchmarkSeed,
        progress: &(dyn Fn(SeedProgress) + Sync),
    ) -> Result<BenchmarkSummary, ServiceError> {
        check_shape(seed)?;
        if self.user_by_ref("bench1").await.is_ok() {
            return Err(ServiceError::Conflict(
                "the benchmark data set is already there (user bench1 exists); seed an empty database"
                    .into(),
            ));
        }
        let heavy = seed.heavy_author.min(seed.work_packages);
        let mut summary = BenchmarkSummary {
            projects: seed.projects,
            users: seed.users,
            work_packages: seed.work_packages,
            ..BenchmarkSummary::default()
        };
        let projects = self.bench_projects(admin, seed.projects, progress).await?;
        summary.project_id = projects[0];
        summary.rows += projects.len() as u64;
        let people = self.bench_users(seed.users, progress).await?;
        summary.rows += 2 * people.len() as u64;
        let memberships = Memberships::new(seed.users, seed.projects);
        summary.members = memberships.count();
        summary.rows += self
            .bench_members(&memberships, &projects, &people, progress)
            .await?;
        let (journals, mentions, rows) = self
            .bench_work_packages(seed, heavy, &memberships, &projects, &people, progress)
            .await?;
        summary.journals = journals;
        summary.mentions = mentions;
        summary.rows += rows;
        progress(SeedProgress {
            stage: "statistics",
            done: 0,
            total: 1,
        });
        bulk::after_load(&self.db).await?;
        Ok(summary)
    }

    /// `bench`, `bench-2`, ...: created as an administrator creates them.
    async fn bench_projects(
        &self,
        admin: &User,
        count: usize,
        progress: &(dyn Fn(SeedProgress) + Sync),
    ) -> Result<Vec<i64>, ServiceError> {
        let access = self.access(Some(admin)).await?;
        let mut ids = Vec::with_capacity(count);
        for n in 1..=count {
            let (identifier, name) = if n == 1 {
                ("bench".to_string(), "Benchmark".to_string())
            } else {
                (format!("bench-{n}"), format!("Benchmark {n}"))
            };
            let project = self
                .create_project(
                    &access,
                    ProjectInput {
                        identifier: Some(identifier),
                        name: Some(name),
                        public: Some(false),
                        ..ProjectInput::default()
                    },
                )
                .await?;
            ids.push(project.id);
            if n % 100 == 0 || n == count {
                progress(SeedProgress {
                    stage: "projects",
                    done: n,
                    total: count,
                });
            }
        }
        Ok(ids)
    }

    /// bench1..benchN, active, with a random password nobody learns: the
    /// rows and audit entries `create_user` writes, without hashing the
    /// password once per user.
    async fn bench_users(
        &self,
        count: usize,
        progress: &(dyn Fn(SeedProgress) + Sync),
    ) -> Result<Vec<i64>, ServiceError> {
        let password = SharedPassword {
            hash: passwords::hash(secrets::random_password(), self.policy.argon2).await?,
        };
        let mut ids = Vec::with_capacity(count);
        let mut n = 1;
        while n <= count {
            let last = (n + USER_BATCH - 1).min(count);
            let mut tx = self.db.begin_bulk().await?;
            for i in n..=last {
                let new = NewUser {
                    login: validate::login(&format!("bench{i}"))?,
                    email: validate::email(&format!("bench{i}@bench.example.net"))?,
                    firstname: validate::name("firstName", "Bench")?,
                    lastname: validate::name("lastName", &format!("User {i}"))?,
                    admin: false,
                    status: UserStatus::Active,
                    language: validate::language("en")?,
                    time_zone: validate::time_zone("UTC")?,
                };
                let user = users::insert(&mut tx, &new, Some(&password.hash), Timestamp::now())
                    .await
                    .map_err(crate::error::user_uniqueness)?;
                audit::record(
                    &mut tx,
                    AuditEntry::security("user.created", current_actor(), Some(user.id))
                        .with_details(serde_json::json!({ "admin": false, "status": "active" })),
                )
                .await?;
                ids.push(user.id);
            }
            tx.commit().await?;
            progress(SeedProgress {
                stage: "users",
                done: last,
                total: count,
            });
            n = last + 1;
        }
        Ok(ids)
    }

    /// Every membership with the role Member; returns the rows written.
    async fn bench_members(
        &self,
        memberships: &Memberships,
        projects: &[i64],
        people: &[i64],
        progress: &(dyn Fn(SeedProgress) + Sync),
    ) -> Result<u64, ServiceError> {
        let now = Timestamp::now();
        let mut tx = self.db.begin_bulk().await?;
        let member_role = roles::all(&mut tx)
            .await?
            .into_iter()
            .find(|r| r.name == "Member")
            .map(|r| r.id)
            .unwrap_or(0);
        let ids = bulk::reserve_ids(&mut tx, IdsOf::Members, memberships.count()).await?;
        let members: Vec<LoadedMember> = memberships
            .of_project
            .iter()
            .zip(projects)
            .flat_map(|(members, &project_id)| {
                members.iter().map(move |&u| (project_id, people[u]))
            })
            .zip(ids)
            .map(|((project_id, principal_id), id)| LoadedMember {
                id,
                project_id,
                principal_id,
                role_id: member_role,
            })
            .collect();
        let rows = bulk::insert_members(&mut tx, &members, now).await?;
        tx.commit().await?;
        progress(SeedProgress {
            stage: "members",
            done: members.len(),
            total: members.len(),
        });
        Ok(rows)
    }

    /// The work packages with their journals, in batches of [`BATCH`];
    /// returns the journals, the comments mentioning bench1 and the rows
    /// written.
    async fn bench_work_packages(
        &self,
        seed: &BenchmarkSeed,
        heavy: usize,
        memberships: &Memberships,
        projects: &[i64],
        people: &[i64],
        progress: &(dyn Fn(SeedProgress) + Sync),
    ) -> Result<(usize, usize, u64), ServiceError> {
        let bench1 = self.user(people[0]).await?;
        let bench1_markup = mention::markup(bench1.id, &bench1.name());
        let (task, open) = {
            let mut conn = self.db.conn().await?;
            let types = lookups::types(&mut conn).await?;
            let statuses = lookups::statuses(&mut conn).await?;
            let task = types
                .iter()
                .find(|t| !t.is_milestone)
                .map(|t| t.id)
                .unwrap_or(1);
            let open: Vec<i64> = statuses
                .iter()
                .filter(|s| !s.is_closed)
                .map(|s| s.id)
                .collect();
            (task, open)
        };
        if open.is_empty() {
            return Err(ServiceError::Conflict(
                "the benchmark needs an open status".into(),
            ));
        }
        // Every change one microsecond after the one before, from now on:
        // timestamps increase in the order the work happened, and a
        // million work packages end a few seconds later, in the past by
        // the time the seed is done.
        let start = Timestamp::now().0;
        let at = |i: usize, step: usize| Timestamp(start + (3 * i + step) as i64);
        let mention_every = (seed.work_packages / MENTIONS).max(1);
        let (mut journal_count, mut mention_count, mut rows) = (0usize, 0usize, 0u64);
        let mut made = 0usize;
        let started = Instant::now();
        while made < seed.work_packages {
            let batch = (seed.work_packages - made).min(BATCH);
            let mut tx = self.db.begin_bulk().await?;
            let wp_ids = bulk::reserve_ids(&mut tx, IdsOf::WorkPackages, batch).await?;
            let journal_ids = bulk::reserve_ids(&mut tx, IdsOf::Journals, 3 * batch).await?;
            let mut wps = Vec::with_capacity(batch);
            let mut journals = Vec::with_capacity(3 * batch);
            let mut mentions = Vec::new();
            for (k, &id) in wp_ids.iter().enumerate() {
                let i = made + k;
                let (author, assignee, accountable) = memberships.people(i, seed.projects, heavy);
                let created = WorkPackageState {
                    project_id: projects[i % seed.projects],
                    type_id: task,
                    status_id: open[0],
                    priority_id: 2,
                    subject: texts::subject(i),
                    description: texts::description(i),
                    author_id: people[author],
                    assigned_to_id: Some(people[assignee]),
                    responsible_id: Some(people[accountable]),
                    start_date: None,
                    due_date: None,
                    estimated_hours: Some(((i % 16) + 1) as f64),
                    remaining_hours: None,
                    done_ratio: Some(0),
                    parent_id: None,
                    version_id: None,
                };
                let mut status_changed = created.clone();
                status_changed.status_id = open[i % open.len()];
                let mut progressed = status_changed.clone();
                progressed.done_ratio = Some(((i % 10) * 10) as i64);
                // The status change is commented by the assignee; a few
                // of them hand the work to bench1 by name and mention.
                let mentions_bench1 = i % mention_every == mention_every / 2
                    && assignee != 0
                    && mention_count + mentions.len() < MENTIONS;
                let comment = if mentions_bench1 {
                    texts::mentioning_comment(i, &bench1_markup, &bench1.login, &bench1.name())
                } else {
                    texts::status_comment(i)
                };
                if mentions_bench1 {
                    mentions.push((journal_ids[3 * k + 1], bench1.id, at(i, 1)));
                }
                for (step, (user, notes, state)) in [
                    (author, String::new(), created),
                    (assignee, comment, status_changed),
                    (author, String::new(), progressed.clone()),
                ]
                .into_iter()
                .enumerate()
                {
                    journals.push(LoadedJournal {
                        id: journal_ids[3 * k + step],
                        work_package_id: id,
                        version: step as i64 + 1,
                        user_id: people[user],
                        notes,
                        created_at: at(i, step),
                        state,
                    });
                }
                wps.push(LoadedWorkPackage {
                    id,
                    state: progressed,
                    lock_version: 2,
                    created_at: at(i, 0),
                    updated_at: at(i, 2),
                });
            }
            rows += bulk::insert_work_packages(&mut tx, &wps).await?;
            rows += bulk::insert_journals(&mut tx, &journals).await?;
            rows += bulk::insert_journal_mentions(&mut tx, &mentions).await?;
            tx.commit().await?;
            journal_count += journals.len();
            mention_count += mentions.len();
            made += batch;
            progress(SeedProgress {
                stage: "work packages",
                done: made,
                total: seed.work_packages,
            });
        }
        tracing::debug!(
            seconds = started.elapsed().as_secs_f64(),
            rows,
            "benchmark work packages written"
        );
        Ok((journal_count, mention_count, rows))
    }
}

/// Refuses shapes the data set cannot have, before anything is written.
fn check_shape(seed: &BenchmarkSeed) -> Result<(), ServiceError> {
    if seed.users == 0 {
        return Err(ServiceError::Conflict(
            "the benchmark needs at least one user".into(),
        ));
    }
    if seed.projects == 0 {
        return Err(ServiceError::Conflict(
            "the benchmark needs at least one project".into(),
        ));
    }
    if seed.projects > 1 && seed.users <= seed.projects {
        return Err(ServiceError::Conflict(format!(
            "{} projects need at least {} users (bench1 and one more per project)",
            seed.projects,
            seed.projects + 1
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_project_keeps_the_original_rotation() {
        let m = Memberships::new(20, 1);
        assert_eq!(m.of_project[0], (0..20).collect::<Vec<_>>());
        for i in [0, 1999, 2000, 4321] {
            let (author, assignee, accountable) = m.people(i, 1, 2000);
            let expected_author = if i < 2000 { 0 } else { 1 + i % 19 };
            assert_eq!(author, expected_author);
            assert_eq!(assignee, (i * 7 + 3) % 20);
            assert_eq!(accountable, (i * 3 + 1) % 20);
        }
    }

    #[test]
    fn several_projects_give_everyone_two_and_bench1_all() {
        let m = Memberships::new(50, 3);
        assert!(m.of_project.iter().all(|p| p[0] == 0));
        assert_eq!(m.count(), 3 + 2 * 49);
        for i in 0..300 {
            let (author, assignee, accountable) = m.people(i, 3, 100);
            let members = &m.of_project[i % 3];
            assert!(members.contains(&author) && members.contains(&assignee));
            assert!(members.contains(&accountable));
            assert_eq!(author == 0, i < 100);
        }
    }
}
