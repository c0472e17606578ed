/* sl_s3.c: test and benchmark tool for sluice's S3 client (src/sink/s3/s3.h).
 *
 *   sl_s3 put FILE KEY        upload FILE as KEY (single PUT or multipart by size)
 *   sl_s3 head                HEAD the bucket
 *   sl_s3 abort-uploads PREFIX  abort unfinished multipart uploads under PREFIX
 *
 * Configuration from the same environment variables as `sluice serve` (S3_ENDPOINT, S3_BUCKET,
 * AWS_ACCESS_KEY_ID, ..., SLUICE_S3_PART_SIZE, ...). Prints one JSON line with the outcome on
 * stdout; on failure the message and hint go to stderr and the exit code is 1 (2: usage or
 * configuration).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sink/s3/s3.h"
#include "util/fsutil.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: sl_s3 put FILE KEY | head | abort-uploads PREFIX\n");
        return 2;
    }
    sl_s3_config c;
    sl_s3_config_default(&c);
    for (const char *const *n = sl_s3_config_names; *n; n++) {
        const char *v = getenv(*n);
        char err[200];
        if (v && sl_s3_config_set(&c, *n, v, err, sizeof(err))) {
            fprintf(stderr, "sl_s3: %s: %s\n", *n, err);
            return 2;
        }
    }
    sl_sink_error e = {0};
    sl_s3 *s;
    if (sl_s3_create(&c, &s, &e)) {
        fprintf(stderr, "sl_s3: %s\nhint: %s\n", e.message, e.hint);
        return 2;
    }
    double t0 = sl_mono_seconds();
    sl_err err;
    unsigned long long bytes = 0;
    unsigned aborted = 0;
    if (!strcmp(argv[1], "put") && argc == 4) {
        struct stat sb;
        if (stat(argv[2], &sb) == 0)
            bytes = (unsigned long long)sb.st_size;
        err = sl_s3_upload_file(s, argv[2], argv[3], &e);
    } else if (!strcmp(argv[1], "head") && argc == 2) {
        err = sl_s3_head_bucket(s, &e);
    } else if (!strcmp(argv[1], "abort-uploads") && argc == 3) {
        err = sl_s3_abort_uploads(s, argv[2], &aborted, &e);
    } else {
        fprintf(stderr, "sl_s3: bad arguments\n");
        sl_s3_destroy(s);
        return 2;
    }
    double secs = sl_mono_seconds() - t0;
    uint64_t req, retries;
    sl_s3_counts(s, &req, &retries);
    sl_s3_destroy(s);
    printf("{\"ok\":%s,\"error\":\"%s\",\"seconds\":%.3f,\"bytes\":%llu,\"mb_per_s\":%.1f,"
           "\"requests\":%llu,\"retries\":%llu,\"aborted\":%u,\"retryable\":%s}\n",
           err ? "false" : "true", sl_strerror(err), secs, bytes,
           secs > 0 ? (double)bytes / secs / 1e6 : 0.0, (unsigned long long)req,
           (unsigned long long)retries, aborted, e.retryable ? "true" : "false");
    if (err) {
        fprintf(stderr, "sl_s3: %s\n", e.message);
        if (e.hint[0])
            fprintf(stderr, "hint: %s\n", e.hint);
        return 1;
    }
    return 0;
}
