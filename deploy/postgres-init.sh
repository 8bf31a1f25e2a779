#!/bin/sh
# Creates the role and database of every service whose <SERVICE>_DATABASE_URL
# (postgres://user:password@host:port/db) is in the environment, from the very
# URLs the services connect with, so the credentials live in one place.
# Run by the postgres image on an empty data directory (docker-entrypoint-initdb.d),
# and by hand after adding a service or restoring (docs/operations.md).
# Passwords must need no URL encoding (openssl rand -hex 24).
set -eu
sql="${NOVA_POSTGRES_INIT_SQL:-$(dirname "$0")/postgres-init.sql}"
found=0
for name in $(env | sed -n 's/^\([A-Z][A-Z0-9_]*_DATABASE_URL\)=.*/\1/p' | sort); do
  url=$(printenv "$name")
  rest=${url#*://}
  credentials=${rest%%@*}
  user=${credentials%%:*}
  password=${credentials#*:}
  db=${rest#*/}
  db=${db%%\?*}
  if [ "$credentials" = "$rest" ] || [ "$user" = "$credentials" ] || [ -z "$db" ] || [ "$db" = "$rest" ]; then
    echo "postgres-init: $name is not postgres://user:password@host/db" >&2
    exit 1
  fi
  psql -v ON_ERROR_STOP=1 -q --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v user="$user" -v password="$password" -v db="$db" -f "$sql"
  echo "postgres-init: $db (role $user) from $name"
  found=$((found + 1))
done
[ "$found" -gt 0 ] || { echo "postgres-init: no *_DATABASE_URL in the environment" >&2; exit 1; }
