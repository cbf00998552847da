/* Kiln's SQL standard library (interface and conventions: kiln/stdlib.h).
 *
 * Plain C11 so that it compiles to self-contained LLVM bitcode: the only dependencies are libc
 * (memcpy, snprintf, strtod) and the compiler runtime (__int128 division).
 *
 * NUMERIC arithmetic has an __int128 fast path and an exact 256-bit slow path (u256 below): a
 * product of two 38-digit values or a dividend scaled up by 10^38 fits in 256 bits, so every
 * operation is computed exactly and rounded once, half away from zero, like PostgreSQL.
 */
#include "kiln/runtime/civil.h"
#include "kiln/runtime/interval.h"
#include "kiln/runtime/numformat.h"
#include "kiln/stdlib.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h> /* md5 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h> /* regular expressions */
#include <pthread.h>

typedef __int128 i128;
typedef unsigned __int128 u128;

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SLOW __attribute__((noinline))
#define NORETURN __attribute__((noreturn, cold, noinline))

static NORETURN void raise_code(kiln_runtime *rt, int32_t code, int32_t loc) {
  kiln_raise(rt, code, loc);
}
static NORETURN void overflow(kiln_runtime *rt, int32_t loc) {
  kiln_raise(rt, KILN_ERR_NUMERIC_OVERFLOW, loc);
}

/* ======================================================================================== */
/* Hashing and comparison                                                                   */
/* ======================================================================================== */

