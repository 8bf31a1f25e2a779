#!/usr/bin/env bash
# The split topology on one machine, for tests and demos: one `nova start --target=<service>`
# process per service, each on its own PostgreSQL database, with Redis, Kafka, ClickHouse and
# S3 (S3Proxy), and the gateway in front. No Docker: the engines are the ones scripts/kafka.sh,
# clickhouse.sh and s3proxy.sh run, plus the machine's PostgreSQL and Redis.
#
# Usage: scripts/cluster.sh up|down|status|restart|start SERVICE|stop SERVICE
#   up       create the cluster's stores (dropping what an earlier run of the same name left),
#            run `nova migrate` for every service, start every service and the gateway, wait
#            until each answers /health/ready. Prints ONLY the public URL (the gateway's) on
#            stdout. Everything a client or test needs is in <state>/cluster.env.
#   down     stop every process it started (SIGTERM, the 30 s shutdown deadline, then SIGKILL),
#            its own Kafka broker if it started one, and drop its databases, Redis keys,
#            ClickHouse database and S3 bucket.
#   status   one line per process on stderr; exit 0 when all run, 3 when none does, 1 otherwise.
#   restart  stop every service process and start them again (the gateway keeps running).
#   start S  start one stopped service again (after a crash or `stop S`) and wait until ready.
#   stop S   stop one service the way an orchestrator would (SIGTERM).
#
# The processes inherit the caller's environment (e.g. ARGON2_MEMORY_KIB, LOG_LEVEL,
# OTEL_EXPORTER_OTLP_ENDPOINT), with the topology's own keys set on top.
#
# Environment:
#   NOVA_CLUSTER_NAME       [a-z0-9_] name; databases are nova_cluster_<name>_<service>, Redis keys
#                           nova-cluster-<name>:… (default demo)
#   NOVA_CLUSTER_STATE      logs, pids, data dirs and cluster.env (default /tmp/nova-cluster-<name>)
#   NOVA_CLUSTER_PORT       first port of the cluster's block of 40 (default 18400; 0 picks a free
#                           block): gateway +0, services +1…+8, their gRPC +11…+18, RTMP +20, Kafka +30/+31
#   NOVA_CLUSTER_POSTGRES   admin URL of the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres)
#   NOVA_CLUSTER_REDIS      Redis URL (default redis://127.0.0.1:6379)
#   NOVA_CLUSTER_KAFKA      bootstrap servers to use; unset → a broker of the cluster's own
#                           (scripts/kafka.sh in <state>/kafka): Nova's consumer groups have fixed
#                           names, so two clusters — or a cluster and a test run — on one broker
#                           would take each other's events
#   NOVA_CLUSTER_CLICKHOUSE ClickHouse HTTP endpoint (default: scripts/clickhouse.sh start)
#   NOVA_CLUSTER_S3         S3-compatible endpoint with S3Proxy's test credentials (default:
#                           scripts/s3proxy.sh start)
#   NOVA_CLUSTER_READY_TIMEOUT  seconds to wait for every process to be ready (default 180)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
DAEMON_NAME=cluster
# shellcheck source=lib/daemon.sh
source "$SCRIPT_DIR/lib/daemon.sh"

