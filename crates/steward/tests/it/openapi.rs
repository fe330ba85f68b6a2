//! The OpenAPI document (`GET /api/v3/openapi.json`) against the server:
//! every route the router registers is documented with the same methods,
//! every documented operation exists, answers only the statuses it
//! documents, keeps to its access rule, and answers bodies that fit the
//! documented schemas.

use std::collections::{BTreeMap, BTreeSet};

use hyper::Method;
use serde_json::{json, Value};
use steward_api::openapi::{Auth, Method as DocMethod, Operation, Returns, OPERATIONS};

use crate::harness::{Backend, Req, Resp, TestApp, ADMIN_PASSWORD};

/// What the server answers for a path no route serves.
const NO_SUCH_ENDPOINT: &str = "There is no such endpoint";

const ROUTER_SOURCE: &str = include_str!("../../../api/src/routes/mod.rs");
const APP_SOURCE: &str = include_str!("../../../api/src/lib.rs");

fn http_method(m: DocMethod) -> Method {
    match m {
        DocMethod::Get => Method::GET,
        DocMethod::Post => Method::POST,
        DocMethod::Patch => Method::PATCH,
        DocMethod::Delete => Method::DELETE,
    }
}

fn documented() -> BTreeSet<(String, String)> {
    OPERATIONS
        .iter()
        .map(|op| (op.method.as_str().to_string(), op.path.to_string()))
        .collect()
}

// ---------------------------------------------------------------- the router's source

