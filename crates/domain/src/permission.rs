//! Permissions: what a role lets its holders do, and sets of them.

macro_rules! permissions {
    ($($variant:ident => $name:literal, $module:expr, $global:literal;)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Permission { $($variant),* }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant),*];
            /// The name used in the database and the API (as in OpenProject).
            pub fn name(self) -> &'static str { match self { $(Permission::$variant => $name),* } }
            /// The project module that must be enabled for the permission to apply.
            pub fn module(self) -> Option<&'static str> { match self { $(Permission::$variant => $module),* } }
            /// Global permissions are granted by global roles, outside projects.
            pub fn is_global(self) -> bool { match self { $(Permission::$variant => $global),* } }
            pub fn parse(name: &str) -> Option<Permission> {
                Permission::ALL.iter().copied().find(|p| p.name() == name)
            }
        }
    };
}

const WP: Option<&str> = Some("work_package_tracking");

permissions! {
    ViewProject => "view_project", None, false;
    EditProject => "edit_project", None, false;
    ArchiveProject => "archive_project", None, false;
    SelectProjectModules => "select_project_modules", None, false;
    ManageMembers => "manage_members", None, false;
    ViewMembers => "view_members", None, false;
    ManageVersions => "manage_versions", None, false;
    ViewWorkPackages => "view_work_packages", WP, false;
    AddWorkPackages => "add_work_packages", WP, false;
    EditWorkPackages => "edit_work_packages", WP, false;
    DeleteWorkPackages => "delete_work_packages", WP, false;
    ManageSubtasks => "manage_subtasks", WP, false;
    AddWorkPackageNotes => "add_work_package_notes", WP, false;
    EditOwnWorkPackageNotes => "edit_own_work_package_notes", WP, false;
    EditWorkPackageNotes => "edit_work_package_notes", WP, false;
    AddProject => "add_project", None, true;
}

/// Modules a project can enable.
pub const MODULES: &[&str] = &["work_package_tracking"];

/// A set of permissions, as a bit set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PermissionSet(u32);

impl PermissionSet {
    pub const EMPTY: PermissionSet = PermissionSet(0);

    pub fn all() -> PermissionSet {
        Permission::ALL
            .iter()
            .fold(PermissionSet::EMPTY, |s, p| s.with(*p))
    }
    pub fn with(self, p: Permission) -> PermissionSet {
        PermissionSet(self.0 | 1 << (p as u8))
    }
    pub fn insert(&mut self, p: Permission) {
        *self = self.with(p);
    }
    pub fn contains(self, p: Permission) -> bool {
        self.0 & (1 << (p as u8)) != 0
    }
    pub fn union(self, other: PermissionSet) -> PermissionSet {
        PermissionSet(self.0 | other.0)
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(move |p| self.contains(*p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sets_work() {
        assert!(Permission::ALL.len() < 32, "PermissionSet is a u32");
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.name()), Some(*p));
        }
        let s = PermissionSet::EMPTY.with(Permission::ViewWorkPackages);
        assert!(s.contains(Permission::ViewWorkPackages));
        assert!(!s.contains(Permission::EditWorkPackages));
        assert_eq!(PermissionSet::all().iter().count(), Permission::ALL.len());
        assert_eq!(
            Permission::ViewWorkPackages.module(),
            Some("work_package_tracking")
        );
        assert!(Permission::AddProject.is_global());
    }
}
