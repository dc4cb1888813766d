/* json.c - strict two-pass JSON reader and a small writer (see json.h). */
#include "io/json.h"

#include <stdio.h>
#include <string.h>

typedef struct parser {
    const char *s;
    size_t n, pos;
    int depth;
    bool fill;            /* second pass: write nodes and strings */
    size_t nodes, bytes;  /* first pass: what the second will need */
    grugan__json *pool;   /* second pass: node storage */
    size_t pool_used;
    char *strings;        /* second pass: string storage */
    size_t strings_used;
    char *msg;
    size_t msg_cap;
} parser;

static int fail(parser *p, const char *what)
{
    if (p->msg && p->msg_cap) snprintf(p->msg, p->msg_cap, "offset %zu: %s", p->pos, what);
    return GRUGAN_E_FORMAT;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->n) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static bool peek(const parser *p, char c)
{
    return p->pos < p->n && p->s[p->pos] == c;
}

static bool literal(parser *p, const char *word)
{
    size_t len = strlen(word);
    if (p->n - p->pos < len || memcmp(p->s + p->pos, word, len) != 0) return false;
    p->pos += len;
    return true;
}

static int hex4(parser *p, uint32_t *out)
{
    uint32_t v = 0;
    if (p->n - p->pos < 4) return fail(p, "truncated \\u escape");
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return fail(p, "bad hex digit in \\u escape");
    }
    *out = v;
    return GRUGAN_OK;
}

/* Appends code point cp as UTF-8 to dst (when filling); returns its length. */
static size_t put_utf8(char *dst, uint32_t cp)
{
    unsigned char b[4];
    size_t len;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        len = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        len = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        len = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        len = 4;
    }
    if (dst) memcpy(dst, b, len);
    return len;
}

/* Length of the valid UTF-8 sequence starting at s (at most avail bytes), or
 * 0 if it is not valid (overlong, surrogate, beyond U+10FFFF, truncated). */
static size_t utf8_sequence(const unsigned char *s, size_t avail)
{
    uint32_t cp;
    size_t len;
    if (s[0] < 0x80) return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) len = 2, cp = s[0] & 0x1Fu;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) len = 3, cp = s[0] & 0x0Fu;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4) len = 4, cp = s[0] & 0x07u;
    else return 0;
    if (avail < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* A string literal; when filling, stores it NUL-terminated in the string
 * storage and returns it with its length. */
static int parse_string(parser *p, const char **out, size_t *out_len)
{
    char *dst = p->fill ? p->strings + p->strings_used : NULL;
    size_t len = 0;
    if (!peek(p, '"')) return fail(p, "expected a string");
    p->pos++;
    for (;;) {
        unsigned char c;
        if (p->pos >= p->n) return fail(p, "unterminated string");
        c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) return fail(p, "control character in string");
        if (c == '\\') {
            char e;
            uint32_t cp;
            if (++p->pos >= p->n) return fail(p, "unterminated escape");
            e = p->s[p->pos++];
            switch (e) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u': {
                int rc = hex4(p, &cp);
                if (rc != GRUGAN_OK) return rc;
                if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(p, "lone low surrogate");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t low;
                    if (!literal(p, "\\u")) return fail(p, "high surrogate without low");
                    if ((rc = hex4(p, &low)) != GRUGAN_OK) return rc;
                    if (low < 0xDC00 || low > 0xDFFF) return fail(p, "bad low surrogate");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                break;
            }
            default: p->pos--; return fail(p, "unknown escape");
            }
            len += put_utf8(dst ? dst + len : NULL, cp);
        } else {
            size_t seq = utf8_sequence((const unsigned char *)p->s + p->pos, p->n - p->pos);
            if (seq == 0) return fail(p, "invalid UTF-8 in string");
            if (dst) memcpy(dst + len, p->s + p->pos, seq);
            p->pos += seq;
            len += seq;
        }
    }
    if (dst) {
        dst[len] = '\0';
        p->strings_used += len + 1;
        *out = dst;
        *out_len = len;
    } else {
        p->bytes += len + 1;
    }
    return GRUGAN_OK;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?  Integers are kept exactly;
 * the double is built from the digits without the C library (so no locale),
 * accurate to a few units in the last place. */