/// The methods registered by one `.route(path, ...)` call's method router:
/// `get(h).post(h)` and the like.
fn methods_in(args: &str, path: &str) -> Vec<String> {
    let bytes = args.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if is_ident(bytes[i]) && (i == 0 || !is_ident(bytes[i - 1])) {
            let start = i;
            while i < bytes.len() && is_ident(bytes[i]) {
                i += 1;
            }
            let word = &args[start..i];
            if bytes.get(i) == Some(&b'(') {
                match word {
                    "get" | "post" | "put" | "patch" | "delete" | "head" | "options" | "trace" => {
                        out.push(word.to_ascii_uppercase());
                    }
                    "any" | "on" | "any_service" | "on_service" | "get_service"
                    | "post_service" | "route_service" => panic!(
                        "route {path:?} uses {word}(): this test cannot tell its methods; \
                         register it with get/post/patch/delete"
                    ),
                    _ => {}
                }
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Every (method, path) registered with `.route("...", ...)` in `source`,
/// with `prefix` before the path.
fn routes_in(source: &str, prefix: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        let after = &rest[at + ".route(".len()..];
        let open = after.find('"').expect("a path literal");
        let close = open + 1 + after[open + 1..].find('"').expect("the path's end");
        let path = &after[open + 1..close];
        let mut depth = 1;
        let mut end = None;
        for (j, c) in after.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.unwrap_or_else(|| panic!("unbalanced .route( for {path:?}"));
        let full = if path == "/" {
            prefix.to_string()
        } else {
            format!("{prefix}{path}")
        };
        let methods = methods_in(&after[close + 1..end], &full);
        assert!(!methods.is_empty(), "no method found for route {full:?}");
        for m in methods {
            out.push((m, full.clone()));
        }
        rest = &after[end..];
    }
    out
}

/// Every (method, path) the router registers, read from its source.
fn routed() -> BTreeSet<(String, String)> {
    // The shape this reading relies on: the API v3 routes in one router in
    // routes/mod.rs, nested under /api/v3 in lib.rs, and nothing merged in
    // but the web pages (which are not part of the API).
    assert!(
        APP_SOURCE.contains(".nest(\"/api/v3\", routes::api_v3())")
            && APP_SOURCE.matches(".nest(").count() == 1
            && !APP_SOURCE.replace(".merge(pages)", "").contains(".merge("),
        "lib.rs no longer nests routes::api_v3() alone under /api/v3: teach this test the new shape"
    );
    assert!(
        !ROUTER_SOURCE.contains(".nest(")
            && !ROUTER_SOURCE.contains(".merge(")
            && ROUTER_SOURCE.matches("Router::new()").count() == 1,
        "routes/mod.rs no longer registers every API v3 route in one router: teach this test the new shape"
    );
    let api_v3 = ROUTER_SOURCE
        .find("pub fn api_v3()")
        .expect("routes/mod.rs has api_v3()");
    let mut all: Vec<(String, String)> = routes_in(&ROUTER_SOURCE[api_v3..], "/api/v3");
    all.extend(routes_in(APP_SOURCE, ""));
    let set: BTreeSet<_> = all.iter().cloned().collect();
    assert_eq!(set.len(), all.len(), "a route is registered twice: {all:?}");
    set
}

/// Adding a route without documenting it (or documenting one that is not
/// routed) fails here.
#[test]
fn openapi_documents_every_route() {
    let routed = routed();
    assert!(
        routed.len() > 40,
        "the router's source was not read: {routed:?}"
    );
    let documented = documented();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routes without an entry in steward_api::openapi::OPERATIONS: {undocumented:#?}\n\
         entries without a route: {unrouted:#?}"
    );
}

#[test]
fn openapi_source_reading_sees_methods() {
    let src = r#"
        .route("/a", get(x::list).post(x::create))
        .route(
            "/a/{id}",
            get(x::show)
                .patch(x::update)
                .delete(x::delete),
        )
        .route("/b/{id}", delete(my::revoke).layer(Limit::max(3)))
    "#;
    let got = routes_in(src, "/p");
    let want: Vec<(String, String)> = [
        ("GET", "/p/a"),
        ("POST", "/p/a"),
        ("GET", "/p/a/{id}"),
        ("PATCH", "/p/a/{id}"),
        ("DELETE", "/p/a/{id}"),
        ("DELETE", "/p/b/{id}"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    assert_eq!(got, want);
}

// ---------------------------------------------------------------- the table and the document

fn document() -> Value {
    serde_json::from_str(&steward_api::openapi::DOCUMENT).expect("the document is JSON")
}

fn path_placeholders(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// The table keeps to the rules that make it honest and consistent.
#[test]
fn openapi_table_is_consistent() {
    let mut ids = BTreeSet::new();
    let mut keys = BTreeSet::new();
    let doc = document();
    let tags: Vec<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for op in OPERATIONS {
        let what = format!("{} {}", op.method.as_str(), op.path);
        assert!(ids.insert(op.id), "operationId {} twice", op.id);
        assert!(keys.insert((op.method, op.path)), "{what} twice");
        assert!(
            op.path.starts_with("/api/v3") || op.path == "/health",
            "{what}"
        );
        assert!(
            !op.summary.trim().is_empty() && !op.summary.contains('\n'),
            "{what}: the summary is one line"
        );
        assert!(
            tags.contains(&op.tag),
            "{what}: tag {} is not listed",
            op.tag
        );
        let declared: Vec<&str> = op.path_params.iter().map(|p| p.name).collect();
        assert_eq!(
            declared,
            path_placeholders(op.path),
            "{what}: path parameters"
        );
        let mut sorted = op.errors.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, op.errors, "{what}: errors sorted, once each");
        for e in op.errors {
            assert!(
                [400, 401, 403, 404, 409, 410, 413, 415, 422].contains(e),
                "{what}: error {e}"
            );
        }
        let needs = |status: u16, why: &str| {
            assert!(
                op.errors.contains(&status),
                "{what}: {why}, so it can answer {status}"
            );
        };
        if op.body.is_some() {
            needs(400, "it reads a JSON body");
            needs(413, "it reads a body");
            needs(415, "it reads a JSON body");
        }
        if !op.path_params.is_empty() {
            needs(404, "it names a resource in its path");
        }
        if op.query.iter().any(|p| {
            [
                "offset",
                "pageSize",
                "filters",
                "sortBy",
                "timestamps",
                "kind",
            ]
            .contains(&p.name)
        }) {
            needs(400, "it parses query parameters");
        }
        match op.auth {
            Auth::None => {}
            Auth::Optional | Auth::SignedIn => needs(401, "it reads credentials"),
            Auth::Admin => {
                needs(401, "it reads credentials");
                needs(403, "it is for administrators");
            }
        }
        if op.auth != Auth::None && op.method != DocMethod::Get {
            needs(403, "a cookie-authenticated write needs the CSRF token");
        }
        // 204 has no body; 202 may carry a status monitor (an export).
        assert_eq!(
            op.status == 204 || (op.status == 202 && op.returns == Returns::Nothing),
            op.returns == Returns::Nothing,
            "{what}: no body goes with 202 or 204, and 204 with no body"
        );
        if matches!(op.returns, Returns::Page(..)) {
            assert!(
                op.query.iter().any(|p| p.name == "offset")
                    && op.query.iter().any(|p| p.name == "pageSize"),
                "{what}: a paginated collection documents offset and pageSize"
            );
        }
        assert!(
            [200, 201, 202, 204].contains(&op.status),
            "{what}: status {}",
            op.status
        );
    }
}

/// Every `$ref` in the document points at something.
#[test]
fn openapi_references_resolve() {
    let doc = document();
    fn walk(v: &Value, doc: &Value, at: &str) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(r)) = o.get("$ref") {
                    assert!(
                        r.starts_with("#/") && doc.pointer(&r[1..]).is_some(),
                        "{at}: dangling $ref {r}"
                    );
                }
                for (k, v) in o {
                    walk(v, doc, &format!("{at}/{k}"));
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, doc, &format!("{at}/{i}"));
                }
            }
            _ => {}
        }
    }
    walk(&doc, &doc, "#");
    for name in [
        "Error",
        "Link",
        "Collection",
        "User",
        "Project",
        "WorkPackage",
        "Activity",
        "Membership",
        "Status",
        "Type",
        "Priority",
        "Role",
        "Version",
        "ApiToken",
        "Session",
    ] {
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "no schema {name}"
        );
    }
}

