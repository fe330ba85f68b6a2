//! Who may do what, as tables: for each resource family, every endpoint is
//! called by every kind of caller and the answer compared with the rules
//! of ADR 0005.
//!
//! The world: a private project P and a public project Q, each with a work
//! package, a comment, a version and a membership (of "writer", a Member in
//! both). The callers: the administrator, P's project admin, member and
//! reader, a signed-in user who is a member of nothing, and anonymous
//! visitors with the instance's anonymous access off and on. P's role
//! holders are non-members of Q, so Q's rows are checked for the non-member
//! and the anonymous visitors (and the administrator, as the baseline).
//!
//! The rules: who may not see a private project gets 404 for it and for
//! everything in it, and never finds its rows in a collection; a forbidden
//! action on something visible is 403 MissingPermission; anonymous callers
//! get 401 where authentication is needed (every write, and every read
//! while anonymous access is off), 404 for what is not public when it is on.
//!
//! Every mismatch is collected and reported at once. Rows that change
//! things (PATCH, DELETE) work on fresh objects made for the row (`:new_…`
//! placeholders), so that a row never depends on the ones before it.

use std::collections::HashMap;

use hyper::Method;
use serde_json::{json, Value};
use steward_domain::user::UserId;

use crate::harness::{Backend, Req, TestApp};
use crate::work_packages_api::{
    add_member, as_user, filters, href, lookup, make_project, minimal, new_wp,
};

// ---------------------------------------------------------------- actors

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Actor {
    Admin,
    /// Role "Project admin" in P.
    ProjectAdmin,
    /// Role "Member" in P.
    Member,
    /// Role "Reader" in P.
    Reader,
    /// Signed in, a member of no project.
    NonMember,
    /// No credentials; anonymous access to public projects off.
    Anonymous,
    /// No credentials; anonymous access to public projects on.
    AnonymousAllowed,
}

use Actor::*;

impl Actor {
    fn name(self) -> &'static str {
        match self {
            Admin => "admin",
            ProjectAdmin => "project-admin",
            Member => "member",
            Reader => "reader",
            NonMember => "non-member",
            Anonymous => "anonymous",
            AnonymousAllowed => "anonymous(allowed)",
        }
    }

    fn is_anonymous(self) -> bool {
        matches!(self, Anonymous | AnonymousAllowed)
    }
}

/// Those who can see P.
const SEE_P: &[Actor] = &[Admin, ProjectAdmin, Member, Reader];
/// Those who can see Q (public): everyone but anonymous visitors while
/// anonymous access is off (who get 401 before any list).
const SEE_Q: &[Actor] = &[
    Admin,
    ProjectAdmin,
    Member,
    Reader,
    NonMember,
    AnonymousAllowed,
];

// ---------------------------------------------------------------- table

/// One endpoint and what each caller must get. Placeholders (`:name`) in
/// the path and in the strings of the body are replaced per row.
struct Endpoint {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    expect: Vec<(Actor, u16)>,
    /// For collections: the object (a placeholder name) is among the
    /// elements of a 200 answer exactly for these callers.
    lists: Vec<(&'static str, &'static [Actor])>,
    /// For forms: a 200 answer has a commit link exactly for these callers.
    commit_for: Option<&'static [Actor]>,
}

fn ep(
    method: Method,
    path: &'static str,
    body: Option<Value>,
    expect: &[(Actor, u16)],
) -> Endpoint {
    Endpoint {
        method,
        path,
        body,
        expect: expect.to_vec(),
        lists: Vec::new(),
        commit_for: None,
    }
}

impl Endpoint {
    fn lists(mut self, object: &'static str, seen_by: &'static [Actor]) -> Endpoint {
        self.lists.push((object, seen_by));
        self
    }

    fn commit_for(mut self, actors: &'static [Actor]) -> Endpoint {
        self.commit_for = Some(actors);
        self
    }
}

fn get(path: &'static str, expect: &[(Actor, u16)]) -> Endpoint {
    ep(Method::GET, path, None, expect)
}

// ---------------------------------------------------------------- the world

