/* csv_kernel.h: the CSV block kernels, compiled once per instruction set by csv_simd.c (not a
 * header to include anywhere else). Before including it, csv_simd.c defines:
 *   KTARGET            the function attribute selecting the instruction set
 *   KNAME(x)           x with the instruction set's suffix
 *   KCLASSIFY(p, q, d, m)  fills kmasks m for the 64 bytes at p (quote q, delimiter d)
 *   KPREFIX_XOR(x)     bit i of the result = XOR of bits 0..i of x
 *
 * Both kernels see the input as 64-byte blocks of bit masks. Quote bits give the quoted
 * regions by prefix XOR, carried between blocks: a delimiter or LF outside them separates.
 * That model ("every quote toggles") agrees with the parser's state machine ("a quote is
 * special at the start of a field; inside quotes a doubled quote is a quote; a closing quote
 * must be followed by a delimiter or newline") exactly as long as the input is well-formed.
 * So each kernel checks what it relies on and hands a record it cannot vouch for to the
 * scalar code, then restarts after it with fresh state:
 *   - bulk checks each field: no quote at all (unquoted), or first and last byte quotes with
 *     only doubled quotes in between;
 *   - split checks each quote: an opening quote must start a field or follow a closing quote
 *     (a pair), and after a closing quote must come a quote, delimiter, LF or CRLF.
 */

/* Masks of one block; bits past the end of the data are clear. */
KTARGET static inline void KNAME(load)(const uint8_t *buf, size_t base, size_t end, uint8_t quote,
                                       uint8_t delim, kmasks *m)
{
    size_t avail = end - base;
    if (avail >= 64) {
        KCLASSIFY(buf + base, quote, delim, m);
    } else {
        uint8_t tmp[64];
        memset(tmp, 0, sizeof(tmp));
        memcpy(tmp, buf + base, avail);
        KCLASSIFY(tmp, quote, delim, m);
        uint64_t valid = ((uint64_t)1 << avail) - 1;
        m->q &= valid;
        m->d &= valid;
        m->lf &= valid;
        m->cr &= valid;
        m->spec &= valid;
    }
    if (!quote)
        m->q = 0;
}

KTARGET int KNAME(sl__csv_bulk)(sl__csv_ctx *c)
{
    /* Locals, not c->...: the project builds with -fno-strict-aliasing, so every cell store
     * would otherwise make the compiler reload them. */
    const uint8_t *buf = c->buf;
    sl_rowblock *const b = c->b;
    const size_t end = c->end, ncols = b->ncols, tbase = c->base;
    const size_t max_record = c->ch->max_record;
    const uint8_t quote = c->ch->quote, delim = c->ch->delim;

restart:
    if (c->pos >= end)
        return SL__CSV_INCOMPLETE;
    size_t rs = c->pos, fs = rs, nf = 0;
    if (!sl__csv_row_begin(c, rs))
        return SL__CSV_FULL;
    sl_cell *cells = c->cells;
    bool checked = false; /* a field of this record went through sl__csv_check_bytes */
    /* per block: inq = all ones if the block starts inside quotes; the carries hold what the
     * field (nq quotes, spec bytes) or the record (qlf quoted LFs) in progress has seen */
    uint64_t inq = 0, nq_carry = 0, qlf_carry = 0, spec_carry = 0;
    for (size_t base = rs; base < end; base += 64) {
        kmasks m;
        KNAME(load)(buf, base, end, quote, delim, &m);
        uint64_t iq = KPREFIX_XOR(m.q) ^ inq;
        inq = (uint64_t)((int64_t)iq >> 63);
        uint64_t sep = (m.d | m.lf) & ~iq;
        uint64_t q = m.q, spec = m.spec, qlf = m.lf & iq;
        while (sep) {
            uint64_t upto = sep ^ (sep - 1); /* bits 0..i, i = this separator */
            size_t fe = base + (size_t)__builtin_ctzll(sep);
            bool is_lf = (m.lf & sep & (0 - sep)) != 0;
            sep &= sep - 1;
            uint64_t fq = q & upto;
            uint64_t nq = nq_carry + (fq ? (uint64_t)__builtin_popcountll(fq) : 0);
            uint64_t fspec = spec_carry | (spec & upto);
            q &= ~upto;
            spec &= ~upto;
            nq_carry = spec_carry = 0;

            size_t e = fe, cs = fs, clen;
            unsigned kind = SL_CELL_TEXT, flags = 0;
            if (is_lf && e > fs && buf[e - 1] == '\r')
                e--;
            clen = e - fs;
            if (nq) {
                if (buf[fs] != quote || e - fs < 2 || buf[e - 1] != quote)
                    goto fallback;
                if (nq > 2) {
                    /* inside, quotes must come in pairs */
                    const uint8_t *p = buf + fs + 1, *pe = buf + e - 1;
                    while ((p = memchr(p, quote, (size_t)(pe - p)))) {
                        if (p + 1 >= pe || p[1] != quote)
                            goto fallback;
                        p += 2;
                    }
                    flags = SL_CELLF_CSV_ESCAPES;
                }
                kind = SL_CELL_STRING;
                cs = fs + 1;
                clen = e - fs - 2;
            }
            if (fspec) {
                sl__csv_check_bytes(c, fs, e, nf);
                checked = true;
            }
            if (nf < ncols) {
                /* one 8-byte and one 4-byte store: off, len | kind, flags, pad */
                uint64_t lo = (uint64_t)(uint32_t)(cs - tbase) | (uint64_t)(uint32_t)clen << 32;
                uint32_t hi = kind | flags << 8;
                memcpy(&cells[nf], &lo, 8);
                memcpy((uint8_t *)&cells[nf] + 8, &hi, 4);
            }
            nf++;
            if (!is_lf) {
                fs = fe + 1;
                continue;
            }
            uint64_t rq = qlf & upto;
            uint64_t lfs = 1 + qlf_carry + (rq ? (uint64_t)__builtin_popcountll(rq) : 0);
            qlf &= ~upto;
            qlf_carry = 0;
            if (nf == 1 && e == rs && ncols != 1) {
                /* an empty line is not a record */
                b->nrows--;
            } else {
                b->rec_len[c->row] = (uint32_t)(e - rs);
                if (checked || nf != ncols || fe - rs > max_record)
                    sl__csv_row_end_slow(c, rs, fe, nf);
            }
            c->line += lfs;
            c->pos = fe + 1;
            rs = fs = fe + 1;
            nf = 0;
            checked = false;
            if (!sl__csv_row_begin(c, rs))
                return SL__CSV_FULL;
            cells = c->cells;
        }
        nq_carry += (uint64_t)__builtin_popcountll(q);
        spec_carry |= spec;
        qlf_carry += (uint64_t)__builtin_popcountll(qlf);
    }
    b->nrows--;
    return SL__CSV_INCOMPLETE;

fallback:
    /* c->pos is still rs: the scalar parser takes the whole record */
    b->nrows--;
    {
        int r = sl__csv_record(c, false);
        if (r != SL__CSV_OK)
            return r;
    }
    goto restart;
}

