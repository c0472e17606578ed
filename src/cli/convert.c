/* convert.c: `sluice convert IN OUT [options]`: CSV / JSON Lines to Parquet, NDJSON or CSV.
 *
 * Exit codes: 0 converted (with --on-error skip/--rejects, rejected rows are counted in the
 * summary), 1 the conversion failed (bad row under --on-error fail, unreadable input, output
 * error: nothing is left at OUT), 2 usage error.
 * A progress bar is drawn on stderr when stderr is a terminal (rows, MB/s, percent and ETA
 * when the input size is known); a one-line summary is printed at the end unless --quiet.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sink/s3/s3.h"
#include "sluice.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sluice convert IN OUT [options]\n"
            "\n"
            "Converts CSV or JSON Lines (IN; '-' = stdin; gzip/zstd detected) to Parquet,\n"
            "NDJSON or CSV (OUT; '-' = stdout). Types come from --schema or are inferred from\n"
            "the first --infer-rows records.\n"
            "\n"
            "input:\n"
            "  --format csv|jsonl        input format (default: from the name, else sniffed)\n"
            "  --schema FILE             schema JSON: {\"fields\":[{\"name\":..,\"type\":..,\"nullable\":..}]}\n"
            "  --infer-rows N            records sampled for type inference (default 10000)\n"
            "  --delimiter C             CSV field delimiter (default ','; 'tab' for \\t)\n"
            "  --quote C                 CSV quote character (default '\"'; 'none' to disable)\n"
            "  --escape C                CSV escape character inside quotes (default: doubled quotes)\n"
            "  --no-header               CSV has no header row (columns are column1..N)\n"
            "  --null TOKEN              text meaning null (repeatable; default: empty, NULL, null, \\N)\n"
            "  --unknown-fields ignore|reject|keep   JSON keys not in --schema: drop them\n"
            "                            (default), reject the row, or keep them in a json\n"
            "                            column _extra\n"
            "output:\n"
            "  --to parquet|ndjson|csv   output format (default: from the name, else parquet)\n"
            "  --compression C           snappy (default), zstd, gzip, lz4_raw, none\n"
            "  --level N                 compression level (zstd, gzip)\n"
            "  --row-group-size BYTES    uncompressed bytes per row group (default 128M; k/M/G)\n"
            "  --page-version 1|2        data page version (default 1)\n"
            "errors:\n"
            "  --on-error fail|skip|rejects   bad rows: stop (default), skip, or write to --rejects\n"
            "  --rejects FILE            NDJSON file for bad rows (implies --on-error rejects)\n"
            "run:\n"
            "  --threads N               threads (default: all cores)\n"
            "  --progress / --no-progress   force the progress bar on or off\n"
            "  --quiet                   no summary line\n"
            "\n"
            "OUT may be s3://BUCKET/KEY: the file is converted to a temporary file and\n"
            "uploaded (multipart when large) with S3_ENDPOINT, AWS_ACCESS_KEY_ID,\n"
            "AWS_SECRET_ACCESS_KEY, S3_REGION/AWS_REGION, AWS_SESSION_TOKEN, S3_PATH_STYLE,\n"
            "SLUICE_S3_PART_SIZE, ... as for `sluice serve`.\n"
            "\n"
            "Exit status: 0 converted, 1 failed (nothing written), 2 usage error.\n");
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (len < cap)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    fclose(f);
    *n = len;
    return buf;
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    switch (*end) {
    case 'k':
    case 'K':
        v <<= 10;
        end++;
        break;
    case 'm':
    case 'M':
        v <<= 20;
        end++;
        break;
    case 'g':
    case 'G':
        v <<= 30;
        end++;
        break;
    default:
        break;
    }
    if (*end || v == 0)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int parse_char(const char *s, char *out)
{
    if (!strcmp(s, "tab") || !strcmp(s, "\\t")) {
        *out = '\t';
        return 0;
    }
    if (!strcmp(s, "none")) {
        *out = 0;
        return 0;
    }
    if (strlen(s) != 1 || (unsigned char)s[0] >= 0x80)
        return -1;
    *out = s[0];
    return 0;
}

static void human(double v, char *dst, size_t n)
{
    if (v >= 1e9)
        snprintf(dst, n, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(dst, n, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(dst, n, "%.1fk", v / 1e3);
    else
        snprintf(dst, n, "%.0f", v);
}

static void draw_progress(void *ctx, const sl_convert_progress *p)
{
    (void)ctx;
    char rows[32], rate[32], mb[32];
    human((double)p->rows_out, rows, sizeof(rows));
    double s = p->seconds > 0 ? p->seconds : 1e-9;
    human((double)p->rows_out / s, rate, sizeof(rate));
    snprintf(mb, sizeof(mb), "%.0f MB/s", (double)p->bytes_in / s / 1e6);
    if (p->bytes_in_total > 0) {
        double frac = (double)p->bytes_in / (double)p->bytes_in_total;
        if (frac > 1)
            frac = 1;
        int width = 24, fill = (int)(frac * width);
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = 0;
        double eta = frac > 0.001 ? s / frac - s : 0;
        fprintf(stderr, "\r[%s] %3.0f%%  %s rows  %s rows/s  %s  ETA %.0fs   ", bar, frac * 100,
                rows, rate, mb, eta);
    } else {
        fprintf(stderr, "\r%s rows  %s rows/s  %s   ", rows, rate, mb);
    }
    fflush(stderr);
}

/* OUT = s3://BUCKET/KEY: the client configuration from the environment, the bucket from the
 * URL. Returns 0, or 2 with a message for a bad URL or configuration. */
