/* json_record.h: the JSON record parser, compiled once per string scanner. Not a public header:
 * json.c includes it once for each variant after defining
 *     JV       the variant's name suffix (scalar, sse2, avx2),
 *     JV_ATTR  function attributes (e.g. __attribute__((target("avx2")))),
 *     JV_FIND  the scanner: const uint8_t *JV_FIND(const uint8_t *p) returns the first byte at
 *              or after p that is '"', '\\', < 0x20 or >= 0x80 (it may read 32 bytes past it).
 * and everything of json.c's "record parser support" section (rctx, fail helpers, tables).
 *
 * Contract of every function here: the record is x->start .. x->end and *x->end == 0 (the
 * sentinel); at least PAD readable bytes follow x->end. NUL is not JSON whitespace, cannot
 * start or continue any token and is not allowed in strings, so every loop stops at the
 * sentinel without bounds checks; a NUL before x->end is reported as SL_ROW_NUL. A function
 * returns the position after what it parsed, or NULL after recording the first error in x.
 */

#define JN__(a, b) a##_##b
#define JN_(a, b) JN__(a, b)
#define JN(name) JN_(name, JV)

/* p: after the opening quote. Returns the closing quote; *esc |= saw a backslash escape. */
static inline __attribute__((always_inline)) JV_ATTR const uint8_t *
JN(scan_string)(rctx *x, const uint8_t *p, bool *esc)
{
    for (;;) {
        p = JV_FIND(p);
        uint8_t c = *p;
        if (c == '"')
            return p;
        if (c == '\\') {
            *esc = true;
            p = check_escape(x, p);
            if (!p)
                return NULL;
        } else if (c >= 0x80) {
            do {
                size_t n = utf8_seq(p);
                if (!n)
                    return fail(x, SL_ROW_UTF8, p, "invalid UTF-8 in string");
                p += n;
            } while (*p >= 0x80);
        } else {
            return fail_string_char(x, p);
        }
    }
}

/* A scalar value (string, number, literal); `{` and `[` go to skip_nested. */
static JV_ATTR const uint8_t *JN(skip_nested)(rctx *x, const uint8_t *p, size_t depth);

static inline JV_ATTR const uint8_t *JN(skip_value)(rctx *x, const uint8_t *p, size_t depth)
{
    bool esc = false;
    switch (*p) {
    case '"':
        p = JN(scan_string)(x, p + 1, &esc);
        return p ? p + 1 : NULL;
    case '{':
    case '[':
        return JN(skip_nested)(x, p, depth);
    case 't':
        return match_lit(x, p, "true", 4);
    case 'f':
        return match_lit(x, p, "false", 5);
    case 'n':
        return match_lit(x, p, "null", 4);
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        return parse_number(x, p);
    default:
        return fail_value(x, p);
    }
}

/* p at '{' or '[' of a container at nesting level `depth` (the record object is level 1).
 * Validates the whole container iteratively; the kind of each open level is kept in the
 * parser's bit stack so that closing brackets must match. */
static JV_ATTR const uint8_t *JN(skip_nested)(rctx *x, const uint8_t *p, size_t depth)
{
    uint64_t *stk = x->j->stack;
    size_t max = x->j->max_depth;
    size_t d = depth;
    bool esc = false;
    bool obj;

open:
    if (d > max)
        return fail(x, SL_ROW_TOO_DEEP, p, "nesting deeper than max_depth");
    if (*p == '{') {
        stk[d >> 6] |= (uint64_t)1 << (d & 63);
        p = skip_ws(p + 1);
        if (*p == '}') {
            p++;
            goto closed;
        }
        goto key;
    }
    stk[d >> 6] &= ~((uint64_t)1 << (d & 63));
    p = skip_ws(p + 1);
    if (*p == ']') {
        p++;
        goto closed;
    }
    goto value;

key:
    if (*p != '"')
        return fail_char(x, p, "expected '\"' to start a key");
    p = JN(scan_string)(x, p + 1, &esc);
    if (!p)
        return NULL;
    p = skip_ws(p + 1);
    if (*p != ':')
        return fail_char(x, p, "expected ':' after key");
    p = skip_ws(p + 1);

value:
    if (*p == '{' || *p == '[') {
        d++;
        goto open;
    }
    p = JN(skip_value)(x, p, d + 1);
    if (!p)
        return NULL;

after:
    p = skip_ws(p);
    obj = (stk[d >> 6] >> (d & 63)) & 1;
    if (*p == ',') {
        p = skip_ws(p + 1);
        if (obj) {
            if (*p == '}')
                return fail(x, SL_ROW_SYNTAX, p, "trailing comma");
            goto key;
        }
        if (*p == ']')
            return fail(x, SL_ROW_SYNTAX, p, "trailing comma");
        goto value;
    }
    if (*p != (obj ? '}' : ']'))
        return fail_char(
            x, p, obj ? "expected ',' or '}' after value" : "expected ',' or ']' after value");
    p++;

closed:
    if (d == depth)
        return p;
    d--;
    goto after;
}

