/* The fused kernels for one (REAL, LANES) pair; fused.c includes this once per
 * instruction set. Names come from NAME(x); REAL, INT (an integer of REAL's
 * size), LANES and the exp constants are defined by the includer.
 *
 * Layout (see fused.c): the classes lie along the vector lanes, padded to
 * kp = V * LANES. Each block of RB rows is scored by broadcasting x[r][j]
 * against row j of Wt (d, kp): RB * V accumulators stay in registers and no
 * horizontal sums are needed. The gradient on the block's scores stays in
 * registers too and is added to acc (d, kp) the same way, while the rows are
 * still in L1. */

typedef REAL NAME(vec) __attribute__((vector_size(LANES * sizeof(REAL))));
typedef INT NAME(ivec) __attribute__((vector_size(LANES * sizeof(REAL))));
/* The same vector at REAL's alignment: loads and stores from NumPy's arrays. */
typedef REAL NAME(uvec)
    __attribute__((vector_size(LANES * sizeof(REAL)), aligned(sizeof(REAL)), may_alias));
#define VEC NAME(vec)
#define IVEC NAME(ivec)
#define UVEC NAME(uvec)
#define LOAD(p) (*(const UVEC *)(p))
#define STORE(p, v) (*(UVEC *)(p) = (v))

INLINE VEC NAME(splat)(REAL a) { return (VEC){0} + a; }

INLINE VEC NAME(select)(IVEC mask, VEC a, VEC b) {
    return (VEC)(((IVEC)a & mask) | ((IVEC)b & ~mask));
}

/* exp by Cephes' method: x = n ln2 + r (ln2 in two parts), exp(r) by a
 * polynomial, 2^n from the exponent bits; n is rounded by adding MAGIC, whose
 * low mantissa bits then hold n. Below EXP_LO the result is 0; NaN stays NaN.
 * Error measured in tests/test_native.py. */
INLINE VEC NAME(exp)(VEC x) {
    const VEC lo = NAME(splat)(EXP_LO);
    IVEC under = x < lo; /* false for NaN */
    VEC xc = NAME(select)(under, lo, x);
    VEC t = xc * NAME(splat)((REAL)1.4426950408889634) + NAME(splat)(MAGIC);
    VEC n = t - NAME(splat)(MAGIC);
    IVEC bits = (IVEC)t - (IVEC)NAME(splat)(MAGIC);
    VEC r = xc - n * NAME(splat)(LN2_HI);
    r = r - n * NAME(splat)(LN2_LO);
    VEC r2 = r * r, p;
#if MANT_BITS == 52
    /* Estrin's scheme: the float64 polynomial's 12 terms in a tree of depth 5,
     * not a chain of 11 multiply-adds. POLY holds the coefficients of
     * r^11 .. r^0 of p, with exp(r) = 1 + r + r^2 p(r). */
#define C(j) NAME(splat)(POLY[11 - (j)])
    VEC r4 = r2 * r2;
    VEC c0 = (C(0) + C(1) * r) + (C(2) + C(3) * r) * r2;
    VEC c1 = (C(4) + C(5) * r) + (C(6) + C(7) * r) * r2;
    VEC c2 = (C(8) + C(9) * r) + (C(10) + C(11) * r) * r2;
    p = (c0 + c1 * r4) + c2 * (r4 * r4);
#undef C
#else
    p = NAME(splat)(POLY[0]);
    for (int q = 1; q < (int)(sizeof(POLY) / sizeof(POLY[0])); q++)
        p = p * r + NAME(splat)(POLY[q]);
#endif
    p = p * r2 + r + NAME(splat)(1);
    VEC e = p * (VEC)((bits + EXP_BIAS) << MANT_BITS);
    return (VEC)((IVEC)e & ~under);
}

/* Horizontal max and sum by butterflies: log2(LANES) shuffles, not a chain
 * of LANES - 1 dependent scalar steps. (A NaN lane may be lost from the max;
 * it still turns the row's exps, total and loss into NaN.) */
