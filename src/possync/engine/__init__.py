"""The engine: one run of one source, its walk over pages, the writer, reconciliation."""
