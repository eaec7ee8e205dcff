#!/bin/sh
# The API's own login (BOOKLNK_APP_DATABASE_URL): a member of the application role and
# nothing more, so PostgreSQL's row-level security applies to every statement it runs, and
# it cannot alter the schema or undo the role switch into a more powerful one. Run once by
# the postgres image on its first start (/docker-entrypoint-initdb.d), before migrations,
# which grant the application role its table rights. The role names match the defaults of
# BOOKLNK_DB_APP_ROLE and the compose file.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v app_role="${BOOKLNK_DB_APP_ROLE:-booklnk_app}" \
    -v login="${BOOKLNK_API_DB_USER:-booklnk_api}" \
    -v password="$BOOKLNK_API_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOBYPASSRLS', :'app_role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_role') \gexec
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD %L IN ROLE %I',
              :'login', :'password', :'app_role') \gexec
SQL
