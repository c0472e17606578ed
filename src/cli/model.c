/* model.c: `sluice model create NAME schema.json | list | show NAME | delete NAME`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "util/fsutil.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice model create NAME SCHEMA.json [options]\n"
               "       sluice model list [options]\n"
               "       sluice model show NAME [--version N] [options]\n"
               "       sluice model delete NAME [options]\n\n"
               "A model is a named, versioned schema: {\"fields\":[{\"name\":\"id\",\"type\":\"int64\","
               "\"nullable\":false}, ...]}.\nCreating a model again with a changed schema makes "
               "version N+1; jobs record the version they used.\n\noptions:\n" SL_CLI_COMMON_HELP
               "\nexit codes: 0 ok, 2 usage, 3 unreachable, 4 auth, 5 not found, 6 invalid schema, "
               "7 model in use, 8 server error\n");
}

static void print_fields_table(sl_jspan schema)
{
    sl_jspan fields, f;
    if (!sl_jscan_get(schema, "fields", &fields))
        return;
    printf("%-32s %-28s %s\n", "FIELD", "TYPE", "NULLABLE");
    size_t it = 0;
    while (sl_jscan_next(fields, &it, NULL, &f)) {
        char name[256], type[128], nullable[16];
        sl_cli_str(f, "name", name, sizeof(name));
        sl_cli_str(f, "type", type, sizeof(type));
        sl_cli_str(f, "nullable", nullable, sizeof(nullable));
        printf("%-32s %-28s %s\n", name, type, nullable[0] ? nullable : "true");
    }
}

static int show_model(const sl_cli_ctx *cx, const sl_cli_resp *r)
{
    sl_jspan root, schema;
    if (!sl_cli_parse(r, &root))
        return SL_EXIT_SERVER;
    if (cx->output != OUT_TABLE) {
        sl_cli_print_json(cx, (const char *)r->body.ptr, r->body.len);
        return SL_EXIT_OK;
    }
    char name[128], created[64];
    sl_cli_str(root, "name", name, sizeof(name));
    sl_cli_str(root, "created_at", created, sizeof(created));
    printf("model %s, version %lld of %lld, created %s\n\n", name,
           (long long)sl_cli_int(root, "version"), (long long)sl_cli_int(root, "versions"),
           created);
    if (sl_jscan_get(root, "schema", &schema))
        print_fields_table(schema);
    return SL_EXIT_OK;
}

int sl_cli_model(int argc, char **argv)
{
    sl_cli_ctx cx;
    sl_cli_ctx_init(&cx, "sluice model");
    const char *pos[3] = {NULL, NULL, NULL};
    size_t npos = 0;
    const char *version = NULL;
    for (int i = 1; i < argc; i++) {
        int k = sl_cli_common_opt(&cx, argc, argv, &i);
        if (k < 0)
            return SL_EXIT_USAGE;
        if (k)
            continue;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return SL_EXIT_OK;
        }
        if (!strcmp(argv[i], "--version") && i + 1 < argc) {
            version = argv[++i];
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "sluice model: unknown option %s\n", argv[i]);
            usage(stderr);
            return SL_EXIT_USAGE;
        }
        if (npos == 3) {
            fprintf(stderr, "sluice model: too many arguments\n");
            return SL_EXIT_USAGE;
        }
        pos[npos++] = argv[i];
    }
    if (!npos) {
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    const char *cmd = pos[0];
    sl_cli_resp r;
    sl_cli_resp_init(&r);
    int rc = SL_EXIT_OK;
    char path[512];
    if (!strcmp(cmd, "create")) {
        if (npos != 3) {
            fprintf(stderr, "usage: sluice model create NAME SCHEMA.json\n");
            return SL_EXIT_USAGE;
        }
        sl_buf file;
        sl_buf_init(&file, 0);
        sl_err err = sl_read_file(pos[2], &file, (size_t)1 << 20);
        if (err) {
            fprintf(stderr, "sluice model: error: cannot read %s: %s\n", pos[2],
                    err == SL_RETRY ? "no such file" : err == SL_FULL ? "over 1 MiB" : sl_strerror(err));
            sl_buf_release(&file);
            return SL_EXIT_USAGE;
        }
        size_t epos;
        const char *why;
        sl_jspan schema;
        if (!sl_jscan_valid((const char *)file.ptr, file.len, &schema, &epos, &why)) {
            fprintf(stderr, "sluice model: error: %s is not valid JSON: %s at byte %zu\n", pos[2],
                    why, epos);
            sl_buf_release(&file);
            return SL_EXIT_REJECTED;
        }
        sl_buf body;
        sl_buf_init(&body, 0);
        err = sl_buf_puts(&body, "{\"name\":");
        if (!err)
            err = sl_buf_json_str(&body, pos[1], strlen(pos[1]));
        if (!err)
            err = sl_buf_puts(&body, ",\"schema\":");
        if (!err)
            err = sl_buf_append(&body, schema.p, schema.n);
        if (!err)
            err = sl_buf_putc(&body, '}');
        sl_buf_release(&file);
        if (err) {
            sl_buf_release(&body);
            return SL_EXIT_SERVER;
        }
        rc = sl_cli_request(&cx, "POST", "/v1/models", (const char *)body.ptr, body.len,
                            "application/json", &r);
        sl_buf_release(&body);
        if (!rc) {
            char what[200];
            snprintf(what, sizeof(what), "model '%s'", pos[1]);
            rc = r.status / 100 == 2 ? show_model(&cx, &r) : sl_cli_fail(&cx, &r, what);
        }
    } else if (!strcmp(cmd, "list")) {
        rc = sl_cli_request(&cx, "GET", "/v1/models", NULL, 0, NULL, &r);
        if (!rc && r.status != 200)
            rc = sl_cli_fail(&cx, &r, "the models");
        else if (!rc) {
            sl_jspan root, models, m;
            if (!sl_cli_parse(&r, &root))
                rc = SL_EXIT_SERVER;
            else if (cx.output != OUT_TABLE)
                sl_cli_print_json(&cx, (const char *)r.body.ptr, r.body.len);
            else if (sl_jscan_get(root, "models", &models)) {
                printf("%-40s %-8s %s\n", "NAME", "VERSION", "UPDATED");
                size_t it = 0;
                while (sl_jscan_next(models, &it, NULL, &m)) {
                    char name[128];
                    sl_cli_str(m, "name", name, sizeof(name));
                    long long up = (long long)sl_cli_int(m, "updated_us");
                    time_t t = (time_t)(up / 1000000);
                    struct tm tm;
                    char when[32];
                    gmtime_r(&t, &tm);
                    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
                    printf("%-40s %-8lld %s\n", name, (long long)sl_cli_int(m, "version"), when);
                }
            }
        }
    } else if (!strcmp(cmd, "show") || !strcmp(cmd, "delete")) {
        if (npos != 2) {
            fprintf(stderr, "usage: sluice model %s NAME\n", cmd);
            return SL_EXIT_USAGE;
        }
        bool del = !strcmp(cmd, "delete");
        snprintf(path, sizeof(path), "/v1/models/%s%s%s", pos[1], version ? "?version=" : "",
                 version ? version : "");
        rc = sl_cli_request(&cx, del ? "DELETE" : "GET", path, NULL, 0, NULL, &r);
        char what[200];
        snprintf(what, sizeof(what), "model '%s'", pos[1]);
        if (!rc && r.status != 200)
            rc = sl_cli_fail(&cx, &r, what);
        else if (!rc && del) {
            if (cx.output == OUT_TABLE)
                printf("deleted model %s\n", pos[1]);
            else
                sl_cli_print_json(&cx, (const char *)r.body.ptr, r.body.len);
        } else if (!rc)
            rc = show_model(&cx, &r);
    } else {
        fprintf(stderr, "sluice model: unknown command '%s'\n", cmd);
        usage(stderr);
        rc = SL_EXIT_USAGE;
    }
    sl_cli_resp_release(&r);
    return rc;
}
