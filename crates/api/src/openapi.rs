//! Steward's own OpenAPI 3.1 description of its API, served at
//! `GET /api/v3/openapi.json`.
//!
//! [`OPERATIONS`] is the one table of every (method, path) the router
//! serves: who may call it, what it takes and what it answers. The
//! document is built from that table and from the schemas below, which
//! describe the representations as the route modules serialise them. The
//! integration tests hold the table, the router and the schemas to each
//! other: a route without an entry here, an entry without a route, or a
//! response that does not fit its schema fails them.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Map, Value};

// ---------------------------------------------------------------- the table

/// An HTTP method the API serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

impl Method {
    /// The method as HTTP writes it: `GET`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// Who may call an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// Anyone; credentials are not looked at.
    None,
    /// Anyone: credentials are used when given, and a bad one is refused
    /// (401). What an anonymous caller sees depends on the instance.
    Optional,
    /// Any authenticated user.
    SignedIn,
    /// An administrator.
    Admin,
}

impl Auth {
    pub fn as_str(self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Optional => "optional",
            Auth::SignedIn => "signed-in",
            Auth::Admin => "admin",
        }
    }
}

/// What a parameter holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// A positive numeric id.
    Id,
    /// Free text (an id or another reference, JSON, a list).
    Text,
    /// `offset`: a page number from 1.
    PageNumber,
    /// `pageSize`: 1 to 1000.
    PageSize,
}

/// A path or query parameter.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: ParamType,
}