static int parse_number(parser *p, grugan__json *node)
{
    bool negative = false, overflow = false, integral = true;
    uint64_t mantissa = 0;
    int exp10 = 0, digits = 0;
    double value;
    if (peek(p, '-')) {
        negative = true;
        p->pos++;
    }
    if (p->pos >= p->n || p->s[p->pos] < '0' || p->s[p->pos] > '9')
        return fail(p, "expected a digit");
    if (p->s[p->pos] == '0' && p->pos + 1 < p->n && p->s[p->pos + 1] >= '0' &&
        p->s[p->pos + 1] <= '9')
        return fail(p, "leading zero in number");
    while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        unsigned d = (unsigned)(p->s[p->pos++] - '0');
        if (digits < 19) {
            mantissa = mantissa * 10 + d;
            if (mantissa) digits++;
        } else {
            exp10++;
            overflow = true;
        }
    }
    if (peek(p, '.')) {
        p->pos++;
        integral = false;
        if (p->pos >= p->n || p->s[p->pos] < '0' || p->s[p->pos] > '9')
            return fail(p, "expected a digit after '.'");
        while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
            unsigned d = (unsigned)(p->s[p->pos++] - '0');
            if (digits < 19) {
                mantissa = mantissa * 10 + d;
                if (mantissa) digits++;
                exp10--;
            }
        }
    }
    if (peek(p, 'e') || peek(p, 'E')) {
        int sign = 1, e = 0;
        p->pos++;
        integral = false;
        if (peek(p, '+') || peek(p, '-')) sign = p->s[p->pos++] == '-' ? -1 : 1;
        if (p->pos >= p->n || p->s[p->pos] < '0' || p->s[p->pos] > '9')
            return fail(p, "expected a digit in exponent");
        while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
            if (e < 100000) e = e * 10 + (p->s[p->pos] - '0');
            p->pos++;
        }
        exp10 += sign * e;
    }
    if (!node) return GRUGAN_OK;
    value = (double)mantissa;
    for (int e = exp10; e > 0 && value != 0; e--) value *= 10.0;
    for (int e = exp10; e < 0 && value != 0; e++) value /= 10.0;
    node->type = GRUGAN__JSON_NUMBER;
    node->number = negative ? -value : value;
    node->is_uint = integral && !negative && !overflow;
    node->uint = node->is_uint ? mantissa : 0;
    return GRUGAN_OK;
}

static int parse_value(parser *p, grugan__json *node);

