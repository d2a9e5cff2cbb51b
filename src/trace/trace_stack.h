/* Native frames for the in-process tracer (trace_stack.c). */
#ifndef RC_TRACE_STACK_H
#define RC_TRACE_STACK_H

#include "../core/internal.h"
#include "trace_int.h"

#define MAX_SKIP 12            /* frames searched for the allocator's entry point */

/* The last walk of one heap: the frame records it read and what they held,
 * so an allocation from the same place can be recognized without a walk. */
typedef struct rc__stack_memo {
    uintptr_t lo;                                      /* the stack it was on */
    size_t    max, nverify, first, n;
    const uintptr_t *rec[MAX_SKIP + RC__MAXFRAMES + 2];
    uintptr_t word0[MAX_SKIP + RC__MAXFRAMES + 2];     /* saved frame pointer */
    uintptr_t word1[MAX_SKIP + RC__MAXFRAMES + 2];     /* return address */
} rc__stack_memo;

/* Fills out with up to max return addresses of the callers of the function
 * that called the allocator (the rc_site names that function's line);
 * start is the frame of the allocation hook. */
size_t rc__stack_capture(rc__stack_memo *m, const void *start, uintptr_t *out, size_t max);
/* Learns the allocator's entry-point return addresses (once per process). */
void   rc__stack_calibrate(rc_heap *h);

#endif
