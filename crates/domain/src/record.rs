//! The record of processing activities, generated from the personal-data
//! registry and the instance's live settings: which personal data this
//! instance holds, where, why, for how long, what erasure does to it, how it
//! is protected, and which cookies carry it. Structured like the seeds'
//! document: the four groups, then each category with its data items.

use serde::Serialize;

use crate::registry::{Category, Data, Group, TABLES};

/// The cookie of the web UI's sign-in form (a double-submit CSRF token).
pub const LOGIN_CSRF_COOKIE: &str = "steward_login_csrf";

/// The settings of this instance that the record reports.
#[derive(Clone, Debug)]
pub struct RecordContext {
    pub public_url: String,
    pub database: String,
    pub password_hashing: String,
    pub max_failed_logins: u32,
    pub lockout_minutes: u32,
    pub session_idle_minutes: u32,
    pub session_absolute_hours: u32,
    pub cookie_name: String,
    pub cookie_secure: bool,
    /// The jobs that delete data when it is past its retention, with the
    /// values configured on this instance.
    pub retention_rules: Vec<RetentionRule>,
    /// The request log (lg-01), when the instance has one.
    pub request_log: Option<RequestLogRecord>,
    /// Texts show images from other hosts (an administrator's setting):
    /// those hosts then receive readers' IP addresses.
    pub remote_images: bool,
}

/// What the record says of the request log, from the configuration.
#[derive(Clone, Debug)]
pub struct RequestLogRecord {
    /// Where the files are, and whether lines are written.
    pub location: String,
    /// How the user id is stored: as is, or pseudonymised (and how).
    pub user_id: String,
    /// The size and age limits in force.
    pub retention: String,
    /// Which parameters are filtered before a line is written.
    pub filtered: String,
}

/// One retention rule applied by a recurring job.
#[derive(Serialize, Clone, Debug)]
pub struct RetentionRule {
    /// What is deleted, and where it is stored.
    pub data: String,
    /// The rule in force, with its configuration option.
    pub rule: String,
    /// The job that applies it, and when it runs.
    pub job: String,
}

#[derive(Serialize, Debug)]
pub struct Record {
    pub version: u32,
    pub instance: String,
    pub groups: Vec<GroupSection>,
    pub security_measures: Vec<Measure>,
    pub cookies: Vec<Cookie>,
    pub recipients: Vec<Recipient>,
    pub retention_rules: Vec<RetentionRule>,
}

#[derive(Serialize, Debug)]
pub struct GroupSection {
    pub title: &'static str,
    pub categories: Vec<CategorySection>,
}

#[derive(Serialize, Debug)]
pub struct CategorySection {
    pub code: &'static str,
    pub title: &'static str,
    pub items: Vec<Item>,
}

#[derive(Serialize, Debug)]
pub struct Item {
    pub item: &'static str,
    pub stored_in: String,
    pub purpose: &'static str,
    pub retention: &'static str,
    pub erasure: &'static str,
}

#[derive(Serialize, Debug)]
pub struct Measure {
    pub measure: &'static str,
    pub in_force: String,
}

#[derive(Serialize, Debug)]
pub struct Cookie {
    pub name: String,
    pub purpose: &'static str,
    pub expiry: String,
    pub flags: String,
}

/// Who receives personal data from this instance.
#[derive(Serialize, Debug)]
pub struct Recipient {
    pub integration: &'static str,
    pub categories: &'static str,
    pub protection: String,
}

pub const RECORD_VERSION: u32 = 1;

const GROUPS: [Group; 4] = [
    Group::MasterData,
    Group::FunctionalAssignments,
    Group::Logs,
    Group::Content,
];