INLINE VEC NAME(swap)(VEC v, int h) {
    IVEC mask;
    for (int q = 0; q < LANES; q++) mask[q] = q ^ h;
    return __builtin_shuffle(v, mask);
}

INLINE REAL NAME(hmax)(VEC v) {
    for (int h = LANES / 2; h >= 1; h /= 2) {
        VEC u = NAME(swap)(v, h);
        v = NAME(select)(v >= u, v, u);
    }
    return v[0];
}

INLINE REAL NAME(hsum)(VEC v) {
    for (int h = LANES / 2; h >= 1; h /= 2) v += NAME(swap)(v, h);
    return v[0];
}

/* The block's rows (the last one repeated past n, given weight 0). */
INLINE void NAME(rows)(const int RB, const sm_args *a, int64_t i, const REAL **xr, REAL *w,
                       int64_t *row) {
    const REAL *X = a->X, *sw = a->sw;
    for (int r = 0; r < RB; r++) {
        row[r] = i + r < a->n ? i + r : a->n - 1;
        xr[r] = X + row[r] * a->d;
        w[r] = i + r < a->n ? (sw ? sw[row[r]] : 1) : 0;
    }
}

/* Asks for the rows of the block PREFETCH_BLOCKS ahead. */
INLINE void NAME(prefetch)(const int RB, const sm_args *a, int64_t i) {
    const REAL *X = a->X;
    int64_t start = i + PREFETCH_BLOCKS * RB;
    if (start + RB > a->n) return;
    const char *p = (const char *)(X + start * a->d);
    const int64_t bytes = RB * a->d * (int64_t)sizeof(REAL);
    for (int64_t q = 0; q < bytes; q += 64) __builtin_prefetch(p + q, 0, 3); /* a line each */
}

/* s[r][v] = (Wt.T @ x_r + bias)[lanes of v]. */
INLINE void NAME(scores)(const int V, const int RB, const sm_args *a, const REAL **xr,
                         VEC s[][MAX_V]) {
    const REAL *Wt = a->Wt, *bias = a->bias;
    const int64_t kp = a->kp;
    for (int v = 0; v < V; v++) {
        VEC bv = LOAD(bias + LANES * v);
        for (int r = 0; r < RB; r++) s[r][v] = bv;
    }
    for (int64_t j = 0; j < a->d; j++) {
        VEC w[MAX_V];
        for (int v = 0; v < V; v++) w[v] = LOAD(Wt + j * kp + LANES * v);
        for (int r = 0; r < RB; r++) {
            VEC xj = NAME(splat)(xr[r][j]);
            for (int v = 0; v < V; v++) s[r][v] += xj * w[v];
        }
    }
}

/* acc[j] += sum_r x_r[j] g[r] for every feature j; gs += sum_r g[r]. Even and
 * odd rows in separate sums, which halves the chain of dependent adds. */
INLINE void NAME(accumulate)(const int V, const int RB, const sm_args *a, const REAL **xr,
                             VEC g[][MAX_V], VEC *gs) {
    REAL *acc = a->acc;
    const int64_t kp = a->kp;
    for (int r = 0; r < RB; r++)
        for (int v = 0; v < V; v++) gs[v] += g[r][v];
    for (int64_t j = 0; j < a->d; j++) {
        VEC e[MAX_V], o[MAX_V];
        for (int v = 0; v < V; v++) {
            e[v] = LOAD(acc + j * kp + LANES * v);
            o[v] = NAME(splat)(0);
        }
        for (int r = 0; r < RB; r++) {
            VEC xj = NAME(splat)(xr[r][j]);
            for (int v = 0; v < V; v++) {
                if (r % 2 == 0)
                    e[v] += xj * g[r][v];
                else
                    o[v] += xj * g[r][v];
            }
        }
        for (int v = 0; v < V; v++) STORE(acc + j * kp + LANES * v, e[v] + o[v]);
    }
}

