/* handlers: the witness's endpoints (routes.c lists them) and what they share. */
#ifndef WITNESS_HANDLERS_H
#define WITNESS_HANDLERS_H

#include "infra/http.h"

#define WITNESS_TEXT_TYPE "text/plain; charset=utf-8"

/* routes.c: a failure of the witness's own after parsing, answered 5xx. */
int witness_our_fault(struct ov_req *rq, int err);
/* h_add_checkpoint.c */
int witness_h_add_checkpoint(struct ov_req *rq);
/* h_checkpoint.c */
int witness_h_checkpoint(struct ov_req *rq);

#endif
