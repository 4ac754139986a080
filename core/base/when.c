#include "base/when.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define YEAR_MAX 9999
#define DURATION_MAX (100ull * 366 * 86400) /* a century: nothing an assembly needs more */

/* Reads exactly n digits at *p. */
static bool
digits(const char **p, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + (unsigned)(c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* Reads 1..19 digits as a u64, stopping at the first non-digit. */
static bool
number(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;
    while (**p >= '0' && **p <= '9') {
        if (++n > 19) {
            return false;
        }
        v = v * 10 + (uint64_t)(**p - '0');
        (*p)++;
    }
    *out = v;
    return n > 0;
}

static int
parse_duration(const char *p, uint64_t base, uint64_t *out)
{
    uint64_t total = 0;
    do {
        uint64_t n, unit;
        if (!number(&p, &n)) {
            return -OV_E_MALFORMED;
        }
        switch (*p++) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 7 * 86400; break;
        default: return -OV_E_MALFORMED;
        }
        if (n > DURATION_MAX / unit || total + n * unit > DURATION_MAX) {
            return -OV_E_MALFORMED;
        }
        total += n * unit;
    } while (*p != '\0');
    if (base > UINT64_MAX - total) {
        return -OV_E_MALFORMED;
    }
    *out = base + total;
    return 0;
}

static unsigned
days_in_month(unsigned y, unsigned m)
{
    static const unsigned days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* ZONE: "", "Z", "UTC", or a sign, HH, optionally ":"MM or MM. *local set for "". */
static bool
parse_zone(const char *p, bool *local, long *offset_s)
{
    while (*p == ' ') {
        p++;
    }
    *local = false;
    *offset_s = 0;
    if (*p == '\0') {
        *local = true;
        return true;
    }
    if (strcmp(p, "Z") == 0 || strcmp(p, "UTC") == 0) {
        return true;
    }
    if (*p != '+' && *p != '-') {
        return false;
    }
    long sign = *p++ == '-' ? -1 : 1;
    unsigned hh, mm = 0;
    if (!digits(&p, 2, &hh)) {
        return false;
    }
    if (*p == ':') {
        p++;
    }
    if (*p != '\0' && !digits(&p, 2, &mm)) {
        return false;
    }
    if (*p != '\0' || hh > 14 || mm > 59) {
        return false;
    }
    *offset_s = sign * (long)(hh * 3600 + mm * 60);
    return true;
}

static int
parse_date(const char *p, uint64_t *out)
{
    unsigned y, mo, d, h = 0, mi = 0, s = 0;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d)) {
        return -OV_E_MALFORMED;
    }
    if (y < 1970 || y > YEAR_MAX || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) {
        return -OV_E_MALFORMED;
    }
    if ((*p == ' ' || *p == 'T') && p[1] >= '0' && p[1] <= '9') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi)) {
            return -OV_E_MALFORMED;
        }
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &s)) {
                return -OV_E_MALFORMED;
            }
        }
        if (h > 23 || mi > 59 || s > 59) {
            return -OV_E_MALFORMED;
        }
    }
    bool local;
    long offset;
    if (!parse_zone(p, &local, &offset)) {
        return -OV_E_MALFORMED;
    }
    struct tm tm = { .tm_year = (int)y - 1900, .tm_mon = (int)mo - 1, .tm_mday = (int)d,
                     .tm_hour = (int)h, .tm_min = (int)mi, .tm_sec = (int)s, .tm_isdst = -1 };
    time_t t = local ? mktime(&tm) : timegm(&tm);
    if (t == (time_t)-1 || (long long)t - offset < 0) {
        return -OV_E_MALFORMED;
    }
    *out = (uint64_t)((long long)t - offset);
    return 0;
}

int
ov_when_parse(const char *text, uint64_t now, uint64_t base, uint64_t *out)
{
    if (text == NULL || strnlen(text, OV_WHEN_MAX_LEN + 1) > OV_WHEN_MAX_LEN) {
        return -OV_E_MALFORMED;
    }
    if (strcmp(text, "now") == 0) {
        *out = now;
        return 0;
    }
    if (text[0] == '@') {
        const char *p = text + 1;
        uint64_t v;
        return number(&p, &v) && *p == '\0' ? (*out = v, 0) : -OV_E_MALFORMED;
    }
    if (text[0] == '+') {
        return parse_duration(text + 1, base, out);
    }
    return parse_date(text, out);
}

void
ov_when_format(uint64_t t, int utc, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if ((utc ? gmtime_r(&tt, &tm) : localtime_r(&tt, &tm)) == NULL ||
        strftime(buf, len, utc ? "%Y-%m-%d %H:%M:%S UTC" : "%Y-%m-%d %H:%M:%S %z", &tm) == 0) {
        snprintf(buf, len, "@%llu", (unsigned long long)t);
    }
}
