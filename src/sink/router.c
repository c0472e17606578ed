/* router.c: a unit-sink factory that picks another factory per stream name. */
#include "sink/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *pattern; /* exact name, or a prefix ending in '*' */
    sl_unit_sink_factory *f;
} route;

typedef struct {
    sl_unit_sink_factory base;
    sl_unit_sink_factory *fallback;
    route *routes;
    size_t n;
    sl_unit_sink_factory **owned; /* each factory once, destroyed with the router */
    size_t nowned;
} router;

static bool matches(const char *pattern, const char *stream)
{
    size_t n = strlen(pattern);
    if (n && pattern[n - 1] == '*')
        return !strncmp(pattern, stream, n - 1);
    return !strcmp(pattern, stream);
}

sl_unit_sink_factory *sl_unit_router_pick(sl_unit_sink_factory *f, const char *stream)
{
    router *r = (router *)f;
    for (size_t i = 0; i < r->n; i++)
        if (matches(r->routes[i].pattern, stream))
            return r->routes[i].f;
    return r->fallback;
}

static sl_err rt_create(sl_unit_sink_factory *f, const char *stream, const sl_schema *schema,
                        sl_unit_sink **out, sl_sink_error *e)
{
    sl_unit_sink_factory *to = sl_unit_router_pick(f, stream);
    return to->create(to, stream, schema, out, e);
}

/* Every factory must be reachable: the first failure is reported. */
sl_err sl_unit_router_check(sl_unit_sink_factory *f, const char **kind, sl_sink_error *e)
{
    router *r = (router *)f;
    for (size_t i = 0; i < r->nowned; i++) {
        sl_unit_sink_factory *x = r->owned[i];
        sl_err err = x->check ? x->check(x, e) : SL_OK;
        if (err) {
            if (kind)
                *kind = x->kind;
            return err;
        }
    }
    return SL_OK;
}

static sl_err rt_check(sl_unit_sink_factory *f, sl_sink_error *e)
{
    return sl_unit_router_check(f, NULL, e);
}

static void rt_destroy(sl_unit_sink_factory *f)
{
    router *r = (router *)f;
    for (size_t i = 0; i < r->n; i++)
        free(r->routes[i].pattern);
    for (size_t i = 0; i < r->nowned; i++)
        r->owned[i]->destroy(r->owned[i]);
    free(r->routes);
    free(r->owned);
    free(r);
}

static sl_err own(router *r, sl_unit_sink_factory *f)
{
    for (size_t i = 0; i < r->nowned; i++)
        if (r->owned[i] == f)
            return SL_OK;
    sl_unit_sink_factory **o = realloc(r->owned, (r->nowned + 1) * sizeof(*o));
    if (!o)
        return SL_NOMEM;
    r->owned = o;
    r->owned[r->nowned++] = f;
    return SL_OK;
}

sl_err sl_unit_router_own(sl_unit_sink_factory *f, sl_unit_sink_factory *to)
{
    return own((router *)f, to);
}

sl_unit_sink_factory *sl_unit_router_create(sl_unit_sink_factory *fallback)
{
    router *r = calloc(1, sizeof(*r));
    if (!r || own(r, fallback)) {
        free(r);
        return NULL;
    }
    r->base.kind = fallback->kind;
    r->base.create = rt_create;
    r->base.check = rt_check;
    r->base.destroy = rt_destroy;
    r->fallback = fallback;
    return &r->base;
}

sl_err sl_unit_router_add(sl_unit_sink_factory *f, const char *pattern, sl_unit_sink_factory *to)
{
    router *r = (router *)f;
    if (!pattern || !*pattern || strchr(pattern, '*') != strrchr(pattern, '*') ||
        (strchr(pattern, '*') && pattern[strlen(pattern) - 1] != '*'))
        return SL_INVALID;
    route *rs = realloc(r->routes, (r->n + 1) * sizeof(*rs));
    if (!rs)
        return SL_NOMEM;
    r->routes = rs;
    char *p = strdup(pattern);
    if (!p || own(r, to)) {
        free(p);
        return SL_NOMEM;
    }
    r->routes[r->n].pattern = p;
    r->routes[r->n].f = to;
    r->n++;
    return SL_OK;
}
