"""Shared fixtures: one real PostgreSQL per test session, a fresh database per test.

The server is the embedded PostgreSQL (or POSSYNC_TEST_DATABASE_URL, an external server where
this user may create databases). A template database is migrated once; each test gets its own
copy (`CREATE DATABASE … TEMPLATE`), which takes milliseconds.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from possync.config.settings import Settings, load_settings
from possync.db.connection import Database, start_embedded_server, stop_embedded_server
from possync.db.migrate import migrate

TEMPLATE_NAME = "possync_test_template"

# Fixtures every folder may use: `isolated_env`, `possync_cli`, `possync_process`.
pytest_plugins = ("tests.support.environment", "tests.support.cli")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Database]:
    """The PostgreSQL server every test's database lives on (its maintenance database)."""
    external = os.environ.get("POSSYNC_TEST_DATABASE_URL")
    if external:
        yield Database(external, "public")
        return
    # Not under pytest's 0700 tmp dir: the server runs as its own user and must reach it.
    data_dir = Path(tempfile.mkdtemp(prefix="possync-test-pg-"))
    data_dir.chmod(0o755)
    try:
        yield Database(start_embedded_server(data_dir), "public")
    finally:
        stop_embedded_server(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def make_settings(db: Database, data_dir: Path, **overrides: object) -> Settings:
    """Settings for a test: only what it passes, nothing from the developer's environment."""
    values: dict[str, object] = {
        "database_url": db.url,
        "data_dir": data_dir,
        "_env_file": None,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture(scope="session")
def template_db(pg_server: Database, tmp_path_factory: pytest.TempPathFactory) -> Database:
    """A database migrated to the latest schema, used as the template for each test."""
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(TEMPLATE_NAME)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE_NAME)))
    template = pg_server.with_database_name(TEMPLATE_NAME)
    migrate(template, make_settings(template, tmp_path_factory.mktemp("tmpl")))
    return template


def _create_database(pg_server: Database, template: str | None) -> Database:
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        conn.execute(statement)
    return pg_server.with_database_name(name)


def _drop_database(pg_server: Database, db: Database) -> None:
    name = db.url.rsplit("/", 1)[-1].split("?", 1)[0]
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def db(pg_server: Database, template_db: Database) -> Iterator[Database]:
    """A fresh, migrated database for this test only."""
    database = _create_database(pg_server, TEMPLATE_NAME)
    yield database
    _drop_database(pg_server, database)


@pytest.fixture
def empty_db(pg_server: Database) -> Iterator[Database]:
    """A fresh database with no possync schema at all."""
    database = _create_database(pg_server, None)
    yield database
    _drop_database(pg_server, database)


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    return make_settings(db, tmp_path)