// ---------------------------------------------------------------- a light schema checker

/// Checks JSON values against the document's schemas: `$ref`, `type`,
/// `const`, `enum`, `anyOf`/`oneOf`, `properties`, `required`,
/// `additionalProperties`, `items` and the date formats. Stricter than
/// JSON Schema in one way: an object schema that lists `properties` and
/// says nothing of `additionalProperties` admits no other property, so
/// that a property the server sends but the document omits is caught.
struct Checker<'a> {
    doc: &'a Value,
}

impl<'a> Checker<'a> {
    fn resolve(&self, mut schema: &'a Value) -> &'a Value {
        while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            schema = self
                .doc
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("dangling {r}"));
        }
        schema
    }

    fn check(&self, schema: &'a Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = self.resolve(schema);
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                let mut first = None;
                for b in branches {
                    let mut e = Vec::new();
                    self.check(b, value, at, &mut e);
                    if e.is_empty() {
                        first = None;
                        break;
                    }
                    first.get_or_insert(e);
                }
                if let Some(e) = first {
                    errors.push(format!(
                        "{at}: fits no branch of {key}; the first says {e:?}"
                    ));
                }
            }
        }
        if let Some(t) = schema.get("type") {
            let types: Vec<&str> = match t {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            let fits = types.iter().any(|t| match *t {
                "null" => value.is_null(),
                "boolean" => value.is_boolean(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "string" => value.is_string(),
                "array" => value.is_array(),
                "object" => value.is_object(),
                _ => false,
            });
            if !fits {
                errors.push(format!("{at}: {value} is not of type {types:?}"));
                return;
            }
        }
        if let Some(c) = schema.get("const") {
            if c != value {
                errors.push(format!("{at}: {value} is not {c}"));
            }
        }
        if let Some(list) = schema.get("enum").and_then(Value::as_array) {
            if !list.contains(value) {
                errors.push(format!("{at}: {value} is not one of {list:?}"));
            }
        }
        if let (Some(format), Some(s)) =
            (schema.get("format").and_then(Value::as_str), value.as_str())
        {
            let ok = match format {
                "date" => s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-',
                "date-time" => s.len() >= 20 && s.as_bytes()[10] == b'T' && s.ends_with('Z'),
                _ => true,
            };
            if !ok {
                errors.push(format!("{at}: {s:?} is not a {format}"));
            }
        }
        if let Value::Object(o) = value {
            let props = schema.get("properties").and_then(Value::as_object);
            if let Some(required) = schema.get("required").and_then(Value::as_array) {
                for r in required.iter().filter_map(Value::as_str) {
                    if !o.contains_key(r) {
                        errors.push(format!("{at}: required property {r} is missing"));
                    }
                }
            }
            for (k, v) in o {
                let here = format!("{at}.{k}");
                match (
                    props.and_then(|p| p.get(k)),
                    schema.get("additionalProperties"),
                ) {
                    (Some(s), _) => self.check(s, v, &here, errors),
                    (None, Some(Value::Bool(true))) => {}
                    (None, Some(Value::Bool(false))) => errors.push(format!("{here}: not allowed")),
                    (None, Some(extra)) => self.check(extra, v, &here, errors),
                    (None, None) if props.is_some() => {
                        errors.push(format!("{here}: the schema does not declare it"));
                    }
                    (None, None) => {}
                }
            }
        }
        if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
            for (i, v) in items.iter().enumerate() {
                self.check(item_schema, v, &format!("{at}[{i}]"), errors);
            }
        }
    }
}

/// The checker finds what it is there to find.
#[test]
fn openapi_checker_catches_mismatches() {
    let doc = document();
    let checker = Checker { doc: &doc };
    let schema = json!({"$ref": "#/components/schemas/Status"});
    let good = json!({
        "_type": "Status", "id": 1, "name": "New", "isClosed": false, "isDefault": true,
        "isReadonly": false, "color": "#fff", "position": 1,
        "_links": {"self": {"href": "/api/v3/statuses/1", "title": "New"}}
    });
    let errors_of = |v: &Value| {
        let mut e = Vec::new();
        checker.check(&schema, v, "$", &mut e);
        e
    };
    assert_eq!(errors_of(&good), Vec::<String>::new());
    let mut extra = good.clone();
    extra["shade"] = json!("blue");
    assert!(errors_of(&extra)[0].contains("$.shade"));
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("position");
    assert!(errors_of(&missing)[0].contains("position"));
    let mut wrong = good.clone();
    wrong["id"] = json!("1");
    assert!(errors_of(&wrong)[0].contains("$.id"));
    let mut kind = good.clone();
    kind["_type"] = json!("Type");
    assert!(errors_of(&kind)[0].contains("$._type"));
    let mut link = good.clone();
    link["_links"]["self"]["href"] = json!(3);
    assert!(errors_of(&link)[0].contains("$._links.self"));
    // anyOf: a principal is a user, a reduced user or a group.
    let principal = json!({"$ref": "#/components/schemas/Principal"});
    let reduced = json!({"_type": "User", "id": 3, "name": "Ann",
                         "_links": {"self": {"href": "/api/v3/users/3"}}});
    let mut e = Vec::new();
    checker.check(&principal, &reduced, "$", &mut e);
    assert!(e.is_empty(), "{e:?}");
    checker.check(&principal, &json!({"_type": "Robot"}), "$", &mut e);
    assert!(e[0].contains("anyOf"), "{e:?}");
}

