#!/usr/bin/env bash
# shellcheck shell=bash
# Finds a PostgreSQL server for Kursi, or starts a private one.
#
# Sourced by scripts/stack and scripts/test (call ensure_postgres), or run
# directly for a quick check:
#   scripts/lib/postgres.sh ensure   # prints the server URL on stdout
#   scripts/lib/postgres.sh status
#   scripts/lib/postgres.sh stop     # stops the private cluster only
#
# Settings (environment):
#   KURSI_PG_URL   server to try first; default postgres://postgres@127.0.0.1:5432
#                  (a database path or query in it is allowed; the path is ignored)
#   KURSI_PG_MODE  auto (default): that server if it answers, else the private
#                  cluster; external: that server or fail; private: always the
#                  private cluster
#   KURSI_PG_DIR   where the private cluster lives; default .kursi/postgres
#   KURSI_PG_PORT  first port to try for the private cluster; default 55432
#   KURSI_PG_BINDIR  directory holding initdb and pg_ctl; default the newest
#                  /usr/lib/postgresql/*/bin (Debian's layout), else $PATH
#   KURSI_NO_INSTALL=1  never apt-get install the postgresql package
#
# ensure_postgres exports KURSI_PG_URL (the server chosen, no database),
# KURSI_PG_PRIVATE (1 when it is the private cluster) and KURSI_PG_STARTED
# (1 when this call started it).

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

KURSI_PG_DEFAULT_URL="postgres://postgres@127.0.0.1:5432"
PG_DIR="${KURSI_PG_DIR:-$KURSI_STATE/postgres}"
PG_DATA="$PG_DIR/data"
PG_SOCK="$PG_DIR/run"
PG_LOG="$PG_DIR/postgres.log"

# ---------------------------------------------------------------- URLs ----

# postgres://u@h:p/db?x=y -> postgres://u@h:p?x=y : the server, no database.
pg_server_url() {
  local url=$1 query="" scheme rest
  if [[ $url == *\?* ]]; then
    query="?${url#*\?}"
    url="${url%%\?*}"
  fi
  scheme="${url%%://*}"
  rest="${url#*://}"
  printf '%s://%s%s\n' "$scheme" "${rest%%/*}" "$query"
}

# pg_db_url SERVER_URL DATABASE -> the URL of that database on that server.
pg_db_url() {
  local server=$1 db=$2 query=""
  if [[ $server == *\?* ]]; then
    query="?${server#*\?}"
    server="${server%%\?*}"
  fi
  printf '%s/%s%s\n' "${server%/}" "$db" "$query"
}

# --------------------------------------------------- an existing server ----

# host and port of a postgres:// URL, for when no PostgreSQL client exists.
pg_host_port() {
  url_host_port "$1" 5432
}

# pg_probe SERVER_URL: 0 = answers and lets us in, 1 = nothing answers,
# 2 = a server answers but refuses us (wrong user, password, ...).
# pg_isready only knocks; psql proves the credentials work, which is what
# the services will need.
pg_probe() {
  local server=$1 admin rc=0 tries=0 err="$KURSI_STATE/.pg-probe.err"
  admin="$(pg_db_url "$server" postgres)"
  if have pg_isready; then
    while :; do
      rc=0
      pg_isready -q -t 3 -d "$admin" || rc=$?
      # 1 = "rejecting connections": starting up or shutting down; give it
      # a few seconds before calling it absent.
      [[ $rc -eq 1 && $tries -lt 10 ]] || break
      tries=$((tries + 1))
      sleep 1
    done
    [[ $rc -eq 0 ]] || return 1
  fi
  if have psql; then
    PGCONNECT_TIMEOUT=5 psql "$admin" -XqtAc 'select 1' >/dev/null 2>"$err" && return 0
    # Without pg_isready, "absent" and "refused" look alike: read why.
    if ! have pg_isready &&
      grep -qiE 'could not connect|connection refused|no such file|timeout expired' "$err"; then
      return 1
    fi
    return 2
  fi
  # No client tools at all: an open port is the best evidence there is.
  # shellcheck disable=SC2046 # two words on purpose: host port
  tcp_open $(pg_host_port "$server") || return 1
  warn "no psql here: assuming the server at $server accepts us"
}

# ------------------------------------------------ the private cluster ----