/// What a successful answer carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returns {
    /// No body (204).
    Nothing,
    /// One object of the named schema (whose `_type` the schema fixes).
    One(&'static str),
    /// A page of a HAL collection: its `_type` and the schema of its elements.
    Page(&'static str, &'static str),
    /// A whole collection, not paginated: the schema of its elements.
    All(&'static str),
    /// A document that is not JSON (text, an archive): its media type.
    Text(&'static str),
}

/// One operation: a method on a path.
#[derive(Clone, Copy, Debug)]
pub struct Operation {
    pub method: Method,
    /// The path in OpenAPI form: `/api/v3/work_packages/{id}`.
    pub path: &'static str,
    pub id: &'static str,
    /// One line.
    pub summary: &'static str,
    /// More, when there is more to say; may be empty.
    pub description: &'static str,
    pub tag: &'static str,
    pub auth: Auth,
    pub path_params: &'static [Param],
    pub query: &'static [Param],
    /// The schema of the JSON request body, if the operation takes one.
    pub body: Option<&'static str>,
    pub status: u16,
    pub returns: Returns,
    /// The error statuses it can answer, in the API's error format.
    pub errors: &'static [u16],
}

impl Operation {
    /// The `_type` of the success body, if it has one fixed by the table.
    pub fn body_type(&self) -> Option<&'static str> {
        match self.returns {
            Returns::Nothing => None,
            Returns::One(schema) => Some(schema),
            Returns::Page(kind, _) => Some(kind),
            Returns::All(_) => Some("Collection"),
            Returns::Text(_) => None,
        }
    }
}

const fn param(name: &'static str, kind: ParamType, description: &'static str) -> Param {
    Param {
        name,
        description,
        kind,
    }
}

// Path parameters.
const ID: &[Param] = &[param("id", ParamType::Id, "The numeric id.")];
const USER_REF: &[Param] = &[param(
    "id",
    ParamType::Text,
    "The user's numeric id, or `me` for the caller.",
)];
const PROJECT_REF: &[Param] = &[param(
    "id",
    ParamType::Text,
    "The project's numeric id or its identifier.",
)];
const SCHEMA_REF: &[Param] = &[param(
    "id",
    ParamType::Text,
    "`{project}-{type}`: the project's id (or identifier) and the type's id, as in `5-1`.",
)];

// Query parameters.
const OFFSET: Param = param(
    "offset",
    ParamType::PageNumber,
    "The page to answer, counted from 1 (API v3 counts pages, not elements). Default 1.",
);
const PAGE_SIZE: Param = param(
    "pageSize",
    ParamType::PageSize,
    "Elements per page, 1 to 1000. Default 20. `per_page` is read as well.",
);
const PAGE: &[Param] = &[OFFSET, PAGE_SIZE];
const TIMESTAMPS: Param = param(
    "timestamps",
    ParamType::Text,
    "Baseline comparison: up to 5 comma-separated points in time, each an ISO 8601 \
     timestamp (`2024-01-01T00:00:00Z`), a date, or a duration back from now (`P-1D`; \
     `PT0S` is now). Each work package then carries `_meta` and, in \
     `_embedded.attributesByTimestamp`, the attributes that differed at each point.",
);
const WORK_PACKAGE_QUERY: &[Param] = &[
    OFFSET,
    PAGE_SIZE,
    param(
        "filters",
        ParamType::Text,
        "A JSON array of filters, `[{\"status\":{\"operator\":\"o\",\"values\":[]}}]`. \
         `status` (`o` open, `c` closed, `*`, `=`, `!`); `type`, `priority`, `project`, `id` \
         (`=`, `!`); `parent`, `version` (`=`, `!`, `*`, `!*`); `assignee`, `responsible` \
         (`=`, `!`, `*`, `!*`) and `author` (`=`, `!`), with user ids or `me`; `subject` \
         (`~`, `!~`); `createdAt`, `updatedAt` (`<>d`, `=d`, `>t-`, `<t-`, `t-`, `t`, `w`). \
         Filter and sort names of every collection are also accepted in snake_case, in \
         their `_id` form and under the database's names (`project_id`, `created_at`, \
         `assigned_to_id`, `fixed_version_id`).",
    ),
    param(
        "sortBy",
        ParamType::Text,
        "A JSON array of `[attribute, \"asc\"|\"desc\"]` pairs. Attributes: `id`, `subject`, \
         `status`, `type`, `priority`, `createdAt`, `updatedAt`, `startDate`, `dueDate`, \
         `assignee`, `project`, `percentageDone`. Default: by id.",
    ),
    param(
        "groupBy",
        ParamType::Text,
        "Groups the matching work packages by `status`, `type`, `priority`, `project`, \
         `assignee`, `author`, `responsible`, `version` or `parent`: the collection then \
         carries `groups`, each a `GroupBy` with the value, its link and the count over \
         every match.",
    ),
    TIMESTAMPS,
];
const USER_QUERY: &[Param] = &[
    OFFSET,
    PAGE_SIZE,
    param(
        "filters",
        ParamType::Text,
        "A JSON array of filters: `status` (`=`, `!`: active, registered, invited, locked), \
         `login` (`=`), `name` (`~`).",
    ),
    param(
        "sortBy",
        ParamType::Text,
        "A JSON array of `[attribute, \"asc\"|\"desc\"]` pairs: `id`, `login`, `name`, \
         `createdAt`, `status`.",
    ),
];
const PROJECT_QUERY: &[Param] = &[
    OFFSET,
    PAGE_SIZE,
    param(
        "filters",
        ParamType::Text,
        "A JSON array of filters: `active`, `public` (`=`, `!`, with `t` or `f`), `id` (`=`), \
         `name_and_identifier` (`~`), `parent_id` (`=` one project id, `!*` top-level only).",
    ),
    param(
        "sortBy",
        ParamType::Text,
        "A JSON array of `[attribute, \"asc\"|\"desc\"]` pairs: `id`, `name`, `identifier`, \
         `createdAt`, `updatedAt`.",
    ),
];
const MEMBERSHIP_QUERY: &[Param] = &[
    OFFSET,
    PAGE_SIZE,
    param(
        "filters",
        ParamType::Text,
        "A JSON array of filters: `project` (`=`, project ids), `principal` (`=`, one user \
         or group id).",
    ),
];
const ROLE_QUERY: &[Param] = &[
    OFFSET,
    PAGE_SIZE,
    param(
        "filters",
        ParamType::Text,
        "A JSON array of filters: `grantable` (`=`, `t` or `f`: roles a membership can \
         give), `unit` (`=`, `project` or `system`).",
    ),
];
const PRINCIPAL_QUERY: &[Param] = &[
    OFFSET,
    PAGE_SIZE,
    param(
        "filters",
        ParamType::Text,
        "A JSON array of filters: `type` (`=`, `!`: `User`, `Group`), `member` (`=`, project \
         ids: principals who are members there), `name` (`~`).",
    ),
];
const GROUP_QUERY: &[Param] = &[
    OFFSET,
    PAGE_SIZE,
    param(
        "sortBy",
        ParamType::Text,
        "A JSON array of `[attribute, \"asc\"|\"desc\"]` pairs: `id`, `createdAt`, `updatedAt`.",
    ),
];
const AUDIT_QUERY: &[Param] = &[
    OFFSET,
    PAGE_SIZE,
    param(
        "filters",
        ParamType::Text,
        "A JSON array of filters: `category` (`=`, `!`: `security`, `access`); `event` (`=`, \
         `!`: names such as `login.failed`, `personal_data.viewed`); `actor` and `targetUser` \
         (`=` user ids or `me`, `*` anyone, `!*` nobody); `createdAt` (`<>d` between two dates \
         or timestamps, either may be empty; `=d` one day; `>t-`/`<t-` more/less than n days \
         ago; `t` today); `requestId` (`=`).",
    ),
    param(
        "sortBy",
        ParamType::Text,
        "`[[\"createdAt\", \"asc\"|\"desc\"]]` (or `id`). Default: newest first.",
    ),
];
const CUSTOM_FIELD_QUERY: &[Param] = &[
    OFFSET,
    PAGE_SIZE,
    param(
        "kind",
        ParamType::Text,
        "Only the fields of this kind: `WorkPackageCustomField` or `UserCustomField`.",
    ),
];
const JOB_QUERY: &[Param] = &[
    OFFSET,
    PAGE_SIZE,
    param(
        "filters",
        ParamType::Text,
        "A JSON array of filters: `status` (`=`, `!`: queued, running, done, failed), `kind` \
         (`=`, `!`: job kinds such as `retention.sessions`).",
    ),
    param(
        "sortBy",
        ParamType::Text,
        "A JSON array of `[attribute, \"asc\"|\"desc\"]` pairs: `id`, `runAt`, `createdAt`, \
         `updatedAt`. Default: newest first.",
    ),
];

/// Every operation the router serves.
pub static OPERATIONS: &[Operation] = &[
    // ------------------------------------------------------------ health, root
    Operation {
        method: Method::Get,
        path: "/health",
        id: "health",
        summary: "Report whether the server and its database answer",
        description: "200 when the database answers within 5 seconds, 503 (with the same \
                      body, status `unavailable`) when not.",
        tag: "Health",
        auth: Auth::None,
        path_params: &[],
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("Health"),
        errors: &[],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3",
        id: "view_root",
        summary: "The API root: instance name, version and the caller",
        description: "",
        tag: "Root",
        auth: Auth::Optional,
        path_params: &[],
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("Root"),
        errors: &[401],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/openapi.json",
        id: "view_openapi_document",
        summary: "This OpenAPI document",
        description: "",
        tag: "Root",
        auth: Auth::None,
        path_params: &[],
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("OpenApiDocument"),
        errors: &[],
    },
    // ------------------------------------------------------------ users
    Operation {
        method: Method::Get,
        path: "/api/v3/users",
        id: "list_users",
        summary: "List user accounts",
        description: "",
        tag: "Users",
        auth: Auth::Admin,
        path_params: &[],
        query: USER_QUERY,
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "User"),
        errors: &[400, 401, 403],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/users",
        id: "create_user",
        summary: "Create a user account",
        description: "User custom fields are set with `customFieldN` properties or \
                      `_links.customFieldN` links.",
        tag: "Users",
        auth: Auth::Admin,
        path_params: &[],
        query: &[],
        body: Some("UserWrite"),
        status: 201,
        returns: Returns::One("User"),
        errors: &[400, 401, 403, 413, 415, 422],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/users/{id}",
        id: "view_user",
        summary: "View a user account",
        description: "Anyone may view their own account (`/api/v3/users/me`); \
                      administrators may view any. To anyone else other accounts do not \
                      exist (404).",
        tag: "Users",
        auth: Auth::SignedIn,
        path_params: USER_REF,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("User"),
        errors: &[401, 404],
    },
    Operation {
        method: Method::Patch,
        path: "/api/v3/users/{id}",
        id: "update_user",
        summary: "Change a user account",
        description: "Only the properties given change. `status` cannot be changed here: \
                      lock and unlock with `/api/v3/users/{id}/lock`. Taking the last \
                      active administrator's rights is refused with 409. Administrators \
                      change anyone's account; people change their own (`me` or their id) \
                      name, email, language and time zone (rectification), and get 403 for \
                      other properties; to anyone else the account does not exist (404).",
        tag: "Users",
        auth: Auth::SignedIn,
        path_params: USER_REF,
        query: &[],
        body: Some("UserWrite"),
        status: 200,
        returns: Returns::One("User"),
        errors: &[400, 401, 403, 404, 409, 413, 415, 422],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/users/{id}/lock",
        id: "lock_user",
        summary: "Lock a user account",
        description: "A locked user cannot sign in nor use API tokens. Locking the last \
                      active administrator is refused with 409.",
        tag: "Users",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("User"),
        errors: &[401, 403, 404, 409],
    },
    Operation {
        method: Method::Delete,
        path: "/api/v3/users/{id}/lock",
        id: "unlock_user",
        summary: "Unlock a user account",
        description: "",
        tag: "Users",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("User"),
        errors: &[401, 403, 404, 409],
    },
    // ------------------------------------------------------------ my account
    Operation {
        method: Method::Get,
        path: "/api/v3/my/session",
        id: "view_my_session",
        summary: "The session of a signed-in browser, with its CSRF token",
        description: "Works with the session cookie only; a request with an API token is \
                      answered with 400.",
        tag: "My account",
        auth: Auth::SignedIn,
        path_params: &[],
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("Session"),
        errors: &[400, 401],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/my/session",
        id: "sign_in",
        summary: "Sign in with login and password",
        description: "Sets the session cookie and answers the new session with its \
                      `csrfToken`. Wrong credentials are answered with 401; a locked or \
                      inactive account, or one blocked after too many failed attempts, \
                      with 403.",
        tag: "My account",
        auth: Auth::None,
        path_params: &[],
        query: &[],
        body: Some("SignIn"),
        status: 201,
        returns: Returns::One("Session"),
        errors: &[400, 401, 403, 413, 415],
    },
    Operation {
        method: Method::Delete,
        path: "/api/v3/my/session",
        id: "sign_out",
        summary: "Sign out: end the session and clear the cookie",
        description: "Works with the session cookie only.",
        tag: "My account",
        auth: Auth::SignedIn,
        path_params: &[],
        query: &[],
        body: None,
        status: 204,
        returns: Returns::Nothing,
        errors: &[400, 401, 403],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/my/sessions",
        id: "list_my_sessions",
        summary: "List the caller's sessions",
        description: "",
        tag: "My account",
        auth: Auth::SignedIn,
        path_params: &[],
        query: &[],
        body: None,
        status: 200,
        returns: Returns::All("Session"),
        errors: &[401],
    },
    Operation {
        method: Method::Delete,
        path: "/api/v3/my/sessions",
        id: "end_my_other_sessions",
        summary: "End every other session of the caller",
        description: "Keeps the session making the request, if any; with an API token every session ends.",
        tag: "My account",
        auth: Auth::SignedIn,
        path_params: &[],
        query: &[],
        body: None,
        status: 204,
        returns: Returns::Nothing,
        errors: &[401, 403],
    },
    Operation {
        method: Method::Delete,
        path: "/api/v3/my/sessions/{id}",
        id: "revoke_my_session",
        summary: "End one of the caller's sessions",
        description: "",
        tag: "My account",
        auth: Auth::SignedIn,
        path_params: ID,
        query: &[],
        body: None,
        status: 204,
        returns: Returns::Nothing,
        errors: &[401, 403, 404],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/my/password",
        id: "change_my_password",
        summary: "Change the caller's password",
        description: "Needs the current password. Every other session of the user ends.",
        tag: "My account",
        auth: Auth::SignedIn,
        path_params: &[],
        query: &[],
        body: Some("PasswordChange"),
        status: 204,
        returns: Returns::Nothing,
        errors: &[400, 401, 403, 413, 415, 422],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/my/api_tokens",
        id: "list_my_api_tokens",
        summary: "List the caller's API tokens",
        description: "The secrets are never shown again after creation.",
        tag: "My account",
        auth: Auth::SignedIn,
        path_params: &[],
        query: &[],
        body: None,
        status: 200,
        returns: Returns::All("ApiToken"),
        errors: &[401],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/my/api_tokens",
        id: "create_my_api_token",
        summary: "Create an API token for the caller",
        description: "The answer carries the secret in `token`, this once.",
        tag: "My account",
        auth: Auth::SignedIn,
        path_params: &[],
        query: &[],
        body: Some("ApiTokenWrite"),
        status: 201,
        returns: Returns::One("ApiToken"),
        errors: &[400, 401, 403, 413, 415, 422],
    },
    Operation {
        method: Method::Delete,
        path: "/api/v3/my/api_tokens/{id}",
        id: "revoke_my_api_token",
        summary: "Revoke one of the caller's API tokens",
        description: "",
        tag: "My account",
        auth: Auth::SignedIn,
        path_params: ID,
        query: &[],
        body: None,
        status: 204,
        returns: Returns::Nothing,
        errors: &[401, 403, 404],
    },
    // ------------------------------------------------------------ work packages
    Operation {
        method: Method::Get,
        path: "/api/v3/work_packages",
        id: "list_work_packages",
        summary: "List the work packages the caller may see",
        description: "",
        tag: "Work Packages",
        auth: Auth::Optional,
        path_params: &[],
        query: WORK_PACKAGE_QUERY,
        body: None,
        status: 200,
        returns: Returns::Page("WorkPackageCollection", "WorkPackage"),
        errors: &[400, 401],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/work_packages",
        id: "create_work_package",
        summary: "Create a work package",
        description: "The project is given in `_links.project`; type, status and priority \
                      default to the instance's defaults.",
        tag: "Work Packages",
        auth: Auth::SignedIn,
        path_params: &[],
        query: &[],
        body: Some("WorkPackageWrite"),
        status: 201,
        returns: Returns::One("WorkPackage"),
        errors: &[400, 401, 403, 404, 413, 415, 422],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/work_packages/{id}",
        id: "view_work_package",
        summary: "View a work package",
        description: "",
        tag: "Work Packages",
        auth: Auth::Optional,
        path_params: ID,
        query: &[TIMESTAMPS],
        body: None,
        status: 200,
        returns: Returns::One("WorkPackage"),
        errors: &[400, 401, 404],
    },
    Operation {
        method: Method::Patch,
        path: "/api/v3/work_packages/{id}",
        id: "update_work_package",
        summary: "Change a work package",
        description: "Needs the `lockVersion` the client read: a stale one is refused with \
                      409. A `comment` is stored with the change.",
        tag: "Work Packages",
        auth: Auth::SignedIn,
        path_params: ID,
        query: &[],
        body: Some("WorkPackageWrite"),
        status: 200,
        returns: Returns::One("WorkPackage"),
        errors: &[400, 401, 403, 404, 409, 413, 415, 422],
    },
    Operation {
        method: Method::Delete,
        path: "/api/v3/work_packages/{id}",
        id: "delete_work_package",
        summary: "Delete a work package",
        description: "",
        tag: "Work Packages",
        auth: Auth::SignedIn,
        path_params: ID,
        query: &[],
        body: None,
        status: 204,
        returns: Returns::Nothing,
        errors: &[401, 403, 404],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/projects/{id}/work_packages",
        id: "list_project_work_packages",
        summary: "List the work packages of a project",
        description: "",
        tag: "Work Packages",
        auth: Auth::Optional,
        path_params: PROJECT_REF,
        query: WORK_PACKAGE_QUERY,
        body: None,
        status: 200,
        returns: Returns::Page("WorkPackageCollection", "WorkPackage"),
        errors: &[400, 401, 404],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/projects/{id}/work_packages",
        id: "create_project_work_package",
        summary: "Create a work package in a project",
        description: "As `POST /api/v3/work_packages`, with the project taken from the path.",
        tag: "Work Packages",
        auth: Auth::SignedIn,
        path_params: PROJECT_REF,
        query: &[],
        body: Some("WorkPackageWrite"),
        status: 201,
        returns: Returns::One("WorkPackage"),
        errors: &[400, 401, 403, 404, 413, 415, 422],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/work_packages/form",
        id: "work_package_create_form",
        summary: "What creating a work package with this body would do",
        description: "Answers the resulting values, the schema and the validation errors \
                      without writing anything. An empty body gives the defaults.",
        tag: "Work Packages",
        auth: Auth::SignedIn,
        path_params: &[],
        query: &[],
        body: Some("WorkPackageWrite"),
        status: 200,
        returns: Returns::One("WorkPackageForm"),
        errors: &[400, 401, 403, 404, 413, 415],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/projects/{id}/work_packages/form",
        id: "work_package_create_form_in_project",
        summary: "What creating a work package in a project with this body would do",
        description: "",
        tag: "Work Packages",
        auth: Auth::SignedIn,
        path_params: PROJECT_REF,
        query: &[],
        body: Some("WorkPackageWrite"),
        status: 200,
        returns: Returns::One("WorkPackageForm"),
        errors: &[400, 401, 403, 404, 413, 415],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/work_packages/{id}/form",
        id: "work_package_update_form",
        summary: "What changing a work package with this body would do",
        description: "",
        tag: "Work Packages",
        auth: Auth::SignedIn,
        path_params: ID,
        query: &[],
        body: Some("WorkPackageWrite"),
        status: 200,
        returns: Returns::One("WorkPackageForm"),
        errors: &[400, 401, 403, 404, 413, 415],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/work_packages/schemas/{id}",
        id: "view_work_package_schema",
        summary: "The attributes of work packages of one type in one project",
        description: "",
        tag: "Work Packages",
        auth: Auth::Optional,
        path_params: SCHEMA_REF,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("WorkPackageSchema"),
        errors: &[401, 404],
    },
    // ------------------------------------------------------------ activities
    Operation {
        method: Method::Get,
        path: "/api/v3/work_packages/{id}/activities",
        id: "list_work_package_activities",
        summary: "The whole change history of a work package, with its comments",
        description: "",
        tag: "Activities",
        auth: Auth::Optional,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::All("Activity"),
        errors: &[401, 404],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/work_packages/{id}/activities",
        id: "comment_work_package",
        summary: "Comment on a work package",
        description: "",
        tag: "Activities",
        auth: Auth::SignedIn,
        path_params: ID,
        query: &[],
        body: Some("CommentWrite"),
        status: 201,
        returns: Returns::One("Activity"),
        errors: &[400, 401, 403, 404, 413, 415, 422],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/activities/{id}",
        id: "view_activity",
        summary: "View one activity",
        description: "",
        tag: "Activities",
        auth: Auth::Optional,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("Activity"),
        errors: &[401, 404],
    },
    Operation {
        method: Method::Patch,
        path: "/api/v3/activities/{id}",
        id: "update_activity",
        summary: "Change the comment of an activity",
        description: "",
        tag: "Activities",
        auth: Auth::SignedIn,
        path_params: ID,
        query: &[],
        body: Some("CommentWrite"),
        status: 200,
        returns: Returns::One("Activity"),
        errors: &[400, 401, 403, 404, 413, 415, 422],
    },
    // ------------------------------------------------------------ projects
    Operation {
        method: Method::Get,
        path: "/api/v3/projects",
        id: "list_projects",
        summary: "List the projects the caller may see",
        description: "",
        tag: "Projects",
        auth: Auth::Optional,
        path_params: &[],
        query: PROJECT_QUERY,
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "Project"),
        errors: &[400, 401],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/projects",
        id: "create_project",
        summary: "Create a project",
        description: "The identifier is derived from the name when not given. A creator \
                      who is no administrator becomes a member of the new project.",
        tag: "Projects",
        auth: Auth::SignedIn,
        path_params: &[],
        query: &[],
        body: Some("ProjectWrite"),
        status: 201,
        returns: Returns::One("Project"),
        errors: &[400, 401, 403, 413, 415, 422],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/projects/form",
        id: "project_create_form",
        summary: "What creating a project with this body would do",
        description: "",
        tag: "Projects",
        auth: Auth::SignedIn,
        path_params: &[],
        query: &[],
        body: Some("ProjectWrite"),
        status: 200,
        returns: Returns::One("ProjectForm"),
        errors: &[400, 401, 403, 413, 415],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/projects/{id}",
        id: "view_project",
        summary: "View a project",
        description: "",
        tag: "Projects",
        auth: Auth::Optional,
        path_params: PROJECT_REF,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("Project"),
        errors: &[401, 404],
    },
    Operation {
        method: Method::Patch,
        path: "/api/v3/projects/{id}",
        id: "update_project",
        summary: "Change a project; archive or unarchive it with `active`",
        description: "Only what differs from the project as it is changes, and needs the \
                      rights for it.",
        tag: "Projects",
        auth: Auth::SignedIn,
        path_params: PROJECT_REF,
        query: &[],
        body: Some("ProjectWrite"),
        status: 200,
        returns: Returns::One("Project"),
        errors: &[400, 401, 403, 404, 413, 415, 422],
    },
    Operation {
        method: Method::Delete,
        path: "/api/v3/projects/{id}",
        id: "delete_project",
        summary: "Delete a project with everything in it",
        description: "",
        tag: "Projects",
        auth: Auth::SignedIn,
        path_params: PROJECT_REF,
        query: &[],
        body: None,
        status: 204,
        returns: Returns::Nothing,
        errors: &[401, 403, 404],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/projects/{id}/form",
        id: "project_update_form",
        summary: "What changing a project with this body would do",
        description: "",
        tag: "Projects",
        auth: Auth::SignedIn,
        path_params: PROJECT_REF,
        query: &[],
        body: Some("ProjectWrite"),
        status: 200,
        returns: Returns::One("ProjectForm"),
        errors: &[400, 401, 403, 404, 413, 415],
    },
    // ------------------------------------------------------------ memberships
    Operation {
        method: Method::Get,
        path: "/api/v3/memberships",
        id: "list_memberships",
        summary: "List the memberships the caller may see",
        description: "",
        tag: "Memberships",
        auth: Auth::Optional,
        path_params: &[],
        query: MEMBERSHIP_QUERY,
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "Membership"),
        errors: &[400, 401],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/memberships",
        id: "create_membership",
        summary: "Give a user or group roles in a project (or global roles)",
        description: "",
        tag: "Memberships",
        auth: Auth::SignedIn,
        path_params: &[],
        query: &[],
        body: Some("MembershipWrite"),
        status: 201,
        returns: Returns::One("Membership"),
        errors: &[400, 401, 403, 404, 413, 415, 422],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/memberships/{id}",
        id: "view_membership",
        summary: "View a membership",
        description: "",
        tag: "Memberships",
        auth: Auth::Optional,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("Membership"),
        errors: &[401, 404],
    },
    Operation {
        method: Method::Patch,
        path: "/api/v3/memberships/{id}",
        id: "update_membership",
        summary: "Replace the roles of a membership",
        description: "The project and the principal never change; a body without roles \
                      changes nothing.",
        tag: "Memberships",
        auth: Auth::SignedIn,
        path_params: ID,
        query: &[],
        body: Some("MembershipWrite"),
        status: 200,
        returns: Returns::One("Membership"),
        errors: &[400, 401, 403, 404, 413, 415, 422],
    },
    Operation {
        method: Method::Delete,
        path: "/api/v3/memberships/{id}",
        id: "delete_membership",
        summary: "Remove a membership",
        description: "",
        tag: "Memberships",
        auth: Auth::SignedIn,
        path_params: ID,
        query: &[],
        body: None,
        status: 204,
        returns: Returns::Nothing,
        errors: &[401, 403, 404],
    },
    // ------------------------------------------------------------ reference data
    Operation {
        method: Method::Get,
        path: "/api/v3/roles",
        id: "list_roles",
        summary: "List the roles, with their permissions",
        description: "",
        tag: "Roles",
        auth: Auth::Optional,
        path_params: &[],
        query: ROLE_QUERY,
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "Role"),
        errors: &[400, 401],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/roles/{id}",
        id: "view_role",
        summary: "View a role",
        description: "",
        tag: "Roles",
        auth: Auth::Optional,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("Role"),
        errors: &[401, 404],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/statuses",
        id: "list_statuses",
        summary: "List the statuses a work package can be in",
        description: "",
        tag: "Statuses",
        auth: Auth::Optional,
        path_params: &[],
        query: PAGE,
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "Status"),
        errors: &[400, 401],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/statuses/{id}",
        id: "view_status",
        summary: "View a status",
        description: "",
        tag: "Statuses",
        auth: Auth::Optional,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("Status"),
        errors: &[401, 404],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/statuses",
        id: "create_status",
        summary: "Create a status",
        description: "",
        tag: "Statuses",
        auth: Auth::Admin,
        path_params: &[],
        query: &[],
        body: Some("StatusWrite"),
        status: 201,
        returns: Returns::One("Status"),
        errors: &[400, 401, 403, 413, 415, 422],
    },
    Operation {
        method: Method::Patch,
        path: "/api/v3/statuses/{id}",
        id: "update_status",
        summary: "Change a status",
        description: "Only the properties given change.",
        tag: "Statuses",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: Some("StatusWrite"),
        status: 200,
        returns: Returns::One("Status"),
        errors: &[400, 401, 403, 404, 413, 415, 422],
    },
    Operation {
        method: Method::Delete,
        path: "/api/v3/statuses/{id}",
        id: "delete_status",
        summary: "Delete a status",
        description: "Refused with 409 for the default status and for one that work packages use (now or in their history).",
        tag: "Statuses",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: None,
        status: 204,
        returns: Returns::Nothing,
        errors: &[401, 403, 404, 409],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/types",
        id: "list_types",
        summary: "List the types of work package",
        description: "",
        tag: "Types",
        auth: Auth::Optional,
        path_params: &[],
        query: PAGE,
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "Type"),
        errors: &[400, 401],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/types/{id}",
        id: "view_type",
        summary: "View a type",
        description: "",
        tag: "Types",
        auth: Auth::Optional,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("Type"),
        errors: &[401, 404],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/types",
        id: "create_type",
        summary: "Create a type",
        description: "",
        tag: "Types",
        auth: Auth::Admin,
        path_params: &[],
        query: &[],
        body: Some("TypeWrite"),
        status: 201,
        returns: Returns::One("Type"),
        errors: &[400, 401, 403, 413, 415, 422],
    },
    Operation {
        method: Method::Patch,
        path: "/api/v3/types/{id}",
        id: "update_type",
        summary: "Change a type",
        description: "Only the properties given change.",
        tag: "Types",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: Some("TypeWrite"),
        status: 200,
        returns: Returns::One("Type"),
        errors: &[400, 401, 403, 404, 413, 415, 422],
    },
    Operation {
        method: Method::Delete,
        path: "/api/v3/types/{id}",
        id: "delete_type",
        summary: "Delete a type",
        description: "Refused with 409 for the default type and for one that work packages use (now or in their history).",
        tag: "Types",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: None,
        status: 204,
        returns: Returns::Nothing,
        errors: &[401, 403, 404, 409],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/projects/{id}/types",
        id: "list_project_types",
        summary: "List the types available in a project",
        description: "Every type is available in every project.",
        tag: "Types",
        auth: Auth::Optional,
        path_params: PROJECT_REF,
        query: PAGE,
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "Type"),
        errors: &[400, 401, 404],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/priorities",
        id: "list_priorities",
        summary: "List the priorities a work package can have",
        description: "",
        tag: "Priorities",
        auth: Auth::Optional,
        path_params: &[],
        query: PAGE,
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "Priority"),
        errors: &[400, 401],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/priorities/{id}",
        id: "view_priority",
        summary: "View a priority",
        description: "",
        tag: "Priorities",
        auth: Auth::Optional,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("Priority"),
        errors: &[401, 404],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/priorities",
        id: "create_priority",
        summary: "Create a priority",
        description: "",
        tag: "Priorities",
        auth: Auth::Admin,
        path_params: &[],
        query: &[],
        body: Some("PriorityWrite"),
        status: 201,
        returns: Returns::One("Priority"),
        errors: &[400, 401, 403, 413, 415, 422],
    },
    Operation {
        method: Method::Patch,
        path: "/api/v3/priorities/{id}",
        id: "update_priority",
        summary: "Change a priority",
        description: "Only the properties given change.",
        tag: "Priorities",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: Some("PriorityWrite"),
        status: 200,
        returns: Returns::One("Priority"),
        errors: &[400, 401, 403, 404, 413, 415, 422],
    },
    Operation {
        method: Method::Delete,
        path: "/api/v3/priorities/{id}",
        id: "delete_priority",
        summary: "Delete a priority",
        description: "Refused with 409 for the default priority and for one that work packages use (now or in their history).",
        tag: "Priorities",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: None,
        status: 204,
        returns: Returns::Nothing,
        errors: &[401, 403, 404, 409],
    },
    // ------------------------------------------------------------ versions
    Operation {
        method: Method::Post,
        path: "/api/v3/versions",
        id: "create_version",
        summary: "Create a version in a project",
        description: "The project is given in `_links.definingProject`.",
        tag: "Versions",
        auth: Auth::SignedIn,
        path_params: &[],
        query: &[],
        body: Some("VersionWrite"),
        status: 201,
        returns: Returns::One("Version"),
        errors: &[400, 401, 403, 404, 413, 415, 422],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/versions/{id}",
        id: "view_version",
        summary: "View a version",
        description: "",
        tag: "Versions",
        auth: Auth::Optional,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("Version"),
        errors: &[401, 404],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/versions/{id}/projects",
        id: "list_version_projects",
        summary: "The projects a version is available in",
        description: "Versions are not shared: this is the defining project.",
        tag: "Versions",
        auth: Auth::Optional,
        path_params: ID,
        query: PAGE,
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "Project"),
        errors: &[400, 401, 404],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/projects/{id}/versions",
        id: "list_project_versions",
        summary: "List the versions of a project",
        description: "",
        tag: "Versions",
        auth: Auth::Optional,
        path_params: PROJECT_REF,
        query: PAGE,
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "Version"),
        errors: &[400, 401, 404],
    },
    // ------------------------------------------------------------ principals, groups
    Operation {
        method: Method::Get,
        path: "/api/v3/principals",
        id: "list_principals",
        summary: "List the users and groups the caller may see",
        description: "The caller and administrators get full user representations; \
                      others a reduced one (id and name).",
        tag: "Principals",
        auth: Auth::Optional,
        path_params: &[],
        query: PRINCIPAL_QUERY,
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "Principal"),
        errors: &[400, 401],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/groups",
        id: "list_groups",
        summary: "List the groups the caller may see",
        description: "Administrators see every group, others the groups that share a project with them. Groups take no filters: use `/api/v3/principals` with the type filter.",
        tag: "Groups",
        auth: Auth::Optional,
        path_params: &[],
        query: GROUP_QUERY,
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "Group"),
        errors: &[400, 401],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/groups",
        id: "create_group",
        summary: "Create a group",
        description: "",
        tag: "Groups",
        auth: Auth::Admin,
        path_params: &[],
        query: &[],
        body: Some("GroupWrite"),
        status: 201,
        returns: Returns::One("Group"),
        errors: &[400, 401, 403, 413, 415, 422],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/groups/{id}",
        id: "view_group",
        summary: "View a group with its members",
        description: "",
        tag: "Groups",
        auth: Auth::Optional,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("Group"),
        errors: &[401, 404],
    },
    Operation {
        method: Method::Patch,
        path: "/api/v3/groups/{id}",
        id: "update_group",
        summary: "Rename a group or replace its members",
        description: "Only the properties given change; `_links.members` replaces the members.",
        tag: "Groups",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: Some("GroupWrite"),
        status: 200,
        returns: Returns::One("Group"),
        errors: &[400, 401, 403, 404, 413, 415, 422],
    },
    Operation {
        method: Method::Delete,
        path: "/api/v3/groups/{id}",
        id: "delete_group",
        summary: "Delete a group",
        description: "The group is deleted at once; the answer is 202 with no body, as in API v3.",
        tag: "Groups",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: None,
        status: 202,
        returns: Returns::Nothing,
        errors: &[401, 403, 404],
    },
    // ------------------------------------------------------------ GDPR
    Operation {
        method: Method::Delete,
        path: "/api/v3/users/{id}",
        id: "delete_user",
        summary: "Delete (erase) a user",
        description: "As in OpenProject, answers 202. The erasure is complete when the answer comes: \
            sessions and tokens end, personal data is deleted, contributions point to the \
            \"Deleted user\", and a residue scan must come out clean or nothing changes. \
            Administrators may delete others unless `usersDeletableByAdmins` is off (the \
            `Location` header then names the certificate); people may delete their own \
            account when `usersDeletableBySelf` is on.",
        tag: "GDPR",
        auth: Auth::SignedIn,
        path_params: USER_REF,
        query: &[],
        body: None,
        status: 202,
        returns: Returns::Nothing,
        errors: &[400, 401, 403, 404, 409],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/users/{id}/erasure_preview",
        id: "preview_user_erasure",
        summary: "What erasing a user would change",
        description: "Row counts per table and column, and what erasure does to each. For \
            administrators, and for the person themself when self-deletion is allowed.",
        tag: "GDPR",
        auth: Auth::SignedIn,
        path_params: USER_REF,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("ErasurePreview"),
        errors: &[400, 401, 403, 404, 409],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/gdpr/record",
        id: "view_record_of_processing",
        summary: "The record of processing activities of this instance",
        description: "Generated from the personal-data registry and the live configuration. \
            `?format=markdown` answers the same as text/markdown.",
        tag: "GDPR",
        auth: Auth::Admin,
        path_params: &[],
        query: &[param("format", ParamType::Text, "`json` (default) or `markdown`.")],
        body: None,
        status: 200,
        returns: Returns::One("RecordOfProcessing"),
        errors: &[400, 401, 403],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/gdpr/erasures",
        id: "erase_user",
        summary: "Erase a person and get the erasure certificate",
        description: "Body: `{\"user\": id or login}` or `_links.user`. 201 with the new \
            certificate; 200 with the earlier one when the person was erased before.",
        tag: "GDPR",
        auth: Auth::Admin,
        path_params: &[],
        query: &[],
        body: Some("ErasureWrite"),
        status: 201,
        returns: Returns::One("ErasureCertificate"),
        errors: &[400, 401, 403, 404, 409, 413, 415, 422],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/gdpr/erasures",
        id: "list_erasure_certificates",
        summary: "Erasure certificates, newest first",
        description: "",
        tag: "GDPR",
        auth: Auth::Admin,
        path_params: &[],
        query: PAGE,
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "ErasureCertificateSummary"),
        errors: &[400, 401, 403],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/gdpr/erasures/{id}",
        id: "view_erasure_certificate",
        summary: "One erasure certificate",
        description: "",
        tag: "GDPR",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("ErasureCertificate"),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/gdpr/erasures/{id}/text",
        id: "view_erasure_certificate_text",
        summary: "One erasure certificate as readable text",
        description: "",
        tag: "GDPR",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::Text("text/plain; charset=utf-8"),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/gdpr/scans",
        id: "residue_scan",
        summary: "Search every table, column and cache for a person's identifiers",
        description: "Body: `{\"user\": id or login}` for an existing person, or the \
            identifiers of someone erased before (`id`, `login`, `email`, `firstName`, \
            `lastName`). Each hit names table, column and row; `clean` is true when no \
            structured place holds them (free text goes to the redaction queue).",
        tag: "GDPR",
        auth: Auth::Admin,
        path_params: &[],
        query: &[],
        body: Some("ScanWrite"),
        status: 200,
        returns: Returns::One("ResidueScan"),
        errors: &[400, 401, 403, 404, 413, 415, 422],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/gdpr/redactions",
        id: "list_redactions",
        summary: "The redaction queue: free text naming erased people",
        description: "",
        tag: "GDPR",
        auth: Auth::Admin,
        path_params: &[],
        query: &[
            OFFSET,
            PAGE_SIZE,
            param("status", ParamType::Text, "`open` (default), `redacted`, `dismissed` or `all`."),
        ],
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "RedactionEntry"),
        errors: &[400, 401, 403],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/gdpr/redactions/{id}",
        id: "view_redaction",
        summary: "One entry of the redaction queue, with the text around each occurrence",
        description: "",
        tag: "GDPR",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("RedactionEntry"),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/gdpr/redactions/{id}/redact",
        id: "redact",
        summary: "Replace the erased person's names, login and email in this text",
        description: "A work package's own text gets a new journal version; older wordings in \
            the history are rewritten in place. 409 when the entry is not open.",
        tag: "GDPR",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("RedactionEntry"),
        errors: &[400, 401, 403, 404, 409],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/gdpr/redactions/{id}/dismiss",
        id: "dismiss_redaction",
        summary: "Leave this text as it is (it does not name the erased person)",
        description: "409 when the entry is not open.",
        tag: "GDPR",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("RedactionEntry"),
        errors: &[400, 401, 403, 404, 409],
    },
    // ------------------------------------------------------------ personal-data exports
    Operation {
        method: Method::Post,
        path: "/api/v3/users/{id}/exports",
        id: "request_personal_data_export",
        summary: "Ask for an export of everything Steward holds about a person",
        description: "GDPR Art. 15 and 20. For the person themself (`me` works) and for \
            administrators; anyone else gets 403 for a person they can see and 404 for one \
            they cannot. No body is needed. 202 with the export, `queued`: a background job \
            builds the archive (`personal-data.json`, `README.txt`, `files/`; the format is \
            in docs/gdpr-export-format.md). Poll the export until it is `ready`, then follow \
            its `download` link. The request is recorded in the audit trail.",
        tag: "GDPR",
        auth: Auth::SignedIn,
        path_params: USER_REF,
        query: &[],
        body: None,
        status: 202,
        returns: Returns::One("PersonalDataExport"),
        errors: &[401, 403, 404],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/users/{id}/exports",
        id: "list_personal_data_exports",
        summary: "The exports of a person's data that the caller asked for, newest first",
        description: "The same rule as for asking applies. Other people's requests are not \
            listed.",
        tag: "GDPR",
        auth: Auth::SignedIn,
        path_params: USER_REF,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::All("PersonalDataExport"),
        errors: &[401, 403, 404],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/exports/{id}",
        id: "view_personal_data_export",
        summary: "One export: its status, size, checksum and when its archive expires",
        description: "Only for the person who asked for it; to anyone else it does not exist \
            (404).",
        tag: "GDPR",
        auth: Auth::SignedIn,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("PersonalDataExport"),
        errors: &[401, 404],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/exports/{id}/archive",
        id: "download_personal_data_export",
        summary: "Download the archive of a ready export",
        description: "A `.tar.gz` with `Content-Disposition: attachment`, `Cache-Control: \
            no-store` and the archive's SHA-256 in `X-Content-SHA256`. Only for the person who \
            asked for the export (404 for anyone else); 409 while it is not ready or when it \
            failed; 410 once it has expired (`gdpr.export_expiry_hours` after it was ready) \
            and was deleted. Each download is recorded in the audit trail.",
        tag: "GDPR",
        auth: Auth::SignedIn,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::Text("application/gzip"),
        errors: &[401, 404, 409, 410],
    },
    // ------------------------------------------------------------ jobs
    Operation {
        method: Method::Get,
        path: "/api/v3/jobs",
        id: "list_jobs",
        summary: "List the background jobs",
        description: "Queued, running, done and failed jobs, newest first. Failed jobs carry \
                      their last error and a `retry` link.",
        tag: "Jobs",
        auth: Auth::Admin,
        path_params: &[],
        query: JOB_QUERY,
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "Job"),
        errors: &[400, 401, 403],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/jobs/{id}",
        id: "view_job",
        summary: "View a background job",
        description: "",
        tag: "Jobs",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("Job"),
        errors: &[401, 403, 404],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/jobs/{id}/retry",
        id: "retry_job",
        summary: "Queue a failed job again",
        description: "The job gets a fresh set of attempts and is due at once; its last error \
                      stays until the next attempt. Only failed jobs can be retried: 409 for \
                      any other.",
        tag: "Jobs",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("Job"),
        errors: &[401, 403, 404, 409],
    },
    // ------------------------------------------------------------ settings
    Operation {
        method: Method::Get,
        path: "/api/v3/settings",
        id: "view_settings",
        summary: "The instance settings administrators change at run time",
        description: "",
        tag: "Settings",
        auth: Auth::Admin,
        path_params: &[],
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("Settings"),
        errors: &[401, 403],
    },
    Operation {
        method: Method::Patch,
        path: "/api/v3/settings",
        id: "update_settings",
        summary: "Change instance settings",
        description: "Absent settings stay as they are. Unknown properties are refused (400) so that a misspelt setting is not lost silently.",
        tag: "Settings",
        auth: Auth::Admin,
        path_params: &[],
        query: &[],
        body: Some("SettingsWrite"),
        status: 200,
        returns: Returns::One("Settings"),
        errors: &[400, 401, 403, 413, 415, 422],
    },
    // ------------------------------------------------------------ custom fields
    Operation {
        method: Method::Get,
        path: "/api/v3/custom_fields",
        id: "list_custom_fields",
        summary: "List the custom fields",
        description: "",
        tag: "Custom Fields",
        auth: Auth::Admin,
        path_params: &[],
        query: CUSTOM_FIELD_QUERY,
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "CustomField"),
        errors: &[400, 401, 403],
    },
    Operation {
        method: Method::Post,
        path: "/api/v3/custom_fields",
        id: "create_custom_field",
        summary: "Create a custom field of work packages or users",
        description: "",
        tag: "Custom Fields",
        auth: Auth::Admin,
        path_params: &[],
        query: &[],
        body: Some("CustomFieldWrite"),
        status: 201,
        returns: Returns::One("CustomField"),
        errors: &[400, 401, 403, 413, 415, 422],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/custom_fields/{id}",
        id: "view_custom_field",
        summary: "View a custom field",
        description: "",
        tag: "Custom Fields",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("CustomField"),
        errors: &[401, 403, 404],
    },
    Operation {
        method: Method::Patch,
        path: "/api/v3/custom_fields/{id}",
        id: "update_custom_field",
        summary: "Change a custom field",
        description: "",
        tag: "Custom Fields",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: Some("CustomFieldWrite"),
        status: 200,
        returns: Returns::One("CustomField"),
        errors: &[400, 401, 403, 404, 413, 415, 422],
    },
    Operation {
        method: Method::Delete,
        path: "/api/v3/custom_fields/{id}",
        id: "delete_custom_field",
        summary: "Delete a custom field with its values",
        description: "",
        tag: "Custom Fields",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: None,
        status: 204,
        returns: Returns::Nothing,
        errors: &[401, 403, 404],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/custom_options/{id}",
        id: "view_custom_option",
        summary: "View one choice of a list custom field",
        description: "",
        tag: "Custom Fields",
        auth: Auth::Optional,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("CustomOption"),
        errors: &[401, 404],
    },
    // ------------------------------------------------------------ audit trail
    Operation {
        method: Method::Get,
        path: "/api/v3/audit_events",
        id: "list_audit_events",
        summary: "List the audit trail: security events and access to personal data",
        description: "Newest first. Security events: sign-ins (succeeded, failed, \
                      lockouts), sign-outs, password changes, API tokens, sessions, \
                      memberships, group members, administrator rights, locks and settings. \
                      Access events: an administrator viewing, editing, exporting or \
                      erasing another person's data. `details` holds ids and field names, \
                      never personal values.",
        tag: "Audit",
        auth: Auth::Admin,
        path_params: &[],
        query: AUDIT_QUERY,
        body: None,
        status: 200,
        returns: Returns::Page("Collection", "AuditEvent"),
        errors: &[400, 401, 403],
    },
    Operation {
        method: Method::Get,
        path: "/api/v3/audit_events/{id}",
        id: "view_audit_event",
        summary: "View one entry of the audit trail",
        description: "",
        tag: "Audit",
        auth: Auth::Admin,
        path_params: ID,
        query: &[],
        body: None,
        status: 200,
        returns: Returns::One("AuditEvent"),
        errors: &[401, 403, 404],
    },
];