/* float32 accumulators go into the float64 gradient every FLUSH_ROWS rows. */
INLINE void NAME(flush)(const sm_args *a) {
    if (sizeof(REAL) == sizeof(double)) return; /* acc is the gradient itself */
    REAL *acc = a->acc;
    for (int64_t q = 0; q < a->d * a->kp; q++) {
        a->grad[q] += acc[q];
        acc[q] = 0;
    }
}

INLINE double NAME(loss_v)(const int V, const int RB, const sm_args *a) {
    const int want_grad = a->grad != NULL;
    const int64_t k = a->k;
    const int64_t *codes = a->codes;
    const REAL *Y = a->Y;
    REAL *proba = a->proba;
    VEC gs[MAX_V];
    for (int v = 0; v < V; v++) gs[v] = NAME(splat)(0);
    /* One log per run of rows of equal weight, of the product of their
     * totals (each in [TINY_TOTAL, k]), flushed before it could overflow or
     * underflow. */
    double loss = 0.0, prod = 1.0, prod_weight = 0.0;
    int64_t since_flush = 0;
    for (int64_t i = 0; i < a->n; i += RB) {
        const REAL *xr[MAX_RB];
        REAL w[MAX_RB];
        int64_t row[MAX_RB];
        VEC s[MAX_RB][MAX_V];
        NAME(rows)(RB, a, i, xr, w, row);
        NAME(prefetch)(RB, a, i);
        NAME(scores)(V, RB, a, xr, s);
        /* One shift for the block, its largest score (padding is -inf): one
         * horizontal max per block, not per row. A row whose scores all lie
         * far below it (total under TINY_TOTAL) is redone with its own. */
        VEC top = s[0][0];
        for (int r = 0; r < RB; r++)
            for (int v = 0; v < V; v++) top = NAME(select)(top >= s[r][v], top, s[r][v]);
        const REAL block_max = NAME(hmax)(top);
        /* Unrolled, the rows' chains interleave: float32 evaluation -15%. */
#pragma GCC unroll 8
        for (int r = 0; r < RB; r++) {
            const REAL *z = (const REAL *)s[r]; /* the row's scores, lane by lane */
            double target = 0;
            VEC t[MAX_V] = {{0}}; /* soft targets: the row of Y, padded */
            if (codes) {
                target = z[codes[row[r]]];
            } else {
                for (int v = 0; v < V; v++) {
                    VEC tq = NAME(splat)(0);
                    for (int q = 0; q < LANES && v * LANES + q < k; q++)
                        tq[q] = Y[row[r] * k + v * LANES + q];
                    t[v] = tq;
                }
                for (int64_t c = 0; c < k; c++) target += (double)Y[row[r] * k + c] * z[c];
            }
            REAL m = block_max;
            VEC e[MAX_V], sum = NAME(splat)(0);
            for (int v = 0; v < V; v++) {
                e[v] = NAME(exp)(s[r][v] - NAME(splat)(m));
                sum += e[v];
            }
            REAL total = NAME(hsum)(sum);
            if (total < TINY_TOTAL) {
                VEC mv = s[r][0];
                for (int v = 1; v < V; v++) mv = NAME(select)(mv >= s[r][v], mv, s[r][v]);
                m = NAME(hmax)(mv);
                sum = NAME(splat)(0);
                for (int v = 0; v < V; v++) {
                    e[v] = NAME(exp)(s[r][v] - NAME(splat)(m));
                    sum += e[v];
                }
                total = NAME(hsum)(sum);
            }
            if ((double)w[r] != prod_weight || prod > 1e280 || prod < 1e-80) {
                loss += prod_weight * log(prod);
                prod = 1.0;
                prod_weight = w[r];
            }
            prod *= total;
            loss += (double)w[r] * ((double)m - target);
            VEC inv = NAME(splat)((REAL)1 / total);
            if (proba && i + r < a->n)
                for (int v = 0; v < V; v++) {
                    VEC p = e[v] * inv;
                    for (int q = 0; q < LANES && v * LANES + q < k; q++)
                        proba[(v * LANES + q) * a->ldp + a->offset + row[r]] = p[q];
                }
            /* the gradient on the row's scores, w (p - t), in place of them */
            VEC wv = NAME(splat)(w[r]);
            if (codes) {
                for (int v = 0; v < V; v++) s[r][v] = e[v] * inv * wv;
                ((REAL *)s[r])[codes[row[r]]] -= w[r];
            } else {
                for (int v = 0; v < V; v++) s[r][v] = (e[v] * inv - t[v]) * wv;
            }
        }
        if (want_grad) {
            NAME(accumulate)(V, RB, a, xr, s, gs);
            if ((since_flush += RB) >= FLUSH_ROWS) {
                NAME(flush)(a);
                since_flush = 0;
            }
        }
    }
    if (want_grad) {
        NAME(flush)(a);
        for (int v = 0; v < V; v++)
            for (int q = 0; q < LANES; q++) a->gsum[v * LANES + q] += gs[v][q];
    }
    return loss + prod_weight * log(prod);
}

