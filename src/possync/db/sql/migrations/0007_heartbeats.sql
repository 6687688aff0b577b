-- Heartbeats of possync's workers and schedulers. Each process that runs jobs (`serve`,
-- `possync worker`) keeps one row per role and moves `last_beat` every few seconds while its
-- worker (and, with schedules, its scheduler) is connected and running. `/healthz`, `/metrics`
-- and the dashboard read liveness from here. procrastinate's own `procrastinate_workers`
-- keeps a heartbeat too, but with neither a name nor a role: it cannot tell a scheduler from
-- a worker, nor say which process stopped.
CREATE TABLE possync_heartbeats (
    process     TEXT NOT NULL,                  -- possync@host:pid
    role        TEXT NOT NULL CHECK (role IN ('worker', 'scheduler')),
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_beat   TIMESTAMPTZ NOT NULL DEFAULT now(),
    restarts    INTEGER NOT NULL DEFAULT 0,     -- reconnections after the database went away
    PRIMARY KEY (process, role)
);
CREATE INDEX idx_possync_heartbeats_last_beat ON possync_heartbeats (role, last_beat DESC);
