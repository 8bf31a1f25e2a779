-- A database per service (ARCHITECTURE.md §2), each owned by its own login
-- role: a service's credentials open its database and no other.
-- Run by postgres-init.sh once per <SERVICE>_DATABASE_URL with the psql
-- variables user, password and db; safe to run again (restore, new service).
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'user', :'password')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'user', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
-- PostgreSQL grants CONNECT and TEMP on a new database to every role; only the owner keeps them here.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
