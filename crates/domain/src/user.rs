//! Principals: people with accounts, and the built-in principals that stand
//! in for no one in particular (the "Deleted user" that erased people's
//! traces point to, and the system account that background work acts as).

use crate::Timestamp;

pub type UserId = i64;

/// Ids of the built-in principals, created by the first migration.
pub const DELETED_USER_ID: UserId = 1;
pub const SYSTEM_USER_ID: UserId = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    User,
    /// The one "Deleted user": what erased people's assignments point to.
    Deleted,
    /// Acts for background work; cannot sign in.
    System,
    /// A group of users; its project roles apply to its members.
    Group,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Deleted => "deleted",
            PrincipalKind::System => "system",
            PrincipalKind::Group => "group",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "user" => PrincipalKind::User,
            "deleted" => PrincipalKind::Deleted,
            "system" => PrincipalKind::System,
            "group" => PrincipalKind::Group,
            _ => return None,
        })
    }
}

/// Account status, as API v3 names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserStatus {
    Active,
    Registered,
    Invited,
    Locked,
}

impl UserStatus {
    pub const ALL: [UserStatus; 4] = [
        UserStatus::Active,
        UserStatus::Registered,
        UserStatus::Invited,
        UserStatus::Locked,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Registered => "registered",
            UserStatus::Invited => "invited",
            UserStatus::Locked => "locked",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        UserStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: UserId,
    pub kind: PrincipalKind,
    pub login: String,
    pub firstname: String,
    pub lastname: String,
    pub email: Option<String>,
    pub admin: bool,
    pub status: UserStatus,
    pub language: String,
    pub time_zone: String,
    /// Set after too many failed sign-ins; the account may not sign in before then.
    pub blocked_until: Option<Timestamp>,
    pub failed_logins: i64,
    pub last_login_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl User {
    /// The display name: "First Last", or the login when both are empty.
    pub fn name(&self) -> String {
        let n = format!("{} {}", self.firstname, self.lastname);
        let n = n.trim();
        if n.is_empty() {
            self.login.clone()
        } else {
            n.to_string()
        }
    }

    pub fn is_builtin(&self) -> bool {
        self.kind != PrincipalKind::User
    }

    pub fn is_blocked(&self, now: Timestamp) -> bool {
        self.blocked_until.is_some_and(|t| t > now)
    }

    /// Whether this account may authenticate at all (by password, session or token).
    pub fn can_authenticate(&self) -> bool {
        self.kind == PrincipalKind::User && self.status == UserStatus::Active
    }
}

/// A validated new account.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub login: String,
    pub firstname: String,
    pub lastname: String,
    pub email: String,
    pub admin: bool,
    pub status: UserStatus,
    pub language: String,
    pub time_zone: String,
}

/// A validated change to an account; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserChanges {
    pub login: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub email: Option<String>,
    pub admin: Option<bool>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
}

impl UserChanges {
    pub fn is_empty(&self) -> bool {
        self.login.is_none()
            && self.firstname.is_none()
            && self.lastname.is_none()
            && self.email.is_none()
            && self.admin.is_none()
            && self.language.is_none()
            && self.time_zone.is_none()
    }
}