static int s3_target(const char *url, sl_s3_config *c, const char **key)
{
    sl_s3_config_default(c);
    for (const char *const *n = sl_s3_config_names; *n; n++) {
        const char *v = getenv(*n);
        char err[200];
        if (v && sl_s3_config_set(c, *n, v, err, sizeof(err))) {
            fprintf(stderr, "sluice convert: %s=%s: %s\n", *n, v, err);
            return 2;
        }
    }
    if (c->endpoint[0] && !getenv("S3_PATH_STYLE") && !getenv("S3_FORCE_PATH_STYLE"))
        c->path_style = true;
    const char *b = url + 5, *slash = strchr(b, '/');
    if (!slash || slash == b || !slash[1] || (size_t)(slash - b) >= sizeof(c->bucket)) {
        fprintf(stderr, "sluice convert: expected s3://BUCKET/KEY, got %s\n", url);
        return 2;
    }
    memcpy(c->bucket, b, (size_t)(slash - b));
    c->bucket[slash - b] = '\0';
    *key = slash + 1;
    sl_sink_error e = {0};
    if (sl_s3_config_check(c, &e)) {
        fprintf(stderr, "sluice convert: %s\n", e.message);
        if (e.hint[0])
            fprintf(stderr, "hint: %s\n", e.hint);
        return 2;
    }
    return 0;
}

/* Uploads the converted file; 0 or 1 with a message. */
static int s3_upload(const sl_s3_config *c, const char *path, const char *key, bool quiet)
{
    sl_s3 *s;
    sl_sink_error e = {0};
    sl_err err = sl_s3_create(c, &s, &e);
    if (!err)
        err = sl_s3_upload_file(s, path, key, &e);
    sl_s3_destroy(s);
    if (err) {
        fprintf(stderr, "sluice convert: upload failed: %s\n", e.message[0] ? e.message : sl_strerror(err));
        if (e.hint[0])
            fprintf(stderr, "hint: %s\n", e.hint);
        return 1;
    }
    if (!quiet)
        fprintf(stderr, "sluice convert: uploaded to s3://%s/%s\n", c->bucket, key);
    return 0;
}