# The directory with initdb/pg_ctl/postgres, or nothing.
pg_bindir() {
  local dir
  if [[ -n ${KURSI_PG_BINDIR:-} ]]; then
    [[ -x $KURSI_PG_BINDIR/initdb && -x $KURSI_PG_BINDIR/pg_ctl ]] ||
      die "KURSI_PG_BINDIR=$KURSI_PG_BINDIR has no initdb and pg_ctl"
    printf '%s\n' "$KURSI_PG_BINDIR"
    return 0
  fi
  # Debian installs server binaries outside $PATH, one folder per major.
  local -a dirs
  mapfile -t dirs < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
  for dir in "${dirs[@]}"; do
    if [[ -x $dir/initdb && -x $dir/pg_ctl ]]; then
      printf '%s\n' "$dir"
      return 0
    fi
  done
  if have initdb && have pg_ctl; then
    dirname "$(command -v initdb)"
  fi
}

# initdb and pg_ctl refuse to run as root, so as root they run as the
# `postgres` system user (created by Debian's postgresql packages), which
# therefore owns the cluster's folder.
pg_owner_run() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Echoes the private cluster's postmaster pid when it is running.
private_pg_pid() {
  local pid
  [[ -r $PG_DATA/postmaster.pid ]] || return 1
  pid="$(sed -n 1p "$PG_DATA/postmaster.pid")"
  pid_is "$pid" postgres || return 1
  printf '%s\n' "$pid"
}

# The private cluster's URL, read from postmaster.pid (line 4 is the port).
private_pg_url() {
  printf 'postgres://postgres@127.0.0.1:%s\n' "$(sed -n 4p "$PG_DATA/postmaster.pid")"
}

# First port from KURSI_PG_PORT on that nothing listens on.
pick_free_port() {
  local port=${KURSI_PG_PORT:-55432} last
  last=$((port + 50))
  while ((port <= last)); do
    tcp_open 127.0.0.1 "$port" || {
      printf '%s\n' "$port"
      return 0
    }
    port=$((port + 1))
  done
  die "no free port in ${KURSI_PG_PORT:-55432}..$last for the private PostgreSQL; set KURSI_PG_PORT"
}

install_postgres_binaries() {
  log "no PostgreSQL server binaries found (initdb, pg_ctl)"
  apt_install postgresql
  [[ -n $(pg_bindir) ]] || die "the postgresql package is installed but initdb/pg_ctl were not found; set KURSI_PG_BINDIR"
}

# Creates the cluster's folder, owned by whoever will run the server, and
# checks that user can reach it (every parent folder must be traversable).
prepare_private_dir() {
  mkdir -p "$PG_DIR" "$PG_SOCK"
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 ||
      die "running as root, but there is no 'postgres' system user to run the private PostgreSQL as"
    chown postgres:postgres "$PG_DIR" "$PG_SOCK"
    [[ ! -d $PG_DATA ]] || chown -R postgres:postgres "$PG_DATA"
    pg_owner_run test -w "$PG_DIR" ||
      die "user 'postgres' cannot reach $PG_DIR (a parent folder is not traversable); set KURSI_PG_DIR to a folder it can reach, e.g. /var/tmp/kursi-postgres"
  fi
}

init_private_cluster() {
  local bindir=$1
  log "postgres: creating a private cluster in $PG_DATA"
  # Trust auth on 127.0.0.1 and a private socket dir: it is a throwaway
  # development/test server that only this machine can reach.
  pg_owner_run "$bindir/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 \
    --locale=C --no-sync >"$PG_DIR/initdb.log" 2>&1 || {
    tail -n 20 "$PG_DIR/initdb.log" >&2
    die "initdb failed (log: $PG_DIR/initdb.log)"
  }
  # Durability is traded for speed (tests create many databases): a crash
  # can lose this cluster's data, which only ever holds dev and test data.
  pg_owner_run tee -a "$PG_DATA/postgresql.conf" >/dev/null <<EOF

# --- added by scripts/lib/postgres.sh (Kursi private dev/test cluster) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_SOCK'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

start_private_cluster() {
  local bindir=$1 port
  port="$(pick_free_port)"
  log "postgres: starting the private cluster on 127.0.0.1:$port"
  # The port is given at each start rather than written in the config, so a
  # port taken since last time is simply replaced by a free one.
  pg_owner_run "$bindir/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
    -o "-p $port" start >/dev/null || {
    tail -n 30 "$PG_LOG" >&2 2>/dev/null || true
    die "the private PostgreSQL did not start (log: $PG_LOG); if the cluster is from an older PostgreSQL, remove $PG_DIR"
  }
}

