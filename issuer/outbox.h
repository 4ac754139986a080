/* outbox: the sender thread. Every log entry the issuer owes (context, enrollment,
 * issuance) is first written to the outbox table in the same transaction as the state it
 * records; this thread appends the pending rows in order, in batches, to the log
 * (core/protocol/logclient, wait "durable"), marks them with the index the log acknowledged
 * (inside the writer's next batch: issuer_writer_call), and
 * retries with backoff until the log confirms, also after a crash, since the rows are
 * durable. With epochs (--epoch-seconds) enrollments and issuances wait in the table until
 * their epoch ended, then go in the random order drawn when they were written. The log deduplicates by leaf hash, so a row sent twice (a crash between the
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

/* The entries held for their epoch (docs/PROTOCOL.md §3.1), by class: within an epoch the
 * enrollments go before the issuances, so that the log never shows an issuance before the
 * enrollment of the person it is for (an auditor counts tags against enrollments before). */
enum issuer_held { ISSUER_HELD_ENROLLMENT = 0, ISSUER_HELD_ISSUANCE = 1 };
/* An outbox row's place among its epoch's: its class, then a random key (0 without
 * epochs: commit order). */
uint64_t issuer_epoch_place(const struct issuer_app *app, enum issuer_held cls);

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