# Every service of apps/nova/src/modules.ts, in dependency order (auth first).
SERVICES=(auth social content messaging feed notifications analytics live)
HOST=127.0.0.1
NAME=${NOVA_CLUSTER_NAME:-demo}
[[ $NAME =~ ^[a-z0-9_]{1,30}$ ]] || die "NOVA_CLUSTER_NAME must be 1-30 characters of [a-z0-9_], got '$NAME'"
STATE_DIR=${NOVA_CLUSTER_STATE:-/tmp/nova-cluster-$NAME}
PG_ADMIN=${NOVA_CLUSTER_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS=${NOVA_CLUSTER_REDIS:-redis://127.0.0.1:6379}
READY_TIMEOUT=${NOVA_CLUSTER_READY_TIMEOUT:-180}
is_uint "$READY_TIMEOUT" || die "NOVA_CLUSTER_READY_TIMEOUT must be a number of seconds"
REDIS_PREFIX="nova-cluster-$NAME:"
NODE=(node --import tsx)

usage() {
  echo "usage: $0 up|down|status|restart|start SERVICE|stop SERVICE" >&2
  exit 2
}

init_state_paths() {
  mkdir -p "$STATE_DIR"/{logs,pids,data}
  STATE_DIR=$(cd "$STATE_DIR" && pwd)
  ENV_FILE="$STATE_DIR/cluster.env"
}

database_of() { printf 'nova_cluster_%s_%s' "$NAME" "$1"; }
all_databases() {
  local s out=()
  for s in "${SERVICES[@]}"; do out+=("$(database_of "$s")"); done
  printf '%s' "${out[*]}"
}
index_of() {
  local i
  for i in "${!SERVICES[@]}"; do [[ ${SERVICES[$i]} == "$1" ]] && printf '%s' "$((i + 1))" && return 0; done
  die "unknown service '$1' (one of: ${SERVICES[*]})"
}
upper() { tr '[:lower:]' '[:upper:]' <<<"$1"; }

# ---- ports -----------------------------------------------------------------------------------

block_free() {
  local p
  for p in 0 "${@:2}"; do tcp_open "$HOST" $(($1 + p)) && return 1; done
  return 0
}
BLOCK_OFFSETS=(1 2 3 4 5 6 7 8 11 12 13 14 15 16 17 18 20 30 31)

choose_base_port() {
  local base=${NOVA_CLUSTER_PORT:-18400} tries
  is_uint "$base" || die "NOVA_CLUSTER_PORT must be a port number or 0, got '$base'"
  if ((base == 0)); then
    for tries in $(seq 1 50); do
      # Below the ephemeral range (32768…): a client socket bound there would block a listen.
      base=$((20000 + (RANDOM % 250) * 50))
      block_free "$base" "${BLOCK_OFFSETS[@]}" && break
      base=0
    done
    ((base > 0)) || die "found no free block of ports"
  else
    require_port NOVA_CLUSTER_PORT "$base"
    ((base + 40 <= 65535)) || die "NOVA_CLUSTER_PORT leaves no room for its 40 ports"
    block_free "$base" "${BLOCK_OFFSETS[@]}" ||
      die "a port in $base…$((base + 31)) is in use (another cluster? set NOVA_CLUSTER_PORT, or 0 for any free block)"
  fi
  BASE_PORT=$base
}

http_port_of() { printf '%s' $((BASE_PORT + $(index_of "$1"))); }
grpc_port_of() { printf '%s' $((BASE_PORT + 10 + $(index_of "$1"))); }

# ---- processes -------------------------------------------------------------------------------

pid_file_of() { printf '%s/pids/%s.pid' "$STATE_DIR" "$1"; }
log_file_of() { printf '%s/logs/%s.log' "$STATE_DIR" "$1"; }

# A live nova process of *this* cluster running that target: its command line names the target
# and its environment this state dir (a stale pid file may name a recycled pid).
is_member() {
  pid_runs "$1" apps/nova/src/main.ts "--target=$2" || return 1
  # No pipe: under pipefail, `tr … | grep -q` fails whenever grep finds the line and exits while
  # tr is still writing (SIGPIPE) — a large environment made a running member look gone, and
  # `stop` then left it running.
  grep -qzxF "NOVA_CLUSTER_STATE=$STATE_DIR" "/proc/$1/environ" 2>/dev/null
}

running_pid_of() {
  local pid
  pid=$(pid_from "$(pid_file_of "$1")")
  if is_member "$pid" "$1"; then printf '%s\n' "$pid"; fi
}

# The keys every process of the topology gets, on top of the caller's environment.
common_env() {
  printf '%s\n' \
    "NOVA_CLUSTER_STATE=$STATE_DIR" \
    "NOVA_ENV=${NOVA_ENV:-development}" \
    "HOST=$HOST" \
    "NOVA_PUBLIC_URL=$PUBLIC_URL" \
    "KAFKA_BROKERS=$KAFKA" \
    "REDIS_URL=$REDIS" \
    "REDIS_KEY_PREFIX=$REDIS_PREFIX" \
    "NOVA_INTERNAL_TOKEN=$INTERNAL_TOKEN" \
    "NOVA_STARTUP_TIMEOUT_MS=$((READY_TIMEOUT * 1000))"
}

# Spans name the process they come from (a trace crosses several).
otel_name() { printf 'OTEL_SERVICE_NAME=%s-%s\n' "${OTEL_SERVICE_NAME:-nova}" "$1"; }

# What one service's process gets: its own database only, where every other service runs,
# its engines.
service_env() {
  local service=$1 other
  common_env
  printf '%s\n' \
    "PORT=$(http_port_of "$service")" \
    "NOVA_DATA_DIR=$STATE_DIR/data/$service" \
    "$(upper "$service")_DATABASE_URL=${PG_ADMIN%/*}/$(database_of "$service")"
  otel_name "$service"
  if ((GATEWAY)); then
    # One port serves HTTP and the sync API (gRPC); the gateway is the proxy whose
    # X-Forwarded-For the per-IP throttles may believe.
    printf '%s\n' "NOVA_TRUSTED_PROXIES=$HOST"
    for other in "${SERVICES[@]}"; do
      [[ $other == "$service" ]] || printf '%s\n' "NOVA_$(upper "$other")_URL=http://$HOST:$(http_port_of "$other")"
    done
  else
    printf '%s\n' "NOVA_GRPC_PORT=$(grpc_port_of "$service")"
    for other in "${SERVICES[@]}"; do
      [[ $other == "$service" ]] || printf '%s\n' "NOVA_$(upper "$other")_URL=grpc://$HOST:$(grpc_port_of "$other")"
    done
  fi
  case $service in
  content | live)
    printf '%s\n' "S3_BUCKET=$S3_BUCKET" "S3_ENDPOINT=$S3" "S3_ACCESS_KEY_ID=nova" \
      "S3_SECRET_ACCESS_KEY=nova-test-secret" "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true"
    ;;
  analytics) printf '%s\n' "CLICKHOUSE_URL=$CLICKHOUSE" "CLICKHOUSE_DATABASE=$CLICKHOUSE_DB" ;;
  esac
  [[ $service == live ]] && printf '%s\n' "RTMP_PORT=$((BASE_PORT + 20))"
  return 0
}