use_private_postgres() {
  local bindir
  if private_pg_pid >/dev/null; then
    KURSI_PG_URL="$(private_pg_url)"
    log "postgres: using the private cluster already running at $KURSI_PG_URL"
  else
    bindir="$(pg_bindir)"
    if [[ -z $bindir ]]; then
      install_postgres_binaries
      bindir="$(pg_bindir)"
    fi
    prepare_private_dir
    [[ -s $PG_DATA/PG_VERSION ]] || init_private_cluster "$bindir"
    start_private_cluster "$bindir"
    KURSI_PG_URL="$(private_pg_url)"
    KURSI_PG_STARTED=1
    log "postgres: private cluster started at $KURSI_PG_URL (data: $PG_DATA)"
  fi
  KURSI_PG_PRIVATE=1
}

# ---------------------------------------------------------- public API ----

# ensure_postgres [URL]: see the header. Idempotent.
ensure_postgres() {
  local wanted mode=${KURSI_PG_MODE:-auto} rc=0
  wanted="$(pg_server_url "${1:-${KURSI_PG_URL:-$KURSI_PG_DEFAULT_URL}}")"
  mkdir -p "$KURSI_STATE"
  KURSI_PG_PRIVATE=0
  KURSI_PG_STARTED=0
  case $mode in
    auto | external)
      pg_probe "$wanted" || rc=$?
      if [[ $rc -eq 0 ]]; then
        KURSI_PG_URL="$wanted"
        log "postgres: using the server at $KURSI_PG_URL"
      elif [[ $rc -eq 2 ]]; then
        sed 's/^/  /' "$KURSI_STATE/.pg-probe.err" >&2
        die "a PostgreSQL server answers at $wanted but refuses the connection; fix KURSI_PG_URL (or DATABASE_URL), or set KURSI_PG_MODE=private"
      elif [[ $mode == external ]]; then
        die "no PostgreSQL answers at $wanted (KURSI_PG_MODE=external)"
      else
        log "postgres: nothing answers at $wanted; using a private cluster"
        use_private_postgres
      fi
      ;;
    private) use_private_postgres ;;
    *) die "KURSI_PG_MODE must be auto, external or private (got '$mode')" ;;
  esac
  export KURSI_PG_URL KURSI_PG_PRIVATE KURSI_PG_STARTED
}

# Creates DATABASE on the chosen server unless it exists. The services also
# create their own database; doing it here too gives an early, clear error.
pg_create_database() {
  local db=$1 admin
  have psql || return 0
  admin="$(pg_db_url "$KURSI_PG_URL" postgres)"
  if [[ -z $(psql "$admin" -XqtAc "select 1 from pg_database where datname = '$db'") ]]; then
    psql "$admin" -Xqc "create database \"$db\"" >/dev/null
    log "postgres: created database $db"
  fi
}

# Stops the private cluster if it runs. Never touches any other server.
# verbose|quiet: quiet says nothing unless it fails (scripts/test keeps the test
# runner's summary as its last line).
stop_private_postgres() {
  local pid bindir
  pid="$(private_pg_pid)" || return 0
  bindir="$(pg_bindir)"
  [[ ${1:-} == quiet ]] || log "postgres: stopping the private cluster (pid $pid)"
  if [[ -n $bindir ]]; then
    pg_owner_run "$bindir/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null && return 0
  fi
  # SIGINT is PostgreSQL's "fast shutdown".
  kill -INT "$pid" 2>/dev/null || true
  stop_pid "$pid" postgres 60
}

private_postgres_status() {
  if private_pg_pid >/dev/null; then
    printf 'private PostgreSQL: running at %s (data: %s)\n' "$(private_pg_url)" "$PG_DATA"
  else
    printf 'private PostgreSQL: not running\n'
  fi
}

pg_main() {
  set -euo pipefail
  case ${1:-ensure} in
    ensure)
      ensure_postgres "${2:-}"
      printf '%s\n' "$KURSI_PG_URL"
      ;;
    stop) stop_private_postgres verbose ;;
    status) private_postgres_status ;;
    *) die "usage: $0 [ensure [URL]|stop|status]" ;;
  esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  pg_main "$@"
fi