fn find_op(method: &Method, path: &str) -> &'static Operation {
    OPERATIONS
        .iter()
        .find(|op| http_method(op.method) == *method && op.path == path)
        .unwrap_or_else(|| panic!("{method} {path} is not documented"))
}

/// Asserts that the answer's status is documented for the operation and
/// that its body fits the documented response. Returns the body.
fn check_answer(doc: &Value, op: &Operation, res: &Resp) -> Value {
    let what = format!("{} {}", op.method.as_str(), op.path);
    let key = op.method.as_str().to_ascii_lowercase();
    let responses = &doc["paths"][op.path][key.as_str()]["responses"];
    let mut response = &responses[res.status.to_string()];
    assert!(
        response.is_object(),
        "{what} answered {}, which it does not document: {}",
        res.status,
        res.text()
    );
    let checker = Checker { doc };
    response = checker.resolve(response);
    match response.get("content").and_then(Value::as_object) {
        None => {
            assert!(
                res.body.is_empty(),
                "{what} answered {} with a body it does not document: {}",
                res.status,
                res.text()
            );
            Value::Null
        }
        Some(content) => {
            let ct = res.header("content-type").unwrap_or("");
            let media = content
                .get(ct)
                .unwrap_or_else(|| panic!("{what}: content type {ct:?} is not documented"));
            if !ct.contains("json") {
                // Text and archives: documented as a string of that media type.
                assert!(!res.body.is_empty(), "{what}: an empty {ct} document");
                return Value::Null;
            }
            let body = res.json();
            let mut errors = Vec::new();
            checker.check(&media["schema"], &body, "$", &mut errors);
            assert!(
                errors.is_empty(),
                "{what} answered {} with a body that does not fit the document:\n{}\n{}",
                res.status,
                errors.join("\n"),
                serde_json::to_string_pretty(&body).unwrap()
            );
            body
        }
    }
}

/// A documented path with each `{param}` replaced by `id`.
fn dummy_path(path: &str, id: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                id
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn request_for(op: &Operation, req: Req) -> Req {
    if op.body.is_some() {
        req.json(&json!({}))
    } else {
        req
    }
}

// ---------------------------------------------------------------- over HTTP

async fn openapi_document_is_served(backend: Backend) {
    let app = TestApp::start(backend).await;
    let res = app.anon(Method::GET, "/api/v3/openapi.json").send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/json"));
    let doc = res.json();
    assert_eq!(doc, document());
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Steward API");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(doc["info"]["description"]
        .as_str()
        .is_some_and(|d| d.contains("OpenProject API v3") && d.contains("/api/v3/my/")));
    assert_eq!(
        doc["servers"],
        json!([{"url": "/", "description": "This server."}])
    );
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["basicAuth"]["scheme"], "basic");
    assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
    assert_eq!(schemes["cookieAuth"]["in"], "cookie");
    assert_eq!(schemes["cookieAuth"]["name"], "steward_session");
    assert!(schemes["cookieAuth"]["description"]
        .as_str()
        .unwrap()
        .contains("X-CSRF-Token"));
    let paths = doc["paths"].as_object().unwrap();
    let mut count = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            let what = format!("{method} {path}");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{what}: summary"
            );
            assert!(op["operationId"].is_string(), "{what}: operationId");
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|k| k.starts_with('2')),
                "{what}: a success response"
            );
        }
    }
    assert_eq!(count, OPERATIONS.len());
    // The document describes itself.
    check_answer(&doc, find_op(&Method::GET, "/api/v3/openapi.json"), &res);
}
both_backends!(openapi_document_is_served);

/// Every documented operation is served (a path no route serves is
/// answered "There is no such endpoint", a wrong method 405), and with
/// unknown ids and empty bodies it answers only documented statuses, with
/// bodies that fit the document.
async fn openapi_operations_exist(backend: Backend) {
    let app = TestApp::start(backend).await;
    let doc = document();

    let res = app.admin(Method::GET, "/api/v3/no_such_thing").send().await;
    let message = res.assert_error(404, "NotFound");
    assert_eq!(
        message,
        "There is no such endpoint: GET /api/v3/no_such_thing"
    );
    let res = app.admin(Method::GET, "/api/v3/users/999999").send().await;
    let message = res.assert_error(404, "NotFound");
    assert!(!message.starts_with(NO_SUCH_ENDPOINT), "{message}");

    // Reads first, deletes last: the ids do not exist, but an order that
    // cannot destroy what later requests use is cheap.
    let mut ops: Vec<&Operation> = OPERATIONS.iter().collect();
    ops.sort_by_key(|op| match op.method {
        DocMethod::Get => 0,
        DocMethod::Post | DocMethod::Patch => 1,
        DocMethod::Delete => 2,
    });
    for op in ops {
        let path = dummy_path(op.path, "999999");
        let res = request_for(op, app.admin(http_method(op.method), &path))
            .send()
            .await;
        let what = format!("{} {path}", op.method.as_str());
        assert_ne!(res.status, 405, "{what}: {}", res.text());
        if res.status == 404 {
            let message = res.json()["message"].as_str().unwrap_or("").to_string();
            assert!(
                !message.starts_with(NO_SUCH_ENDPOINT),
                "{what} is documented but not served: {message}"
            );
        }
        if res.status >= 400 {
            assert_eq!(res.json()["_type"], "Error", "{what}: {}", res.text());
        }
        check_answer(&doc, op, &res);
    }
}
both_backends!(openapi_operations_exist);

