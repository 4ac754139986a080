/* groups: Polis-style opinion groups from a rating round's agree/disagree/pass votes,
 * deterministic given the votes and a 32-byte seed, so that anyone recomputes them bit for
 * bit (docs/PROTOCOL.md §11.2 is the specification). Algorithm "onevoice/groups/v1":
 *
 *   1. the participant x statement matrix, a missing vote filled with its statement's mean
 *      (so the centred matrix is zero there and stays sparse);
 *   2. two principal components by power iteration from a start drawn from ChaCha20 keyed
 *      by SHA-256("onevoice/v1/groups" || 0x00 || seed), at most 100 rounds each;
 *   3. every participant projected to 2-D, scaled by sqrt(statements / own votes);
 *   4. participants with at least min(7, statements) votes are clustered: 100 base clusters
 *      (k-means from the first distinct positions), then the base clusters into k = 2..5
 *      groups (weighted k-means, greedy farthest-point start), k by silhouette;
 *   5. per statement the group-aware consensus prod_g (agree_g + 1) / (votes_g + 2), and
 *      per group up to 5 representative statements (Polis' repness).
 *
 * The caller gives participants and statements in their canonical order (a round's
 * pseudonyms and statement ids, bytes ascending: §11.2) as indices 0..n-1. Everything is
 * IEEE-754 binary64 with every sum in a fixed order; groups.c is compiled with
 * -ffp-contract=off and no -ffast-math. One thread. */
#ifndef OV_GROUPS_H
#define OV_GROUPS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define OV_GROUPS_ALGORITHM "onevoice/groups/v1"
#define OV_GROUPS_SEED_LEN 32
#define OV_GROUPS_MAX_K 5
#define OV_GROUPS_MAX_REP 5
#define OV_GROUPS_NONE UINT32_MAX            /* the group of a participant not clustered */
#define OV_GROUPS_MAX_PARTICIPANTS 10000000u
#define OV_GROUPS_MAX_STATEMENTS 1000000u
#define OV_GROUPS_MAX_VOTES 1000000000u

enum { OV_GROUPS_DISAGREE = -1, OV_GROUPS_PASS = 0, OV_GROUPS_AGREE = 1 };

/* One vote: at most one per (participant, statement); any order. */
struct ov_groups_vote {
    uint32_t participant;
    uint32_t statement;
    int32_t value; /* OV_GROUPS_AGREE, OV_GROUPS_DISAGREE or OV_GROUPS_PASS */
};

/* A representative statement of a group (Polis' repness, §11.2). */
struct ov_groups_rep {
    uint32_t statement;
    int32_t direction;            /* OV_GROUPS_AGREE or OV_GROUPS_DISAGREE */
    uint32_t successes, trials;   /* the group's votes in that direction, all its votes */
    double p, p_test, r, r_test, metric;
};

struct ov_groups_result {
    uint32_t n_participants, n_statements;
    uint32_t n_clustered;         /* participants in a group */
    uint32_t k;                   /* groups: 0 (nobody clustered), 1, or 2..5 */
    uint32_t max_k;               /* the largest k tried (0 when none was) */
    uint8_t k_eligible[OV_GROUPS_MAX_K + 1];  /* [k] for k = 2..max_k */
    double silhouette[OV_GROUPS_MAX_K + 1];   /* [k] for k = 2..max_k (0 when not eligible) */
    uint32_t group_size[OV_GROUPS_MAX_K];
    uint32_t *group;              /* [n_participants]: 0..k-1 or OV_GROUPS_NONE */
    double *x, *y;                /* [n_participants]: the 2-D position */
    double *consensus;            /* [n_statements], by statement */
    uint32_t *ranking;            /* [n_statements]: statements, consensus descending */
    uint32_t n_rep[OV_GROUPS_MAX_K];
    struct ov_groups_rep rep[OV_GROUPS_MAX_K][OV_GROUPS_MAX_REP];
    /* how much work was done (not part of the result's bytes) */
    uint32_t pca_rounds[2], base_rounds, n_base;
};

/* Computes the groups. n_participants and n_statements in 1..OV_GROUPS_MAX_*, n_votes up to
 * OV_GROUPS_MAX_VOTES (votes may be NULL when 0). 0, or -OV_E_RANGE (a size, an index or a
 * value out of range), -OV_E_CONFLICT (two votes of one participant on one statement),
 * -OV_E_NOMEM; *out is zeroed on failure. Free with ov_groups_free. */
OV_MUST_CHECK int ov_groups_run(uint32_t n_participants, uint32_t n_statements,
                                const struct ov_groups_vote *votes, size_t n_votes,
                                const uint8_t seed[OV_GROUPS_SEED_LEN],
                                struct ov_groups_result *out);

void ov_groups_free(struct ov_groups_result *r);

/* The result's canonical bytes (§11.2), malloc'd into *out: equal bytes, equal result. */
OV_MUST_CHECK int ov_groups_encode(const struct ov_groups_result *r, uint8_t **out,
                                   size_t *len);

/* SHA-256 of the canonical bytes. */
OV_MUST_CHECK int ov_groups_hash(const struct ov_groups_result *r, uint8_t out[32]);

#endif