# run_with_env ENV_LINES COMMAND...: COMMAND in the repo with those keys set and DATABASE_URL
# removed (a caller's shared database must not leak into a service of its own database).
env_args() {
  local line
  ENV_ARGS=()
  while IFS= read -r line; do [[ -n $line ]] && ENV_ARGS+=("$line"); done <<<"$1"
}

start_service() {
  local service=$1 pid
  pid=$(running_pid_of "$service")
  if [[ -n $pid ]]; then
    info "$service already running (pid $pid)"
    return 0
  fi
  env_args "$(service_env "$service")"
  local log
  log=$(log_file_of "$service")
  [[ -f $log ]] && mv -f "$log" "$log.1"
  (cd "$REPO_ROOT" && spawn_detached "$log" env -u DATABASE_URL "${ENV_ARGS[@]}" \
    "${NODE[@]}" apps/nova/src/main.ts start "--target=$service" && echo "$SPAWNED_PID" >"$(pid_file_of "$service")")
}

# Ready when /health/ready answers 200. A process that exits meanwhile is started again, twice
# at most, as an orchestrator's restart policy would (its log keeps why it exited). Services
# starting together on a fresh broker no longer need it: the Kafka adapter waits until a topic
# another process just created is served (TopicManager) before it subscribes or produces.
wait_ready() {
  local service=$1 url=$2 deadline=$((SECONDS + READY_TIMEOUT)) pid starts=1
  pid=$(pid_from "$(pid_file_of "$service")")
  until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/health/ready" 2>/dev/null) == 200 ]]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      if ((starts < 3)) && [[ $service != gateway ]]; then
        starts=$((starts + 1))
        info "$service exited during start-up; starting it again (start $starts of 3)"
        start_service "$service"
        pid=$(pid_from "$(pid_file_of "$service")")
        continue
      fi
      log_tail "$(log_file_of "$service")" 30
      die "$service exited during start-up (log $(log_file_of "$service"))"
    fi
    ((SECONDS < deadline)) || {
      log_tail "$(log_file_of "$service")" 30
      die "$service was not ready on $url within ${READY_TIMEOUT}s"
    }
    sleep 0.3
  done
}