/// The access rule of every operation holds: a bad credential is refused
/// (401) wherever credentials are read and ignored where they are not;
/// anonymous callers are refused where a user is needed; a user who is no
/// administrator is refused (403) where an administrator is needed.
async fn openapi_access_rules_hold(backend: Backend) {
    let app = TestApp::start(backend).await;
    let doc = document();
    let (_, plain) = app.user("plain").await;
    for op in OPERATIONS {
        let path = dummy_path(op.path, "999999");
        let what = format!("{} {path} ({:?})", op.method.as_str(), op.auth);
        let method = http_method(op.method);

        let res = request_for(op, app.anon(method.clone(), &path).bearer("not-a-token"))
            .send()
            .await;
        if op.auth == Auth::None {
            assert_ne!(res.status, 401, "{what} with a bad token: {}", res.text());
        } else {
            res.assert_error(401, "Unauthenticated");
        }
        check_answer(&doc, op, &res);

        if matches!(op.auth, Auth::SignedIn | Auth::Admin) {
            let res = request_for(op, app.anon(method.clone(), &path))
                .send()
                .await;
            assert_eq!(res.status, 401, "{what} anonymously: {}", res.text());
            check_answer(&doc, op, &res);
        }
        if op.auth == Auth::Admin {
            let res = request_for(op, app.anon(method.clone(), &path).token(&plain))
                .send()
                .await;
            assert_eq!(res.status, 403, "{what} as a user: {}", res.text());
            check_answer(&doc, op, &res);
        }
    }
}
both_backends!(openapi_access_rules_hold);

/// Ids of real resources, to read every documented GET with.
#[derive(Default)]
struct Samples {
    ids: BTreeMap<&'static str, String>,
}

impl Samples {
    fn set(&mut self, collection: &'static str, id: impl ToString) {
        self.ids.insert(collection, id.to_string());
    }

    /// The path with each `{param}` replaced by the sample of the
    /// collection named before it.
    fn path(&self, path: &str) -> String {
        let segs: Vec<&str> = path.split('/').collect();
        let mut out = Vec::with_capacity(segs.len());
        for (i, seg) in segs.iter().enumerate() {
            if seg.starts_with('{') {
                let collection = segs[i - 1];
                let id = self.ids.get(collection).unwrap_or_else(|| {
                    panic!("no sample for {path}: add one for {collection:?} in responses_fit_the_document")
                });
                out.push(id.as_str());
            } else {
                out.push(seg);
            }
        }
        out.join("/")
    }
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id: {v}"))
}

/// Sends a request, checks the answer against the document and that it
/// is the operation's success; returns the body.
async fn expect_success(doc: &Value, template: &str, req: Req, method: Method) -> Value {
    let op = find_op(&method, template);
    let res = req.send().await;
    assert_eq!(res.status, op.status, "{method} {template}: {}", res.text());
    check_answer(doc, op, &res)
}

