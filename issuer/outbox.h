/* outbox: the sender thread. Every log entry the issuer owes (context, enrollment,
 * issuance) is first written to the outbox table in the same transaction as the state it
 * records; this thread appends the pending rows in order, in batches, to the log
 * (core/protocol/logclient, wait "durable"), marks them with the index the log acknowledged
 * (inside the writer's next batch: issuer_writer_call), and
 * retries with backoff until the log confirms, also after a crash, since the rows are
 * durable. The log deduplicates by leaf hash, so a row sent twice (a crash between the
 * log's answer and our mark) keeps its first index.
 *
 * Before the first append it fetches the log's /vkey and requires it to be --log-vkey,
 * so the issuer never records contexts in a log other than the one citizens check. When a
 * context entry is acknowledged, the context opens: it is loaded into the contexts and the
 * HTTP long polls (context creation) are woken. It also forgets expired token-request
 * signatures (seen_requests). */
#ifndef ISSUER_OUTBOX_H
#define ISSUER_OUTBOX_H

#include "app.h"

#define ISSUER_OUTBOX_BATCH 1024

struct issuer_outbox;

/* Starts the sender for the log at url, whose verifier key must be vkey, appending as
 * producer `name` with app->producer. -OV_E_NOMEM, -OV_E_* of ov_db_open. */
OV_MUST_CHECK int issuer_outbox_start(struct issuer_app *app, const char *url, const char *vkey,
                                      const char *name, struct issuer_outbox **out);
/* Wakes the sender: new rows are pending. Any thread; accepts NULL. */
void issuer_outbox_kick(struct issuer_outbox *o);
/* Stops the thread (pending rows stay for the next start). Kicks stay harmless until
 * issuer_outbox_free: the writer, stopped after the sender, still kicks while it finishes
 * the jobs of requests that ended with the server. Accepts NULL. */
void issuer_outbox_stop(struct issuer_outbox *o);
/* Frees a stopped sender. Accepts NULL. */
void issuer_outbox_free(struct issuer_outbox *o);

#endif
