//! The personal-data registry: every table Steward creates and every column
//! in it, declared once, with what it holds.
//!
//! A column either holds personal data — then it names its category code
//! (the seeds' `bu-01` ... `cw-02`, or a logging code `lg-0x`), the data item,
//! the purpose, the retention, and what erasure does to it — or it is
//! explicitly declared as holding none. The record of processing, the
//! per-person export, erasure and the residue scan are all driven from here,
//! and a test compares this list with the live schema on both engines: a
//! column that exists but is not declared fails the build.

/// The four groups of the record of processing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    MasterData,
    FunctionalAssignments,
    Logs,
    Content,
}

impl Group {
    pub fn title(self) -> &'static str {
        match self {
            Group::MasterData => "User master data",
            Group::FunctionalAssignments => "Functional assignments",
            Group::Logs => "Logs",
            Group::Content => "Content data",
        }
    }
}

macro_rules! categories {
    ($($variant:ident => $code:literal, $group:ident, $title:literal;)*) => {
        /// Categories of personal data, with the codes the seeds use.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Category { $($variant),* }

        impl Category {
            pub const ALL: &'static [Category] = &[$(Category::$variant),*];
            pub fn code(self) -> &'static str { match self { $(Category::$variant => $code),* } }
            pub fn group(self) -> Group { match self { $(Category::$variant => Group::$group),* } }
            pub fn title(self) -> &'static str { match self { $(Category::$variant => $title),* } }
            pub fn from_code(code: &str) -> Option<Category> {
                Category::ALL.iter().copied().find(|c| c.code() == code)
            }
        }
    };
}

categories! {
    Bu01 => "bu-01", MasterData, "User profile";
    Bu02 => "bu-02", MasterData, "User settings";
    Bu03 => "bu-03", MasterData, "User authentication";
    Bu04 => "bu-04", MasterData, "User notification settings";
    Bu05 => "bu-05", MasterData, "User roles and permissions";
    Bu06 => "bu-06", MasterData, "User rates";
    Cb01 => "cb-01", FunctionalAssignments, "Boards";
    Cb02 => "cb-02", FunctionalAssignments, "Budgets";
    Cc01 => "cc-01", FunctionalAssignments, "Comments";
    Ce01 => "ce-01", FunctionalAssignments, "Email notifications";
    Cf01 => "cf-01", FunctionalAssignments, "Files";
    Cm01 => "cm-01", FunctionalAssignments, "Meetings";
    Cp01 => "cp-01", FunctionalAssignments, "Projects";
    Cp02 => "cp-02", FunctionalAssignments, "Project calendars";
    Cp03 => "cp-03", FunctionalAssignments, "Project news";
    Ct01 => "ct-01", FunctionalAssignments, "Team planner";
    Ct02 => "ct-02", FunctionalAssignments, "Time tracking";
    Cw01 => "cw-01", FunctionalAssignments, "Wiki pages";
    Cw02 => "cw-02", FunctionalAssignments, "Work packages";
    Lg01 => "lg-01", Logs, "Request log";
    Lg02 => "lg-02", Logs, "Security events";
    Lg03 => "lg-03", Logs, "Audit trail of access to personal data";
    Lg04 => "lg-04", Logs, "Data-subject requests (exports, erasures)";
}

/// What erasing a person does to a column that holds their data.
///
/// Erasure dispatches on this and nothing else, and the record of
/// processing prints [`Erasure::describe`] for each column, so the record
/// says what the code does; an integration test erases a person with data in
/// every column and checks each column against its declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Erasure {
    /// The row belongs to the person and is deleted with them: the account
    /// row, rows that refer to them through a column declared `DeleteRow`,
    /// and rows that carry their login or email.
    DeleteRow,
    /// The reference is re-pointed to the built-in "Deleted user", so that
    /// what the person did stays intact and every foreign key stays valid.
    DeletedUser,
    /// Text people wrote stays: it is the team's work, not the person's
    /// data. Structured mentions of the person are rewritten to name the
    /// "Deleted user"; any other place that still names them goes to the
    /// redaction queue, where the controller redacts or dismisses it.
    ReviewText,
    /// The redaction queue's search terms: written by an erasure, about the
    /// person just erased, and removed once each of their queue entries is
    /// redacted or dismissed. Erasing someone else leaves them alone.
    ForgottenWhenReviewed,
    /// The text index's copy of the free-text columns: each entry changes
    /// and goes with the row it mirrors, in the same transaction, so it
    /// follows whatever erasure does to that row; the residue scan checks
    /// that no entry outlived its text.
    Mirrored,
}