/// With real data, every documented GET answers its success, and every
/// body (also those of the writes that made the data) fits the document.
async fn openapi_responses_fit_the_document(backend: Backend) {
    let app = TestApp::start(backend).await;
    let doc = &document();
    let mut s = Samples::default();
    let post = Method::POST;

    // A browser session for the administrator: /my/session needs one.
    let res = app
        .anon(Method::POST, "/api/v3/my/session")
        .json(&json!({"login": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    check_answer(doc, find_op(&post, "/api/v3/my/session"), &res);
    let session = res.json();
    let cookie = res
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string();
    s.set("sessions", id_of(&session));

    // Custom fields of every kind of value, so that they show up.
    let mut fields = BTreeMap::new();
    for (name, format, kind) in [
        ("Code", "string", "WorkPackageCustomField"),
        ("Notes", "text", "WorkPackageCustomField"),
        ("Severity", "list", "WorkPackageCustomField"),
        ("Points", "int", "WorkPackageCustomField"),
        ("Employee number", "int", "UserCustomField"),
    ] {
        let mut body = json!({"name": name, "fieldFormat": format, "kind": kind});
        if format == "list" {
            body["possibleValues"] = json!(["Low", "High"]);
        }
        let f = expect_success(
            doc,
            "/api/v3/custom_fields",
            app.admin(post.clone(), "/api/v3/custom_fields").json(&body),
            post.clone(),
        )
        .await;
        fields.insert(name, f);
    }
    let key = |name: &str| format!("customField{}", id_of(&fields[name]));
    let option_href = fields["Severity"]["_links"]["customOptions"][1]["href"]
        .as_str()
        .unwrap()
        .to_string();
    s.set("custom_fields", id_of(&fields["Severity"]));
    s.set(
        "custom_options",
        option_href.rsplit('/').next().unwrap().to_string(),
    );

    // Two users: one writes, one only reads.
    let mut users = Vec::new();
    for login in ["writer", "reader"] {
        let mut body = json!({
            "login": login,
            "email": format!("{login}@example.org"),
            "firstName": "Test",
            "lastName": login,
            "password": "user password 1",
            "status": "active",
        });
        body[key("Employee number")] = json!(7);
        let u = expect_success(
            doc,
            "/api/v3/users",
            app.admin(post.clone(), "/api/v3/users").json(&body),
            post.clone(),
        )
        .await;
        users.push(id_of(&u));
    }
    let (writer, reader) = (users[0], users[1]);
    let (_, writer_token) = app
        .services()
        .create_api_token(writer, "docs")
        .await
        .unwrap();
    s.set("users", writer);

    let project = expect_success(
        doc,
        "/api/v3/projects",
        app.admin(post.clone(), "/api/v3/projects")
            .json(&json!({"name": "Documentation", "identifier": "docs"})),
        post.clone(),
    )
    .await;
    let p = id_of(&project);
    s.set("projects", p);
    expect_success(
        doc,
        "/api/v3/projects/form",
        app.admin(post.clone(), "/api/v3/projects/form")
            .json(&json!({"name": ""})),
        post.clone(),
    )
    .await;

    let roles = expect_success(
        doc,
        "/api/v3/roles",
        app.admin(Method::GET, "/api/v3/roles"),
        Method::GET,
    )
    .await;
    let member_role = roles["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Member")
        .map(id_of)
        .expect("a Member role");
    s.set("roles", member_role);
    for user in [writer, reader] {
        let m = expect_success(
            doc,
            "/api/v3/memberships",
            app.admin(post.clone(), "/api/v3/memberships")
                .json(&json!({"_links": {
                    "project": {"href": format!("/api/v3/projects/{p}")},
                    "principal": {"href": format!("/api/v3/users/{user}")},
                    "roles": [{"href": format!("/api/v3/roles/{member_role}")}],
                }})),
            post.clone(),
        )
        .await;
        s.set("memberships", id_of(&m));
    }

    let version = expect_success(
        doc,
        "/api/v3/versions",
        app.admin(post.clone(), "/api/v3/versions").json(&json!({
            "name": "1.0",
            "startDate": "2024-01-01",
            "_links": {"definingProject": {"href": format!("/api/v3/projects/{p}")}},
        })),
        post.clone(),
    )
    .await;
    s.set("versions", id_of(&version));

    let mut wp_body = json!({
        "subject": "Write the documentation",
        "description": {"raw": "The *whole* API."},
        "startDate": "2024-01-01",
        "dueDate": "2024-01-05",
        "estimatedTime": "PT5H",
        "percentageDone": 10,
        "_links": {
            "version": {"href": format!("/api/v3/versions/{}", id_of(&version))},
            "assignee": {"href": format!("/api/v3/users/{writer}")},
        },
    });
    wp_body[key("Code")] = json!("DOC-1");
    wp_body[key("Notes")] = json!({"raw": "Some *notes*."});
    wp_body["_links"][key("Severity")] = json!({"href": option_href});
    let template = "/api/v3/projects/{id}/work_packages";
    let wp = expect_success(
        doc,
        template,
        app.admin(post.clone(), &s.path(template)).json(&wp_body),
        post.clone(),
    )
    .await;
    let w = id_of(&wp);
    s.set("work_packages", w);
    let wp_type = wp["_links"]["type"]["href"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    s.set("types", &wp_type);
    s.set("schemas", format!("{p}-{wp_type}"));
    s.set(
        "statuses",
        wp["_links"]["status"]["href"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap(),
    );
    s.set(
        "priorities",
        wp["_links"]["priority"]["href"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap(),
    );
    let template = "/api/v3/work_packages/{id}";
    expect_success(
        doc,
        template,
        app.admin(Method::PATCH, &s.path(template)).json(&json!({
            "lockVersion": wp["lockVersion"],
            "subject": "Write all the documentation",
            "comment": {"raw": "Broader."},
        })),
        Method::PATCH,
    )
    .await;
    let template = "/api/v3/work_packages/{id}/activities";
    let activity = expect_success(
        doc,
        template,
        app.admin(post.clone(), &s.path(template))
            .json(&json!({"comment": {"raw": "Looks good."}})),
        post.clone(),
    )
    .await;
    s.set("activities", id_of(&activity));
    for (template, body) in [
        ("/api/v3/work_packages/form", json!({})),
        (
            "/api/v3/projects/{id}/work_packages/form",
            json!({"subject": "x"}),
        ),
        ("/api/v3/work_packages/{id}/form", json!({"subject": ""})),
        ("/api/v3/projects/{id}/form", json!({"name": "Docs"})),
    ] {
        expect_success(
            doc,
            template,
            app.admin(post.clone(), &s.path(template)).json(&body),
            post.clone(),
        )
        .await;
    }

    let token = expect_success(
        doc,
        "/api/v3/my/api_tokens",
        app.admin(post.clone(), "/api/v3/my/api_tokens")
            .json(&json!({"name": "documentation"})),
        post.clone(),
    )
    .await;
    assert!(token["token"].is_string());
    s.set("api_tokens", id_of(&token));

    let group = expect_success(
        doc,
        "/api/v3/groups",
        app.admin(post.clone(), "/api/v3/groups").json(&json!({
            "name": "Writers",
            "_links": {"members": [{"href": format!("/api/v3/users/{writer}")}]},
        })),
        post.clone(),
    )
    .await;
    s.set("groups", id_of(&group));
    // An entry of the audit trail (the writes above made many).
    let audit = expect_success(
        doc,
        "/api/v3/audit_events",
        app.admin(Method::GET, "/api/v3/audit_events?pageSize=1"),
        Method::GET,
    )
    .await;
    s.set("audit_events", id_of(&audit["_embedded"]["elements"][0]));
    // A background job, for /api/v3/jobs/{id}.
    let job = app
        .services()
        .enqueue_job_now(
            "diagnostics.sleep",
            &json!({"seconds": 0}),
            Some(steward_domain::Timestamp::now().plus_seconds(3600)),
        )
        .await
        .unwrap();
    s.set("jobs", job);
    // A finished export of the writer's data, for /api/v3/exports/{id}
    // and its archive (built by the in-process worker).
    let template = "/api/v3/users/{id}/exports";
    let export = expect_success(
        doc,
        template,
        app.admin(post.clone(), &s.path(template)),
        post.clone(),
    )
    .await;
    let export_id = id_of(&export);
    crate::gdpr_export::wait_until_ready(&app, &app.admin_token, export_id).await;
    s.set("exports", export_id);

    // An erased person named in free text, for the certificates and the
    // redaction queue (and the scan).
    let erin = expect_success(
        doc,
        "/api/v3/users",
        app.admin(post.clone(), "/api/v3/users").json(&json!({
            "login": "erin", "email": "erin@example.org", "firstName": "Erin",
            "lastName": "Eraseme", "password": "user password 1", "status": "active",
        })),
        post.clone(),
    )
    .await;
    let template = "/api/v3/projects/{id}/work_packages";
    expect_success(
        doc,
        template,
        app.admin(post.clone(), &s.path(template)).json(&json!({
            "subject": "Ask Erin Eraseme",
            "_links": {"type": {"href": format!("/api/v3/types/{wp_type}")}},
        })),
        post.clone(),
    )
    .await;
    let cert = expect_success(
        doc,
        "/api/v3/gdpr/erasures",
        app.admin(post.clone(), "/api/v3/gdpr/erasures")
            .json(&json!({"user": id_of(&erin)})),
        post.clone(),
    )
    .await;
    s.set("erasures", id_of(&cert));
    let scan = expect_success(
        doc,
        "/api/v3/gdpr/scans",
        app.admin(post.clone(), "/api/v3/gdpr/scans")
            .json(&json!({"login": "erin", "firstName": "Erin", "lastName": "Eraseme"})),
        post.clone(),
    )
    .await;
    assert_eq!(scan["clean"], true, "{scan}");
    let queue = expect_success(
        doc,
        "/api/v3/gdpr/redactions",
        app.admin(Method::GET, "/api/v3/gdpr/redactions"),
        Method::GET,
    )
    .await;
    let entry = id_of(&queue["_embedded"]["elements"][0]);
    s.set("redactions", entry);

    // Every documented GET, as the administrator's browser session.
    let mut read = 0;
    for op in OPERATIONS.iter().filter(|op| op.method == DocMethod::Get) {
        let path = s.path(op.path);
        let res = Req::new(&app.base, Method::GET, &path)
            .header("cookie", &cookie)
            .send()
            .await;
        assert_eq!(res.status, op.status, "GET {path}: {}", res.text());
        check_answer(doc, op, &res);
        read += 1;
    }
    assert!(read > 30);
    let template = "/api/v3/gdpr/redactions/{id}/dismiss";
    expect_success(
        doc,
        template,
        app.admin(post.clone(), &s.path(template)),
        post.clone(),
    )
    .await;

    // Pages with neighbours, baselines, and what a member who is no
    // administrator sees.
    let extra: Vec<(&str, String, Option<&str>)> = vec![
        (
            "/api/v3/statuses",
            "/api/v3/statuses?pageSize=1&offset=2".into(),
            None,
        ),
        (
            "/api/v3/work_packages",
            "/api/v3/work_packages?timestamps=2000-01-01T00:00:00Z,PT0S".into(),
            None,
        ),
        (
            "/api/v3/work_packages/{id}",
            format!("/api/v3/work_packages/{w}?timestamps=P-1D,PT0S"),
            None,
        ),
        (
            "/api/v3/principals",
            "/api/v3/principals".into(),
            Some(writer_token.as_str()),
        ),
        (
            "/api/v3/projects",
            "/api/v3/projects".into(),
            Some(writer_token.as_str()),
        ),
        (
            "/api/v3/work_packages/{id}",
            format!("/api/v3/work_packages/{w}"),
            Some(writer_token.as_str()),
        ),
        (
            "/api/v3/users/{id}",
            "/api/v3/users/me".into(),
            Some(writer_token.as_str()),
        ),
    ];
    for (template, path, token) in extra {
        let req = match token {
            Some(t) => app.anon(Method::GET, &path).token(t),
            None => app.admin(Method::GET, &path),
        };
        expect_success(doc, template, req, Method::GET).await;
    }

    // The other writes, each answered with its documented success.
    let (patch, delete) = (Method::PATCH, Method::DELETE);
    let writes: Vec<(Method, &str, Option<Value>)> = vec![
        (
            patch.clone(),
            "/api/v3/users/{id}",
            Some(json!({"firstName": "Wendy"})),
        ),
        (post.clone(), "/api/v3/users/{id}/lock", None),
        (delete.clone(), "/api/v3/users/{id}/lock", None),
        (
            patch.clone(),
            "/api/v3/projects/{id}",
            Some(json!({"description": {"raw": "All of it."}})),
        ),
        (
            patch.clone(),
            "/api/v3/memberships/{id}",
            Some(json!({"_links": {"roles": [{"href": format!("/api/v3/roles/{member_role}")}]}})),
        ),
        (
            patch.clone(),
            "/api/v3/activities/{id}",
            Some(json!({"comment": {"raw": "Looks very good."}})),
        ),
        (
            patch.clone(),
            "/api/v3/custom_fields/{id}",
            Some(json!({"name": "Severity level"})),
        ),
        (
            patch.clone(),
            "/api/v3/groups/{id}",
            Some(json!({"name": "Authors"})),
        ),
        (patch.clone(), "/api/v3/settings", Some(json!({}))),
        (
            post.clone(),
            "/api/v3/work_packages",
            Some(
                json!({"subject": "Index", "_links": {"project": {"href": format!("/api/v3/projects/{p}")}}}),
            ),
        ),
    ];
    for (method, template, body) in writes {
        let mut req = app.admin(method.clone(), &s.path(template));
        if let Some(body) = body {
            req = req.json(&body);
        }
        expect_success(doc, template, req, method).await;
    }
    for (collection, name) in [
        ("statuses", "Blocked"),
        ("types", "Spike"),
        ("priorities", "Whenever"),
    ] {
        let list = format!("/api/v3/{collection}");
        let one = format!("/api/v3/{collection}/{{id}}");
        let created = expect_success(
            doc,
            &list,
            app.admin(post.clone(), &list).json(&json!({"name": name})),
            post.clone(),
        )
        .await;
        s.set(collection, id_of(&created));
        expect_success(
            doc,
            &one,
            app.admin(patch.clone(), &s.path(&one))
                .json(&json!({"name": format!("{name} 2")})),
            patch.clone(),
        )
        .await;
        expect_success(
            doc,
            &one,
            app.admin(delete.clone(), &s.path(&one)),
            delete.clone(),
        )
        .await;
    }
    expect_success(
        doc,
        "/api/v3/my/password",
        app.anon(post.clone(), "/api/v3/my/password")
            .token(&writer_token)
            .json(
                &json!({"currentPassword": "user password 1", "newPassword": "another password 2"}),
            ),
        post.clone(),
    )
    .await;

    // A second session of the administrator, to end from the first.
    let res = app
        .anon(Method::POST, "/api/v3/my/session")
        .json(&json!({"login": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    s.set("sessions", id_of(&res.json()));
    s.set("custom_fields", id_of(&fields["Points"]));

    // The deletes, last, through the browser session (with its CSRF token).
    let csrf = session["csrfToken"].as_str().unwrap().to_string();
    for template in [
        "/api/v3/my/api_tokens/{id}",
        "/api/v3/memberships/{id}",
        "/api/v3/work_packages/{id}",
        "/api/v3/groups/{id}",
        "/api/v3/custom_fields/{id}",
        "/api/v3/projects/{id}",
        "/api/v3/my/sessions/{id}",
        "/api/v3/my/session",
    ] {
        expect_success(
            doc,
            template,
            Req::new(&app.base, Method::DELETE, &s.path(template))
                .header("cookie", &cookie)
                .header("x-csrf-token", &csrf),
            Method::DELETE,
        )
        .await;
    }
}
both_backends!(openapi_responses_fit_the_document);
