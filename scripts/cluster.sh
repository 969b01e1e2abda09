#!/usr/bin/env bash
# A 3-node RabbitMQ cluster and a Redis Cluster of 3 masters and 3 replicas on loopback, for the
# cluster tests and for trying Relay on clustered brokers by hand. Everything lives under
# $RELAY_CLUSTER_DIR (default /tmp/relay-cluster); the shared RabbitMQ (5672) and Redis (6379)
# are never touched: these nodes have their own names, ports, data, logs and Erlang cookie.
#
#   scripts/cluster.sh start            start (or complete) both clusters; prints the settings to use
#   scripts/cluster.sh stop             stop every node and delete the data
#   scripts/cluster.sh env              print the settings to use
#   scripts/cluster.sh status           nodes that answer
#   scripts/cluster.sh rabbit-stop N    stop RabbitMQ node N (1-3) cleanly;  rabbit-kill N: SIGKILL it
#   scripts/cluster.sh rabbit-start N   start node N again (it rejoins the cluster)
#   scripts/cluster.sh redis-kill PORT  SIGKILL the Redis node on PORT;  redis-start PORT: start it again
#   scripts/cluster.sh ctl N ARGS...    rabbitmqctl against node N (list_queues, add_vhost, ...)
#   scripts/cluster.sh queues N ARGS... rabbitmq-queues against node N (rebalance quorum, ...)
#
# Ports: RabbitMQ AMQP 5681-5683 (distribution 25681-25683), Redis 6381-6386 (bus 16381-16386).
set -euo pipefail

DIR=${RELAY_CLUSTER_DIR:-/tmp/relay-cluster}
# The Erlang CLI tools write a crash dump into the working directory when a node cannot be reached.
export ERL_CRASH_DUMP="$DIR/erl_crash.dump"
RABBIT_NODES=(1 2 3)
REDIS_PORTS=(6381 6382 6383 6384 6385 6386)
# How long a Redis master may be unreachable before its replica takes over. Redis's default is
# 15 s; a shorter one makes failover tests quicker (and is a reasonable production choice on a LAN).
REDIS_NODE_TIMEOUT_MS=${RELAY_CLUSTER_REDIS_NODE_TIMEOUT_MS:-3000}
# How soon a quorum queue's dead-letter worker hands on again a copy its target refused (see rabbit_start).
DEAD_LETTER_RETRY_MS=${RELAY_CLUSTER_DEAD_LETTER_RETRY_MS:-5000}

# shellcheck source=scripts/rabbitmq-node.sh
. "$(dirname "${BASH_SOURCE[0]}")/rabbitmq-node.sh"

rabbit_name() { echo "rabbit-c$1@localhost"; }
rabbit_port() { echo $((5680 + $1)); }

ctl() {
  local n=$1
  shift
  rabbit_node_ctl "$DIR/rabbit-home" "$(rabbit_name "$n")" "$@"
}

rabbit_up() { rabbit_node_up "$DIR/rabbit-home" "$(rabbit_name "$1")"; }

rabbit_start() {
  local n=$1
  mkdir -p "$DIR/rabbit-$n"
  printf 'listeners.tcp.1 = 127.0.0.1:%s\nloopback_users = none\n' "$(rabbit_port "$n")" >"$DIR/rabbit-$n/rabbitmq.conf"
  # A quorum queue's dead-letter worker tries a copy its target queue refused (the target had no
  # reachable leader: a node lost) again only after this long; RabbitMQ's default is 3 minutes, so
  # a retry due while a node was away came back minutes late. See README, "Clustered brokers".
  printf '[{rabbit, [{dead_letter_worker_publisher_confirm_timeout, %s}]}].\n' "$DEAD_LETTER_RETRY_MS" >"$DIR/rabbit-$n/advanced.config"
  if rabbit_up "$n"; then return; fi
  # One cookie (in the shared home) for the three nodes and the CLI tools run by this script.
  rabbit_node_start "$DIR/rabbit-home" "$DIR/rabbit-$n" "$(rabbit_name "$n")" "$(rabbit_port "$n")" $((25680 + n))
}

rabbit_wait() { rabbit_node_wait "$DIR/rabbit-home" "$(rabbit_name "$1")" "$(rabbit_port "$1")"; }

rabbit_pid() { cat "$DIR/rabbit-$1/pid" 2>/dev/null || true; }

rabbit_clustered() {
  ctl 1 -q cluster_status --formatter json 2>/dev/null | grep -o '"running_nodes":\[[^]]*\]' | grep -o 'rabbit-c' | wc -l
}