struct World {
    app: TestApp,
    users: HashMap<Actor, (UserId, String)>,
    ids: HashMap<&'static str, i64>,
    /// Each caller's own comment in P and in Q.
    own_p: HashMap<Actor, i64>,
    own_q: HashMap<Actor, i64>,
    fresh: usize,
    anonymous_allowed: bool,
}

async fn role_id(app: &TestApp, name: &str) -> i64 {
    let mut conn = app.services().db.conn().await.unwrap();
    steward_storage::roles::all(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no role {name}"))
        .id
}

/// Adds a comment by `author` (written through the services, so that
/// callers who may not comment can still own one).
async fn comment_by(app: &TestApp, author: UserId, wp: i64, text: &str) -> i64 {
    let s = app.services();
    let admin = s.user_by_ref("admin").await.unwrap();
    let access = s.access(Some(&admin)).await.unwrap();
    let user = s.user(author).await.unwrap();
    s.add_comment(&access, &user, wp, text)
        .await
        .unwrap()
        .journal
        .id
}

impl World {
    async fn new(backend: Backend) -> World {
        let app = TestApp::start(backend).await;
        let mut users = HashMap::new();
        users.insert(Admin, (app.admin_id, app.admin_token.clone()));
        for (actor, login) in [
            (ProjectAdmin, "padmin"),
            (Member, "member"),
            (Reader, "reader"),
            (NonMember, "outsider"),
        ] {
            users.insert(actor, app.user(login).await);
        }
        let (writer, _) = app.user("writer").await;
        let p = make_project(&app, "private-p", false).await;
        let q = make_project(&app, "public-q", true).await;
        add_member(&app, p, users[&ProjectAdmin].0, "Project admin").await;
        add_member(&app, p, users[&Member].0, "Member").await;
        add_member(&app, p, users[&Reader].0, "Reader").await;
        let task = lookup(&app, "types", "Task").await;

        let mut ids: HashMap<&'static str, i64> = HashMap::new();
        ids.insert("P", p);
        ids.insert("Q", q);
        ids.insert("task", task);
        ids.insert("missing", 999_999);
        ids.insert("role_member", role_id(&app, "Member").await);
        ids.insert("role_reader", role_id(&app, "Reader").await);
        ids.insert("status_new", lookup(&app, "statuses", "New").await);
        ids.insert("u_writer", writer);
        ids.insert("u_padmin", users[&ProjectAdmin].0);
        ids.insert("u_member", users[&Member].0);
        ids.insert("u_reader", users[&Reader].0);
        ids.insert("u_nonmember", users[&NonMember].0);
        for (key, project) in [("P", p), ("Q", q)] {
            let wp = new_wp(&app, minimal(project, &format!("Work in {key}"), task)).await["id"]
                .as_i64()
                .unwrap();
            ids.insert(if key == "P" { "wpP" } else { "wpQ" }, wp);
            let res = app
                .admin(Method::POST, "/api/v3/versions")
                .json(&json!({
                    "name": format!("Version of {key}"),
                    "_links": { "definingProject": href("projects", project) },
                }))
                .send()
                .await;
            assert_eq!(res.status, 201, "{}", res.text());
            ids.insert(
                if key == "P" { "verP" } else { "verQ" },
                res.json()["id"].as_i64().unwrap(),
            );
            let res = app
                .admin(Method::POST, "/api/v3/memberships")
                .json(&json!({ "_links": {
                    "project": href("projects", project),
                    "principal": href("users", writer),
                    "roles": [href("roles", ids["role_member"])],
                }}))
                .send()
                .await;
            assert_eq!(res.status, 201, "{}", res.text());
            ids.insert(
                if key == "P" { "memP" } else { "memQ" },
                res.json()["id"].as_i64().unwrap(),
            );
            let c = comment_by(&app, writer, wp, &format!("A comment in {key}")).await;
            ids.insert(if key == "P" { "commentP" } else { "commentQ" }, c);
        }
        let mut own_p = HashMap::new();
        for actor in [Admin, ProjectAdmin, Member, Reader, NonMember] {
            let c = comment_by(&app, users[&actor].0, ids["wpP"], "My own comment").await;
            own_p.insert(actor, c);
        }
        let mut own_q = HashMap::new();
        for actor in [Admin, NonMember] {
            let c = comment_by(&app, users[&actor].0, ids["wpQ"], "My own comment").await;
            own_q.insert(actor, c);
        }
        World {
            app,
            users,
            ids,
            own_p,
            own_q,
            fresh: 0,
            anonymous_allowed: false,
        }
    }

    fn next(&mut self) -> usize {
        self.fresh += 1;
        self.fresh
    }

    /// A fresh project with P's role holders (private) or without (public).
    async fn new_project(&mut self, public: bool) -> i64 {
        let n = self.next();
        let id = make_project(&self.app, &format!("fresh-{n}"), public).await;
        if !public {
            for (actor, role) in [
                (ProjectAdmin, "Project admin"),
                (Member, "Member"),
                (Reader, "Reader"),
            ] {
                add_member(&self.app, id, self.users[&actor].0, role).await;
            }
        }
        id
    }

    async fn new_user(&mut self) -> i64 {
        let n = self.next();
        self.app.user(&format!("extra{n}")).await.0
    }

    async fn new_membership(&mut self, project: i64) -> i64 {
        let user = self.new_user().await;
        let res = self
            .app
            .admin(Method::POST, "/api/v3/memberships")
            .json(&json!({ "_links": {
                "project": href("projects", project),
                "principal": href("users", user),
                "roles": [href("roles", self.ids["role_member"])],
            }}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        res.json()["id"].as_i64().unwrap()
    }

    /// The value of a placeholder for `actor`; fresh objects are made once
    /// per row (`made`).
    async fn value(
        &mut self,
        name: &str,
        actor: Actor,
        made: &mut HashMap<String, String>,
    ) -> String {
        if let Some(v) = made.get(name) {
            return v.clone();
        }
        let v = match name {
            "actor" => actor.name().to_string(),
            "own" => self.own_p[&actor].to_string(),
            "ownQ" => self.own_q[&actor].to_string(),
            "filterP" => filters(&[("project", "=", &[&self.ids["P"].to_string()])]),
            "filterQ" => filters(&[("project", "=", &[&self.ids["Q"].to_string()])]),
            "idFilterP" => filters(&[("id", "=", &[&self.ids["P"].to_string()])]),
            "memberFilterP" => filters(&[("member", "=", &[&self.ids["P"].to_string()])]),
            "writerFilter" => filters(&[("principal", "=", &[&self.ids["u_writer"].to_string()])]),
            "new_P" => self.new_project(false).await.to_string(),
            "new_Q" => self.new_project(true).await.to_string(),
            "new_wpP" | "new_wpQ" => {
                let project = self.ids[if name == "new_wpP" { "P" } else { "Q" }];
                let n = self.next();
                new_wp(
                    &self.app,
                    minimal(project, &format!("Fresh {n}"), self.ids["task"]),
                )
                .await["id"]
                    .as_i64()
                    .unwrap()
                    .to_string()
            }
            "new_memP" => self.new_membership(self.ids["P"]).await.to_string(),
            "new_memQ" => self.new_membership(self.ids["Q"]).await.to_string(),
            "new_user" => self.new_user().await.to_string(),
            other => self
                .ids
                .get(other)
                .unwrap_or_else(|| panic!("unknown placeholder :{other}"))
                .to_string(),
        };
        made.insert(name.to_string(), v.clone());
        v
    }

    async fn fill(
        &mut self,
        text: &str,
        actor: Actor,
        made: &mut HashMap<String, String>,
    ) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find(':') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if len == 0 {
                out.push(':');
            } else {
                out.push_str(&self.value(&after[..len], actor, made).await);
            }
            rest = &after[len..];
        }
        out.push_str(rest);
        out
    }

    async fn fill_json(
        &mut self,
        v: &Value,
        actor: Actor,
        made: &mut HashMap<String, String>,
    ) -> Value {
        match v {
            Value::String(s) => Value::String(self.fill(s, actor, made).await),
            Value::Array(a) => {
                let mut out = Vec::new();
                for x in a {
                    out.push(Box::pin(self.fill_json(x, actor, made)).await);
                }
                Value::Array(out)
            }
            Value::Object(o) => {
                let mut out = serde_json::Map::new();
                for (k, x) in o {
                    out.insert(k.clone(), Box::pin(self.fill_json(x, actor, made)).await);
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }

    async fn set_anonymous_access(&mut self, allowed: bool) {
        if self.anonymous_allowed != allowed {
            self.app
                .services()
                .set_anonymous_access(allowed)
                .await
                .unwrap();
            self.anonymous_allowed = allowed;
        }
    }

    /// Runs every row of `table`; returns the number of rows and the
    /// mismatches, one readable line each.
    async fn run(&mut self, table: &[Endpoint]) -> (usize, Vec<String>) {
        let mut rows = 0;
        let mut mismatches = Vec::new();
        for e in table {
            for &(actor, expected) in &e.expect {
                rows += 1;
                self.set_anonymous_access(actor == AnonymousAllowed).await;
                let mut made = HashMap::new();
                let path = self.fill(e.path, actor, &mut made).await;
                let mut req = match self.users.get(&actor) {
                    Some((_, token)) if !actor.is_anonymous() => {
                        as_user(&self.app, token, e.method.clone(), &path)
                    }
                    _ => Req::new(&self.app.base, e.method.clone(), &path),
                };
                if let Some(body) = &e.body {
                    req = req.json(&self.fill_json(body, actor, &mut made).await);
                }
                let res = req.send().await;
                let what = format!("{} {} {}", actor.name(), e.method, e.path);
                let body = res.text();
                let short: String = body.chars().take(300).collect();
                if res.status != expected {
                    mismatches.push(format!(
                        "{what} [{path}]: expected {expected}, got {} ({short})",
                        res.status
                    ));
                    continue;
                }
                let identifier = match expected {
                    401 => Some("Unauthenticated"),
                    403 => Some("MissingPermission"),
                    404 => Some("NotFound"),
                    _ => None,
                };
                if let Some(id) = identifier {
                    let got = res.json()["errorIdentifier"].clone();
                    if got != format!("urn:openproject-org:api:v3:errors:{id}") {
                        mismatches.push(format!(
                            "{what} [{path}]: expected error {id}, got {got} ({short})"
                        ));
                    }
                }
                if res.status != 200 {
                    continue;
                }
                let doc = res.json();
                for (object, seen_by) in &e.lists {
                    let id: i64 = self.value(object, actor, &mut made).await.parse().unwrap();
                    let listed = doc["_embedded"]["elements"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x["id"].as_i64() == Some(id)));
                    let should = seen_by.contains(&actor);
                    if listed != should {
                        mismatches.push(format!(
                            "{what} [{path}]: :{object} ({id}) {} in the collection",
                            if should { "is missing" } else { "must not be" }
                        ));
                    }
                }
                if let Some(with_commit) = e.commit_for {
                    let has = !doc["_links"]["commit"].is_null();
                    if has != with_commit.contains(&actor) {
                        mismatches.push(format!(
                            "{what} [{path}]: the form {} a commit link",
                            if has { "must not have" } else { "lacks" }
                        ));
                    }
                }
            }
        }
        (rows, mismatches)
    }
}

/// Runs the table in a fresh world and fails with every mismatch.
async fn check(backend: Backend, family: &str, table: Vec<Endpoint>) {
    let mut world = World::new(backend).await;
    let (rows, mismatches) = world.run(&table).await;
    eprintln!("{family}: {rows} rows");
    assert!(rows > 0);
    assert!(
        mismatches.is_empty(),
        "{family}: {} of {rows} rows disagree with the rules:\n  {}",
        mismatches.len(),
        mismatches.join("\n  ")
    );
}

// ---------------------------------------------------------------- projects

async fn projects_matrix(backend: Backend) {
    let table = vec![
        get(
            "/api/v3/projects/:P",
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 200),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 404),
            ],
        ),
        // By identifier as by id.
        get(
            "/api/v3/projects/private-p",
            &[
                (Admin, 200),
                (Reader, 200),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 404),
            ],
        ),
        // Not seeing P looks exactly like P not existing.
        get(
            "/api/v3/projects/:missing",
            &[(NonMember, 404), (AnonymousAllowed, 404)],
        ),
        // Asking for P by id in a filter finds nothing either.
        get(
            "/api/v3/projects?pageSize=100&:idFilterP",
            &[
                (Admin, 200),
                (Reader, 200),
                (NonMember, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 200),
            ],
        )
        .lists("P", SEE_P),
        get(
            "/api/v3/projects?pageSize=100",
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 200),
                (NonMember, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 200),
            ],
        )
        .lists("P", SEE_P)
        .lists("Q", SEE_Q),
        // The description differs per caller, so that no row is a no-op.
        ep(
            Method::PATCH,
            "/api/v3/projects/:P",
            Some(json!({"description": {"raw": "Changed by :actor"}})),
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 403),
                (Reader, 403),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        ep(
            Method::POST,
            "/api/v3/projects/:P/form",
            Some(json!({"description": {"raw": "Previewed by :actor"}})),
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 403),
                (Reader, 403),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        // Deleting a project is for administrators only (as in
        // OpenProject: no project role carries it).
        ep(
            Method::DELETE,
            "/api/v3/projects/:new_P",
            None,
            &[
                (Admin, 204),
                (ProjectAdmin, 403),
                (Member, 403),
                (Reader, 403),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        get(
            "/api/v3/projects/:Q",
            &[
                (Admin, 200),
                (NonMember, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 200),
            ],
        ),
        ep(
            Method::PATCH,
            "/api/v3/projects/:Q",
            Some(json!({"description": {"raw": "Changed by :actor"}})),
            &[
                (Admin, 200),
                (NonMember, 403),
                (Member, 403),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        ep(
            Method::DELETE,
            "/api/v3/projects/:new_Q",
            None,
            &[
                (Admin, 204),
                (NonMember, 403),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
    ];
    check(backend, "projects", table).await;
}
both_backends!(projects_matrix);

// ---------------------------------------------------------------- work packages

async fn work_packages_matrix(backend: Backend) {
    let create = json!({
        "subject": "Made by :actor",
        "_links": { "type": { "href": "/api/v3/types/:task" } }
    });
    let create_with_project = json!({
        "subject": "Made by :actor",
        "_links": {
            "project": { "href": "/api/v3/projects/:P" },
            "type": { "href": "/api/v3/types/:task" }
        }
    });
    let rename = json!({"subject": "Renamed by :actor", "lockVersion": 0});
    let table = vec![
        get(
            "/api/v3/projects/:P/work_packages?pageSize=100",
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 200),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 404),
            ],
        )
        .lists("wpP", SEE_P),
        get(
            "/api/v3/work_packages?pageSize=100",
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 200),
                (NonMember, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 200),
            ],
        )
        .lists("wpP", SEE_P)
        .lists("wpQ", SEE_Q),
        // Filtering by P narrows the scope; it never widens it.
        get(
            "/api/v3/work_packages?pageSize=100&:filterP",
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 200),
                (NonMember, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 200),
            ],
        )
        .lists("wpP", SEE_P),
        get(
            "/api/v3/work_packages/schemas/:P-:task",
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 200),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 404),
            ],
        ),
        get(
            "/api/v3/work_packages/:wpP",
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 200),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 404),
            ],
        ),
        get(
            "/api/v3/work_packages/:missing",
            &[(NonMember, 404), (AnonymousAllowed, 404)],
        ),
        ep(
            Method::POST,
            "/api/v3/projects/:P/work_packages",
            Some(create.clone()),
            &[
                (Admin, 201),
                (ProjectAdmin, 201),
                (Member, 201),
                (Reader, 403),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        // The project named in the body is a property of the new work
        // package: one the caller cannot see is invalid (422), exactly as
        // one that does not exist, so the answer reveals nothing.
        ep(
            Method::POST,
            "/api/v3/work_packages",
            Some(create_with_project),
            &[
                (Admin, 201),
                (Reader, 403),
                (NonMember, 422),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        ep(
            Method::PATCH,
            "/api/v3/work_packages/:new_wpP",
            Some(rename.clone()),
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 403),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        // The forms change nothing: whoever sees the work package gets the
        // form, with a commit link only if they may make the change.
        ep(
            Method::POST,
            "/api/v3/work_packages/:wpP/form",
            Some(json!({"subject": "Previewed by :actor"})),
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 200),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        )
        .commit_for(&[Admin, ProjectAdmin, Member]),
        ep(
            Method::POST,
            "/api/v3/projects/:P/work_packages/form",
            Some(json!({"subject": "Previewed by :actor"})),
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 200),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        )
        .commit_for(&[Admin, ProjectAdmin, Member]),
        ep(
            Method::DELETE,
            "/api/v3/work_packages/:new_wpP",
            None,
            &[
                (Admin, 204),
                (ProjectAdmin, 204),
                (Member, 403),
                (Reader, 403),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        // Q, public: outsiders read (the "Non member" and "Anonymous"
        // roles) and write nothing.
        get(
            "/api/v3/projects/:Q/work_packages?pageSize=100",
            &[
                (Admin, 200),
                (NonMember, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 200),
            ],
        )
        .lists("wpQ", SEE_Q),
        get(
            "/api/v3/work_packages/:wpQ",
            &[
                (Admin, 200),
                (NonMember, 200),
                (Reader, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 200),
            ],
        ),
        ep(
            Method::POST,
            "/api/v3/projects/:Q/work_packages",
            Some(create),
            &[
                (Admin, 201),
                (NonMember, 403),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        ep(
            Method::PATCH,
            "/api/v3/work_packages/:new_wpQ",
            Some(rename),
            &[
                (Admin, 200),
                (NonMember, 403),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        ep(
            Method::POST,
            "/api/v3/work_packages/:wpQ/form",
            Some(json!({"subject": "Previewed by :actor"})),
            &[
                (Admin, 200),
                (NonMember, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        )
        .commit_for(&[Admin]),
        ep(
            Method::DELETE,
            "/api/v3/work_packages/:new_wpQ",
            None,
            &[
                (Admin, 204),
                (NonMember, 403),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
    ];
    check(backend, "work packages", table).await;
}
both_backends!(work_packages_matrix);

// ---------------------------------------------------------------- activities

async fn activities_matrix(backend: Backend) {
    let comment = json!({"comment": {"raw": "Said by :actor"}});
    let edit = json!({"comment": {"raw": "Edited by :actor"}});
    let table = vec![
        get(
            "/api/v3/work_packages/:wpP/activities",
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 200),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 404),
            ],
        )
        .lists("commentP", SEE_P),
        get(
            "/api/v3/activities/:commentP",
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 200),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 404),
            ],
        ),
        ep(
            Method::POST,
            "/api/v3/work_packages/:wpP/activities",
            Some(comment.clone()),
            &[
                (Admin, 201),
                (ProjectAdmin, 201),
                (Member, 201),
                (Reader, 403),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        // Someone else's comment: "edit_work_package_notes" (project admin).
        ep(
            Method::PATCH,
            "/api/v3/activities/:commentP",
            Some(edit.clone()),
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 403),
                (Reader, 403),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        // One's own comment: "edit_own_work_package_notes" (member) too.
        // The reader's and the non-member's were written for them; anonymous
        // visitors own none.
        ep(
            Method::PATCH,
            "/api/v3/activities/:own",
            Some(edit.clone()),
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 403),
                (NonMember, 404),
            ],
        ),
        get(
            "/api/v3/work_packages/:wpQ/activities",
            &[
                (Admin, 200),
                (NonMember, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 200),
            ],
        )
        .lists("commentQ", SEE_Q),
        get(
            "/api/v3/activities/:commentQ",
            &[
                (Admin, 200),
                (NonMember, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 200),
            ],
        ),
        ep(
            Method::POST,
            "/api/v3/work_packages/:wpQ/activities",
            Some(comment),
            &[
                (Admin, 201),
                (NonMember, 403),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        ep(
            Method::PATCH,
            "/api/v3/activities/:commentQ",
            Some(edit.clone()),
            &[
                (Admin, 200),
                (NonMember, 403),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        ep(
            Method::PATCH,
            "/api/v3/activities/:ownQ",
            Some(edit),
            &[(Admin, 200), (NonMember, 403)],
        ),
    ];
    check(backend, "activities", table).await;
}
both_backends!(activities_matrix);

// ---------------------------------------------------------------- memberships

async fn memberships_matrix(backend: Backend) {
    let add = |project: &str| {
        json!({ "_links": {
            "project": { "href": format!("/api/v3/projects/:{project}") },
            "principal": { "href": "/api/v3/users/:new_user" },
            "roles": [{ "href": "/api/v3/roles/:role_member" }],
        }})
    };
    let to_reader = json!({ "_links": { "roles": [{ "href": "/api/v3/roles/:role_reader" }] } });
    let table = vec![
        // A collection filtered by a project the caller cannot see is
        // empty, as for a project that does not exist.
        get(
            "/api/v3/memberships?pageSize=100&:filterP",
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 200),
                (NonMember, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 200),
            ],
        )
        .lists("memP", SEE_P),
        // Memberships need "view_members", which the built-in "Non member"
        // and "Anonymous" roles lack: outsiders see none of Q's.
        get(
            "/api/v3/memberships?pageSize=100",
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 200),
                (NonMember, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 200),
            ],
        )
        .lists("memP", SEE_P)
        .lists("memQ", &[Admin]),
        // The writer's memberships: only those in projects whose members
        // the caller may see.
        get(
            "/api/v3/memberships?pageSize=100&:writerFilter",
            &[
                (Admin, 200),
                (Reader, 200),
                (NonMember, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 200),
            ],
        )
        .lists("memP", SEE_P)
        .lists("memQ", &[Admin]),
        get(
            "/api/v3/memberships/:memP",
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 200),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 404),
            ],
        ),
        // The project of a new membership is a property of it: one the
        // caller cannot see is invalid (422), as one that does not exist.
        ep(
            Method::POST,
            "/api/v3/memberships",
            Some(add("P")),
            &[
                (Admin, 201),
                (ProjectAdmin, 201),
                (Member, 403),
                (Reader, 403),
                (NonMember, 422),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        ep(
            Method::POST,
            "/api/v3/memberships",
            Some(add("missing")),
            &[(Admin, 422), (NonMember, 422)],
        ),
        ep(
            Method::PATCH,
            "/api/v3/memberships/:new_memP",
            Some(to_reader.clone()),
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 403),
                (Reader, 403),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        ep(
            Method::DELETE,
            "/api/v3/memberships/:new_memP",
            None,
            &[
                (Admin, 204),
                (ProjectAdmin, 204),
                (Member, 403),
                (Reader, 403),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        get(
            "/api/v3/memberships?pageSize=100&:filterQ",
            &[
                (Admin, 200),
                (NonMember, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 200),
            ],
        )
        .lists("memQ", &[Admin]),
        // A membership one may not see is "not found", even in a project
        // one sees (Q): changing or deleting it answers the same.
        get(
            "/api/v3/memberships/:memQ",
            &[
                (Admin, 200),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 404),
            ],
        ),
        ep(
            Method::POST,
            "/api/v3/memberships",
            Some(add("Q")),
            &[
                (Admin, 201),
                (NonMember, 403),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        ep(
            Method::PATCH,
            "/api/v3/memberships/:new_memQ",
            Some(to_reader),
            &[
                (Admin, 200),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        ep(
            Method::DELETE,
            "/api/v3/memberships/:new_memQ",
            None,
            &[
                (Admin, 204),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
    ];
    check(backend, "memberships", table).await;
}
both_backends!(memberships_matrix);

// ---------------------------------------------------------------- principals and users

async fn principals_and_users_matrix(backend: Backend) {
    let table = vec![
        // Principals: administrators see everyone; others themselves and
        // those they share a project with (a membership, not a public
        // project's outsider access); anonymous visitors no one.
        get(
            "/api/v3/principals?pageSize=100",
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 200),
                (NonMember, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 200),
            ],
        )
        .lists("u_writer", SEE_P)
        .lists("u_reader", SEE_P)
        .lists("u_padmin", SEE_P)
        .lists("u_nonmember", &[Admin, NonMember]),
        // Members of P: asking about a project one cannot see finds no one.
        get(
            "/api/v3/principals?pageSize=100&:memberFilterP",
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Reader, 200),
                (NonMember, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 200),
            ],
        )
        .lists("u_writer", SEE_P)
        .lists("u_member", SEE_P),
        get(
            "/api/v3/users?pageSize=100",
            &[
                (Admin, 200),
                (ProjectAdmin, 403),
                (Member, 403),
                (Reader, 403),
                (NonMember, 403),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        // Another user's record: administrators only; to anyone else the
        // user does not exist (the principals collection is how people see
        // each other).
        get(
            "/api/v3/users/:u_writer",
            &[
                (Admin, 200),
                (ProjectAdmin, 404),
                (Member, 404),
                (Reader, 404),
                (NonMember, 404),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        get(
            "/api/v3/users/me",
            &[
                (Admin, 200),
                (ProjectAdmin, 200),
                (Member, 200),
                (Reader, 200),
                (NonMember, 200),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
    ];
    check(backend, "principals and users", table).await;
}
both_backends!(principals_and_users_matrix);

// ---------------------------------------------------------------- versions and lookups

async fn versions_and_lookups_matrix(backend: Backend) {
    let version = json!({
        "name": "Planned by :actor",
        "_links": { "definingProject": { "href": "/api/v3/projects/:P" } }
    });
    let version_q = json!({
        "name": "Planned by :actor",
        "_links": { "definingProject": { "href": "/api/v3/projects/:Q" } }
    });
    let in_p = [
        (Admin, 200),
        (ProjectAdmin, 200),
        (Member, 200),
        (Reader, 200),
        (NonMember, 404),
        (Anonymous, 401),
        (AnonymousAllowed, 404),
    ];
    let in_q = [
        (Admin, 200),
        (NonMember, 200),
        (Anonymous, 401),
        (AnonymousAllowed, 200),
    ];
    let everyone = [
        (Admin, 200),
        (ProjectAdmin, 200),
        (Member, 200),
        (Reader, 200),
        (NonMember, 200),
        (Anonymous, 401),
        (AnonymousAllowed, 200),
    ];
    let table = vec![
        get("/api/v3/versions/:verP", &in_p),
        get("/api/v3/versions/:verP/projects", &in_p),
        get("/api/v3/projects/:P/versions", &in_p).lists("verP", SEE_P),
        get("/api/v3/projects/:P/types", &in_p),
        // As for memberships: an invisible defining project is invalid,
        // like a missing one.
        ep(
            Method::POST,
            "/api/v3/versions",
            Some(version),
            &[
                (Admin, 201),
                (ProjectAdmin, 201),
                (Member, 403),
                (Reader, 403),
                (NonMember, 422),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        get("/api/v3/versions/:verQ", &in_q),
        get("/api/v3/projects/:Q/versions", &in_q).lists("verQ", SEE_Q),
        ep(
            Method::POST,
            "/api/v3/versions",
            Some(version_q),
            &[
                (Admin, 201),
                (NonMember, 403),
                (Anonymous, 401),
                (AnonymousAllowed, 401),
            ],
        ),
        get("/api/v3/statuses", &everyone),
        get("/api/v3/statuses/:status_new", &everyone),
        get("/api/v3/types", &everyone),
        get("/api/v3/types/:task", &everyone),
        get("/api/v3/priorities", &everyone),
    ];
    check(backend, "versions and lookups", table).await;
}
both_backends!(versions_and_lookups_matrix);
