-- What each sync job did, by procrastinate job id: the jobs page shows it next to the job.
-- procrastinate's own tables are installed by `possync migrate` from procrastinate's schema.sql
-- (possync.db.jobs_schema); no foreign key to them, as they come after the numbered migrations.

CREATE TABLE sync_job_outcomes (
    job_id      BIGINT PRIMARY KEY,
    source      TEXT NOT NULL,
    entity_type TEXT,                       -- NULL: every entity of the source
    attempt     INTEGER NOT NULL,
    ok          BOOLEAN NOT NULL,
    records     BIGINT NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0, -- entities that failed
    skipped     INTEGER NOT NULL DEFAULT 0, -- entities another run held
    error       TEXT,                       -- one line, no secrets
    run_ids     UUID[] NOT NULL DEFAULT '{}',
    worker      TEXT,                       -- the worker that ran the last attempt
    finished_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_sync_job_outcomes_finished ON sync_job_outcomes (finished_at DESC);

ALTER TABLE sync_job_outcomes ENABLE ROW LEVEL SECURITY;
