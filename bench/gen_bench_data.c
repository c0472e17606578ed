/* gen_bench_data.c: the deterministic benchmark table, as CSV and JSON Lines.
 *
 * usage: gen_bench_data ROWS OUT.csv OUT.jsonl
 *
 * 12 columns: id (int64, sequential), user_id (int64, wide range), amount (double, 2 places),
 * qty (int32), active (bool), created_at (timestamp, ISO-8601 UTC with microseconds), day
 * (date), country (20 values), email (high cardinality), note (quoted text with commas and
 * quotes, ~15% empty/null), score (double, ~10% null), category (5 values). The same xorshift
 * seed gives the same bytes on every machine, so runs compare.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t s = 0x2545F4914F6CDD1Dull;

static uint64_t rnd(void)
{
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

static void civil(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static const char *const countries[] = {"DE", "FR", "US", "GB", "IT", "ES", "NL", "SE", "PL", "BR",
                                        "JP", "CN", "IN", "CA", "AU", "MX", "RU", "KR", "ZA", "AR"};
static const char *const categories[] = {"books", "electronics", "garden", "toys", "food"};
static const char *const words[] = {"fast", "delivery", "great", "item", "broken", "refund",
                                    "would", "buy", "again", "\"quoted\"", "box", "ok"};

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: gen_bench_data ROWS OUT.csv OUT.jsonl\n");
        return 2;
    }
    long long rows = atoll(argv[1]);
    FILE *c = fopen(argv[2], "w"), *j = fopen(argv[3], "w");
    if (!c || !j) {
        perror("gen_bench_data");
        return 1;
    }
    static char cbuf[1 << 20], jbuf[1 << 20];
    setvbuf(c, cbuf, _IOFBF, sizeof(cbuf));
    setvbuf(j, jbuf, _IOFBF, sizeof(jbuf));
    fprintf(c, "id,user_id,amount,qty,active,created_at,day,country,email,note,score,category\n");
    for (long long i = 0; i < rows; i++) {
        uint64_t a = rnd(), b = rnd(), x = rnd();
        int64_t user = (int64_t)(a >> 20);
        long cents = (long)(b % 10000000);
        int qty = (int)(a % 100) + 1;
        int active = (int)(b >> 63);
        int64_t ts = 1600000000LL * 1000000 + (int64_t)(x % (150000000ULL * 1000000));
        int64_t secs = ts / 1000000, us = ts % 1000000;
        int y, m, d, dy, dm, dd;
        civil(secs / 86400, &y, &m, &d);
        int64_t rem = secs % 86400;
        civil(18000 + (int64_t)(a % 2000), &dy, &dm, &dd);
        const char *country = countries[(b >> 8) % 20];
        const char *cat = categories[(x >> 5) % 5];
        char note[128] = "";
        int note_null = (x >> 40) % 7 == 0;
        if (!note_null) {
            size_t n = 0;
            int nw = 1 + (int)((x >> 12) % 6);
            for (int w = 0; w < nw; w++) {
                const char *wd = words[(x >> (w * 4)) % 12];
                n += (size_t)snprintf(note + n, sizeof(note) - n, "%s%s", w ? (w == 2 ? ", " : " ") : "", wd);
            }
        }
        int score_null = (a >> 50) % 10 == 0;
        double score = (double)(int64_t)(b >> 11) / 9007199254740992.0 * 1000.0;
        /* CSV: note is quoted with doubled quotes */
        fprintf(c, "%lld,%" PRId64 ",%ld.%02ld,%d,%s,%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z,"
                   "%04d-%02d-%02d,%s,user%" PRIu64 "@example.com,",
                i, user, cents / 100, cents % 100, qty, active ? "true" : "false", y, m, d,
                (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), us, dy, dm, dd, country,
                (uint64_t)(a % 50000000));
        if (!note_null) {
            fputc('"', c);
            for (const char *p = note; *p; p++) {
                if (*p == '"')
                    fputc('"', c);
                fputc(*p, c);
            }
            fputc('"', c);
        }
        if (score_null)
            fprintf(c, ",,%s\n", cat);
        else
            fprintf(c, ",%.6f,%s\n", score, cat);
        /* JSON Lines */
        fprintf(j, "{\"id\":%lld,\"user_id\":%" PRId64 ",\"amount\":%ld.%02ld,\"qty\":%d,\"active\":%s,"
                   "\"created_at\":\"%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z\",\"day\":\"%04d-%02d-%02d\","
                   "\"country\":\"%s\",\"email\":\"user%" PRIu64 "@example.com\",\"note\":",
                i, user, cents / 100, cents % 100, qty, active ? "true" : "false", y, m, d,
                (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), us, dy, dm, dd, country,
                (uint64_t)(a % 50000000));
        if (note_null) {
            fputs("null", j);
        } else {
            fputc('"', j);
            for (const char *p = note; *p; p++) {
                if (*p == '"')
                    fputc('\\', j);
                fputc(*p, j);
            }
            fputc('"', j);
        }
        if (score_null)
            fprintf(j, ",\"score\":null,\"category\":\"%s\"}\n", cat);
        else
            fprintf(j, ",\"score\":%.6f,\"category\":\"%s\"}\n", score, cat);
    }
    if (fclose(c) || fclose(j)) {
        perror("gen_bench_data");
        return 1;
    }
    return 0;
}
