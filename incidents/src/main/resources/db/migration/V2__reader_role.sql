-- The query side (stallwatch incidents, the HTTP API, Grafana) reads with this role and can
-- write nothing. It is a group role without login: give people and services their own login
-- roles in it, e.g.
--   CREATE ROLE grafana LOGIN PASSWORD '...' IN ROLE stallwatch_reader;
-- Creating a role needs CREATEROLE. A migrating user without it fails here; then a DBA runs
--   CREATE ROLE stallwatch_reader NOLOGIN;
-- once, and the migration only grants.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'stallwatch_reader') THEN
    CREATE ROLE stallwatch_reader NOLOGIN;
  END IF;
END
$$;

GRANT USAGE ON SCHEMA ${flyway:defaultSchema} TO stallwatch_reader;
GRANT SELECT ON incidents TO stallwatch_reader;
-- tables of later migrations are readable too
ALTER DEFAULT PRIVILEGES IN SCHEMA ${flyway:defaultSchema} GRANT SELECT ON TABLES TO stallwatch_reader;
