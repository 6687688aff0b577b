"""Table declarations: one module per source (`lightspeed`, `square`), the column types in
`spec`, and what each source syncs in `declared`. Callers look sources up through
`possync.sources.registry`."""