/// The tags in the order the document lists them, with a line on each.
const TAGS: &[(&str, &str)] = &[
    ("Root", "The API root and this document."),
    ("Health", "Whether the server can serve."),
    (
        "My account",
        "Steward's own endpoints for the signed-in person: sessions, password, API tokens.",
    ),
    ("Users", "User accounts."),
    ("Projects", "Projects, their forms, archiving."),
    (
        "Work Packages",
        "Work packages, their forms and schemas, baseline comparison.",
    ),
    (
        "Activities",
        "The change history and comments of work packages.",
    ),
    ("Memberships", "Who holds which roles where."),
    ("Roles", "The roles memberships give."),
    ("Statuses", "The statuses of work packages."),
    ("Types", "The types of work packages."),
    ("Priorities", "The priorities of work packages."),
    ("Versions", "Versions of projects."),
    ("Principals", "Users and groups, for pickers."),
    ("Groups", "Groups of users."),
    ("Settings", "Instance settings (a Steward extension)."),
    (
        "Audit",
        "The audit trail of security events and of access to personal data, for \
         administrators (a Steward extension).",
    ),
    (
        "Jobs",
        "The background job queue, for administrators (a Steward extension).",
    ),
    (
        "GDPR",
        "The data controller's tools: erasure, certificates, residue scan, redaction queue, record of processing (a Steward extension).",
    ),
    (
        "Custom Fields",
        "Custom fields of work packages and users, and their options.",
    ),
];

