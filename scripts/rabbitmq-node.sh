#!/usr/bin/env bash
# A RabbitMQ node of its own on loopback: its own node name, AMQP and distribution ports, data,
# logs and Erlang cookie, no plugins; the shared broker (5672) is never touched. scripts/cluster.sh
# sources this file for its nodes; the tests run it (test/helpers/own-rabbitmq.ts):
#
#   scripts/rabbitmq-node.sh start DIR NAME AMQP_PORT DIST_PORT   start a node (everything under DIR) and wait until it serves AMQP
#   scripts/rabbitmq-node.sh ctl DIR NAME ARGS...                 rabbitmqctl against it (stop_app, start_app, list_queues, ...)
#   scripts/rabbitmq-node.sh stop DIR NAME                        stop it (SIGKILL if it does not answer)
#
# NAME is a full node name (name@localhost). When sourced, the functions take the home directory
# (which holds the Erlang cookie the node and its CLI tools share) and the node's own directory
# apart, so that the nodes of a cluster can share one cookie.

rabbit_bin() {
  # Debian's /usr/sbin wrappers switch to the rabbitmq user (and its cookie); call the scripts
  # themselves so these nodes run with the cookie under their home.
  local real
  real=$(readlink -f "$(command -v rabbitmq-server)")
  dirname "$real"
}

# rabbit_node_start HOME NODE_DIR NAME AMQP_PORT DIST_PORT: starts the node detached (returns at once).
# A rabbitmq.conf the caller put in NODE_DIR is used; without one the node boots faster (no
# configuration schema to translate) and takes its address and port from the environment. So is an
# advanced.config there (settings rabbitmq.conf has no name for).
rabbit_node_start() {
  local home=$1 dir=$2 name=$3 port=$4 dist_port=$5
  mkdir -p "$dir/log" "$home"
  if [ ! -f "$home/.erlang.cookie" ]; then
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$home/.erlang.cookie"
    chmod 400 "$home/.erlang.cookie"
  fi
  echo '[].' >"$dir/enabled_plugins"
  : >"$dir/rabbitmq-env.conf"
  env HOME="$home" \
    RABBITMQ_NODENAME="$name" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$port" \
    RABBITMQ_DIST_PORT="$dist_port" \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" \
    RABBITMQ_LOG_BASE="$dir/log" \
    RABBITMQ_PID_FILE="$dir/pid" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
    RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf" \
    ERL_CRASH_DUMP="$dir/log/erl_crash.dump" \
    "$(rabbit_bin)/rabbitmq-server" -detached
}

# rabbit_node_ctl HOME NAME ARGS...
rabbit_node_ctl() {
  local home=$1 name=$2
  shift 2
  env HOME="$home" "$(rabbit_bin)/rabbitmqctl" -n "$name" "$@"
}

# rabbit_node_up HOME NAME: whether RabbitMQ runs on the node.
rabbit_node_up() { env HOME="$1" "$(rabbit_bin)/rabbitmq-diagnostics" -n "$2" -q check_running >/dev/null 2>&1; }

# rabbit_node_pids NAME: the node's Erlang VM, found by the node name in its environment (the
# command line does not carry it). Only beam.smp counts: an epmd the node started inherits the
# environment too, and outlives it.
rabbit_node_pids() {
  local environ pid
  for environ in $(grep -lzsxF "RABBITMQ_NODENAME=$1" /proc/[0-9]*/environ 2>/dev/null); do
    pid=$(echo "$environ" | cut -d/ -f3)
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = beam.smp ]; then echo "$pid"; fi
  done
}

# rabbit_node_wait HOME NAME AMQP_PORT [TIMEOUT_S]: until the node has booted and listens for AMQP;
# fails at once when the node is gone (a port taken, a bad setting).
rabbit_node_wait() {
  local home=$1 name=$2 port=$3 timeout=${4:-120}
  local deadline=$((SECONDS + timeout))
  # A node started with -detached takes a moment to register with epmd; until then nothing can
  # reach it, and await_startup would give up at once.
  until env HOME="$home" "$(rabbit_bin)/rabbitmq-diagnostics" -n "$name" -q ping >/dev/null 2>&1; do
    if [ -z "$(rabbit_node_pids "$name")" ]; then
      echo "rabbitmq-node: $name exited while starting" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "rabbitmq-node: $name did not come up within ${timeout} s" >&2
      return 1
    fi
    sleep 0.2
  done
  rabbit_node_ctl "$home" "$name" -q await_startup --timeout "$timeout" >/dev/null || return 1
  # The AMQP listener comes last.
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "rabbitmq-node: $name does not listen on $port" >&2
      return 1
    fi
    sleep 0.1
  done
}

# rabbit_node_stop HOME NAME: a clean stop, SIGKILL when the node does not answer; returns once it is gone.
rabbit_node_stop() {
  local home=$1 name=$2 pids
  pids=$(rabbit_node_pids "$name")
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086
  rabbit_node_ctl "$home" "$name" -q stop >/dev/null 2>&1 || kill -9 $pids 2>/dev/null || true
  while [ -n "$(rabbit_node_pids "$name")" ]; do sleep 0.05; done
}

# What the caller of a failed start needs to see: the end of the node's log, and whether one of
# its ports was taken by another program (the words EADDRINUSE let a caller try other ports).
rabbit_node_explain_failure() {
  local dir=$1 name=$2 port
  shift 2
  tail -n 30 "$dir/log/$name.log" >&2 2>/dev/null || true
  grep -m1 '^Slogan' "$dir/log/erl_crash.dump" >&2 2>/dev/null || true
  for port in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "rabbitmq-node: EADDRINUSE, port $port is taken" >&2; fi
  done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  command -v rabbitmq-server >/dev/null || { echo "rabbitmq-node: rabbitmq-server is not installed" >&2; exit 1; }
  command=${1:-}
  dir=${2:?usage: $0 start|ctl|stop DIR NAME ...}
  name=${3:?node name}
  shift 3
  case "$command" in
    start)
      port=${1:?AMQP port}
      dist_port=${2:?distribution port}
      if ! { rabbit_node_start "$dir/home" "$dir" "$name" "$port" "$dist_port" && rabbit_node_wait "$dir/home" "$name" "$port" 60; }; then
        rabbit_node_stop "$dir/home" "$name"
        rabbit_node_explain_failure "$dir" "$name" "$port" "$dist_port"
        exit 1
      fi
      ;;
    ctl) rabbit_node_ctl "$dir/home" "$name" "$@" ;;
    stop) rabbit_node_stop "$dir/home" "$name" ;;
    *)
      sed -n '2,8p' "$0" >&2
      exit 2
      ;;
  esac
fi