impl Erasure {
    pub const ALL: [Erasure; 5] = [
        Erasure::DeleteRow,
        Erasure::DeletedUser,
        Erasure::ReviewText,
        Erasure::ForgottenWhenReviewed,
        Erasure::Mirrored,
    ];

    /// The "On erasure" column of the record of processing.
    pub fn describe(self) -> &'static str {
        match self {
            Erasure::DeleteRow => "row deleted",
            Erasure::DeletedUser => "replaced by the \"Deleted user\"",
            Erasure::ReviewText => {
                "text kept; mentions of the person now name the \"Deleted user\"; \
                 any other occurrence of their name, username or email is queued for \
                 the controller to redact or dismiss"
            }
            Erasure::ForgottenWhenReviewed => {
                "written by the erasure of the person they name; removed once each of \
                 that person's redaction-queue entries is redacted or dismissed"
            }
            Erasure::Mirrored => {
                "follows the text it indexes: rewritten with it (mentions of the person \
                 then name the \"Deleted user\") and removed with it; the residue scan \
                 checks that no entry outlived its text"
            }
        }
    }
}

/// What sort of value a personal column holds; the residue scan uses it to
/// know where to look for which identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The id of a user (a foreign key to `users.id`, or the key itself).
    UserRef,
    Login,
    Email,
    Name,
    /// A hash of a secret (password, token): identifies, never reveals.
    SecretHash,
    /// Any other attribute of the person (language, time zone, address...).
    Attribute,
    /// Text written by people, which may mention anyone.
    FreeText,
}

#[derive(Clone, Copy, Debug)]
pub struct Personal {
    pub category: Category,
    pub kind: Kind,
    pub erasure: Erasure,
    /// The data item as the record of processing names it.
    pub item: &'static str,
    pub purpose: &'static str,
    pub retention: &'static str,
}

#[derive(Clone, Copy, Debug)]
pub enum Data {
    /// Declared to hold no personal data.
    None,
    /// Declared to hold no personal data because only Steward writes it,
    /// from a fixed set (a type name, a state, a permission), or in a
    /// format it enforces that cannot hold a name (a date): nobody types
    /// free words into it. The residue scan does not search it.
    Code,
    Personal(Personal),
}

#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub name: &'static str,
    pub data: Data,
}

#[derive(Clone, Copy, Debug)]
pub struct Table {
    pub name: &'static str,
    pub description: &'static str,
    pub columns: &'static [Column],
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }
    pub fn personal_columns(&self) -> impl Iterator<Item = (&'static str, &'static Personal)> {
        self.columns.iter().filter_map(|c| match &c.data {
            Data::Personal(p) => Some((c.name, p)),
            Data::None | Data::Code => None,
        })
    }
}

const fn none(name: &'static str) -> Column {
    Column {
        name,
        data: Data::None,
    }
}

const fn code(name: &'static str) -> Column {
    Column {
        name,
        data: Data::Code,
    }
}

#[allow(clippy::too_many_arguments)]
const fn pd(
    name: &'static str,
    category: Category,
    kind: Kind,
    erasure: Erasure,
    item: &'static str,
    purpose: &'static str,
    retention: &'static str,
) -> Column {
    Column {
        name,
        data: Data::Personal(Personal {
            category,
            kind,
            erasure,
            item,
            purpose,
            retention,
        }),
    }
}

use Category::*;
use Erasure::{DeleteRow, DeletedUser, ForgottenWhenReviewed, Mirrored, ReviewText};
use Kind::*;

const ACCOUNT_LIFETIME: &str = "as long as the account exists";
const SESSION_LIFETIME: &str = "until sign-out, the idle timeout or the absolute session lifetime";
const TOKEN_LIFETIME: &str = "until the token is revoked or the account is erased";
const MEMBERSHIP_LIFETIME: &str = "as long as the membership exists";
const CONTENT_LIFETIME: &str =
    "as long as the content exists; references to an erased person point to the \"Deleted user\"";
const ATTEMPT_LIFETIME: &str =
    "as configured for security events (security.login_attempt_retention_days)";
const AUDIT_LIFETIME: &str =
    "as configured for the audit trail (audit.security_retention_days, audit.access_retention_days)";
