/* models.c: /v1/models: named, versioned schemas (DESIGN.md "A model (schema) is JSON").
 *
 * POST /v1/models {"name": NAME, "schema": {"fields": [...], "event_key": .., "partition_by": ..}}
 *   validates the schema with sl_model_from_json (errors name the field, line and column),
 *   stores its canonical JSON as version N+1 unless it equals version N (201 new, 200 same),
 *   and writes DATA/models/NAME.json (tmp + fsync + rename + directory fsync) so that ingest
 *   with ?model=NAME uses the latest version. The database row is written first: a crash between
 *   the two leaves the file at the previous version, and the next POST of the same schema writes
 *   it again (the POST answers 200 but still rewrites the file).
 * DELETE refuses (409) while a job of the model is queued or running.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/api_internal.h"
#include "util/fsutil.h"
#include "util/json_scan.h"
#include "util/log.h"

static bool model_name_ok(const char *s)
{
    return s && sl_stream_name_valid(s, strlen(s));
}

#define NAME_HINT "use 1-64 characters from A-Z a-z 0-9 _ - . (not starting with . _ -)"

enum MHD_Result sl__model_not_found(sl_api *api, struct MHD_Connection *c, const char *name)
{
    char names[512];
    sl_store_model_names(api->store, names, sizeof(names));
    char hint[700];
    if (names[0])
        snprintf(hint, sizeof(hint), "existing models: %s", names);
    else
        snprintf(hint, sizeof(hint),
                 "no models exist yet: create one with POST /v1/models or "
                 "'sluice model create NAME schema.json'");
    return sl__api_error(c, 404, "model_not_found", hint, "model '%.80s' does not exist", name);
}

/* DIR/NAME.json holding json and a newline, written atomically. */
static sl_err write_model_file(const char *dir, const char *name, const char *json)
{
    char fname[300];
    snprintf(fname, sizeof(fname), "%.250s.json", name);
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err = sl_buf_puts(&b, json);
    if (!err)
        err = sl_buf_putc(&b, '\n');
    if (!err)
        err = sl_write_file_atomic(dir, fname, b.ptr, b.len);
    sl_buf_release(&b);
    return err;
}

static sl_err put_model(sl_buf *b, const sl_model_rec *m, int created)
{
    sl_err err = sl_buf_puts(b, "{\"name\":");
    if (!err)
        err = sl_buf_json_str(b, m->name, strlen(m->name));
    if (!err)
        err = sl_buf_printf(b, ",\"version\":%lld,\"versions\":%lld", (long long)m->version,
                            (long long)m->versions);
    if (!err && created >= 0)
        err = sl_buf_printf(b, ",\"created\":%s", created ? "true" : "false");
    if (!err)
        err = sl_buf_puts(b, ",\"created_at\":");
    if (!err)
        err = sl__api_put_time(b, m->created_us);
    if (!err)
        err = sl_buf_puts(b, ",\"schema\":");
    if (!err)
        err = sl_buf_puts(b, m->schema);
    if (!err)
        err = sl_buf_puts(b, "}\n");
    return err;
}

enum MHD_Result sl__models_begin(sl_api_req *a, struct MHD_Connection *c, const char *method)
{
    (void)method;
    if ((a->kind == A_MODEL_GET || a->kind == A_MODEL_DELETE) && !model_name_ok(a->arg))
        return sl__api_error(c, 400, "bad_model_name", NAME_HINT, "invalid model name '%.80s'",
                             a->arg);
    if (a->kind == A_MODEL_CREATE) {
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > SL_API_SMALL_BODY)
            return sl__api_error(c, 413, "body_too_large", "a model definition is at most 1 MiB",
                                 "request body of %s bytes is too large", cl);
    }
    return MHD_YES; /* answered at the end of the (possibly empty) body */
}

