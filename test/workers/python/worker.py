"""A Relay worker in Python (pika), written from docs/worker-protocol.md.

    AMQP_URL=amqp://guest:guest@127.0.0.1:5672/%2F python3 worker.py relay.jobs.py-count relay.jobs.py-explode

Consumes the queues named on the command line and runs each job by its `type`:
  py-count   {"steps": n}  sends processing, one progress per step, then {"counted": n}
  py-explode {}            its handler raises; the job ends with failed / internal_error
Every reply carries Relay's envelope; the job is acked once the final reply is confirmed.
"""

import json
import os
import signal
import sys
import time

import pika


class JobFailed(Exception):
    """A failure the handler decides: the job ends with `failed` and this code."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def count(data, progress):
    steps = int(data.get("steps", 3))
    for step in range(1, steps + 1):
        time.sleep(0.05)
        progress(round(step * 100 / steps), f"step {step} of {steps}")
    return {"counted": steps, "by": "python"}


def explode(data, progress):
    raise RuntimeError("the handler blew up on purpose")


HANDLERS = {"py-count": count, "py-explode": explode}


def log(line):
    print(f"[python-worker] {line}", flush=True)


def main():
    queues = sys.argv[1:]
    if not queues:
        sys.exit("usage: worker.py <queue>...")
    connection = pika.BlockingConnection(pika.URLParameters(os.environ["AMQP_URL"]))
    channel = connection.channel()
    # Publisher confirms: basic_publish returns only once the broker has the reply.
    channel.confirm_delivery()
    channel.basic_qos(prefetch_count=1)

    def on_job(ch, method, props, body):
        job_id = props.correlation_id
        attempt = int((props.headers or {}).get("x-relay-attempt", 1))
        job_type = props.type
        log(f"received {job_type} {job_id} attempt {attempt} redelivered={method.redelivered} body={body.decode()}")
        seq = 0

        def reply(event, data):
            nonlocal seq
            seq += 1
            envelope = {"id": f"{attempt}-{seq}", "event": event, "data": data, "job_type": job_type}
            ch.basic_publish(
                exchange="",
                routing_key=props.reply_to or "front_queue",
                body=json.dumps(envelope),
                properties=pika.BasicProperties(correlation_id=job_id, content_type="application/json", delivery_mode=2),
            )
            log(f"sent {envelope['id']} {event} {json.dumps(data)}")

        reply("status", {"status": "processing", "attempt": attempt})
        handler = HANDLERS.get(job_type)
        try:
            if handler is None:
                raise JobFailed("unknown_job_type", f"This worker does not run {job_type}")
            result = handler(json.loads(body), lambda percent, message: reply("progress", {"percent": percent, "message": message}))
        except JobFailed as failure:
            reply("failed", {"code": failure.code, "message": str(failure)})
        except Exception as error:  # noqa: BLE001 - any exception ends the job with a code
            reply("failed", {"code": "internal_error", "message": f"{type(error).__name__}: {error}"})
        else:
            reply("result", result)
        # The final reply is confirmed (basic_publish returned): now the job may go.
        ch.basic_ack(delivery_tag=method.delivery_tag)
        log(f"acked {job_id}")

    for queue in queues:
        # Relay declared these queues (quorum, with its arguments): only check that they exist.
        channel.queue_declare(queue=queue, passive=True)
        channel.basic_consume(queue=queue, on_message_callback=on_job)
    signal.signal(signal.SIGTERM, lambda *_: channel.stop_consuming())
    log(f"waiting for jobs on {', '.join(queues)}")
    channel.start_consuming()
    connection.close()
    log("stopped")


if __name__ == "__main__":
    main()
