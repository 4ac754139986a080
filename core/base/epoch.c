#include "base/epoch.h"

#include <sodium.h>

uint64_t
ov_epoch_start(uint64_t t_s, uint32_t epoch_s)
{
    return epoch_s == 0 ? t_s : t_s - t_s % epoch_s;
}

uint64_t
ov_epoch_end(uint64_t t_s, uint32_t epoch_s)
{
    return epoch_s == 0 ? 0 : ov_epoch_start(t_s, epoch_s) + epoch_s;
}

uint64_t
ov_epoch_time_in(uint64_t t_s, uint32_t epoch_s, uint64_t opens_s)
{
    uint64_t s = ov_epoch_start(t_s, epoch_s);
    return s < opens_s && opens_s <= t_s ? opens_s : s;
}

uint64_t
ov_epoch_shuffle_key(void)
{
    uint64_t k = 0;
    randombytes_buf(&k, sizeof k);
    return k >> 2;
}
