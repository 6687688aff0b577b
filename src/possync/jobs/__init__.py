"""Background jobs on procrastinate: the sync and reconcile tasks, schedules, the worker."""