pub fn build(ctx: &RecordContext) -> Record {
    let groups = GROUPS
        .iter()
        .map(|g| GroupSection {
            title: g.title(),
            categories: Category::ALL
                .iter()
                .filter(|c| c.group() == *g)
                .filter_map(|c| {
                    let mut items: Vec<Item> = TABLES
                        .iter()
                        .flat_map(|t| {
                            t.columns.iter().filter_map(move |col| match &col.data {
                                Data::Personal(p) if p.category == *c => Some(Item {
                                    item: p.item,
                                    stored_in: format!("{}.{}", t.name, col.name),
                                    purpose: p.purpose,
                                    retention: p.retention,
                                    erasure: p.erasure.describe(),
                                }),
                                _ => None,
                            })
                        })
                        .collect();
                    if let (Category::Lg01, Some(log)) = (c, &ctx.request_log) {
                        items.push(Item {
                            item: "Per request: user id (or its pseudonym), time, URL, query and body parameters (secrets filtered), status, duration",
                            stored_in: log.location.clone(),
                            purpose: "Operating the service: finding faults and performance problems",
                            retention: "by total size, oldest files first, and by age (see Security measures: request log)",
                            erasure: "the person's id and current pseudonym are removed from every line, and their id from paths and links",
                        });
                    }
                    (!items.is_empty()).then_some(CategorySection {
                        code: c.code(),
                        title: c.title(),
                        items,
                    })
                })
                .collect(),
        })
        .collect();
    let https = ctx.public_url.starts_with("https://");
    let lockout = if ctx.max_failed_logins == 0 {
        "off".to_string()
    } else {
        format!(
            "after {1} failed sign-ins with a login from one address, that login waits \
             there 30 seconds, doubling with each further failure, up to {0} minutes",
            ctx.lockout_minutes, ctx.max_failed_logins
        )
    };
    Record {
        version: RECORD_VERSION,
        instance: ctx.public_url.clone(),
        groups,
        security_measures: vec![
            Measure {
                measure: "Password storage",
                in_force: ctx.password_hashing.clone(),
            },
            Measure {
                measure: "Session ids and API tokens",
                in_force: "256-bit random values; only their SHA-256 hashes are stored".into(),
            },
            Measure {
                measure: "Transport encryption (TLS)",
                in_force: if https {
                    format!("public URL {} is https; cookies are Secure", ctx.public_url)
                } else {
                    format!(
                        "public URL {} is plain http: terminate TLS in front of Steward",
                        ctx.public_url
                    )
                },
            },
            Measure {
                measure: "Brute-force protection",
                in_force: lockout,
            },
            Measure {
                measure: "Session lifetime",
                in_force: format!(
                    "ends after {} minutes without use and at most {} hours after sign-in",
                    ctx.session_idle_minutes, ctx.session_absolute_hours
                ),
            },
            Measure {
                measure: "Cross-site request forgery",
                in_force: "cookie-authenticated changes need the session's CSRF token".into(),
            },
            Measure {
                measure: "Database",
                in_force: ctx.database.clone(),
            },
        ]
        .into_iter()
        .chain(ctx.request_log.iter().flat_map(|log| {
            [
                Measure {
                    measure: "Request log: user ids",
                    in_force: log.user_id.clone(),
                },
                Measure {
                    measure: "Request log: secrets",
                    in_force: log.filtered.clone(),
                },
                Measure {
                    measure: "Request log: retention",
                    in_force: log.retention.clone(),
                },
            ]
        }))
        .collect(),
        cookies: vec![
            Cookie {
            name: ctx.cookie_name.clone(),
            purpose: "identifies the signed-in person's server-side session",
            expiry: format!(
                "browser session; the server ends it after {} minutes idle or {} hours",
                ctx.session_idle_minutes, ctx.session_absolute_hours
            ),
            flags: if ctx.cookie_secure {
                "Secure, HttpOnly, SameSite=Lax".into()
            } else {
                "HttpOnly, SameSite=Lax".into()
            },
        },
            Cookie {
                name: LOGIN_CSRF_COOKIE.into(),
                purpose: "protects the sign-in form against cross-site request forgery; a random value, no personal data",
                expiry: "browser session; cleared at sign-in".into(),
                flags: if ctx.cookie_secure {
                    "Secure, HttpOnly, SameSite=Lax, Path=/login".into()
                } else {
                    "HttpOnly, SameSite=Lax, Path=/login".into()
                },
            },
        ],
        recipients: std::iter::once(Recipient {
            integration: "API integrations (api)",
            categories: "all data the token's owner may see",
            protection: if https {
                "TLS".into()
            } else {
                "TLS when a proxy terminates it in front of Steward".into()
            },
        })
        .chain(ctx.remote_images.then(|| Recipient {
            integration: "Hosts of the images embedded in texts (setting texts_remote_images is on)",
            categories: "each reader's IP address, browser (User-Agent) and the time the text is read, when their browser fetches the image; no Referer from Steward's pages",
            protection: "none by Steward: the host is chosen by whoever writes the text; switch the setting off to show such images as links".into(),
        }))
        .collect(),
        retention_rules: ctx.retention_rules.clone(),
    }
}