/* 64x64 -> 128-bit multiply folded to 64 bits (wyhash's "mum"). */
static inline uint64_t mum(uint64_t a, uint64_t b) {
  u128 r = (u128)a * b;
  return (uint64_t)r ^ (uint64_t)(r >> 64);
}
static inline uint64_t rd8(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
static inline uint64_t rd4(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* wyhash's construction (final version 4) with a fixed seed, so hashes are stable across runs
 * and builds. */
uint64_t kiln_hash_bytes(const char *key, int64_t n) {
  static const uint64_t S[4] = {0x2d358dccaa6c78a5ull, 0x8bb84b93962eacc9ull, 0x4b33a62ed433d4a3ull,
                                0x4d5a2da51de1aa47ull};
  const unsigned char *p = (const unsigned char *)key;
  uint64_t len = (uint64_t)n, seed = 0x9E3779B97F4A7C15ull, a, b;
  seed ^= mum(seed ^ S[0], S[1]);
  if (LIKELY(len <= 16)) {
    if (len >= 4) {
      a = rd4(p) << 32 | rd4(p + ((len >> 3) << 2));
      b = rd4(p + len - 4) << 32 | rd4(p + len - 4 - ((len >> 3) << 2));
    } else if (len > 0) {
      a = (uint64_t)p[0] << 16 | (uint64_t)p[len >> 1] << 8 | p[len - 1];
      b = 0;
    } else {
      a = b = 0;
    }
  } else {
    uint64_t i = len;
    if (UNLIKELY(i > 48)) {
      uint64_t s1 = seed, s2 = seed;
      do {
        seed = mum(rd8(p) ^ S[1], rd8(p + 8) ^ seed);
        s1 = mum(rd8(p + 16) ^ S[2], rd8(p + 24) ^ s1);
        s2 = mum(rd8(p + 32) ^ S[3], rd8(p + 40) ^ s2);
        p += 48;
        i -= 48;
      } while (LIKELY(i > 48));
      seed ^= s1 ^ s2;
    }
    while (UNLIKELY(i > 16)) {
      seed = mum(rd8(p) ^ S[1], rd8(p + 8) ^ seed);
      i -= 16;
      p += 16;
    }
    a = rd8(p + i - 16);
    b = rd8(p + i - 8);
  }
  a ^= S[1];
  b ^= seed;
  u128 r = (u128)a * b;
  a = (uint64_t)r;
  b = (uint64_t)(r >> 64);
  return mum(a ^ S[0] ^ len, b ^ S[1]);
}

/* splitmix64's finalizer over (h ^ v): full avalanche, and chaining mix(mix(s, a), b) is
 * order-sensitive because the finalizer is not linear. */
uint64_t kiln_hash_mix(uint64_t h, uint64_t v) {
  uint64_t x = (h ^ v) + 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

int32_t kiln_text_cmp(const char *a, int64_t la, const char *b, int64_t lb) {
  int c = memcmp(a, b, (size_t)(la < lb ? la : lb));
  if (c != 0)
    return c < 0 ? -1 : 1;
  return (la > lb) - (la < lb);
}

int32_t kiln_text_eq(const char *a, int64_t la, const char *b, int64_t lb) {
  return la == lb && memcmp(a, b, (size_t)la) == 0;
}

int32_t kiln_f64_cmp(double a, double b) {
  if (a < b)
    return -1;
  if (a > b)
    return 1;
  if (a == b)
    return 0; /* also -0 == 0, as in PostgreSQL */
  return isnan(a) ? (isnan(b) ? 0 : 1) : -1;
}

/* ======================================================================================== */
/* NUMERIC                                                                                  */
/* ======================================================================================== */

#define E19 ((u128)10000000000000000000ull)
static const u128 P10[39] = {1ull,
                             10ull,
                             100ull,
                             1000ull,
                             10000ull,
                             100000ull,
                             1000000ull,
                             10000000ull,
                             100000000ull,
                             1000000000ull,
                             10000000000ull,
                             100000000000ull,
                             1000000000000ull,
                             10000000000000ull,
                             100000000000000ull,
                             1000000000000000ull,
                             10000000000000000ull,
                             100000000000000000ull,
                             1000000000000000000ull,
                             10000000000000000000ull,
                             E19 * 10ull,
                             E19 * 100ull,
                             E19 * 1000ull,
                             E19 * 10000ull,
                             E19 * 100000ull,
                             E19 * 1000000ull,
                             E19 * 10000000ull,
                             E19 * 100000000ull,
                             E19 * 1000000000ull,
                             E19 * 10000000000ull,
                             E19 * 100000000000ull,
                             E19 * 1000000000000ull,
                             E19 * 10000000000000ull,
                             E19 * 100000000000000ull,
                             E19 * 1000000000000000ull,
                             E19 * 10000000000000000ull,
                             E19 * 100000000000000000ull,
                             E19 * 1000000000000000000ull,
                             E19 * 10000000000000000000ull};
#define MAX_DIGITS 38 /* NUMERIC values are below 10^38 in magnitude */

static inline u128 uabs(i128 v) { return v < 0 ? -(u128)v : (u128)v; }

/* n / d and n % d; 64-bit division when both fit (128-bit division is a libgcc call). */
static inline u128 udivmod(u128 n, u128 d, u128 *rem) {
  if (LIKELY(!((n | d) >> 64))) {
    uint64_t q = (uint64_t)n / (uint64_t)d;
    *rem = (uint64_t)n - q * (uint64_t)d;
    return q;
  }
  *rem = n % d;
  return n / d;
}
static inline int32_t clamp_precision(int32_t p) {
  return p <= 0 || p > MAX_DIGITS ? MAX_DIGITS : p;
}

/* v *= 10^k for k >= 0; 0 if that overflows __int128. */
static inline int upscale(i128 *v, int64_t k) {
  if (k == 0 || *v == 0)
    return 1;
  return k <= MAX_DIGITS && !__builtin_mul_overflow(*v, (i128)P10[k], v);
}

/* v at scale `from` -> scale `to`, rounding half away from zero; 0 on __int128 overflow. */
static inline int shift_scale(i128 *v, int64_t from, int64_t to) {
  if (to >= from)
    return upscale(v, to - from);
  int64_t k = from - to;
  if (k > MAX_DIGITS) {
    *v = 0; /* |v| < 2^127 < 0.5 * 10^39 */
    return 1;
  }
  u128 d = P10[k], r, q = udivmod(uabs(*v), d, &r);
  q += r >= d - r; /* 2r >= d without overflowing */
  *v = *v < 0 ? -(i128)q : (i128)q;
  return 1;
}

/* shift_scale, then "numeric field overflow" unless |result| < 10^digits. */
static inline i128 rescale(kiln_runtime *rt, i128 v, int64_t from, int64_t to, int32_t digits,
                           int32_t loc) {
  if (UNLIKELY(!shift_scale(&v, from, to) || uabs(v) >= P10[digits]))
    overflow(rt, loc);
  return v;
}

/* ---- 256-bit unsigned magnitudes for the exact slow paths ---- */

typedef struct {
  uint64_t w[4]; /* little-endian 64-bit limbs */
} u256;

static u256 u256_of(u128 v) {
  u256 r = {{(uint64_t)v, (uint64_t)(v >> 64), 0, 0}};
  return r;
}
static int u256_is_zero(const u256 *x) { return !(x->w[0] | x->w[1] | x->w[2] | x->w[3]); }
static int u256_cmp(const u256 *a, const u256 *b) {
  for (int i = 3; i >= 0; --i)
    if (a->w[i] != b->w[i])
      return a->w[i] < b->w[i] ? -1 : 1;
  return 0;
}
/* a += b; returns the carry out. */
static int u256_add(u256 *a, const u256 *b) {
  uint64_t carry = 0;
  for (int i = 0; i < 4; ++i) {
    u128 t = (u128)a->w[i] + b->w[i] + carry;
    a->w[i] = (uint64_t)t;
    carry = (uint64_t)(t >> 64);
  }
  return carry != 0;
}
/* a -= b modulo 2^256. */
static void u256_sub(u256 *a, const u256 *b) {
  uint64_t borrow = 0;
  for (int i = 0; i < 4; ++i) {
    uint64_t x = a->w[i], y = b->w[i];
    a->w[i] = x - y - borrow;
    borrow = (x < y) | ((x == y) & borrow);
  }
}
/* x *= m; returns nonzero on overflow. */
static int u256_mul64(u256 *x, uint64_t m) {
  u128 carry = 0;
  for (int i = 0; i < 4; ++i) {
    u128 t = (u128)x->w[i] * m + carry;
    x->w[i] = (uint64_t)t;
    carry = t >> 64;
  }
  return carry != 0;
}
/* x /= d; returns the remainder. */
static uint64_t u256_div64(u256 *x, uint64_t d) {
  u128 rem = 0;
  for (int i = 3; i >= 0; --i) {
    u128 cur = rem << 64 | x->w[i];
    x->w[i] = (uint64_t)(cur / d);
    rem = cur % d;
  }
  return (uint64_t)rem;
}
/* x *= 10^k (k >= 0); returns nonzero on overflow. */
static int u256_mul_pow10(u256 *x, int64_t k) {
  if (u256_is_zero(x))
    return 0;
  if (k > 78)
    return 1; /* 10^78 > 2^256 */
  for (; k > 0; k -= 19)
    if (u256_mul64(x, (uint64_t)P10[k > 19 ? 19 : k]))
      return 1;
  return 0;
}
/* round(x / 10^k), k >= 1: floor(x / 10^(k-1)), then the last digit decides. Ties round away
 * from zero, or towards zero with `tie_down` (see addsub_slow). */
static u256 u256_div_pow10_round(u256 x, int64_t k, int tie_down) {
  if (k > 78)
    return u256_of(0); /* x < 2^256 < 0.5 * 10^78 */
  int sticky = 0;      /* a nonzero digit below the last one */
  for (int64_t j = k - 1; j > 0; j -= 19)
    sticky |= u256_div64(&x, (uint64_t)P10[j > 19 ? 19 : j]) != 0;
  uint64_t digit = u256_div64(&x, 10);
  if (digit > 5 || (digit == 5 && (sticky || !tie_down))) {
    u256 one = u256_of(1);
    u256_add(&x, &one);
  }
  return x;
}
static u256 u256_mul128(u128 a, u128 b) {
  uint64_t x[2] = {(uint64_t)a, (uint64_t)(a >> 64)}, y[2] = {(uint64_t)b, (uint64_t)(b >> 64)};
  u256 r = {{0, 0, 0, 0}};
  for (int i = 0; i < 2; ++i) {
    u128 carry = 0;
    for (int j = 0; j < 2; ++j) {
      u128 t = (u128)x[i] * y[j] + r.w[i + j] + carry;
      r.w[i + j] = (uint64_t)t;
      carry = t >> 64;
    }
    r.w[i + 2] = (uint64_t)carry;
  }
  return r;
}
/* Binary long division: q = n / d, r = n % d (d != 0). Only on slow paths. */
static void u256_divmod(const u256 *n, const u256 *d, u256 *q, u256 *r) {
  *q = u256_of(0);
  *r = u256_of(0);
  int top = 255;
  while (top >= 0 && !((n->w[top / 64] >> (top % 64)) & 1))
    --top;
  for (int i = top; i >= 0; --i) {
    /* r = 2r + bit; r < d, so when 2r leaves 256 bits it certainly exceeds d and the modular
     * subtraction below still yields the right remainder. */
    uint64_t out = r->w[3] >> 63;
    for (int j = 3; j > 0; --j)
      r->w[j] = r->w[j] << 1 | r->w[j - 1] >> 63;
    r->w[0] = r->w[0] << 1 | ((n->w[i / 64] >> (i % 64)) & 1);
    if (out || u256_cmp(r, d) >= 0) {
      u256_sub(r, d);
      q->w[i / 64] |= (uint64_t)1 << (i % 64);
    }
  }
}

/* (neg ? -m : m) at scale `from` -> scale `to`, rounded, checked against 10^38. */
static i128 finish_tie(kiln_runtime *rt, int neg, u256 m, int64_t from, int64_t to, int tie_down,
                       int32_t loc) {
  if (to >= from) {
    if (u256_mul_pow10(&m, to - from))
      overflow(rt, loc);
  } else {
    m = u256_div_pow10_round(m, from - to, tie_down);
  }
  if (m.w[2] | m.w[3])
    overflow(rt, loc);
  u128 v = (u128)m.w[1] << 64 | m.w[0];
  if (v >= P10[MAX_DIGITS])
    overflow(rt, loc);
  return neg ? -(i128)v : (i128)v;
}
static i128 finish(kiln_runtime *rt, int neg, u256 m, int64_t from, int64_t to, int32_t loc) {
  return finish_tie(rt, neg, m, from, to, 0, loc);
}

/* a + (negate_b ? -b : b) rounded to rs, exactly. x is the operand with the smaller scale, y the
 * other. Normally both are aligned at y's scale. When x does not fit in 256 bits there (scales
 * far apart), they are added at t = max(x's scale, rs + 1) < y's scale instead: y is cut towards
 * zero to scale t, S = x + y_cut is exact, and the true sum is S plus a fraction f (|f| < 1 unit
 * of scale t) with y's sign. Rounding S to rs is then right, except that when f != 0 has the
 * other sign than S, |true sum| is just below |S|, so an exact tie in S must round down. */
static SLOW i128 addsub_slow(kiln_runtime *rt, i128 a, int32_t sa, i128 b, int32_t sb, int negate_b,
                             int32_t rs, int32_t loc) {
  int nx = a < 0, ny = (b < 0) ^ negate_b;
  u128 mx = uabs(a), my = uabs(b);
  int64_t sx = sa, sy = sb;
  if (sx > sy) {
    u128 m = mx;
    int n = nx;
    int64_t sc = sx;
    mx = my, nx = ny, sx = sy;
    my = m, ny = n, sy = sc;
  }
  u256 x = u256_of(mx), y = u256_of(my);
  int64_t t = sy;
  int cut = 0; /* y lost nonzero digits */
  if (u256_mul_pow10(&x, sy - sx)) {
    t = sx > (int64_t)rs + 1 ? sx : (int64_t)rs + 1;
    x = u256_of(mx);
    if (t >= sy || u256_mul_pow10(&x, t - sx))
      overflow(rt, loc); /* the result is as large */
    int64_t k = sy - t;
    cut = k > MAX_DIGITS ? my != 0 : my % P10[k] != 0;
    y = u256_of(k > MAX_DIGITS ? 0 : my / P10[k]);
  }
  int neg = nx;
  if (nx == ny) {
    if (u256_add(&x, &y))
      overflow(rt, loc);
  } else if (u256_cmp(&x, &y) >= 0) {
    u256_sub(&x, &y);
  } else {
    u256_sub(&y, &x);
    x = y;
    neg = ny;
  }
  return finish_tie(rt, neg, x, t, rs, cut && neg != ny, loc);
}

i128 kiln_numeric_add(kiln_runtime *rt, i128 a, int32_t sa, i128 b, int32_t sb, int32_t rs,
                      int32_t loc) {
  int32_t sc = sa > sb ? sa : sb;
  i128 x = a, y = b, s;
  if (LIKELY(upscale(&x, sc - sa) && upscale(&y, sc - sb) && !__builtin_add_overflow(x, y, &s)))
    return rescale(rt, s, sc, rs, MAX_DIGITS, loc);
  return addsub_slow(rt, a, sa, b, sb, 0, rs, loc);
}

i128 kiln_numeric_sub(kiln_runtime *rt, i128 a, int32_t sa, i128 b, int32_t sb, int32_t rs,
                      int32_t loc) {
  int32_t sc = sa > sb ? sa : sb;
  i128 x = a, y = b, s;
  if (LIKELY(upscale(&x, sc - sa) && upscale(&y, sc - sb) && !__builtin_sub_overflow(x, y, &s)))
    return rescale(rt, s, sc, rs, MAX_DIGITS, loc);
  return addsub_slow(rt, a, sa, b, sb, 1, rs, loc);
}

i128 kiln_numeric_mul(kiln_runtime *rt, i128 a, int32_t sa, i128 b, int32_t sb, int32_t rs,
                      int32_t loc) {
  int64_t ps = (int64_t)sa + sb; /* scale of the exact product */
  i128 p;
  if (LIKELY(!__builtin_mul_overflow(a, b, &p)))
    return rescale(rt, p, ps, rs, MAX_DIGITS, loc);
  return finish(rt, (a < 0) != (b < 0), u256_mul128(uabs(a), uabs(b)), ps, rs, loc);
}

/* |a| * 10^k / |b| (k = rs + sb - sa) in 256 bits. A dividend that overflows 256 bits means a
 * quotient >= 2^256 / 2^127 (overflow); a divisor that does means a quotient < 0.5 (zero). */
static SLOW i128 div_slow(kiln_runtime *rt, u128 ua, u128 ub, int neg, int64_t k, int32_t loc) {
  u256 n = u256_of(ua), d = u256_of(ub), q, r;
  if (k >= 0) {
    if (u256_mul_pow10(&n, k))
      overflow(rt, loc);
  } else if (u256_mul_pow10(&d, -k)) {
    return 0;
  }
  u256_divmod(&n, &d, &q, &r);
  u256 rest = d;
  u256_sub(&rest, &r);
  if (u256_cmp(&r, &rest) >= 0) { /* 2r >= d: round away from zero */
    u256 one = u256_of(1);
    u256_add(&q, &one);
  }
  return finish(rt, neg, q, 0, 0, loc);
}

i128 kiln_numeric_div(kiln_runtime *rt, i128 a, int32_t sa, i128 b, int32_t sb, int32_t rs,
                      int32_t loc) {
  if (UNLIKELY(b == 0))
    raise_code(rt, KILN_ERR_DIVISION_BY_ZERO, loc);
  /* a / 10^sa / (b / 10^sb) * 10^rs = a * 10^k / b */
  int64_t k = (int64_t)rs + sb - sa;
  u128 ua = uabs(a), ub = uabs(b), n;
  int neg = (a < 0) != (b < 0);
  if (LIKELY(k >= 0 && k <= MAX_DIGITS && !__builtin_mul_overflow(ua, P10[k], &n))) {
    u128 r, q = udivmod(n, ub, &r);
    q += r >= ub - r;
    if (UNLIKELY(q >= P10[MAX_DIGITS]))
      overflow(rt, loc);
    return neg ? -(i128)q : (i128)q;
  }
  return div_slow(rt, ua, ub, neg, k, loc);
}

/* x = (x + y) mod d for x, y < d: the sum may carry out of 256 bits, and is then above d too. */
static void u256_addmod(u256 *x, const u256 *y, const u256 *d) {
  if (u256_add(x, y) || u256_cmp(x, d) >= 0)
    u256_sub(x, d);
}

/* |a| * 10^(sc - sa) mod |b| * 10^(sc - sb) in 256 bits. If the dividend does not fit, the
 * remainder of |a| is multiplied by 10 (as 8r + 2r) modulo the divisor once per digit. */
static SLOW i128 mod_slow(kiln_runtime *rt, i128 a, int32_t sa, i128 b, int32_t sb, int32_t sc,
                          int32_t rs, int32_t loc) {
  u256 n = u256_of(uabs(a)), d = u256_of(uabs(b)), q, r;
  if (u256_mul_pow10(&d, sc - sb)) /* then sc == sa: |a| < 2^128 < d */
    return finish(rt, a < 0, n, sc, rs, loc);
  if (!u256_mul_pow10(&n, sc - sa)) {
    u256_divmod(&n, &d, &q, &r);
  } else {
    n = u256_of(uabs(a));
    u256_divmod(&n, &d, &q, &r);
    for (int64_t i = 0; i < (int64_t)sc - sa; ++i) {
      u256 r2 = r, r8;
      u256_addmod(&r2, &r, &d); /* 2r */
      r8 = r2;
      u256_addmod(&r8, &r8, &d); /* 4r */
      u256_addmod(&r8, &r8, &d); /* 8r */
      u256_addmod(&r8, &r2, &d);
      r = r8;
    }
  }
  return finish(rt, a < 0, r, sc, rs, loc);
}

/* PostgreSQL: a - trunc(a / b) * b at scale max(sa, sb), so the result has a's sign. */
i128 kiln_numeric_mod(kiln_runtime *rt, i128 a, int32_t sa, i128 b, int32_t sb, int32_t rs,
                      int32_t loc) {
  if (UNLIKELY(b == 0))
    raise_code(rt, KILN_ERR_DIVISION_BY_ZERO, loc);
  int32_t sc = sa > sb ? sa : sb;
  i128 x = a, y = b;
  if (LIKELY(upscale(&x, sc - sa) && upscale(&y, sc - sb))) {
    u128 r;
    udivmod(uabs(x), uabs(y), &r);
    return rescale(rt, a < 0 ? -(i128)r : (i128)r, sc, rs, MAX_DIGITS, loc);
  }
  return mod_slow(rt, a, sa, b, sb, sc, rs, loc);
}

i128 kiln_numeric_rescale(kiln_runtime *rt, i128 v, int32_t from, int32_t to, int32_t precision,
                          int32_t loc) {
  return rescale(rt, v, from, to, clamp_precision(precision), loc);
}

i128 kiln_numeric_round(kiln_runtime *rt, i128 v, int32_t from, int32_t digits, int32_t to,
                        int32_t mode, int32_t loc) {
  int64_t k = (int64_t)from - digits; /* digits to drop */
  if (k <= 0)
    return rescale(rt, v, from, to, MAX_DIGITS, loc);
  /* On magnitudes: q = |v| / 10^k, r = |v| % 10^k; k > 38 drops every digit (|v| < 0.5 * 10^k) */
  u128 q = 0, r = uabs(v);
  if (k <= MAX_DIGITS)
    q = udivmod(r, P10[k], &r);
  switch (mode) {
  case KILN_ROUND_HALF_AWAY:
    q += k <= MAX_DIGITS && r >= P10[k] - r;
    break;
  case KILN_ROUND_FLOOR:
    q += v < 0 && r != 0;
    break; /* floor grows negative magnitudes */
  case KILN_ROUND_CEIL:
    q += v > 0 && r != 0;
    break;
  default:
    break; /* KILN_ROUND_TRUNC */
  }
  return rescale(rt, v < 0 ? -(i128)q : (i128)q, digits, to, MAX_DIGITS, loc);
}

i128 kiln_numeric_accumulate(kiln_runtime *rt, i128 acc, i128 v, int64_t weight, int32_t loc) {
  i128 t, r;
  if (UNLIKELY(__builtin_mul_overflow(v, (i128)weight, &t) || __builtin_add_overflow(acc, t, &r) ||
               uabs(r) >= P10[MAX_DIGITS]))
    overflow(rt, loc);
  return r;
}

/* x >>= 2 (the square root's bit steps by powers of four). */
static void u256_shr(u256 *x, int n) {
  for (int i = 0; i < 4; ++i)
    x->w[i] = x->w[i] >> n | (i < 3 ? x->w[i + 1] << (64 - n) : 0);
}
/* floor(sqrt(n)), bit by bit: the root r and a power-of-four `bit` walk down together; where
 * r + bit fits under the remainder, it is taken off and the bit set in r. */
static u256 u256_isqrt(u256 n) {
  u256 r = u256_of(0), bit = {{0, 0, 0, (uint64_t)1 << 62}};
  while (!u256_is_zero(&bit) && u256_cmp(&bit, &n) > 0)
    u256_shr(&bit, 2);
  while (!u256_is_zero(&bit)) {
    u256 t = r;
    u256_add(&t, &bit);
    u256_shr(&r, 1);
    if (u256_cmp(&n, &t) >= 0) {
      u256_sub(&n, &t);
      u256_add(&r, &bit);
    }
    u256_shr(&bit, 2);
  }
  return r;
}

/* floor(sqrt(m)) rounded half up by its last digit, dropped: the root at one digit less. */
static u256 root_rounded(u256 m) { return u256_div_pow10_round(u256_isqrt(m), 1, 0); }

i128 kiln_numeric_sqrt(kiln_runtime *rt, i128 v, int32_t from, int32_t to, int32_t loc) {
  if (UNLIKELY(v < 0))
    raise_code(rt, KILN_ERR_SQRT_NEGATIVE, loc);
  /* The root at one more digit than the result, cut (floor of the true root: the floor of the
   * root of floor(x) is the floor of the root of x), then rounded half up by that digit. */
  int64_t k = 2 * ((int64_t)to + 1) - from;
  u256 m = u256_of((u128)v);
  if (k >= 0 && u256_mul_pow10(&m, k)) /* not with v < 10^38 and to <= 34 */
    overflow(rt, loc);
  for (; k < 0; k += 19)
    u256_div64(&m, (uint64_t)P10[-k > 19 ? 19 : -k]);
  return finish(rt, 0, root_rounded(m), to, to, loc);
}

/* PostgreSQL's NumericVar of v / 10^s > 0 in base 10000: the weight of its first digit and that
 * digit. */
static void base10000_lead(u128 v, int32_t s, int64_t *weight, u128 *first) {
  int64_t digits = 1;
  while (digits < MAX_DIGITS + 1 && v >= P10[digits])
    ++digits;
  int64_t exponent = digits - 1 - s; /* floor(log10(value)) */
  *weight = exponent >= 0 ? exponent / 4 : -((-exponent + 3) / 4);
  int64_t shift = s + 4 * *weight; /* first = floor(v / 10^shift), shift in [digits - 4, digits) */
  *first = shift >= 0 ? v / P10[shift] : v * P10[-shift];
}

/* PostgreSQL's select_div_scale: at least 16 significant digits, and the operands' scales. */
static int64_t pg_div_scale(u128 a, int32_t sa, u128 b, int32_t sb) {
  int64_t wa, wb;
  u128 fa, fb;
  base10000_lead(a, sa, &wa, &fa);
  base10000_lead(b, sb, &wb, &fb);
  int64_t qweight = wa - wb - (fa <= fb);
  int64_t rscale = 16 - qweight * 4;
  if (rscale < sa)
    rscale = sa;
  if (rscale < sb)
    rscale = sb;
  return rscale < 0 ? 0 : rscale;
}

i128 kiln_numeric_variance(kiln_runtime *rt, i128 a, int32_t sa, i128 b, int32_t sb, int32_t root,
                           int32_t to, int32_t loc) {
  if (UNLIKELY(b == 0))
    raise_code(rt, KILN_ERR_DIVISION_BY_ZERO, loc);
  if (a == 0)
    return 0;
  int neg = (a < 0) != (b < 0);
  if (UNLIKELY(neg && root))
    raise_code(rt, KILN_ERR_SQRT_NEGATIVE, loc);
  /* PostgreSQL divides at select_div_scale's scale and takes the root at that scale too, so
   * both roundings happen there, then the result moves to `to`. Scales beyond to + 8 digits
   * change nothing at `to` but ties eight digits down: they are cut there. */
  int64_t rscale = pg_div_scale(uabs(a), sa, uabs(b), sb);
  if (rscale > (int64_t)to + 8)
    rscale = (int64_t)to + 8;
  /* The quotient at rscale: floor at one more digit, then rounded half up by it. */
  int64_t k = rscale + 1 - sa + sb;
  u256 n = u256_of(uabs(a)), d = u256_of(uabs(b)), q, r;
  if (u256_mul_pow10(k >= 0 ? &n : &d, k >= 0 ? k : -k)) {
    if (k >= 0)
      overflow(rt, loc);
    return 0; /* the divisor left 256 bits: the quotient rounds to 0 */
  }
  u256_divmod(&n, &d, &q, &r);
  u256 value = u256_div_pow10_round(q, 1, 0);
  if (root) { /* sqrt at rscale: the root of value * 10^(rscale + 2) at rscale + 1 digits */
    if (u256_mul_pow10(&value, rscale + 2))
      overflow(rt, loc);
    value = root_rounded(value);
  }
  return finish(rt, neg, value, rscale, to, loc);
}

int32_t kiln_numeric_cmp(i128 a, int32_t sa, i128 b, int32_t sb) {
  int32_t sc = sa > sb ? sa : sb;
  i128 x = a, y = b;
  /* Different signs or a zero: the raw values order correctly whatever the scales. */
  if (sa == sb || (a < 0) != (b < 0) || a == 0 || b == 0 ||
      (upscale(&x, sc - sa) && upscale(&y, sc - sb)))
    return (x > y) - (x < y);
  u256 ma = u256_of(uabs(a)), mb = u256_of(uabs(b));
  /* Only the operand with the smaller scale grows; if it leaves 256 bits it is the larger. */
  int c = u256_mul_pow10(&ma, sc - sa) ? 1 : u256_mul_pow10(&mb, sc - sb) ? -1 : u256_cmp(&ma, &mb);
  return a < 0 ? -c : c;
}

/* ======================================================================================== */
/* Decimal text helpers                                                                     */
/* ======================================================================================== */

static inline int is_space(char c) { /* what PostgreSQL's input functions skip (isspace, "C") */
  return c == ' ' || (c >= '\t' && c <= '\r');
}
static inline int is_digit(char c) { return c >= '0' && c <= '9'; }
static inline char fold(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

/* Writes the decimal digits of m ending at `end`; returns the first digit. */
static char *u128_digits(u128 m, char *end) {
  char *p = end;
  while (m > UINT64_MAX) { /* 19 digits at a time: two 128-bit divisions instead of 38 */
    uint64_t chunk = (uint64_t)(m % E19);
    m /= E19;
    for (int i = 0; i < 19; ++i, chunk /= 10)
      *--p = (char)('0' + chunk % 10);
  }
  uint64_t low = (uint64_t)m;
  do
    *--p = (char)('0' + low % 10);
  while (low /= 10);
  return p;
}

static char *scratch(kiln_runtime *rt, int64_t n) {
  return (char *)kiln_scratch(rt, n > 0 ? n : 1);
}
static void set_copy(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out) {
  char *q = scratch(rt, n);
  memcpy(q, p, (size_t)n);
  out->ptr = q;
  out->len = n;
}
static void set_static(const char *p, kiln_str *out) {
  out->ptr = p;
  out->len = (int64_t)strlen(p);
}

/* Parses [space][sign]digits[.digits][(e|E)[sign]digits][space] into the value times 10^scale,
 * rounded half away from zero. The text is D * 10^E for the integer D made of all the digits, so
 * the result is D * 10^(E + scale): the digits above the rounding position are kept and the next
 * one rounds. Returns 0, KILN_ERR_INVALID_TEXT_CAST, or KILN_ERR_NUMERIC_OVERFLOW when the result
 * reaches 10^precision. */
static int parse_decimal(const char *s, int64_t n, int32_t scale, int32_t precision, i128 *out) {
  int64_t i = 0, end = n;
  while (i < end && is_space(s[i]))
    ++i;
  while (end > i && is_space(s[end - 1]))
    --end;
  int neg = 0;
  if (i < end && (s[i] == '+' || s[i] == '-'))
    neg = s[i++] == '-';
  int64_t int_begin = i;
  while (i < end && is_digit(s[i]))
    ++i;
  int64_t int_end = i, frac_begin = i, frac_end = i;
  if (i < end && s[i] == '.') {
    frac_begin = ++i;
    while (i < end && is_digit(s[i]))
      ++i;
    frac_end = i;
  }
  if (int_end == int_begin && frac_end == frac_begin)
    return KILN_ERR_INVALID_TEXT_CAST;
  int64_t exponent = 0;
  if (i < end && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    int eneg = 0;
    if (i < end && (s[i] == '+' || s[i] == '-'))
      eneg = s[i++] == '-';
    int64_t exp_begin = i;
    for (; i < end && is_digit(s[i]); ++i)
      if ((exponent = exponent * 10 + (s[i] - '0')) > 1000000)
        exponent = 1000000; /* saturate */
    if (i == exp_begin)
      return KILN_ERR_INVALID_TEXT_CAST;
    if (eneg)
      exponent = -exponent;
  }
  if (i != end)
    return KILN_ERR_INVALID_TEXT_CAST;

  const u128 limit = P10[precision - 1]; /* appending a digit to >= 10^(p-1) reaches 10^p */
  int64_t nint = int_end - int_begin, nfrac = frac_end - frac_begin, total = nint + nfrac;
  int64_t shift = exponent - nfrac + scale; /* result = D * 10^shift */
  int64_t keep = shift >= 0 ? total : total + shift;
  u128 m = 0;
  int round_digit = 0;
  for (int64_t idx = 0; idx < total && idx <= keep; ++idx) {
    int digit = s[idx < nint ? int_begin + idx : frac_begin + (idx - nint)] - '0';
    if (idx == keep) {
      round_digit = digit;
    } else {
      if (m >= limit)
        return KILN_ERR_NUMERIC_OVERFLOW;
      m = m * 10 + (u128)digit;
    }
  }
  for (int64_t z = 0; z < shift && m != 0; ++z) {
    if (m >= limit)
      return KILN_ERR_NUMERIC_OVERFLOW;
    m *= 10;
  }
  if (round_digit >= 5 && ++m >= P10[precision])
    return KILN_ERR_NUMERIC_OVERFLOW;
  *out = neg ? -(i128)m : (i128)m;
  return 0;
}

/* ======================================================================================== */
/* Conversions                                                                              */
/* ======================================================================================== */

static const double P10D[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Correctly rounded, as PostgreSQL's (numeric_out + strtod). One IEEE operation on exact operands
 * rounds once; everything else goes through strtod. */
double kiln_numeric_to_f64(i128 v, int32_t scale) {
  if (uabs(v) <= ((u128)1 << 53)) {
    if (scale >= 0 && scale <= 22)
      return (double)(int64_t)v / P10D[scale];
    if (scale < 0 && scale >= -22)
      return (double)(int64_t)v * P10D[-scale];
  }
  char buf[64], *end = buf + sizeof buf - 1;
  *end = '\0';
  int e = -scale; /* digits "e" exponent */
  char *p = end;
  do
    *--p = (char)('0' + (e < 0 ? -(e % 10) : e % 10));
  while (e /= 10);
  if (scale > 0)
    *--p = '-';
  *--p = 'e';
  p = u128_digits(uabs(v), p);
  if (v < 0)
    *--p = '-';
  return strtod(p, NULL);
}

/* PostgreSQL's float8_numeric: the value printed with 15 significant digits ("%.15g"), then
 * rounded to the scale. */
i128 kiln_f64_to_numeric(kiln_runtime *rt, double v, int32_t scale, int32_t precision,
                         int32_t loc) {
  if (UNLIKELY(!isfinite(v)))
    overflow(rt, loc);
  precision = clamp_precision(precision);
  if (fabs(v) < 1e15 && v == (double)(int64_t)v) /* integers of <= 15 digits print exactly */
    return rescale(rt, (int64_t)v, 0, scale, precision, loc);
  char buf[32];
  int len = snprintf(buf, sizeof buf, "%.15g", v);
  i128 out;
  if (parse_decimal(buf, len, scale, precision, &out) != 0)
    overflow(rt, loc);
  return out;
}

int64_t kiln_numeric_to_int(kiln_runtime *rt, i128 v, int32_t scale, int64_t lo, int64_t hi,
                            int32_t code, int32_t loc) {
  if (UNLIKELY(!shift_scale(&v, scale, 0) || v < lo || v > hi))
    raise_code(rt, code, loc);
  return (int64_t)v;
}

/* rint() without libm: adding and subtracting 2^52 rounds to an integer in the current rounding
 * mode (nearest, ties to even); doubles of magnitude >= 2^52, NaN and infinities are integral. */
static inline double round_even(double x) {
  const double two52 = 4503599627370496.0;
  return fabs(x) < two52 ? copysign(fabs(x) + two52 - two52, x) : x;
}

int64_t kiln_f64_to_int(kiln_runtime *rt, double v, int64_t lo, int64_t hi, int32_t code,
                        int32_t loc) {
  double r = round_even(v);
  /* NaN fails the comparisons; 2^63 is the first double above INT64_MAX. */
  if (UNLIKELY(!(r >= (double)lo && r < 9223372036854775808.0) || (int64_t)r < lo ||
               (int64_t)r > hi))
    raise_code(rt, code, loc);
  return (int64_t)r;
}

/* ---- text output ---- */

void kiln_text_from_i64(kiln_runtime *rt, int64_t v, kiln_str *out) {
  char buf[24], *end = buf + sizeof buf;
  char *p = u128_digits((u128)(v < 0 ? -(uint64_t)v : (uint64_t)v), end);
  if (v < 0)
    *--p = '-';
  set_copy(rt, p, end - p, out);
}

/* Shortest significant digits of a finite double that read back as the same double (what
 * PostgreSQL's Ryu-based float8out prints), trailing zeros removed, and the decimal exponent of
 * the first digit.
 *
 * If a string of <= 15 digits round-trips it is the only one of its length that does (the
 * double's rounding interval, < 2.3e-16 relative, is far narrower than the 15-digit grid), and
 * the correctly rounded 15-digit string is that string padded with zeros. So:
 *  - in [1e-4, 1e15) (fixed notation), the fewest fraction digits k for which round(|v| * 10^k)
 *    / 10^k == |v| give the answer when it has <= 15 digits: one IEEE division of exact operands
 *    rounds like strtod, and the product's rounding error (< 0.11) cannot pick the wrong integer;
 *  - otherwise snprintf("%.*e") with 15, 16 and 17 digits, checked with strtod. Subnormals have
 *    fewer significant bits, hence wider intervals: they try every length. */
static int shortest_digits(double v, char *digits, int *exp10) {
  double a = fabs(v);
  int prec = a < 2.2250738585072014e-308 ? 0 : 14;
  if (a == 0) {
    digits[0] = '0';
    *exp10 = 0;
    return 1;
  }
  if (a >= 1e-4 && a < 1e15) {
    for (int k = 0; k <= 22 && a * P10D[k] < 1e15; ++k) {
      double n = round_even(a * P10D[k]);
      if (n / P10D[k] == a) {
        char tmp[24], *end = tmp + sizeof tmp, *d = u128_digits((uint64_t)n, end);
        int nd = (int)(end - d);
        memcpy(digits, d, (size_t)nd);
        *exp10 = nd - 1 - k;
        while (nd > 1 && digits[nd - 1] == '0')
          --nd;
        return nd;
      }
    }
    prec = 15;
  }
  char buf[48];
  for (;; ++prec) {
    snprintf(buf, sizeof buf, "%.*e", prec, a);
    int nd = 0, e;
    for (const char *q = buf; *q != 'e'; ++q)
      if (is_digit(*q))
        digits[nd++] = *q;
    e = atoi(strchr(buf, 'e') + 1);
    int ok = strtod(buf, NULL) == a;
    if (!ok && prec == 15) {
      /* At a power of two the rounding interval reaches twice as far above the value as below,
       * so the 16-digit string just above the nearest one may round-trip when it does not. */
      char up[48], bumped[17];
      memcpy(bumped, digits, 16);
      int i = 15, be = e;
      while (i >= 0 && bumped[i] == '9')
        bumped[i--] = '0';
      if (i >= 0) {
        ++bumped[i];
      } else {
        bumped[0] = '1';
        ++be;
      }
      snprintf(up, sizeof up, "%c.%.15se%d", bumped[0], bumped + 1, be);
      if (strtod(up, NULL) == a) {
        memcpy(digits, bumped, 16);
        e = be;
        ok = 1;
      }
    }
    if (ok || prec == 16) {
      while (nd > 1 && digits[nd - 1] == '0')
        --nd;
      *exp10 = e;
      return nd;
    }
  }
}

/* A float's shortest round-trip digits, as shortest_digits gives a double's. */
static int shortest_float_digits(float v, char *digits, int *exp10) {
  float a = fabsf(v);
  if (a == 0) {
    digits[0] = '0';
    *exp10 = 0;
    return 1;
  }
  char buf[32];
  for (int prec = 0;; ++prec) {
    snprintf(buf, sizeof buf, "%.*e", prec, (double)a);
    if (strtof(buf, NULL) == a || prec >= 8)
      break;
  }
  int nd = 0;
  for (const char *q = buf; *q != 'e'; ++q)
    if (is_digit(*q))
      digits[nd++] = *q;
  *exp10 = atoi(strchr(buf, 'e') + 1);
  while (nd > 1 && digits[nd - 1] == '0')
    --nd;
  return nd;
}

/* PostgreSQL's layout of shortest digits: fixed notation for decimal exponents in [-4, fixed),
 * else d.ddde+XX. */
static void text_from_float(kiln_runtime *rt, double v, int single, kiln_str *out) {
  if (!isfinite(v)) {
    set_static(isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity", out);
    return;
  }
  char digits[20], buf[40];
  int e, nd = single ? shortest_float_digits((float)v, digits, &e) : shortest_digits(v, digits, &e);
  int n = 0, fixed = single ? 6 : 15;
  if (signbit(v))
    buf[n++] = '-';
  if (e < -4 || e >= fixed) { /* 1.5e-05, 1e+20 */
    buf[n++] = digits[0];
    if (nd > 1) {
      buf[n++] = '.';
      memcpy(buf + n, digits + 1, (size_t)nd - 1);
      n += nd - 1;
    }
    n += snprintf(buf + n, sizeof buf - (size_t)n, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
  } else if (e < 0) { /* 0.00015 */
    buf[n++] = '0';
    buf[n++] = '.';
    for (int i = -1; i > e; --i)
      buf[n++] = '0';
    memcpy(buf + n, digits, (size_t)nd);
    n += nd;
  } else { /* 1500, 1.5 */
    for (int i = 0; i < nd || i <= e; ++i) {
      if (i == e + 1)
        buf[n++] = '.';
      buf[n++] = i < nd ? digits[i] : '0';
    }
  }
  set_copy(rt, buf, n, out);
}

void kiln_text_from_f64(kiln_runtime *rt, double v, kiln_str *out) {
  text_from_float(rt, v, 0, out);
}

void kiln_text_from_real(kiln_runtime *rt, double v, kiln_str *out) {
  text_from_float(rt, v, 1, out);
}

double kiln_f64_to_real(kiln_runtime *rt, double v, int32_t loc) {
  float f = (float)v;
  if (UNLIKELY(isinf(f) && !isinf(v)))
    raise_code(rt, KILN_ERR_FLOAT_OUT_OF_RANGE, loc);
  if (UNLIKELY(f == 0.0f && v != 0.0))
    raise_code(rt, KILN_ERR_FLOAT_UNDERFLOW, loc);
  return (double)f;
}

/* Digits read as a real; 0 if beyond float's range (either way). */
static int real_of_text(const char *text, double *out) {
  float f = strtof(text, NULL);
  double d = strtod(text, NULL);
  if ((isinf(f) && !isinf(d)) || (f == 0.0f && d != 0.0))
    return 0;
  *out = (double)f;
  return 1;
}

double kiln_numeric_to_real(kiln_runtime *rt, i128 v, int32_t scale, int32_t loc) {
  kiln_str text;
  kiln_text_from_numeric(rt, v, scale, &text);
  char buf[64];
  int64_t n = text.len < (int64_t)sizeof buf - 1 ? text.len : (int64_t)sizeof buf - 1;
  memcpy(buf, text.ptr, (size_t)n);
  buf[n] = '\0';
  double out;
  if (UNLIKELY(!real_of_text(buf, &out)))
    raise_code(rt, KILN_ERR_REAL_OUT_OF_RANGE, loc);
  return out;
}

i128 kiln_real_to_numeric(kiln_runtime *rt, double v, int32_t scale, int32_t precision,
                          int32_t loc) {
  if (UNLIKELY(!isfinite(v)))
    overflow(rt, loc);
  char buf[32];
  int len = snprintf(buf, sizeof buf, "%.6g", v);
  i128 out;
  if (parse_decimal(buf, len, scale, clamp_precision(precision), &out) != 0)
    overflow(rt, loc);
  return out;
}

void kiln_text_from_numeric(kiln_runtime *rt, i128 v, int32_t scale, kiln_str *out) {
  char buf[40], *end = buf + sizeof buf;
  char *d = u128_digits(uabs(v), end);
  int64_t nd = end - d, neg = v < 0;
  if (scale <= 0) { /* a negative scale stores the value divided by 10^-scale */
    int64_t zeros = v != 0 ? -(int64_t)scale : 0, len = neg + nd + zeros;
    char *p = scratch(rt, len), *q = p;
    if (neg)
      *q++ = '-';
    memcpy(q, d, (size_t)nd);
    memset(q + nd, '0', (size_t)zeros);
    out->ptr = p;
    out->len = len;
    return;
  }
  int64_t int_digits = nd > scale ? nd - scale : 1, len = neg + int_digits + 1 + scale;
  char *p = scratch(rt, len), *q = p;
  if (neg)
    *q++ = '-';
  if (nd > scale) {
    memcpy(q, d, (size_t)int_digits);
    q += int_digits;
    *q++ = '.';
    memcpy(q, d + int_digits, (size_t)scale);
  } else { /* 0.0042 */
    *q++ = '0';
    *q++ = '.';
    memset(q, '0', (size_t)(scale - nd));
    memcpy(q + scale - nd, d, (size_t)nd);
  }
  out->ptr = p;
  out->len = len;
}

void kiln_text_from_bool(kiln_runtime *rt, int32_t v, kiln_str *out) {
  (void)rt;
  set_static(v ? "true" : "false", out);
}

/* ---- dates (days since 2000-01-01, proleptic Gregorian; Howard Hinnant's algorithms) ---- */

#define MICROS_PER_DAY KILN_MICROS_PER_DAY

static int64_t days_from_civil(int64_t y, int m, int d) { return kiln_days_from_civil(y, m, d); }

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  kiln_civil c = kiln_civil_from_days(z);
  *y = c.year;
  *m = c.month;
  *d = c.day;
}

static int days_in_month(int64_t y, int m) { return kiln_days_in_month(y, m); }

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return q - ((a % b != 0) & ((a < 0) != (b < 0)));
}

/* Writes "n" zero-padded to `width` digits at p; returns the end. */
static char *put_num(char *p, int64_t n, int width) {
  char tmp[24], *end = tmp + sizeof tmp, *d = u128_digits((u128)n, end);
  for (int64_t pad = width - (end - d); pad > 0; --pad)
    *p++ = '0';
  memcpy(p, d, (size_t)(end - d));
  return p + (end - d);
}

/* YYYY-MM-DD of a day; years <= 0 print as 1 - year with *bc set, like PostgreSQL. */
static char *put_ymd(char *p, int64_t days, int *bc) {
  int64_t y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  *bc = y <= 0;
  p = put_num(p, *bc ? 1 - y : y, 4);
  *p++ = '-';
  p = put_num(p, m, 2);
  *p++ = '-';
  return put_num(p, d, 2);
}

void kiln_text_from_date(kiln_runtime *rt, int32_t days, kiln_str *out) {
  char buf[32], *p;
  int bc;
  p = put_ymd(buf, days, &bc);
  if (bc) {
    memcpy(p, " BC", 3);
    p += 3;
  }
  set_copy(rt, buf, p - buf, out);
}

/* With `zoned`, the UTC offset `offset` after the time ("+01", before BC), as PostgreSQL prints
 * a timestamptz; `micros` is then already on the zone's clock. */
static void text_from_timestamp(kiln_runtime *rt, int64_t micros, int zoned, int32_t offset,
                                kiln_str *out) {
  /* floor division: an instant before the epoch still has a positive time of day */
  int64_t days = floor_div(micros, MICROS_PER_DAY), t = micros - days * MICROS_PER_DAY;
  int64_t secs = t / 1000000, frac = t % 1000000;
  char buf[48], *p;
  int bc;
  p = put_ymd(buf, days, &bc);
  *p++ = ' ';
  p = put_num(p, secs / 3600, 2);
  *p++ = ':';
  p = put_num(p, secs / 60 % 60, 2);
  *p++ = ':';
  p = put_num(p, secs % 60, 2);
  if (frac != 0) { /* .5, .000001: trailing zeros trimmed */
    int width = 6;
    while (frac % 10 == 0)
      frac /= 10, --width;
    *p++ = '.';
    p = put_num(p, frac, width);
  }
  if (zoned)
    p += kiln_format_zone_offset(p, offset);
  if (bc) {
    memcpy(p, " BC", 3);
    p += 3;
  }
  set_copy(rt, buf, p - buf, out);
}
void kiln_text_from_timestamp(kiln_runtime *rt, int64_t micros, kiln_str *out) {
  text_from_timestamp(rt, micros, 0, 0, out);
}
void kiln_text_from_timestamptz(kiln_runtime *rt, int64_t micros, kiln_zone *zone, kiln_str *out) {
  int32_t offset = zone ? kiln_zone_offset(zone, micros) : 0;
  text_from_timestamp(rt, micros + (int64_t)offset * 1000000, 1, offset, out);
}

/* ---- text input ---- */

int64_t kiln_text_to_int(kiln_runtime *rt, const char *s, int64_t n, int64_t lo, int64_t hi,
                         int32_t code, int32_t loc) {
  /* Like PostgreSQL's pg_strtoint: overflow is reported as soon as the digits pass the limit,
   * before any trailing garbage is looked at. */
  int64_t i = 0;
  while (i < n && is_space(s[i]))
    ++i;
  int neg = 0;
  if (i < n && (s[i] == '+' || s[i] == '-'))
    neg = s[i++] == '-';
  if (i >= n || !is_digit(s[i]))
    raise_code(rt, KILN_ERR_INVALID_TEXT_CAST, loc);
  uint64_t bound = neg ? (lo < 0 ? -(uint64_t)lo : 0) : (hi > 0 ? (uint64_t)hi : 0), m = 0;
  for (; i < n && is_digit(s[i]); ++i) {
    uint64_t digit = (uint64_t)(s[i] - '0');
    if (digit > bound || m > (bound - digit) / 10)
      raise_code(rt, code, loc);
    m = m * 10 + digit;
  }
  while (i < n && is_space(s[i]))
    ++i;
  if (i != n)
    raise_code(rt, KILN_ERR_INVALID_TEXT_CAST, loc);
  int64_t v = neg ? (int64_t)(0 - m) : (int64_t)m;
  if (v < lo || v > hi)
    raise_code(rt, code, loc); /* bounds of the same sign, e.g. lo > 0 */
  return v;
}

static int starts_with_ci(const char *s, int64_t n, const char *word) {
  int64_t len = (int64_t)strlen(word);
  if (n < len)
    return 0;
  for (int64_t i = 0; i < len; ++i)
    if (fold(s[i]) != word[i])
      return 0;
  return 1;
}

/* PostgreSQL's float8in: strtod plus its own spellings of NaN and infinity, whitespace on both
 * sides, and an error for results that overflow to infinity or underflow to zero. */
double kiln_text_to_f64(kiln_runtime *rt, const char *s, int64_t n, int32_t loc) {
  char small[64], *buf = n < (int64_t)sizeof small ? small : scratch(rt, n + 1);
  memcpy(buf, s, (size_t)n);
  buf[n] = '\0';
  char *p = buf, *end;
  while (*p && is_space(*p))
    ++p;
  errno = 0;
  double v = strtod(p, &end);
  if (end == p || errno != 0) {
    int64_t rest = n - (p - buf);
    static const struct {
      const char *word;
      double value;
    } special[] = {{"nan", NAN},
                   {"infinity", INFINITY},
                   {"+infinity", INFINITY},
                   {"-infinity", -INFINITY},
                   {"inf", INFINITY},
                   {"+inf", INFINITY},
                   {"-inf", -INFINITY}};
    int found = 0;
    for (size_t k = 0; k < sizeof special / sizeof special[0] && !found; ++k)
      if (starts_with_ci(p, rest, special[k].word)) {
        v = special[k].value;
        end = p + strlen(special[k].word);
        found = 1;
      }
    if (!found) {
      if (errno == ERANGE && (v == 0.0 || isinf(v)))
        raise_code(rt, KILN_ERR_FLOAT_OUT_OF_RANGE, loc);
      if (errno != ERANGE || end == p)
        raise_code(rt, KILN_ERR_INVALID_TEXT_CAST, loc);
    }
  }
  while (end < buf + n && is_space(*end))
    ++end;
  if (end != buf + n)
    raise_code(rt, KILN_ERR_INVALID_TEXT_CAST, loc);
  return v;
}

double kiln_text_to_real(kiln_runtime *rt, const char *s, int64_t n, int32_t loc) {
  double d = kiln_text_to_f64(rt, s, n, loc); /* the syntax, NaN and infinities */
  if (!isfinite(d))
    return d;
  /* The digits rounded once to a float, not through the double. */
  char small[64], *buf = n < (int64_t)sizeof small ? small : scratch(rt, n + 1);
  memcpy(buf, s, (size_t)n);
  buf[n] = '\0';
  double out;
  if (UNLIKELY(!real_of_text(buf, &out)))
    raise_code(rt, KILN_ERR_REAL_OUT_OF_RANGE, loc);
  return out;
}

i128 kiln_text_to_numeric(kiln_runtime *rt, const char *p, int64_t n, int32_t scale,
                          int32_t precision, int32_t loc) {
  i128 out;
  int rc = parse_decimal(p, n, scale, clamp_precision(precision), &out);
  if (UNLIKELY(rc != 0))
    raise_code(rt, rc, loc);
  return out;
}

/* PostgreSQL's parse_bool: any unique prefix of true/false/yes/no, on/off, 1/0, any case. */
int32_t kiln_text_to_bool(kiln_runtime *rt, const char *s, int64_t n, int32_t loc) {
  while (n > 0 && is_space(*s))
    ++s, --n;
  while (n > 0 && is_space(s[n - 1]))
    --n;
  static const struct {
    const char *word;
    int min_len, value;
  } words[] = {{"true", 1, 1}, {"false", 1, 0}, {"yes", 1, 1}, {"no", 1, 0},
               {"on", 2, 1},   {"off", 2, 0},   {"1", 1, 1},   {"0", 1, 0}};
  for (size_t k = 0; k < sizeof words / sizeof words[0]; ++k) {
    int64_t len = (int64_t)strlen(words[k].word);
    if (n < words[k].min_len || n > len)
      continue;
    int64_t i = 0;
    while (i < n && fold(s[i]) == words[k].word[i])
      ++i;
    if (i == n)
      return words[k].value;
  }
  raise_code(rt, KILN_ERR_INVALID_TEXT_CAST, loc);
}

/* kiln_parse_datetime (civil.h), its failures as the errors a cast from text raises. */
static int parse_datetime(const char *s, int64_t n, int64_t end_year, int64_t *days_out,
                          int64_t *time_out) {
  int rc = kiln_parse_datetime(s, n, end_year, days_out, time_out);
  return rc == 0                      ? 0
         : rc == KILN_DATETIME_SYNTAX ? KILN_ERR_INVALID_TEXT_CAST
                                      : KILN_ERR_DATE_OUT_OF_RANGE;
}

/* PostgreSQL's date_in also takes a time of day, and ignores it. */
int32_t kiln_text_to_date(kiln_runtime *rt, const char *p, int64_t n, int32_t loc) {
  int64_t days, time;
  int rc = parse_datetime(p, n, KILN_DATE_END_YEAR, &days, &time);
  if (UNLIKELY(rc != 0))
    raise_code(rt, rc, loc);
  return (int32_t)days;
}

int64_t kiln_text_to_timestamp(kiln_runtime *rt, const char *p, int64_t n, int32_t loc) {
  int64_t days, time;
  int rc = parse_datetime(p, n, KILN_TIMESTAMP_END_YEAR, &days, &time);
  if (UNLIKELY(rc != 0))
    raise_code(rt, rc, loc);
  return days * MICROS_PER_DAY + time;
}

int64_t kiln_text_to_timestamptz(kiln_runtime *rt, const char *p, int64_t n, kiln_zone *zone,
                                 int32_t loc) {
  int64_t offset, len = kiln_split_zone(p, n, &offset);
  if (UNLIKELY(len < 0))
    raise_code(rt, KILN_ERR_INVALID_TEXT_CAST, loc);
  int64_t local = kiln_text_to_timestamp(rt, p, len, loc);
  if (len == n) /* no zone written: the session's */
    return kiln_instant_of_local(zone, local);
  return local - offset * 1000000;
}

/* ======================================================================================== */
/* Text functions                                                                           */
/* ======================================================================================== */

/* Index just past the UTF-8 character starting at i (continuation bytes are 10xxxxxx). */
static inline int64_t next_char(const char *s, int64_t n, int64_t i) {
  ++i;
  while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
    ++i;
  return i;
}

/* Greedy matching that backtracks only to the most recent %: a later % can absorb anything an
 * earlier one could, so this is complete, and it runs in O(n * m) at worst. `_` and the
 * backtracking step move by whole UTF-8 characters; literals compare bytes. */
int32_t kiln_like(kiln_runtime *rt, const char *s, int64_t n, const char *pat, int64_t pn,
                  int32_t ci, int32_t loc) {
  int64_t si = 0, pi = 0, star_p = -1, star_s = 0;
  while (si < n) {
    if (pi < pn) {
      char c = pat[pi];
      if (c == '%') {
        star_p = ++pi;
        star_s = si;
        continue;
      }
      if (c == '_') {
        si = next_char(s, n, si);
        ++pi;
        continue;
      }
      int64_t len = 1;
      if (c == '\\') {
        if (UNLIKELY(pi + 1 >= pn))
          raise_code(rt, KILN_ERR_LIKE_TRAILING_ESCAPE, loc);
        c = pat[pi + 1];
        len = 2;
      }
      if (s[si] == c || (ci && fold(s[si]) == fold(c))) {
        ++si;
        pi += len;
        continue;
      }
    }
    if (star_p < 0)
      return 0;
    pi = star_p;
    si = star_s = next_char(s, n, star_s);
  }
  while (pi < pn && pat[pi] == '%')
    ++pi;
  return pi == pn;
}

void kiln_concat(kiln_runtime *rt, const char *a, int64_t la, const char *b, int64_t lb,
                 kiln_str *out) {
  if (lb == 0 || la == 0) { /* the non-empty side itself */
    out->ptr = la ? a : b;
    out->len = la + lb;
    return;
  }
  char *p = scratch(rt, la + lb);
  memcpy(p, a, (size_t)la);
  memcpy(p + la, b, (size_t)lb);
  out->ptr = p;
  out->len = la + lb;
}

static void map_ascii(kiln_runtime *rt, const char *s, int64_t n, char lo, int delta,
                      kiln_str *out) {
  char *p = scratch(rt, n);
  for (int64_t i = 0; i < n; ++i)
    p[i] = s[i] >= lo && s[i] <= lo + 25 ? (char)(s[i] + delta) : s[i];
  out->ptr = p;
  out->len = n;
}
void kiln_lower(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out) {
  map_ascii(rt, p, n, 'A', 'a' - 'A', out);
}
void kiln_upper(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out) {
  map_ascii(rt, p, n, 'a', 'A' - 'a', out);
}

/* Trims return a slice of the input: no copy. */
static void trim(const char *p, int64_t n, int left, int right, kiln_str *out) {
  int64_t b = 0, e = n;
  if (left)
    while (b < e && p[b] == ' ')
      ++b;
  if (right)
    while (e > b && p[e - 1] == ' ')
      --e;
  out->ptr = p + b;
  out->len = e - b;
}
void kiln_btrim(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out) {
  (void)rt;
  trim(p, n, 1, 1, out);
}
void kiln_ltrim(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out) {
  (void)rt;
  trim(p, n, 1, 0, out);
}
void kiln_rtrim(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out) {
  (void)rt;
  trim(p, n, 0, 1, out);
}

int32_t kiln_length(const char *p, int64_t n) {
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i)
    count += ((unsigned char)p[i] & 0xC0) != 0x80;
  return (int32_t)count;
}

static int64_t find(const char *p, int64_t n, int64_t from, const char *w, int64_t wn) {
  for (int64_t i = from; i + wn <= n; ++i)
    if (p[i] == w[0] && memcmp(p + i, w, (size_t)wn) == 0)
      return i;
  return -1;
}

/* Every non-overlapping occurrence, left to right; an empty `from` changes nothing. */
void kiln_replace(kiln_runtime *rt, const char *p, int64_t n, const char *from, int64_t fn,
                  const char *to, int64_t tn, kiln_str *out) {
  int64_t count = 0;
  if (fn > 0)
    for (int64_t i = find(p, n, 0, from, fn); i >= 0; i = find(p, n, i + fn, from, fn))
      ++count;
  if (count == 0) {
    out->ptr = p;
    out->len = n;
    return;
  }
  int64_t len = n + count * (tn - fn), pos = 0;
  char *q = scratch(rt, len), *w = q;
  for (int64_t i = find(p, n, 0, from, fn); i >= 0; pos = i + fn, i = find(p, n, pos, from, fn)) {
    memcpy(w, p + pos, (size_t)(i - pos));
    w += i - pos;
    memcpy(w, to, (size_t)tn);
    w += tn;
  }
  memcpy(w, p + pos, (size_t)(n - pos));
  out->ptr = q;
  out->len = len;
}

/* Byte index after skipping k characters from byte index i. */
static int64_t skip_chars(const char *p, int64_t n, int64_t i, int64_t k) {
  for (; k > 0 && i < n; --k)
    i = next_char(p, n, i);
  return i;
}

/* PostgreSQL's text_substring: characters [start, start + count) intersected with [1, len];
 * e.g. substr('abc', 0, 2) = 'a'. Returns a slice of the input. */
/* ---- Characters: initcap, reverse, left, right, repeat, strpos, split_part, lpad, rpad ---- */

static int64_t count_chars(const char *p, int64_t n) {
  int64_t chars = 0;
  for (int64_t i = 0; i < n; i = next_char(p, n, i))
    ++chars;
  return chars;
}

static int is_ascii_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

void kiln_initcap(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out) {
  char *q = scratch(rt, n);
  int in_word = 0;
  for (int64_t i = 0; i < n; ++i) {
    unsigned char c = (unsigned char)p[i];
    if (c >= 0x80) { /* other letters: kept as they are, and part of a word */
      q[i] = (char)c;
      in_word = (c & 0xC0) == 0x80 ? in_word : 1;
      continue;
    }
    if (in_word && c >= 'A' && c <= 'Z')
      c = (unsigned char)(c + ('a' - 'A'));
    else if (!in_word && c >= 'a' && c <= 'z')
      c = (unsigned char)(c - ('a' - 'A'));
    q[i] = (char)c;
    in_word = is_ascii_alnum(c);
  }
  out->ptr = q;
  out->len = n;
}

void kiln_reverse(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out) {
  char *q = scratch(rt, n);
  for (int64_t i = 0; i < n;) {
    int64_t j = next_char(p, n, i);
    memcpy(q + (n - j), p + i, (size_t)(j - i)); /* each character keeps its bytes in order */
    i = j;
  }
  out->ptr = q;
  out->len = n;
}

void kiln_md5(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(p, (size_t)n, digest, &size, EVP_md5(), NULL);
  static const char hex[] = "0123456789abcdef";
  char *q = scratch(rt, 2 * (int64_t)size);
  for (unsigned int i = 0; i < size; ++i) {
    q[2 * i] = hex[digest[i] >> 4];
    q[2 * i + 1] = hex[digest[i] & 15];
  }
  out->ptr = q;
  out->len = 2 * (int64_t)size;
}

void kiln_left(kiln_runtime *rt, const char *p, int64_t n, int64_t k, int32_t loc, kiln_str *out) {
  (void)rt;
  (void)loc;
  int64_t chars = k >= 0 ? k : count_chars(p, n) + k;
  out->ptr = p;
  out->len = chars <= 0 ? 0 : skip_chars(p, n, 0, chars);
}

void kiln_right(kiln_runtime *rt, const char *p, int64_t n, int64_t k, int32_t loc, kiln_str *out) {
  (void)rt;
  (void)loc;
  int64_t total = count_chars(p, n);
  int64_t skip = k >= 0 ? total - k : -k;
  if (skip < 0)
    skip = 0;
  int64_t b = skip >= total ? n : skip_chars(p, n, 0, skip);
  out->ptr = p + b;
  out->len = n - b;
}

#define KILN_MAX_TEXT_BYTES ((int64_t)0x3FFFFFFF) /* PostgreSQL's 1 GB limit of a value */

void kiln_repeat(kiln_runtime *rt, const char *p, int64_t n, int64_t k, int32_t loc,
                 kiln_str *out) {
  if (k <= 0 || n == 0) {
    out->ptr = p;
    out->len = 0;
    return;
  }
  int64_t len;
  if (__builtin_mul_overflow(n, k, &len) || len > KILN_MAX_TEXT_BYTES)
    raise_code(rt, KILN_ERR_LENGTH_TOO_LARGE, loc);
  char *q = scratch(rt, len);
  for (int64_t i = 0; i < k; ++i)
    memcpy(q + i * n, p, (size_t)n);
  out->ptr = q;
  out->len = len;
}

int32_t kiln_strpos(const char *p, int64_t n, const char *sub, int64_t sn) {
  if (sn == 0)
    return 1;
  int64_t at = find(p, n, 0, sub, sn);
  if (at < 0)
    return 0;
  return (int32_t)(count_chars(p, at) + 1);
}

void kiln_split_part(kiln_runtime *rt, const char *p, int64_t n, const char *delim, int64_t dn,
                     int64_t field, int32_t loc, kiln_str *out) {
  if (field == 0)
    raise_code(rt, KILN_ERR_FIELD_POSITION_ZERO, loc);
  out->ptr = p;
  out->len = 0;
  if (dn == 0) { /* the whole string is the only field */
    if (field == 1 || field == -1)
      out->len = n;
    return;
  }
  if (field < 0) { /* count the fields, then take it from the front */
    int64_t fields = 1;
    for (int64_t i = find(p, n, 0, delim, dn); i >= 0; i = find(p, n, i + dn, delim, dn))
      ++fields;
    if (-field > fields)
      return;
    field = fields + field + 1;
  }
  int64_t start = 0;
  for (int64_t f = 1; f < field; ++f) {
    int64_t at = find(p, n, start, delim, dn);
    if (at < 0)
      return;
    start = at + dn;
  }
  int64_t end = find(p, n, start, delim, dn);
  out->ptr = p + start;
  out->len = (end < 0 ? n : end) - start;
}

static void pad(kiln_runtime *rt, const char *p, int64_t n, int64_t len, const char *fill,
                int64_t fn, int32_t loc, int left, kiln_str *out) {
  if (len <= 0) {
    out->ptr = p;
    out->len = 0;
    return;
  }
  int64_t chars = count_chars(p, n);
  if (chars >= len || fn == 0) { /* truncated on the right, both ways */
    out->ptr = p;
    out->len = chars >= len ? skip_chars(p, n, 0, len) : n;
    return;
  }
  /* The padding: fill's characters over and over, up to len - chars characters. */
  int64_t missing = len - chars, fill_chars = count_chars(fill, fn);
  int64_t whole = missing / fill_chars, rest = missing % fill_chars;
  int64_t rest_bytes = skip_chars(fill, fn, 0, rest);
  int64_t pad_bytes;
  if (__builtin_mul_overflow(whole, fn, &pad_bytes) ||
      pad_bytes + rest_bytes + n > KILN_MAX_TEXT_BYTES)
    raise_code(rt, KILN_ERR_LENGTH_TOO_LARGE, loc);
  pad_bytes += rest_bytes;
  char *q = scratch(rt, pad_bytes + n);
  char *w = q + (left ? 0 : n);
  for (int64_t i = 0; i < whole; ++i, w += fn)
    memcpy(w, fill, (size_t)fn);
  memcpy(w, fill, (size_t)rest_bytes);
  memcpy(left ? q + pad_bytes : q, p, (size_t)n);
  out->ptr = q;
  out->len = pad_bytes + n;
}

void kiln_lpad(kiln_runtime *rt, const char *p, int64_t n, int64_t len, const char *fill,
               int64_t fn, int32_t loc, kiln_str *out) {
  pad(rt, p, n, len, fill, fn, loc, 1, out);
}
void kiln_rpad(kiln_runtime *rt, const char *p, int64_t n, int64_t len, const char *fill,
               int64_t fn, int32_t loc, kiln_str *out) {
  pad(rt, p, n, len, fill, fn, loc, 0, out);
}

void kiln_substr(kiln_runtime *rt, const char *p, int64_t n, int64_t start, int64_t count,
                 int32_t has_count, int32_t loc, kiln_str *out) {
  int64_t first = start < 1 ? 1 : start, end = INT64_MAX; /* 1-based, end exclusive */
  if (has_count) {
    if (UNLIKELY(count < 0))
      raise_code(rt, KILN_ERR_NEGATIVE_SUBSTRING_LENGTH, loc);
    if (__builtin_add_overflow(start, count, &end))
      end = INT64_MAX;
  }
  int64_t b = skip_chars(p, n, 0, first - 1);
  int64_t e = end == INT64_MAX ? n : end <= first ? b : skip_chars(p, n, b, end - first);
  out->ptr = p + b;
  out->len = e - b;
}

/* ======================================================================================== */
/* Dates and times                                                                          */
/* ======================================================================================== */

/* A field of a timestamp (`micros` since 2000-01-01) in millionths: extract scales it to its
 * NUMERIC result, date_part to a double. */
static int64_t date_field_micros(int32_t field, int64_t micros) {
  int64_t days = floor_div(micros, MICROS_PER_DAY), time = micros - days * MICROS_PER_DAY;
  int64_t y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  /* PostgreSQL's years: year 0 of the proleptic calendar is 1 BC, shown as -1. */
  int64_t year = y > 0 ? y : y - 1;
  const int64_t million = 1000000;
  /* 2000-01-01 (day 0) was a Saturday. */
  int64_t dow = (days + 6) - floor_div(days + 6, 7) * 7; /* 0 Sunday */
  switch (field) {
  case KILN_FIELD_MICROSECONDS:
    return (time % (60 * million)) * million;
  case KILN_FIELD_MILLISECONDS:
    return (time % (60 * million)) * 1000;
  case KILN_FIELD_SECOND:
    return time % (60 * million);
  case KILN_FIELD_MINUTE:
    return time / (60 * million) % 60 * million;
  case KILN_FIELD_HOUR:
    return time / (3600 * million) * million;
  case KILN_FIELD_DAY:
    return d * million;
  case KILN_FIELD_MONTH:
    return m * million;
  case KILN_FIELD_QUARTER:
    return ((m - 1) / 3 + 1) * million;
  case KILN_FIELD_YEAR:
    return year * million;
  case KILN_FIELD_DECADE:
    return (year >= 0 ? year / 10 : -((8 - (year - 1)) / 10)) * million;
  case KILN_FIELD_CENTURY:
    return (year > 0 ? (year + 99) / 100 : -((99 - (year - 1)) / 100)) * million;
  case KILN_FIELD_MILLENNIUM:
    return (year > 0 ? (year + 999) / 1000 : -((999 - (year - 1)) / 1000)) * million;
  case KILN_FIELD_WEEK:
  case KILN_FIELD_ISOYEAR: {
    /* The ISO year holds the week of its first Thursday: the Thursday of this day's week. */
    int64_t isodow = dow == 0 ? 7 : dow;
    int64_t thursday = days - isodow + 4;
    int64_t ty;
    int tm, td;
    civil_from_days(thursday, &ty, &tm, &td);
    if (field == KILN_FIELD_ISOYEAR)
      return (ty > 0 ? ty : ty - 1) * million;
    return ((thursday - days_from_civil(ty, 1, 1)) / 7 + 1) * million;
  }
  case KILN_FIELD_DOW:
    return dow * million;
  case KILN_FIELD_ISODOW:
    return (dow == 0 ? 7 : dow) * million;
  case KILN_FIELD_DOY:
    return (days - days_from_civil(y, 1, 1) + 1) * million;
  case KILN_FIELD_EPOCH:
    return micros + (int64_t)KILN_UNIX_TO_PG_DAYS * MICROS_PER_DAY;
  }
  return 0;
}

int64_t kiln_extract(int32_t field, int64_t micros, int32_t scale) {
  int64_t value = date_field_micros(field, micros);
  for (int32_t i = scale; i < 6; ++i)
    value /= 10; /* exact: fields other than seconds and epoch are whole */
  return value;
}

int64_t kiln_extract_date(int32_t field, int32_t days) {
  if (field == KILN_FIELD_EPOCH)
    return ((int64_t)days + KILN_UNIX_TO_PG_DAYS) * 86400;
  return date_field_micros(field, (int64_t)days * MICROS_PER_DAY) / 1000000;
}

/* ======================================================================================== */
/* double precision functions: PostgreSQL's float.c checks                                   */
/* ======================================================================================== */

/* A finite argument with an infinite result overflowed; a nonzero one with a zero result
 * (where zero is not the true answer) underflowed. */
static double checked(kiln_runtime *rt, double result, int inf_ok, int zero_ok, int32_t loc) {
  if (UNLIKELY(isinf(result) && !inf_ok))
    raise_code(rt, KILN_ERR_FLOAT_OUT_OF_RANGE, loc);
  if (UNLIKELY(result == 0.0 && !zero_ok))
    raise_code(rt, KILN_ERR_FLOAT_UNDERFLOW, loc);
  return result;
}

double kiln_f64_sqrt(kiln_runtime *rt, double x, int32_t loc) {
  if (UNLIKELY(x < 0))
    raise_code(rt, KILN_ERR_SQRT_NEGATIVE, loc);
  return sqrt(x);
}

double kiln_f64_cbrt(double x) { return cbrt(x); }

double kiln_f64_exp(kiln_runtime *rt, double x, int32_t loc) {
  if (isnan(x))
    return x;
  if (isinf(x))
    return x > 0 ? x : 0.0;
  return checked(rt, exp(x), 0, 0, loc);
}

static double logarithm(kiln_runtime *rt, double x, double (*log_fn)(double), int32_t loc) {
  if (UNLIKELY(x == 0.0))
    raise_code(rt, KILN_ERR_LOG_ZERO, loc);
  if (UNLIKELY(x < 0))
    raise_code(rt, KILN_ERR_LOG_NEGATIVE, loc);
  return log_fn(x);
}
double kiln_f64_ln(kiln_runtime *rt, double x, int32_t loc) { return logarithm(rt, x, log, loc); }
double kiln_f64_log10(kiln_runtime *rt, double x, int32_t loc) {
  return logarithm(rt, x, log10, loc);
}

/* PostgreSQL's dpow: NaN rules first (1^NaN and NaN^0 are 1), then the domain errors, then
 * pow() with overflow and underflow checked against what the operands allow. */
double kiln_f64_power(kiln_runtime *rt, double x, double y, int32_t loc) {
  if (isnan(x))
    return y == 0.0 ? 1.0 : x;
  if (isnan(y))
    return x == 1.0 ? 1.0 : y;
  if (UNLIKELY(x == 0.0 && y < 0.0))
    raise_code(rt, KILN_ERR_POWER_ZERO_NEGATIVE, loc);
  if (UNLIKELY(x < 0.0 && floor(y) != y && !isinf(y)))
    raise_code(rt, KILN_ERR_POWER_COMPLEX, loc);
  double r = pow(x, y);
  return checked(rt, r, isinf(x) || isinf(y), x == 0.0 || isinf(y) || isinf(x), loc);
}

double kiln_date_part(int32_t field, int64_t micros) {
  return (double)date_field_micros(field, micros) / 1e6;
}

int64_t kiln_add_interval(kiln_runtime *rt, int64_t micros, __int128 interval, int32_t loc) {
  kiln_interval v = kiln_interval_unpack(interval);
  int64_t out;
  if (UNLIKELY(!kiln_timestamp_add_interval(micros, v.months, v.days, v.micros, &out)))
    raise_code(rt, KILN_ERR_TIMESTAMP_OUT_OF_RANGE, loc);
  return out;
}

/* ======================================================================================== */
/* intervals (kiln/runtime/interval.h)                                                       */
/* ======================================================================================== */

void kiln_text_from_interval(kiln_runtime *rt, __int128 v, kiln_str *out) {
  char text[KILN_INTERVAL_TEXT_MAX];
  int n = kiln_interval_format(text, kiln_interval_unpack(v));
  char *q = scratch(rt, n);
  memcpy(q, text, (size_t)n);
  out->ptr = q;
  out->len = n;
}

__int128 kiln_text_to_interval(kiln_runtime *rt, const char *p, int64_t n, int32_t loc) {
  kiln_interval v;
  int status = kiln_interval_parse(p, (size_t)n, NULL, &v);
  if (UNLIKELY(status <= 0))
    raise_code(rt, status < 0 ? KILN_ERR_INTERVAL_OUT_OF_RANGE : KILN_ERR_INVALID_TEXT_CAST, loc);
  return kiln_interval_pack(v);
}

__int128 kiln_interval_diff(int64_t a, int64_t b) {
  return kiln_interval_pack(kiln_timestamp_diff(a, b));
}

__int128 kiln_interval_add(kiln_runtime *rt, __int128 a, __int128 b, int32_t sign, int32_t loc) {
  kiln_interval out;
  if (UNLIKELY(
          !kiln_interval_add_checked(kiln_interval_unpack(a), kiln_interval_unpack(b), sign, &out)))
    raise_code(rt, KILN_ERR_INTERVAL_OUT_OF_RANGE, loc);
  return kiln_interval_pack(out);
}

__int128 kiln_interval_mul(kiln_runtime *rt, __int128 v, double factor, int32_t loc) {
  kiln_interval out;
  if (UNLIKELY(!kiln_interval_mul_checked(kiln_interval_unpack(v), factor, &out)))
    raise_code(rt, KILN_ERR_INTERVAL_OUT_OF_RANGE, loc);
  return kiln_interval_pack(out);
}

__int128 kiln_interval_div(kiln_runtime *rt, __int128 v, double factor, int32_t loc) {
  kiln_interval out;
  if (UNLIKELY(factor == 0.0))
    raise_code(rt, KILN_ERR_DIVISION_BY_ZERO, loc);
  if (UNLIKELY(!kiln_interval_div_checked(kiln_interval_unpack(v), factor, &out)))
    raise_code(rt, KILN_ERR_INTERVAL_OUT_OF_RANGE, loc);
  return kiln_interval_pack(out);
}

__int128 kiln_interval_accumulate(kiln_runtime *rt, __int128 acc, __int128 v, int64_t weight,
                                  int32_t loc) {
  kiln_interval a = kiln_interval_unpack(acc), x = kiln_interval_unpack(v), out;
  __int128 months = (__int128)a.months + (__int128)x.months * weight;
  __int128 days = (__int128)a.days + (__int128)x.days * weight;
  __int128 micros = (__int128)a.micros + (__int128)x.micros * weight;
  if (UNLIKELY(months < INT32_MIN || months > INT32_MAX || days < INT32_MIN || days > INT32_MAX ||
               micros < INT64_MIN || micros > INT64_MAX))
    raise_code(rt, KILN_ERR_INTERVAL_OUT_OF_RANGE, loc);
  out.months = (int32_t)months;
  out.days = (int32_t)days;
  out.micros = (int64_t)micros;
  return kiln_interval_pack(out);
}

/* A timestamp's calendar fields, as PostgreSQL's timestamp2tm gives them to timestamp_age. */
typedef struct age_fields {
  int64_t year, month, day, hour, minute, second, micros;
} age_fields;
static age_fields age_fields_of(int64_t ts) {
  int64_t days = floor_div(ts, MICROS_PER_DAY), time = ts - days * MICROS_PER_DAY;
  age_fields f;
  int m, d;
  civil_from_days(days, &f.year, &m, &d);
  f.month = m;
  f.day = d;
  f.hour = time / 3600000000ll;
  f.minute = time / 60000000 % 60;
  f.second = time / 1000000 % 60;
  f.micros = time % 1000000;
  return f;
}

__int128 kiln_age(int64_t a, int64_t b) {
  age_fields x = age_fields_of(a), y = age_fields_of(b);
  int negative = a < b;
  int64_t sign = negative ? -1 : 1;
  /* Subtract field by field, on the magnitude, then borrow upwards. */
  int64_t us = sign * (x.micros - y.micros), sec = sign * (x.second - y.second),
          min = sign * (x.minute - y.minute), hour = sign * (x.hour - y.hour),
          day = sign * (x.day - y.day), mon = sign * (x.month - y.month),
          year = sign * (x.year - y.year);
  while (us < 0)
    us += 1000000, --sec;
  while (sec < 0)
    sec += 60, --min;
  while (min < 0)
    min += 60, --hour;
  while (hour < 0)
    hour += 24, --day;
  while (day < 0) { /* a month of the earlier timestamp's month length */
    day += negative ? days_in_month(x.year, (int)x.month) : days_in_month(y.year, (int)y.month);
    --mon;
  }
  while (mon < 0)
    mon += 12, --year;
  kiln_interval out;
  out.months = (int32_t)(sign * (year * 12 + mon));
  out.days = (int32_t)(sign * day);
  out.micros = sign * (((hour * 60 + min) * 60 + sec) * 1000000 + us);
  return kiln_interval_pack(out);
}

static int justify_hours_of(kiln_interval *v) {
  int64_t whole = v->micros / MICROS_PER_DAY; /* truncating, as PostgreSQL's TMODULO */
  v->micros -= whole * MICROS_PER_DAY;
  int64_t days = (int64_t)v->days + whole;
  if (days < INT32_MIN || days > INT32_MAX)
    return 0;
  v->days = (int32_t)days;
  return 1;
}
static void justify_day_sign(kiln_interval *v) {
  if (v->days > 0 && v->micros < 0) {
    v->micros += MICROS_PER_DAY;
    --v->days;
  } else if (v->days < 0 && v->micros > 0) {
    v->micros -= MICROS_PER_DAY;
    ++v->days;
  }
}

__int128 kiln_justify_hours(kiln_runtime *rt, __int128 packed, int32_t loc) {
  kiln_interval v = kiln_interval_unpack(packed);
  if (UNLIKELY(!justify_hours_of(&v)))
    raise_code(rt, KILN_ERR_INTERVAL_OUT_OF_RANGE, loc);
  justify_day_sign(&v);
  return kiln_interval_pack(v);
}

__int128 kiln_justify_days(kiln_runtime *rt, __int128 packed, int32_t loc) {
  kiln_interval v = kiln_interval_unpack(packed);
  int64_t months = (int64_t)v.months + v.days / 30;
  if (UNLIKELY(months < INT32_MIN || months > INT32_MAX))
    raise_code(rt, KILN_ERR_INTERVAL_OUT_OF_RANGE, loc);
  v.months = (int32_t)months;
  v.days %= 30;
  if (v.months > 0 && v.days < 0) {
    v.days += 30;
    --v.months;
  } else if (v.months < 0 && v.days > 0) {
    v.days -= 30;
    ++v.months;
  }
  return kiln_interval_pack(v);
}

__int128 kiln_justify_interval(kiln_runtime *rt, __int128 packed, int32_t loc) {
  kiln_interval v = kiln_interval_unpack(packed);
  if (UNLIKELY(!justify_hours_of(&v)))
    raise_code(rt, KILN_ERR_INTERVAL_OUT_OF_RANGE, loc);
  int64_t months = (int64_t)v.months + v.days / 30;
  if (UNLIKELY(months < INT32_MIN || months > INT32_MAX))
    raise_code(rt, KILN_ERR_INTERVAL_OUT_OF_RANGE, loc);
  v.months = (int32_t)months;
  v.days %= 30;
  if (v.months > 0 && (v.days < 0 || (v.days == 0 && v.micros < 0))) {
    v.days += 30;
    --v.months;
  } else if (v.months < 0 && (v.days > 0 || (v.days == 0 && v.micros > 0))) {
    v.days -= 30;
    ++v.months;
  }
  justify_day_sign(&v);
  return kiln_interval_pack(v);
}

int32_t kiln_interval_cmp(__int128 a, __int128 b) { return kiln_interval_compare(a, b); }

__int128 kiln_interval_span_of(__int128 v) { return kiln_interval_span(v); }

__int128 kiln_extract_interval(int32_t field, __int128 v, int32_t scale) {
  __int128 value = kiln_interval_field_micros(field, kiln_interval_unpack(v));
  for (int32_t i = scale; i < 6; ++i)
    value /= 10; /* exact: fields other than seconds and epoch are whole */
  return value;
}

double kiln_date_part_interval(int32_t field, __int128 v) {
  return (double)kiln_interval_field_micros(field, kiln_interval_unpack(v)) / 1e6;
}

int64_t kiln_date_trunc(int32_t unit, int64_t micros) {
  static const int64_t step[KILN_UNIT_DAY + 1] = {1,        1000,         1000000,
                                                  60000000, 3600000000ll, MICROS_PER_DAY};
  if (unit >= KILN_UNIT_MICROSECONDS && unit <= KILN_UNIT_DAY)
    return floor_div(micros, step[unit]) * step[unit];
  int64_t days = floor_div(micros, MICROS_PER_DAY);
  if (unit == KILN_UNIT_WEEK) {
    /* 2000-01-03 (day 2) was a Monday; weeks start on Monday */
    days -= (days - 2) - floor_div(days - 2, 7) * 7;
  } else {
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (unit == KILN_UNIT_QUARTER)
      m = (m - 1) / 3 * 3 + 1;
    else if (unit >= KILN_UNIT_YEAR)
      m = 1;
    days = days_from_civil(y, m, 1);
  }
  return days * MICROS_PER_DAY;
}

/* The calendar day of make_date's fields: a negative year is BC (1 BC is year 0 of the
 * calendar), year 0 and days a month lacks are errors. */
static int64_t made_day(kiln_runtime *rt, int32_t year, int32_t month, int32_t day, int32_t loc) {
  int64_t y = year < 0 ? (int64_t)year + 1 : year;
  if (UNLIKELY(year == 0 || month < 1 || month > 12 || day < 1 ||
               day > kiln_days_in_month(y, month)))
    raise_code(rt, KILN_ERR_DATE_FIELD_OUT_OF_RANGE, loc);
  return kiln_days_from_civil(y, month, day);
}

int32_t kiln_make_date(kiln_runtime *rt, int32_t year, int32_t month, int32_t day, int32_t loc) {
  int64_t days = made_day(rt, year, month, day, loc);
  if (UNLIKELY(days < KILN_MIN_DAY || days >= kiln_days_from_civil(KILN_DATE_END_YEAR, 1, 1)))
    raise_code(rt, KILN_ERR_DATE_OUT_OF_RANGE, loc);
  return (int32_t)days;
}

int64_t kiln_make_timestamp(kiln_runtime *rt, int32_t year, int32_t month, int32_t day,
                            int32_t hour, int32_t minute, double second, int32_t loc) {
  int64_t days = made_day(rt, year, month, day, loc);
  if (UNLIKELY(!(second >= 0 && second <= 60) || hour < 0 || minute < 0 || minute > 59 ||
               hour > 24 || (hour == 24 && (minute > 0 || second > 0))))
    raise_code(rt, KILN_ERR_TIME_FIELD_OUT_OF_RANGE, loc);
  int64_t micros = days * MICROS_PER_DAY + ((int64_t)hour * 60 + minute) * 60000000LL +
                   (int64_t)rint(second * 1e6);
  if (UNLIKELY(micros < KILN_MIN_TIMESTAMP || micros >= KILN_END_TIMESTAMP))
    raise_code(rt, KILN_ERR_TIMESTAMP_OUT_OF_RANGE, loc);
  return micros;
}

/* ---- to_char ---- */

/* The fields of a timestamp that to_char prints. */
typedef struct char_fields {
  int64_t year; /* of the calendar: 0 is 1 BC */
  int month, day, hour, minute, second;
  int64_t micros, days; /* fraction of the second; days since 2000-01-01 */
  int dow;              /* 0 Sunday */
  int doy;
} char_fields;

static const char *const month_names[12] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};
static const char *const day_names[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};
static const char *const roman_months[12] = {"I",   "II",   "III", "IV", "V",  "VI",
                                             "VII", "VIII", "IX",  "X",  "XI", "XII"};

/* The ISO 8601 year and week of a day (the year of its week's Thursday). */
static void iso_week(int64_t days, int dow, int64_t *iso_year, int *week) {
  int64_t isodow = dow == 0 ? 7 : dow, thursday = days - isodow + 4, ty;
  int tm, td;
  civil_from_days(thursday, &ty, &tm, &td);
  *iso_year = ty;
  *week = (int)((thursday - days_from_civil(ty, 1, 1)) / 7 + 1);
}

/* A growing output buffer in scratch memory. */
typedef struct char_out {
  kiln_runtime *rt;
  char *p;
  int64_t n, cap;
} char_out;
static void out_bytes(char_out *o, const char *s, int64_t n) {
  if (o->n + n > o->cap) {
    int64_t cap = (o->cap + n) * 2;
    char *q = scratch(o->rt, cap);
    if (o->n > 0)
      memcpy(q, o->p, (size_t)o->n);
    o->p = q;
    o->cap = cap;
  }
  memcpy(o->p + o->n, s, (size_t)n);
  o->n += n;
}
static void out_text(char_out *o, const char *s) { out_bytes(o, s, (int64_t)strlen(s)); }
/* A number at least `width` digits wide (unless fill mode), with its sign. */
static void out_number(char_out *o, int64_t v, int width, int fill) {
  char buf[32], *p = buf;
  if (v < 0) {
    *p++ = '-';
    v = -v;
  }
  p = put_num(p, v, fill ? 1 : width);
  out_bytes(o, buf, p - buf);
}
/* A name in the case the pattern was written in (UPPER, Title, lower), blank-padded to `pad`
 * characters unless fill mode. */
static void out_name(char_out *o, const char *name, int letters, int upper, int lower, int pad) {
  char buf[16];
  int n = 0;
  for (const char *s = name; *s && n < letters; ++s, ++n) {
    char c = *s;
    if (upper && c >= 'a' && c <= 'z')
      c = (char)(c - 'a' + 'A');
    else if (lower && c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    buf[n] = c;
  }
  while (n < pad)
    buf[n++] = ' ';
  out_bytes(o, buf, n);
}
/* PostgreSQL's ordinal suffix (TH, th) of a number. */
static void out_ordinal(char_out *o, int64_t v, int upper) {
  int64_t last = (v < 0 ? -v : v) % 100;
  const char *suffix = last >= 11 && last <= 13 ? "th"
                       : last % 10 == 1         ? "st"
                       : last % 10 == 2         ? "nd"
                       : last % 10 == 3         ? "rd"
                                                : "th";
  char buf[2] = {suffix[0], suffix[1]};
  if (upper)
    buf[0] = (char)(buf[0] - 'a' + 'A'), buf[1] = (char)(buf[1] - 'a' + 'A');
  out_bytes(o, buf, 2);
}

/* The template patterns, longest first where one is a prefix of another, in both cases where
 * PostgreSQL takes both (the names' case sets the output's). */
enum char_pattern {
  P_AD_DOTS,
  P_AM_DOTS,
  P_AD,
  P_AM,
  P_BC_DOTS,
  P_BC,
  P_CC,
  P_DAY,
  P_DDD,
  P_DD,
  P_DY,
  P_D,
  P_FF1,
  P_FF2,
  P_FF3,
  P_FF4,
  P_FF5,
  P_FF6,
  P_HH24,
  P_HH12,
  P_HH,
  P_IDDD,
  P_ID,
  P_IW,
  P_IYYY,
  P_IYY,
  P_IY,
  P_I,
  P_J,
  P_MI,
  P_MM,
  P_MONTH,
  P_MON,
  P_MS,
  P_OF,
  P_PM_DOTS,
  P_PM,
  P_Q,
  P_RM,
  P_SSSSS,
  P_SSSS,
  P_SS,
  P_TZH,
  P_TZM,
  P_TZ,
  P_US,
  P_WW,
  P_W,
  P_Y_YYY,
  P_YYYY,
  P_YYY,
  P_YY,
  P_Y
};
typedef struct char_keyword {
  const char *text;
  int pattern;
} char_keyword;
static const char_keyword char_keywords[] = {
    {"A.D.", P_AD_DOTS}, {"A.M.", P_AM_DOTS}, {"AD", P_AD},        {"AM", P_AM},
    {"B.C.", P_BC_DOTS}, {"BC", P_BC},        {"CC", P_CC},        {"DAY", P_DAY},
    {"DDD", P_DDD},      {"DD", P_DD},        {"DY", P_DY},        {"Day", P_DAY},
    {"Dy", P_DY},        {"D", P_D},          {"FF1", P_FF1},      {"FF2", P_FF2},
    {"FF3", P_FF3},      {"FF4", P_FF4},      {"FF5", P_FF5},      {"FF6", P_FF6},
    {"HH24", P_HH24},    {"HH12", P_HH12},    {"HH", P_HH},        {"IDDD", P_IDDD},
    {"ID", P_ID},        {"IW", P_IW},        {"IYYY", P_IYYY},    {"IYY", P_IYY},
    {"IY", P_IY},        {"I", P_I},          {"J", P_J},          {"MI", P_MI},
    {"MM", P_MM},        {"MONTH", P_MONTH},  {"MON", P_MON},      {"MS", P_MS},
    {"Month", P_MONTH},  {"Mon", P_MON},      {"OF", P_OF},        {"P.M.", P_PM_DOTS},
    {"PM", P_PM},        {"Q", P_Q},          {"RM", P_RM},        {"SSSSS", P_SSSSS},
    {"SSSS", P_SSSS},    {"SS", P_SS},        {"TZH", P_TZH},      {"TZM", P_TZM},
    {"TZ", P_TZ},        {"US", P_US},        {"WW", P_WW},        {"W", P_W},
    {"Y,YYY", P_Y_YYY},  {"YYYY", P_YYYY},    {"YYY", P_YYY},      {"YY", P_YY},
    {"Y", P_Y},          {"a.d.", P_AD_DOTS}, {"a.m.", P_AM_DOTS}, {"ad", P_AD},
    {"am", P_AM},        {"b.c.", P_BC_DOTS}, {"bc", P_BC},        {"cc", P_CC},
    {"day", P_DAY},      {"ddd", P_DDD},      {"dd", P_DD},        {"dy", P_DY},
    {"d", P_D},          {"ff1", P_FF1},      {"ff2", P_FF2},      {"ff3", P_FF3},
    {"ff4", P_FF4},      {"ff5", P_FF5},      {"ff6", P_FF6},      {"hh24", P_HH24},
    {"hh12", P_HH12},    {"hh", P_HH},        {"iddd", P_IDDD},    {"id", P_ID},
    {"iw", P_IW},        {"iyyy", P_IYYY},    {"iyy", P_IYY},      {"iy", P_IY},
    {"i", P_I},          {"j", P_J},          {"mi", P_MI},        {"mm", P_MM},
    {"month", P_MONTH},  {"mon", P_MON},      {"ms", P_MS},        {"of", P_OF},
    {"p.m.", P_PM_DOTS}, {"pm", P_PM},        {"q", P_Q},          {"rm", P_RM},
    {"sssss", P_SSSSS},  {"ssss", P_SSSS},    {"ss", P_SS},        {"tzh", P_TZH},
    {"tzm", P_TZM},      {"tz", P_TZ},        {"us", P_US},        {"ww", P_WW},
    {"w", P_W},          {"y,yyy", P_Y_YYY},  {"yyyy", P_YYYY},    {"yyy", P_YYY},
    {"yy", P_YY},        {"y", P_Y},
};

static const char_keyword *char_keyword_at(const char *f, int64_t n) {
  for (size_t k = 0; k < sizeof char_keywords / sizeof char_keywords[0]; ++k) {
    size_t len = strlen(char_keywords[k].text);
    if ((int64_t)len <= n && memcmp(f, char_keywords[k].text, len) == 0)
      return &char_keywords[k];
  }
  return NULL;
}

void kiln_to_char(kiln_runtime *rt, int64_t micros, kiln_zone *zone, int32_t zoned, const char *fmt,
                  int64_t fn, kiln_str *out) {
  int32_t offset = zoned && zone ? kiln_zone_offset(zone, micros) : 0;
  int64_t local = micros + (int64_t)offset * 1000000;
  char_fields t;
  t.days = floor_div(local, MICROS_PER_DAY);
  int64_t time = local - t.days * MICROS_PER_DAY;
  civil_from_days(t.days, &t.year, &t.month, &t.day);
  t.hour = (int)(time / 3600000000LL);
  t.minute = (int)(time / 60000000 % 60);
  t.second = (int)(time / 1000000 % 60);
  t.micros = time % 1000000;
  t.dow = (int)((t.days + 6) - floor_div(t.days + 6, 7) * 7);
  t.doy = (int)(t.days - days_from_civil(t.year, 1, 1) + 1);
  int64_t year = t.year > 0 ? t.year : 1 - t.year; /* as printed: BC years count up */
  int bc = t.year <= 0;
  char_out o = {rt, NULL, 0, 0};
  for (int64_t i = 0; i < fn;) {
    /* Double-quoted text is copied (a backslash escapes a quote); a backslash before a quote
     * outside is the quote. */
    if (fmt[i] == '"') {
      for (++i; i < fn && fmt[i] != '"'; ++i) {
        if (fmt[i] == '\\' && i + 1 < fn)
          ++i;
        out_bytes(&o, fmt + i, 1);
      }
      ++i;
      continue;
    }
    if (fmt[i] == '\\' && i + 1 < fn && fmt[i + 1] == '"') {
      out_bytes(&o, "\"", 1);
      i += 2;
      continue;
    }
    int fill = 0;
    int64_t at = i;
    /* Prefixes: FM (fill mode: no padding), FX and TM (no effect on output here). */
    while (at + 1 < fn &&
           ((fmt[at] == 'F' && fmt[at + 1] == 'M') || (fmt[at] == 'f' && fmt[at + 1] == 'm') ||
            (fmt[at] == 'T' && fmt[at + 1] == 'M') || (fmt[at] == 't' && fmt[at + 1] == 'm') ||
            (fmt[at] == 'F' && fmt[at + 1] == 'X') || (fmt[at] == 'f' && fmt[at + 1] == 'x'))) {
      fill |= fmt[at] == 'F' || fmt[at] == 'f' ? (fmt[at + 1] == 'M' || fmt[at + 1] == 'm') : 0;
      at += 2;
    }
    const char_keyword *k = char_keyword_at(fmt + at, fn - at);
    if (k == NULL) {
      if (at > i) { /* a lone prefix: PostgreSQL drops it */
        i = at;
        continue;
      }
      out_bytes(&o, fmt + i, 1);
      ++i;
      continue;
    }
    i = at + (int64_t)strlen(k->text);
    const char *w = k->text;
    int upper = w[0] >= 'A' && w[0] <= 'Z' && (w[1] == '\0' || !(w[1] >= 'a' && w[1] <= 'z'));
    int lower = w[0] >= 'a' && w[0] <= 'z';
    int64_t number = 0;
    int numeric = 1;
    switch (k->pattern) {
    case P_AD_DOTS:
    case P_BC_DOTS:
      out_text(&o, bc ? (upper ? "B.C." : "b.c.") : (upper ? "A.D." : "a.d."));
      numeric = 0;
      break;
    case P_AD:
    case P_BC:
      out_text(&o, bc ? (upper ? "BC" : "bc") : (upper ? "AD" : "ad"));
      numeric = 0;
      break;
    case P_AM_DOTS:
    case P_PM_DOTS:
      out_text(&o, t.hour >= 12 ? (upper ? "P.M." : "p.m.") : (upper ? "A.M." : "a.m."));
      numeric = 0;
      break;
    case P_AM:
    case P_PM:
      out_text(&o, t.hour >= 12 ? (upper ? "PM" : "pm") : (upper ? "AM" : "am"));
      numeric = 0;
      break;
    case P_CC:
      number = t.year > 0 ? (t.year + 99) / 100 : -((99 - (t.year - 1)) / 100);
      out_number(&o, number, 2, fill);
      break;
    case P_DAY:
      out_name(&o, day_names[t.dow], 9, upper, lower, fill ? 0 : 9);
      numeric = 0;
      break;
    case P_DY:
      out_name(&o, day_names[t.dow], 3, upper, lower, 0);
      numeric = 0;
      break;
    case P_MONTH:
      out_name(&o, month_names[t.month - 1], 9, upper, lower, fill ? 0 : 9);
      numeric = 0;
      break;
    case P_MON:
      out_name(&o, month_names[t.month - 1], 3, upper, lower, 0);
      numeric = 0;
      break;
    case P_RM: {
      const char *r = roman_months[t.month - 1];
      char buf[8];
      size_t len = strlen(r);
      for (size_t c = 0; c < len; ++c)
        buf[c] = lower ? (char)(r[c] - 'A' + 'a') : r[c];
      out_bytes(&o, buf, (int64_t)len);
      if (!fill)
        out_bytes(&o, "    ", 4 - (int64_t)len);
      numeric = 0;
      break;
    }
    case P_DDD:
      out_number(&o, number = t.doy, 3, fill);
      break;
    case P_DD:
      out_number(&o, number = t.day, 2, fill);
      break;
    case P_D:
      out_number(&o, number = t.dow + 1, 1, fill);
      break;
    case P_ID:
      out_number(&o, number = t.dow == 0 ? 7 : t.dow, 1, fill);
      break;
    case P_FF1:
    case P_FF2:
    case P_FF3:
    case P_FF4:
    case P_FF5:
    case P_FF6: {
      int digits = k->pattern - P_FF1 + 1;
      int64_t v = t.micros;
      for (int d = digits; d < 6; ++d)
        v /= 10;
      out_number(&o, number = v, digits, 0);
      break;
    }
    case P_HH24:
      out_number(&o, number = t.hour, 2, fill);
      break;
    case P_HH12:
    case P_HH:
      out_number(&o, number = t.hour % 12 == 0 ? 12 : t.hour % 12, 2, fill);
      break;
    case P_MI:
      out_number(&o, number = t.minute, 2, fill);
      break;
    case P_SS:
      out_number(&o, number = t.second, 2, fill);
      break;
    case P_MS:
      out_number(&o, number = t.micros / 1000, 3, fill);
      break;
    case P_US:
      out_number(&o, number = t.micros, 6, fill);
      break;
    case P_SSSS:
    case P_SSSSS:
      out_number(&o, number = ((int64_t)t.hour * 60 + t.minute) * 60 + t.second, 1, fill);
      break;
    case P_MM:
      out_number(&o, number = t.month, 2, fill);
      break;
    case P_Q:
      out_number(&o, number = (t.month - 1) / 3 + 1, 1, fill);
      break;
    case P_WW:
      out_number(&o, number = (t.doy - 1) / 7 + 1, 2, fill);
      break;
    case P_W:
      out_number(&o, number = (t.day - 1) / 7 + 1, 1, fill);
      break;
    case P_J:
      out_number(&o, number = t.days + 2451545, 1, fill);
      break;
    case P_IW:
    case P_IDDD:
    case P_IYYY:
    case P_IYY:
    case P_IY:
    case P_I: {
      int64_t iso_year;
      int week;
      iso_week(t.days, t.dow, &iso_year, &week);
      if (k->pattern == P_IW) {
        out_number(&o, number = week, 2, fill);
      } else if (k->pattern == P_IDDD) {
        out_number(&o, number = (int64_t)(week - 1) * 7 + (t.dow == 0 ? 7 : t.dow), 3, fill);
      } else {
        int64_t y = iso_year > 0 ? iso_year : 1 - iso_year;
        static const int64_t mod[4] = {0, 10, 100, 1000};
        int digits = k->pattern == P_IYYY  ? 4
                     : k->pattern == P_IYY ? 3
                     : k->pattern == P_IY  ? 2
                                           : 1;
        out_number(&o, number = digits == 4 ? y : y % mod[digits], digits, fill);
      }
      break;
    }
    case P_Y_YYY: {
      char buf[40];
      int len = snprintf(buf, sizeof buf, "%lld,%03lld", (long long)(year / 1000),
                         (long long)(year % 1000));
      out_bytes(&o, buf, len);
      number = year;
      break;
    }
    case P_YYYY:
      out_number(&o, number = year, 4, fill);
      break;
    case P_YYY:
      out_number(&o, number = year % 1000, 3, fill);
      break;
    case P_YY:
      out_number(&o, number = year % 100, 2, fill);
      break;
    case P_Y:
      out_number(&o, number = year % 10, 1, fill);
      break;
    case P_TZ: {
      numeric = 0;
      if (!zoned)
        break;
      char buf[32];
      int32_t len = kiln_zone_abbreviation(zone, micros, buf, (int32_t)sizeof buf);
      for (int32_t c = 0; lower && c < len; ++c)
        if (buf[c] >= 'A' && buf[c] <= 'Z')
          buf[c] = (char)(buf[c] - 'A' + 'a');
      out_bytes(&o, buf, len);
      break;
    }
    case P_TZH: {
      char buf[8];
      buf[0] = offset < 0 ? '-' : '+';
      char *p = put_num(buf + 1, (offset < 0 ? -offset : offset) / 3600, 2);
      out_bytes(&o, buf, p - buf);
      numeric = 0;
      break;
    }
    case P_TZM:
      out_number(&o, (offset < 0 ? -offset : offset) / 60 % 60, 2, fill);
      numeric = 0;
      break;
    case P_OF: { /* +HH[:MM]: unlike a timestamptz's text, no seconds */
      int32_t a = offset < 0 ? -offset : offset;
      char buf[16], *p = buf;
      *p++ = offset < 0 ? '-' : '+';
      p = put_num(p, a / 3600, fill ? 1 : 2);
      if (a % 3600 != 0) {
        *p++ = ':';
        p = put_num(p, a % 3600 / 60, 2);
      }
      out_bytes(&o, buf, p - buf);
      numeric = 0;
      break;
    }
    }
    /* TH / th after a number: its ordinal suffix. */
    if (numeric && i + 1 < fn &&
        ((fmt[i] == 'T' && fmt[i + 1] == 'H') || (fmt[i] == 't' && fmt[i + 1] == 'h'))) {
      out_ordinal(&o, number, fmt[i] == 'T');
      i += 2;
    }
  }
  out->ptr = o.p ? o.p : "";
  out->len = o.n;
}

int64_t kiln_local_time(kiln_zone *zone, int64_t micros) {
  return zone ? micros + (int64_t)kiln_zone_offset(zone, micros) * 1000000 : micros;
}

int64_t kiln_instant_of_local(kiln_zone *zone, int64_t local) {
  int32_t offset;
  return zone ? kiln_zone_from_local(zone, local, &offset) : local;
}

int64_t kiln_date_trunc_tz(int32_t unit, int64_t micros, kiln_zone *zone) {
  int64_t shift = kiln_local_time(zone, micros) - micros;
  int64_t truncated = kiln_date_trunc(unit, micros + shift);
  return unit >= KILN_UNIT_DAY ? kiln_instant_of_local(zone, truncated) : truncated - shift;
}

int64_t kiln_add_interval_tz(kiln_runtime *rt, int64_t micros, __int128 interval, kiln_zone *zone,
                             int32_t loc) {
  int64_t out;
  if (UNLIKELY(!kiln_zone_add_interval(zone, micros, kiln_interval_unpack(interval), &out)))
    raise_code(rt, KILN_ERR_TIMESTAMP_OUT_OF_RANGE, loc);
  return out;
}

/* ---- to_char of numbers (kiln/runtime/numformat.h) ---- */

/* Lays out `number` (unsigned digits, '.', or '#'s) with `sign` along the template. */
static void num_render(kiln_runtime *rt, const kiln_numfmt_node *nodes, kiln_numfmt *num,
                       const char *number, char sign, int32_t pre_spaces, kiln_str *out) {
  char *p = scratch(rt, (int64_t)kiln_numfmt_capacity((size_t)num->nodes, strlen(number)));
  out->len = (int64_t)kiln_numfmt_render(nodes, num, number, sign, pre_spaces, p);
  out->ptr = p;
}

/* The template's digits before the point the number leaves unused; or, where the number has
 * more of them than the template, the '#'s PostgreSQL prints instead (into *number). */
static int32_t num_fit(kiln_runtime *rt, const kiln_numfmt *num, const char **number) {
  const char *point = strchr(*number, '.');
  int32_t pre_len = (int32_t)(point ? point - *number : (int64_t)strlen(*number));
  if (pre_len < num->pre)
    return num->pre - pre_len;
  if (pre_len > num->pre) {
    char *hashes = scratch(rt, num->pre + num->post + 2);
    memset(hashes, '#', (size_t)(num->pre + num->post + 1));
    hashes[num->pre] = '.';
    hashes[num->pre + num->post + 1] = 0;
    *number = hashes;
  }
  return 0;
}

/* Reads the template, `out` empty until the number is laid out: a bad template (the binder
 * rejects bad constant ones) prints nothing. */
static kiln_numfmt_node *num_template(kiln_runtime *rt, const char *fmt, int64_t fn,
                                      kiln_numfmt *num, kiln_str *out) {
  out->ptr = "";
  out->len = 0;
  kiln_numfmt_node *nodes = (kiln_numfmt_node *)scratch(rt, (fn + 1) * (int64_t)sizeof *nodes);
  return kiln_numfmt_parse(fmt, (size_t)fn, nodes, num) ? NULL : nodes;
}

/* A double in printf's `%+.*e`, its leading '+' a space (float8_to_char's EEEE). */
static void num_float_sci(kiln_runtime *rt, double v, const kiln_numfmt *num, kiln_str *out) {
  char *p = scratch(rt, num->pre + num->post + 400);
  if (isnan(v) || isinf(v)) {
    int32_t n = num->pre + num->post + 6;
    memset(p, '#', (size_t)n);
    p[0] = ' ';
    p[num->pre + 1] = '.';
    out->ptr = p;
    out->len = n;
    return;
  }
  int n = snprintf(p, (size_t)(num->pre + num->post + 400), "%+.*e", num->post, v);
  if (p[0] == '+')
    p[0] = ' ';
  out->ptr = p;
  out->len = n;
}

void kiln_to_char_numeric(kiln_runtime *rt, i128 v, int32_t scale, int32_t int4, const char *fmt,
                          int64_t fn, kiln_str *out) {
  kiln_numfmt num;
  kiln_numfmt_node *nodes = num_template(rt, fmt, fn, &num, out);
  if (!nodes)
    return;
  /* The digits of |v| with `scale` of them after the point, at least one before it. */
  char buf[48], *end = buf + sizeof buf;
  char *d = u128_digits(uabs(v), end);
  int64_t nd = end - d;
  if (num.flag & KILN_NUMF_MULTI) { /* V: times 10^multi */
    scale -= num.multi;
    num.pre += num.multi;
  }
  int64_t zeros = scale < 0 ? -(int64_t)scale : 0; /* a negative scale: zeros after the digits */
  if (zeros)
    scale = 0;
  int64_t lead = nd + zeros <= scale ? scale + 1 - (nd + zeros) : 0;
  int64_t len = lead + nd + zeros;
  char *digits = scratch(rt, len + 2);
  memset(digits, '0', (size_t)lead);
  memcpy(digits + lead, d, (size_t)nd);
  memset(digits + lead + nd, '0', (size_t)zeros);
  int64_t int_len = len - scale;
  if (num.flag & KILN_NUMF_EEEE) {
    if (int4) { /* int4_to_char goes through a double */
      num_float_sci(rt, (double)(int64_t)v, &num, out);
      return;
    }
    /* numeric_out_sci: the exponent of the first significant digit, then the significand
     * rounded to `post` digits (half away from zero; 9.999 can round to 10.00). */
    int64_t first = 0;
    while (first < len && digits[first] == '0')
      ++first;
    int64_t exponent = first == len ? 0 : int_len - 1 - first;
    int64_t keep = 1 + num.post; /* significant digits kept */
    char *sig = scratch(rt, keep + 2);
    int64_t from = first == len ? len - 1 : first;
    for (int64_t k = 0; k < keep; ++k)
      sig[k + 1] = from + k < len ? digits[from + k] : '0';
    sig[0] = '0';
    if (from + keep < len && digits[from + keep] >= '5') /* carry */
      for (int64_t k = keep; k >= 0; --k) {
        if (sig[k] != '9') {
          ++sig[k];
          break;
        }
        sig[k] = '0';
      }
    int carried = sig[0] != '0';
    char *p = scratch(rt, keep + 40), *q = p;
    *q++ = v < 0 ? '-' : ' ';
    const char *s = sig + (carried ? 0 : 1);
    int64_t whole = carried ? 2 : 1; /* digits before the point */
    memcpy(q, s, (size_t)whole);
    q += whole;
    if (num.post > 0) {
      *q++ = '.';
      memcpy(q, s + whole, (size_t)num.post);
      q += num.post;
    }
    q += snprintf(q, 24, "e%+03lld", (long long)exponent);
    out->ptr = p;
    out->len = q - p;
    return;
  }
  if (num.flag & KILN_NUMF_ROMAN) {
    int64_t whole = 0; /* rounded half away from zero; past 3999 is '#'s anyway */
    for (int64_t k = 0; k < int_len && whole <= 4000; ++k)
      whole = whole * 10 + (digits[k] - '0');
    if (int_len < len && digits[int_len] >= '5')
      ++whole;
    char roman[16];
    kiln_numfmt_roman(v < 0 ? -whole : whole, roman);
    num_render(rt, nodes, &num, roman, '+', 0, out);
    return;
  }
  /* numeric_round to `post` digits after the point, then numeric_out's text. */
  int64_t keep = int_len + num.post;
  char *text = scratch(rt, keep + num.post + 4);
  char *t = text + 1; /* room for a carry */
  text[0] = '0';
  for (int64_t k = 0; k < keep; ++k)
    t[k] = k < len ? digits[k] : '0';
  if (keep < len && digits[keep] >= '5')
    for (int64_t k = keep - 1; k >= -1; --k) {
      if (t[k] != '9') {
        ++t[k];
        break;
      }
      t[k] = '0';
    }
  int64_t start = 0, whole_len = int_len + 1; /* over text: the carry digit and the whole */
  while (start < whole_len - 1 && text[start] == '0')
    ++start;
  char *number = scratch(rt, keep + 4), *q = number;
  int nonzero = 0;
  for (int64_t k = start; k < whole_len; ++k)
    *q++ = text[k];
  if (num.post > 0) {
    *q++ = '.';
    memcpy(q, text + whole_len, (size_t)num.post);
    q += num.post;
  }
  *q = 0;
  for (const char *c = number; *c; ++c)
    nonzero |= *c >= '1' && *c <= '9';
  const char *shown = number;
  int32_t pre_spaces = num_fit(rt, &num, &shown);
  num_render(rt, nodes, &num, shown, v < 0 && nonzero ? '-' : '+', pre_spaces, out);
}

void kiln_to_char_float(kiln_runtime *rt, double v, int32_t real, const char *fmt, int64_t fn,
                        kiln_str *out) {
  kiln_numfmt num;
  kiln_numfmt_node *nodes = num_template(rt, fmt, fn, &num, out);
  if (!nodes)
    return;
  if (num.flag & KILN_NUMF_EEEE) {
    num_float_sci(rt, v, &num, out);
    return;
  }
  if (num.flag & KILN_NUMF_ROMAN) {
    char roman[16];
    double r = rint(v);
    kiln_numfmt_roman(r >= -1e9 && r <= 1e9 ? (int64_t)r : 0, roman);
    num_render(rt, nodes, &num, roman, '+', 0, out);
    return;
  }
  if (num.flag & KILN_NUMF_MULTI) {
    v *= pow(10, num.multi);
    num.pre += num.multi;
  }
  if (isnan(v) || isinf(v)) { /* as PostgreSQL's snprintf spells them */
    const char *shown = isnan(v) ? "NaN" : "Infinity";
    int32_t pre_spaces = num_fit(rt, &num, &shown);
    num_render(rt, nodes, &num, shown, isinf(v) && v < 0 ? '-' : '+', pre_spaces, out);
    return;
  }
  /* float8_to_char: no more than DBL_DIG (FLT_DIG for a real) significant digits. */
  int digits = real ? 6 : 15;
  int64_t cap = 400 + num.post;
  char *p = scratch(rt, cap);
  int whole = snprintf(p, (size_t)cap, "%.0f", fabs(v));
  if (whole >= digits)
    num.post = 0;
  else if (whole + num.post > digits)
    num.post = digits - whole;
  snprintf(p, (size_t)cap, "%.*f", num.post, v);
  char sign = '+';
  const char *shown = p;
  if (*shown == '-') {
    sign = '-';
    ++shown;
  }
  int32_t pre_spaces = num_fit(rt, &num, &shown);
  num_render(rt, nodes, &num, shown, sign, pre_spaces, out);
}

/* ---- regular expressions ---- */

/* Compiled patterns by pattern text and options: a model's patterns are usually constants, so a
 * few entries compile each once (replaced round-robin past that). One lock guards the cache and
 * the match data of its entries: programs run one tick at a time, and an embedder's runtimes in
 * several threads take turns here. (Not thread-local storage: kiln-slt's JIT has none.) */
enum { REGEX_CACHE = 16 };
typedef struct regex_entry {
  char *pattern;
  int64_t len;
  uint32_t options;
  pcre2_code *code;
  pcre2_match_data *match;
} regex_entry;
static regex_entry regex_cache[REGEX_CACHE];
static unsigned regex_next;
static pthread_mutex_t regex_lock = PTHREAD_MUTEX_INITIALIZER;

/* PostgreSQL's flags as PCRE2 options; *global for g. */
static uint32_t regex_options(kiln_runtime *rt, const char *flags, int64_t fn, int allow_global,
                              int *global, int32_t loc) {
  uint32_t options = PCRE2_UTF | PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY;
  *global = 0;
  for (int64_t i = 0; i < fn; ++i) {
    switch (flags[i]) {
    case 'i':
      options |= PCRE2_CASELESS;
      break;
    case 'c':
      options &= ~(uint32_t)PCRE2_CASELESS;
      break;
    case 'n':
    case 'm':
      options = (options & ~(uint32_t)(PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY)) | PCRE2_MULTILINE;
      break;
    case 's':
      options = (options & ~(uint32_t)PCRE2_MULTILINE) | PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY;
      break;
    case 'x':
      options |= PCRE2_EXTENDED;
      break;
    case 'g':
      if (allow_global) {
        *global = 1;
        break;
      }
      raise_code(rt, KILN_ERR_INVALID_REGEX_OPTION, loc);
    default:
      raise_code(rt, KILN_ERR_INVALID_REGEX_OPTION, loc);
    }
  }
  return options;
}

static regex_entry *regex_compiled(kiln_runtime *rt, const char *pattern, int64_t pn,
                                   uint32_t options, int32_t loc) {
  for (unsigned i = 0; i < REGEX_CACHE; ++i) {
    regex_entry *e = &regex_cache[i];
    if (e->code && e->options == options && e->len == pn &&
        (pn == 0 || memcmp(e->pattern, pattern, (size_t)pn) == 0))
      return e;
  }
  int error;
  PCRE2_SIZE offset;
  pcre2_code *code =
      pcre2_compile((PCRE2_SPTR)pattern, (PCRE2_SIZE)pn, options, &error, &offset, NULL);
  if (!code) {
    pthread_mutex_unlock(&regex_lock);
    raise_code(rt, KILN_ERR_INVALID_REGEX, loc);
  }
  regex_entry *e = &regex_cache[regex_next++ % REGEX_CACHE];
  if (e->code) {
    pcre2_match_data_free(e->match);
    pcre2_code_free(e->code);
    free(e->pattern);
  }
  e->pattern = (char *)malloc(pn > 0 ? (size_t)pn : 1);
  if (pn > 0)
    memcpy(e->pattern, pattern, (size_t)pn);
  e->len = pn;
  e->options = options;
  e->code = code;
  e->match = pcre2_match_data_create_from_pattern(code, NULL);
  return e;
}

/* The next match of `e` in s from `start`: 1 (ovector in e->match), 0 for none, -1 for an error
 * (invalid UTF-8, or a match limit reached). */
static int regex_find(regex_entry *e, const char *p, int64_t n, int64_t start) {
  int rc = pcre2_match(e->code, (PCRE2_SPTR)p, (PCRE2_SIZE)n, (PCRE2_SIZE)start, 0, e->match, NULL);
  return rc == PCRE2_ERROR_NOMATCH ? 0 : rc < 0 ? -1 : 1;
}

int32_t kiln_regexp_like(kiln_runtime *rt, const char *p, int64_t n, const char *pattern,
                         int64_t pn, const char *flags, int64_t fn, int32_t loc) {
  int global;
  uint32_t options = regex_options(rt, flags, fn, 0, &global, loc);
  pthread_mutex_lock(&regex_lock);
  int found = regex_find(regex_compiled(rt, pattern, pn, options, loc), p, n, 0);
  pthread_mutex_unlock(&regex_lock);
  if (found < 0)
    raise_code(rt, KILN_ERR_INVALID_REGEX, loc);
  return found;
}

int32_t kiln_regexp_split(kiln_runtime *rt, const char *p, int64_t n, const char *pattern,
                          int64_t pn, const char *flags, int64_t fn, int32_t loc, kiln_str **pieces,
                          uint8_t **nulls) {
  int global;
  uint32_t options = regex_options(rt, flags, fn, 0, &global, loc);
  pthread_mutex_lock(&regex_lock);
  regex_entry *e = regex_compiled(rt, pattern, pn, options, loc);
  /* The pieces, as PostgreSQL's setup_regexp_matches finds the matches with ignore_degenerate:
   * a match counts if it starts before the end and ends after the previous one. */
  int64_t cap = 8, count = 0, start = 0, previous_end = 0, piece_start = 0;
  kiln_str *parts = (kiln_str *)malloc((size_t)cap * sizeof(kiln_str));
  int found;
  while (start <= n && (found = regex_find(e, p, n, start)) != 0) {
    if (found < 0) {
      pthread_mutex_unlock(&regex_lock);
      free(parts);
      raise_code(rt, KILN_ERR_INVALID_REGEX, loc);
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->match);
    int64_t begin = (int64_t)ov[0], end = (int64_t)ov[1];
    if (begin < n && end > previous_end) {
      if (count + 1 >= cap) {
        cap *= 2;
        parts = (kiln_str *)realloc(parts, (size_t)cap * sizeof(kiln_str));
      }
      parts[count].ptr = p + piece_start;
      parts[count].len = begin - piece_start;
      ++count;
      piece_start = end;
    }
    previous_end = end;
    start = begin == end ? (end >= n ? n + 1 : next_char(p, n, end)) : end;
  }
  pthread_mutex_unlock(&regex_lock);
  parts[count].ptr = p + piece_start;
  parts[count].len = n - piece_start;
  ++count;
  *pieces = (kiln_str *)kiln_scratch(rt, count * (int64_t)sizeof(kiln_str));
  memcpy(*pieces, parts, (size_t)count * sizeof(kiln_str));
  free(parts);
  *nulls = (uint8_t *)scratch(rt, count);
  memset(*nulls, 0, (size_t)count);
  return (int32_t)count;
}

void kiln_regexp_replace(kiln_runtime *rt, const char *p, int64_t n, const char *pattern,
                         int64_t pn, const char *r, int64_t rn, const char *flags, int64_t fn,
                         int32_t loc, kiln_str *out) {
  int global;
  uint32_t options = regex_options(rt, flags, fn, 1, &global, loc);
  pthread_mutex_lock(&regex_lock);
  regex_entry *e = regex_compiled(rt, pattern, pn, options, loc);
  /* Matches first (the ovector is overwritten by each), then the result in one allocation. */
  int64_t start = 0, cap = 8, count = 0, total = 0;
  int64_t *spans = NULL; /* per match: 10 (begin, end) pairs, groups 0..9 (-1: unset) */
  uint32_t groups = pcre2_get_ovector_count(e->match);
  int found;
  while (start <= n && (found = regex_find(e, p, n, start)) != 0) {
    if (found < 0) {
      pthread_mutex_unlock(&regex_lock);
      free(spans);
      raise_code(rt, KILN_ERR_INVALID_REGEX, loc);
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->match);
    if (!spans || count == cap) {
      cap *= 2;
      spans = (int64_t *)realloc(spans, (size_t)cap * 20 * sizeof(int64_t));
    }
    int64_t *span = spans + count * 20;
    for (uint32_t g = 0; g < 10; ++g) {
      int set = g < groups && ov[2 * g] != PCRE2_UNSET;
      span[2 * g] = set ? (int64_t)ov[2 * g] : -1;
      span[2 * g + 1] = set ? (int64_t)ov[2 * g + 1] : -1;
    }
    ++count;
    int64_t end = span[1];
    if (!global)
      break;
    if (end == span[0]) { /* an empty match: the next search starts a character on */
      if (end >= n)
        break;
      end = next_char(p, n, end);
    }
    start = end;
  }
  pthread_mutex_unlock(&regex_lock);
  if (count == 0) {
    free(spans);
    out->ptr = p;
    out->len = n;
    return;
  }
  /* The replacement's text per match: \1..\9 groups, \& the match, \\ a backslash. */
  for (int pass = 0; pass < 2; ++pass) {
    char *q = pass ? scratch(rt, total) : NULL;
    int64_t at = 0, copied = 0;
    for (int64_t m = 0; m < count; ++m) {
      const int64_t *span = spans + m * 20;
      if (pass)
        memcpy(q + at, p + copied, (size_t)(span[0] - copied));
      at += span[0] - copied;
      for (int64_t i = 0; i < rn; ++i) {
        const char *piece = r + i;
        int64_t len = 1;
        if (r[i] == '\\' && i + 1 < rn) {
          char c = r[i + 1];
          if (c >= '1' && c <= '9') {
            int g = c - '0';
            piece = span[2 * g] < 0 ? p : p + span[2 * g];
            len = span[2 * g] < 0 ? 0 : span[2 * g + 1] - span[2 * g];
            ++i;
          } else if (c == '&') {
            piece = p + span[0];
            len = span[1] - span[0];
            ++i;
          } else if (c == '\\') {
            ++i;
          }
        }
        if (pass)
          memcpy(q + at, piece, (size_t)len);
        at += len;
      }
      copied = span[1];
    }
    if (pass)
      memcpy(q + at, p + copied, (size_t)(n - copied));
    at += n - copied;
    if (pass) {
      out->ptr = q;
      out->len = at;
    } else {
      total = at;
    }
  }
  free(spans);
}
