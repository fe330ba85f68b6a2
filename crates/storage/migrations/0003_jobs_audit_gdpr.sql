-- Background jobs, the audit trail (security events and access to personal
-- data), and the data-subject requests: exports, erasure certificates and
-- the redaction queue for free text. Same placeholders as 0001.

-- Jobs carry ids of other records in their payload (an export's id, say),
-- never personal data itself: erasing a person never has to read payloads.
CREATE TABLE jobs (
    id {id},
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    -- queued | running | done | failed
    status TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    locked_by TEXT,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX jobs_status_run_at ON jobs (status, run_at);

-- Recurring jobs: one row per schedule; whoever moves next_run_at forward
-- (a conditional UPDATE) enqueues the run, so several workers enqueue it once.
CREATE TABLE job_schedules (
    name TEXT PRIMARY KEY,
    next_run_at BIGINT NOT NULL,
    last_run_at BIGINT
);

-- Security events and every access by one person to another's personal
-- data. `details` is JSON written by Steward itself: ids and field names,
-- never personal values.
CREATE TABLE audit_events (
    id {id},
    created_at BIGINT NOT NULL,
    -- security | access
    category TEXT NOT NULL,
    event TEXT NOT NULL,
    actor_id BIGINT REFERENCES users (id),
    target_user_id BIGINT REFERENCES users (id),
    request_id TEXT,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_created_at ON audit_events (created_at);
CREATE INDEX audit_events_actor_id ON audit_events (actor_id);
CREATE INDEX audit_events_target_user_id ON audit_events (target_user_id);

-- Per-person exports (Art. 15 and 20). The archive lives in a file under
-- the data directory; only the requester may download it, until expires_at.
CREATE TABLE gdpr_exports (
    id {id},
    subject_user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    requested_by BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- queued | running | ready | failed | expired
    status TEXT NOT NULL,
    job_id BIGINT,
    file_name TEXT,
    size_bytes BIGINT,
    sha256 TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    completed_at BIGINT,
    expires_at BIGINT
);
CREATE INDEX gdpr_exports_subject ON gdpr_exports (subject_user_id);
CREATE INDEX gdpr_exports_requested_by ON gdpr_exports (requested_by);

-- Erasure certificates (Art. 17), kept for the controller. They hold a
-- salted hash of the erased id and counts, no other data of the person.
CREATE TABLE erasure_certificates (
    id {id},
    subject_hash TEXT NOT NULL,
    salt TEXT NOT NULL,
    -- the administrator who asked; the "Deleted user" when the person
    -- erased their own account
    requested_by BIGINT NOT NULL REFERENCES users (id),
    requested_at BIGINT NOT NULL,
    completed_at BIGINT NOT NULL,
    document TEXT NOT NULL
);

-- Free text naming an erased person outside structured mentions. The
-- terms searched for (the person's names, login, email) are kept only while
-- an entry is open, then blanked.
CREATE TABLE redaction_subjects (
    id {id},
    certificate_id BIGINT NOT NULL REFERENCES erasure_certificates (id),
    terms TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE redaction_entries (
    id {id},
    subject_id BIGINT NOT NULL REFERENCES redaction_subjects (id),
    table_name TEXT NOT NULL,
    column_name TEXT NOT NULL,
    row_id BIGINT NOT NULL,
    -- open | redacted | dismissed
    status TEXT NOT NULL,
    resolved_by BIGINT REFERENCES users (id),
    resolved_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX redaction_entries_status ON redaction_entries (status);