KTARGET size_t KNAME(sl__csv_split)(const sl__csv_chars *ch, const uint8_t *buf, size_t n,
                                    uint64_t *newlines)
{
    const uint8_t quote = ch->quote, delim = ch->delim;
    size_t last = 0;      /* just past the last record boundary found */
    uint64_t nl_last = 0; /* '\n' bytes before it */

restart:;
    /* carries: start of a field at bit 0, closing quote at bit 63, CR after one at bit 63 */
    uint64_t inq = 0, fstart_c = 1, close_c = 0, crclose_c = 0;
    uint64_t nl = nl_last; /* '\n' bytes before base */
    for (size_t base = last; base < n; base += 64) {
        kmasks m;
        KNAME(load)(buf, base, n, quote, delim, &m);
        uint64_t valid = n - base >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << (n - base)) - 1;
        uint64_t iq = KPREFIX_XOR(m.q) ^ inq;
        inq = (uint64_t)((int64_t)iq >> 63);
        uint64_t sepo = (m.d | m.lf) & ~iq;
        uint64_t open = m.q & iq, close = m.q & ~iq;
        uint64_t fstart = (sepo << 1) | fstart_c;
        uint64_t aclose = (close << 1) | close_c; /* bytes right after a closing quote */
        uint64_t acr = aclose & m.cr;
        uint64_t aacr = (acr << 1) | crclose_c; /* bytes right after quote + CR */
        fstart_c = sepo >> 63;
        close_c = close >> 63;
        crclose_c = acr >> 63;
        uint64_t bad =
            (open & ~(fstart | aclose)) | (aclose & ~(m.q | m.d | m.lf | m.cr)) | (aacr & ~m.lf);
        bad &= valid;
        uint64_t rend = m.lf & ~iq;
        if (bad) {
            /* boundaries before the first bad bit hold; the record holding it is scanned */
            uint64_t r = rend & ((bad & (0 - bad)) - 1);
            if (r) {
                unsigned bit = 63 - (unsigned)__builtin_clzll(r);
                last = base + bit + 1;
                nl_last = nl + (uint64_t)__builtin_popcountll(m.lf & (~(uint64_t)0 >> (63 - bit)));
            }
            sl__csv_scan s = {0};
            size_t x = sl__csv_scan_record(ch, &s, buf, last, n);
            if (x == n)
                break;
            nl_last += s.lfs + 1;
            last = x + 1;
            goto restart;
        }
        if (rend) {
            unsigned bit = 63 - (unsigned)__builtin_clzll(rend);
            last = base + bit + 1;
            nl_last = nl + (uint64_t)__builtin_popcountll(m.lf & (~(uint64_t)0 >> (63 - bit)));
        }
        nl += (uint64_t)__builtin_popcountll(m.lf);
    }
    *newlines = nl_last;
    return last;
}