impl Record {
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "# Record of processing activities\n\nInstance: {}  \nGenerated from the personal-data registry (record version {}).\n",
            self.instance, self.version
        ));
        for g in &self.groups {
            out.push_str(&format!("\n## {}\n", g.title));
            if g.categories.is_empty() {
                out.push_str("\nNo personal data of this group is held yet.\n");
            }
            for c in &g.categories {
                out.push_str(&format!(
                    "\n### {} ({})\n\n| Data item | Stored in | Purpose | Retention | On erasure |\n|---|---|---|---|---|\n",
                    c.title, c.code
                ));
                for i in &c.items {
                    out.push_str(&format!(
                        "| {} | `{}` | {} | {} | {} |\n",
                        i.item, i.stored_in, i.purpose, i.retention, i.erasure
                    ));
                }
            }
        }
        out.push_str(
            "\n## Retention jobs\n\nRecurring background jobs delete these records once they are past their retention.\n\n| Data | Rule | Job |\n|---|---|---|\n",
        );
        for r in &self.retention_rules {
            out.push_str(&format!("| {} | {} | {} |\n", r.data, r.rule, r.job));
        }
        out.push_str("\n## Security measures\n\n| Measure | In force |\n|---|---|\n");
        for m in &self.security_measures {
            out.push_str(&format!("| {} | {} |\n", m.measure, m.in_force));
        }
        out.push_str("\n## Recipients\n\n| Integration | Data | Protection |\n|---|---|---|\n");
        for r in &self.recipients {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                r.integration, r.categories, r.protection
            ));
        }
        out.push_str("\n## Cookies\n\n| Name | Purpose | Expiry | Flags |\n|---|---|---|---|\n");
        for c in &self.cookies {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                c.name, c.purpose, c.expiry, c.flags
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Erasure;

    fn ctx() -> RecordContext {
        RecordContext {
            public_url: "https://pm.example.org".into(),
            database: "PostgreSQL".into(),
            password_hashing: "argon2id (m=19456 KiB, t=2, p=1)".into(),
            max_failed_logins: 5,
            lockout_minutes: 15,
            session_idle_minutes: 120,
            session_absolute_hours: 168,
            cookie_name: "steward_session".into(),
            cookie_secure: true,
            retention_rules: vec![RetentionRule {
                data: "Sign-in attempts (`login_attempts`)".into(),
                rule: "deleted 90 days after the attempt (security.login_attempt_retention_days)"
                    .into(),
                job: "retention.login_attempts, daily 03:10 UTC".into(),
            }],
            request_log: Some(RequestLogRecord {
                location: "files requests*.jsonl in /var/lib/steward/log".into(),
                user_id: "pseudonymised (HMAC-SHA256, key rotated every 7 days)".into(),
                retention: "at most 100 MB in all, files deleted after 30 days".into(),
                filtered: "passwords, tokens, API keys".into(),
            }),
            remote_images: false,
        }
    }

    #[test]
    fn every_registry_entry_appears() {
        let md = build(&ctx()).to_markdown();
        for t in TABLES {
            for (col, p) in t.personal_columns() {
                assert!(
                    md.contains(&format!("`{}.{col}`", t.name)),
                    "{}.{col} missing",
                    t.name
                );
                assert!(md.contains(p.category.code()), "{}", p.category.code());
            }
        }
        assert!(md.contains("## User master data") && md.contains("## Logs"));
        // The "On erasure" column is the declared action's description.
        let notes = md.lines().find(|l| l.contains("`journals.notes`")).unwrap();
        assert!(
            notes.ends_with(&format!("| {} |", Erasure::ReviewText.describe())),
            "{notes}"
        );
    }

    #[test]
    fn settings_change_the_document() {
        let a = build(&ctx()).to_markdown();
        let mut other = ctx();
        other.session_idle_minutes = 33;
        other.cookie_secure = false;
        other.public_url = "http://127.0.0.1:8080".into();
        let b = build(&other).to_markdown();
        assert_ne!(a, b);
        assert!(b.contains("after 33 minutes without use"), "{b}");
        assert!(b.contains("| HttpOnly, SameSite=Lax |"));
        assert!(a.contains("Secure, HttpOnly, SameSite=Lax"));
        assert!(b.contains("plain http"));
        assert!(a.contains("## Retention jobs"));
        assert!(a.contains("### Request log (lg-01)"), "{a}");
        assert!(a.contains("| Request log: user ids | pseudonymised"), "{a}");
        let mut off = ctx();
        off.request_log = None;
        assert!(!build(&off).to_markdown().contains("lg-01"));
        assert!(
            a.contains("| Sign-in attempts (`login_attempts`) | deleted 90 days after the attempt"),
            "{a}"
        );
    }

    #[test]
    fn remote_images_name_their_hosts_as_recipients() {
        let off = build(&ctx()).to_markdown();
        assert!(!off.contains("images embedded in texts"), "{off}");
        let mut on = ctx();
        on.remote_images = true;
        let on = build(&on).to_markdown();
        assert!(
            on.contains("| Hosts of the images embedded in texts (setting texts_remote_images is on) | each reader's IP address"),
            "{on}"
        );
    }
}
