#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, combined broker+controller) for tests and
# local use, run straight from the Maven Central jars: no Docker, no tarball download.
#
# Usage: scripts/kafka.sh start|stop|restart|status
#   start    fetch the jars on first use, format storage on first use, start the broker in the
#            background and wait until it really serves clients. Prints ONLY the bootstrap
#            address (e.g. 127.0.0.1:9092) on stdout; progress and errors go to stderr.
#            Already running: prints the address and exits 0.
#   stop     SIGTERM, wait up to KAFKA_STOP_TIMEOUT s, then SIGKILL. Exits 0 if not running.
#   restart  stop + start, keeping the data (fault tests restart the broker mid-stream).
#   status   running: address on stdout, details on stderr, exit 0; stopped: exit 3.
#
# Environment:
#   KAFKA_PORT             client listener port (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener port (default 9093)
#   NOVA_KAFKA_HOME        jar cache shared by all checkouts (default ~/.cache/nova-kafka)
#   NOVA_KAFKA_STATE       data, broker log and pid file (default <repo>/.kafka, gitignored)
#   KAFKA_HEAP_OPTS        broker heap flags (default -Xmx512m)
#   KAFKA_START_TIMEOUT    seconds to wait for readiness (default 90)
#   KAFKA_STOP_TIMEOUT     seconds to wait for a clean shutdown before SIGKILL (default 30)
#
# Files in the state dir: server.properties (regenerated on every start), data/ (log.dirs and
# the KRaft metadata log), kafka.log (+ kafka.log.1 from the previous start), kafka.pid,
# kafka.addr (address of the running broker).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
POM="$SCRIPT_DIR/kafka/pom.xml"

KAFKA_HOST=127.0.0.1 # loopback only: this broker has no auth and must never be reachable from outside
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
NODE_ID=1
CACHE_DIR=${NOVA_KAFKA_HOME:-$HOME/.cache/nova-kafka}
LIB_DIR="$CACHE_DIR/lib"
STATE_DIR=${NOVA_KAFKA_STATE:-$REPO_ROOT/.kafka}
START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
# Word-split on purpose so several flags can be passed, like Kafka's own KAFKA_HEAP_OPTS.
read -r -a HEAP_OPTS <<<"${KAFKA_HEAP_OPTS:--Xmx512m}"