const EXPORT_LIFETIME: &str =
    "until the archive expires (gdpr.export_expiry_hours), then the request is marked expired; deleted with either person";
const CERTIFICATE_LIFETIME: &str = "kept for the controller as proof of erasure";
const REDACTION_LIFETIME: &str =
    "the search terms only while an entry of the queue is open; the entries as proof of the redaction";

/// Every table Steward creates, every column in it.
pub static TABLES: &[Table] = &[
    Table {
        name: "schema_migrations",
        description: "Which schema migrations have been applied.",
        columns: &[none("version"), none("name"), none("applied_at"), none("checksum")],
    },
    Table {
        name: "users",
        description: "Accounts, and the built-in \"Deleted user\" and system principals.",
        columns: &[
            pd("id", Bu01, UserRef, DeleteRow, "Internal user id", "Identifies the account inside Steward", ACCOUNT_LIFETIME),
            code("kind"),
            pd("login", Bu01, Login, DeleteRow, "Username", "Sign-in and identification of the user to others", ACCOUNT_LIFETIME),
            pd("login_key", Bu01, Login, DeleteRow, "Username (lower case)", "Keeps usernames unique regardless of case", ACCOUNT_LIFETIME),
            pd("firstname", Bu01, Name, DeleteRow, "First name", "Shows who did what to other team members", ACCOUNT_LIFETIME),
            pd("lastname", Bu01, Name, DeleteRow, "Last name", "Shows who did what to other team members", ACCOUNT_LIFETIME),
            pd("email", Bu02, Email, DeleteRow, "Email address", "Notifications and account recovery", ACCOUNT_LIFETIME),
            pd("email_key", Bu02, Email, DeleteRow, "Email address (lower case)", "Keeps email addresses unique regardless of case", ACCOUNT_LIFETIME),
            pd("admin", Bu05, Attribute, DeleteRow, "Administrator flag", "Grants instance administration", ACCOUNT_LIFETIME),
            pd("status", Bu03, Attribute, DeleteRow, "Account status", "Whether the account may sign in", ACCOUNT_LIFETIME),
            pd("language", Bu02, Attribute, DeleteRow, "Language setting", "Language of pages and mails", ACCOUNT_LIFETIME),
            pd("time_zone", Bu02, Attribute, DeleteRow, "Time zone setting", "Shows times in the user's zone", ACCOUNT_LIFETIME),
            pd("password_hash", Bu03, SecretHash, DeleteRow, "Password (argon2id hash)", "Verifies the password at sign-in", ACCOUNT_LIFETIME),
            pd("password_changed_at", Bu03, Attribute, DeleteRow, "Time of the last password change", "Ends other sessions after a change", ACCOUNT_LIFETIME),
            pd("failed_logins", Bu03, Attribute, DeleteRow, "Failed sign-ins in a row", "Brute-force protection", ACCOUNT_LIFETIME),
            pd("blocked_until", Bu03, Attribute, DeleteRow, "Temporary block after failed sign-ins", "Brute-force protection", ACCOUNT_LIFETIME),
            pd("last_login_at", Bu03, Attribute, DeleteRow, "Time of the last sign-in", "Shows administrators which accounts are in use", ACCOUNT_LIFETIME),
            pd("created_at", Bu01, Attribute, DeleteRow, "Account creation time", "Account administration", ACCOUNT_LIFETIME),
            pd("updated_at", Bu01, Attribute, DeleteRow, "Last change of the account", "Account administration", ACCOUNT_LIFETIME),
        ],
    },
    Table {
        name: "sessions",
        description: "Server-side browser sessions; the cookie holds only a random id whose hash is stored here.",
        columns: &[
            none("id"),
            pd("user_id", Bu03, UserRef, DeleteRow, "User sessions", "Keeps the user signed in", SESSION_LIFETIME),
            pd("token_hash", Bu03, SecretHash, DeleteRow, "Session id (SHA-256 hash)", "Finds the session for the cookie", SESSION_LIFETIME),
            pd("csrf_token", Bu03, SecretHash, DeleteRow, "CSRF token of the session", "Protects against cross-site request forgery", SESSION_LIFETIME),
            pd("user_agent", Bu03, Attribute, DeleteRow, "Browser of the session", "Lets the user recognise and revoke sessions", SESSION_LIFETIME),
            pd("ip_address", Bu03, Attribute, DeleteRow, "IP address at sign-in", "Lets the user recognise and revoke sessions", SESSION_LIFETIME),
            pd("created_at", Bu03, Attribute, DeleteRow, "Sign-in time", "Absolute session lifetime", SESSION_LIFETIME),
            pd("last_seen_at", Bu03, Attribute, DeleteRow, "Last activity", "Idle timeout", SESSION_LIFETIME),
        ],
    },
    Table {
        name: "api_tokens",
        description: "API tokens; only a SHA-256 hash of each token is stored.",
        columns: &[
            none("id"),
            pd("user_id", Bu03, UserRef, DeleteRow, "Access tokens", "API access on the user's behalf", TOKEN_LIFETIME),
            pd("name", Bu03, FreeText, DeleteRow, "Token name", "Lets the user tell tokens apart", TOKEN_LIFETIME),
            pd("token_hash", Bu03, SecretHash, DeleteRow, "Access token (SHA-256 hash)", "Authenticates API requests", TOKEN_LIFETIME),
            pd("created_at", Bu03, Attribute, DeleteRow, "Token creation time", "Token administration", TOKEN_LIFETIME),
            pd("last_used_at", Bu03, Attribute, DeleteRow, "Token last use", "Lets the user find unused tokens", TOKEN_LIFETIME),
        ],
    },
    Table {
        name: "login_attempts",
        description: "Sign-in attempts, successful and failed (security events).",
        columns: &[
            none("id"),
            pd("user_id", Lg02, UserRef, DeleteRow, "Account signed in to", "Brute-force protection and security review", ATTEMPT_LIFETIME),
            pd("login", Lg02, Login, DeleteRow, "Username typed at sign-in", "Security review of failed sign-ins", ATTEMPT_LIFETIME),
            none("success"),
            code("reason"),
            pd("ip_address", Lg02, Attribute, DeleteRow, "IP address of the attempt", "Security review of failed sign-ins", ATTEMPT_LIFETIME),
            pd("created_at", Lg02, Attribute, DeleteRow, "Time of the attempt", "Brute-force protection", ATTEMPT_LIFETIME),
        ],
    },
    Table {
        name: "settings",
        description: "Instance settings changed at run time by administrators.",
        columns: &[none("key"), none("value"), none("updated_at")],
    },
    Table {
        name: "data_versions",
        description: "Change counters that tell caches when derived values are stale.",
        columns: &[code("name"), none("version")],
    },
    Table {
        name: "projects",
        description: "Projects and their hierarchy.",
        columns: &[
            none("id"),
            none("identifier"),
            none("name"),
            pd("description", Cp01, FreeText, ReviewText, "Person mentioned in a project overview", "Describes the project", CONTENT_LIFETIME),
            none("public"),
            none("active"),
            none("parent_id"),
            none("created_at"),
            none("updated_at"),
        ],
    },
    Table {
        name: "enabled_modules",
        description: "Modules switched on per project.",
        columns: &[none("project_id"), code("name")],
    },
    Table {
        name: "roles",
        description: "Named sets of permissions.",
        columns: &[none("id"), none("name"), code("kind"), none("builtin"), none("position")],
    },
    Table {
        name: "role_permissions",
        description: "The permissions each role grants.",
        columns: &[none("role_id"), code("permission")],
    },
    Table {
        name: "group_users",
        description: "Which users belong to which group.",
        columns: &[
            none("group_id"),
            pd("user_id", Bu05, UserRef, DeleteRow, "Group memberships", "Gives group members the group's roles", MEMBERSHIP_LIFETIME),
        ],
    },
    Table {
        name: "members",
        description: "Project memberships (and global-role memberships, without a project) of users and groups.",
        columns: &[
            none("id"),
            none("project_id"),
            pd("principal_id", Bu05, UserRef, DeleteRow, "Project roles and global roles", "Grants permissions in projects", MEMBERSHIP_LIFETIME),
            pd("created_at", Bu05, Attribute, DeleteRow, "Membership start", "Membership administration", MEMBERSHIP_LIFETIME),
            pd("updated_at", Bu05, Attribute, DeleteRow, "Last membership change", "Membership administration", MEMBERSHIP_LIFETIME),
        ],
    },
    Table {
        name: "member_roles",
        description: "The roles of each membership.",
        columns: &[none("member_id"), none("role_id")],
    },
    Table {
        name: "statuses",
        description: "Work-package statuses.",
        columns: &[none("id"), none("name"), none("is_closed"), none("is_default"), none("color"), none("position")],
    },
    Table {
        name: "types",
        description: "Work-package types.",
        columns: &[none("id"), none("name"), none("is_milestone"), none("is_default"), none("color"), none("position")],
    },
    Table {
        name: "priorities",
        description: "Work-package priorities.",
        columns: &[none("id"), none("name"), none("is_default"), none("active"), none("position")],
    },
    Table {
        name: "versions",
        description: "Project versions (releases, sprints).",
        columns: &[
            none("id"),
            none("project_id"),
            none("name"),
            pd("description", Cp01, FreeText, ReviewText, "Person mentioned in a version description", "Describes the version", CONTENT_LIFETIME),
            code("status"),
            code("start_date"),
            code("due_date"),
            none("created_at"),
            none("updated_at"),
        ],
    },
    Table {
        name: "work_packages",
        description: "Work packages: tasks, bugs, features, milestones...",
        columns: &[
            none("id"),
            none("project_id"),
            none("type_id"),
            none("status_id"),
            none("priority_id"),
            pd("subject", Cw02, FreeText, ReviewText, "Person mentioned in an attribute", "Names the work", CONTENT_LIFETIME),
            pd("description", Cw02, FreeText, ReviewText, "Person mentioned in a text field", "Describes the work", CONTENT_LIFETIME),
            pd("author_id", Cw02, UserRef, DeletedUser, "Author of a work package", "Shows who created the work", CONTENT_LIFETIME),
            pd("assigned_to_id", Cw02, UserRef, DeletedUser, "Assignee of a work package", "Shows who does the work", CONTENT_LIFETIME),
            pd("responsible_id", Cw02, UserRef, DeletedUser, "Accountable for a work package", "Shows who answers for the work", CONTENT_LIFETIME),
            code("start_date"),
            code("due_date"),
            none("estimated_hours"),
            none("remaining_hours"),
            none("done_ratio"),
            none("parent_id"),
            none("version_id"),
            none("lock_version"),
            none("created_at"),
            none("updated_at"),
        ],
    },
    Table {
        name: "custom_fields",
        description: "Custom fields for work packages and users, defined by administrators.",
        columns: &[none("id"), code("kind"), code("field_format"), none("name"), none("is_required"), none("position"), none("created_at")],
    },
    Table {
        name: "custom_options",
        description: "The choices of list custom fields.",
        columns: &[none("id"), none("custom_field_id"), none("value"), none("position")],
    },
    Table {
        name: "custom_values",
        description: "Values of custom fields on work packages and users.",
        columns: &[
            none("id"),
            none("custom_field_id"),
            code("customized_type"),
            pd("customized_id", Bu01, UserRef, DeleteRow, "Custom fields of a user (rows with customized_type 'Principal')", "Extends the user profile", ACCOUNT_LIFETIME),
            pd("value", Cw02, FreeText, ReviewText, "Person mentioned in a custom field", "Custom attributes", CONTENT_LIFETIME),
            pd("value_user_id", Cw02, UserRef, DeletedUser, "User custom field value", "Assigns a person in a custom field", CONTENT_LIFETIME),
        ],
    },
    Table {
        name: "journals",
        description: "Change history: one entry per change, with its author and comment.",
        columns: &[
            none("id"),
            code("journable_type"),
            none("journable_id"),
            none("version"),
            pd("user_id", Cc01, UserRef, DeletedUser, "Author of a change or comment", "Change history", CONTENT_LIFETIME),
            pd("notes", Cc01, FreeText, ReviewText, "Person mentioned in a comment", "Comments", CONTENT_LIFETIME),
            none("created_at"),
            none("updated_at"),
        ],
    },
    Table {
        name: "work_package_journals",
        description: "The state of a work package after each change (change history).",
        columns: &[
            none("journal_id"),
            none("project_id"),
            none("type_id"),
            none("status_id"),
            none("priority_id"),
            pd("subject", Cw02, FreeText, ReviewText, "Person mentioned in an attribute (history)", "Change history", CONTENT_LIFETIME),
            pd("description", Cw02, FreeText, ReviewText, "Person mentioned in a text field (history)", "Change history", CONTENT_LIFETIME),
            pd("author_id", Cw02, UserRef, DeletedUser, "Author of a work package (history)", "Change history", CONTENT_LIFETIME),
            pd("assigned_to_id", Cw02, UserRef, DeletedUser, "Assignee (history)", "Change history", CONTENT_LIFETIME),
            pd("responsible_id", Cw02, UserRef, DeletedUser, "Accountable (history)", "Change history", CONTENT_LIFETIME),
            code("start_date"),
            code("due_date"),
            none("estimated_hours"),
            none("remaining_hours"),
            none("done_ratio"),
            none("parent_id"),
            none("version_id"),
        ],
    },
    Table {
        name: "custom_value_journals",
        description: "Custom-field values after each change (change history).",
        columns: &[
            none("id"),
            none("journal_id"),
            none("custom_field_id"),
            pd("value", Cw02, FreeText, ReviewText, "Person mentioned in a custom field (history)", "Change history", CONTENT_LIFETIME),
            pd("value_user_id", Cw02, UserRef, DeletedUser, "User custom field value (history)", "Change history", CONTENT_LIFETIME),
        ],
    },
    Table {
        name: "journal_note_edits",
        description: "Earlier wordings of edited comments.",
        columns: &[
            none("id"),
            none("journal_id"),
            pd("previous_notes", Cc01, FreeText, ReviewText, "Person mentioned in a comment (earlier wording)", "Keeps comment edits traceable", CONTENT_LIFETIME),
            pd("edited_by", Cc01, UserRef, DeletedUser, "Editor of a comment", "Keeps comment edits traceable", CONTENT_LIFETIME),
            none("edited_at"),
        ],
    },
    Table {
        name: "mentions",
        description: "Structured mentions of users in texts (descriptions, comments).",
        columns: &[
            none("id"),
            code("source_type"),
            none("source_id"),
            pd("user_id", Cc01, UserRef, DeletedUser, "Person mentioned in a comment or text", "Notifies and finds mentioned people", CONTENT_LIFETIME),
            none("created_at"),
        ],
    },
    Table {
        name: "jobs",
        description: "Background jobs; payloads hold ids of other records, never personal data.",
        columns: &[
            none("id"),
            code("kind"),
            none("payload"),
            code("status"),
            none("run_at"),
            none("attempts"),
            none("max_attempts"),
            none("locked_by"),
            none("locked_until"),
            none("last_error"),
            none("created_at"),
            none("updated_at"),
            none("finished_at"),
        ],
    },
    Table {
        name: "job_schedules",
        description: "Recurring jobs and when each runs next.",
        columns: &[code("name"), none("next_run_at"), none("last_run_at")],
    },
    Table {
        name: "audit_events",
        description: "Security events and the audit trail of access to personal data.",
        columns: &[
            none("id"),
            none("created_at"),
            code("category"),
            code("event"),
            pd("actor_id", Lg03, UserRef, DeletedUser, "Who did it (sign-in, change, access to someone's data)", "Security review and accountability", AUDIT_LIFETIME),
            pd("target_user_id", Lg03, UserRef, DeletedUser, "Whose data or account it concerned", "Lets people see who accessed their data", AUDIT_LIFETIME),
            none("request_id"),
            none("details"),
        ],
    },
    Table {
        name: "gdpr_exports",
        description: "Per-person data exports and their archives.",
        columns: &[
            none("id"),
            pd("subject_user_id", Lg04, UserRef, DeleteRow, "Person whose data was exported", "Answers access and portability requests", EXPORT_LIFETIME),
            pd("requested_by", Lg04, UserRef, DeleteRow, "Who asked for the export", "Only the requester may download the archive", EXPORT_LIFETIME),
            code("status"),
            none("job_id"),
            none("file_name"),
            none("size_bytes"),
            none("sha256"),
            none("error"),
            pd("created_at", Lg04, Attribute, DeleteRow, "Time of the request", "Answers access and portability requests", EXPORT_LIFETIME),
            none("completed_at"),
            none("expires_at"),
        ],
    },
    Table {
        name: "erasure_certificates",
        description: "Proof of each erasure: a salted hash of the erased id, counts and the residue scan.",
        columns: &[
            none("id"),
            none("subject_hash"),
            none("salt"),
            pd("requested_by", Lg04, UserRef, DeletedUser, "Administrator who asked for an erasure", "Accountability for erasures", CERTIFICATE_LIFETIME),
            none("requested_at"),
            none("completed_at"),
            none("document"),
        ],
    },
    Table {
        name: "redaction_subjects",
        description: "What to look for in free text after an erasure, while the controller reviews it.",
        columns: &[
            none("id"),
            none("certificate_id"),
            pd("terms", Lg04, FreeText, ForgottenWhenReviewed, "Names, username and email of an erased person", "Finds them in free text for redaction", REDACTION_LIFETIME),
            none("created_at"),
        ],
    },
    Table {
        name: "redaction_entries",
        description: "The redaction queue: free text that names an erased person, and what the controller did.",
        columns: &[
            none("id"),
            none("subject_id"),
            code("table_name"),
            code("column_name"),
            none("row_id"),
            code("status"),
            pd("resolved_by", Lg04, UserRef, DeletedUser, "Who redacted or dismissed an entry", "Accountability for redactions", REDACTION_LIFETIME),
            none("resolved_at"),
            none("created_at"),
        ],
    },
    Table {
        name: "text_index_sources",
        description: "The columns the text index covers, each with the number its entries carry.",
        columns: &[none("code"), code("table_name"), code("column_name")],
    },
    Table {
        name: "text_index",
        description: "The text index over every free-text column above, for search and the residue scan (words only, not the texts).",
        columns: &[
            none("key"),
            pd("doc", Cw02, FreeText, Mirrored, "Words of the texts above (comments, descriptions, subjects, custom fields), indexed", "Search, and finding a person's name in texts on erasure", "as long as the text it indexes"),
        ],
    },
];

pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// Compares the live schema (table, column) pairs with the registry and
/// returns one line per difference; empty means they agree.
pub fn diff_with_schema(live: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (t, c) in live {
        match table(t) {
            None => problems.push(format!(
                "table {t} exists in the database but is not declared in the personal-data registry"
            )),
            Some(decl) if decl.column(c).is_none() => problems.push(format!(
                "column {t}.{c} exists in the database but is not declared in the personal-data registry"
            )),
            Some(_) => {}
        }
    }
    for decl in TABLES {
        for col in decl.columns {
            if !live.iter().any(|(t, c)| t == decl.name && c == col.name) {
                problems.push(format!(
                    "column {}.{} is declared in the personal-data registry but does not exist",
                    decl.name, col.name
                ));
            }
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_parse_back() {
        for c in Category::ALL {
            assert_eq!(Category::from_code(c.code()), Some(*c));
        }
        assert_eq!(Category::from_code("xx-99"), None);
    }

    #[test]
    fn every_table_and_column_is_declared_once() {
        let mut seen = std::collections::HashSet::new();
        for t in TABLES {
            for c in t.columns {
                assert!(
                    seen.insert((t.name, c.name)),
                    "{}.{} declared twice",
                    t.name,
                    c.name
                );
            }
        }
    }

    /// Each erasure action fits the kind of value it is declared on, and a
    /// column said to go with its row sits in a row that erasure deletes.
    #[test]
    fn erasure_actions_fit_their_columns() {
        for t in TABLES {
            let rows_deleted = t.name == "users"
                || t.personal_columns().any(|(_, p)| {
                    p.erasure == DeleteRow && matches!(p.kind, UserRef | Login | Email)
                });
            for (c, p) in t.personal_columns() {
                let fits = match p.erasure {
                    DeleteRow => rows_deleted,
                    DeletedUser => p.kind == UserRef,
                    ReviewText | ForgottenWhenReviewed | Mirrored => p.kind == FreeText,
                };
                assert!(
                    fits,
                    "{}.{c}: {:?} on a {:?} column",
                    t.name, p.erasure, p.kind
                );
            }
        }
    }

    #[test]
    fn diff_reports_undeclared_and_missing_columns() {
        let mut live: Vec<(String, String)> = TABLES
            .iter()
            .flat_map(|t| {
                t.columns
                    .iter()
                    .map(|c| (t.name.to_string(), c.name.to_string()))
            })
            .collect();
        assert!(diff_with_schema(&live).is_empty());
        live.push(("users".into(), "phone".into()));
        live.push(("secrets".into(), "x".into()));
        live.retain(|(t, c)| !(t == "sessions" && c == "ip_address"));
        let d = diff_with_schema(&live);
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d
            .iter()
            .any(|l| l.contains("users.phone") && l.contains("not declared")));
        assert!(d.iter().any(|l| l.contains("table secrets")));
        assert!(d
            .iter()
            .any(|l| l.contains("sessions.ip_address") && l.contains("does not exist")));
    }
}
