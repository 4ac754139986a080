/* relay: forwards citizens' signed actions to the verifier in batches, with libonevoice.
 *
 * A platform that gathers actions (a kiosk that collected them offline, a forum that
 * queues them) reads them as JSON lines on standard input, one action as the onevoice
 * wallet sends it a line (its token in the body), and sends them in batches of up to
 * --batch (default 64, at most ONEVOICE_BATCH_MAX) in one request each
 * (onevoice_submit_batch). It prints a line per action, in order:
 *
 *   200 <receipt JSON>          counted (202: counted, not in the log yet); the receipt is
 *                               checked to be for this very action
 *   409 token_spent             refused, with the verifier's status and reason
 *   400 malformed               a line that is not an action (not sent)
 *
 * It uses only <onevoice.h>:
 *   cc relay.c $(pkg-config --cflags --libs onevoice)
 *
 * usage: relay --verifier URL [--batch N] [--wait-proof] < actions.jsonl
 * Exit status 0 when every batch was answered (whatever each action's fate), 1 when the
 * verifier refused a batch or did not answer, 2 on usage errors. */
#define _POSIX_C_SOURCE 200809L /* getline */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <onevoice.h>

/* The actions read so far (NULL for a line that was not one) and their lines' order. */
struct pending {
    struct onevoice_action *a[ONEVOICE_BATCH_MAX];
    int bad[ONEVOICE_BATCH_MAX];
    size_t n;
};

/* Sends the pending actions and prints a line for each: 0, or 1 when the batch failed. */
static int
flush(struct onevoice_verifier *v, struct pending *p, int wait_proof)
{
    const struct onevoice_action *send[ONEVOICE_BATCH_MAX];
    char *receipts[ONEVOICE_BATCH_MAX];
    size_t lens[ONEVOICE_BATCH_MAX], n = 0;
    struct onevoice_answer ans[ONEVOICE_BATCH_MAX], batch;
    int rc = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (!p->bad[i]) {
            send[n++] = p->a[i];
        }
    }
    if (n > 0) {
        rc = onevoice_submit_batch(v, send, n, wait_proof, receipts, lens, ans, &batch);
        if (rc != 0) {
            fprintf(stderr, "relay: the batch failed: %s (%u %s)\n", onevoice_strerror(rc),
                    batch.status, batch.reason);
        }
    }
    for (size_t i = 0, k = 0; rc == 0 && i < p->n; i++) {
        if (p->bad[i]) {
            printf("400 malformed\n");
        } else if (receipts[k] != NULL) {
            printf("%u %s\n", ans[k].status, receipts[k]);
            free(receipts[k++]);
        } else {
            printf("%u %s\n", ans[k].status, ans[k].reason);
            k++;
        }
    }
    for (size_t i = 0; i < p->n; i++) {
        onevoice_action_free(p->a[i]);
    }
    p->n = 0;
    fflush(stdout);
    return rc != 0;
}

int
main(int argc, char **argv)
{
    const char *url = NULL;
    unsigned long per = 64;
    int wait_proof = 0, c;
    static const struct option opts[] = {
        { "verifier", required_argument, NULL, 'v' },
        { "batch", required_argument, NULL, 'b' },
        { "wait-proof", no_argument, NULL, 'w' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'v': url = optarg; break;
        case 'b': per = strtoul(optarg, NULL, 10); break;
        case 'w': wait_proof = 1; break;
        case 'h':
            printf("usage: relay --verifier URL [--batch N (1..%d, default 64)] [--wait-proof]"
                   " < actions.jsonl\n",
                   ONEVOICE_BATCH_MAX);
            return 0;
        default: return 2;
        }
    }
    if (url == NULL || per == 0 || per > ONEVOICE_BATCH_MAX || optind != argc) {
        fprintf(stderr, "usage: relay --verifier URL [--batch N] [--wait-proof] < actions.jsonl\n");
        return 2;
    }
    struct onevoice_verifier *v = NULL;
    if (onevoice_verifier_new(url, &v) != 0) {
        fprintf(stderr, "relay: bad verifier URL\n");
        return 2;
    }
    struct pending p;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int failed = 0;
    p.n = 0;
    while (!failed && (len = getline(&line, &cap, stdin)) >= 0) {
        if (len > 0 && line[len - 1] == '\n') {
            len--;
        }
        p.a[p.n] = NULL;
        p.bad[p.n] = onevoice_action_parse(line, (size_t)len, &p.a[p.n]) != 0;
        if (++p.n == per) {
            failed = flush(v, &p, wait_proof);
        }
    }
    if (!failed && p.n > 0) {
        failed = flush(v, &p, wait_proof);
    }
    free(line);
    onevoice_verifier_free(v);
    return failed ? 1 : 0;
}
