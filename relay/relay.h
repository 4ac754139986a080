/* relay: what onevoice-relay's threads share (its gateways, its metrics) and its routes.
 *   POST /relay/:name   message/ohttp-req -> the gateway's answer (docs/PROTOCOL.md §13)
 * plus the frame's GET /healthz and GET /metrics. */
#ifndef RELAY_H
#define RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "infra/http.h"
#include "infra/metrics.h"

#define RELAY_MAX_GATEWAYS 16
#define RELAY_MAX_NAME_LEN 32 /* [a-z0-9-] */
#define RELAY_MAX_URL_LEN 1024
#define RELAY_DEFAULT_TIMEOUT_MS 30000u
#define RELAY_DEFAULT_THREADS 32u
/* The largest Encapsulated Request and answer relayed (a gateway's own cap: ohttpgw.h). */
#define RELAY_BODY_MAX (256u * 1024u)
#define RELAY_RESP_MAX (4u << 20)

struct relay_gateway {
    char name[RELAY_MAX_NAME_LEN + 1];
    char url[RELAY_MAX_URL_LEN + 1];
    struct ov_counter *relayed, *failed;
};

struct relay_app {
    struct relay_gateway gateways[RELAY_MAX_GATEWAYS];
    size_t n_gateways;
    uint32_t timeout_ms;
    struct ov_counter *unknown, *bad_type;
};

/* Parses "NAME=URL[,NAME=URL...]" (names [a-z0-9-], unique; URLs http:// or https://).
 * -OV_E_MALFORMED or -OV_E_TOO_BIG, with why in why. */
int relay_gateways_parse(const char *list, struct relay_app *app, char *why, size_t why_len);
/* The per-thread HTTP clients and the metrics. */
int relay_app_init(struct relay_app *app, struct ov_metrics *m);
void relay_app_clear(struct relay_app *app);

extern const struct ov_http_route relay_routes[];
extern const size_t relay_n_routes;

#endif
