//! The web UI over real HTTP: each page's status, the security headers,
//! escaping, CSRF refusals and sign-in messages, on both backends. The
//! browser drives the same pages in `web_browser`.

use hyper::Method;
use serde_json::json;

use crate::harness::{Backend, Req, Resp, TestApp, ADMIN_PASSWORD};

pub const USER_PASSWORD: &str = "user password 1";

/// A cookie jar over the harness's client: enough of a browser to follow
/// the sign-in dance and post forms.
pub struct Visitor<'a> {
    pub app: &'a TestApp,
    cookies: Vec<(String, String)>,
}

impl<'a> Visitor<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Visitor {
            app,
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, res: &Resp) {
        for v in res.headers.get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != k);
            if !v.contains("Max-Age=0") {
                self.cookies.push((k.to_string(), val.to_string()));
            }
        }
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        // As browsers do: some answers (an unknown path) depend on it.
        let mut req = Req::new(&self.app.base, Method::GET, path)
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8");
        if !self.cookies.is_empty() {
            req = req.header("cookie", &self.cookie_header());
        }
        let res = req.send().await;
        self.keep_cookies(&res);
        res
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let mut req = Req::new(&self.app.base, Method::POST, path)
            .raw("application/x-www-form-urlencoded", body);
        if !self.cookies.is_empty() {
            req = req.header("cookie", &self.cookie_header());
        }
        let res = req.send().await;
        self.keep_cookies(&res);
        res
    }

    /// Opens `path` and posts `fields` plus the page's CSRF token.
    pub async fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Resp {
        let res = self.get(page).await;
        assert_eq!(res.status, 200, "GET {page}: {}", res.text());
        let token = hidden(&res.text(), "csrf_token");
        let mut all = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post(action, &all).await
    }

    /// A visitor signed in as `login` (the sign-in must succeed).
    pub async fn signed_in(app: &'a TestApp, login: &str, password: &str) -> Visitor<'a> {
        let mut v = Visitor::new(app);
        let res = v.sign_in(login, password).await;
        assert_eq!(res.status, 303, "signing in as {login}: {}", res.text());
        v
    }

    pub async fn sign_in(&mut self, login: &str, password: &str) -> Resp {
        self.submit(
            "/login",
            "/login",
            &[("login", login), ("password", password)],
        )
        .await
    }
}

/// A visitor signed in as the administrator.
pub async fn admin_visitor(app: &TestApp) -> Visitor<'_> {
    Visitor::signed_in(app, "admin", ADMIN_PASSWORD).await
}

/// The value of the first hidden field `name` in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

pub fn assert_page(res: &Resp, status: u16) -> String {
    let body = res.text();
    assert_eq!(res.status, status, "{body}");
    assert_eq!(
        res.header("content-type"),
        Some("text/html; charset=utf-8"),
        "{body}"
    );
    let csp = res.header("content-security-policy").expect("a CSP header");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    assert!(
        !body.contains("<script>") && !body.contains(" style="),
        "no inline script or style: {body}"
    );
    body
}

pub fn location(res: &Resp) -> &str {
    res.header("location").expect("a Location header")
}

