"""OAuth 2.0, the client side, HTTP only (issue 18): the vendors' consent-page addresses, the
code exchange, refresh and revoke (`vendors.py`), what they answer (`grants.py`), and a
transport that renews an access token the API refused (`renewing.py`).

Nothing here touches the database: storing tokens, locking a connection while it refreshes
and marking it revoked are `possync.shops.oauth`'s.
"""
