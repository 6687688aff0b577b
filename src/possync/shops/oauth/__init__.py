"""OAuth connections of shops (issue 18), the database side of `possync.sources.oauth`:

- `apps`: possync's OAuth app at each vendor, from the settings;
- `tokens`: one refresh per connection at a time (a row lock), new tokens committed before
  use, refreshed before they lapse or when the API refuses them, revoked ones marked;
- `connect`: the consent request's one-use `state`, and a finished consent made a shop's
  connection with its first import queued.
"""
