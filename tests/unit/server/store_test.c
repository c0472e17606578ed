/* store_test.c: tests of src/server/store.c (SQLite metadata of models and jobs): migrations on
 * a new and a reopened database, model versions (same schema = same version, deleted models
 * keep their numbering), job insert / claim order / progress / cancel of a queued job / list
 * filters and pages / the running jobs found at start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/store.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/sl_store_test.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/meta.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static sl_store *open_store(void)
{
    sl_store *st = NULL;
    char msg[256] = "";
    if (sl_store_open(path, &st, msg, sizeof(msg)))
        fail_msg("open: %s", msg);
    return st;
}

static void test_models(void **state)
{
    (void)state;
    sl_store *st = open_store();
    int64_t v;
    bool created;
    assert_int_equal(sl_store_model_put(st, "m", "{\"fields\":[1]}", &v, &created), SL_OK);
    assert_true(created);
    assert_int_equal(v, 1);
    assert_int_equal(sl_store_model_put(st, "m", "{\"fields\":[1]}", &v, &created), SL_OK);
    assert_false(created);
    assert_int_equal(v, 1);
    assert_int_equal(sl_store_model_put(st, "m", "{\"fields\":[2]}", &v, &created), SL_OK);
    assert_int_equal(v, 2);
    sl_model_rec m;
    assert_int_equal(sl_store_model_get(st, "m", 0, &m), SL_OK);
    assert_int_equal(m.version, 2);
    assert_int_equal(m.versions, 2);
    assert_string_equal(m.schema, "{\"fields\":[2]}");
    sl_store_model_release(&m);
    assert_int_equal(sl_store_model_get(st, "m", 1, &m), SL_OK);
    assert_string_equal(m.schema, "{\"fields\":[1]}");
    sl_store_model_release(&m);
    assert_int_equal(sl_store_model_get(st, "m", 3, &m), SL_RETRY);
    assert_int_equal(sl_store_model_get(st, "other", 0, &m), SL_RETRY);
    char names[64];
    assert_int_equal(sl_store_model_put(st, "a", "{}", &v, &created), SL_OK);
    sl_store_model_names(st, names, sizeof(names));
    assert_string_equal(names, "a, m");
    assert_int_equal(sl_store_model_delete(st, "m"), SL_OK);
    assert_int_equal(sl_store_model_delete(st, "m"), SL_RETRY);
    assert_int_equal(sl_store_model_get(st, "m", 0, &m), SL_RETRY);
    /* created again: the numbering continues, even with the old schema */
    assert_int_equal(sl_store_model_put(st, "m", "{\"fields\":[2]}", &v, &created), SL_OK);
    assert_true(created);
    assert_int_equal(v, 3);
    sl_buf b;
    sl_buf_init(&b, 0);
    size_t count;
    assert_int_equal(sl_store_model_list(st, &b, &count), SL_OK);
    assert_int_equal(count, 2);
    assert_non_null(strstr((const char *)b.ptr, "\"name\":\"m\",\"version\":3"));
    sl_buf_release(&b);
    sl_store_close(st);
    /* reopened: migrations are not applied twice, data is there */
    st = open_store();
    assert_int_equal(sl_store_model_get(st, "m", 0, &m), SL_OK);
    assert_int_equal(m.version, 3);
    sl_store_model_release(&m);
    sl_store_close(st);
}

static void add_job(sl_store *st, const char *id, const char *model)
{
    sl_job_rec j;
    memset(&j, 0, sizeof(j));
    snprintf(j.id, sizeof(j.id), "%s", id);
    snprintf(j.model, sizeof(j.model), "%s", model);
    snprintf(j.status, sizeof(j.status), "queued");
    snprintf(j.format, sizeof(j.format), "csv");
    j.model_version = 1;
    j.bytes = 10;
    j.created_us = 1;
    assert_int_equal(sl_store_job_insert(st, &j), SL_OK);
    assert_true(j.seq > 0);
}

typedef struct {
    char ids[256];
} collect;

static void collect_one(void *ctx, const sl_job_rec *j)
{
    collect *c = ctx;
    strcat(c->ids, j->id);
    strcat(c->ids, " ");
}

