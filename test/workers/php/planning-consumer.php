<?php
/**
 * The planning service's consumer, as the architecture Relay comes from has it (php-amqplib 3.5):
 * it reads the topic exchange `Planning` with routing key `save` into the durable queue
 * `save_queue`, saves the planning, and answers each message with a plain JSON body on
 * `front_queue`, setting only `correlation_id`. It knows nothing of Relay.
 *
 *   AMQP_URL=amqp://guest:guest@127.0.0.1:5672/%2F php planning-consumer.php
 */

// Debian's php-amqplib; with Composer it is vendor/autoload.php.
require_once getenv('PHP_AMQPLIB_AUTOLOAD') ?: '/usr/share/php/PhpAmqpLib/autoload.php';

use PhpAmqpLib\Connection\AMQPStreamConnection;
use PhpAmqpLib\Message\AMQPMessage;

$url = parse_url(getenv('AMQP_URL') ?: 'amqp://guest:guest@127.0.0.1:5672/%2F');
$vhost = isset($url['path']) && strlen($url['path']) > 1 ? rawurldecode(substr($url['path'], 1)) : '/';
$connection = new AMQPStreamConnection($url['host'], $url['port'] ?? 5672, $url['user'] ?? 'guest', $url['pass'] ?? 'guest', $vhost);
$channel = $connection->channel();

// exchange_declare($exchange, $type, $passive, $durable, $auto_delete)
$channel->exchange_declare('Planning', 'topic', false, true, false);
// queue_declare($queue, $passive, $durable, $exclusive, $auto_delete): plain durable queues, no arguments
$channel->queue_declare('save_queue', false, true, false, false);
$channel->queue_bind('save_queue', 'Planning', 'save');
$channel->queue_declare('front_queue', false, true, false, false);
$channel->basic_qos(null, 1, null);

echo "[planning] waiting for plannings on save_queue\n";

$callback = function (AMQPMessage $msg) use ($channel) {
    $requestId = $msg->get('correlation_id');
    $planning = json_decode($msg->getBody(), true);
    echo "[planning] received {$requestId}: {$msg->getBody()}\n";

    // Saving the planning would happen here.
    $response = [
        'status' => 'success',
        'user_id' => $planning['user_id'] ?? null,
        'message' => 'Planning saved',
        'request_id' => $requestId,
    ];
    $channel->basic_publish(new AMQPMessage(json_encode($response), ['correlation_id' => $requestId]), '', 'front_queue');
    echo "[planning] replied to front_queue: " . json_encode($response) . "\n";
    $msg->ack();
};

$channel->basic_consume('save_queue', '', false, false, false, false, $callback);
while ($channel->is_consuming()) {
    $channel->wait();
}
