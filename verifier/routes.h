/* routes: the verifier's HTTP endpoints (docs/PROTOCOL.md §8) */
#ifndef VF_ROUTES_H
#define VF_ROUTES_H

#include "infra/http.h"

extern const struct ov_http_route vf_routes[];
extern const size_t vf_n_routes;

#endif
