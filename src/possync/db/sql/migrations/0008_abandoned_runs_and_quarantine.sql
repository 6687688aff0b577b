-- A run whose process was killed (kill -9, the out-of-memory killer) leaves its sync_log rows
-- `started`; the next sync that can take the entity's lock closes them as `abandoned`.
ALTER TABLE sync_log DROP CONSTRAINT sync_log_status_check;
ALTER TABLE sync_log ADD CONSTRAINT sync_log_status_check
    CHECK (status IN ('started', 'completed', 'failed', 'abandoned'));

-- Whether a quarantined payload is kept exactly as received: not when an unreadable value
-- (invalid UTF-8, a number out of every range) or a NUL had to be replaced to store it.
-- `possync sync --retry-quarantined` re-validates only exact payloads.
ALTER TABLE sync_quarantine ADD COLUMN raw_exact BOOLEAN NOT NULL DEFAULT true;
