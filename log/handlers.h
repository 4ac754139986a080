/* handlers: the log's endpoints (routes.c lists them) and what they share. The frame's
 * precheck (h_append.c) is declared in app.h, for main.c. */
#ifndef TLOG_HANDLERS_H
#define TLOG_HANDLERS_H

#include <stdint.h>

#include <jansson.h>

#include "infra/http.h"

struct tlog_app;

/* h_append.c */
int tlog_h_add(struct ov_req *rq);
/* h_proof.c */
int tlog_h_inclusion(struct ov_req *rq);
int tlog_h_consistency(struct ov_req *rq);
/* The inclusion proof of index in the tree of size (from the tiles) as a JSON array into
 * *out; also the proofs in the answer of an append that waits for a checkpoint. */
OV_MUST_CHECK int tlog_inclusion_proof(struct tlog_app *app, uint64_t index, uint64_t size,
                                       json_t **out);
/* h_files.c */
int tlog_h_file(struct ov_req *rq);
int tlog_h_file_add(struct ov_req *rq);
/* h_producers.c */
int tlog_h_producer(struct ov_req *rq);
/* h_read.c */
int tlog_h_checkpoint(struct ov_req *rq);
int tlog_h_tile(struct ov_req *rq);
int tlog_h_vkey(struct ov_req *rq);
int tlog_h_witnesses(struct ov_req *rq);
int tlog_h_join(struct ov_req *rq);
/* h_web.c */
int tlog_h_root(struct ov_req *rq);
int tlog_h_web(struct ov_req *rq);

#endif