static void test_jobs(void **state)
{
    (void)state;
    sl_store *st = open_store();
    add_job(st, "j1", "a");
    add_job(st, "j2", "b");
    add_job(st, "j3", "a");
    int64_t n = -1;
    assert_int_equal(sl_store_jobs_active(st, "a", &n), SL_OK);
    assert_int_equal(n, 2);
    bool done;
    assert_int_equal(sl_store_job_cancel_queued(st, "j2", 5, &done), SL_OK);
    assert_true(done);
    sl_job_rec j;
    assert_int_equal(sl_store_job_claim(st, 7, &j), SL_OK);
    assert_string_equal(j.id, "j1"); /* oldest first */
    assert_string_equal(j.status, "running");
    assert_int_equal(j.attempts, 1);
    assert_int_equal(j.started_us, 7);
    assert_int_equal(sl_store_job_cancel_queued(st, "j1", 5, &done), SL_OK);
    assert_false(done); /* running: not by this path */
    assert_int_equal(sl_store_job_progress(st, "j1", 10, 9, 1, 5), SL_OK);
    assert_int_equal(sl_store_job_get(st, "j1", &j), SL_OK);
    assert_int_equal(j.rows_read, 10);
    assert_int_equal(j.rows_rejected, 1);
    assert_int_equal(j.bytes_read, 5);
    collect c = {""};
    assert_int_equal(sl_store_jobs_in(st, "running", collect_one, &c), SL_OK);
    assert_string_equal(c.ids, "j1 ");
    snprintf(j.status, sizeof(j.status), "succeeded");
    assert_int_equal(sl_store_job_update(st, &j), SL_OK);
    assert_int_equal(sl_store_job_claim(st, 8, &j), SL_OK);
    assert_string_equal(j.id, "j3"); /* j2 was cancelled */
    assert_int_equal(sl_store_job_claim(st, 9, &j), SL_RETRY);
    bool more;
    memset(&c, 0, sizeof(c));
    assert_int_equal(sl_store_job_list(st, NULL, NULL, 0, 2, collect_one, &c, &more), SL_OK);
    assert_string_equal(c.ids, "j3 j2 ");
    assert_true(more);
    memset(&c, 0, sizeof(c));
    assert_int_equal(sl_store_job_list(st, NULL, NULL, 2, 2, collect_one, &c, &more), SL_OK);
    assert_string_equal(c.ids, "j1 ");
    assert_false(more);
    memset(&c, 0, sizeof(c));
    assert_int_equal(sl_store_job_list(st, "a", "succeeded", 0, 10, collect_one, &c, &more), SL_OK);
    assert_string_equal(c.ids, "j1 ");
    assert_int_equal(sl_store_job_get(st, "nope", &j), SL_RETRY);
    assert_false(sl_store_job_exists(st, "nope"));
    assert_true(sl_store_job_exists(st, "j2"));
    sl_store_close(st);
}

/* A database at schema version 1 (before bytes_read) is migrated on open, keeping its rows. */
static void test_migrate_from_v1(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    const char *v1 =
        "CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, applied_us INTEGER NOT NULL);"
        "INSERT INTO schema_migrations VALUES(1, 1);"
        "CREATE TABLE models(name TEXT NOT NULL, version INTEGER NOT NULL, schema TEXT NOT NULL,"
        " created_us INTEGER NOT NULL, deleted_us INTEGER, PRIMARY KEY(name, version));"
        "CREATE TABLE jobs(id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, model TEXT NOT NULL,"
        " model_version INTEGER NOT NULL, status TEXT NOT NULL, format TEXT NOT NULL,"
        " bytes INTEGER NOT NULL, rows_read INTEGER NOT NULL DEFAULT 0,"
        " rows_accepted INTEGER NOT NULL DEFAULT 0, rows_rejected INTEGER NOT NULL DEFAULT 0,"
        " output_bytes INTEGER NOT NULL DEFAULT 0, created_us INTEGER NOT NULL,"
        " started_us INTEGER NOT NULL DEFAULT 0, finished_us INTEGER NOT NULL DEFAULT 0,"
        " attempts INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0,"
        " error_code TEXT NOT NULL DEFAULT '', error_message TEXT NOT NULL DEFAULT '',"
        " error_hint TEXT NOT NULL DEFAULT '', outputs TEXT NOT NULL DEFAULT '[]',"
        " dead_letters TEXT NOT NULL DEFAULT '');"
        "INSERT INTO jobs(id, seq, model, model_version, status, format, bytes, created_us)"
        " VALUES('old', 1, 'm', 1, 'succeeded', 'csv', 10, 1);";
    assert_int_equal(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    sl_store *st = open_store();
    sl_job_rec j;
    assert_int_equal(sl_store_job_get(st, "old", &j), SL_OK);
    assert_int_equal(j.bytes_read, 0);
    add_job(st, "new", "m");
    assert_int_equal(sl_store_job_progress(st, "new", 1, 1, 0, 7), SL_OK); /* not running: no-op */
    sl_store_close(st);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_migrations", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 2);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_models, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_v1, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
