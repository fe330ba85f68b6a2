-- Projects, roles and memberships, groups, work packages with their
-- change history (journals), custom fields, mentions and instance settings.
-- Placeholders as in 0001; dates are ISO 8601 text (YYYY-MM-DD), which
-- sorts and compares correctly on both engines.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Bumped in the transaction of every change to a table, so that cached
-- derived values (collection totals) know when they are stale.
CREATE TABLE data_versions (
    name TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO data_versions (name, version) VALUES ('work_packages', 0);

CREATE TABLE projects (
    id {id},
    identifier TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    public {bool} NOT NULL DEFAULT {false},
    active {bool} NOT NULL DEFAULT {true},
    parent_id BIGINT REFERENCES projects (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX projects_identifier ON projects (identifier);
CREATE INDEX projects_parent_id ON projects (parent_id);

CREATE TABLE enabled_modules (
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (project_id, name)
);

-- kind: 'project' (given in a project) or 'global'; builtin: NULL,
-- 'non_member' or 'anonymous' (the roles of people who are not members).
CREATE TABLE roles (
    id {id},
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    builtin TEXT,
    position BIGINT NOT NULL
);
CREATE UNIQUE INDEX roles_name ON roles (name);

CREATE TABLE role_permissions (
    role_id BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE group_users (
    group_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_users_user_id ON group_users (user_id);

-- project_id NULL: a membership that carries global roles.
CREATE TABLE members (
    id {id},
    project_id BIGINT REFERENCES projects (id) ON DELETE CASCADE,
    principal_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX members_project_principal ON members (project_id, principal_id);
CREATE INDEX members_principal_id ON members (principal_id);

CREATE TABLE member_roles (
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    role_id BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (member_id, role_id)
);

CREATE TABLE statuses (
    id {id},
    name TEXT NOT NULL,
    is_closed {bool} NOT NULL DEFAULT {false},
    is_default {bool} NOT NULL DEFAULT {false},
    color TEXT NOT NULL DEFAULT '',
    position BIGINT NOT NULL
);
CREATE UNIQUE INDEX statuses_name ON statuses (name);

CREATE TABLE types (
    id {id},
    name TEXT NOT NULL,
    is_milestone {bool} NOT NULL DEFAULT {false},
    is_default {bool} NOT NULL DEFAULT {false},
    color TEXT NOT NULL DEFAULT '',
    position BIGINT NOT NULL
);
CREATE UNIQUE INDEX types_name ON types (name);

CREATE TABLE priorities (
    id {id},
    name TEXT NOT NULL,
    is_default {bool} NOT NULL DEFAULT {false},
    active {bool} NOT NULL DEFAULT {true},
    position BIGINT NOT NULL
);
CREATE UNIQUE INDEX priorities_name ON priorities (name);

CREATE TABLE versions (
    id {id},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open',
    start_date TEXT,
    due_date TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX versions_project_name ON versions (project_id, name);

CREATE TABLE work_packages (
    id {id},
    project_id BIGINT NOT NULL REFERENCES projects (id),
    type_id BIGINT NOT NULL REFERENCES types (id),
    status_id BIGINT NOT NULL REFERENCES statuses (id),
    priority_id BIGINT NOT NULL REFERENCES priorities (id),
    subject TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    author_id BIGINT NOT NULL REFERENCES users (id),
    assigned_to_id BIGINT REFERENCES users (id),
    responsible_id BIGINT REFERENCES users (id),
    start_date TEXT,
    due_date TEXT,
    estimated_hours DOUBLE PRECISION,
    remaining_hours DOUBLE PRECISION,
    done_ratio BIGINT,
    parent_id BIGINT REFERENCES work_packages (id),
    version_id BIGINT REFERENCES versions (id),
    lock_version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX work_packages_project_id ON work_packages (project_id);
CREATE INDEX work_packages_status_id ON work_packages (status_id);
CREATE INDEX work_packages_author_id ON work_packages (author_id);
CREATE INDEX work_packages_assigned_to_id ON work_packages (assigned_to_id);
CREATE INDEX work_packages_responsible_id ON work_packages (responsible_id);
CREATE INDEX work_packages_parent_id ON work_packages (parent_id);
CREATE INDEX work_packages_version_id ON work_packages (version_id);

-- kind: 'work_package' or 'user'; field_format: string, text, int, float,
-- date, bool, list, user.
CREATE TABLE custom_fields (
    id {id},
    kind TEXT NOT NULL,
    field_format TEXT NOT NULL,
    name TEXT NOT NULL,
    is_required {bool} NOT NULL DEFAULT {false},
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX custom_fields_kind_name ON custom_fields (kind, name);

CREATE TABLE custom_options (
    id {id},
    custom_field_id BIGINT NOT NULL REFERENCES custom_fields (id) ON DELETE CASCADE,
    value TEXT NOT NULL,
    position BIGINT NOT NULL
);

-- A value of a user-format field is kept in value_user_id, a real foreign
-- key, so that erasure and the residue scan find it like any other reference.
CREATE TABLE custom_values (
    id {id},
    custom_field_id BIGINT NOT NULL REFERENCES custom_fields (id) ON DELETE CASCADE,
    customized_type TEXT NOT NULL,
    customized_id BIGINT NOT NULL,
    value TEXT,
    value_user_id BIGINT REFERENCES users (id)
);
CREATE INDEX custom_values_customized ON custom_values (customized_type, customized_id);
CREATE INDEX custom_values_value_user_id ON custom_values (value_user_id);

-- One journal per create or update: who, when, the comment; the state
-- after the change is kept in work_package_journals (and the custom values
-- in custom_value_journals), so any past state can be read back and the
-- changes of a journal are the difference to the one before.
CREATE TABLE journals (
    id {id},
    journable_type TEXT NOT NULL,
    journable_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    notes TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX journals_journable_version ON journals (journable_type, journable_id, version);
CREATE INDEX journals_user_id ON journals (user_id);
CREATE INDEX journals_created_at ON journals (created_at);

CREATE TABLE work_package_journals (
    journal_id BIGINT PRIMARY KEY REFERENCES journals (id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL,
    type_id BIGINT NOT NULL,
    status_id BIGINT NOT NULL,
    priority_id BIGINT NOT NULL,
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    author_id BIGINT NOT NULL REFERENCES users (id),
    assigned_to_id BIGINT REFERENCES users (id),
    responsible_id BIGINT REFERENCES users (id),
    start_date TEXT,
    due_date TEXT,
    estimated_hours DOUBLE PRECISION,
    remaining_hours DOUBLE PRECISION,
    done_ratio BIGINT,
    parent_id BIGINT,
    version_id BIGINT
);
CREATE INDEX work_package_journals_assigned_to_id ON work_package_journals (assigned_to_id);
CREATE INDEX work_package_journals_responsible_id ON work_package_journals (responsible_id);
CREATE INDEX work_package_journals_author_id ON work_package_journals (author_id);

CREATE TABLE custom_value_journals (
    id {id},
    journal_id BIGINT NOT NULL REFERENCES journals (id) ON DELETE CASCADE,
    custom_field_id BIGINT NOT NULL,
    value TEXT,
    value_user_id BIGINT REFERENCES users (id)
);
CREATE INDEX custom_value_journals_journal_id ON custom_value_journals (journal_id);
CREATE INDEX custom_value_journals_value_user_id ON custom_value_journals (value_user_id);

-- Earlier wordings of an edited comment, so that the edit is itself kept.
CREATE TABLE journal_note_edits (
    id {id},
    journal_id BIGINT NOT NULL REFERENCES journals (id) ON DELETE CASCADE,
    previous_notes TEXT NOT NULL,
    edited_by BIGINT NOT NULL REFERENCES users (id),
    edited_at BIGINT NOT NULL
);
CREATE INDEX journal_note_edits_journal_id ON journal_note_edits (journal_id);
CREATE INDEX journal_note_edits_edited_by ON journal_note_edits (edited_by);

-- A reference from a text (a work package description or a journal's
-- note) to a user it mentions.
CREATE TABLE mentions (
    id {id},
    source_type TEXT NOT NULL,
    source_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX mentions_source_user ON mentions (source_type, source_id, user_id);
CREATE INDEX mentions_user_id ON mentions (user_id);

-- Defaults, as a fresh OpenProject has them.
INSERT INTO statuses (name, is_closed, is_default, color, position) VALUES
    ('New', {false}, {true}, '#1A67A3', 1),
    ('In specification', {false}, {false}, '#F0C94F', 2),
    ('Specified', {false}, {false}, '#57B49D', 3),
    ('Confirmed', {false}, {false}, '#3F7FBF', 4),
    ('To be scheduled', {false}, {false}, '#CCCCCC', 5),
    ('Scheduled', {false}, {false}, '#95CBEA', 6),
    ('In progress', {false}, {false}, '#FF922B', 7),
    ('Developed', {false}, {false}, '#4C9F6B', 8),
    ('In testing', {false}, {false}, '#7D5DB1', 9),
    ('Tested', {false}, {false}, '#2F9E44', 10),
    ('Test failed', {false}, {false}, '#E03131', 11),
    ('Closed', {true}, {false}, '#495057', 12),
    ('On hold', {false}, {false}, '#FAB005', 13),
    ('Rejected', {true}, {false}, '#C92A2A', 14);

INSERT INTO types (name, is_milestone, is_default, color, position) VALUES
    ('Task', {false}, {true}, '#1A67A3', 1),
    ('Milestone', {true}, {false}, '#35C53F', 2),
    ('Phase', {false}, {false}, '#FF922B', 3),
    ('Feature', {false}, {false}, '#5C7CFA', 4),
    ('Epic', {false}, {false}, '#7048E8', 5),
    ('User story', {false}, {false}, '#1098AD', 6),
    ('Bug', {false}, {false}, '#E03131', 7);

INSERT INTO priorities (name, is_default, active, position) VALUES
    ('Low', {false}, {true}, 1),
    ('Normal', {true}, {true}, 2),
    ('High', {false}, {true}, 3),
    ('Immediate', {false}, {true}, 4);

INSERT INTO roles (name, kind, builtin, position) VALUES
    ('Non member', 'project', 'non_member', 1),
    ('Anonymous', 'project', 'anonymous', 2),
    ('Project admin', 'project', NULL, 3),
    ('Member', 'project', NULL, 4),
    ('Reader', 'project', NULL, 5),
    ('Project creator', 'global', NULL, 6);

-- The built-in roles' permissions (crates/domain/src/permission.rs lists them all).
INSERT INTO role_permissions (role_id, permission)
SELECT r.id, p.permission FROM roles r, (
    SELECT 'view_project' AS permission UNION ALL SELECT 'edit_project'
    UNION ALL SELECT 'archive_project' UNION ALL SELECT 'select_project_modules'
    UNION ALL SELECT 'manage_members' UNION ALL SELECT 'view_members'
    UNION ALL SELECT 'manage_versions' UNION ALL SELECT 'view_work_packages'
    UNION ALL SELECT 'add_work_packages' UNION ALL SELECT 'edit_work_packages'
    UNION ALL SELECT 'delete_work_packages' UNION ALL SELECT 'manage_subtasks'
    UNION ALL SELECT 'add_work_package_notes' UNION ALL SELECT 'edit_own_work_package_notes'
    UNION ALL SELECT 'edit_work_package_notes'
) p WHERE r.name = 'Project admin';

INSERT INTO role_permissions (role_id, permission)
SELECT r.id, p.permission FROM roles r, (
    SELECT 'view_project' AS permission UNION ALL SELECT 'view_members'
    UNION ALL SELECT 'view_work_packages' UNION ALL SELECT 'add_work_packages'
    UNION ALL SELECT 'edit_work_packages' UNION ALL SELECT 'manage_subtasks'
    UNION ALL SELECT 'add_work_package_notes' UNION ALL SELECT 'edit_own_work_package_notes'
) p WHERE r.name = 'Member';

INSERT INTO role_permissions (role_id, permission)
SELECT r.id, p.permission FROM roles r, (
    SELECT 'view_project' AS permission UNION ALL SELECT 'view_members'
    UNION ALL SELECT 'view_work_packages'
) p WHERE r.name = 'Reader';

INSERT INTO role_permissions (role_id, permission)
SELECT r.id, p.permission FROM roles r, (
    SELECT 'view_project' AS permission UNION ALL SELECT 'view_work_packages'
) p WHERE r.name IN ('Non member', 'Anonymous');

INSERT INTO role_permissions (role_id, permission)
SELECT id, 'add_project' FROM roles WHERE name = 'Project creator';