async fn sign_in_and_out(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut v = Visitor::new(&app);

    // Pages need a signed-in person and say where to come back to.
    let res = v.get("/projects?q=x").await;
    assert_eq!(res.status, 303);
    assert_eq!(location(&res), "/login?next=%2Fprojects%3Fq%3Dx");

    let res = v.get("/login").await;
    let body = assert_page(&res, 200);
    assert!(body.contains("<label for=\"login\">"), "{body}");
    assert!(body.contains("<label for=\"password\">"), "{body}");
    assert!(v.cookie("steward_login_csrf").is_some());

    // Wrong password: the form again, with a clear message.
    let res = v.sign_in("admin", "wrong").await;
    let body = assert_page(&res, 401);
    assert!(body.contains("Wrong login or password."), "{body}");
    assert!(v.cookie("steward_session").is_none());

    // Without the form's token nothing happens.
    let res = v
        .post(
            "/login",
            &[("login", "admin"), ("password", ADMIN_PASSWORD)],
        )
        .await;
    let body = assert_page(&res, 403);
    assert!(body.contains("expired"), "{body}");
    assert!(v.cookie("steward_session").is_none());

    // An offered place to return to elsewhere is not followed.
    let res = v.get("/login?next=//evil.example/").await;
    let token = hidden(&res.text(), "csrf_token");
    assert_eq!(hidden(&res.text(), "next"), "/");
    let res = v
        .post(
            "/login",
            &[
                ("login", "admin"),
                ("password", ADMIN_PASSWORD),
                ("csrf_token", &token),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(location(&res), "/");
    let set = res
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("steward_session="))
        .expect("the session cookie");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"));
    assert!(!set.contains("Max-Age"), "{set}");

    // The session works for the API as well: it is the same cookie.
    let res = v.get("/api/v3/users/me").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["login"], "admin");

    let res = v.get("/").await;
    let body = assert_page(&res, 200);
    assert!(body.contains("Welcome, "), "{body}");
    assert!(body.contains("My projects"), "{body}");
    // A signed-in visitor of the sign-in page goes on.
    assert_eq!(v.get("/login").await.status, 303);

    // Signing out needs the token too.
    let res = v.post("/logout", &[]).await;
    let body = assert_page(&res, 403);
    assert!(body.contains("Form expired"), "{body}");
    assert!(body.contains("Request id: "), "{body}");
    assert_eq!(v.get("/").await.status, 200);
    let res = v.submit("/", "/logout", &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(location(&res), "/login?notice=signed_out");
    assert!(v.cookie("steward_session").is_none());
    assert_eq!(v.get("/").await.status, 303);
    let body = assert_page(&v.get("/login?notice=signed_out").await, 200);
    assert!(body.contains("You have signed out."), "{body}");
}
both_backends!(sign_in_and_out);

async fn lockout_and_locked_messages(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.security.max_failed_logins = 2;
    })
    .await;
    app.user("alice").await;
    let mut v = Visitor::new(&app);
    let res = v.sign_in("alice", "wrong").await;
    assert_page(&res, 401);
    // The failure that reaches the limit may already say so.
    let res = v.sign_in("alice", "wrong").await;
    assert!(matches!(res.status, 401 | 403), "{}", res.text());
    let res = v.sign_in("alice", USER_PASSWORD).await;
    let body = assert_page(&res, 403);
    assert!(
        body.contains(
            "Too many failed sign-ins with this login from your address: try again after"
        ),
        "{body}"
    );

    app.user("bob").await;
    let bob = app.services().user_by_ref("bob").await.unwrap();
    app.services().lock_user(bob.id).await.unwrap();
    let res = v.sign_in("bob", USER_PASSWORD).await;
    let body = assert_page(&res, 403);
    assert!(body.contains("This account is locked."), "{body}");
}
both_backends!(lockout_and_locked_messages);