// ---------------------------------------------------------------- the document

#[derive(Serialize)]
pub struct Document {
    openapi: &'static str,
    info: Info,
    servers: Vec<Server>,
    tags: Vec<Tag>,
    security: Vec<BTreeMap<&'static str, [&'static str; 0]>>,
    paths: BTreeMap<&'static str, PathItem>,
    components: Components,
}

#[derive(Serialize)]
struct Info {
    title: &'static str,
    version: &'static str,
    description: &'static str,
    license: License,
}

#[derive(Serialize)]
struct License {
    name: &'static str,
    identifier: &'static str,
}

#[derive(Serialize)]
struct Server {
    url: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
struct Tag {
    name: &'static str,
    description: &'static str,
}

#[derive(Serialize, Default)]
struct PathItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    get: Option<OperationObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    post: Option<OperationObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch: Option<OperationObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delete: Option<OperationObject>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OperationObject {
    operation_id: &'static str,
    summary: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    tags: [&'static str; 1],
    /// Absent: the document's default (any of the three credentials).
    #[serde(skip_serializing_if = "Option::is_none")]
    security: Option<Vec<BTreeMap<&'static str, [&'static str; 0]>>>,
    #[serde(rename = "x-steward-access")]
    access: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parameters: Vec<ParameterObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_body: Option<RequestBody>,
    responses: BTreeMap<String, ResponseObject>,
}

#[derive(Serialize)]
struct ParameterObject {
    name: &'static str,
    #[serde(rename = "in")]
    location: &'static str,
    required: bool,
    description: &'static str,
    schema: Value,
}

#[derive(Serialize)]
struct RequestBody {
    required: bool,
    content: BTreeMap<&'static str, MediaType>,
}

#[derive(Serialize, Clone)]
struct MediaType {
    schema: Value,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ResponseObject {
    Ref {
        #[serde(rename = "$ref")]
        target: String,
    },
    Inline {
        description: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        headers: Option<BTreeMap<&'static str, HeaderObject>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        content: Option<BTreeMap<&'static str, MediaType>>,
    },
}

#[derive(Serialize)]
struct HeaderObject {
    description: &'static str,
    schema: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Components {
    security_schemes: BTreeMap<&'static str, SecurityScheme>,
    schemas: BTreeMap<&'static str, Value>,
    responses: BTreeMap<&'static str, ResponseObject>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecurityScheme {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheme: Option<&'static str>,
    #[serde(rename = "in", skip_serializing_if = "Option::is_none")]
    location: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'static str>,
    description: &'static str,
}

const DESCRIPTION: &str = "\
Steward is a project-management server. Its REST API follows the OpenProject API v3: \
HAL+JSON representations (`_type`, `_links`, `_embedded`), the same paths, filters \
(`filters=[{\"status\":{\"operator\":\"o\",\"values\":[]}}]`), sorting (`sortBy`), \
pagination (`offset` is a page number, `pageSize` at most 1000), forms and schemas, so \
that OpenProject clients work against it. Steward's own additions live under \
`/api/v3/my/*` (sign in and out with server-side sessions, sessions, password, API \
tokens), plus `/health` and this document.

Errors are answered in the API v3 error format (the `Error` schema): an \
`errorIdentifier` such as `urn:openproject-org:api:v3:errors:NotFound`, a message, and \
for an invalid attribute `_embedded.details.attribute`. When several attributes are \
invalid at once the answer is one `MultipleErrors` error (422, \"Multiple field \
constraints have been violated.\") whose `_embedded.errors` lists a \
PropertyConstraintViolation for each. A path no route serves is \
answered with 404 and the message `There is no such endpoint: METHOD PATH`; a known \
path with another method with 405.

Request bodies are JSON (`application/json` or `application/hal+json`); unknown \
properties are ignored and an empty body counts as `{}`. Repeated and trailing slashes \
in paths are ignored.";

fn security_requirement(names: &[&'static str]) -> BTreeMap<&'static str, [&'static str; 0]> {
    names.iter().map(|n| (*n, [])).collect()
}

fn any_credentials() -> Vec<BTreeMap<&'static str, [&'static str; 0]>> {
    vec![
        security_requirement(&["basicAuth"]),
        security_requirement(&["bearerAuth"]),
        security_requirement(&["cookieAuth"]),
    ]
}

fn param_schema(kind: ParamType) -> Value {
    match kind {
        ParamType::Id => json!({"type": "integer", "minimum": 1}),
        ParamType::Text => json!({"type": "string"}),
        ParamType::PageNumber => json!({"type": "integer", "minimum": 1, "default": 1}),
        ParamType::PageSize => {
            json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 20})
        }
    }
}

/// The schema of a successful body.
fn success_schema(returns: Returns) -> Option<Value> {
    match returns {
        Returns::Nothing => None,
        Returns::One("OpenApiDocument") => {
            Some(json!({"type": "object", "description": "This document."}))
        }
        Returns::One(name) => Some(schema_ref(name)),
        Returns::Page(kind, element) => Some(page_schema(kind, element)),
        Returns::All(element) => Some(whole_schema(element)),
        Returns::Text(_) => Some(json!({"type": "string"})),
    }
}

fn error_response_name(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthenticated",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        410 => "Gone",
        413 => "PayloadTooLarge",
        415 => "UnsupportedMediaType",
        422 => "InvalidProperties",
        other => panic!("no error response is described for status {other}"),
    }
}

fn operation_object(op: &Operation) -> OperationObject {
    let access_note = match op.auth {
        Auth::None => "No credentials needed.",
        Auth::Optional => {
            "Credentials are optional: without them the caller is anonymous, who is refused \
             (401) unless the instance lets anonymous visitors read public projects."
        }
        Auth::SignedIn => "Needs an authenticated user.",
        Auth::Admin => "Needs an administrator.",
    };
    let description = if op.description.is_empty() {
        access_note.to_string()
    } else {
        format!("{}\n\n{access_note}", op.description)
    };
    let security = match op.auth {
        Auth::None => Some(Vec::new()),
        Auth::Optional => {
            let mut s = vec![BTreeMap::new()];
            s.extend(any_credentials());
            Some(s)
        }
        Auth::SignedIn | Auth::Admin => None,
    };
    let mut parameters = Vec::new();
    for p in op.path_params {
        parameters.push(ParameterObject {
            name: p.name,
            location: "path",
            required: true,
            description: p.description,
            schema: param_schema(p.kind),
        });
    }
    for p in op.query {
        parameters.push(ParameterObject {
            name: p.name,
            location: "query",
            required: false,
            description: p.description,
            schema: param_schema(p.kind),
        });
    }
    let request_body = op.body.map(|name| {
        let media = MediaType {
            schema: schema_ref(name),
        };
        RequestBody {
            required: true,
            content: [
                ("application/json", media.clone()),
                ("application/hal+json", media),
            ]
            .into_iter()
            .collect(),
        }
    });
    let mut responses = BTreeMap::new();
    let content_type = match op.returns {
        Returns::Text(media) => media,
        _ if op.path == "/api/v3/openapi.json" => "application/json",
        _ => "application/hal+json",
    };
    let success_description = match op.returns {
        Returns::Nothing if op.status == 202 => "Accepted and done; no body.".to_string(),
        Returns::One(name) if op.status == 202 => {
            format!("Accepted: the {name}, which is completed in the background.")
        }
        Returns::Nothing => "Done; no body.".to_string(),
        Returns::One(name) if op.status == 201 => format!("Created: the new {name}."),
        Returns::One(name) => format!("The {name}."),
        Returns::Page(kind, element) => format!("A page of a {kind} of {element} elements."),
        Returns::All(element) => format!("Every {element}, in one Collection."),
        Returns::Text(media) => format!("A {media} document."),
    };
    let headers = (op.id == "sign_in").then(|| {
        [(
            "Set-Cookie",
            HeaderObject {
                description: "The session cookie (HttpOnly, SameSite=Lax).",
                schema: json!({"type": "string"}),
            },
        )]
        .into_iter()
        .collect()
    });
    responses.insert(
        op.status.to_string(),
        ResponseObject::Inline {
            description: success_description,
            headers,
            content: success_schema(op.returns)
                .map(|schema| [(content_type, MediaType { schema })].into_iter().collect()),
        },
    );
    if op.id == "health" {
        // The health check answers its own body, not an error, when the database does not.
        responses.insert(
            "503".into(),
            ResponseObject::Inline {
                description: "The database does not answer.".into(),
                headers: None,
                content: Some(
                    [(
                        "application/hal+json",
                        MediaType {
                            schema: schema_ref("Health"),
                        },
                    )]
                    .into_iter()
                    .collect(),
                ),
            },
        );
    }
    for status in op.errors {
        responses.insert(
            status.to_string(),
            ResponseObject::Ref {
                target: format!("#/components/responses/{}", error_response_name(*status)),
            },
        );
    }
    responses.insert(
        "default".into(),
        ResponseObject::Ref {
            target: "#/components/responses/Unexpected".into(),
        },
    );
    OperationObject {
        operation_id: op.id,
        summary: op.summary,
        description,
        tags: [op.tag],
        security,
        access: op.auth.as_str(),
        parameters,
        request_body,
        responses,
    }
}

fn error_responses() -> BTreeMap<&'static str, ResponseObject> {
    let list: &[(&str, &str)] = &[
        (
            "BadRequest",
            "The request is malformed: a query parameter (InvalidQuery) or the body \
             (InvalidRequestBody: not JSON, wrong shape).",
        ),
        (
            "Unauthenticated",
            "No valid credentials: the given ones are wrong, or the operation needs a user.",
        ),
        (
            "Forbidden",
            "The caller may not do this (MissingPermission), or a request authenticated by \
             the session cookie lacks the X-CSRF-Token header.",
        ),
        (
            "NotFound",
            "The resource does not exist, or the caller may not see it.",
        ),
        (
            "Conflict",
            "The change conflicts with the current state (UpdateConflict: a stale \
             lockVersion; Conflict).",
        ),
        (
            "Gone",
            "The resource existed and is gone for good (Gone): an export archive past its \
             expiry.",
        ),
        (
            "PayloadTooLarge",
            "The body is larger than the configured limit (InvalidRequestBody).",
        ),
        (
            "UnsupportedMediaType",
            "The body is not JSON (TypeNotSupported).",
        ),
        (
            "InvalidProperties",
            "A property is invalid (PropertyConstraintViolation); \
             `_embedded.details.attribute` names it. Several invalid properties are one \
             MultipleErrors error with each PropertyConstraintViolation in \
             `_embedded.errors`.",
        ),
        (
            "Unexpected",
            "An internal error (500) or a busy database (503); the X-Request-Id header \
             identifies the request in the server log.",
        ),
    ];
    list.iter()
        .map(|(name, description)| {
            let headers = (*name == "Unauthenticated").then(|| {
                [(
                    "WWW-Authenticate",
                    HeaderObject {
                        description: "`Basic realm=\"Steward API\"`.",
                        schema: json!({"type": "string"}),
                    },
                )]
                .into_iter()
                .collect()
            });
            (
                *name,
                ResponseObject::Inline {
                    description: (*description).to_string(),
                    headers,
                    content: Some(
                        [(
                            "application/hal+json",
                            MediaType {
                                schema: schema_ref("Error"),
                            },
                        )]
                        .into_iter()
                        .collect(),
                    ),
                },
            )
        })
        .collect()
}

fn security_schemes() -> BTreeMap<&'static str, SecurityScheme> {
    [
        (
            "basicAuth",
            SecurityScheme {
                kind: "http",
                scheme: Some("basic"),
                location: None,
                name: None,
                description: "HTTP Basic with the user name `apikey` and an API token as \
                              the password, as OpenProject clients send it. Create tokens \
                              with `POST /api/v3/my/api_tokens`.",
            },
        ),
        (
            "bearerAuth",
            SecurityScheme {
                kind: "http",
                scheme: Some("bearer"),
                location: None,
                name: None,
                description: "`Authorization: Bearer` with an API token.",
            },
        ),
        (
            "cookieAuth",
            SecurityScheme {
                kind: "apiKey",
                scheme: None,
                location: Some("cookie"),
                name: Some("steward_session"),
                description: "The session cookie that `POST /api/v3/my/session` sets (its \
                              name is configurable; `steward_session` by default). A request \
                              that changes data (any method but GET, HEAD and OPTIONS) \
                              authenticated by the cookie must carry the session's CSRF \
                              token (`csrfToken` of the session) in the `X-CSRF-Token` \
                              header, or it is refused with 403. An Authorization header, \
                              when present, is used instead of the cookie.",
            },
        ),
    ]
    .into_iter()
    .collect()
}

