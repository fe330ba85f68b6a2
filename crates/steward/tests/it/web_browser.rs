//! The web UI in a real browser: Debian's headless Chromium driven over
//! WebDriver (chromedriver) against a real `steward serve` process on the
//! embedded SQLite default, as the README starts it. The WebDriver client
//! is the few JSON-over-HTTP calls below, sent with the harness's client.
//!
//! Without chromium and chromedriver on PATH when the tests are built the
//! test is reported as ignored (crates/steward/build.rs), except under
//! CI=true, where their absence is a failure (`.ci/run` installs them). With STEWARD_SCREENSHOTS=1 it saves the main pages as
//! PNG files into docs/screenshots/.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hyper::Method;
use serde_json::{json, Value};

use crate::harness::{steward_command, Req, ADMIN_PASSWORD};
use crate::web_pages::USER_PASSWORD;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `steward serve` in its own data directory, stopped when dropped.
struct Server {
    child: Child,
    base: String,
    data: PathBuf,
}

impl Server {
    async fn start() -> Server {
        let port = free_port();
        let data = std::env::temp_dir().join(format!("steward-browser-{port}"));
        let _ = std::fs::remove_dir_all(&data);
        let child = Server::command(&data, port)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start steward serve");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data,
        };
        let started = Instant::now();
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
                && Req::new(&server.base, Method::GET, "/health")
                    .send()
                    .await
                    .status
                    == 200
            {
                return server;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "steward serve did not answer /health within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The binary with only this server's settings: nothing of the
    /// caller's STEWARD_* environment leaks in.
    fn command(data: &std::path::Path, port: u16) -> Command {
        let mut cmd = steward_command(data);
        cmd.env("STEWARD_SERVER_LISTEN", format!("127.0.0.1:{port}"))
            .env("STEWARD_ADMIN_PASSWORD", ADMIN_PASSWORD);
        cmd
    }

    /// An API token for `login`, made with the CLI beside the running
    /// server (SQLite lets both use the database).
    fn token(&self, login: &str) -> String {
        let port: u16 = self.base.rsplit(':').next().unwrap().parse().unwrap();
        let out = Server::command(&self.data, port)
            .args(["user", "token", login, "--name", "browser test"])
            .output()
            .expect("run steward user token");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap()
            .trim()
            .to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

struct Browser {
    driver: Child,
    base: String,
    session: String,
    profile: PathBuf,
    screenshots: Option<PathBuf>,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium. Their absence fails the
    /// test: it runs only where the build found them, under CI=true, or
    /// when asked for with `--include-ignored`.
    async fn start() -> Browser {
        let (Some(driver), Some(chromium)) = (
            find_program(&["chromedriver"]),
            find_program(&["chromium", "chromium-browser"]),
        ) else {
            panic!("chromium and chromedriver must be on PATH (apt-get install chromium chromium-driver)");
        };
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let profile = std::env::temp_dir().join(format!("steward-chromium-{port}"));
        let mut b = Browser {
            driver: child,
            base,
            session: String::new(),
            profile,
            screenshots: std::env::var("STEWARD_SCREENSHOTS")
                .is_ok_and(|v| v == "1")
                .then(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")),
        };
        let started = Instant::now();
        loop {
            if let Ok(stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                drop(stream);
                let status = b.call(Method::GET, "/status", None).await;
                if status["ready"] == true {
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not become ready within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,900",
                    format!("--user-data-dir={}", b.profile.display()),
                ]
            }
        }}});
        let res = b.call(Method::POST, "/session", Some(caps)).await;
        b.session = res["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {res}"))
            .to_string();
        // A new page may still be loading when an element is looked for.
        b.cmd(
            Method::POST,
            "/timeouts",
            Some(json!({"implicit": 5000, "pageLoad": 30000})),
        )
        .await;
        b
    }

    /// One WebDriver command: its HTTP status and `value`.
    async fn raw(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = Req::new(&self.base, method, path);
        if let Some(b) = &body {
            req = req.json(b);
        }
        let res = req.send().await;
        let v: Value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
        (res.status, v["value"].clone())
    }