stop_service() {
  local service=$1 pid
  pid=$(running_pid_of "$service")
  rm -f "$(pid_file_of "$service")"
  [[ -n $pid ]] || return 0
  info "stopping $service (pid $pid)"
  # Nova's own graceful shutdown has a 30 s deadline; past it and a margin, SIGKILL.
  stop_pid "$pid" 40 is_member "$service"
}

gateway_supported() { "${NODE[@]}" "$REPO_ROOT/apps/nova/src/main.ts" config --target=gateway >/dev/null 2>&1; }

# ---- engines ---------------------------------------------------------------------------------

start_engines() {
  if [[ -n ${NOVA_CLUSTER_KAFKA:-} ]]; then
    KAFKA=$NOVA_CLUSTER_KAFKA
    OWN_KAFKA=0
  else
    KAFKA=$(KAFKA_PORT=$((BASE_PORT + 30)) KAFKA_CONTROLLER_PORT=$((BASE_PORT + 31)) \
      NOVA_KAFKA_STATE="$STATE_DIR/kafka" "$SCRIPT_DIR/kafka.sh" start)
    OWN_KAFKA=1
  fi
  CLICKHOUSE=${NOVA_CLUSTER_CLICKHOUSE:-$("$SCRIPT_DIR/clickhouse.sh" start)}
  S3=${NOVA_CLUSTER_S3:-$("$SCRIPT_DIR/s3proxy.sh" start)}
}

stores() {
  (cd "$REPO_ROOT" && CLUSTER_POSTGRES_ADMIN_URL=$PG_ADMIN CLUSTER_DATABASES=$(all_databases) \
    CLUSTER_REDIS_URL=$REDIS CLUSTER_REDIS_PREFIX=$REDIS_PREFIX \
    CLUSTER_CLICKHOUSE_URL=${CLICKHOUSE:-} CLUSTER_CLICKHOUSE_DATABASE=${CLICKHOUSE_DB:-} \
    CLUSTER_S3_ENDPOINT=${S3:-} CLUSTER_S3_BUCKET=${S3_BUCKET:-} CLUSTER_KAFKA=${KAFKA:-} \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true "${NODE[@]}" scripts/cluster/stores.ts "$1")
}