/* A value for a schema column: validate it and describe it in *c. */
static inline JV_ATTR const uint8_t *JN(parse_cell)(rctx *x, const uint8_t *p, sl_cell *c)
{
    const uint8_t *q;
    bool esc = false;
    switch (*p) {
    case '"':
        q = JN(scan_string)(x, p + 1, &esc);
        if (!q)
            return NULL;
        *c = (sl_cell){(uint32_t)(p + 1 - x->base), (uint32_t)(q - p - 1), SL_CELL_STRING,
                       esc ? SL_CELLF_JSON_ESCAPES : 0, 0};
        return q + 1;
    case '{':
    case '[':
        q = JN(skip_nested)(x, p, 2);
        if (!q)
            return NULL;
        *c = (sl_cell){(uint32_t)(p - x->base), (uint32_t)(q - p), SL_CELL_NESTED, 0, 0};
        return q;
    case 't':
        q = match_lit(x, p, "true", 4);
        if (!q)
            return NULL;
        *c = (sl_cell){(uint32_t)(p - x->base), 4, SL_CELL_TEXT, SL_CELLF_JSON_TRUE, 0};
        return q;
    case 'f':
        q = match_lit(x, p, "false", 5);
        if (!q)
            return NULL;
        *c = (sl_cell){(uint32_t)(p - x->base), 5, SL_CELL_TEXT, SL_CELLF_JSON_FALSE, 0};
        return q;
    case 'n':
        q = match_lit(x, p, "null", 4);
        if (!q)
            return NULL;
        *c = (sl_cell){(uint32_t)(p - x->base), 4, SL_CELL_NULL, 0, 0};
        return q;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        q = parse_number(x, p);
        if (!q)
            return NULL;
        *c = (sl_cell){(uint32_t)(p - x->base), (uint32_t)(q - p), SL_CELL_TEXT,
                       SL_CELLF_JSON_NUMBER, 0};
        return q;
    default:
        return fail_value(x, p);
    }
}

/* The record object; p at '{'. Keys usually come in schema order, so the next expected column
 * is tried before the hash table. */
static inline JV_ATTR const uint8_t *JN(parse_object)(rctx *x, const uint8_t *p)
{
    sl_json *j = x->j;
    const size_t nmapped = j->nmapped;
    size_t expect = j->first, prev = NO_COL;

    p = skip_ws(p + 1);
    if (*p == '}')
        return p + 1;
    for (;;) {
        if (*p != '"')
            return fail_char(x, p, "expected '\"' to start a key");
        const uint8_t *ks = p + 1, *ke;
        bool kesc = false;
        size_t klen, col;
        if (expect < nmapped && key_is(j, x, ks, expect)) {
            col = expect;
            klen = j->nlen[col];
            ke = ks + klen;
        } else {
            ke = JN(scan_string)(x, ks, &kesc);
            if (!ke)
                return NULL;
            klen = (size_t)(ke - ks);
            col = lookup_key(j, ks, klen, kesc);
            /* learn the input's key order: next time, guess this column here */
            if (col != NO_COL) {
                if (prev == NO_COL)
                    j->first = (uint32_t)col;
                else
                    j->follow[prev] = (uint32_t)col;
            }
        }
        p = skip_ws(ke + 1);
        if (*p != ':')
            return fail_char(x, p, "expected ':' after key");
        p = skip_ws(p + 1);
        if (col != NO_COL) {
            sl_cell *c = &x->cells[col];
            if (c->kind != SL_CELL_MISSING && !j->o.dup_last_wins)
                return fail_key(x, SL_ROW_DUPLICATE_KEY, ks, klen, (int32_t)col);
            x->field = (int32_t)col;
            p = JN(parse_cell)(x, p, c);
            if (!p)
                return NULL;
            x->field = -1;
            expect = j->follow[col];
            prev = col;
        } else {
            if (j->o.unknown == SL_JSON_UNKNOWN_REJECT)
                return fail_key(x, SL_ROW_UNKNOWN_FIELD, ks, klen, -1);
            if (j->record_members && !add_member(x, ks, klen, kesc))
                return NULL;
            p = JN(skip_value)(x, p, 2);
            if (!p)
                return NULL;
            if (j->record_members)
                j->mem[j->nmem - 1].end = (size_t)(p - j->buf);
        }
        p = skip_ws(p);
        if (*p == ',') {
            p = skip_ws(p + 1);
            if (*p == '}')
                return fail(x, SL_ROW_SYNTAX, p, "trailing comma");
            continue;
        }
        if (*p == '}')
            return p + 1;
        return fail_char(x, p, "expected ',' or '}' after value");
    }
}

/* Entry point: p is the first non-whitespace byte of the record (p < x->end). Returns true
 * for a good object record; false with x->code etc. set otherwise. */
static JV_ATTR bool JN(parse_record)(rctx *x, const uint8_t *p)
{
    const uint8_t *q;
    const char *what;
    if (*p == '{') {
        q = JN(parse_object)(x, p);
        if (!q)
            return false;
        q = skip_ws(q);
        if (q != x->end) {
            fail_char(x, q, "unexpected data after the record");
            return false;
        }
        return true;
    }
    /* Not an object: NOT_OBJECT if it is otherwise valid JSON, else its first error. */
    switch (*p) {
    case '[':
        what = "record is an array";
        q = JN(skip_nested)(x, p, 1);
        break;
    case '"':
        what = "record is a string";
        q = JN(skip_value)(x, p, 1);
        break;
    case 't':
    case 'f':
    case 'n':
        what = "record is a literal";
        q = JN(skip_value)(x, p, 1);
        break;
    default:
        what = "record is a number";
        q = JN(skip_value)(x, p, 1);
        break;
    }
    if (!q)
        return false;
    q = skip_ws(q);
    if (q != x->end)
        fail_char(x, q, "unexpected data after the value");
    else
        fail(x, SL_ROW_NOT_OBJECT, p, what);
    return false;
}

#undef JN
#undef JN_
#undef JN__
