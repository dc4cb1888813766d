/* golden_io.c - strict reader of the golden data files (see golden_io.h). */
#include "golden_io.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_MAX 64 /* longest token accepted, NUL included */

typedef struct parser {
    const char *p, *end; /* rest of the text */
    const char *lp, *le; /* rest of the current line */
    size_t line;         /* number of the current line, from 1 */
    char *err;
    size_t errlen;
} parser;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void fail(parser *ps, const char *fmt, ...);

static void fail(parser *ps, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (!ps->err || ps->errlen == 0) return;
    n = snprintf(ps->err, ps->errlen, "line %zu: ", ps->line);
    if (n < 0 || (size_t)n >= ps->errlen) return;
    va_start(ap, fmt);
    vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Moves to the next line; 0 at the end of the text. */
static int next_line(parser *ps)
{
    const char *nl;
    if (ps->p >= ps->end) return 0;
    nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
    ps->lp = ps->p;
    ps->le = nl ? nl : ps->end;
    ps->p = nl ? nl + 1 : ps->end;
    ps->line++;
    return 1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Next token of the current line into buf (TOKEN_MAX bytes): 1 found, 0 none
 * left, -1 too long (reported). */
static int next_token(parser *ps, char *buf)
{
    const char *s;
    size_t n;
    while (ps->lp < ps->le && is_space(*ps->lp)) ps->lp++;
    if (ps->lp >= ps->le) return 0;
    s = ps->lp;
    while (ps->lp < ps->le && !is_space(*ps->lp)) ps->lp++;
    n = (size_t)(ps->lp - s);
    if (n >= TOKEN_MAX) {
        fail(ps, "token longer than %d characters", TOKEN_MAX - 1);
        return -1;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return 1;
}

/* 1 if the current line is blank or a comment. */
static int line_is_empty(const parser *ps)
{
    const char *q = ps->lp;
    while (q < ps->le && is_space(*q)) q++;
    return q >= ps->le || *q == '#';
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= GOLDEN_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

static int parse_long(const char *s, long *out)
{
    char *end;
    long v;
    if (!*s) return -1;
    for (const char *q = s; *q; q++)
        if (!((*q >= '0' && *q <= '9') || ((*q == '-' || *q == '+') && q == s))) return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0') return -1;
    *out = v;
    return 0;
}

static int parse_size(const char *s, size_t *out)
{
    long v;
    if (parse_long(s, &v) != 0 || v < 0) return -1;
    *out = (size_t)v;
    return 0;
}

/* A finite decimal float; underflow to a subnormal or zero is accepted. */
static int parse_float(const char *s, float *out)
{
    char *end;
    float v;
    if (!*s) return -1;
    for (const char *q = s; *q; q++)
        if (!((*q >= '0' && *q <= '9') || *q == '-' || *q == '+' || *q == '.' || *q == 'e' ||
              *q == 'E'))
            return -1;
    errno = 0;
    v = strtof(s, &end);
    if (end == s || *end != '\0' || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int grow(void **items, size_t *cap, size_t n, size_t size)
{
    void *p;
    size_t c;
    if (n < *cap) return 0;
    c = *cap ? 2 * *cap : 8;
    if (c > (size_t)-1 / size) return -1;
    p = realloc(*items, c * size);
    if (!p) return -1;
    *items = p;
    *cap = c;
    return 0;
}

static int parse_config(parser *ps, golden_file *g, size_t *cap)
{
    char tok[TOKEN_MAX];
    golden_config *c;
    size_t vcap = 0;
    int r = next_token(ps, tok);
    if (r < 0) return -1;
    if (r == 0 || !valid_name(tok)) {
        fail(ps, "config needs a key made of letters, digits and _");
        return -1;
    }
    if (golden_config_find(g, tok)) {
        fail(ps, "config %s given twice", tok);
        return -1;
    }
    if (grow((void **)&g->configs, cap, g->n_configs, sizeof *g->configs) != 0) {
        fail(ps, "out of memory");
        return -1;
    }
    c = &g->configs[g->n_configs++];
    memset(c, 0, sizeof *c);
    memcpy(c->key, tok, strlen(tok) + 1);
    while ((r = next_token(ps, tok)) > 0) {
        long v;
        if (parse_long(tok, &v) != 0) {
            fail(ps, "config %s: '%s' is not an integer", c->key, tok);
            return -1;
        }
        if (c->count >= GOLDEN_MAX_VALUES) {
            fail(ps, "config %s: too many values", c->key);
            return -1;
        }
        if (grow((void **)&c->values, &vcap, c->count, sizeof *c->values) != 0) {
            fail(ps, "out of memory");
            return -1;
        }
        c->values[c->count++] = v;
    }
    if (r < 0) return -1;
    if (c->count == 0) {
        fail(ps, "config %s has no value", c->key);
        return -1;
    }
    return 0;
}

static int parse_tensor_header(parser *ps, golden_file *g, size_t *cap)
{
    char tok[TOKEN_MAX], name[TOKEN_MAX];
    golden_tensor *t;
    size_t ndim, shape[GOLDEN_MAX_DIMS] = {0}, count = 1;
    int r = next_token(ps, name);
    if (r < 0) return -1;
    if (r == 0 || !valid_name(name)) {
        fail(ps, "tensor needs a name made of letters, digits and _");
        return -1;
    }
    if (golden_find(g, name)) {
        fail(ps, "tensor %s given twice", name);
        return -1;
    }
    r = next_token(ps, tok);
    if (r < 0) return -1;
    if (r == 0 || parse_size(tok, &ndim) != 0 || ndim < 1 || ndim > GOLDEN_MAX_DIMS) {
        fail(ps, "tensor %s: the number of dimensions must be 1..%d", name, GOLDEN_MAX_DIMS);
        return -1;
    }
    for (size_t i = 0; i < ndim; i++) {
        r = next_token(ps, tok);
        if (r < 0) return -1;
        if (r == 0 || parse_size(tok, &shape[i]) != 0 || shape[i] < 1 ||
            shape[i] > GOLDEN_MAX_VALUES || count > GOLDEN_MAX_VALUES / shape[i]) {
            fail(ps, "tensor %s: bad or too large dimension %zu", name, i);
            return -1;
        }
        count *= shape[i];
    }
    r = next_token(ps, tok);
    if (r < 0) return -1;
    if (r != 0) {
        fail(ps, "tensor %s: unexpected '%s' after the shape", name, tok);
        return -1;
    }
    if (grow((void **)&g->tensors, cap, g->n_tensors, sizeof *g->tensors) != 0) {
        fail(ps, "out of memory");
        return -1;
    }
    t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    t->data = malloc(count * sizeof *t->data);
    if (!t->data) {
        fail(ps, "out of memory");
        return -1;
    }
    g->n_tensors++;
    memcpy(t->name, name, strlen(name) + 1);
    t->ndim = ndim;
    memcpy(t->shape, shape, sizeof shape);
    t->count = count;
    return 0;
}

/* Reads the values of the current line into t, from index *filled on. */
static int parse_values(parser *ps, golden_tensor *t, size_t *filled)
{
    char tok[TOKEN_MAX];
    int r;
    while ((r = next_token(ps, tok)) > 0) {
        if (*filled >= t->count) {
            fail(ps, "tensor %s: more than %zu values", t->name, t->count);
            return -1;
        }
        if (parse_float(tok, &t->data[*filled]) != 0) {
            fail(ps, "tensor %s: '%s' is not a finite number (expected %zu more values)",
                 t->name, tok, t->count - *filled);
            return -1;
        }
        (*filled)++;
    }
    return r < 0 ? -1 : 0;
}

int golden_parse(const char *text, size_t len, golden_file *g, char *err, size_t errlen)
{
    parser ps;
    size_t config_cap = 0, tensor_cap = 0, filled = 0;
    golden_tensor *pending = NULL; /* tensor still receiving values */
    int have_format = 0, ended = 0;
    char tok[TOKEN_MAX];

    if (err && errlen) err[0] = '\0';
    if (!g) return -1;
    memset(g, 0, sizeof *g);
    memset(&ps, 0, sizeof ps);
    ps.err = err;
    ps.errlen = errlen;
    if (!text && len) {
        fail(&ps, "no text");
        return -1;
    }
    ps.p = text;
    ps.end = text ? text + len : text;
    if (len && memchr(text, '\0', len)) {
        fail(&ps, "NUL byte in the text");
        return -1;
    }

    while (next_line(&ps)) {
        int r;
        if (pending) {
            if (line_is_empty(&ps)) continue;
            if (parse_values(&ps, pending, &filled) != 0) goto error;
            if (filled == pending->count) pending = NULL;
            continue;
        }
        if (line_is_empty(&ps)) continue;
        r = next_token(&ps, tok);
        if (r < 0) goto error;
        if (ended) {
            fail(&ps, "'%s' after end", tok);
            goto error;
        }
        if (!have_format) {
            char fmt_name[TOKEN_MAX], version[TOKEN_MAX];
            if (strcmp(tok, "format") != 0 || next_token(&ps, fmt_name) != 1 ||
                next_token(&ps, version) != 1 || strcmp(fmt_name, "grugan_golden") != 0 ||
                strcmp(version, "1") != 0 || next_token(&ps, tok) != 0) {
                fail(&ps, "the file must start with 'format grugan_golden 1'");
                goto error;
            }
            have_format = 1;
        } else if (strcmp(tok, "config") == 0) {
            if (parse_config(&ps, g, &config_cap) != 0) goto error;
        } else if (strcmp(tok, "tensor") == 0) {
            if (parse_tensor_header(&ps, g, &tensor_cap) != 0) goto error;
            pending = &g->tensors[g->n_tensors - 1];
            filled = 0;
        } else if (strcmp(tok, "end") == 0) {
            r = next_token(&ps, tok);
            if (r != 0) {
                if (r > 0) fail(&ps, "unexpected '%s' after end", tok);
                goto error;
            }
            ended = 1;
        } else {
            fail(&ps, "unknown directive '%s'", tok);
            goto error;
        }
    }
    if (pending) {
        fail(&ps, "truncated: tensor %s has %zu of %zu values", pending->name, filled,
             pending->count);
        goto error;
    }
    if (!have_format) {
        fail(&ps, "empty: no 'format grugan_golden 1'");
        goto error;
    }
    if (!ended) {
        fail(&ps, "truncated: no 'end'");
        goto error;
    }
    return 0;

error:
    golden_free(g);
    return -1;
}

int golden_load(const char *path, golden_file *g, char *err, size_t errlen)
{
    FILE *f;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc;
    if (err && errlen) err[0] = '\0';
    if (g) memset(g, 0, sizeof *g);
    if (!path || !g) {
        if (err && errlen) snprintf(err, errlen, "no path or no output");
        return -1;
    }
    f = fopen(path, "rb");
    if (!f) {
        if (err && errlen) snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t n;
        if (len == cap) {
            char *p;
            size_t c = cap ? 2 * cap : 65536;
            if (cap >= GOLDEN_MAX_FILE) {
                if (err && errlen) snprintf(err, errlen, "%s: larger than %u bytes", path,
                                            GOLDEN_MAX_FILE);
                free(buf);
                fclose(f);
                return -1;
            }
            p = realloc(buf, c);
            if (!p) {
                if (err && errlen) snprintf(err, errlen, "%s: out of memory", path);
                free(buf);
                fclose(f);
                return -1;
            }
            buf = p;
            cap = c;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    if (ferror(f)) {
        if (err && errlen) snprintf(err, errlen, "%s: read error", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    rc = golden_parse(buf, len, g, err, errlen);
    free(buf);
    if (rc != 0 && err && errlen) {
        /* prefix the path to the parser's message */
        size_t plen = strlen(path), mlen = strlen(err);
        if (plen + 2 + mlen < errlen) {
            memmove(err + plen + 2, err, mlen + 1);
            memcpy(err, path, plen);
            err[plen] = ':';
            err[plen + 1] = ' ';
        }
    }
    return rc;
}

void golden_free(golden_file *g)
{
    if (!g) return;
    for (size_t i = 0; i < g->n_configs; i++) free(g->configs[i].values);
    for (size_t i = 0; i < g->n_tensors; i++) free(g->tensors[i].data);
    free(g->configs);
    free(g->tensors);
    memset(g, 0, sizeof *g);
}

const golden_tensor *golden_find(const golden_file *g, const char *name)
{
    if (!g || !name) return NULL;
    for (size_t i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0) return &g->tensors[i];
    return NULL;
}

const golden_config *golden_config_find(const golden_file *g, const char *key)
{
    if (!g || !key) return NULL;
    for (size_t i = 0; i < g->n_configs; i++)
        if (strcmp(g->configs[i].key, key) == 0) return &g->configs[i];
    return NULL;
}

int golden_config_int(const golden_file *g, const char *key, long *value)
{
    const golden_config *c = golden_config_find(g, key);
    if (!c || c->count != 1 || !value) return -1;
    *value = c->values[0];
    return 0;
}