# cluster.env: what `down`, `start S` and clients read back (sourced by this script, parsed by tests).
write_env_file() {
  local s
  {
    printf 'NOVA_CLUSTER_NAME=%s\nBASE_PORT=%s\nPUBLIC_URL=%s\nGATEWAY=%s\n' "$NAME" "$BASE_PORT" "$PUBLIC_URL" "$GATEWAY"
    printf 'KAFKA=%s\nOWN_KAFKA=%s\nCLICKHOUSE=%s\nCLICKHOUSE_DB=%s\nS3=%s\nS3_BUCKET=%s\n' \
      "$KAFKA" "$OWN_KAFKA" "$CLICKHOUSE" "$CLICKHOUSE_DB" "$S3" "$S3_BUCKET"
    printf 'INTERNAL_TOKEN=%s\nREDIS_PREFIX=%s\nMAIL_DIR=%s\n' "$INTERNAL_TOKEN" "$REDIS_PREFIX" "$STATE_DIR/data/auth/mail"
    for s in "${SERVICES[@]}"; do
      printf 'URL_%s=http://%s:%s\n' "$(upper "$s")" "$HOST" "$(http_port_of "$s")"
      printf 'DATABASE_URL_%s=%s/%s\n' "$(upper "$s")" "${PG_ADMIN%/*}" "$(database_of "$s")"
    done
    printf 'RTMP_PORT=%s\n' $((BASE_PORT + 20))
  } >"$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

load_env_file() {
  [[ -f $ENV_FILE ]] || return 1
  # shellcheck disable=SC1090
  source "$ENV_FILE"
}

# ---- commands --------------------------------------------------------------------------------

cluster_up() {
  if load_env_file && [[ -n $(any_running) ]]; then
    die "cluster '$NAME' is already running (scripts/cluster.sh status; down first)"
  fi
  choose_base_port
  PUBLIC_URL="http://$HOST:$BASE_PORT"
  CLICKHOUSE_DB="nova_cluster_$NAME"
  S3_BUCKET="nova-cluster-${NAME//_/-}"
  INTERNAL_TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
  GATEWAY=0
  if gateway_supported; then GATEWAY=1; else PUBLIC_URL="http://$HOST:$(http_port_of auth)"; fi
  local started=$SECONDS
  # A start that fails half-way takes down what it started: nothing is left for the caller to find.
  trap 'info "start-up failed: taking down what was started"; cluster_down' EXIT
  start_engines
  write_env_file
  info "stores: databases $(all_databases), Redis prefix $REDIS_PREFIX, ClickHouse $CLICKHOUSE_DB, bucket $S3_BUCKET"
  stores create
  local targets
  targets=$(
    IFS=,
    echo "${SERVICES[*]}"
  )
  info "migrating ($targets)"
  env_args "$(
    common_env
    for s in "${SERVICES[@]}"; do printf '%s\n' "$(upper "$s")_DATABASE_URL=${PG_ADMIN%/*}/$(database_of "$s")"; done
  )"
  (cd "$REPO_ROOT" && env -u DATABASE_URL "${ENV_ARGS[@]}" LOG_LEVEL=warn "${NODE[@]}" apps/nova/src/main.ts migrate "--target=$targets" >&2) ||
    die "nova migrate failed"
  # All at once: a service waits (NOVA_STARTUP_TIMEOUT_MS) for auth's sync API itself.
  local s
  for s in "${SERVICES[@]}"; do start_service "$s"; done
  for s in "${SERVICES[@]}"; do wait_ready "$s" "http://$HOST:$(http_port_of "$s")"; done
  if ((GATEWAY)); then
    start_gateway
  else
    info "this build has no gateway target yet: clients call each service at its own port (cluster.env)"
  fi
  trap - EXIT
  info "up in $((SECONDS - started)) s: $PUBLIC_URL (state $STATE_DIR)"
  printf '%s\n' "$PUBLIC_URL"
}

start_gateway() {
  local pid s
  pid=$(running_pid_of gateway)
  [[ -z $pid ]] || return 0
  env_args "$(
    common_env
    printf '%s\n' "PORT=$BASE_PORT" "NOVA_DATA_DIR=$STATE_DIR/data/gateway"
    otel_name gateway
    for s in "${SERVICES[@]}"; do printf '%s\n' "NOVA_$(upper "$s")_URL=http://$HOST:$(http_port_of "$s")"; done
  )"
  local log
  log=$(log_file_of gateway)
  [[ -f $log ]] && mv -f "$log" "$log.1"
  (cd "$REPO_ROOT" && spawn_detached "$log" env -u DATABASE_URL "${ENV_ARGS[@]}" \
    "${NODE[@]}" apps/nova/src/main.ts start --target=gateway && echo "$SPAWNED_PID" >"$(pid_file_of gateway)")
  wait_ready gateway "$PUBLIC_URL"
}