/* Counts the items of the array or object at p->pos without storing them. */
static int count_items(parser *p, char close, size_t *count)
{
    parser q = *p;
    int rc;
    q.fill = false;
    *count = 0;
    q.pos++; /* the opening bracket */
    skip_ws(&q);
    if (peek(&q, close)) return GRUGAN_OK;
    for (;;) {
        if (close == '}') {
            if ((rc = parse_string(&q, NULL, NULL)) != GRUGAN_OK) return rc;
            skip_ws(&q);
            if (!peek(&q, ':')) return fail(p, "expected ':'");
            q.pos++;
            skip_ws(&q);
        }
        if ((rc = parse_value(&q, NULL)) != GRUGAN_OK) return rc;
        (*count)++;
        skip_ws(&q);
        if (peek(&q, ',')) {
            q.pos++;
            skip_ws(&q);
            continue;
        }
        if (peek(&q, close)) return GRUGAN_OK;
        return fail(p, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int parse_container(parser *p, grugan__json *node, char close)
{
    grugan__json *items = NULL;
    size_t count = 0, i = 0;
    int rc;
    if (++p->depth > GRUGAN__JSON_MAX_DEPTH) return fail(p, "nesting too deep");
    if (node) {
        if ((rc = count_items(p, close, &count)) != GRUGAN_OK) return rc;
        items = p->pool + p->pool_used;
        p->pool_used += count;
        node->type = close == '}' ? GRUGAN__JSON_OBJECT : GRUGAN__JSON_ARRAY;
        node->items = items;
        node->length = count;
    }
    p->pos++;
    skip_ws(p);
    if (peek(p, close)) {
        p->pos++;
        p->depth--;
        return GRUGAN_OK;
    }
    for (;;) {
        grugan__json *item = node ? &items[i++] : NULL;
        if (close == '}') {
            const char *key = NULL;
            size_t key_len = 0;
            if ((rc = parse_string(p, &key, &key_len)) != GRUGAN_OK) return rc;
            skip_ws(p);
            if (!peek(p, ':')) return fail(p, "expected ':'");
            p->pos++;
            skip_ws(p);
            if ((rc = parse_value(p, item)) != GRUGAN_OK) return rc;
            if (item) {
                item->key = key;
                item->key_length = key_len;
            }
        } else if ((rc = parse_value(p, item)) != GRUGAN_OK) {
            return rc;
        }
        skip_ws(p);
        if (peek(p, ',')) {
            p->pos++;
            skip_ws(p);
            continue;
        }
        if (peek(p, close)) {
            p->pos++;
            p->depth--;
            return GRUGAN_OK;
        }
        return fail(p, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

/* One value; node is NULL while counting or skipping. */
static int parse_value(parser *p, grugan__json *node)
{
    if (!p->fill) p->nodes++;
    if (node) memset(node, 0, sizeof *node);
    if (p->pos >= p->n) return fail(p, "unexpected end of input");
    switch (p->s[p->pos]) {
    case '{': return parse_container(p, node, '}');
    case '[': return parse_container(p, node, ']');
    case '"':
        if (node) node->type = GRUGAN__JSON_STRING;
        return parse_string(p, node ? &node->string : NULL, node ? &node->length : NULL);
    case 't':
    case 'f': {
        const bool truth = literal(p, "true");
        if (!truth && !literal(p, "false")) return fail(p, "invalid literal");
        if (node) {
            node->type = GRUGAN__JSON_BOOL;
            node->boolean = truth;
        }
        return GRUGAN_OK;
    }
    case 'n':
        if (literal(p, "null")) return GRUGAN_OK; /* memset made it NULL */
        return fail(p, "invalid literal");
    default: return parse_number(p, node);
    }
}

int grugan__json_parse(const grugan_context *ctx, const char *text, size_t size,
                       grugan__json **root, char *msg, size_t msg_cap)
{
    parser p;
    size_t node_bytes, total;
    char *block;
    int rc;

    *root = NULL;
    memset(&p, 0, sizeof p);
    p.s = text;
    p.n = size;
    p.msg = msg;
    p.msg_cap = msg_cap;
    skip_ws(&p);
    if ((rc = parse_value(&p, NULL)) != GRUGAN_OK) return rc;
    skip_ws(&p);
    if (p.pos != p.n) return fail(&p, "trailing characters after the value");

    /* second pass into one block: nodes, then strings */
    if (!grugan__mul_size(p.nodes, sizeof(grugan__json), &node_bytes) ||
        !grugan__add_size(node_bytes, p.bytes, &total))
        return fail(&p, "too large");
    block = grugan__alloc(ctx, total ? total : 1);
    if (!block) {
        if (msg && msg_cap) snprintf(msg, msg_cap, "cannot allocate %zu bytes", total);
        return GRUGAN_E_NOMEM;
    }
    p.pool = (grugan__json *)(void *)block;
    p.strings = block + node_bytes;
    p.pool_used = 1;
    p.fill = true;
    p.pos = 0;
    p.depth = 0;
    skip_ws(&p);
    if ((rc = parse_value(&p, &p.pool[0])) != GRUGAN_OK) {
        grugan__free(ctx, block);
        return rc; /* cannot happen: the first pass accepted the same input */
    }
    *root = p.pool;
    return GRUGAN_OK;
}

const grugan__json *grugan__json_get(const grugan__json *object, const char *key)
{
    size_t len = strlen(key);
    if (!object || object->type != GRUGAN__JSON_OBJECT) return NULL;
    for (size_t i = 0; i < object->length; i++) {
        const grugan__json *m = &object->items[i];
        if (m->key_length == len && memcmp(m->key, key, len) == 0) return m;
    }
    return NULL;
}

/* ---- writer ------------------------------------------------------------------ */

void grugan__json_out_init(grugan__json_out *out, const grugan_context *ctx)
{
    memset(out, 0, sizeof *out);
    out->ctx = ctx;
}

void grugan__json_out_release(grugan__json_out *out)
{
    grugan__free(out->ctx, out->data);
    out->data = NULL;
    out->size = out->cap = 0;
}

void grugan__json_out_raw(grugan__json_out *out, const char *text, size_t n)
{
    if (out->failed) return;
    if (n > out->cap - out->size) {
        size_t cap = out->cap ? out->cap : 256;
        char *grown;
        while (cap - out->size < n) {
            if (cap > SIZE_MAX / 2) {
                out->failed = true;
                return;
            }
            cap *= 2;
        }
        grown = grugan__alloc(out->ctx, cap);
        if (!grown) {
            out->failed = true;
            return;
        }
        if (out->size) memcpy(grown, out->data, out->size);
        grugan__free(out->ctx, out->data);
        out->data = grown;
        out->cap = cap;
    }
    memcpy(out->data + out->size, text, n);
    out->size += n;
}

void grugan__json_out_string(grugan__json_out *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    grugan__json_out_raw(out, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            grugan__json_out_raw(out, e, 2);
        } else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            grugan__json_out_raw(out, e, 6);
        } else {
            grugan__json_out_raw(out, s, 1);
        }
    }
    grugan__json_out_raw(out, "\"", 1);
}

void grugan__json_out_uint(grugan__json_out *out, uint64_t value)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)value);
    grugan__json_out_raw(out, digits, (size_t)n);
}
