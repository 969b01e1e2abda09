#!/usr/bin/env bash
# Makes sure RabbitMQ and Redis answer on loopback (and that Chromium for the browser test,
# openssl for the TLS test, and PHP with php-amqplib and Python with pika for the workers in
# other languages are installed), installing them with apt-get where they are missing. Idempotent.
set -euo pipefail

# The tests run PHP and Python workers with these (test/helpers/foreign-program.ts reads the same variables).
php_amqplib=${PHP_AMQPLIB_AUTOLOAD:-/usr/share/php/PhpAmqpLib/autoload.php}
if [ -n "${PYTHON:-}" ]; then python=$PYTHON; elif [ -x /usr/bin/python3 ]; then python=/usr/bin/python3; else python=python3; fi

need_apt=()
command -v rabbitmq-server >/dev/null 2>&1 || need_apt+=(rabbitmq-server)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# The Redis TLS test makes its self-signed certificate with openssl.
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v "${PHP:-php}" >/dev/null 2>&1 || need_apt+=(php-cli)
[ -f "$php_amqplib" ] || need_apt+=(php-amqplib)
"$python" -c 'import pika' >/dev/null 2>&1 || need_apt+=(python3-pika)

if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "services: installing ${need_apt[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "services: missing ${need_apt[*]}." >&2
    echo "  Install them with your package manager (Debian/Ubuntu: apt-get install ${need_apt[*]})," >&2
    echo "  or point RABBITMQ_URL / REDIS_URL at running servers. Elsewhere, PHP 8 with php-amqplib 3" >&2
    echo "  (composer require php-amqplib/php-amqplib; PHP_AMQPLIB_AUTOLOAD=<vendor/autoload.php>) and" >&2
    echo "  Python 3 with pika (pip install pika; PYTHON=<that python>) do as well." >&2
    exit 1
  fi
fi

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
rabbit_up() { rabbitmq-diagnostics -q check_port_connectivity >/dev/null 2>&1; }

if ! redis_up; then
  echo "services: starting redis-server on 127.0.0.1:6379"
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no \
    --maxclients 30000 --logfile /tmp/relay-redis.log
fi

if ! rabbit_up; then
  echo "services: starting rabbitmq-server"
  rabbitmq-server -detached >/dev/null 2>&1 || true
fi

for i in $(seq 1 120); do
  if redis_up && rabbit_up; then
    echo "services: RabbitMQ and Redis are answering"
    exit 0
  fi
  sleep 1
done
echo "services: RabbitMQ or Redis did not answer within 120 s (see /var/log/rabbitmq, /tmp/relay-redis.log)" >&2
exit 1