any_running() {
  local s
  for s in "${SERVICES[@]}" gateway; do running_pid_of "$s"; done
}

cluster_down() {
  if ! load_env_file; then
    info "no cluster '$NAME' under $STATE_DIR"
    return 0
  fi
  local s pids=()
  # In parallel: each may take its whole shutdown deadline.
  for s in gateway "${SERVICES[@]}"; do
    stop_service "$s" &
    pids+=($!)
  done
  for s in "${pids[@]}"; do wait "$s" || true; done
  if ((OWN_KAFKA)); then NOVA_KAFKA_STATE="$STATE_DIR/kafka" KAFKA_PORT=$((BASE_PORT + 30)) \
    KAFKA_CONTROLLER_PORT=$((BASE_PORT + 31)) "$SCRIPT_DIR/kafka.sh" stop; fi
  stores drop
  # The logs stay (why did a test fail?); a later `up` rotates them.
  rm -rf "$STATE_DIR/data" "$STATE_DIR/pids" "$STATE_DIR/kafka" "$ENV_FILE"
  info "down: processes stopped; databases, Redis keys, ClickHouse database and bucket dropped (logs kept in $STATE_DIR/logs)"
}

# Every service process stopped and started again, all at once (the gateway stays up and
# answers 503 for them meanwhile).
cluster_restart() {
  local s pids=()
  for s in "${SERVICES[@]}"; do
    stop_service "$s" &
    pids+=($!)
  done
  for s in "${pids[@]}"; do wait "$s" || true; done
  for s in "${SERVICES[@]}"; do start_service "$s"; done
  for s in "${SERVICES[@]}"; do wait_ready "$s" "http://$HOST:$(http_port_of "$s")"; done
  info "restarted ${SERVICES[*]}"
}

cluster_status() {
  load_env_file || {
    info "no cluster '$NAME' under $STATE_DIR"
    exit 3
  }
  local s pid up=0 down=0 port
  for s in gateway "${SERVICES[@]}"; do
    ((GATEWAY)) || [[ $s != gateway ]] || continue
    pid=$(running_pid_of "$s")
    port=$BASE_PORT
    [[ $s == gateway ]] || port=$(http_port_of "$s")
    if [[ -n $pid ]]; then
      up=$((up + 1))
      info "$(printf '%-14s running  pid %-7s http://%s:%s' "$s" "$pid" "$HOST" "$port")"
    else
      down=$((down + 1))
      info "$(printf '%-14s stopped  log %s' "$s" "$(log_file_of "$s")")"
    fi
  done
  printf '%s\n' "$PUBLIC_URL"
  ((down == 0)) && return 0
  ((up == 0)) && exit 3
  exit 1
}

[[ $# -ge 1 ]] || usage
init_state_paths
take_lock "$STATE_DIR/.lock" $((READY_TIMEOUT + 300))
case $1 in
up) cluster_up ;;
down) cluster_down ;;
restart)
  load_env_file || die "no cluster '$NAME' under $STATE_DIR (up first)"
  cluster_restart
  ;;
status) cluster_status ;;
start | stop)
  [[ $# -eq 2 ]] || usage
  load_env_file || die "no cluster '$NAME' under $STATE_DIR (up first)"
  if [[ $2 == gateway ]]; then
    if [[ $1 == start ]]; then start_gateway; else stop_service gateway; fi
  else
    index_of "$2" >/dev/null
    if [[ $1 == start ]]; then
      start_service "$2"
      wait_ready "$2" "http://$HOST:$(http_port_of "$2")"
    else
      stop_service "$2"
    fi
  fi
  ;;
*) usage ;;
esac
