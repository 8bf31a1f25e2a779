# Process management shared by scripts/kafka.sh, s3proxy.sh, clickhouse.sh and cluster.sh:
# sourced, never run. A script sets DAEMON_NAME (the prefix of its messages) before sourcing.
#
# The scripts start servers detached in the background, remember them in pid files and must
# never signal a process that is not theirs (a stale pid file may name a recycled pid), so
# every check of a pid goes through a matcher the script defines.

info() { printf '%s: %s\n' "${DAEMON_NAME:-daemon}" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "${DAEMON_NAME:-daemon}" "$*" >&2
  exit 1
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# require_port NAME VALUE: dies unless VALUE is a TCP port number.
require_port() {
  is_uint "$2" && (($2 >= 1 && $2 <= 65535)) || die "$1 must be a TCP port number, got '$2'"
}

# tcp_open HOST PORT: true when something accepts connections there.
tcp_open() { (exec 2>/dev/null 3<>"/dev/tcp/$1/$2"); }

# pid_from FILE: the pid recorded in FILE, or nothing.
pid_from() {
  local pid=
  [[ -f $1 ]] && pid=$(<"$1")
  is_uint "$pid" && printf '%s\n' "$pid"
  return 0
}

# cmdline_of PID: the process's command line, arguments separated by spaces (fails if gone).
cmdline_of() {
  if [[ -r /proc/$1/cmdline ]]; then
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null
  else
    ps -o args= -p "$1" 2>/dev/null
  fi
}

# pid_runs PID WORD...: a live process whose command line contains every WORD (a zombie has
# an empty command line and does not count).
pid_runs() {
  local pid=$1 args word
  shift
  [[ -n $pid ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  args=$(cmdline_of "$pid") || return 1
  [[ -n $args ]] || return 1
  for word in "$@"; do [[ $args == *"$word"* ]] || return 1; done
}

# take_lock FILE TIMEOUT_S: serialises start/stop on one state dir (parallel test workers may
# all call `start`). Holds fd 9; every server started later gets 9>&- so it does not keep it.
take_lock() {
  command -v flock >/dev/null || return 0 # e.g. macOS: run unlocked rather than not at all
  exec 9>"$1"
  flock -w "$2" 9 || die "timed out waiting for another run holding $1"
}

# require_java MIN_MAJOR WHAT: dies unless `java` is at least that version.
require_java() {
  command -v java >/dev/null || die "java not found on PATH ($2 needs Java $1+)"
  local v major
  # First line looks like: openjdk version "17.0.15" 2025-04-15  (or "1.8.0_x" for Java 8)
  v=$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
  major=${v%%.*}
  [[ $major == 1 ]] && major=$(cut -d. -f2 <<<"$v")
  if is_uint "$major" && ((major < $1)); then die "$2 needs Java $1+, found Java $v ($(command -v java))"; fi
}

# ensure_maven_jars POM CACHE_DIR WHAT: the runtime jars of POM in CACHE_DIR/lib, fetched from
# Maven Central on first use. Keyed by the pom's checksum so that bumping a version refetches
# instead of silently running stale jars; fetched into a scratch dir and swapped in only when
# complete, so an interrupted fetch never leaves a half-populated lib/ that looks usable.
FETCH_TMP=
ensure_maven_jars() {
  local pom=$1 cache=$2 what=$3 want lib="$2/lib" marker="$2/lib/.complete"
  want=$(cksum <"$pom" | cut -d' ' -f1)
  [[ -f $marker && $(<"$marker") == "$want" ]] && return 0
  command -v mvn >/dev/null || die "mvn not found on PATH: Maven is needed once to fetch the $what jars into $lib"
  mkdir -p "$cache"
  # A second lock (fd 8), on the cache, because several checkouts (state dirs) share it.
  if command -v flock >/dev/null; then
    exec 8>"$cache/.lock"
    flock -w 600 8 || die "timed out waiting for another jar download into $cache"
    # Another process may have finished the download while we waited.
    if [[ -f $marker && $(<"$marker") == "$want" ]]; then
      exec 8>&-
      return 0
    fi
  fi
  info "fetching $what jars from Maven Central into $lib (first run only, ~30 s)"
  FETCH_TMP=$(mktemp -d "$cache/lib.tmp.XXXXXX")
  trap '[[ -n $FETCH_TMP ]] && rm -rf "$FETCH_TMP"' EXIT
  local mvn_log="$FETCH_TMP/mvn.log" started=$SECONDS
  # Output captured: this Maven build emits stray ANSI codes even with -B/-q, and stdout is
  # reserved for the address the script prints.
  if ! mvn -B -q -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$FETCH_TMP/lib" >"$mvn_log" 2>&1; then
    sed $'s/\x1b\\[[0-9;]*m//g' "$mvn_log" >&2
    die "Maven could not fetch the $what jars (see output above)"
  fi
  printf '%s\n' "$want" >"$FETCH_TMP/lib/.complete"
  rm -rf "$lib"
  mv "$FETCH_TMP/lib" "$lib"
  rm -rf "$FETCH_TMP"
  FETCH_TMP=
  info "fetched $(find "$lib" -name '*.jar' | wc -l | tr -d ' ') jars in $((SECONDS - started)) s"
  if command -v flock >/dev/null; then exec 8>&-; fi
}

# spawn_detached LOG_FILE COMMAND...: starts COMMAND in the background with stdin, stdout and
# stderr redirected (a caller doing addr=$(x.sh start) waits for stdout to close, so the
# server must not inherit it), in a session of its own (setsid: signals aimed at the caller's
# process group — Ctrl-C, a test runner killing its workers — do not take it down; `stop` is
# the way to end it). Sets SPAWNED_PID: setsid execs in place (we are not a group leader),
# so it is the server's own pid.
SPAWNED_PID=
spawn_detached() {
  local log=$1 detach=()
  shift
  if command -v setsid >/dev/null; then detach=(setsid); fi
  "${detach[@]}" nohup "$@" </dev/null >"$log" 2>&1 9>&- 8>&- &
  SPAWNED_PID=$!
}

# stop_pid PID TIMEOUT_S MATCHER [ARG...]: SIGTERM (the server's own clean shutdown), wait
# while `MATCHER PID ARG...` still holds, SIGKILL after TIMEOUT_S seconds.
stop_pid() {
  local pid=$1 timeout=$2 matcher=$3 waited=0
  shift 3
  kill -TERM "$pid" 2>/dev/null || true
  while "$matcher" "$pid" "$@" && ((waited < timeout * 5)); do
    sleep 0.2
    waited=$((waited + 1))
  done
  if "$matcher" "$pid" "$@"; then
    info "pid $pid did not exit within ${timeout}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while "$matcher" "$pid" "$@"; do sleep 0.1; done
  fi
  return 0
}

# log_tail FILE [LINES]: the end of a log on stderr (why a start failed).
log_tail() {
  [[ -f $1 ]] || return 0
  echo "----- last ${2:-40} lines of $1 -----" >&2
  tail -n "${2:-40}" "$1" >&2
  echo "-----" >&2
}

# The start/stop/status command line shared by the single-server scripts (s3proxy.sh,
# clickhouse.sh). The script defines init_state_paths (sets STATE_DIR, PID_FILE, ENDPOINT),
# take_state_lock, running_pid, is_ours and start_server (and may set LOG_FILE, which `status`
# shows), then ends with `daemon_main "$@"`.

# stop_server: stops the server the pid file names, if it is still ours; idempotent.
stop_server() {
  local pid
  pid=$(running_pid)
  if [[ -z $pid ]]; then
    rm -f "$PID_FILE"
    info "not running"
    return 0
  fi
  info "stopping (pid $pid)"
  stop_pid "$pid" 20 is_ours
  rm -f "$PID_FILE"
  info "stopped"
}

daemon_main() {
  [[ $# -eq 1 ]] || usage
  local pid
  case $1 in
  start)
    init_state_paths
    take_state_lock
    start_server
    ;;
  stop)
    [[ -d $STATE_DIR ]] || {
      info "not running"
      exit 0
    }
    init_state_paths
    take_state_lock
    stop_server
    ;;
  status)
    [[ -d $STATE_DIR ]] || {
      info "stopped"
      exit 3
    }
    init_state_paths
    pid=$(running_pid)
    [[ -n $pid ]] || {
      info "stopped"
      exit 3
    }
    info "running (pid $pid, state $STATE_DIR${LOG_FILE:+, log $LOG_FILE})"
    printf '%s\n' "$ENDPOINT"
    ;;
  *) usage ;;
  esac
}