async fn projects_pages(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut v = admin_visitor(&app).await;

    let body = assert_page(&v.get("/projects").await, 200);
    assert!(body.contains("No projects."), "{body}");
    assert!(body.contains("href=\"/projects/new\""), "{body}");

    // Bad input comes back as the form with the message at the field.
    let res = v
        .submit("/projects/new", "/projects", &[("name", "  ")])
        .await;
    let body = assert_page(&res, 422);
    assert!(
        body.contains("Name can&#39;t be blank.") || body.contains("Name can't be blank."),
        "{body}"
    );
    assert!(body.contains("aria-invalid=\"true\""), "{body}");
    let res = v
        .submit(
            "/projects/new",
            "/projects",
            &[("name", "Fine"), ("identifier", "Not Valid")],
        )
        .await;
    let body = assert_page(&res, 422);
    assert!(body.contains("id=\"identifier-error\""), "{body}");
    assert!(
        body.contains("value=\"Fine\""),
        "the typed name is kept: {body}"
    );

    // Without the CSRF token nothing is created.
    let res = v
        .post("/projects", &[("name", "Sneaky"), ("identifier", "sneaky")])
        .await;
    assert_page(&res, 403);

    let evil = "<script>alert(1)</script> & co";
    let res = v
        .submit(
            "/projects/new",
            "/projects",
            &[
                ("name", evil),
                ("identifier", "evil"),
                ("description", "**bold** <img src=x onerror=alert(1)>"),
                ("public", "1"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(location(&res), "/projects/evil?notice=project_created");

    for path in ["/projects", "/projects/evil?notice=project_created"] {
        let body = assert_page(&v.get(path).await, 200);
        assert!(!body.contains("<script>alert"), "{path}: {body}");
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"),
            "{path}: {body}"
        );
    }
    let body = v.get("/projects/evil").await.text();
    assert!(body.contains("<strong>bold</strong>"), "{body}");
    assert!(!body.contains("<img"), "{body}");
    let listed = app
        .admin(Method::GET, "/api/v3/projects")
        .send()
        .await
        .json();
    assert_eq!(listed["total"], 1, "only the one project: {listed}");

    assert_page(&v.get("/projects/nope").await, 404);
    assert_page(&v.get("/projects?page=-3&q=%00").await, 200);
    assert_page(&v.get("/projects?archived=1").await, 200);

    // Someone without the right to create projects is told so.
    app.user("carol").await;
    let mut carol = Visitor::signed_in(&app, "carol", USER_PASSWORD).await;
    let body = assert_page(&carol.get("/projects").await, 200);
    assert!(!body.contains("/projects/new"), "{body}");
    assert_page(&carol.get("/projects/new").await, 403);
    // The public project is visible to every signed-in person.
    assert_page(&carol.get("/projects/evil").await, 200);
}
both_backends!(projects_pages);

async fn work_package_pages(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.created(
        "/api/v3/projects",
        json!({"name": "Site", "identifier": "site"}),
    )
    .await;
    for subject in ["Write <b>copy</b>", "Fix the footer", "Launch"] {
        app.created(
            "/api/v3/projects/site/work_packages",
            json!({"subject": subject}),
        )
        .await;
    }
    let wps = app
        .admin(Method::GET, "/api/v3/work_packages")
        .send()
        .await
        .json();
    let first = wps["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["subject"] == "Write <b>copy</b>")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let res = app
        .admin(Method::PATCH, &format!("/api/v3/work_packages/{first}"))
        .json(&json!({"lockVersion": 0, "subject": "Write the copy <b>now</b>"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    let mut v = admin_visitor(&app).await;

    let body = assert_page(&v.get("/work_packages").await, 200);
    assert!(body.contains("3 work packages"), "{body}");
    assert!(
        body.contains("Write the copy &lt;b&gt;now&lt;/b&gt;"),
        "{body}"
    );
    let body = assert_page(&v.get("/work_packages?q=footer").await, 200);
    assert!(body.contains("1 work package<"), "{body}");
    assert!(
        body.contains("Fix the footer") && !body.contains("Launch"),
        "{body}"
    );
    let body = assert_page(&v.get("/work_packages?status=closed").await, 200);
    assert!(body.contains("No work packages match"), "{body}");
    let body = assert_page(
        &v.get("/work_packages?sort=subject&dir=asc&status=all")
            .await,
        200,
    );
    let (a, b) = (
        body.find("Fix the footer").unwrap(),
        body.find("Launch").unwrap(),
    );
    assert!(a < b, "sorted by subject");
    assert!(body.contains("aria-sort=\"ascending\""), "{body}");
    // Nonsense in the query is ignored, never an error.
    for q in [
        "?sort=nope&dir=sideways&page=x&status=%00&type=-1&assignee=%3Cx%3E&author=none",
        "?page=999999",
        "?assignee=me&responsible=none",
    ] {
        assert_page(&v.get(&format!("/work_packages{q}")).await, 200);
    }
    let body = assert_page(&v.get("/projects/site/work_packages").await, 200);
    assert!(body.contains("3 work packages"), "{body}");
    assert_page(&v.get("/projects/nope/work_packages").await, 404);

    // The detail page with its history.
    let path = format!("/work_packages/{first}");
    let body = assert_page(&v.get(&path).await, 200);
    assert!(body.contains("created this work package"), "{body}");
    assert!(
        body.contains("changed from <em>Write &lt;b&gt;copy&lt;/b&gt;</em> to <em>Write the copy &lt;b&gt;now&lt;/b&gt;</em>"),
        "{body}"
    );
    // Show as of date: before it existed, today, and nonsense.
    let body = assert_page(&v.get(&format!("{path}?as_of=2000-01-01")).await, 200);
    assert!(
        body.contains("did not exist yet at the end of 2000-01-01"),
        "{body}"
    );
    let today = &steward_domain::Timestamp::now().to_string()[..10];
    let body = assert_page(&v.get(&format!("{path}?as_of={today}")).await, 200);
    assert!(
        body.contains(
            "<th scope=\"row\">Subject</th><td>Write the copy &lt;b&gt;now&lt;/b&gt;</td>"
        ),
        "{body}"
    );
    let body = assert_page(&v.get(&format!("{path}?as_of=%3Cyesterday%3E")).await, 200);
    assert!(body.contains("id=\"as-of-error\""), "{body}");
    assert!(body.contains("value=\"&lt;yesterday&gt;\""), "{body}");
    assert_page(&v.get("/work_packages/999999").await, 404);
    assert_page(&v.get("/work_packages/abc").await, 404);

    // Comments: the token is required, a blank one is refused with a message.
    let action = format!("{path}/comments");
    assert_page(&v.post(&action, &[("comment", "sneaky")]).await, 403);
    let res = v.submit(&path, &action, &[("comment", "   ")]).await;
    let body = assert_page(&res, 422);
    assert!(
        body.contains("Comment can&#39;t be blank.") || body.contains("Comment can't be blank."),
        "{body}"
    );
    let res = v
        .submit(
            &path,
            &action,
            &[("comment", "Looks good, @admin <script>x</script>")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert!(location(&res).starts_with(&format!("{path}?notice=comment_added#activity-")));
    let body = assert_page(&v.get(&path).await, 200);
    assert!(
        body.contains("Looks good, @admin &lt;script&gt;x&lt;/script&gt;"),
        "{body}"
    );
    assert!(!body.contains("sneaky"), "{body}");

    // The mention completion's source: the project's members (none here).
    let res = v.get(&format!("{path}/mentionable?q=a")).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), json!([]));

    // Someone who cannot see the project gets "not found".
    app.user("dave").await;
    let mut dave = Visitor::signed_in(&app, "dave", USER_PASSWORD).await;
    assert_page(&dave.get(&path).await, 404);
    assert_page(&dave.get(&format!("{path}/mentionable?q=a")).await, 404);
    let body = assert_page(&dave.get("/work_packages").await, 200);
    assert!(body.contains("0 work packages"), "{body}");
}
both_backends!(work_package_pages);

async fn account_pages(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.user("erin").await;
    let mut v = Visitor::signed_in(&app, "erin", USER_PASSWORD).await;

    let body = assert_page(&v.get("/my/account").await, 200);
    assert!(body.contains("value=\"erin@example.org\""), "{body}");
    let res = v
        .submit(
            "/my/account",
            "/my/account",
            &[
                ("firstname", "Erin"),
                ("lastname", "O'Neil <x>"),
                ("email", "not an email"),
                ("language", "de"),
                ("time_zone", "Europe/Berlin"),
            ],
        )
        .await;
    let body = assert_page(&res, 422);
    assert!(body.contains("id=\"email-error\""), "{body}");
    assert!(
        body.contains("O&#39;Neil &lt;x&gt;") || body.contains("O'Neil &lt;x&gt;"),
        "{body}"
    );
    let res = v
        .submit(
            "/my/account",
            "/my/account",
            &[
                ("firstname", "Erin"),
                ("lastname", "O'Neil"),
                ("email", "erin@example.com"),
                ("language", "de"),
                ("time_zone", "Europe/Berlin"),
                ("current_password", USER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let me = app.services().user_by_ref("erin").await.unwrap();
    assert_eq!(me.email.as_deref(), Some("erin@example.com"));
    assert_eq!(me.language, "de");
    assert_eq!(me.time_zone, "Europe/Berlin");
    assert_page(&v.post("/my/account", &[("firstname", "X")]).await, 403);

    // Tokens: shown once, then listed by name only.
    let res = v
        .submit("/my/tokens", "/my/tokens", &[("name", "laptop <script>")])
        .await;
    // Answered with a redirect: reloading the page it lands on creates no
    // second token; the secret is on that page once, never in its URL.
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(location(&res), "/my/tokens");
    let body = assert_page(&v.get("/my/tokens").await, 200);
    let secret = hidden_readonly(&body);
    let laptops = |list: Vec<steward_storage::api_tokens::ApiToken>| {
        list.iter().filter(|t| t.name == "laptop <script>").count()
    };
    assert_eq!(
        laptops(app.services().api_tokens_of(me.id).await.unwrap()),
        1
    );
    let api = Req::new(&app.base, Method::GET, "/api/v3/users/me")
        .bearer(&secret)
        .send()
        .await;
    assert_eq!(api.status, 200);
    let body = assert_page(&v.get("/my/tokens").await, 200);
    assert!(body.contains("laptop &lt;script&gt;"), "{body}");
    assert!(!body.contains(&secret), "the secret is shown only once");
    let res = v.submit("/my/tokens", "/my/tokens", &[("name", "")]).await;
    assert_page(&res, 422);
    let laptop = |list: Vec<steward_storage::api_tokens::ApiToken>| {
        list.into_iter().find(|t| t.name == "laptop <script>")
    };
    let token_id = laptop(app.services().api_tokens_of(me.id).await.unwrap())
        .unwrap()
        .id;
    let revoke = format!("/my/tokens/{token_id}/revoke");
    assert_page(&v.post(&revoke, &[]).await, 403);
    let res = v.submit("/my/tokens", &revoke, &[]).await;
    assert_eq!(res.status, 303);
    assert!(laptop(app.services().api_tokens_of(me.id).await.unwrap()).is_none());

    // Sessions: a second browser is listed and can be ended from here.
    let mut other = Visitor::signed_in(&app, "erin", USER_PASSWORD).await;
    let body = assert_page(&v.get("/my/sessions").await, 200);
    assert!(body.contains("this session"), "{body}");
    let sessions = app.services().sessions_of(me.id).await.unwrap();
    assert_eq!(sessions.len(), 2);
    let newest = sessions.iter().map(|s| s.id).max().unwrap();
    let res = v
        .submit(
            "/my/sessions",
            &format!("/my/sessions/{newest}/revoke"),
            &[],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(other.get("/").await.status, 303, "the other browser is out");
    assert_eq!(v.get("/").await.status, 200);

    // Password: wrong current one, mismatch, then a good change.
    let res = v
        .submit(
            "/my/password",
            "/my/password",
            &[
                ("current_password", "nope"),
                ("new_password", "a new password 2"),
                ("password_confirmation", "a new password 2"),
            ],
        )
        .await;
    let body = assert_page(&res, 422);
    assert!(body.contains("The current password is wrong."), "{body}");
    let res = v
        .submit(
            "/my/password",
            "/my/password",
            &[
                ("current_password", USER_PASSWORD),
                ("new_password", "a new password 2"),
                ("password_confirmation", "something else"),
            ],
        )
        .await;
    assert_page(&res, 422);
    let res = v
        .submit(
            "/my/password",
            "/my/password",
            &[
                ("current_password", USER_PASSWORD),
                ("new_password", "a new password 2"),
                ("password_confirmation", "a new password 2"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(v.get("/").await.status, 200, "this session stays");
    Visitor::signed_in(&app, "erin", "a new password 2").await;
}
both_backends!(account_pages);

/// The value of the read-only field showing a new token.
fn hidden_readonly(html: &str) -> String {
    let start = html.find("id=\"new-token\"").expect("the new token field");
    let rest = &html[start..];
    let v = rest.find("value=\"").unwrap() + 7;
    rest[v..].split('"').next().unwrap().to_string()
}

async fn assets_and_errors(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut v = Visitor::new(&app);
    let body = v.get("/login").await.text();
    for (prefix, kind) in [
        ("/assets/style.", "text/css"),
        ("/assets/app.", "text/javascript"),
    ] {
        let start = body.find(prefix).expect("the asset is linked");
        let url = body[start..].split('"').next().unwrap().to_string();
        let res = v.get(&url).await;
        assert_eq!(res.status, 200, "{url}");
        assert!(res.header("content-type").unwrap().starts_with(kind));
        assert_eq!(
            res.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
    }
    assert_page(&v.get("/assets/style.0.css").await, 404);

    // Unknown pages get the friendly page with the request id; the API
    // keeps answering in JSON.
    let res = v.get("/no/such/page").await;
    let body = assert_page(&res, 404);
    let id = res.header("x-request-id").unwrap().to_string();
    assert!(body.contains(&id), "{body}");
    let res = v.get("/api/v3/no_such_thing").await;
    res.assert_error(404, "NotFound");
    // API clients keep getting JSON for any unknown path.
    let res = Req::new(&app.base, Method::GET, "/no/such/page")
        .send()
        .await;
    res.assert_error(404, "NotFound");
    let res = v.get("/health").await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-security-policy").is_none());
}
both_backends!(assets_and_errors);

async fn members_page(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.created(
        "/api/v3/projects",
        json!({"name": "Team", "identifier": "team"}),
    )
    .await;
    let (frank, _) = app.user("frank").await;
    let role = app
        .services()
        .list_roles()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.name == "Member")
        .unwrap()
        .id;
    let mut v = admin_visitor(&app).await;
    let body = assert_page(&v.get("/projects/team/members").await, 200);
    assert!(body.contains("no members yet"), "{body}");
    assert!(body.contains("<label for=\"principal\">"), "{body}");

    let (f, r) = (frank.to_string(), role.to_string());
    assert_page(
        &v.post("/projects/team/members", &[("principal", &f), ("role", &r)])
            .await,
        403,
    );
    // No role: the form again with the service's message.
    let res = v
        .submit(
            "/projects/team/members",
            "/projects/team/members",
            &[("principal", &f)],
        )
        .await;
    assert_page(&res, 422);
    let res = v
        .submit(
            "/projects/team/members",
            "/projects/team/members",
            &[("principal", &f), ("role", &r)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let body = assert_page(
        &v.get("/projects/team/members?notice=member_added").await,
        200,
    );
    assert!(
        body.contains("Test frank") && body.contains("The member was added."),
        "{body}"
    );

    // Frank sees the private project now, but may not manage its members.
    let mut fv = Visitor::signed_in(&app, "frank", USER_PASSWORD).await;
    let body = assert_page(&fv.get("/projects/team/members").await, 200);
    assert!(!body.contains("Add a member"), "{body}");
    let home = assert_page(&fv.get("/").await, 200);
    assert!(home.contains("href=\"/projects/team\""), "{home}");

    let membership = app
        .admin(Method::GET, "/api/v3/memberships")
        .send()
        .await
        .json()["_embedded"]["elements"][0]["id"]
        .as_i64()
        .unwrap();
    let remove = format!("/projects/team/members/{membership}/delete");
    assert_page(&fv.submit("/", &remove, &[]).await, 403);
    let res = v.submit("/projects/team/members", &remove, &[]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_page(&fv.get("/projects/team").await, 404);
}
both_backends!(members_page);

async fn my_data_and_account_deletion(backend: Backend) {
    // Plain user ids in the request log, to see the deletion remove hers.
    let app = TestApp::start_with(backend, |c| c.request_log.pseudonymize = false).await;
    app.user("gina").await;
    let gina = app.services().user_by_ref("gina").await.unwrap();
    let mut v = Visitor::signed_in(&app, "gina", USER_PASSWORD).await;

    // Download my data: requested with the token, made in the background,
    // the page refreshes itself until the archive is there.
    let body = assert_page(&v.get("/my/data").await, 200);
    assert!(body.contains("Request an export"), "{body}");
    assert_page(&v.post("/my/data", &[]).await, 403);
    let res = v.submit("/my/data", "/my/data", &[]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let started = std::time::Instant::now();
    let archive = loop {
        let res = v.get("/my/data").await;
        let body = assert_page(&res, 200);
        if let Some(at) = body.find("/api/v3/exports/") {
            assert!(res.header("refresh").is_none());
            break body[at..].split('"').next().unwrap().to_string();
        }
        assert_eq!(res.header("refresh"), Some("3"), "{body}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the export is ready within a minute: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let res = v.get(&archive).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.body.starts_with(&[0x1f, 0x8b]), "a gzip archive");

    // Deleting one's own account is off by default.
    let body = assert_page(&v.get("/my/delete").await, 200);
    assert!(body.contains("switched off"), "{body}");
    assert!(!body.contains("action=\"/my/delete\""), "{body}");
    let res = v
        .submit("/my/sessions", "/my/delete", &[("confirm_login", "gina")])
        .await;
    assert!(matches!(res.status, 403 | 404), "{}", res.text());
    assert!(app.services().user(gina.id).await.is_ok());

    app.services()
        .set_deletion_settings(None, Some(true))
        .await
        .unwrap();
    let body = assert_page(&v.get("/my/delete").await, 200);
    assert!(body.contains("cannot be undone"), "{body}");
    assert!(body.contains("Deleted user"), "{body}");
    assert_page(
        &v.post("/my/delete", &[("confirm_login", "gina")]).await,
        403,
    );
    let res = v
        .submit("/my/delete", "/my/delete", &[("confirm_login", "not gina")])
        .await;
    let body = assert_page(&res, 422);
    assert!(body.contains("nothing was deleted"), "{body}");
    assert!(app.services().user(gina.id).await.is_ok());

    let res = v
        .submit("/my/delete", "/my/delete", &[("confirm_login", "gina")])
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(location(&res), "/login?notice=account_deleted");
    assert!(app.services().user(gina.id).await.is_err());
    // The confirmation typed her login: the request log keeps neither it
    // nor her id, not even on the deletion's own line.
    let lines = crate::request_log::request_log_lines(&app).await;
    assert!(lines.iter().any(|l| l["path"] == "/my/delete"), "{lines:?}");
    for l in &lines {
        assert!(!l.to_string().contains("gina"), "{l}");
        assert_ne!(l["user_id"], json!(gina.id), "{l}");
    }
    assert_eq!(v.get("/").await.status, 303, "signed out");
    let body = assert_page(&v.get("/login?notice=account_deleted").await, 200);
    assert!(body.contains("Your account was deleted."), "{body}");
    let res = Visitor::new(&app).sign_in("gina", USER_PASSWORD).await;
    let body = assert_page(&res, 401);
    assert!(body.contains("Wrong login or password."), "{body}");
}
both_backends!(my_data_and_account_deletion);

async fn work_package_forms(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.created(
        "/api/v3/projects",
        json!({"name": "Ops", "identifier": "ops"}),
    )
    .await;
    let mut v = admin_visitor(&app).await;
    let new = "/projects/ops/work_packages/new";
    let body = assert_page(&v.get(new).await, 200);
    assert!(body.contains("<label for=\"wp-subject\">"), "{body}");
    let list = assert_page(&v.get("/projects/ops/work_packages").await, 200);
    assert!(list.contains(new), "{list}");

    let action = "/projects/ops/work_packages";
    assert_page(&v.post(action, &[("subject", "Sneaky")]).await, 403);
    let res = v.submit(new, action, &[("subject", " ")]).await;
    let body = assert_page(&res, 422);
    assert!(body.contains("id=\"wp-subject-error\""), "{body}");
    let res = v
        .submit(new, action, &[("subject", "Dated"), ("start_date", "soon")])
        .await;
    let body = assert_page(&res, 422);
    assert!(body.contains("Start date must be a date"), "{body}");
    assert!(body.contains("value=\"Dated\""), "{body}");
    let res = v
        .submit(
            new,
            action,
            &[
                ("subject", "Rotate <the> keys"),
                ("description", "Every **month**."),
                ("start_date", "2026-01-05"),
                ("due_date", "2026-01-09"),
                ("type", "nonsense"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let path = location(&res).split('?').next().unwrap().to_string();
    let body = assert_page(&v.get(&path).await, 200);
    assert!(body.contains("Rotate &lt;the&gt; keys"), "{body}");
    assert!(
        body.contains("2026-01-05") && body.contains("<strong>month</strong>"),
        "{body}"
    );

    // Editing: the lock version guards against overwriting a change made
    // meanwhile.
    let edit = format!("{path}/edit");
    let form = v.get(&edit).await;
    let body = assert_page(&form, 200);
    let lock = hidden(&body, "lock_version");
    let token = hidden(&body, "csrf_token");
    assert_page(
        &v.post(&edit, &[("subject", "x"), ("lock_version", &lock)])
            .await,
        403,
    );
    let res = v
        .post(
            &edit,
            &[
                ("csrf_token", &token),
                ("lock_version", &lock),
                ("subject", "Rotate the keys"),
                ("start_date", "2026-01-05"),
                ("due_date", "2026-01-09"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let res = v
        .post(
            &edit,
            &[
                ("csrf_token", &token),
                ("lock_version", &lock),
                ("subject", "Stale edit"),
            ],
        )
        .await;
    let body = assert_page(&res, 409);
    assert!(body.contains("Someone changed this work package"), "{body}");
    let body = assert_page(&v.get(&path).await, 200);
    assert!(
        body.contains("changed from <em>Rotate &lt;the&gt; keys</em> to <em>Rotate the keys</em>"),
        "{body}"
    );
    assert!(!body.contains("Stale edit"), "{body}");
    assert_page(&v.get("/work_packages/0/edit").await, 404);
}
both_backends!(work_package_forms);

async fn project_settings_page(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.created(
        "/api/v3/projects",
        json!({"name": "Alpha", "identifier": "alpha"}),
    )
    .await;
    let mut v = admin_visitor(&app).await;
    let settings = "/projects/alpha/settings";
    let body = assert_page(&v.get(settings).await, 200);
    assert!(
        body.contains("<label for=\"module-work_package_tracking\">"),
        "{body}"
    );
    assert!(body.contains("Archive this project"), "{body}");
    assert_page(&v.post(settings, &[("name", "x")]).await, 403);
    let res = v.submit(settings, settings, &[("name", "")]).await;
    let body = assert_page(&res, 422);
    assert!(body.contains("id=\"name-error\""), "{body}");
    let res = v
        .submit(
            settings,
            settings,
            &[
                ("name", "Alpha <2>"),
                ("description", "Now public."),
                ("public", "1"),
                ("module", "work_package_tracking"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let p = app
        .admin(Method::GET, "/api/v3/projects/alpha")
        .send()
        .await
        .json();
    assert_eq!(p["name"], "Alpha <2>");
    assert_eq!(p["public"], true);
    let res = v
        .submit(
            settings,
            settings,
            &[("name", "Alpha"), ("module", "no_such")],
        )
        .await;
    assert_page(&res, 422);

    // Someone who may see the (now public) project may not change it.
    app.user("hank").await;
    let mut hank = Visitor::signed_in(&app, "hank", USER_PASSWORD).await;
    assert_page(&hank.get("/projects/alpha").await, 200);
    assert_page(&hank.get(settings).await, 403);
    assert_page(&hank.submit("/", "/projects/alpha/archive", &[]).await, 403);

    let res = v.submit(settings, "/projects/alpha/archive", &[]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(location(&res), "/projects?notice=project_archived");
    assert_page(&hank.get("/projects/alpha").await, 404);
    let body = assert_page(&v.get("/projects?archived=1").await, 200);
    assert!(body.contains("Alpha &lt;2&gt;"), "{body}");
    let res = v.submit(settings, "/projects/alpha/unarchive", &[]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_page(&hank.get("/projects/alpha").await, 200);
}
both_backends!(project_settings_page);

/// `HH:MM` of an API time (`2024-05-01T10:00:00.000Z`) moved by `minutes`,
/// worked out here by hand so the page's conversion is checked against
/// arithmetic, not against itself.
fn clock_shifted(api_time: &str, minutes: i64) -> String {
    let h: i64 = api_time[11..13].parse().unwrap();
    let m: i64 = api_time[14..16].parse().unwrap();
    let t = (h * 60 + m + minutes).rem_euclid(24 * 60);
    format!("{:02}:{:02}", t / 60, t % 60)
}

async fn times_in_the_readers_time_zone(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.created(
        "/api/v3/projects",
        json!({"name": "Zones", "identifier": "zones"}),
    )
    .await;
    let wp = app
        .created(
            "/api/v3/projects/zones/work_packages",
            json!({"subject": "Across the date line"}),
        )
        .await;
    let created = wp["createdAt"].as_str().unwrap().to_string();
    let path = format!("/work_packages/{}", wp["id"]);

    let mut v = admin_visitor(&app).await;
    let body = assert_page(&v.get(&path).await, 200);
    let utc = format!("{} {} UTC", &created[..10], clock_shifted(&created, 0));
    assert!(body.contains(&utc), "{utc} in {body}");

    // India has no daylight saving time: always UTC+05:30.
    let res = v
        .submit(
            "/my/account",
            "/my/account",
            &[
                ("firstname", "Ada"),
                ("lastname", "Admin"),
                ("email", "admin@example.net"),
                ("language", "en"),
                ("time_zone", "Asia/Kolkata"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let body = assert_page(&v.get(&path).await, 200);
    let local = format!("{} IST", clock_shifted(&created, 330));
    assert!(body.contains(&local), "{local} in {body}");
    assert!(!body.contains(&utc), "{body}");
    // The exact instant stays in the markup for machines.
    assert!(body.contains(&format!("datetime=\"{created}\"")), "{body}");
    // "Show as of date" says whose end of day it means.
    let body = assert_page(&v.get(&format!("{path}?as_of=2000-01-01")).await, 200);
    assert!(body.contains("did not exist yet"), "{body}");
    // Tomorrow (in UTC) ends after now wherever one is.
    let tomorrow = steward_domain::Timestamp::now()
        .plus_seconds(86_400)
        .to_string();
    let body = assert_page(
        &v.get(&format!("{path}?as_of={}", &tomorrow[..10])).await,
        200,
    );
    assert!(body.contains("(Asia/Kolkata)"), "{body}");
}
both_backends!(times_in_the_readers_time_zone);
