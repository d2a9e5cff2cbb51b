/* Typed elements of arrays and views: sizes, Python's array typecodes, and
 * conversion between a stored element and an int or float object with
 * Python's range checks. */
#include "types.h"

#include <math.h>

static const unsigned char sizes[] = {1, 2, 4, 8, 1, 2, 4, 8, 4, 8};
static const char codes[] = "bhiqBHIQfd";

size_t rc_elem_size(rc_elem kind)
{
    return (unsigned)kind <= RC_F64 ? sizes[kind] : 0;
}

char rc__elem_code(rc_elem kind)
{
    return (unsigned)kind <= RC_F64 ? codes[kind] : '?';
}

static bool is_float_kind(rc_elem kind) { return kind == RC_F32 || kind == RC_F64; }

void *rc__elem_get(rc_heap *h, rc_elem kind, const char *p)
{
    union { int8_t i8; int16_t i16; int32_t i32; int64_t i64; uint8_t u8; uint16_t u16; uint32_t u32;
            uint64_t u64; float f32; double f64; } v;
    memcpy(&v, p, rc_elem_size(kind));
    switch (kind) {
    case RC_I8: return rc_int_from(h, v.i8);
    case RC_I16: return rc_int_from(h, v.i16);
    case RC_I32: return rc_int_from(h, v.i32);
    case RC_I64: return rc_int_from(h, v.i64);
    case RC_U8: return rc_int_from(h, v.u8);
    case RC_U16: return rc_int_from(h, v.u16);
    case RC_U32: return rc_int_from(h, v.u32);
    case RC_U64:
        if (v.u64 > INT64_MAX) {
            rc__error(h, RC_ERANGE, "unsigned element %llu does not fit in an int (int64)", (unsigned long long)v.u64);
            return NULL;
        }
        return rc_int_from(h, (int64_t)v.u64);
    case RC_F32: return rc_float_from(h, v.f32);
    case RC_F64: return rc_float_from(h, v.f64);
    }
    return NULL;
}

static int store_int(rc_heap *h, rc_elem kind, char *p, int64_t x)
{
    static const int64_t lo[] = {INT8_MIN, INT16_MIN, INT32_MIN, INT64_MIN, 0, 0, 0, 0};
    static const int64_t hi[] = {INT8_MAX, INT16_MAX, INT32_MAX, INT64_MAX, UINT8_MAX, UINT16_MAX, UINT32_MAX, INT64_MAX};
    if (x < lo[kind] || x > hi[kind])
        return rc__error(h, RC_ERANGE, "%lld does not fit an element of typecode '%c'", (long long)x, rc__elem_code(kind));
    union { int8_t i8; int16_t i16; int32_t i32; int64_t i64; } v;
    switch (rc_elem_size(kind)) {
    case 1: v.i8 = (int8_t)x; break;
    case 2: v.i16 = (int16_t)x; break;
    case 4: v.i32 = (int32_t)x; break;
    default: v.i64 = x; break;
    }
    memcpy(p, &v, rc_elem_size(kind));
    return 0;
}

static int store_float(rc_elem kind, char *p, double x)
{
    if (kind == RC_F32) {
        float f = (float)x;
        memcpy(p, &f, sizeof f);
    } else memcpy(p, &x, sizeof x);
    return 0;
}

int rc__elem_store_int(rc_heap *h, rc_elem kind, char *p, int64_t x)
{
    return is_float_kind(kind) ? store_float(kind, p, (double)x) : store_int(h, kind, p, x);
}

int rc__elem_store_float(rc_heap *h, rc_elem kind, char *p, double x)
{
    if (!is_float_kind(kind))
        return rc__error(h, RC_ETYPE, "integer argument expected, got float (typecode '%c')", rc__elem_code(kind));
    return store_float(kind, p, x);
}

int rc__elem_set(rc_heap *h, rc_elem kind, char *p, const void *number)
{
    int64_t i;
    double d;
    if (number && (rc__is(number, &rc__int_type) || rc__is(number, &rc__bool_type))) {
        rc_int_value(number, &i);
        return rc__elem_store_int(h, kind, p, i);
    }
    if (number && rc__is(number, &rc__float_type)) {
        rc_float_value(number, &d);
        return rc__elem_store_float(h, kind, p, d);
    }
    if (!number) return rc__error(h, RC_EINVAL, "NULL element");
    return rc__type_error(h, number, is_float_kind(kind) ? "float" : "int");
}

/* Elements of any two kinds compare by numeric value, as array == array does. */
static int elem_equal(rc_heap *h, rc_elem ka, const char *pa, rc_elem kb, const char *pb)
{
    void *a = rc__elem_get(h, ka, pa), *b = a ? rc__elem_get(h, kb, pb) : NULL;
    int eq = a && b ? rc__num_equal(a, b) : RC_ERANGE;
    if (a) rc_decref(a);
    if (b) rc_decref(b);
    return eq;
}

/* n elements of kind ka at pa against n of kind kb at pb. */
int rc__elems_equal(rc_heap *h, size_t n, rc_elem ka, const char *pa, rc_elem kb, const char *pb)
{
    size_t sa = rc_elem_size(ka), sb = rc_elem_size(kb);
    for (size_t i = 0; i < n; i++) {
        int eq = elem_equal(h, ka, pa + i * sa, kb, pb + i * sb);
        if (eq != 1) return eq;
    }
    return 1;
}