rabbit_cluster_up() {
  for n in "${RABBIT_NODES[@]}"; do rabbit_start "$n"; done
  for n in "${RABBIT_NODES[@]}"; do rabbit_wait "$n"; done
  for n in 2 3; do
    if ctl "$n" -q cluster_status --formatter json | grep -q "$(rabbit_name 1)"; then continue; fi
    # The CLI reports the joining node's tables being recreated as errors; keep them out of the way.
    ctl "$n" -q stop_app >>"$DIR/join.log" 2>&1
    ctl "$n" -q join_cluster "$(rabbit_name 1)" >>"$DIR/join.log" 2>&1
    ctl "$n" -q start_app >>"$DIR/join.log" 2>&1
    rabbit_wait "$n"
  done
  if [ "$(rabbit_clustered)" != 3 ]; then
    echo "cluster: RabbitMQ nodes did not form one cluster" >&2
    return 1
  fi
}

redis_pid() { cat "$DIR/redis-$1/pid" 2>/dev/null || true; }
redis_up() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG; }

redis_start() {
  local port=$1
  mkdir -p "$DIR/redis-$port"
  if redis_up "$port"; then return; fi
  redis-server --bind 127.0.0.1 --port "$port" --dir "$DIR/redis-$port" --daemonize yes \
    --pidfile "$DIR/redis-$port/pid" --logfile "$DIR/redis-$port/redis.log" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout "$REDIS_NODE_TIMEOUT_MS" \
    --cluster-require-full-coverage no --appendonly yes --save '' --maxmemory-policy noeviction
  for _ in $(seq 1 100); do
    if redis_up "$port"; then return; fi
    sleep 0.1
  done
  echo "cluster: Redis on $port did not start (see $DIR/redis-$port/redis.log)" >&2
  return 1
}

redis_cluster_ok() {
  for port in "${REDIS_PORTS[@]}"; do
    redis-cli -p "$port" cluster info 2>/dev/null | grep -q 'cluster_state:ok' || return 1
  done
  # Three masters, each with a replica.
  [ "$(redis-cli -p "${REDIS_PORTS[0]}" cluster nodes | grep -c ' slave ')" = 3 ]
}

redis_cluster_up() {
  for port in "${REDIS_PORTS[@]}"; do redis_start "$port"; done
  if ! redis-cli -p "${REDIS_PORTS[0]}" cluster info | grep -q 'cluster_slots_assigned:16384'; then
    local nodes=()
    for port in "${REDIS_PORTS[@]}"; do nodes+=("127.0.0.1:$port"); done
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$DIR/redis-create.log"
  fi
  for _ in $(seq 1 300); do
    if redis_cluster_ok; then return; fi
    sleep 0.1
  done
  echo "cluster: Redis Cluster did not settle (see $DIR/redis-create.log)" >&2
  return 1
}

print_env() {
  local urls=() seeds=()
  for n in "${RABBIT_NODES[@]}"; do urls+=("amqp://guest:guest@127.0.0.1:$(rabbit_port "$n")"); done
  for port in "${REDIS_PORTS[@]:0:3}"; do seeds+=("redis://127.0.0.1:$port"); done
  echo "RABBITMQ_URL=$(IFS=,; echo "${urls[*]}")"
  echo "RABBITMQ_CLUSTER=true"
  echo "REDIS_URL=$(IFS=,; echo "${seeds[*]}")"
  echo "REDIS_CLUSTER=true"
}

stop_all() {
  for n in "${RABBIT_NODES[@]}"; do rabbit_node_stop "$DIR/rabbit-home" "$(rabbit_name "$n")"; done
  for port in "${REDIS_PORTS[@]}"; do
    local pid
    pid=$(redis_pid "$port")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$DIR"
}

command -v rabbitmq-server >/dev/null || { echo "cluster: rabbitmq-server is not installed" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "cluster: redis-server is not installed" >&2; exit 1; }

case "${1:-}" in
  start)
    mkdir -p "$DIR"
    rabbit_cluster_up &
    rabbit=$!
    redis_cluster_up
    wait "$rabbit"
    print_env
    ;;
  stop) stop_all ;;
  env) print_env ;;
  status)
    for n in "${RABBIT_NODES[@]}"; do
      if rabbit_up "$n"; then echo "rabbit $n up"; else echo "rabbit $n down"; fi
    done
    for port in "${REDIS_PORTS[@]}"; do
      if redis_up "$port"; then echo "redis $port $(redis-cli -p "$port" role | head -1)"; else echo "redis $port down"; fi
    done
    ;;
  rabbit-stop) ctl "$2" -q stop >/dev/null ;;
  rabbit-kill)
    pid=$(rabbit_pid "$2")
    kill -9 "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    ;;
  rabbit-start)
    rabbit_start "$2"
    rabbit_wait "$2"
    ;;
  redis-kill)
    pid=$(redis_pid "$2")
    kill -9 "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    ;;
  redis-start) redis_start "$2" ;;
  ctl)
    n=$2
    shift 2
    ctl "$n" "$@"
    ;;
  queues)
    n=$2
    shift 2
    env HOME="$DIR/rabbit-home" "$(rabbit_bin)/rabbitmq-queues" -n "$(rabbit_name "$n")" "$@"
    ;;
  *)
    sed -n '2,17p' "$0" >&2
    exit 2
    ;;
esac