/* Hessian product: per row u = Vt.T x + vb, h = s p * (u - p . u), acc += x (x) h.
 * Its block loop repeats the loss's: in shared helpers the loss ran 5% slower
 * (float64, 10 classes, AVX-512). */
INLINE void NAME(hessp_v)(const int V, const int RB, const sm_args *a) {
    const int64_t k = a->k;
    const REAL *proba = a->proba;
    VEC gs[MAX_V];
    for (int v = 0; v < V; v++) gs[v] = NAME(splat)(0);
    int64_t since_flush = 0;
    for (int64_t i = 0; i < a->n; i += RB) {
        const REAL *xr[MAX_RB];
        REAL w[MAX_RB];
        int64_t row[MAX_RB];
        VEC u[MAX_RB][MAX_V];
        NAME(rows)(RB, a, i, xr, w, row);
        NAME(prefetch)(RB, a, i);
        NAME(scores)(V, RB, a, xr, u);
        for (int r = 0; r < RB; r++) {
            VEC p[MAX_V], pu = NAME(splat)(0);
            for (int v = 0; v < V; v++) {
                VEC pv = NAME(splat)(0);
                for (int q = 0; q < LANES && v * LANES + q < k; q++)
                    pv[q] = proba[(v * LANES + q) * a->ldp + a->offset + row[r]];
                p[v] = pv;
                pu += pv * u[r][v];
            }
            VEC shift = NAME(splat)(NAME(hsum)(pu)), wv = NAME(splat)(w[r]);
            for (int v = 0; v < V; v++) u[r][v] = wv * p[v] * (u[r][v] - shift);
        }
        NAME(accumulate)(V, RB, a, xr, u, gs);
        if ((since_flush += RB) >= FLUSH_ROWS) {
            NAME(flush)(a);
            since_flush = 0;
        }
    }
    NAME(flush)(a);
    for (int v = 0; v < V; v++)
        for (int q = 0; q < LANES; q++) a->gsum[v * LANES + q] += gs[v][q];
}

/* By vectors per row, with RB_V rows per block (fused_isas.h). */
static double NAME(loss)(const sm_args *a) {
    switch (a->kp / LANES) {
    case 1: return NAME(loss_v)(1, RB_1, a);
    case 2: return NAME(loss_v)(2, RB_2, a);
    case 3: return NAME(loss_v)(3, RB_3, a);
    case 4: return NAME(loss_v)(4, RB_4, a);
    default: return NAN; /* more classes than MAX_V vectors: the caller checks */
    }
}

static void NAME(hessp)(const sm_args *a) {
    switch (a->kp / LANES) {
    case 1: NAME(hessp_v)(1, RB_1, a); break;
    case 2: NAME(hessp_v)(2, RB_2, a); break;
    case 3: NAME(hessp_v)(3, RB_3, a); break;
    case 4: NAME(hessp_v)(4, RB_4, a); break;
    default: /* more classes than MAX_V vectors: the caller checks */
        for (int64_t q = 0; q < a->kp; q++) a->gsum[q] = NAN;
    }
}

#undef VEC
#undef IVEC
#undef UVEC
#undef LOAD
#undef STORE
