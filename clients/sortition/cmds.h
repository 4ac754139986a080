/* cmds: what onevoice-sortition's files share: the offline commands' helpers (main.c) and the
 * commands that go through the log (onlog.c). */
#ifndef SORTITION_CMDS_H
#define SORTITION_CMDS_H

#include <stdint.h>

#include "protocol/poolfile.h"
#include "protocol/sortition.h"
#include "sortlog.h"

#define PROG "onevoice-sortition"

int usage_error(const char *msg);
int load_pool(const char *path, struct ov_pool_file *p);
/* 0 when the pool's quotas can be met by themselves, else 1 with every reason on stderr. */
int check_pool(const struct ov_pool_file *p);
/* The pool's panel and reserves under seed, into d (allocated; ov_draw_free). */
int run_draw(const struct ov_pool_file *p, const uint8_t seed[OV_SORT_SEED_LEN],
             struct ov_draw *d);
/* Why claimed is not the pool's draw under its own seed, or NULL (again: ov_draw_free). */
const char *draw_differs(const struct ov_pool_file *p, const struct ov_draw *claimed,
                         struct ov_draw *again);

/* onlog.c: the draw pinned in the log (docs/PROTOCOL.md §10). */
int cmd_key(int argc, char **argv);
int cmd_commit(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_upload(int argc, char **argv);
int cmd_reveal(int argc, char **argv);
int cmd_status(int argc, char **argv);
/* draw and verify with --log: called by main.c's with their parsed options. */
struct log_args {
    struct sl_opts o;
    const char *id, *key, *producer;
};
/* The options of a command that reads the log (a table's entries). */
#define LOG_OPTS(a)                                                                              \
    { "--log", "URL", "the log's URL", &(a).o.log, NULL, NULL },                                 \
    { "--log-vkey", "VKEY", "the log's verifier key", &(a).o.vkey, NULL, NULL },                 \
    { "--witnesses", "FILE", "the witnesses' cosignature keys, one a line (or the log's "        \
      "--witnesses file)", &(a).o.witnesses, NULL, NULL },                                       \
    { "--quorum", "K", "cosignatures a checkpoint needs (default: every witness listed)",        \
      &(a).o.quorum, NULL, NULL },                                                               \
    { "--id", "ID", "the draw's id (1-64 of [a-z0-9-])", &(a).id, NULL, NULL }
/* And of one that appends to it. */
#define PRODUCER_OPTS(a, who)                                                                    \
    { "--key", "FILE", who "'s Ed25519 key (" PROG " key makes it)", &(a).key, NULL, NULL },     \
    { "--producer", "NAME", "the name the log's --producers file gives that key", &(a).producer, \
      NULL, NULL }
int draw_from_log(const struct log_args *a, const char *pool, const char *out);
int verify_from_log(const struct log_args *a, const char *pool);

#endif
