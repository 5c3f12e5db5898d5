/* fused_body.h for each instruction set, for one dtype: fused.c includes this
 * once per dtype, with REAL, INT, TYPE (f64 or f32) and the exp constants
 * defined. Names end in _TYPE_ISA: loss_f64_avx2, hessp_f32_base, ...
 *
 * RB_V: rows per block with V vectors per row, so that RB * V score
 * accumulators, V weight vectors and a broadcast fit the registers (16 for
 * the baseline and AVX2, 32 for AVX-512). AVX512_RB_2 comes from fused.c:
 * float64 8 rows (6% faster than 6 at 100,000 x 100 x 10, one thread,
 * interleaved), float32 6 (with 8 the float32 kernels ran 8-10% slower at
 * 10 classes, which take one vector: the code's layout, not the block). */

#define PASTE(x, type, isa) x##_##type##_##isa
#define EXPAND_PASTE(x, type, isa) PASTE(x, type, isa)

#define RB_1 8
#define RB_2 4
#define RB_3 3
#define RB_4 2
#define LANES (16 / (int)sizeof(REAL))
#define NAME(x) EXPAND_PASTE(x, TYPE, base)
#include "fused_body.h"
#undef LANES
#undef NAME

#if HAVE_X86
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define LANES (32 / (int)sizeof(REAL))
#define NAME(x) EXPAND_PASTE(x, TYPE, avx2)
#include "fused_body.h"
#undef LANES
#undef NAME
#pragma GCC pop_options

#undef RB_1
#undef RB_2
#undef RB_3
#undef RB_4
#define RB_1 8
#define RB_2 AVX512_RB_2
#define RB_3 6
#define RB_4 4
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512dq,fma,prefer-vector-width=512")
#define LANES (64 / (int)sizeof(REAL))
#define NAME(x) EXPAND_PASTE(x, TYPE, avx512)
#include "fused_body.h"
#undef LANES
#undef NAME
#pragma GCC pop_options
#endif

#undef RB_1
#undef RB_2
#undef RB_3
#undef RB_4
#undef PASTE
#undef EXPAND_PASTE
