"""Settings: the one `Settings` object, read from the environment, `.env` and secret files."""
