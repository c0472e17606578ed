/* textfmt.c: text forms of dates, timestamps and decimals; see textfmt.h. Days to civil
 * dates use H. Hinnant's public-domain algorithm, exact for any int64 day count. */
#include "util/textfmt.h"

#include <stdio.h>

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

size_t sl_format_date(int32_t days, char dst[SL_DATE_TEXT_MAX])
{
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int len = snprintf(dst, SL_DATE_TEXT_MAX, "%04lld-%02u-%02u", (long long)y, m, d);
    return (size_t)len;
}

static int64_t floor_div(int64_t a, int64_t b, int64_t *rem)
{
    int64_t q = a / b, r = a % b;
    if (r < 0) {
        q--;
        r += b;
    }
    *rem = r;
    return q;
}

size_t sl_format_timestamp(int64_t v, sl_time_unit unit, bool utc, char dst[SL_TIMESTAMP_TEXT_MAX])
{
    static const int64_t per_sec[] = {1000, 1000000, 1000000000};
    static const int digits[] = {3, 6, 9};
    int64_t frac, tod, y;
    unsigned m, d;
    int64_t secs = floor_div(v, per_sec[unit], &frac);
    int64_t days = floor_div(secs, 86400, &tod);
    civil_from_days(days, &y, &m, &d);
    int len = snprintf(dst, SL_TIMESTAMP_TEXT_MAX, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y,
                       m, d, (int)(tod / 3600), (int)(tod / 60 % 60), (int)(tod % 60));
    if (frac)
        len += snprintf(dst + len, SL_TIMESTAMP_TEXT_MAX - (size_t)len, ".%0*lld", digits[unit],
                        (long long)frac);
    if (utc)
        len += snprintf(dst + len, SL_TIMESTAMP_TEXT_MAX - (size_t)len, "Z");
    return (size_t)len;
}

size_t sl_format_decimal(__int128 v, unsigned scale, char dst[SL_DECIMAL_TEXT_MAX])
{
    char tmp[SL_DECIMAL_TEXT_MAX];
    size_t nd = 0, o = 0;
    unsigned __int128 u =
        v < 0 ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
    do {
        tmp[nd++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    while (nd <= scale)
        tmp[nd++] = '0';
    if (v < 0)
        dst[o++] = '-';
    while (nd > scale)
        dst[o++] = tmp[--nd];
    if (scale) {
        dst[o++] = '.';
        while (nd)
            dst[o++] = tmp[--nd];
    }
    dst[o] = 0;
    return o;
}
