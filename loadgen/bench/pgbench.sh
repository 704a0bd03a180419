#!/usr/bin/env bash
# The physical limit for create-reservation, measured the same way as the
# figures beside it in BENCHMARKS.md: pgbench running a reservation's three
# inserts at CLIENTS (64) for DURATION (10 s), with prepared statements as
# the services use them, on the PostgreSQL the stack uses, in a scratch
# database (kursi_pgbench) that it creates and drops. SCRIPT picks the form:
# pgbench-create.sql (default), the three inserts in a transaction of five
# round trips; pgbench-create-one.sql, the one statement reservation-svc
# sends.
#
#   loadgen/bench/pgbench.sh              prints pgbench's summary
#
# The server is KURSI_PG_URL, else the one `scripts/stack up` recorded in
# .kursi/run/postgres-url, else postgres://postgres@127.0.0.1:5432.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
server="${KURSI_PG_URL:-}"
if [[ -z $server && -s $root/.kursi/run/postgres-url ]]; then
  server="$(<"$root/.kursi/run/postgres-url")"
fi
server="${server:-postgres://postgres@127.0.0.1:5432}"
server="${server%/}"
db=kursi_pgbench
command -v pgbench >/dev/null || { echo "pgbench: install Debian's postgresql-client" >&2; exit 2; }
psql -qX "$server/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -qX "$server/postgres" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
psql -qX -v ON_ERROR_STOP=1 "$server/$db" -f "$here/pgbench-setup.sql"
pgbench -n -M prepared -c "${CLIENTS:-64}" -j "${THREADS:-2}" -T "${DURATION:-10}" -f "$here/${SCRIPT:-pgbench-create.sql}" "$server/$db"
