/* body_parse.h: whole CSV / JSON Lines records of one request body -> rows of an sl_batch plus
 * the rejected rows, for `sluice serve`.
 *
 * The HTTP handler cuts a body into pieces at record boundaries, writes each piece to the WAL and
 * parses it here; after a crash the same bytes are parsed again from the WAL by the same code,
 * so the accepted rows, the rejected rows and their reasons come out identical. A parser is
 * made per request (per WAL transaction): for CSV it needs the request's header record, which
 * maps the header's columns onto the stream's schema by name.
 *
 * Ownership: the schema is borrowed and must outlive the parser. Thread-safety: one parser per
 * thread; parsers for the same schema are independent.
 */
#ifndef SL_SERVER_BODY_PARSE_H
#define SL_SERVER_BODY_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice.h"
#include "util/buf.h"

/* One rejected row, as reported in API answers. */
typedef struct {
    uint64_t line;
    uint32_t column;  /* 0 = unknown */
    char field[64];   /* schema column, "" when the error is about the record */
    char code[24];    /* "type", "range", "syntax", ... */
    char message[192];
} sl_row_report;

typedef struct {
    uint64_t rows_ok;
    uint64_t rows_rejected;
    size_t nreports; /* the first `cap` rejected rows */
    size_t cap;
    sl_row_report *reports; /* caller's array of cap entries (may be NULL with cap 0) */
} sl_body_result;

typedef struct {
    const sl_schema *schema; /* borrowed */
    sl_format format;        /* SL_FMT_CSV or SL_FMT_JSONL */
    bool unknown_reject;     /* JSON: a key not in the schema rejects the row */
} sl_bodyp_opts;

typedef struct sl_bodyp sl_bodyp;

SL_NODISCARD sl_err sl_bodyp_create(const sl_bodyp_opts *o, sl_bodyp **out);
void sl_bodyp_destroy(sl_bodyp *p); /* NULL is a no-op */

/* CSV: the request's header record (without its line end or byte order mark). SL_FORMAT when it
 * cannot be used (malformed, or a non-nullable schema column is missing), with the reason in
 * msg. */
SL_NODISCARD sl_err sl_bodyp_set_header(sl_bodyp *p, const uint8_t *hdr, size_t n, char *msg,
                                        size_t msgn);

/* JSON, on: a line starting with SL_EVENT_REJECT_MARK is a dead-letter line of the events
 * validator (parse/events.h, dlq): the rest of it goes to rejects as it is and counts as a
 * rejected row. Set for each request or replay (a parser may be reused): on exactly for those
 * logged with SL_TXNF_EVENT_REJECTS. */
void sl_bodyp_event_rejects(sl_bodyp *p, bool on);

/* Parses data[0..n), whole records starting at line first_line, appending the accepted rows to
 * out (a batch of the schema) and one NDJSON line per rejected row to rejects (may be NULL);
 * counts and the first reports go to res. SL_NOMEM; SL_FULL if a string column passed 4 GiB. */
SL_NODISCARD sl_err sl_bodyp_parse(sl_bodyp *p, const uint8_t *data, size_t n,
                                   uint64_t first_line, sl_batch *out, sl_buf *rejects,
                                   sl_body_result *res);

/* A schema inferred from the first records of a body (CSV: hdr is the header record; data the
 * records after it). SL_FORMAT with msg when nothing usable is there. Caller owns *out. */
SL_NODISCARD sl_err sl_bodyp_infer(sl_format format, const uint8_t *hdr, size_t hdr_len,
                                   const uint8_t *data, size_t n, size_t max_rows,
                                   sl_schema **out, char *msg, size_t msgn);

/* As sl_bodyp_parse, for data in writable memory of cap >= n + SL_BODYP_PAD bytes: JSON Lines
 * are parsed where they are, without copying (the bytes are unchanged afterwards; see
 * sl_json_borrow); CSV is parsed as by sl_bodyp_parse. */
#define SL_BODYP_PAD 65
SL_NODISCARD sl_err sl_bodyp_parse_inplace(sl_bodyp *p, uint8_t *data, size_t n, size_t cap,
                                           uint64_t first_line, sl_batch *out, sl_buf *rejects,
                                           sl_body_result *res);

/* Length of the first record in data (quote-aware, up to and excluding its line end), or
 * SIZE_MAX when no line end is in data yet. *next is set past the line end. */
size_t sl_csv_first_record(const uint8_t *data, size_t n, size_t *next);

#endif
