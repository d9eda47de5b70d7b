#!/bin/sh
# Runs once, when the PostgreSQL volume is new: the read-only role the migrations grant to, and
# Grafana's login in it, with its password from the secret file.
set -eu
password=$(cat /run/secrets/grafana_db_password)
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v password="$password" <<'SQL'
CREATE ROLE stallwatch_reader NOLOGIN;
CREATE ROLE grafana LOGIN PASSWORD :'password' IN ROLE stallwatch_reader;
SQL