static enum MHD_Result create(sl_api_req *a, struct MHD_Connection *c)
{
    sl_api *api = a->api;
    const char *text = (const char *)a->body.ptr;
    size_t n = a->body.len;
    if (!n)
        return sl__api_error(c, 400, "empty_body",
                             "send {\"name\": NAME, \"schema\": {\"fields\": [...]}}",
                             "the request has no body");
    sl_jspan root, v;
    size_t pos = 0;
    const char *why = NULL;
    if (!sl_jscan_valid(text, n, &root, &pos, &why))
        return sl__api_error(c, 400, "bad_json", "send a JSON object",
                             "request body is not valid JSON: %s at byte %zu", why, pos);
    if (sl_jscan_type(root) != SL_JS_OBJECT)
        return sl__api_error(c, 400, "bad_request",
                             "send {\"name\": NAME, \"schema\": {\"fields\": [...]}}",
                             "request body must be a JSON object");
    size_t it = 0;
    sl_jspan k;
    while (sl_jscan_next(root, &it, &k, &v))
        if (!sl_jscan_key_is(k, "name") && !sl_jscan_key_is(k, "schema"))
            return sl__api_error(c, 400, "unknown_field", "the body has only name and schema",
                                 "unknown field %.*s", (int)(k.n < 64 ? k.n : 64), k.p);
    char name[80];
    if (!sl_jscan_get(root, "name", &v))
        return sl__api_error(c, 400, "missing_field", NAME_HINT, "name: required");
    if (!sl_jscan_str(v, name, sizeof(name)) || !model_name_ok(name))
        return sl__api_error(c, 400, "bad_model_name", NAME_HINT,
                             "name: invalid model name %.*s", (int)(v.n < 80 ? v.n : 80), v.p);
    if (!sl_jscan_get(root, "schema", &v))
        return sl__api_error(c, 400, "missing_field",
                             "schema is an object: {\"fields\": [{\"name\": .., \"type\": ..}]}",
                             "schema: required");
    if (sl_jscan_type(v) != SL_JS_OBJECT)
        return sl__api_error(c, 400, "invalid_schema",
                             "schema is an object: {\"fields\": [{\"name\": .., \"type\": ..}]}",
                             "schema: must be an object");
    sl_model *m = NULL;
    char emsg[384] = "";
    sl_err err = sl_model_from_json(v.p, v.n, &m, emsg, sizeof(emsg));
    if (err == SL_NOMEM)
        return sl__api_error(c, 500, "out_of_memory", NULL, "out of memory");
    if (err)
        return sl__api_error(c, 422, "invalid_schema",
                             "see docs/jobs.md for the model format and the type names",
                             "schema.%s", emsg[0] ? emsg : sl_strerror(err));
    char *canon = NULL;
    err = sl_model_to_json(m, &canon);
    sl_model_destroy(m);
    if (err)
        return sl__api_error(c, 422, "invalid_schema", "field names must be valid UTF-8",
                             "schema: cannot be stored: %s", sl_strerror(err));
    pthread_mutex_lock(&api->models_mu);
    int64_t version = 0;
    bool created = false;
    err = sl_store_model_put(api->store, name, canon, &version, &created);
    if (!err && write_model_file(a->srv->cfg.models_dir, name, canon))
        sl_log(SL_LOG_WARN, "cannot write the model file (ingest with ?model= will not see it)",
               SL_KS("model", name), SL_KS("dir", a->srv->cfg.models_dir),
               SL_KS("error", strerror(errno)));
    sl_model_rec rec;
    memset(&rec, 0, sizeof(rec));
    if (!err)
        err = sl_store_model_get(api->store, name, version, &rec);
    pthread_mutex_unlock(&api->models_mu);
    free(canon);
    if (err) {
        sl_store_model_release(&rec);
        return sl__api_error(c, 500, "store_failed", "see the server log",
                             "cannot store the model: %s", sl_strerror(err));
    }
    if (created)
        sl_log(SL_LOG_INFO, "model stored", SL_KS("model", name), SL_KI("version", version));
    sl_buf b;
    sl_buf_init(&b, 0);
    err = put_model(&b, &rec, created);
    sl_store_model_release(&rec);
    if (err) {
        sl_buf_release(&b);
        return MHD_NO;
    }
    char loc[128];
    snprintf(loc, sizeof(loc), "/v1/models/%s", name);
    return sl__api_send(c, created ? 201 : 200, &b, loc);
}

enum MHD_Result sl__models_end(sl_api_req *a, struct MHD_Connection *c)
{
    sl_api *api = a->api;
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err;
    switch (a->kind) {
    case A_MODEL_CREATE:
        return create(a, c);
    case A_MODELS_LIST: {
        size_t count = 0;
        err = sl_buf_puts(&b, "{\"models\":");
        if (!err)
            err = sl_store_model_list(api->store, &b, &count);
        if (!err)
            err = sl_buf_printf(&b, ",\"count\":%zu}\n", count);
        break;
    }
    case A_MODEL_GET: {
        int64_t version = 0;
        const char *vs = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "version");
        if (vs) {
            char *end;
            long long x = strtoll(vs, &end, 10);
            if (*end || x < 1)
                return sl__api_error(c, 400, "bad_version", "use version=N with N >= 1",
                                     "invalid version '%.20s'", vs);
            version = x;
        }
        sl_model_rec rec;
        err = sl_store_model_get(api->store, a->arg, version, &rec);
        if (err == SL_RETRY && version) {
            sl_store_model_release(&rec);
            return sl__api_error(c, 404, "model_version_not_found", "omit version= for the latest",
                                 "model '%s' has no version %lld", a->arg, (long long)version);
        }
        if (err == SL_RETRY)
            return sl__model_not_found(api, c, a->arg);
        if (!err)
            err = put_model(&b, &rec, -1);
        sl_store_model_release(&rec);
        break;
    }
    case A_MODEL_DELETE: {
        pthread_mutex_lock(&api->models_mu);
        int64_t active = 0;
        err = sl_store_jobs_active(api->store, a->arg, &active);
        if (!err && active) {
            pthread_mutex_unlock(&api->models_mu);
            return sl__api_error(c, 409, "model_in_use",
                                 "wait for its jobs to finish or cancel them (sluice job list "
                                 "--model NAME; sluice job cancel ID)",
                                 "model '%s' has %lld queued or running job%s", a->arg,
                                 (long long)active, active == 1 ? "" : "s");
        }
        if (!err)
            err = sl_store_model_delete(api->store, a->arg);
        if (!err) {
            char path[1200];
            snprintf(path, sizeof(path), "%.1000s/%s.json", a->srv->cfg.models_dir, a->arg);
            if (unlink(path) == 0 && sl_fsync_dir(a->srv->cfg.models_dir))
                sl_log(SL_LOG_WARN, "cannot sync the models directory",
                       SL_KS("dir", a->srv->cfg.models_dir));
        }
        pthread_mutex_unlock(&api->models_mu);
        if (err == SL_RETRY)
            return sl__model_not_found(api, c, a->arg);
        if (!err) {
            sl_log(SL_LOG_INFO, "model deleted", SL_KS("model", a->arg));
            err = sl_buf_puts(&b, "{\"deleted\":");
            if (!err)
                err = sl_buf_json_str(&b, a->arg, strlen(a->arg));
            if (!err)
                err = sl_buf_puts(&b, "}\n");
        }
        break;
    }
    default:
        err = SL_STATE;
    }
    if (err) {
        sl_buf_release(&b);
        return sl__api_error(c, 500, "store_failed", "see the server log", "%s",
                             sl_strerror(err));
    }
    return sl__api_send(c, 200, &b, NULL);
}