/// The whole document.
pub fn document() -> Document {
    let mut paths: BTreeMap<&'static str, PathItem> = BTreeMap::new();
    for op in OPERATIONS {
        let item = paths.entry(op.path).or_default();
        let slot = match op.method {
            Method::Get => &mut item.get,
            Method::Post => &mut item.post,
            Method::Patch => &mut item.patch,
            Method::Delete => &mut item.delete,
        };
        assert!(
            slot.is_none(),
            "{} {} is in the table twice",
            op.method.as_str(),
            op.path
        );
        *slot = Some(operation_object(op));
    }
    Document {
        openapi: "3.1.0",
        info: Info {
            title: "Steward API",
            version: env!("CARGO_PKG_VERSION"),
            description: DESCRIPTION,
            license: License {
                name: "AGPL-3.0-or-later",
                identifier: "AGPL-3.0-or-later",
            },
        },
        servers: vec![Server {
            url: "/",
            description: "This server.",
        }],
        tags: TAGS
            .iter()
            .map(|(name, description)| Tag { name, description })
            .collect(),
        security: any_credentials(),
        paths,
        components: Components {
            security_schemes: security_schemes(),
            schemas: schemas(),
            responses: error_responses(),
        },
    }
}

/// The document as JSON, built once.
pub static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| serde_json::to_string(&document()).expect("the OpenAPI document serialises"));

