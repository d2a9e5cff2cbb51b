/* float: a C double; repr is Python's shortest round-trip text.  Also the
 * numeric tower shared with int and bool: 1 == 1.0 == True. */
#include "types.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* The shortest "%.Ne" that reads back as v: its digits and the position of
 * the decimal point (v = 0.DIGITS × 10^decpt). */
static int shortest_digits(double v, char digits[32], int *decpt)
{
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v) break;
    }
    int n = 0;
    const char *p = tmp + (tmp[0] == '-');
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0') n--;
    digits[n] = '\0';
    *decpt = atoi(p + 1) + 1;
    return n;
}

static void put_zeros(rc_strbuf *sb, int n)
{
    for (int i = 0; i < n; i++) rc__sb_put(sb, "0", 1);
}

/* Python's float_repr: fixed notation while -4 < decpt <= 16, else
 * d.ddde±XX with at least two exponent digits. */
int rc__float_repr(double v, rc_strbuf *sb)
{
    if (isnan(v)) {
        rc__sb_puts(sb, "nan");
        return sb->err;
    }
    if (signbit(v)) rc__sb_put(sb, "-", 1);
    v = fabs(v);
    if (isinf(v)) {
        rc__sb_puts(sb, "inf");
        return sb->err;
    }
    if (v == 0) {
        rc__sb_puts(sb, "0.0");
        return sb->err;
    }
    char d[32];
    int decpt, n = shortest_digits(v, d, &decpt);
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            rc__sb_puts(sb, "0.");
            put_zeros(sb, -decpt);
            rc__sb_put(sb, d, (size_t)n);
        } else if (decpt >= n) {
            rc__sb_put(sb, d, (size_t)n);
            put_zeros(sb, decpt - n);
            rc__sb_puts(sb, ".0");
        } else {
            rc__sb_put(sb, d, (size_t)decpt);
            rc__sb_put(sb, ".", 1);
            rc__sb_put(sb, d + decpt, (size_t)(n - decpt));
        }
    } else {
        rc__sb_put(sb, d, 1);
        if (n > 1) {
            rc__sb_put(sb, ".", 1);
            rc__sb_put(sb, d + 1, (size_t)(n - 1));
        }
        int e = decpt - 1;
        rc__sb_printf(sb, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    return sb->err;
}

static int float_repr(const void *self, rc_strbuf *sb, int depth)
{
    (void)depth;
    return rc__float_repr(((const rc_float_obj *)self)->v, sb);
}

static int float_hash(const void *self, int64_t *out)
{
    *out = rc__hash_double(((const rc_float_obj *)self)->v, self);
    return 0;
}

static int float_truth(const void *self)
{
    return ((const rc_float_obj *)self)->v != 0;
}

const rc__vtype rc__float_type = {
    .bt.type = {.name = "float", .size = sizeof(rc_float_obj), .flags = RC__TYPE_VALUE | RC_TYPE_NO_WEAKREF},
    .repr = float_repr,
    .hash = float_hash,
    .truth = float_truth,
};

void *rc_float_from(rc_heap *h, double v)
{
    rc_float_obj *o = rc_new(h, &rc__float_type.bt.type);
    if (o) o->v = v;
    return o;
}

int rc_float_value(const void *o, double *out)
{
    if (rc__is(o, &rc__float_type)) {
        *out = ((const rc_float_obj *)o)->v;
        return 0;
    }
    if (rc__is(o, &rc__int_type) || rc__is(o, &rc__bool_type)) {
        *out = (double)((const rc_int_obj *)o)->v;
        return 0;
    }
    return rc__bad_type(o, "float");
}

bool rc__is_number(const void *o)
{
    const rc_type *t = rc__tp(o);
    return t == &rc__int_type.bt.type || t == &rc__float_type.bt.type || t == &rc__bool_type.bt.type;
}

/* Exact comparison, as Python does: an int equals a float only when the
 * float is integral and has the same value. */
static int int_float_equal(int64_t i, double d)
{
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return 0;
    if (d != trunc(d)) return 0;
    return (int64_t)d == i;
}

int rc__num_equal(const void *a, const void *b)
{
    bool fa = rc__is(a, &rc__float_type), fb = rc__is(b, &rc__float_type);
    if (fa && fb) return ((const rc_float_obj *)a)->v == ((const rc_float_obj *)b)->v;
    if (!fa && !fb) return ((const rc_int_obj *)a)->v == ((const rc_int_obj *)b)->v;
    if (fa) return int_float_equal(((const rc_int_obj *)b)->v, ((const rc_float_obj *)a)->v);
    return int_float_equal(((const rc_int_obj *)a)->v, ((const rc_float_obj *)b)->v);
}
