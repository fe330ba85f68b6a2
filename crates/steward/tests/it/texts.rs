//! Texts written by users as other clients and readers get them: the
//! `html` of descriptions and comments in the API, the same texts on the
//! pages and in the home page's activity. Only safe link targets, remote
//! images as links unless an administrator allows them (and then named in
//! the record of processing), mentions, `#123` and bare URLs as links. And
//! the icon the pages name.

use hyper::Method;
use serde_json::{json, Value};
use steward_domain::mention;

use crate::harness::{Backend, TestApp};
use crate::web_pages::{admin_visitor, assert_page, location, Visitor, USER_PASSWORD};

const REMOTE_IMAGE: &str = "![pixel](https://elsewhere.example/pixel.png)";
const REMOTE_IMG_TAG: &str = "<img src=\"https://elsewhere.example/pixel.png\"";
const RECIPIENT: &str = "Hosts of the images embedded in texts";

/// A public project with one work package whose description holds every
/// kind of link; returns the work package's id.
async fn work_package_with_links(app: &TestApp, alice: i64) -> i64 {
    app.created(
        "/api/v3/projects",
        json!({"name": "Texts", "identifier": "texts", "public": true}),
    )
    .await;
    let description = format!(
        "[a](javascript:alert(1)) [b]( JaVaScRiPt:alert(2)) [c](data:text/html;base64,PHNjcmlwdD4=) \
         [d](java&#115;cript:alert(3)) [e](https://example.org/e) [f](/projects/texts)\n\n\
         {REMOTE_IMAGE} ![logo](/assets/logo.png) ![x](javascript:alert(4))\n\n\
         {} see #1 and https://example.org/page. `#1 https://example.org/code`",
        mention::markup(alice, "Alice Smith")
    );
    app.created(
        "/api/v3/projects/texts/work_packages",
        json!({"subject": "Links", "description": {"raw": description}}),
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

async fn description_html(app: &TestApp, wp: i64) -> String {
    let res = app
        .admin(Method::GET, &format!("/api/v3/work_packages/{wp}"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["description"]["html"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn set_remote_images(app: &TestApp, on: bool) -> Value {
    let res = app
        .admin(Method::PATCH, "/api/v3/settings")
        .json(&json!({"remoteImagesInTexts": on}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()
}

async fn record(app: &TestApp) -> String {
    let res = app
        .admin(Method::GET, "/api/v3/gdpr/record?format=markdown")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.text()
}

async fn api_html_is_safe_for_clients(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (alice, _) = app.user("alice").await;
    let wp = work_package_with_links(&app, alice).await;

    let html = description_html(&app, wp).await;
    for refused in ["javascript:", "JaVaScRiPt", "data:", "alert("] {
        assert!(!html.contains(refused), "{refused} in {html}");
    }
    // The refused links keep their text.
    assert!(html.contains("<p>a b c d <a"), "{html}");
    assert!(
        html.contains("<a href=\"https://example.org/e\">e</a>"),
        "{html}"
    );
    assert!(html.contains("<a href=\"/projects/texts\">f</a>"), "{html}");
    // A remote image is a link to it; an image of this instance stays one.
    assert!(!html.contains(REMOTE_IMG_TAG), "{html}");
    assert!(
        html.contains("<a href=\"https://elsewhere.example/pixel.png\">pixel</a>"),
        "{html}"
    );
    assert!(
        html.contains("<img src=\"/assets/logo.png\" alt=\"logo\""),
        "{html}"
    );
    // Mentions, references and bare URLs, but not in code.
    assert!(
        html.contains(&format!(
            "<a href=\"/api/v3/users/{alice}\">@Alice Smith</a>"
        )),
        "{html}"
    );
    assert!(!html.contains("mention"), "{html}");
    assert!(
        html.contains("see <a href=\"/work_packages/1\">#1</a>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://example.org/page\">https://example.org/page</a>."),
        "{html}"
    );
    assert!(
        html.contains("<code>#1 https://example.org/code</code>"),
        "{html}"
    );

    // A comment's html goes through the same renderer.
    let res = app
        .admin(Method::POST, &format!("/api/v3/work_packages/{wp}/activities"))
        .json(&json!({"comment": {"raw": format!("[x](vbscript:msgbox) {} {REMOTE_IMAGE}", mention::markup(alice, "Alice Smith"))}}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let comment = res.json()["comment"]["html"].as_str().unwrap().to_string();
    assert!(
        !comment.contains("vbscript") && !comment.contains("<img"),
        "{comment}"
    );
    assert!(
        comment.contains(&format!(
            "<a href=\"/api/v3/users/{alice}\">@Alice Smith</a>"
        )),
        "{comment}"
    );

    // Off by default; an administrator allows remote images.
    let settings = app
        .admin(Method::GET, "/api/v3/settings")
        .send()
        .await
        .json();
    assert_eq!(settings["remoteImagesInTexts"], false, "{settings}");
    assert!(!record(&app).await.contains(RECIPIENT));
    assert_eq!(
        set_remote_images(&app, true).await["remoteImagesInTexts"],
        true
    );
    let html = description_html(&app, wp).await;
    assert!(html.contains(REMOTE_IMG_TAG), "{html}");
    // Other targets stay refused.
    assert!(
        !html.contains("javascript:") && !html.contains("data:"),
        "{html}"
    );
    let listed = app
        .admin(Method::GET, "/api/v3/work_packages")
        .send()
        .await
        .json();
    assert!(
        listed["_embedded"]["elements"][0]["description"]["html"]
            .as_str()
            .unwrap()
            .contains(REMOTE_IMG_TAG),
        "{listed}"
    );
    let activities = app
        .admin(
            Method::GET,
            &format!("/api/v3/work_packages/{wp}/activities"),
        )
        .send()
        .await
        .json();
    assert!(
        activities
            .to_string()
            .contains(&REMOTE_IMG_TAG.replace('"', "\\\"")),
        "{activities}"
    );
    let doc = record(&app).await;
    assert!(
        doc.contains(&format!(
            "| {RECIPIENT} (setting texts_remote_images is on) | each reader's IP address"
        )),
        "{doc}"
    );
    // The change is audited.
    let audit = app
        .admin(Method::GET, "/api/v3/audit_events")
        .send()
        .await
        .text();
    assert!(audit.contains("texts_remote_images"), "{audit}");

    set_remote_images(&app, false).await;
    assert!(!description_html(&app, wp)
        .await
        .contains("<img src=\"https:"));
    assert!(!record(&app).await.contains(RECIPIENT));
    // A wrong type is refused, not taken as off.
    let res = app
        .admin(Method::PATCH, "/api/v3/settings")
        .json(&json!({"remoteImagesInTexts": "yes"}))
        .send()
        .await;
    assert!(res.status == 400 || res.status == 422, "{}", res.text());
}
both_backends!(api_html_is_safe_for_clients);

async fn pages_render_texts_safely(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (alice, _) = app.user("alice").await;
    app.user("frank").await;
    let wp = work_package_with_links(&app, alice).await;
    let page = format!("/work_packages/{wp}");

    let mut admin = admin_visitor(&app).await;
    let res = admin.get(&page).await;
    let body = assert_page(&res, 200);
    let csp = res.header("content-security-policy").unwrap().to_string();
    assert!(csp.contains("img-src 'self' data:;"), "{csp}");
    assert!(
        !body.contains("javascript:") && !body.contains("data:text"),
        "{body}"
    );
    assert!(!body.contains(REMOTE_IMG_TAG), "{body}");
    assert!(
        body.contains("<a href=\"https://elsewhere.example/pixel.png\">pixel</a>"),
        "{body}"
    );
    // An administrator's mention leads to the person's page.
    assert!(
        body.contains(&format!(
            "<a href=\"/admin/users/{alice}\">@Alice Smith</a>"
        )),
        "{body}"
    );
    assert!(
        body.contains("<a href=\"/work_packages/1\">#1</a>"),
        "{body}"
    );
    assert!(!body.contains("&lt;mention"), "{body}");

    // Someone without a page about people reads the name.
    let mut frank = Visitor::signed_in(&app, "frank", USER_PASSWORD).await;
    let body = assert_page(&frank.get(&page).await, 200);
    assert!(body.contains("@Alice Smith see "), "{body}");
    assert!(!body.contains("/admin/users/"), "{body}");
    assert!(!body.contains("&lt;mention"), "{body}");

    // A comment's mention in the home page's activity: the text, no markup.
    let res = admin
        .submit(
            &page,
            &format!("/work_packages/{wp}/comments"),
            &[(
                "comment",
                &format!(
                    "{} could you **check** this?",
                    mention::markup(alice, "Alice Smith")
                ),
            )],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let home = assert_page(&admin.get("/").await, 200);
    assert!(
        home.contains("<q>@Alice Smith could you check this?</q>"),
        "{home}"
    );
    assert!(
        !home.contains("&lt;mention") && !home.contains("**"),
        "{home}"
    );

    // The administrator allows remote images on the settings page: the
    // page shows them and its policy lets the browser load them.
    let res = admin
        .submit(
            "/admin/settings",
            "/admin/settings",
            &[
                ("users_deletable_by_admins", "1"),
                ("remote_images", "1"),
                ("session_idle_timeout_minutes", "120"),
                ("session_absolute_lifetime_hours", "168"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let settings = assert_page(&admin.get("/admin/settings").await, 200);
    assert!(
        settings.contains(
            "id=\"remote_images\" name=\"remote_images\" type=\"checkbox\" value=\"1\" checked"
        ),
        "{settings}"
    );
    assert_eq!(
        app.admin(Method::GET, "/api/v3/settings")
            .send()
            .await
            .json()["remoteImagesInTexts"],
        true
    );
    let res = frank.get(&page).await;
    let body = assert_page(&res, 200);
    assert!(body.contains(REMOTE_IMG_TAG), "{body}");
    let csp = res.header("content-security-policy").unwrap();
    assert!(csp.contains("img-src 'self' data: https: http:;"), "{csp}");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    // Pages without texts keep the narrow policy.
    let res = frank.get("/").await;
    assert!(
        res.header("content-security-policy")
            .unwrap()
            .contains("img-src 'self' data:;"),
        "{:?}",
        res.header("content-security-policy")
    );
    let record = assert_page(&admin.get("/admin/gdpr/record").await, 200);
    assert!(record.contains(RECIPIENT), "{record}");
}
both_backends!(pages_render_texts_safely);

async fn favicon_is_served(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut v = Visitor::new(&app);
    let login = assert_page(&v.get("/login").await, 200);
    let marker = "<link rel=\"icon\" type=\"image/svg+xml\" href=\"";
    let start = login.find(marker).unwrap_or_else(|| panic!("{login}")) + marker.len();
    let icon = login[start..].split('"').next().unwrap().to_string();
    assert!(
        icon.starts_with("/assets/favicon.") && icon.ends_with(".svg"),
        "{icon}"
    );

    let res = v.get(&icon).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), Some("image/svg+xml"));
    assert!(res.header("cache-control").unwrap().contains("immutable"));
    assert!(res.text().starts_with("<svg "), "{}", res.text());

    let res = v.get("/favicon.ico").await;
    assert_eq!(res.status, 302, "{}", res.text());
    assert_eq!(location(&res), icon);
    assert!(res.header("cache-control").unwrap().contains("max-age="));
}
both_backends!(favicon_is_served);
