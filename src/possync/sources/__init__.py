"""POS API sources: HTTP only. A source turns API pages into `Page`s (`base`); it never touches
the database (the engine joins sources to the loader). `registry` declares every source: its
client, its tables, how to tell it is configured."""