int sl_cli_convert(int argc, char **argv)
{
    enum {
        OPT_FORMAT = 256, OPT_SCHEMA, OPT_INFER, OPT_DELIM, OPT_QUOTE, OPT_ESCAPE, OPT_NOHEADER,
        OPT_NULL, OPT_UNKNOWN, OPT_TO, OPT_COMP, OPT_LEVEL, OPT_RG, OPT_PV, OPT_ONERR,
        OPT_REJECTS, OPT_THREADS, OPT_PROGRESS, OPT_NOPROGRESS, OPT_QUIET, OPT_HELP
    };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"schema", required_argument, NULL, OPT_SCHEMA},
        {"infer-rows", required_argument, NULL, OPT_INFER},
        {"delimiter", required_argument, NULL, OPT_DELIM},
        {"quote", required_argument, NULL, OPT_QUOTE},
        {"escape", required_argument, NULL, OPT_ESCAPE},
        {"no-header", no_argument, NULL, OPT_NOHEADER},
        {"null", required_argument, NULL, OPT_NULL},
        {"unknown-fields", required_argument, NULL, OPT_UNKNOWN},
        {"to", required_argument, NULL, OPT_TO},
        {"compression", required_argument, NULL, OPT_COMP},
        {"level", required_argument, NULL, OPT_LEVEL},
        {"row-group-size", required_argument, NULL, OPT_RG},
        {"page-version", required_argument, NULL, OPT_PV},
        {"on-error", required_argument, NULL, OPT_ONERR},
        {"rejects", required_argument, NULL, OPT_REJECTS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"no-progress", no_argument, NULL, OPT_NOPROGRESS},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    sl_convert_opts o;
    sl_convert_opts_default(&o);
    const char *schema_path = NULL;
    const char *nulls[32];
    size_t nnulls = 0;
    int progress = isatty(2) ? 1 : 0;
    bool quiet = false;
    bool on_error_set = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if (!strcmp(optarg, "csv") || !strcmp(optarg, "tsv"))
                o.in_format = SL_FMT_CSV;
            else if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "ndjson") || !strcmp(optarg, "json"))
                o.in_format = SL_FMT_JSONL;
            else
                goto bad_value;
            if (!strcmp(optarg, "tsv"))
                o.delimiter = '\t';
            break;
        case OPT_SCHEMA:
            schema_path = optarg;
            break;
        case OPT_INFER: {
            size_t v;
            if (parse_size(optarg, &v))
                goto bad_value;
            o.infer_rows = v;
            break;
        }
        case OPT_DELIM:
            if (parse_char(optarg, &o.delimiter) || !o.delimiter)
                goto bad_value;
            break;
        case OPT_QUOTE:
            if (parse_char(optarg, &o.quote))
                goto bad_value;
            break;
        case OPT_ESCAPE:
            if (parse_char(optarg, &o.escape))
                goto bad_value;
            break;
        case OPT_NOHEADER:
            o.header = false;
            break;
        case OPT_NULL:
            if (nnulls == sizeof(nulls) / sizeof(nulls[0])) {
                fprintf(stderr, "sluice convert: too many --null tokens\n");
                return 2;
            }
            nulls[nnulls++] = optarg;
            break;
        case OPT_UNKNOWN:
            if (!strcmp(optarg, "reject"))
                o.unknown_fields_reject = true;
            else if (!strcmp(optarg, "keep"))
                o.unknown_fields_keep = true;
            else if (strcmp(optarg, "ignore"))
                goto bad_value;
            break;
        case OPT_TO:
            if (!strcmp(optarg, "parquet"))
                o.out_format = SL_FMT_PARQUET;
            else if (!strcmp(optarg, "ndjson") || !strcmp(optarg, "jsonl"))
                o.out_format = SL_FMT_NDJSON;
            else if (!strcmp(optarg, "csv"))
                o.out_format = SL_FMT_CSV;
            else
                goto bad_value;
            break;
        case OPT_COMP:
            if (sl_codec_parse(optarg, &o.parquet.codec))
                goto bad_value;
            break;
        case OPT_LEVEL:
            o.parquet.level = atoi(optarg);
            break;
        case OPT_RG:
            if (parse_size(optarg, &o.parquet.row_group_bytes))
                goto bad_value;
            break;
        case OPT_PV:
            o.parquet.page_version = atoi(optarg);
            if (o.parquet.page_version != 1 && o.parquet.page_version != 2)
                goto bad_value;
            break;
        case OPT_ONERR:
            on_error_set = true;
            if (!strcmp(optarg, "fail"))
                o.on_error = SL_ON_ERROR_FAIL;
            else if (!strcmp(optarg, "skip"))
                o.on_error = SL_ON_ERROR_SKIP;
            else if (!strcmp(optarg, "rejects"))
                o.on_error = SL_ON_ERROR_REJECTS;
            else
                goto bad_value;
            break;
        case OPT_REJECTS:
            o.rejects_path = optarg;
            if (!on_error_set)
                o.on_error = SL_ON_ERROR_REJECTS;
            break;
        case OPT_THREADS: {
            size_t v;
            if (parse_size(optarg, &v) || v > 1024)
                goto bad_value;
            o.threads = (int)v;
            break;
        }
        case OPT_PROGRESS:
            progress = 1;
            break;
        case OPT_NOPROGRESS:
            progress = 0;
            break;
        case OPT_QUIET:
            quiet = true;
            break;
        case 'h':
        case OPT_HELP:
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        continue;
    bad_value:
        fprintf(stderr, "sluice convert: invalid value '%s' for --%s\n", optarg,
                longopts[c - OPT_FORMAT].name);
        return 2;
    }
    if (argc - optind != 2) {
        fprintf(stderr, "sluice convert: expected IN and OUT (got %d arguments)\n", argc - optind);
        usage(stderr);
        return 2;
    }
    o.input = argv[optind];
    o.output = argv[optind + 1];
    sl_s3_config s3c;
    const char *s3key = NULL;
    char tmpdir[4096] = "", tmpout[4400] = "";
    if (!strncmp(o.output, "s3://", 5)) {
        int r = s3_target(o.output, &s3c, &s3key);
        if (r)
            return r;
    }
    if (o.on_error == SL_ON_ERROR_REJECTS && !o.rejects_path) {
        fprintf(stderr, "sluice convert: --on-error rejects needs --rejects FILE\n");
        return 2;
    }
    if (nnulls) {
        o.null_tokens = nulls;
        o.nnull_tokens = nnulls;
    }
    sl_schema *schema = NULL;
    if (schema_path) {
        size_t n;
        char *text = slurp(schema_path, &n);
        if (!text) {
            fprintf(stderr, "sluice convert: cannot read schema %s: %s\n", schema_path,
                    strerror(errno));
            return 1;
        }
        char msg[256];
        sl_err err = sl_schema_from_json(text, n, &schema, msg, sizeof(msg));
        free(text);
        if (err) {
            fprintf(stderr, "sluice convert: schema %s: %s\n", schema_path, msg);
            return 1;
        }
        o.schema = schema;
    }
    if (s3key) { /* s3://: convert into a private temporary directory, then upload */
        const char *t = getenv("TMPDIR");
        snprintf(tmpdir, sizeof(tmpdir), "%s/sluice-convert-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(tmpdir)) {
            fprintf(stderr, "sluice convert: cannot create a temporary directory in %s: %s\n",
                    t && *t ? t : "/tmp", strerror(errno));
            sl_schema_destroy(schema);
            return 1;
        }
        const char *base = strrchr(s3key, '/');
        snprintf(tmpout, sizeof(tmpout), "%s/%s", tmpdir, base ? base + 1 : s3key);
        o.output = tmpout;
    }
    if (progress) {
        o.progress = draw_progress;
    }
    sl_convert_result res;
    sl_err err = sl_convert_file(&o, &res);
    if (progress)
        fprintf(stderr, "\r\033[K");
    int rc = 0;
    if (err) {
        fprintf(stderr, "sluice convert: %s\n", res.message[0] ? res.message : sl_strerror(err));
        if (res.hint[0])
            fprintf(stderr, "hint: %s\n", res.hint);
        rc = 1;
    } else if (!quiet) {
        const sl_convert_progress *t = &res.totals;
        double s = t->seconds > 0 ? t->seconds : 1e-9;
        fprintf(stderr,
                "sluice convert: %llu rows written, %llu rejected, %.1f MB in, %.1f MB out, "
                "%.2f s (%.0f rows/s, %.0f MB/s)\n",
                (unsigned long long)t->rows_out, (unsigned long long)t->rows_rejected,
                (double)t->bytes_in / 1e6, (double)t->bytes_out / 1e6, s,
                (double)t->rows_out / s, (double)t->bytes_in / s / 1e6);
        for (size_t i = 0; i < res.nerrors; i++)
            fprintf(stderr, "  rejected: line %llu%s%s: %s\n",
                    (unsigned long long)res.errors[i].line,
                    res.errors[i].column[0] ? ", column " : "", res.errors[i].column,
                    res.errors[i].message);
        if (t->rows_rejected > res.nerrors)
            fprintf(stderr, "  ... %llu more rejected rows%s%s\n",
                    (unsigned long long)(t->rows_rejected - res.nerrors),
                    o.rejects_path ? " in " : "", o.rejects_path ? o.rejects_path : "");
    }
    if (!rc && s3key)
        rc = s3_upload(&s3c, tmpout, s3key, quiet);
    if (tmpdir[0]) {
        unlink(tmpout);
        rmdir(tmpdir);
    }
    sl_convert_result_release(&res);
    sl_schema_destroy(schema);
    return rc;
}
