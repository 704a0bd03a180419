# shellcheck shell=bash
# Shared helpers for scripts/stack, scripts/test and scripts/lib/postgres.sh.
# Sourced, never run: it only defines functions and a few read-only paths.

# The repository root, whatever the caller's working directory is.
KURSI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Everything the scripts create at run time lives here (ignored by git).
# shellcheck disable=SC2034 # used by the scripts that source this file
KURSI_STATE="${KURSI_STATE_DIR:-$KURSI_ROOT/.kursi}"
# Tools installed for the project only (buf), also ignored by git.
# shellcheck disable=SC2034 # used by the scripts that source this file
KURSI_TOOLS="$KURSI_ROOT/.tools"

# Messages go to stderr so that stdout stays usable for values (a URL).
log() { printf '%s\n' "$*" >&2; }
step() { printf '\n==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }

# Runs a command as root: directly when we are root, through sudo when it
# asks for no password, otherwise fails (CI has no stdin to answer a prompt).
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif have sudo && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    return 1
  fi
}

can_be_root() {
  [[ $(id -u) -eq 0 ]] || { have sudo && sudo -n true 2>/dev/null; }
}

# Installs Debian packages. `apt-get update` first: a fresh machine's package
# lists may be empty or stale. KURSI_NO_INSTALL=1 forbids touching the system.
apt_install() {
  [[ ${KURSI_NO_INSTALL:-0} != 1 ]] ||
    die "need Debian package(s) $* but KURSI_NO_INSTALL=1; install them and retry"
  have apt-get || die "need package(s) $* and this system has no apt-get; install them and retry"
  can_be_root || die "need Debian package(s) $*: run 'apt-get install $*' as root and retry"
  log "installing Debian package(s): $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 ||
    die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "$@" >&2 || die "apt-get install $* failed"
}

# Reads KEY=VALUE lines from a dotenv file into the environment. A variable
# already set in the environment wins (as with docker compose), so
# `RUST_LOG=debug scripts/stack up` beats the file. The file is parsed, not
# sourced: it holds settings, and must not run code. With ONLY (an extended
# regex), only the names it matches are taken.
load_dotenv() {
  local file=$1 only=${2:-.*} line key value
  [[ -f $file ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    line="${line%$'\r'}"                        # tolerate CRLF files
    line="${line#"${line%%[![:space:]]*}"}" # trim leading blanks
    [[ -z $line || $line == \#* ]] && continue
    line="${line#export }"
    [[ $line == *=* ]] || continue
    key="${line%%=*}"
    value="${line#*=}"
    [[ $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || {
      warn "$file: ignoring line with bad name: $key"
      continue
    }
    # Quoted values keep everything between the quotes verbatim.
    if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then
      value="${BASH_REMATCH[1]}"
    fi
    [[ $key =~ ^($only)$ ]] || continue
    [[ -n ${!key+set} ]] && continue
    export "$key=$value"
  done <"$file"
}

# url_host_port URL DEFAULT_PORT: "host port" of scheme://[user[:pass]@]host[:port]/…,
# brackets around an IPv6 host taken off; a missing host is 127.0.0.1.
url_host_port() {
  local rest=${1#*://} default=$2 hostport host port
  rest="${rest##*@}"
  hostport="${rest%%[/?]*}"
  port=$default
  if [[ $hostport =~ ^\[(.*)\](:([0-9]+))?$ || $hostport =~ ^([^:]*)(:([0-9]+))?$ ]]; then
    host="${BASH_REMATCH[1]}"
    port="${BASH_REMATCH[3]:-$default}"
  fi
  printf '%s %s\n' "${host:-127.0.0.1}" "$port"
}

# True when something accepts TCP connections on HOST PORT. Uses bash's
# /dev/tcp so that it needs no extra tool; `timeout` bounds a black hole.
tcp_open() {
  # shellcheck disable=SC2016 # $1/$2 belong to the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# True when PID is alive and its program (argv[0]) is named NAME. Guards
# against a stale pid file whose number was reused by an unrelated process.
pid_is() {
  local pid=$1 name=$2 argv0
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  IFS= read -r -d '' argv0 <"/proc/$pid/cmdline" 2>/dev/null || return 1
  [[ ${argv0##*/} == "$name" ]]
}

# Sends SIGTERM, waits up to TIMEOUT seconds for a graceful exit, then
# SIGKILLs: a service that ignores SIGTERM must not make `down` hang.
stop_pid() {
  local pid=$1 name=$2 timeout=${3:-20} waited=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= timeout * 10)); then
      warn "$name (pid $pid) still running after ${timeout}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# A random password from the kernel's CSPRNG, URL- and shell-safe.
random_secret() {
  local s
  s="$(head -c 48 /dev/urandom | base64 -w 0 | tr -dc 'A-Za-z0-9')"
  printf '%s\n' "${s:0:24}"
}