info() { printf 'kafka: %s\n' "$*" >&2; }
die() {
  printf 'kafka: error: %s\n' "$*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start|stop|restart|status" >&2
  exit 2
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

validate_env() {
  # KAFKA_PORT is a common name (Kubernetes sets it to tcp://host:port for a service called
  # "kafka"), so reject anything that is not a bare port instead of failing obscurely later.
  local p
  for p in KAFKA_PORT KAFKA_CONTROLLER_PORT; do
    if ! is_uint "${!p}" || ((${!p} < 1 || ${!p} > 65535)); then
      die "$p must be a TCP port number, got '${!p}'"
    fi
  done
  [[ $KAFKA_PORT != "$KAFKA_CONTROLLER_PORT" ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ (both $KAFKA_PORT)"
  is_uint "$START_TIMEOUT" || die "KAFKA_START_TIMEOUT must be a number of seconds"
  is_uint "$STOP_TIMEOUT" || die "KAFKA_STOP_TIMEOUT must be a number of seconds"
}

# Resolve the state dir to an absolute path: log.dirs must be absolute, and the path is also
# how we recognise our own broker process (see is_our_broker).
init_state_paths() {
  mkdir -p "$STATE_DIR"
  STATE_DIR=$(cd "$STATE_DIR" && pwd)
  DATA_DIR="$STATE_DIR/data"
  PROPS="$STATE_DIR/server.properties"
  PID_FILE="$STATE_DIR/kafka.pid"
  ADDR_FILE="$STATE_DIR/kafka.addr"
  LOG_FILE="$STATE_DIR/kafka.log"
}

# Serialise start/stop/restart on one state dir: parallel test workers may all call `start`,
# and two brokers must never share a data dir. The lock fd (9) is closed for the broker JVM,
# otherwise the broker would hold the lock for its whole life.
take_state_lock() {
  command -v flock >/dev/null || return 0 # e.g. macOS: run unlocked rather than not at all
  exec 9>"$STATE_DIR/.lock"
  flock -w $((START_TIMEOUT + STOP_TIMEOUT + 300)) 9 || die "timed out waiting for another kafka.sh on $STATE_DIR"
}

require_java() {
  command -v java >/dev/null || die "java not found on PATH (Kafka 4.x needs Java 17+)"
  local v major
  # First line looks like: openjdk version "17.0.15" 2025-04-15  (or "1.8.0_x" for Java 8)
  v=$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
  major=${v%%.*}
  [[ $major == 1 ]] && major=$(cut -d. -f2 <<<"$v")
  if is_uint "$major" && ((major < 17)); then
    die "Kafka 4.x needs Java 17+, found Java $v ($(command -v java))"
  fi
}

# The jar set is keyed by the pom's checksum so that bumping a version in the pom refetches
# instead of silently running stale jars.
pom_sum() { cksum <"$POM" | cut -d' ' -f1; }

ensure_jars() {
  local want marker="$LIB_DIR/.complete"
  want=$(pom_sum)
  if [[ -f $marker && $(<"$marker") == "$want" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found on PATH: Maven is needed once to fetch the Kafka jars into $LIB_DIR"
  mkdir -p "$CACHE_DIR"
  # A second lock, on the shared cache, because several checkouts (state dirs) share it.
  if command -v flock >/dev/null; then
    exec 8>"$CACHE_DIR/.lock"
    flock -w 600 8 || die "timed out waiting for another jar download into $CACHE_DIR"
    # Another process may have finished the download while we waited.
    if [[ -f $marker && $(<"$marker") == "$want" ]]; then
      exec 8>&-
      return 0
    fi
  fi
  info "fetching Kafka jars from Maven Central into $LIB_DIR (first run only, ~30 s)"
  # Download into a scratch dir and swap it in only when complete, so an interrupted or
  # failed fetch never leaves a half-populated lib/ that looks usable.
  FETCH_TMP=$(mktemp -d "$CACHE_DIR/lib.tmp.XXXXXX")
  local mvn_log="$FETCH_TMP/mvn.log" started=$SECONDS
  # -q still prints errors; we capture them anyway because this Maven build emits stray ANSI
  # reset codes even with -B/-q, and stdout is reserved for the bootstrap address.
  if ! mvn -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$FETCH_TMP/lib" >"$mvn_log" 2>&1; then
    sed $'s/\x1b\\[[0-9;]*m//g' "$mvn_log" >&2
    die "Maven could not fetch the Kafka jars (see output above)"
  fi
  printf '%s\n' "$want" >"$FETCH_TMP/lib/.complete"
  rm -rf "$LIB_DIR"
  mv "$FETCH_TMP/lib" "$LIB_DIR"
  rm -rf "$FETCH_TMP"
  FETCH_TMP=
  info "fetched $(find "$LIB_DIR" -name '*.jar' | wc -l | tr -d ' ') jars in $((SECONDS - started)) s"
  if command -v flock >/dev/null; then exec 8>&-; fi
}

# Short-lived Kafka CLI JVMs (StorageTool): tuned for start-up time, quiet unless failing.
run_tool() {
  java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$LIB_DIR/*" "$@" 9>&- 8>&-
}

write_config() {
  # Regenerated on every start so changes to the ports or to this script take effect; the
  # KRaft metadata and topic data live in $DATA_DIR and survive restarts.
  #
  # Static quorum (controller.quorum.voters) rather than a dynamic one
  # (controller.quorum.bootstrap.servers + `format --standalone`): a dynamic quorum records
  # the controller endpoint in the formatted metadata, which would tie the data dir to the
  # controller port forever; the static voter set is read from this file on each start.
  cat >"$PROPS" <<EOF
# Generated by scripts/kafka.sh on every start; edits are overwritten.
process.roles=broker,controller
node.id=$NODE_ID
controller.quorum.voters=$NODE_ID@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA_DIR

# One node: every internal topic must be creatable with a single replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1

# Test friendliness: consumers join groups immediately and topics appear on first use.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
num.partitions=3
EOF
}

format_storage_if_needed() {
  [[ -f $DATA_DIR/meta.properties ]] && return 0
  local cluster_id out
  cluster_id=$(run_tool kafka.tools.StorageTool random-uuid) || die "StorageTool random-uuid failed"
  info "formatting new KRaft storage in $DATA_DIR (cluster id $cluster_id)"
  # With a static voter set, 4.1 wants a plain `format`: --standalone is for dynamic quorums
  # and is rejected when controller.quorum.voters is set.
  if ! out=$(run_tool kafka.tools.StorageTool format -t "$cluster_id" -c "$PROPS" 2>&1); then
    printf '%s\n' "$out" >&2
    die "StorageTool format failed for $DATA_DIR"
  fi
}

read_pid() {
  local pid=
  [[ -f $PID_FILE ]] && pid=$(<"$PID_FILE")
  is_uint "$pid" && printf '%s\n' "$pid"
  return 0
}

# True only for a live JVM running kafka.Kafka on *this* state dir's config: a stale pid file
# may point at a recycled pid, and a zombie has an empty command line.
is_our_broker() {
  local pid=$1 args
  [[ -n $pid ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r /proc/$pid/cmdline ]]; then
    args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  else
    args=$(ps -o args= -p "$pid" 2>/dev/null) || return 1
  fi
  [[ $args == *kafka.Kafka* && $args == *"$PROPS"* ]]
}

running_pid() {
  local pid
  pid=$(read_pid)
  if is_our_broker "$pid"; then printf '%s\n' "$pid"; fi
}

running_addr() {
  if [[ -f $ADDR_FILE ]]; then cat "$ADDR_FILE"; else printf '%s:%s\n' "$KAFKA_HOST" "$KAFKA_PORT"; fi
}

tcp_open() { (exec 2>/dev/null 3<>"/dev/tcp/$1/$2"); }

# Readiness probe: a real Kafka Metadata request over bash's /dev/tcp, no JVM. An open port
# only means a socket is bound; a Metadata response that lists this node proves the broker
# processes client requests and has registered with the controller. A JVM-based probe
# (kafka.admin.ConfigCommand, which is in the jars) works too but costs ~2 s per attempt on
# a 2-core machine, which adds up for fault tests that restart the broker repeatedly.
#
# Request, hand-encoded in the (non-flexible) Metadata v4 wire format:
#   int32 size=19 | int16 api_key=3 | int16 api_version=4 | int32 correlation_id='NOVA'
#   | int16+bytes client_id="nova" | int32 topics=-1 (null: all) | int8 allow_auto_create=0
# v4 is the oldest Metadata version Kafka 4.x still serves (KIP-896 dropped v0-v3; a v0
# request just gets the connection closed). Re-check this if the pom moves to Kafka 5.
METADATA_V4_REQUEST='\x00\x00\x00\x13\x00\x03\x00\x04\x4e\x4f\x56\x41\x00\x04nova\xff\xff\xff\xff\x00'

broker_answers() {
  local host=${1%:*} port=${1##*:} hex t=()
  if command -v timeout >/dev/null; then t=(timeout 5); fi
  # Subshell: fd 3 is closed again when it ends, whatever happens. Explicit `|| exit 1`s
  # because command substitutions don't inherit `set -e`.
  hex=$(
    exec 2>/dev/null # "connection refused" is the expected answer while starting
    exec 3<>"/dev/tcp/$host/$port" || exit 1
    printf '%b' "$METADATA_V4_REQUEST" >&3 || exit 1
    "${t[@]}" od -An -v -tx1 -N20 <&3
  ) || return 1
  hex=${hex//[[:space:]]/}
  # Response v4: int32 size | int32 correlation_id | int32 throttle_ms | int32 broker count
  #   | int32 first broker's node_id | ...   (hex offsets 8, 16, 24, 32)
  [[ ${#hex} -eq 40 && ${hex:8:8} == 4e4f5641 && ${hex:24:8} != 00000000 ]] &&
    [[ ${hex:32:8} == "$(printf '%08x' "$NODE_ID")" ]]
}

log_tail() {
  if [[ -f $LOG_FILE ]]; then
    echo "----- last 40 lines of $LOG_FILE -----" >&2
    tail -n 40 "$LOG_FILE" >&2
    echo "-----" >&2
  fi
}

wait_until_ready() {
  local pid=$1 addr=$2 deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    # Only a vanished process counts as an exit: right after the fork, under load, the child
    # may not have exec'd java yet, so its command line cannot be recognised for a moment.
    if ! kill -0 "$pid" 2>/dev/null; then
      log_tail
      rm -f "$PID_FILE" "$ADDR_FILE"
      die "the Kafka broker exited during start-up (full log: $LOG_FILE)"
    fi
    broker_answers "$addr" && is_our_broker "$pid" && return 0
    sleep 0.2
    if ((SECONDS >= deadline)); then
      log_tail
      info "stopping the broker that failed to become ready"
      stop_broker
      die "the Kafka broker did not accept clients on $addr within ${START_TIMEOUT}s (full log: $LOG_FILE)"
    fi
  done
}

start_broker() {
  local pid addr started
  pid=$(running_pid)
  if [[ -n $pid ]]; then
    addr=$(running_addr)
    if [[ $addr != "$KAFKA_HOST:$KAFKA_PORT" ]]; then
      info "note: the running broker listens on $addr, not on KAFKA_PORT=$KAFKA_PORT; restart to change it"
    fi
    # It may still be starting (e.g. an earlier start was interrupted): make sure it answers.
    wait_until_ready "$pid" "$addr"
    info "already running (pid $pid)"
    printf '%s\n' "$addr"
    return 0
  fi
  rm -f "$PID_FILE" "$ADDR_FILE"

  # Fail fast with a clear message instead of letting the broker die on a bind error.
  local port
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if tcp_open "$KAFKA_HOST" "$port"; then
      die "port $KAFKA_HOST:$port is already in use by another process (set KAFKA_PORT / KAFKA_CONTROLLER_PORT, or stop it)"
    fi
  done

  require_java
  ensure_jars
  write_config
  format_storage_if_needed

  addr="$KAFKA_HOST:$KAFKA_PORT"
  # Keep the previous run's log: after a fault-test restart, the shutdown is in kafka.log.1.
  if [[ -f $LOG_FILE ]]; then mv -f "$LOG_FILE" "$LOG_FILE.1"; fi
  info "starting broker on $addr (controller $KAFKA_HOST:$KAFKA_CONTROLLER_PORT, state $STATE_DIR)"
  started=$SECONDS
  # setsid: own session, so signals aimed at the caller's process group (Ctrl-C, a test
  # runner killing its workers) don't take the broker down; `stop` is the way to end it.
  # It execs in place here (we are not a group leader), so $! is the JVM's pid.
  local detach=()
  if command -v setsid >/dev/null; then detach=(setsid); fi
  # stdin/stdout/stderr all redirected: a caller doing addr=$(kafka.sh start) waits for
  # stdout to close, so the broker must not inherit it.
  "${detach[@]}" nohup java "${HEAP_OPTS[@]}" -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.showDateTime=true \
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS" \
    -cp "$LIB_DIR/*" kafka.Kafka "$PROPS" \
    </dev/null >"$LOG_FILE" 2>&1 9>&- 8>&- &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  printf '%s\n' "$addr" >"$ADDR_FILE"

  wait_until_ready "$pid" "$addr"
  info "ready in $((SECONDS - started)) s (pid $pid, log $LOG_FILE)"
  printf '%s\n' "$addr"
}

stop_broker() {
  local pid waited=0
  pid=$(running_pid)
  if [[ -z $pid ]]; then
    rm -f "$PID_FILE" "$ADDR_FILE"
    info "not running"
    return 0
  fi
  info "stopping broker (pid $pid)"
  # SIGTERM runs Kafka's shutdown hook: controlled shutdown, flush and clean log close, so
  # the next start needs no log recovery.
  kill -TERM "$pid" 2>/dev/null || true
  while is_our_broker "$pid" && ((waited < STOP_TIMEOUT * 5)); do
    sleep 0.2
    waited=$((waited + 1))
  done
  if is_our_broker "$pid"; then
    info "broker did not exit within ${STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while is_our_broker "$pid"; do sleep 0.1; done
  fi
  rm -f "$PID_FILE" "$ADDR_FILE"
  info "stopped"
}

status_broker() {
  local pid
  pid=$(running_pid)
  if [[ -z $pid ]]; then
    info "stopped"
    exit 3
  fi
  local addr health="not answering yet"
  addr=$(running_addr)
  if broker_answers "$addr"; then health="answering"; fi
  info "running, $health (pid $pid, state $STATE_DIR, log $LOG_FILE)"
  printf '%s\n' "$addr"
}

FETCH_TMP=
cleanup() { if [[ -n $FETCH_TMP ]]; then rm -rf "$FETCH_TMP"; fi; }
trap cleanup EXIT

main() {
  [[ $# -eq 1 ]] || usage
  validate_env
  case $1 in
  start)
    init_state_paths
    take_state_lock
    start_broker
    ;;
  stop)
    if [[ ! -d $STATE_DIR ]]; then
      info "not running"
      exit 0
    fi
    init_state_paths
    take_state_lock
    stop_broker
    ;;
  restart)
    init_state_paths
    take_state_lock
    stop_broker
    start_broker
    ;;
  status)
    # No lock: status must answer at once even while a start is waiting for readiness.
    # Nor create the state dir just to say that nothing runs there.
    if [[ ! -d $STATE_DIR ]]; then
      info "stopped"
      exit 3
    fi
    init_state_paths
    status_broker
    ;;
  *) usage ;;
  esac
}

main "$@"