    /// One WebDriver command; answers its `value`, panics on an error.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut req = Req::new(&self.base, method.clone(), path);
        if let Some(b) = &body {
            req = req.json(b);
        }
        let res = req.send().await;
        let v: Value = serde_json::from_slice(&res.body).unwrap_or_else(|e| {
            panic!("WebDriver {method} {path}: not JSON ({e}): {}", res.text())
        });
        if path == "/session" {
            return v["value"].clone();
        }
        assert!(
            res.status == 200,
            "WebDriver {method} {path} {body:?} failed: {v}"
        );
        v["value"].clone()
    }

    async fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
            .await
    }

    async fn goto(&self, url: &str) {
        self.cmd(Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        // Pages render on the server: an element is there when the load ends.
        let v = self
            .cmd(
                Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT].as_str().unwrap().to_string()
    }

    /// Clicks the label with exactly this text inside `form_css` (which
    /// ticks its checkbox): how a person picks a role by its name.
    async fn click_label(&self, form_css: &str, text: &str) {
        let form = self.find(form_css).await;
        let v = self
            .cmd(
                Method::POST,
                &format!("/element/{form}/element"),
                Some(json!({"using": "xpath", "value": format!(".//label[normalize-space()='{text}']")})),
            )
            .await;
        let el = v[ELEMENT].as_str().unwrap().to_string();
        self.cmd(
            Method::POST,
            &format!("/element/{el}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// How much wider than the window the page is, in CSS pixels (0 when
    /// nothing needs sideways scrolling).
    async fn overflow(&self) -> i64 {
        self.cmd(
            Method::POST,
            "/execute/sync",
            Some(json!({
                "script": "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                "args": []
            })),
        )
        .await
        .as_i64()
        .unwrap()
    }

    async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.cmd(
            Method::POST,
            &format!("/element/{el}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Clicks something that loads a new page (a link, a submit button) and
    /// waits until the old page is gone, so that what is read next is the
    /// new page.
    async fn follow(&self, css: &str) {
        let old = self.find("html").await;
        self.click(css).await;
        let started = Instant::now();
        loop {
            let (status, _) = self
                .raw(
                    Method::GET,
                    &format!("/session/{}/element/{old}/name", self.session),
                    None,
                )
                .await;
            if status != 200 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "clicking {css} did not load a new page"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn type_in(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.cmd(
            Method::POST,
            &format!("/element/{el}/clear"),
            Some(json!({})),
        )
        .await;
        self.cmd(
            Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Types into an element without clearing it first.
    async fn keys(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.cmd(
            Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn text(&self, css: &str) -> String {
        let el = self.find(css).await;
        self.cmd(Method::GET, &format!("/element/{el}/text"), None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Whether the page has an element matching `css` (no error when not).
    async fn exists(&self, css: &str) -> bool {
        let v = self
            .cmd(
                Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v.as_array().is_some_and(|a| !a.is_empty())
    }

    async fn url(&self) -> String {
        self.cmd(Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The element that has the keyboard focus, by its id attribute.
    async fn focused_id(&self) -> String {
        let v = self.cmd(Method::GET, "/element/active", None).await;
        let el = v[ELEMENT].as_str().unwrap().to_string();
        self.cmd(Method::GET, &format!("/element/{el}/attribute/id"), None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    async fn press_tab(&self) {
        let actions = json!({"actions": [{"type": "key", "id": "kb", "actions": [
            {"type": "keyDown", "value": "\u{E004}"}, {"type": "keyUp", "value": "\u{E004}"}
        ]}]});
        self.cmd(Method::POST, "/actions", Some(actions)).await;
    }

    async fn window(&self, width: u32, height: u32) {
        self.cmd(
            Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    async fn screenshot(&self, name: &str) {
        let Some(dir) = &self.screenshots else {
            return;
        };
        let png = self.cmd(Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }

    async fn quit(mut self) {
        let _ = Req::new(
            &self.base,
            Method::DELETE,
            &format!("/session/{}", self.session),
        )
        .send()
        .await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A failed assertion must not leave chromedriver running.
        let _ = self.driver.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(steward_test_browser),
    ignore = "needs chromium and chromedriver on PATH when the tests are built (apt-get install chromium chromium-driver, then cargo clean -p steward)"
)]
async fn team_flow_in_chromium() {
    let b = Browser::start().await;
    let server = Server::start().await;
    let base = server.base.clone();
    let token = server.token("admin");

    // Sign in: a wrong password first, then the right one.
    b.goto(&format!("{base}/")).await;
    assert!(b.url().await.contains("/login?next="), "sent to sign in");
    b.screenshot("sign-in").await;
    b.type_in("#login", "admin").await;
    b.type_in("#password", "wrong").await;
    b.follow("button[type=submit].primary").await;
    assert_eq!(b.text("#login-error").await, "Wrong login or password.");
    b.type_in("#password", ADMIN_PASSWORD).await;
    b.follow("button[type=submit].primary").await;
    assert_eq!(b.url().await, format!("{base}/"));
    assert!(b.text("h1").await.starts_with("Welcome"));

    // Keyboard: the first Tab reaches the skip link.
    b.press_tab().await;
    assert_eq!(b.focused_id().await, "skip-link");

    // The administrator creates alice's account and lets people delete
    // their own accounts.
    b.goto(&format!("{base}/admin/users/new")).await;
    b.type_in("#login", "alice").await;
    b.type_in("#firstname", "Alice").await;
    b.type_in("#lastname", "Liddell").await;
    b.type_in("#email", "alice@example.org").await;
    b.type_in("#password", USER_PASSWORD).await;
    b.follow("form.stack button[type=submit].primary").await;
    assert_eq!(b.text(".notice").await, "The user was created.");
    let url = b.url().await;
    let alice: i64 = url
        .rsplit('/')
        .next()
        .and_then(|tail| tail.split('?').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("the new user's page: {url}"));
    b.goto(&format!("{base}/admin/settings")).await;
    b.click("#users_deletable_by_self").await;
    b.follow("form.stack button[type=submit].primary").await;
    assert_eq!(b.text(".notice").await, "The settings were saved.");
    b.screenshot("admin-settings").await;
    // The rest of the administration area, through its menu; the audit
    // trail already holds what was just done.
    for (href, title) in [
        ("/admin/roles", "Roles and permissions"),
        ("/admin/types", "Types"),
        ("/admin/statuses", "Statuses"),
        ("/admin/jobs", "Background jobs"),
        ("/admin/gdpr/scan", "Residue scan"),
        ("/admin/audit", "Audit trail"),
    ] {
        b.follow(&format!("nav.subnav a[href='{href}']")).await;
        assert_eq!(b.text("h1").await, title);
        b.screenshot(&format!("admin-{}", href.rsplit('/').next().unwrap()))
            .await;
    }
    let trail = b.text("table.list").await;
    assert!(trail.contains("user.created"), "{trail}");
    b.window(390, 844).await;
    for page in [
        "/admin/users",
        "/admin/roles",
        "/admin/audit",
        "/admin/jobs",
    ] {
        b.goto(&format!("{base}{page}")).await;
        assert_eq!(b.overflow().await, 0, "{page} is wider than a phone");
    }
    b.window(1280, 900).await;
    b.goto(&format!("{base}/")).await;

    // Create a project.
    b.follow("a[href='/projects']").await;
    b.follow("a[href='/projects/new']").await;
    b.follow("button[type=submit].primary").await;
    assert!(b.text(".field-error").await.contains("can't be blank"));
    b.type_in("#name", "Website relaunch").await;
    b.type_in("#identifier", "website").await;
    b.type_in("#description", "The new **public** website.")
        .await;
    b.click("#public").await;
    b.follow("button[type=submit].primary").await;
    assert_eq!(
        b.url().await,
        format!("{base}/projects/website?notice=project_created")
    );
    assert_eq!(b.text(".notice").await, "The project was created.");
    b.screenshot("project").await;

    // Add alice as a member.
    b.follow("a[href='/projects/website/members']").await;
    b.click(&format!("#principal option[value='{alice}']"))
        .await;
    b.click_label("form.stack", "Member").await;
    b.follow("form.stack button[type=submit].primary").await;
    assert_eq!(b.text(".notice").await, "The member was added.");
    let members = b.text("table.list").await;
    assert!(
        members.contains("Alice Liddell") && members.contains("Member"),
        "{members}"
    );
    b.screenshot("members").await;

    // Two work packages through the API, one through the form.
    for subject in ["Write the landing page copy", "Pick the colours"] {
        let res = Req::new(&base, Method::POST, "/api/v3/projects/website/work_packages")
            .bearer(&token)
            .json(&json!({
                "subject": subject,
                "description": {"raw": format!("**{subject}** for the relaunch.\n\n- keep it short\n- link the docs")},
                "_links": {"assignee": {"href": format!("/api/v3/users/{alice}")}}
            }))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }

    // The list, filtered, and a work package.
    b.follow("p.crumbs a").await;
    b.follow("a[href='/projects/website/work_packages']").await;
    b.follow("a[href='/projects/website/work_packages/new']")
        .await;
    b.follow("form.wp-form button[type=submit]").await;
    assert_eq!(b.text("#wp-subject-error").await, "Subject can't be blank.");
    b.type_in("#wp-subject", "Set up hosting").await;
    b.type_in("#wp-description", "Two servers, **one** database.")
        .await;
    b.click(&format!("#wp-assignee option[value='{alice}']"))
        .await;
    b.follow("form.wp-form button[type=submit]").await;
    assert_eq!(b.text(".notice").await, "The work package was created.");
    assert!(b.text("dl.attrs").await.contains("Alice Liddell"));
    b.follow("p.crumbs a:nth-of-type(2)").await;
    assert_eq!(b.text("main p.muted[role=status]").await, "3 work packages");
    b.screenshot("work-packages").await;
    b.type_in("#f-q", "landing").await;
    b.follow("form.filters button[type=submit]").await;
    assert_eq!(b.text("main p.muted[role=status]").await, "1 work package");
    b.follow("table.list tbody tr td:nth-child(3) a").await;
    assert!(b.text("h1").await.contains("Write the landing page copy"));
    let wp_url = b.url().await;

    // Comment with a mention.
    // The comment box offers the project's members after an @.
    b.type_in("#comment", "@ali").await;
    let started = Instant::now();
    while !b.exists("#comment-mentions li[aria-selected=true]").await {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no completion offered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        b.text("#comment-mentions li").await,
        "Alice Liddell (@alice)"
    );
    b.screenshot("mention-completion").await;
    b.keys("#comment", "\u{E007}").await;
    b.keys("#comment", "could you review this?").await;
    let comment = b.find("#comment").await;
    let typed = b
        .cmd(
            Method::GET,
            &format!("/element/{comment}/property/value"),
            None,
        )
        .await;
    assert_eq!(typed, "@alice could you review this?");
    b.follow("form.comment button[type=submit]").await;
    assert_eq!(b.text(".notice").await, "Your comment was added.");
    let activity = b.text("ol.activity").await;
    assert!(
        activity.contains("@alice could you review this?"),
        "{activity}"
    );

    // Edit it; the change shows up in the history.
    b.follow("a.button[href$='/edit']").await;
    b.type_in("#wp-subject", "Write the landing page copy (v2)")
        .await;
    b.follow("form.wp-form button[type=submit]").await;
    assert_eq!(b.text(".notice").await, "Your changes were saved.");
    let activity = b.text("ol.activity").await;
    assert!(
        !activity.contains("Description changed"),
        "an unchanged description is no change: {activity}"
    );
    b.window(1280, 1500).await;
    b.goto(&wp_url).await;
    let activity = b.text("ol.activity").await;
    assert!(
        activity.contains(
            "Subject changed from Write the landing page copy to Write the landing page copy (v2)"
        ),
        "{activity}"
    );
    b.screenshot("work-package").await;
    b.window(1280, 900).await;

    // My account: a token, shown once.
    b.follow("nav.bar .me a").await;
    b.follow("a[href='/my/tokens']").await;
    b.type_in("#token-name", "laptop").await;
    b.follow("form.stack button[type=submit].primary").await;
    let token = b.find("#new-token").await;
    let secret = b
        .cmd(
            Method::GET,
            &format!("/element/{token}/property/value"),
            None,
        )
        .await;
    let res = Req::new(&base, Method::GET, "/api/v3/users/me")
        .bearer(secret.as_str().unwrap())
        .send()
        .await;
    assert_eq!(res.status, 200);
    b.screenshot("api-tokens").await;

    // Sign out from the header.
    b.goto(&format!("{base}/")).await;
    b.follow("form[action='/logout'] button").await;
    assert_eq!(b.text(".notice").await, "You have signed out.");
    b.goto(&format!("{base}/my/account")).await;
    assert!(b.url().await.contains("/login?next=%2Fmy%2Faccount"));

    // Alice, the new member, finds the project and her work on her home
    // page, at desktop and at phone width.
    b.type_in("#login", "alice").await;
    b.type_in("#password", USER_PASSWORD).await;
    b.follow("button[type=submit].primary").await;
    assert!(
        b.url().await.ends_with("/my/account"),
        "back where she wanted to go"
    );
    b.goto(&format!("{base}/")).await;
    let assigned = b.text("section[aria-labelledby=assigned]").await;
    assert!(assigned.contains("Pick the colours"), "{assigned}");
    let mine = b.text("section[aria-labelledby=my-projects]").await;
    assert!(mine.contains("Website relaunch"), "{mine}");
    b.screenshot("home").await;
    // At phone width nothing needs sideways scrolling: the navigation
    // wraps and wide tables scroll inside their own box.
    b.window(390, 844).await;
    for page in ["/", "/work_packages", "/projects/website", "/my/account"] {
        b.goto(&format!("{base}{page}")).await;
        assert_eq!(b.overflow().await, 0, "{page} is wider than a phone");
    }
    b.goto(&format!("{base}/work_packages")).await;
    b.screenshot("work-packages-phone").await;
    b.window(1280, 900).await;

    // Download my data: the page refreshes itself until the archive is ready.
    b.goto(&format!("{base}/my/data")).await;
    b.follow("form[action='/my/data'] button").await;
    assert!(b
        .text(".notice")
        .await
        .starts_with("Your export was requested."));
    let started = Instant::now();
    while !b.exists("a.download").await {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the export is ready within a minute"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    b.screenshot("my-data").await;
    let link = b.find("a.download").await;
    let href = b
        .cmd(
            Method::GET,
            &format!("/element/{link}/attribute/href"),
            None,
        )
        .await;
    let cookie = b.cmd(Method::GET, "/cookie/steward_session", None).await;
    let res = Req::new(&base, Method::GET, href.as_str().unwrap())
        .header(
            "cookie",
            &format!("steward_session={}", cookie["value"].as_str().unwrap()),
        )
        .send()
        .await;
    assert_eq!(res.status, 200);
    assert!(res.body.starts_with(&[0x1f, 0x8b]), "a gzip archive");

    // Delete my account (the administrator allowed it), then signing in
    // fails.
    b.follow("a[href='/my/delete']").await;
    b.type_in("#confirm-login", "alice").await;
    b.screenshot("delete-account").await;
    b.follow("form[action='/my/delete'] button").await;
    assert_eq!(b.text(".notice").await, "Your account was deleted.");
    b.type_in("#login", "alice").await;
    b.type_in("#password", USER_PASSWORD).await;
    b.follow("button[type=submit].primary").await;
    assert_eq!(b.text("#login-error").await, "Wrong login or password.");

    b.quit().await;
    drop(server);
}
