/* Fused softmax-regression kernels: one pass over dense rows for the loss,
 * gradient and Hessian-vector products, called from softmax.loss.native
 * through ctypes (no Python headers: a plain shared library).
 *
 * Why C: at few classes the work is two skinny products (X @ W.T and
 * G.T @ X) that BLAS runs at a fraction of its speed. Here the classes lie
 * along the vector lanes, so a block of rows is scored, turned into the
 * gradient on its scores and added to the gradient while both stay in
 * registers and the rows in L1 (fused_body.h). Numba cannot hold vectors in
 * registers across rows; GCC's vector extensions can, for every instruction
 * set from one source.
 *
 * One body (fused_body.h), three instruction sets (fused_isas.h), chosen at
 * run time (sm_isa): SSE2 or the target's baseline (16-byte vectors, any
 * architecture), AVX2 with FMA (32 bytes), AVX-512 (64 bytes, 32 registers).
 * Built by hatch_build.py. */

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* The arguments of one call, over one contiguous chunk of rows. Mirrored by
 * softmax.loss.native._Args; arrays are C-contiguous, in X's dtype unless
 * said otherwise. */
typedef struct {
    const void *X;          /* (n, d) rows of the chunk */
    int64_t n, d;
    const void *Wt;         /* (d, kp): W.T, classes padded with zeros to kp */
    int64_t kp;             /* V * lanes of the instruction set, V in 1..4 */
    const void *bias;       /* (kp,): the loss pads with -inf, Hessian products with 0 */
    const int64_t *codes;   /* (n,) class codes, or NULL for soft targets */
    const void *Y;          /* (n, k) soft targets when codes is NULL */
    int64_t k;              /* classes */
    const void *sw;         /* (n,) sample weights, or NULL for weights of 1 */
    void *proba;            /* (k, ldp) probabilities, transposed: written by the
                               loss when not NULL, read by Hessian products */
    int64_t ldp, offset;    /* proba's row length; the chunk's first row in it */
    void *acc;              /* (d, kp) accumulator in X's dtype (float64: = grad) */
    double *grad;           /* (d, kp) float64 gradient (transposed) to add to;
                               NULL: the loss computes no gradient */
    double *gsum;           /* (kp,) float64 intercept gradient to add to */
} sm_args;

#define INLINE static inline __attribute__((always_inline))
#define MAX_V 4
#define MAX_RB 8
/* float32 accumulators flushed into float64 this often (as the Numba kernels). */
#define FLUSH_ROWS 256
/* Rows are asked for this many blocks ahead: 1t evaluation at 100,000 x 100 x 10,
 * float64, 14.1 -> 12.5 ms (median of 41, interleaved; 1, 2 and 4 blocks alike). */
#define PREFETCH_BLOCKS 4

static const double POLY64[] = {
    1.6059043836821613e-10, /* Taylor to r^13: |r| <= ln2 / 2 leaves < 0.02 ulp */
    1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880, 1.0 / 40320,
    1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5};
static const float POLY32[] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                               4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

#if defined(__x86_64__) || defined(_M_X64)
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

/* ---- float64 ------------------------------------------------------------ */
#define REAL double
#define INT int64_t
#define TYPE f64
#define POLY POLY64
#define EXP_LO -708.0
#define MAGIC 6755399441055744.0 /* 1.5 * 2^52 */
#define LN2_HI 6.93145751953125e-1
#define LN2_LO 1.42860682030941723212e-6
#define EXP_BIAS 1023
#define MANT_BITS 52
/* A row total below this (its scores all > 460 below the block's shift) is redone. */
#define TINY_TOTAL 1e-200
#define AVX512_RB_2 8
#include "fused_isas.h"
#undef REAL
#undef INT
#undef TYPE
#undef POLY
#undef EXP_LO
#undef MAGIC
#undef LN2_HI
#undef LN2_LO
#undef EXP_BIAS
#undef MANT_BITS
#undef TINY_TOTAL
#undef AVX512_RB_2

/* ---- float32 ------------------------------------------------------------ */
#define REAL float
#define INT int32_t
#define TYPE f32
#define POLY POLY32
#define EXP_LO -87.0f
#define MAGIC 12582912.0f /* 1.5 * 2^23 */
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f
#define EXP_BIAS 127
#define MANT_BITS 23
/* A row total below this (its scores all > 46 below the block's shift) is redone. */
#define TINY_TOTAL 1e-20f
#define AVX512_RB_2 6
#include "fused_isas.h"

/* ---- entry points ------------------------------------------------------- */

/* The widest instruction set this CPU runs: 2 AVX-512, 1 AVX2 with FMA, 0 baseline. */
int sm_isa(void) {
#if HAVE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq"))
        return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

/* Vector lanes for a dtype (f32: 0 float64, 1 float32) and instruction set. */
int sm_lanes(int f32, int isa) {
    int bytes = isa == 2 ? 64 : isa == 1 ? 32 : 16;
    return bytes / (f32 ? 4 : 8);
}

/* Loss of the chunk's rows (float64); adds their gradient to grad and gsum
 * when grad is not NULL, and writes their probabilities when proba is not
 * NULL. isa must not exceed sm_isa(). */
double sm_loss(const sm_args *a, int f32, int isa) {
#if HAVE_X86
    if (isa == 2) return f32 ? loss_f32_avx512(a) : loss_f64_avx512(a);
    if (isa == 1) return f32 ? loss_f32_avx2(a) : loss_f64_avx2(a);
#endif
    return f32 ? loss_f32_base(a) : loss_f64_base(a);
}

/* Adds the chunk's Hessian-vector product (direction in Wt and bias) to grad and gsum. */
void sm_hessp(const sm_args *a, int f32, int isa) {
#if HAVE_X86
    if (isa == 2) {
        if (f32) hessp_f32_avx512(a); else hessp_f64_avx512(a);
        return;
    }
    if (isa == 1) {
        if (f32) hessp_f32_avx2(a); else hessp_f64_avx2(a);
        return;
    }
#endif
    if (f32) hessp_f32_base(a); else hessp_f64_base(a);
}
