/* when: the dates and durations people type into operators' commands (an assembly opens
 * "2027-03-01 09:00 +08:00", closes "+2h" later), turned into the POSIX seconds the
 * protocol carries, and those seconds written back for people to read.
 *
 * Accepted (whole string, nothing after):
 *   now                          the given now
 *   @SECONDS                     POSIX seconds, as the protocol has them
 *   +DURATION                    base + DURATION: one or more NUMBER UNIT with UNIT one of
 *                                s, m, h, d, w (e.g. +90m, +1h30m, +2d)
 *   DATE [TIME] [ZONE]           DATE YYYY-MM-DD; TIME HH:MM or HH:MM:SS after a space or a
 *                                'T' (midnight without one); ZONE Z, UTC, or +HH:MM, +HHMM,
 *                                +HH (or -) after optional spaces; without a zone, the
 *                                local time of this machine (TZ), DST resolved by mktime
 * Dates are checked (no 2027-02-30, no 24:00); times before 1970 or past year 9999 are
 * refused. */
#ifndef OV_WHEN_H
#define OV_WHEN_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define OV_WHEN_MAX_LEN 64     /* longer input is refused */
#define OV_WHEN_FORMAT_LEN 64  /* room for ov_when_format's text */

/* 0 and *out, or -OV_E_MALFORMED (not one of the forms above, or out of range). */
OV_MUST_CHECK int ov_when_parse(const char *text, uint64_t now, uint64_t base, uint64_t *out);

/* "2027-03-01 09:00:00 +0800" in this machine's local time (TZ), or "2027-03-01 01:00:00
 * UTC" when utc is set. */
void ov_when_format(uint64_t t, int utc, char *buf, size_t len);

#endif
