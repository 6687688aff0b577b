-- possync: control schema only
-- The dispatcher's memory (issue 14): per shop and schedule, the latest scheduled time whose
-- jobs were queued. A worker that claims a time moves it forward in the transaction that
-- queues the jobs, so any number of dispatchers queue each scheduled time once, and a time
-- missed while no worker ran is queued once when one comes back (the latest only).
-- `shop_name` is not a reference: the environment's shop ('default') is not registered.
CREATE TABLE possync_dispatches (
    shop_name     text NOT NULL,
    schedule      text NOT NULL CHECK (schedule IN ('incremental', 'deep')),
    due_at        timestamptz NOT NULL,
    dispatched_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_name, schedule)
);

ALTER TABLE possync_dispatches ENABLE ROW LEVEL SECURITY;
