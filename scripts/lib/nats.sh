#!/usr/bin/env bash
# shellcheck shell=bash
# Finds a NATS server with JetStream for Kursi, or starts a private one.
#
# Sourced by scripts/stack and scripts/test (call ensure_nats), or run
# directly for a quick check:
#   scripts/lib/nats.sh ensure [URL]   # prints the server URL on stdout
#   scripts/lib/nats.sh status
#   scripts/lib/nats.sh stop           # stops the private server only
#
# Settings (environment):
#   KURSI_NATS_URL   server to try first; default nats://127.0.0.1:4222
#                    (user:password@ in it is allowed: the check needs none)
#   KURSI_NATS_MODE  auto (default): that server if it answers with JetStream
#                    on, else the private one; external: that server or fail;
#                    private: always the private server
#   KURSI_NATS_DIR   where the private server keeps its store, log and pid
#                    file; default .kursi/nats
#   KURSI_NATS_PORT  first port to try for the private server; default 54222
#   KURSI_NATS_BIN   the nats-server program; default nats-server on $PATH,
#                    else /usr/sbin/nats-server (Debian's place, outside a
#                    normal user's $PATH)
#   KURSI_NO_INSTALL=1  never apt-get install the nats-server package
#
# ensure_nats exports KURSI_NATS_URL (the server chosen), KURSI_NATS_PRIVATE
# (1 when it is the private server) and KURSI_NATS_STARTED (1 when this call
# started it).

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

KURSI_NATS_DEFAULT_URL="nats://127.0.0.1:4222"
NATS_DIR="${KURSI_NATS_DIR:-$KURSI_STATE/nats}"
NATS_STORE="$NATS_DIR/store"
NATS_LOG="$NATS_DIR/nats-server.log"
NATS_PID_FILE="$NATS_DIR/nats-server.pid"
NATS_URL_FILE="$NATS_DIR/url"
# Seconds the private server gets to answer after it was started.
NATS_START_TIMEOUT=30

# --------------------------------------------------- an existing server ----

# host and port of a nats:// URL: nats://[user[:pass]@]host[:port]. Of a
# comma-separated list (a cluster's seed URLs), the first is taken.
nats_host_port() {
  url_host_port "${1%%,*}" 4222
}

# A NATS server's greeting: the first line it sends on connect, before any
# authentication, is `INFO {json}`. Reads it with bash's /dev/tcp; `timeout`
# bounds a black hole, `read -t` a server that accepts and says nothing.
nats_greeting() {
  # shellcheck disable=SC2016 # $1/$2 belong to the inner bash
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    IFS= read -r -t 3 line <&3 || exit 3
    printf "%s\n" "$line"' _ "$1" "$2" 2>/dev/null
}

