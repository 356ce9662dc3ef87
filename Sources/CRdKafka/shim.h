#pragma once
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* rd_kafka_producev is a variadic macro API that Swift cannot call; this keeps
   the one produce shape we use (copied payload, key, optional headers). */
static inline rd_kafka_resp_err_t oms_rdk_produce(
    rd_kafka_t *rk, const char *topic, int32_t partition,
    const void *payload, size_t len, const void *key, size_t keylen,
    rd_kafka_headers_t *headers, void *msg_opaque) {
    return rd_kafka_producev(
        rk,
        RD_KAFKA_V_TOPIC(topic),
        RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE((void *)payload, len),
        RD_KAFKA_V_KEY(key, keylen),
        RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_OPAQUE(msg_opaque),
        RD_KAFKA_V_END);
}
