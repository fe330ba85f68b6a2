//! Work packages and the values they hold.

use crate::date::Date;
use crate::project::ProjectId;
use crate::user::UserId;
use crate::Timestamp;

pub type WorkPackageId = i64;

/// The attributes of a work package that its change history records.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkPackageState {
    pub project_id: ProjectId,
    pub type_id: i64,
    pub status_id: i64,
    pub priority_id: i64,
    pub subject: String,
    pub description: String,
    pub author_id: UserId,
    pub assigned_to_id: Option<UserId>,
    pub responsible_id: Option<UserId>,
    pub start_date: Option<Date>,
    pub due_date: Option<Date>,
    pub estimated_hours: Option<f64>,
    pub remaining_hours: Option<f64>,
    pub done_ratio: Option<i64>,
    pub parent_id: Option<WorkPackageId>,
    pub version_id: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WorkPackage {
    pub id: WorkPackageId,
    pub state: WorkPackageState,
    pub lock_version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A changed attribute between two states: name (API property), old, new.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub attribute: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

fn opt<T: ToString>(v: &Option<T>) -> Option<String> {
    v.as_ref().map(ToString::to_string)
}

/// Every attribute that differs between `before` and `after`. Ids are
/// kept as ids; the presentation layer turns them into names.
pub fn changes(before: Option<&WorkPackageState>, after: &WorkPackageState) -> Vec<Change> {
    let mut out = Vec::new();
    let mut push = |attribute: &'static str, old: Option<String>, new: Option<String>| {
        if old != new {
            out.push(Change {
                attribute,
                old,
                new,
            });
        }
    };
    let b = before;
    push(
        "project",
        b.map(|s| s.project_id.to_string()),
        Some(after.project_id.to_string()),
    );
    push(
        "type",
        b.map(|s| s.type_id.to_string()),
        Some(after.type_id.to_string()),
    );
    push(
        "status",
        b.map(|s| s.status_id.to_string()),
        Some(after.status_id.to_string()),
    );
    push(
        "priority",
        b.map(|s| s.priority_id.to_string()),
        Some(after.priority_id.to_string()),
    );
    push(
        "subject",
        b.map(|s| s.subject.clone()),
        Some(after.subject.clone()),
    );
    push(
        "description",
        b.map(|s| s.description.clone()).filter(|d| !d.is_empty()),
        Some(after.description.clone()).filter(|d| !d.is_empty()),
    );
    push(
        "author",
        b.map(|s| s.author_id.to_string()),
        Some(after.author_id.to_string()),
    );
    push(
        "assignee",
        b.and_then(|s| opt(&s.assigned_to_id)),
        opt(&after.assigned_to_id),
    );
    push(
        "responsible",
        b.and_then(|s| opt(&s.responsible_id)),
        opt(&after.responsible_id),
    );
    push(
        "startDate",
        b.and_then(|s| opt(&s.start_date)),
        opt(&after.start_date),
    );
    push(
        "dueDate",
        b.and_then(|s| opt(&s.due_date)),
        opt(&after.due_date),
    );
    push(
        "estimatedTime",
        b.and_then(|s| opt(&s.estimated_hours)),
        opt(&after.estimated_hours),
    );
    push(
        "remainingTime",
        b.and_then(|s| opt(&s.remaining_hours)),
        opt(&after.remaining_hours),
    );
    push(
        "percentageDone",
        b.and_then(|s| opt(&s.done_ratio)),
        opt(&after.done_ratio),
    );
    push(
        "parent",
        b.and_then(|s| opt(&s.parent_id)),
        opt(&after.parent_id),
    );
    push(
        "version",
        b.and_then(|s| opt(&s.version_id)),
        opt(&after.version_id),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> WorkPackageState {
        WorkPackageState {
            project_id: 1,
            type_id: 1,
            status_id: 1,
            priority_id: 2,
            subject: "Write docs".into(),
            description: String::new(),
            author_id: 3,
            assigned_to_id: None,
            responsible_id: None,
            start_date: None,
            due_date: None,
            estimated_hours: None,
            remaining_hours: None,
            done_ratio: None,
            parent_id: None,
            version_id: None,
        }
    }

    #[test]
    fn changes_list_only_what_differs() {
        let a = state();
        let mut b = a.clone();
        b.status_id = 7;
        b.assigned_to_id = Some(4);
        b.done_ratio = Some(50);
        let c = changes(Some(&a), &b);
        let names: Vec<_> = c.iter().map(|c| c.attribute).collect();
        assert_eq!(names, vec!["status", "assignee", "percentageDone"]);
        assert_eq!(c[1].old, None);
        assert_eq!(c[1].new.as_deref(), Some("4"));
        assert!(changes(Some(&a), &a).is_empty());
        // A creation lists every attribute that has a value.
        assert!(changes(None, &a).iter().any(|c| c.attribute == "subject"));
    }
}