/// `GET /api/v3/openapi.json`.
pub async fn serve() -> Response {
    let mut res = DOCUMENT.as_str().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

// ---------------------------------------------------------------- schemas

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn ty(name: &str) -> Value {
    json!({"type": name})
}

fn string() -> Value {
    ty("string")
}

fn integer() -> Value {
    ty("integer")
}

fn boolean() -> Value {
    ty("boolean")
}

fn or_null(name: &str) -> Value {
    json!({"type": [name, "null"]})
}

fn datetime() -> Value {
    json!({"type": "string", "format": "date-time"})
}

fn date_or_null() -> Value {
    json!({"type": ["string", "null"], "format": "date"})
}

fn duration_or_null() -> Value {
    json!({"type": ["string", "null"], "description": "An ISO 8601 duration, as `PT5H`."})
}

fn constant(value: &str) -> Value {
    json!({"type": "string", "const": value})
}

fn one_of(values: &[&str]) -> Value {
    json!({"type": "string", "enum": values})
}

fn array(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

fn described(mut schema: Value, description: &str) -> Value {
    schema["description"] = Value::from(description);
    schema
}

/// An object: properties in order, the names of those always present.
fn object(properties: &[(&str, Value)], required: &[&str]) -> Value {
    let mut props = Map::new();
    for (name, schema) in properties {
        props.insert((*name).to_string(), schema.clone());
    }
    let mut o = json!({"type": "object", "properties": props});
    if !required.is_empty() {
        o["required"] = json!(required);
    }
    o
}

/// `_links`: the links always present and those present only when they apply.
fn links(always: &[&str], sometimes: &[&str]) -> Value {
    let props: Vec<(&str, Value)> = always
        .iter()
        .chain(sometimes)
        .map(|n| (*n, schema_ref("Link")))
        .collect();
    object(&props, always)
}

fn with_custom_fields(mut schema: Value, what: &str) -> Value {
    schema["additionalProperties"] = described(
        schema_ref(what),
        "`customFieldN`: the values (or, in `_links`, the links) of custom fields.",
    );
    schema
}

/// A page of a HAL collection whose elements have the schema `element`.
fn page_schema(kind: &str, element: &str) -> Value {
    let mut page = object(
        &[
            ("_type", constant(kind)),
            ("total", described(integer(), "Elements in all pages.")),
            ("count", described(integer(), "Elements in this page.")),
            ("pageSize", integer()),
            (
                "offset",
                described(integer(), "This page's number, from 1."),
            ),
            (
                "_embedded",
                object(&[("elements", array(schema_ref(element)))], &["elements"]),
            ),
            (
                "_links",
                links(
                    &["self", "jumpTo", "changeSize"],
                    &["previousByOffset", "nextByOffset"],
                ),
            ),
        ],
        &[
            "_type",
            "total",
            "count",
            "pageSize",
            "offset",
            "_embedded",
            "_links",
        ],
    );
    if kind == "WorkPackageCollection" {
        page["properties"]["groups"] = described(
            array(object(
                &[
                    ("_type", constant("GroupBy")),
                    ("value", or_null("string")),
                    ("count", integer()),
                    (
                        "_links",
                        object(
                            &[
                                ("valueLink", array(schema_ref("Link"))),
                                ("groupBy", schema_ref("Link")),
                            ],
                            &["valueLink", "groupBy"],
                        ),
                    ),
                ],
                &["_type", "value", "count", "_links"],
            )),
            "With `groupBy`: each value (\"not set\" last) and how many matching work packages have it.",
        );
    }
    page
}

/// A whole collection in one answer.
fn whole_schema(element: &str) -> Value {
    object(
        &[
            ("_type", constant("Collection")),
            ("total", integer()),
            ("count", integer()),
            (
                "_embedded",
                object(&[("elements", array(schema_ref(element)))], &["elements"]),
            ),
            ("_links", links(&[], &["self"])),
        ],
        &["_type", "total", "count", "_embedded"],
    )
}

fn text_input() -> Value {
    json!({
        "description": "Formatted text: a string, or `{\"raw\": \"...\"}` (markdown).",
        "anyOf": [
            {"type": "string"},
            {"type": "object", "properties": {"raw": {"type": ["string", "null"]}}}
        ]
    })
}

fn link_input() -> Value {
    json!({
        "description": "A link to a resource: `{\"href\": \"/api/v3/...\"}`; `null` (or a \
                        null href) clears it.",
        "type": ["object", "null"],
        "properties": {"href": {"type": ["string", "null"]}}
    })
}

/// Every schema of the components.
fn schemas() -> BTreeMap<&'static str, Value> {
    let mut s = BTreeMap::new();
    s.insert(
        "Error",
        described(
            object(
                &[
                    ("_type", constant("Error")),
                    (
                        "errorIdentifier",
                        described(
                            string(),
                            "`urn:openproject-org:api:v3:errors:` and one of InvalidQuery, \
                             InvalidRequestBody, PropertyConstraintViolation, \
                             MultipleErrors, Unauthenticated, MissingPermission, NotFound, \
                             MethodNotAllowed, UpdateConflict, Conflict, TypeNotSupported, \
                             ServiceUnavailable, InternalServerError.",
                        ),
                    ),
                    ("message", string()),
                    (
                        "_embedded",
                        object(
                            &[
                                (
                                    "details",
                                    object(&[("attribute", string())], &["attribute"]),
                                ),
                                (
                                    "errors",
                                    described(
                                        array(schema_ref("Error")),
                                        "The errors a MultipleErrors error aggregates.",
                                    ),
                                ),
                            ],
                            &[],
                        ),
                    ),
                ],
                &["_type", "errorIdentifier", "message"],
            ),
            "The API v3 error object. `_embedded.details.attribute` names the invalid \
             attribute of a PropertyConstraintViolation; `_embedded.errors` holds the \
             errors of a MultipleErrors error.",
        ),
    );
    s.insert(
        "Link",
        object(
            &[
                ("href", or_null("string")),
                ("title", string()),
                (
                    "method",
                    described(string(), "The method to use, when not GET."),
                ),
                (
                    "templated",
                    described(boolean(), "The href has `{placeholders}`."),
                ),
            ],
            &["href"],
        ),
    );
    s.insert(
        "Formattable",
        object(
            &[
                ("format", one_of(&["markdown", "custom"])),
                ("raw", string()),
                (
                    "html",
                    described(
                        string(),
                        "The Markdown rendered: raw HTML escaped; links only to http, https, \
                         mailto and relative targets; images on other hosts as links unless \
                         remoteImagesInTexts is on; mentions linked to the user, #123 to the \
                         work package, bare URLs linked.",
                    ),
                ),
            ],
            &["format", "raw"],
        ),
    );
    s.insert(
        "Collection",
        described(
            page_schema("Collection", "CollectionElement"),
            "A page of a HAL collection. `_type` is `Collection` (or \
             `WorkPackageCollection`); `offset` is the page number.",
        ),
    );
    s.insert(
        "CollectionElement",
        json!({"type": "object", "description": "Any resource."}),
    );
    s.insert(
        "CustomValue",
        json!({
            "description": "The value of a custom field: text, a number, a boolean, a \
                            date (YYYY-MM-DD), formatted text, or null.",
            "anyOf": [
                {"type": ["string", "integer", "number", "boolean", "null"]},
                schema_ref("Formattable")
            ]
        }),
    );
    s.insert(
        "Root",
        object(
            &[
                ("_type", constant("Root")),
                ("instanceName", string()),
                ("coreVersion", string()),
                ("_links", links(&["self", "users"], &["user"])),
            ],
            &["_type", "instanceName", "coreVersion", "_links"],
        ),
    );
    s.insert(
        "Health",
        object(
            &[
                ("status", one_of(&["ok", "unavailable"])),
                ("database", one_of(&["sqlite", "postgres"])),
                ("message", described(string(), "Why the check failed.")),
            ],
            &["status", "database"],
        ),
    );
    s.insert("User", user_schema());
    s.insert(
        "UserReduced",
        described(
            object(
                &[
                    ("_type", constant("User")),
                    ("id", integer()),
                    ("name", string()),
                    ("_links", links(&["self"], &[])),
                ],
                &["_type", "id", "name", "_links"],
            ),
            "What others see of a user.",
        ),
    );
    s.insert(
        "Group",
        object(
            &[
                ("_type", constant("Group")),
                ("id", integer()),
                ("name", string()),
                ("createdAt", datetime()),
                ("updatedAt", datetime()),
                (
                    "_links",
                    object(
                        &[
                            ("self", schema_ref("Link")),
                            ("memberships", schema_ref("Link")),
                            (
                                "members",
                                described(array(schema_ref("Link")), "The members, when shown."),
                            ),
                            ("updateImmediately", schema_ref("Link")),
                            ("delete", schema_ref("Link")),
                        ],
                        &["self", "memberships"],
                    ),
                ),
                (
                    "_embedded",
                    described(
                        object(&[("members", array(schema_ref("Principal")))], &["members"]),
                        "The members, when shown.",
                    ),
                ),
            ],
            &["_type", "id", "name", "createdAt", "updatedAt", "_links"],
        ),
    );
    s.insert(
        "Principal",
        json!({
            "description": "A user (full or reduced) or a group.",
            "anyOf": [schema_ref("User"), schema_ref("UserReduced"), schema_ref("Group")]
        }),
    );
    s.insert(
        "Session",
        object(
            &[
                ("_type", constant("Session")),
                ("id", integer()),
                (
                    "current",
                    described(boolean(), "This is the session making the request."),
                ),
                ("userAgent", or_null("string")),
                ("ipAddress", or_null("string")),
                ("createdAt", datetime()),
                ("lastSeenAt", datetime()),
                (
                    "csrfToken",
                    described(
                        string(),
                        "Only on the current session: send it as X-CSRF-Token with \
                         requests that change data.",
                    ),
                ),
                (
                    "_embedded",
                    object(&[("user", schema_ref("User"))], &["user"]),
                ),
                ("_links", links(&["self", "revoke"], &[])),
            ],
            &[
                "_type",
                "id",
                "current",
                "userAgent",
                "ipAddress",
                "createdAt",
                "lastSeenAt",
                "_links",
            ],
        ),
    );
    s.insert(
        "ApiToken",
        object(
            &[
                ("_type", constant("ApiToken")),
                ("id", integer()),
                ("name", string()),
                ("createdAt", datetime()),
                (
                    "lastUsedAt",
                    json!({"type": ["string", "null"], "format": "date-time"}),
                ),
                (
                    "token",
                    described(string(), "The secret: only in the answer to the creation."),
                ),
                ("_links", links(&["self", "revoke"], &[])),
            ],
            &["_type", "id", "name", "createdAt", "lastUsedAt", "_links"],
        ),
    );
    s.insert("Project", project_schema());
    s.insert("ProjectForm", project_form_schema());
    s.insert("WorkPackage", work_package_schema());
    s.insert(
        "WorkPackageMeta",
        object(
            &[
                ("timestamp", string()),
                ("exists", boolean()),
                ("matchesFilters", boolean()),
            ],
            &["timestamp", "exists", "matchesFilters"],
        ),
    );
    s.insert("HistoricAttributes", historic_schema());
    s.insert("WorkPackageSchema", work_package_schema_schema());
    s.insert("SchemaField", schema_field_schema());
    s.insert("WorkPackageForm", work_package_form_schema());
    s.insert("Activity", activity_schema());
    s.insert("Membership", membership_schema());
    s.insert("AuditEvent", audit_event_schema());
    s.insert(
        "Role",
        object(
            &[
                ("_type", constant("Role")),
                ("id", integer()),
                ("name", string()),
                (
                    "permissions",
                    described(
                        array(string()),
                        "The permissions the role gives, as API v3 names them.",
                    ),
                ),
                ("_links", links(&["self"], &[])),
            ],
            &["_type", "id", "name", "permissions", "_links"],
        ),
    );
    s.insert(
        "Status",
        object(
            &[
                ("_type", constant("Status")),
                ("id", integer()),
                ("name", string()),
                ("isClosed", boolean()),
                ("isDefault", boolean()),
                ("isReadonly", boolean()),
                ("color", string()),
                ("position", integer()),
                ("_links", links(&["self"], &[])),
            ],
            &[
                "_type",
                "id",
                "name",
                "isClosed",
                "isDefault",
                "isReadonly",
                "color",
                "position",
                "_links",
            ],
        ),
    );
    s.insert(
        "Type",
        object(
            &[
                ("_type", constant("Type")),
                ("id", integer()),
                ("name", string()),
                ("color", string()),
                ("position", integer()),
                ("isDefault", boolean()),
                ("isMilestone", boolean()),
                ("_links", links(&["self"], &[])),
            ],
            &[
                "_type",
                "id",
                "name",
                "color",
                "position",
                "isDefault",
                "isMilestone",
                "_links",
            ],
        ),
    );
    s.insert(
        "Priority",
        object(
            &[
                ("_type", constant("Priority")),
                ("id", integer()),
                ("name", string()),
                ("position", integer()),
                ("color", string()),
                ("isDefault", boolean()),
                ("isActive", boolean()),
                ("_links", links(&["self"], &[])),
            ],
            &[
                "_type",
                "id",
                "name",
                "position",
                "color",
                "isDefault",
                "isActive",
                "_links",
            ],
        ),
    );
    s.insert(
        "Version",
        object(
            &[
                ("_type", constant("Version")),
                ("id", integer()),
                ("name", string()),
                ("description", schema_ref("Formattable")),
                ("startDate", date_or_null()),
                ("endDate", date_or_null()),
                ("status", one_of(&["open", "locked", "closed"])),
                (
                    "sharing",
                    described(constant("none"), "Versions are not shared."),
                ),
                ("createdAt", datetime()),
                ("updatedAt", datetime()),
                (
                    "_links",
                    links(&["self", "definingProject", "availableInProjects"], &[]),
                ),
            ],
            &[
                "_type",
                "id",
                "name",
                "description",
                "startDate",
                "endDate",
                "status",
                "sharing",
                "createdAt",
                "updatedAt",
                "_links",
            ],
        ),
    );
    s.insert(
        "CustomField",
        object(
            &[
                (
                    "_type",
                    one_of(&["WorkPackageCustomField", "UserCustomField"]),
                ),
                ("id", integer()),
                ("name", string()),
                (
                    "fieldFormat",
                    one_of(&[
                        "string", "text", "int", "float", "date", "bool", "list", "user",
                    ]),
                ),
                (
                    "attribute",
                    described(
                        string(),
                        "The property under which values appear: `customFieldN`.",
                    ),
                ),
                ("isRequired", boolean()),
                ("position", integer()),
                (
                    "possibleValues",
                    described(array(string()), "The choices of a list field."),
                ),
                ("createdAt", datetime()),
                (
                    "_links",
                    object(
                        &[
                            ("self", schema_ref("Link")),
                            (
                                "customOptions",
                                described(
                                    array(schema_ref("Link")),
                                    "The choices of a list field, as links.",
                                ),
                            ),
                        ],
                        &["self"],
                    ),
                ),
            ],
            &[
                "_type",
                "id",
                "name",
                "fieldFormat",
                "attribute",
                "isRequired",
                "position",
                "createdAt",
                "_links",
            ],
        ),
    );
    s.insert(
        "CustomOption",
        object(
            &[
                ("_type", constant("CustomOption")),
                ("id", integer()),
                ("value", string()),
                ("_links", links(&["self"], &[])),
            ],
            &["_type", "id", "value", "_links"],
        ),
    );
    s.insert(
        "Settings",
        object(
            &[
                ("_type", constant("Settings")),
                (
                    "anonymousAccessPublicProjects",
                    described(boolean(), "Anonymous visitors may read public projects."),
                ),
                (
                    "usersDeletableByAdmins",
                    described(
                        boolean(),
                        "Administrators may delete (erase) users. On by default.",
                    ),
                ),
                (
                    "usersDeletableBySelf",
                    described(
                        boolean(),
                        "People may delete their own account. Off by default.",
                    ),
                ),
                (
                    "sessionIdleTimeoutMinutes",
                    described(
                        integer(),
                        "A session ends after this many minutes without a request. \
                         Defaults to the configuration's session.idle_timeout_minutes.",
                    ),
                ),
                (
                    "sessionAbsoluteLifetimeHours",
                    described(
                        integer(),
                        "A session ends this many hours after sign-in, however active. \
                         Defaults to the configuration's session.absolute_lifetime_hours.",
                    ),
                ),
                (
                    "remoteImagesInTexts",
                    described(
                        boolean(),
                        "Texts show images from other hosts as images (each reader's browser \
                         then fetches them, and those hosts learn the reader's IP address); \
                         otherwise as links. Off by default.",
                    ),
                ),
                ("_links", links(&["self", "updateImmediately"], &[])),
            ],
            &[
                "_type",
                "anonymousAccessPublicProjects",
                "usersDeletableByAdmins",
                "usersDeletableBySelf",
                "sessionIdleTimeoutMinutes",
                "sessionAbsoluteLifetimeHours",
                "remoteImagesInTexts",
                "_links",
            ],
        ),
    );
    s.insert("Job", job_schema());
    s.insert("PersonalDataExport", export_schema());
    request_schemas(&mut s);
    gdpr_schemas(&mut s);
    s
}

fn gdpr_schemas(s: &mut BTreeMap<&'static str, Value>) {
    let scrubbed = object(
        &[
            ("table", string()),
            ("column", string()),
            ("action", string()),
            ("rows", integer()),
        ],
        &["table", "column", "action", "rows"],
    );
    let hit = object(
        &[
            ("table", string()),
            ("column", string()),
            ("row", described(string(), "The row's key (id).")),
            ("found", one_of(&["user id", "secret hash", "text"])),
            ("class", one_of(&["residue", "free_text", "held"])),
        ],
        &["table", "column", "row", "found", "class"],
    );
    s.insert(
        "ErasurePreview",
        object(
            &[
                ("_type", constant("ErasurePreview")),
                ("userId", integer()),
                ("changes", array(scrubbed.clone())),
                ("textsWithMentions", integer()),
                ("textsForReview", integer()),
                ("ownContributions", integer()),
                ("_links", links(&["self", "user", "delete"], &[])),
            ],
            &[
                "_type",
                "userId",
                "changes",
                "textsWithMentions",
                "textsForReview",
                "ownContributions",
                "_links",
            ],
        ),
    );
    let certificate = object(
        &[
            ("format", constant("steward.erasure-certificate")),
            ("format_version", integer()),
            ("certificate_id", integer()),
            (
                "subject",
                described(
                    object(
                        &[("hash", string()), ("salt", string()), ("method", string())],
                        &["hash", "salt", "method"],
                    ),
                    "A salted SHA-256 of the erased id: nothing else of the person.",
                ),
            ),
            ("requested_at", datetime()),
            ("completed_at", datetime()),
            ("duration_ms", ty("number")),
            (
                "requested_by",
                object(
                    &[
                        (
                            "kind",
                            one_of(&["administrator", "data subject", "operator"]),
                        ),
                        ("user_id", integer()),
                    ],
                    &["kind"],
                ),
            ),
            ("scrubbed", array(scrubbed)),
            ("rows_scrubbed", integer()),
            ("redaction_queue_entries", integer()),
            (
                "scan",
                object(
                    &[
                        ("clean", boolean()),
                        ("tables_checked", integer()),
                        ("columns_checked", integer()),
                        ("residue", integer()),
                        ("free_text_occurrences", integer()),
                        ("request_log_lines", integer()),
                        ("cache_entries", integer()),
                    ],
                    &["clean", "residue"],
                ),
            ),
        ],
        &[
            "format",
            "format_version",
            "certificate_id",
            "subject",
            "scrubbed",
            "scan",
        ],
    );
    s.insert(
        "ErasureCertificate",
        object(
            &[
                ("_type", constant("ErasureCertificate")),
                ("id", integer()),
                ("alreadyErased", boolean()),
                ("certificate", certificate),
                ("_links", links(&["self", "text"], &[])),
            ],
            &["_type", "id", "alreadyErased", "certificate", "_links"],
        ),
    );
    s.insert(
        "ErasureCertificateSummary",
        object(
            &[
                ("_type", constant("ErasureCertificate")),
                ("id", integer()),
                ("requestedAt", datetime()),
                ("completedAt", datetime()),
                ("subjectHash", string()),
                ("_links", links(&["self", "text", "requestedBy"], &[])),
            ],
            &[
                "_type",
                "id",
                "requestedAt",
                "completedAt",
                "subjectHash",
                "_links",
            ],
        ),
    );
    s.insert(
        "ResidueScan",
        object(
            &[
                ("_type", constant("ResidueScan")),
                ("clean", boolean()),
                ("tablesChecked", integer()),
                ("columnsChecked", integer()),
                ("residue", array(hit.clone())),
                ("freeText", array(hit.clone())),
                ("heldForRedaction", array(hit)),
                ("requestLogLines", integer()),
                ("cacheEntries", integer()),
            ],
            &["_type", "clean", "residue", "freeText", "heldForRedaction"],
        ),
    );
    s.insert(
        "RedactionEntry",
        object(
            &[
                ("_type", constant("RedactionEntry")),
                ("id", integer()),
                ("table", string()),
                ("column", string()),
                ("rowId", integer()),
                ("status", one_of(&["open", "redacted", "dismissed"])),
                (
                    "contexts",
                    described(
                        array(string()),
                        "The text around each occurrence, while open.",
                    ),
                ),
                ("createdAt", datetime()),
                (
                    "resolvedAt",
                    json!({"type": ["string", "null"], "format": "date-time"}),
                ),
                (
                    "_links",
                    links(
                        &["self", "certificate"],
                        &["resolvedBy", "redact", "dismiss"],
                    ),
                ),
            ],
            &[
                "_type", "id", "table", "column", "rowId", "status", "contexts", "_links",
            ],
        ),
    );
    s.insert(
        "RecordOfProcessing",
        described(
            json!({"type": "object"}),
            "The record of processing activities: groups, categories with their data items, \
             security measures, cookies and recipients (see `steward gdpr record --format json`).",
        ),
    );
    s.insert(
        "ErasureWrite",
        object(
            &[
                (
                    "user",
                    described(
                        json!({"type": ["integer", "string"]}),
                        "The user's id or login.",
                    ),
                ),
                ("_links", object(&[("user", schema_ref("LinkInput"))], &[])),
            ],
            &[],
        ),
    );
    s.insert(
        "ScanWrite",
        object(
            &[
                (
                    "user",
                    described(
                        json!({"type": ["integer", "string"]}),
                        "An existing user's id or login.",
                    ),
                ),
                ("id", integer()),
                ("login", string()),
                ("email", string()),
                ("firstName", string()),
                ("lastName", string()),
            ],
            &[],
        ),
    );
}

fn export_schema() -> Value {
    let timestamp_or_null = || json!({"type": ["string", "null"], "format": "date-time"});
    described(
        object(
            &[
                ("_type", constant("PersonalDataExport")),
                ("id", integer()),
                (
                    "status",
                    one_of(&["queued", "running", "ready", "failed", "expired"]),
                ),
                (
                    "format",
                    described(
                        constant("steward.personal-data-export"),
                        "The format of `personal-data.json` in the archive.",
                    ),
                ),
                ("formatVersion", integer()),
                (
                    "sizeBytes",
                    described(or_null("integer"), "The archive's size, once ready."),
                ),
                (
                    "sha256",
                    described(or_null("string"), "The archive's SHA-256 (hex), once ready."),
                ),
                (
                    "error",
                    described(or_null("string"), "Why the last attempt failed."),
                ),
                ("createdAt", datetime()),
                ("completedAt", timestamp_or_null()),
                (
                    "expiresAt",
                    described(
                        timestamp_or_null(),
                        "When the archive is deleted (gdpr.export_expiry_hours after it was ready).",
                    ),
                ),
                (
                    "_links",
                    links(&["self", "user", "requestedBy"], &["download"]),
                ),
            ],
            &[
                "_type",
                "id",
                "status",
                "format",
                "formatVersion",
                "sizeBytes",
                "sha256",
                "error",
                "createdAt",
                "completedAt",
                "expiresAt",
                "_links",
            ],
        ),
        "A per-person export (GDPR Art. 15 and 20) and its archive. `_links.download` is \
         there while the archive is ready.",
    )
}

fn job_schema() -> Value {
    let timestamp_or_null = || json!({"type": ["string", "null"], "format": "date-time"});
    described(
        object(
            &[
                ("_type", constant("Job")),
                ("id", integer()),
                (
                    "kind",
                    described(string(), "Names the handler, as `retention.sessions`."),
                ),
                ("status", one_of(&["queued", "running", "done", "failed"])),
                (
                    "payload",
                    described(
                        json!({}),
                        "The job's input as enqueued: ids of other records, never personal data.",
                    ),
                ),
                (
                    "runAt",
                    described(datetime(), "When the job is (or was) due."),
                ),
                (
                    "attempts",
                    described(integer(), "Attempts started, including a running one."),
                ),
                ("maxAttempts", integer()),
                (
                    "lockedBy",
                    described(
                        or_null("string"),
                        "The worker (`host:pid:id`) that runs or last ran the job.",
                    ),
                ),
                (
                    "lockedUntil",
                    described(
                        timestamp_or_null(),
                        "While running: when the worker's lease ends unless renewed.",
                    ),
                ),
                (
                    "lastError",
                    described(or_null("string"), "The error of the last failed attempt."),
                ),
                ("createdAt", datetime()),
                ("updatedAt", datetime()),
                ("finishedAt", timestamp_or_null()),
                ("_links", links(&["self"], &["retry"])),
            ],
            &[
                "_type",
                "id",
                "kind",
                "status",
                "payload",
                "runAt",
                "attempts",
                "maxAttempts",
                "lockedBy",
                "lockedUntil",
                "lastError",
                "createdAt",
                "updatedAt",
                "finishedAt",
                "_links",
            ],
        ),
        "A background job (a Steward extension).",
    )
}

fn user_schema() -> Value {
    let mut user_links = links(
        &["self", "showUser"],
        &["updateImmediately", "lock", "unlock"],
    );
    user_links = with_custom_fields(user_links, "Link");
    with_custom_fields(
        described(
            object(
                &[
                    ("_type", constant("User")),
                    ("id", integer()),
                    ("name", string()),
                    ("login", string()),
                    ("firstName", string()),
                    ("lastName", string()),
                    ("email", or_null("string")),
                    ("admin", boolean()),
                    ("avatar", string()),
                    (
                        "status",
                        one_of(&["active", "registered", "invited", "locked"]),
                    ),
                    ("language", string()),
                    ("timeZone", string()),
                    ("identityUrl", or_null("string")),
                    ("createdAt", datetime()),
                    ("updatedAt", datetime()),
                    ("_links", user_links),
                ],
                &[
                    "_type",
                    "id",
                    "name",
                    "login",
                    "firstName",
                    "lastName",
                    "email",
                    "admin",
                    "avatar",
                    "status",
                    "language",
                    "timeZone",
                    "identityUrl",
                    "createdAt",
                    "updatedAt",
                    "_links",
                ],
            ),
            "The full representation of a user, which the user themself and \
             administrators see; it carries the user custom fields.",
        ),
        "CustomValue",
    )
}

fn project_schema() -> Value {
    object(
        &[
            ("_type", constant("Project")),
            ("id", integer()),
            ("identifier", string()),
            ("name", string()),
            (
                "active",
                described(boolean(), "False when the project is archived."),
            ),
            ("public", boolean()),
            ("description", schema_ref("Formattable")),
            ("createdAt", datetime()),
            ("updatedAt", datetime()),
            (
                "_links",
                links(
                    &[
                        "self",
                        "parent",
                        "workPackages",
                        "memberships",
                        "versions",
                        "types",
                    ],
                    &[
                        "createWorkPackage",
                        "createWorkPackageImmediate",
                        "update",
                        "updateImmediately",
                        "delete",
                    ],
                ),
            ),
        ],
        &[
            "_type",
            "id",
            "identifier",
            "name",
            "active",
            "public",
            "description",
            "createdAt",
            "updatedAt",
            "_links",
        ],
    )
}

fn form_links() -> Value {
    links(&["self", "validate"], &["commit"])
}

fn validation_errors() -> Value {
    json!({
        "type": "object",
        "description": "The errors a write would meet, by attribute (a MultipleErrors error for an attribute with several); empty when it would succeed.",
        "additionalProperties": schema_ref("Error")
    })
}

fn project_form_schema() -> Value {
    object(
        &[
            ("_type", constant("Form")),
            (
                "_embedded",
                object(
                    &[
                        (
                            "payload",
                            object(
                                &[
                                    ("name", string()),
                                    ("identifier", string()),
                                    ("description", schema_ref("Formattable")),
                                    ("public", boolean()),
                                    ("active", boolean()),
                                    ("_links", links(&["parent"], &[])),
                                ],
                                &[
                                    "name",
                                    "identifier",
                                    "description",
                                    "public",
                                    "active",
                                    "_links",
                                ],
                            ),
                        ),
                        (
                            "schema",
                            object(
                                &[
                                    ("_type", constant("Schema")),
                                    ("_links", json!({"type": "object"})),
                                ],
                                &["_type", "_links"],
                            ),
                        ),
                        ("validationErrors", validation_errors()),
                    ],
                    &["payload", "schema", "validationErrors"],
                ),
            ),
            ("_links", form_links()),
        ],
        &["_type", "_embedded", "_links"],
    )
}

fn work_package_schema() -> Value {
    let wp_links = with_custom_fields(
        links(
            &[
                "self",
                "schema",
                "activities",
                "project",
                "type",
                "status",
                "priority",
                "author",
                "assignee",
                "responsible",
                "version",
                "parent",
            ],
            &["update", "updateImmediately", "delete", "addComment"],
        ),
        "Link",
    );
    with_custom_fields(
        object(
            &[
                ("_type", constant("WorkPackage")),
                ("id", integer()),
                (
                    "lockVersion",
                    described(integer(), "Send it back with a change."),
                ),
                ("subject", string()),
                ("description", schema_ref("Formattable")),
                ("scheduleManually", boolean()),
                (
                    "startDate",
                    described(date_or_null(), "Null for milestones, which have `date`."),
                ),
                ("dueDate", date_or_null()),
                (
                    "date",
                    described(date_or_null(), "Only on milestones: their one date."),
                ),
                ("derivedStartDate", date_or_null()),
                ("derivedDueDate", date_or_null()),
                (
                    "duration",
                    json!({"type": ["string", "null"], "description": "Days from start to finish, as `P3D`."}),
                ),
                ("estimatedTime", duration_or_null()),
                ("derivedEstimatedTime", duration_or_null()),
                ("remainingTime", duration_or_null()),
                ("percentageDone", or_null("integer")),
                ("createdAt", datetime()),
                ("updatedAt", datetime()),
                (
                    "_meta",
                    described(schema_ref("WorkPackageMeta"), "With `timestamps` only."),
                ),
                (
                    "_embedded",
                    described(
                        object(
                            &[(
                                "attributesByTimestamp",
                                array(schema_ref("HistoricAttributes")),
                            )],
                            &["attributesByTimestamp"],
                        ),
                        "With `timestamps` only.",
                    ),
                ),
                ("_links", wp_links),
            ],
            &[
                "_type",
                "id",
                "lockVersion",
                "subject",
                "description",
                "scheduleManually",
                "startDate",
                "dueDate",
                "derivedStartDate",
                "derivedDueDate",
                "duration",
                "estimatedTime",
                "derivedEstimatedTime",
                "remainingTime",
                "percentageDone",
                "createdAt",
                "updatedAt",
                "_links",
            ],
        ),
        "CustomValue",
    )
}

fn historic_schema() -> Value {
    described(
        object(
            &[
                ("subject", string()),
                ("startDate", date_or_null()),
                ("dueDate", date_or_null()),
                ("estimatedTime", duration_or_null()),
                ("percentageDone", or_null("integer")),
                (
                    "_meta",
                    json!({"anyOf": [schema_ref("WorkPackageMeta"), {"type": "null"}]}),
                ),
                (
                    "_links",
                    links(
                        &["self"],
                        &[
                            "status",
                            "type",
                            "priority",
                            "project",
                            "assignee",
                            "responsible",
                        ],
                    ),
                ),
            ],
            &["_meta", "_links"],
        ),
        "A work package at one of the `timestamps`: only the attributes that differ \
         from now.",
    )
}

fn schema_field_schema() -> Value {
    described(
        object(
            &[
                ("type", string()),
                ("name", string()),
                ("required", boolean()),
                ("hasDefault", boolean()),
                ("writable", boolean()),
                ("minLength", integer()),
                ("maxLength", integer()),
                (
                    "location",
                    described(constant("_links"), "Given under `_links`."),
                ),
                (
                    "_links",
                    object(
                        &[(
                            "allowedValues",
                            json!({
                                "description": "The values themselves, or where to fetch them.",
                                "anyOf": [array(schema_ref("Link")), schema_ref("Link")]
                            }),
                        )],
                        &["allowedValues"],
                    ),
                ),
            ],
            &["type", "name", "required", "hasDefault", "writable"],
        ),
        "The description of one attribute.",
    )
}

fn work_package_schema_schema() -> Value {
    let field = || schema_ref("SchemaField");
    let mut props: Vec<(&str, Value)> = vec![
        ("_type", constant("Schema")),
        ("_dependencies", array(string())),
    ];
    let always = [
        "id",
        "lockVersion",
        "subject",
        "description",
        "estimatedTime",
        "remainingTime",
        "percentageDone",
        "createdAt",
        "updatedAt",
        "project",
        "type",
        "status",
        "priority",
        "author",
        "assignee",
        "responsible",
        "parent",
        "version",
    ];
    for name in always {
        props.push((name, field()));
    }
    for name in ["startDate", "dueDate", "date"] {
        props.push((
            name,
            described(
                field(),
                "`date` for milestone types, `startDate` and `dueDate` for the others.",
            ),
        ));
    }
    props.push(("_links", links(&[], &["self"])));
    let mut required = vec!["_type", "_dependencies", "_links"];
    required.extend(always);
    object(&props, &required)
}

fn work_package_form_schema() -> Value {
    let payload = object(
        &[
            ("lockVersion", integer()),
            ("subject", string()),
            ("description", schema_ref("Formattable")),
            ("startDate", date_or_null()),
            ("dueDate", date_or_null()),
            ("date", date_or_null()),
            ("estimatedTime", duration_or_null()),
            ("remainingTime", duration_or_null()),
            ("percentageDone", or_null("integer")),
            (
                "_links",
                links(
                    &[
                        "project",
                        "type",
                        "status",
                        "priority",
                        "assignee",
                        "responsible",
                        "parent",
                        "version",
                    ],
                    &[],
                ),
            ),
        ],
        &[
            "subject",
            "description",
            "estimatedTime",
            "remainingTime",
            "percentageDone",
            "_links",
        ],
    );
    object(
        &[
            ("_type", constant("Form")),
            (
                "_embedded",
                object(
                    &[
                        (
                            "payload",
                            described(
                                payload,
                                "The values a write with the posted body would store.",
                            ),
                        ),
                        ("schema", schema_ref("WorkPackageSchema")),
                        ("validationErrors", validation_errors()),
                    ],
                    &["payload", "schema", "validationErrors"],
                ),
            ),
            ("_links", form_links()),
        ],
        &["_type", "_embedded", "_links"],
    )
}

fn activity_schema() -> Value {
    object(
        &[
            (
                "_type",
                described(
                    one_of(&["Activity", "Activity::Comment"]),
                    "`Activity::Comment` when the activity has a comment.",
                ),
            ),
            ("id", integer()),
            (
                "version",
                described(integer(), "The work package's version this activity made."),
            ),
            ("comment", schema_ref("Formattable")),
            (
                "details",
                described(
                    array(schema_ref("Formattable")),
                    "The changes in words, as text and HTML.",
                ),
            ),
            (
                "edited",
                described(
                    boolean(),
                    "The comment was changed after it was written (a Steward addition).",
                ),
            ),
            ("createdAt", datetime()),
            ("updatedAt", datetime()),
            (
                "_links",
                links(&["self", "workPackage", "user"], &["update"]),
            ),
        ],
        &[
            "_type",
            "id",
            "version",
            "comment",
            "details",
            "edited",
            "createdAt",
            "updatedAt",
            "_links",
        ],
    )
}

fn membership_schema() -> Value {
    object(
        &[
            ("_type", constant("Membership")),
            ("id", integer()),
            ("createdAt", datetime()),
            ("updatedAt", datetime()),
            (
                "_links",
                object(
                    &[
                        ("self", schema_ref("Link")),
                        (
                            "project",
                            described(
                                schema_ref("Link"),
                                "Absent for a membership with global roles.",
                            ),
                        ),
                        (
                            "principal",
                            described(schema_ref("Link"), "A user or a group."),
                        ),
                        ("roles", array(schema_ref("Link"))),
                        ("update", schema_ref("Link")),
                        ("updateImmediately", schema_ref("Link")),
                        ("delete", schema_ref("Link")),
                    ],
                    &["self", "principal", "roles"],
                ),
            ),
        ],
        &["_type", "id", "createdAt", "updatedAt", "_links"],
    )
}

fn audit_event_schema() -> Value {
    object(
        &[
            ("_type", constant("AuditEvent")),
            ("id", integer()),
            ("createdAt", datetime()),
            ("category", one_of(&["security", "access"])),
            (
                "event",
                described(
                    string(),
                    "What happened: `login.succeeded`, `login.failed`, `login.lockout`, \
                     `logout`, `password.changed`, `api_token.created`, `api_token.revoked`, \
                     `session.revoked`, `membership.created`/`updated`/`deleted`, \
                     `group.created`/`deleted`/`member_added`/`member_removed`, \
                     `user.created`, `user.admin_granted`, `user.admin_revoked`, \
                     `user.locked`, `user.unlocked`, `settings.changed`, \
                     `personal_data.viewed`, `personal_data.edited`, \
                     `personal_data.exported`, `personal_data.erased`, ...",
                ),
            ),
            (
                "requestId",
                described(
                    or_null("string"),
                    "The X-Request-Id of the request that caused it; null from the command \
                     line and background jobs.",
                ),
            ),
            (
                "details",
                json!({
                    "type": "object",
                    "description": "Ids, counts and field names (such as `reason` of a failed \
                                    sign-in or the `fields` edited); never personal values."
                }),
            ),
            (
                "_links",
                object(
                    &[
                        ("self", schema_ref("Link")),
                        (
                            "actor",
                            described(
                                schema_ref("Link"),
                                "Who acted; `href` null for nobody (a failed sign-in, the \
                                 command line, the system).",
                            ),
                        ),
                        (
                            "targetUser",
                            described(
                                schema_ref("Link"),
                                "Whose account or data it concerned; `href` null when no one \
                                 person (a list, a setting).",
                            ),
                        ),
                    ],
                    &["self", "actor", "targetUser"],
                ),
            ),
        ],
        &[
            "_type",
            "id",
            "createdAt",
            "category",
            "event",
            "requestId",
            "details",
            "_links",
        ],
    )
}

/// The bodies the API reads. Unknown properties are ignored, so none of
/// these forbids others.
fn request_schemas(s: &mut BTreeMap<&'static str, Value>) {
    s.insert("TextInput", text_input());
    s.insert("LinkInput", link_input());
    s.insert(
        "UserWrite",
        described(
            object(
                &[
                    ("login", string()),
                    ("email", string()),
                    ("firstName", string()),
                    ("lastName", string()),
                    ("admin", boolean()),
                    (
                        "status",
                        described(
                            string(),
                            "On creation: active, registered, invited or locked. On change \
                             it must equal the current status.",
                        ),
                    ),
                    ("language", string()),
                    ("timeZone", string()),
                    ("password", string()),
                    (
                        "currentPassword",
                        described(
                            string(),
                            "Required to change the email address of one's own account.",
                        ),
                    ),
                    (
                        "_links",
                        described(
                            json!({"type": "object", "additionalProperties": schema_ref("LinkInput")}),
                            "`customFieldN` links of list and user custom fields.",
                        ),
                    ),
                ],
                &[],
            ),
            "Also `customFieldN` properties for user custom fields.",
        ),
    );
    s.insert(
        "SignIn",
        object(
            &[("login", string()), ("password", string())],
            &["login", "password"],
        ),
    );
    s.insert(
        "PasswordChange",
        object(
            &[("currentPassword", string()), ("newPassword", string())],
            &["currentPassword", "newPassword"],
        ),
    );
    s.insert(
        "ApiTokenWrite",
        object(
            &[(
                "name",
                described(string(), "1 to 100 characters, to recognise the token by."),
            )],
            &[],
        ),
    );
    s.insert(
        "ProjectWrite",
        object(
            &[
                ("identifier", string()),
                ("name", string()),
                ("description", schema_ref("TextInput")),
                ("public", boolean()),
                (
                    "active",
                    described(boolean(), "false archives, true unarchives."),
                ),
                (
                    "parent",
                    described(
                        schema_ref("LinkInput"),
                        "The parent project, also read at the top level.",
                    ),
                ),
                (
                    "_links",
                    object(&[("parent", schema_ref("LinkInput"))], &[]),
                ),
            ],
            &[],
        ),
    );
    let wp_link_names = [
        "project",
        "type",
        "status",
        "priority",
        "assignee",
        "responsible",
        "parent",
        "version",
    ];
    let wp_links: Vec<(&str, Value)> = wp_link_names
        .iter()
        .map(|n| (*n, schema_ref("LinkInput")))
        .collect();
    s.insert(
        "WorkPackageWrite",
        described(
            object(
                &[
                    (
                        "lockVersion",
                        described(integer(), "Required to change a work package."),
                    ),
                    ("subject", string()),
                    ("description", schema_ref("TextInput")),
                    ("startDate", date_or_null()),
                    ("dueDate", date_or_null()),
                    (
                        "date",
                        described(date_or_null(), "A milestone's date (sets both dates)."),
                    ),
                    ("estimatedTime", duration_or_null()),
                    ("remainingTime", duration_or_null()),
                    ("percentageDone", or_null("integer")),
                    (
                        "comment",
                        described(schema_ref("TextInput"), "A comment stored with a change."),
                    ),
                    (
                        "_meta",
                        object(
                            &[(
                                "validateCustomFields",
                                described(boolean(), "Check every required custom field."),
                            )],
                            &[],
                        ),
                    ),
                    (
                        "_links",
                        with_custom_fields(object(&wp_links, &[]), "LinkInput"),
                    ),
                ],
                &[],
            ),
            "Also `customFieldN` properties for custom fields; the links are read at the \
             top level as well.",
        ),
    );
    s.insert(
        "CommentWrite",
        object(&[("comment", schema_ref("TextInput"))], &[]),
    );
    s.insert(
        "MembershipWrite",
        object(
            &[
                (
                    "_links",
                    object(
                        &[
                            (
                                "project",
                                described(
                                    schema_ref("LinkInput"),
                                    "None (or null) for global roles.",
                                ),
                            ),
                            (
                                "principal",
                                described(schema_ref("LinkInput"), "A user or a group."),
                            ),
                            (
                                "user",
                                described(schema_ref("LinkInput"), "Older name of principal."),
                            ),
                            ("roles", array(schema_ref("LinkInput"))),
                        ],
                        &[],
                    ),
                ),
                (
                    "roles",
                    described(
                        array(schema_ref("LinkInput")),
                        "The roles, also read at the top level.",
                    ),
                ),
            ],
            &[],
        ),
    );
    s.insert(
        "VersionWrite",
        object(
            &[
                ("name", string()),
                ("description", schema_ref("TextInput")),
                ("status", one_of(&["open", "locked", "closed"])),
                ("startDate", date_or_null()),
                ("endDate", date_or_null()),
                (
                    "_links",
                    object(&[("definingProject", schema_ref("LinkInput"))], &[]),
                ),
            ],
            &[],
        ),
    );
    let color = || {
        described(
            or_null("string"),
            "A colour such as `#1A67A3`; null for none.",
        )
    };
    let is_default = || {
        described(
            boolean(),
            "Making one the default unmakes the previous one.",
        )
    };
    s.insert(
        "StatusWrite",
        object(
            &[
                ("name", string()),
                ("isClosed", boolean()),
                ("isDefault", is_default()),
                ("color", color()),
                ("position", integer()),
            ],
            &[],
        ),
    );
    s.insert(
        "TypeWrite",
        object(
            &[
                ("name", string()),
                ("isMilestone", boolean()),
                ("isDefault", is_default()),
                ("color", color()),
                ("position", integer()),
            ],
            &[],
        ),
    );
    s.insert(
        "PriorityWrite",
        object(
            &[
                ("name", string()),
                ("isDefault", is_default()),
                ("isActive", boolean()),
                ("position", integer()),
            ],
            &[],
        ),
    );
    s.insert(
        "GroupWrite",
        object(
            &[
                ("name", string()),
                (
                    "_links",
                    object(
                        &[(
                            "members",
                            described(
                                array(schema_ref("LinkInput")),
                                "Links to users: the group's members, all of them.",
                            ),
                        )],
                        &[],
                    ),
                ),
            ],
            &[],
        ),
    );
    let mut settings = object(
        &[
            ("_type", constant("Settings")),
            ("_links", described(json!({"type": "object"}), "Ignored.")),
            ("anonymousAccessPublicProjects", boolean()),
            ("usersDeletableByAdmins", boolean()),
            ("usersDeletableBySelf", boolean()),
            (
                "sessionIdleTimeoutMinutes",
                described(
                    json!({"type": "integer", "minimum": 5, "maximum": 43200}),
                    "Minutes; other values are refused (422).",
                ),
            ),
            (
                "sessionAbsoluteLifetimeHours",
                described(
                    json!({"type": "integer", "minimum": 1, "maximum": 8760}),
                    "Hours, not shorter than the idle timeout; other values are refused (422).",
                ),
            ),
            ("remoteImagesInTexts", boolean()),
        ],
        &[],
    );
    settings["additionalProperties"] = Value::Bool(false);
    s.insert("SettingsWrite", settings);
    s.insert(
        "CustomFieldWrite",
        object(
            &[
                ("name", string()),
                (
                    "fieldFormat",
                    described(
                        string(),
                        "string, text, int, float, date, bool, list or user; fixed once created.",
                    ),
                ),
                (
                    "kind",
                    described(
                        one_of(&["WorkPackageCustomField", "UserCustomField"]),
                        "Also read from `_type`.",
                    ),
                ),
                (
                    "_type",
                    one_of(&["WorkPackageCustomField", "UserCustomField"]),
                ),
                ("isRequired", boolean()),
                (
                    "possibleValues",
                    described(array(string()), "The choices of a list field."),
                ),
            ],
            &[],
        ),
    );
}