# nats_probe URL: 0 = a NATS server answers with JetStream on, 1 = nothing
# answers, 2 = a NATS server answers with JetStream off, 3 = something
# answers that is not a NATS server (or says nothing in time). The greeting
# is left in NATS_GREETING.
nats_probe() {
  local host port rc=0
  read -r host port < <(nats_host_port "$1")
  NATS_GREETING="$(nats_greeting "$host" "$port")" || rc=$?
  case $rc in
    0) ;;
    3) return 3 ;; # connected, but no line came in time
    *) return 1 ;; # refused, or the connect timed out (124)
  esac
  NATS_GREETING="${NATS_GREETING%$'\r'}"
  [[ $NATS_GREETING == "INFO {"* ]] || return 3
  # encoding/json writes no blanks; a space is allowed for anything else.
  [[ $NATS_GREETING =~ \"jetstream\":[[:space:]]*true ]] || return 2
}

# --------------------------------------------------- the private server ----

# The nats-server program, or nothing.
nats_bin() {
  if [[ -n ${KURSI_NATS_BIN:-} ]]; then
    [[ -x $KURSI_NATS_BIN ]] || die "KURSI_NATS_BIN=$KURSI_NATS_BIN is not an executable"
    printf '%s\n' "$KURSI_NATS_BIN"
  elif have nats-server; then
    command -v nats-server
  elif [[ -x /usr/sbin/nats-server ]]; then
    printf '%s\n' /usr/sbin/nats-server
  fi
}

# Echoes the private server's pid when it is running.
private_nats_pid() {
  local pid
  [[ -r $NATS_PID_FILE ]] || return 1
  pid="$(<"$NATS_PID_FILE")"
  pid_is "$pid" nats-server || return 1
  printf '%s\n' "$pid"
}

# The private server's URL, written when it was started.
private_nats_url() {
  [[ -s $NATS_URL_FILE ]] || return 1
  printf '%s\n' "$(<"$NATS_URL_FILE")"
}

# First port from KURSI_NATS_PORT on that nothing listens on.
pick_free_nats_port() {
  local port=${KURSI_NATS_PORT:-54222} last
  last=$((port + 50))
  while ((port <= last)); do
    tcp_open 127.0.0.1 "$port" || {
      printf '%s\n' "$port"
      return 0
    }
    port=$((port + 1))
  done
  die "no free port in ${KURSI_NATS_PORT:-54222}..$last for the private NATS; set KURSI_NATS_PORT"
}

install_nats_server() {
  log "no nats-server program found"
  apt_install nats-server
  [[ -n $(nats_bin) ]] || die "the nats-server package is installed but nats-server was not found; set KURSI_NATS_BIN"
}

nats_log_tail() {
  tail -n 30 "$NATS_LOG" 2>/dev/null | sed 's/^/  | /' >&2 || true
}

# Waits until the private server at URL answers with JetStream on. Returns
# 1, having shown its log, when the process PID exits or time runs out.
wait_private_nats() {
  local url=$1 pid=$2 deadline rc
  deadline=$((SECONDS + NATS_START_TIMEOUT))
  while :; do
    rc=0
    nats_probe "$url" || rc=$?
    [[ $rc -ne 0 ]] || return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      log "nats: the private server exited. Last lines of $NATS_LOG:"
      nats_log_tail
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "nats: the private server (pid $pid) does not answer with JetStream at $url after ${NATS_START_TIMEOUT}s. Last lines of $NATS_LOG:"
      nats_log_tail
      return 1
    fi
    sleep 0.2
  done
}

start_private_nats() {
  local bin=$1 port url pid
  port="$(pick_free_nats_port)"
  url="nats://127.0.0.1:$port"
  mkdir -p "$NATS_STORE"
  [[ ! -f $NATS_LOG ]] || mv -f "$NATS_LOG" "$NATS_LOG.prev"
  rm -f "$NATS_PID_FILE"
  log "nats: starting a private server with JetStream on 127.0.0.1:$port"
  # The port is chosen at each start, so a port taken since last time is
  # simply replaced by a free one; the store (streams, consumers) is kept.
  # setsid + nohup: it outlives this script and the terminal, like the
  # private PostgreSQL, and a Ctrl-C typed later in this shell does not reach it.
  # Errors before the log is open (a bad flag) go to stderr: the same file.
  # shellcheck disable=SC2094 # nats-server only appends to its log, as we do
  setsid nohup "$bin" -a 127.0.0.1 -p "$port" -js -sd "$NATS_STORE" \
    --server_name kursi-private -l "$NATS_LOG" -P "$NATS_PID_FILE" \
    </dev/null >>"$NATS_LOG" 2>&1 &
  pid=$!
  if ! wait_private_nats "$url" "$pid"; then
    # Ours, just started: a server that never came up is not left behind.
    stop_pid "$pid" nats-server 10
    rm -f "$NATS_PID_FILE"
    die "the private NATS did not start (log: $NATS_LOG)"
  fi
  # nats-server has written its pid file by now (-P); it names the same
  # process as $!, which is kept should the server not have written it.
  private_nats_pid >/dev/null || printf '%s\n' "$pid" >"$NATS_PID_FILE"
  printf '%s\n' "$url" >"$NATS_URL_FILE"
}

use_private_nats() {
  local bin pid url rc=0
  if pid="$(private_nats_pid)" && ! url="$(private_nats_url)"; then
    # Ours (its pid file is in our folder) but of unknown address: restart it.
    warn "the private NATS (pid $pid) runs but $NATS_URL_FILE is missing; restarting it"
    stop_private_nats quiet
  fi
  if pid="$(private_nats_pid)" && url="$(private_nats_url)"; then
    nats_probe "$url" || rc=$?
    # Just started by another script: give it the time a start gets.
    [[ $rc -eq 0 ]] || wait_private_nats "$url" "$pid" ||
      die "the private NATS (pid $pid) runs but does not answer at $url; stop it with scripts/lib/nats.sh stop (log: $NATS_LOG)"
    KURSI_NATS_URL="$url"
    log "nats: using the private server already running at $KURSI_NATS_URL"
  else
    bin="$(nats_bin)"
    if [[ -z $bin ]]; then
      install_nats_server
      bin="$(nats_bin)"
    fi
    start_private_nats "$bin"
    KURSI_NATS_URL="$(private_nats_url)"
    KURSI_NATS_STARTED=1
    log "nats: private server started at $KURSI_NATS_URL (store: $NATS_STORE)"
  fi
  KURSI_NATS_PRIVATE=1
}

# ---------------------------------------------------------- public API ----

# ensure_nats [URL]: see the header. Idempotent.
ensure_nats() {
  local wanted=${1:-${KURSI_NATS_URL:-$KURSI_NATS_DEFAULT_URL}} mode=${KURSI_NATS_MODE:-auto} rc=0 why
  mkdir -p "$KURSI_STATE"
  KURSI_NATS_PRIVATE=0
  KURSI_NATS_STARTED=0
  case $mode in
    auto | external)
      nats_probe "$wanted" || rc=$?
      case $rc in
        0)
          KURSI_NATS_URL="$wanted"
          log "nats: using the server at $KURSI_NATS_URL (JetStream on)"
          ;;
        *)
          case $rc in
            1) why="nothing answers at $wanted" ;;
            2) why="the NATS server at $wanted has JetStream off (start it with -js)" ;;
            *)
              if [[ -z $NATS_GREETING ]]; then
                why="what answers at $wanted is not a NATS server (it sent no INFO line)"
              else
                why="what answers at $wanted is not a NATS server (it sent: ${NATS_GREETING:0:60})"
              fi
              ;;
          esac
          [[ $mode == auto ]] || die "$why (KURSI_NATS_MODE=external)"
          log "nats: $why; using a private server"
          use_private_nats
          ;;
      esac
      ;;
    private) use_private_nats ;;
    *) die "KURSI_NATS_MODE must be auto, external or private (got '$mode')" ;;
  esac
  export KURSI_NATS_URL KURSI_NATS_PRIVATE KURSI_NATS_STARTED
}

# Stops the private server if it runs. Never touches any other server.
# verbose|quiet: quiet says nothing unless it fails (scripts/test keeps the
# test runner's summary as its last line).
stop_private_nats() {
  local pid
  pid="$(private_nats_pid)" || return 0
  [[ ${1:-} == quiet ]] || log "nats: stopping the private server (pid $pid)"
  # SIGTERM is a graceful shutdown: JetStream writes its state out first.
  stop_pid "$pid" nats-server 30
  rm -f "$NATS_PID_FILE"
}

private_nats_status() {
  if private_nats_pid >/dev/null; then
    printf 'private NATS: running at %s (store: %s)\n' "$(private_nats_url || echo '?')" "$NATS_STORE"
  else
    printf 'private NATS: not running\n'
  fi
}

nats_main() {
  set -euo pipefail
  case ${1:-ensure} in
    ensure)
      ensure_nats "${2:-}"
      printf '%s\n' "$KURSI_NATS_URL"
      ;;
    stop) stop_private_nats verbose ;;
    status) private_nats_status ;;
    *) die "usage: $0 [ensure [URL]|stop|status]" ;;
  esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  nats_main "$@"
fi
