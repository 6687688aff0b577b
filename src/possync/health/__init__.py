"""Sync health: the freshness thresholds and the one rule that colours an entity."""
