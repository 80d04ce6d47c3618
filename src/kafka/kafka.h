// sluice's Kafka layer: thin RAII wrappers over librdkafka's C++ API.
//
//  - config.h   typed settings (bootstrap, client id, SASL/SCRAM + TLS, extra
//               `key=value` properties) -> RdKafka::Conf, with errors naming the property;
//  - producer.h idempotent producer (acks=all), delivery reports with a user opaque;
//  - consumer.h consumer group (cooperative-sticky), explicit commits, pause/resume,
//               rebalance callback; or manual assignment;
//  - admin.h    create topics (incl. compacted), partition counts, watermarks, group lag;
//  - topic_reader.h  read a whole topic up to its current end, outside any group;
//  - types.h    strong types for topic, partition and offset.
//
// Every fallible call returns result<T>; errors carry the operation, the topic and
// partition, and librdkafka's message.
#pragma once

#include "kafka/admin.h"
#include "kafka/config.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "kafka/topic_reader.h"
#include "kafka/types.h"
