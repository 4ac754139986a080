/* epoch: the producers' epochs (docs/PROTOCOL.md §3.1). An issuer or a verifier run with
 * --epoch-seconds N holds the entries whose order or time could link people (issuances,
 * enrollments, actions) until the N-second epoch they were made in has ended, sends each
 * epoch's entries in a random order, and writes into them the epoch's start instead of
 * the second they were made: the log then shows which epoch an entry came in, not when in
 * it or in which order. Epochs are aligned on the Unix epoch (t / N), so that every
 * producer's boundaries agree. N = 0: no epochs (each time kept, each entry sent at once). */
#ifndef OV_EPOCH_H
#define OV_EPOCH_H

#include <stdint.h>

#define OV_EPOCH_MAX_S 86400u /* --epoch-seconds at most a day */

/* The start of the epoch holding t (seconds); t itself when epoch_s is 0. */
uint64_t ov_epoch_start(uint64_t t_s, uint32_t epoch_s);
/* The first second after that epoch: when its entries may go; 0 when epoch_s is 0 (at
 * once). */
uint64_t ov_epoch_end(uint64_t t_s, uint32_t epoch_s);
/* The time written into an entry made at t that must lie in a window opening at opens
 * (an action: [opens, closes) with opens <= t < closes): the epoch's start, but never
 * before opens. The result is <= t, so it stays below closes; every entry of one epoch
 * and one window gets the same time. */
uint64_t ov_epoch_time_in(uint64_t t_s, uint32_t epoch_s, uint64_t opens_s);
/* A random key for an entry's place in its epoch's sending order (libsodium's CSPRNG),
 * drawn once and stored with the entry, so an order partly sent before a crash is resent
 * the same way. In [0, 2^62): callers may add a class above it. */
uint64_t ov_epoch_shuffle_key(void);

#endif
