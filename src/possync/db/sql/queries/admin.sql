-- Migrating, securing and granting possync's schema, and checking a role can use it. A query
-- with {fields} is a template: its identifiers are quoted by psycopg.sql.

-- schema_unusable --
-- True when the connected role may not use the schema.
SELECT NOT has_schema_privilege(oid, 'USAGE') FROM pg_namespace WHERE nspname = %s

-- current_role_name --
SELECT current_user

-- schema_has_tables --
-- possync's tables exist in the schema (sync_state stands for all of them).
SELECT to_regclass(format('%%I.sync_state', %s::text)) IS NOT NULL

-- role_read_access --
-- Per probe table: may the connected role SELECT it, and would row-level security hide every
-- row from it (it is not the owner, bypasses nothing, and no policy covers it)?
SELECT c.relname,
       has_table_privilege(c.oid, 'SELECT') AS can_select,
       c.relrowsecurity
       AND c.relowner <> me.oid
       AND NOT (me.rolsuper OR me.rolbypassrls)
       AND NOT EXISTS (
           SELECT 1 FROM pg_policy p
           WHERE p.polrelid = c.oid
             AND p.polcmd IN ('r', '*')
             AND (0 = ANY(p.polroles) OR EXISTS (
                 SELECT 1 FROM unnest(p.polroles) AS r(oid)
                 WHERE pg_has_role(me.oid, r.oid, 'MEMBER')))) AS hidden
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_roles me ON me.rolname = current_user
WHERE n.nspname = %s AND c.relname = ANY(%s)

-- role_exists --
SELECT 1 FROM pg_roles WHERE rolname = %s

-- grant_schema_usage --
GRANT USAGE ON SCHEMA {schema} TO {role}

-- grant_privileges --
GRANT {privileges} ON {relation} TO {role}

-- drop_policy --
DROP POLICY IF EXISTS {policy} ON {table}

-- create_runtime_policy --
-- The runtime role sees and writes every row of the table.
CREATE POLICY {policy} ON {table} FOR ALL TO {role} USING (true) WITH CHECK (true)

-- revoke_privileges --
REVOKE {privileges} ON {relation} FROM {role}

-- possync_relations --
-- possync's own tables and views in the schema (the given names and procrastinate's), and the
-- sequences they own, as (name, relkind).
SELECT c.relname, c.relkind FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'v', 'm')
  AND (c.relname = ANY(%(names)s) OR starts_with(c.relname, 'procrastinate_'))
UNION
SELECT s.relname, s.relkind FROM pg_class s
JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_namespace n ON n.oid = s.relnamespace
WHERE n.nspname = %(schema)s AND s.relkind = 'S'
  AND (t.relname = ANY(%(names)s) OR starts_with(t.relname, 'procrastinate_'))
ORDER BY 1

-- granted_roles --
-- Roles that `possync grant` covered before: they hold possync's policy on sync_state.
SELECT DISTINCT r.rolname FROM pg_policy p
JOIN pg_class c ON c.oid = p.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_roles r ON r.oid = ANY(p.polroles)
WHERE n.nspname = %s AND c.relname = 'sync_state' AND p.polname = %s || r.rolname
ORDER BY 1

-- migrations_table_exists --
SELECT to_regclass('possync_migrations') IS NOT NULL

-- applied_migrations --
SELECT version FROM possync_migrations

-- lock_migrations --
-- One migrator at a time (a session lock: migrations commit one by one).
SELECT pg_advisory_lock(%s)

-- unlock_migrations --
SELECT pg_advisory_unlock(%s)

-- create_schema --
CREATE SCHEMA IF NOT EXISTS {schema}

-- create_migrations_table --
CREATE TABLE IF NOT EXISTS possync_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now())

-- secure_migrations_table --
ALTER TABLE possync_migrations ENABLE ROW LEVEL SECURITY

-- record_migration --
INSERT INTO possync_migrations (version, name) VALUES (%s, %s)

-- tables_without_rls --
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity

-- enable_rls --
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY

-- schema_views --
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind IN ('v', 'm')

-- view_with_invoker_rights --
ALTER VIEW {view} SET (security_invoker = true)

-- existing_roles --
SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)

-- job_queue_exists --
-- procrastinate's jobs table is in the current schema.
SELECT to_regclass('procrastinate_jobs') IS NOT NULL

-- snapshot_columns --
-- The schema as the migration tests compare it: columns, indexes, views, RLS, constraints.
SELECT table_name, column_name, data_type, is_nullable, column_default
FROM information_schema.columns WHERE table_schema = %s
ORDER BY table_name, column_name

-- snapshot_indexes --
SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s ORDER BY indexname

-- snapshot_views --
SELECT viewname, definition FROM pg_views WHERE schemaname = %s ORDER BY viewname

-- snapshot_rls --
SELECT c.relname, c.relrowsecurity FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname

-- snapshot_constraints --
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = %s::regnamespace ORDER BY 1, 2

-- sync_tables_exist --
-- Whether possync's tables are in the search path's first schema.
SELECT to_regclass('sync_state') IS NOT NULL

-- drop_schema --
DROP SCHEMA {schema} CASCADE
