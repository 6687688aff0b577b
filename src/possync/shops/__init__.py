"""Shops: the businesses one possync deployment serves (issue 14).

- `model`: `Shop` and `Connection`, as read from the registry;
- `secrets`: the Fernet keys that encrypt tokens and alert URLs at rest;
- `registry`: the `possync_shops` tables in the control schema;
- `resolve`: a shop → the `Settings` and `Database` every other layer already takes;
- `schemas`: a shop's own schema, created, migrated and dropped.

The shop configured by the environment (POSSYNC_LIGHTSPEED_TOKEN, POSSYNC_SQUARE_TOKEN, tables
in POSSYNC_SCHEMA) is the shop named `default`; it needs no registry row.
"""
