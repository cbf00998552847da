// Unit tests of the SQL standard library (stdlib/kiln_stdlib.c) against PostgreSQL's behaviour.
//
// This executable does not link the runtime: it provides kiln_raise and kiln_scratch itself.
// kiln_raise longjmps back into raised() (C frames cannot propagate C++ exceptions), so code run
// under raised() must not own objects with destructors.
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kiln/runtime/interval.h"
#include "kiln/stdlib.h"

namespace {

std::jmp_buf *g_jump = nullptr;
int g_code = 0;
std::vector<void *> g_scratch;

} // namespace

extern "C" void kiln_raise(kiln_runtime *, int32_t error_code, int32_t) {
  g_code = error_code;
  if (g_jump == nullptr) { // an error the test did not expect
    std::fprintf(stderr, "unexpected kiln_raise(%d)\n", error_code);
    std::abort();
  }
  std::longjmp(*g_jump, 1);
}

extern "C" void *kiln_scratch(kiln_runtime *, int64_t size) {
  g_scratch.push_back(std::malloc(static_cast<size_t>(size)));
  return g_scratch.back();
}

namespace {

using i128 = __int128;

// Runs f and returns the error code it raised, 0 if none.
template <typename F> int raised(F f) {
  std::jmp_buf buf;
  g_jump = &buf;
  int code = 0;
  if (setjmp(buf) == 0)
    f();
  else
    code = g_code;
  g_jump = nullptr;
  return code;
}

std::string str(const kiln_str &s) { return std::string(s.ptr, static_cast<size_t>(s.len)); }

// NUMERIC literal at `scale` (through kiln_text_to_numeric) and back to text.
i128 N(const char *text, int32_t scale) {
  return kiln_text_to_numeric(nullptr, text, static_cast<int64_t>(std::strlen(text)), scale, 38, 0);
}
std::string S(i128 v, int32_t scale) {
  kiln_str out;
  kiln_text_from_numeric(nullptr, v, scale, &out);
  return str(out);
}
std::string F(double v) {
  kiln_str out;
  kiln_text_from_f64(nullptr, v, &out);
  return str(out);
}
int32_t Date(const std::string &t) { return kiln_text_to_date(nullptr, t.data(), t.size(), 0); }
int64_t Ts(const std::string &t) { return kiln_text_to_timestamp(nullptr, t.data(), t.size(), 0); }
std::string DateText(int32_t days) {
  kiln_str out;
  kiln_text_from_date(nullptr, days, &out);
  return str(out);
}
std::string TsText(int64_t micros) {
  kiln_str out;
  kiln_text_from_timestamp(nullptr, micros, &out);
  return str(out);
}
bool Like(const std::string &s, const std::string &p, bool ci = false) {
  return kiln_like(nullptr, s.data(), s.size(), p.data(), p.size(), ci, 0);
}
std::string Substr(const std::string &s, int64_t start, int64_t count = 0, bool has_count = false) {
  kiln_str out;
  kiln_substr(nullptr, s.data(), s.size(), start, count, has_count, 0, &out);
  return str(out);
}

const std::string kMax38(38, '9'); // the largest NUMERIC(38, 0)

class StdlibTest : public testing::Test {
protected:
  void TearDown() override {
    for (void *p : g_scratch)
      std::free(p);
    g_scratch.clear();
  }
};

// ---- NUMERIC arithmetic ----

TEST_F(StdlibTest, NumericAddSub) {
  EXPECT_EQ(S(kiln_numeric_add(nullptr, N("1.5", 1), 1, N("2.25", 2), 2, 2, 0), 2), "3.75");
  // Rounding to a smaller result scale: half away from zero on both sides.
  EXPECT_EQ(S(kiln_numeric_add(nullptr, N("1.5", 1), 1, N("2.25", 2), 2, 1, 0), 1), "3.8");
  EXPECT_EQ(S(kiln_numeric_add(nullptr, N("-1.25", 2), 2, 0, 0, 1, 0), 1), "-1.3");
  EXPECT_EQ(S(kiln_numeric_sub(nullptr, N("1", 0), 0, N("2.5", 1), 1, 1, 0), 1), "-1.5");
  EXPECT_EQ(S(kiln_numeric_sub(nullptr, N("-1", 0), 0, N("0.25", 2), 2, 1, 0), 1), "-1.3");
  // Aligning 10^37 to scale 38 leaves 128 bits: the exact slow path.
  EXPECT_EQ(S(kiln_numeric_add(nullptr, N("1e37", 0), 0, N("0.5", 38), 38, 0, 0), 0),
            "10000000000000000000000000000000000001");
  EXPECT_EQ(S(kiln_numeric_sub(nullptr, N("1e37", 0), 0, N("0.5", 38), 38, 0, 0), 0),
            "10000000000000000000000000000000000000");
  EXPECT_EQ(S(kiln_numeric_sub(nullptr, N("-1e37", 0), 0, N("0.5", 38), 38, 0, 0), 0),
            "-10000000000000000000000000000000000001");
  // Scales so far apart that aligning takes more than 256 bits: y is cut at rs + 1 and its sign
  // decides ties. 12345500 (scale -2) + b rounded to thousands (scale -3):
  EXPECT_EQ(kiln_numeric_add(nullptr, 123455, -2, N("-0.1", 38), 38, -3, 0), 12345);
  EXPECT_EQ(kiln_numeric_add(nullptr, 123455, -2, N("0.1", 38), 38, -3, 0), 12346);
  EXPECT_EQ(kiln_numeric_sub(nullptr, 123455, -2, N("0.1", 38), 38, -3, 0), 12345);
  EXPECT_EQ(kiln_numeric_add(nullptr, 123455, -2, 0, 38, -3, 0), 12346);
  EXPECT_EQ(kiln_numeric_add(nullptr, -123455, -2, N("0.1", 38), 38, -3, 0), -12345);
  i128 max = N(kMax38.c_str(), 0);
  EXPECT_EQ(raised([&] { kiln_numeric_add(nullptr, max, 0, 1, 0, 0, 0); }),
            KILN_ERR_NUMERIC_OVERFLOW);
  EXPECT_EQ(raised([&] { kiln_numeric_sub(nullptr, -max, 0, 1, 0, 0, 0); }),
            KILN_ERR_NUMERIC_OVERFLOW);
  EXPECT_EQ(raised([&] { kiln_numeric_add(nullptr, max, 0, max, 0, 0, 0); }),
            KILN_ERR_NUMERIC_OVERFLOW);
  EXPECT_EQ(kiln_numeric_sub(nullptr, max, 0, max, 0, 0, 0), 0);
  // Fits at scale 0 but not at scale 1.
  EXPECT_EQ(raised([&] { kiln_numeric_add(nullptr, max, 0, 0, 0, 1, 0); }),
            KILN_ERR_NUMERIC_OVERFLOW);
}

TEST_F(StdlibTest, NumericMul) {
  EXPECT_EQ(S(kiln_numeric_mul(nullptr, N("1.5", 1), 1, N("1.5", 1), 1, 2, 0), 2), "2.25");
  EXPECT_EQ(S(kiln_numeric_mul(nullptr, N("1.5", 1), 1, N("1.5", 1), 1, 1, 0), 1), "2.3");
  EXPECT_EQ(S(kiln_numeric_mul(nullptr, N("-1.5", 1), 1, N("1.5", 1), 1, 1, 0), 1), "-2.3");
  EXPECT_EQ(S(kiln_numeric_mul(nullptr, N("-0.05", 2), 2, N("0.1", 1), 1, 2, 0), 2), "-0.01");
  EXPECT_EQ(S(kiln_numeric_mul(nullptr, N("0.04", 2), 2, N("0.1", 1), 1, 2, 0), 2), "0.00");
  // The raw product needs 192 bits; the rounded result fits.
  EXPECT_EQ(S(kiln_numeric_mul(nullptr, N("12345678901234567890.123456789012345678", 18), 18,
                               N("2", 20), 20, 18, 0),
              18),
            "24691357802469135780.246913578024691356");
  EXPECT_EQ(S(kiln_numeric_mul(nullptr, N("0.00000000000000000001", 20), 20,
                               N("0.00000000000000000005", 20), 20, 38, 0),
              38),
            "0.00000000000000000000000000000000000000");
  EXPECT_EQ(raised([] { kiln_numeric_mul(nullptr, N("1e20", 0), 0, N("1e20", 0), 0, 0, 0); }),
            KILN_ERR_NUMERIC_OVERFLOW);
  EXPECT_EQ(raised([] { kiln_numeric_mul(nullptr, N("1e19", 0), 0, N("1e19", 0), 0, 0, 0); }),
            KILN_ERR_NUMERIC_OVERFLOW); // exactly 10^38
  EXPECT_EQ(raised([] { kiln_numeric_mul(nullptr, N("1e15", 0), 0, N("1e15", 0), 0, 10, 0); }),
            KILN_ERR_NUMERIC_OVERFLOW);
}

TEST_F(StdlibTest, NumericDiv) {
  EXPECT_EQ(S(kiln_numeric_div(nullptr, 1, 0, 3, 0, 6, 0), 6), "0.333333");
  EXPECT_EQ(S(kiln_numeric_div(nullptr, 2, 0, 3, 0, 6, 0), 6), "0.666667");
  EXPECT_EQ(S(kiln_numeric_div(nullptr, -2, 0, 3, 0, 6, 0), 6), "-0.666667");
  EXPECT_EQ(S(kiln_numeric_div(nullptr, 2, 0, -3, 0, 6, 0), 6), "-0.666667");
  EXPECT_EQ(S(kiln_numeric_div(nullptr, 1, 0, 8, 0, 2, 0), 2), "0.13");
  EXPECT_EQ(S(kiln_numeric_div(nullptr, -1, 0, 8, 0, 2, 0), 2), "-0.13");
  EXPECT_EQ(S(kiln_numeric_div(nullptr, N("7.5", 1), 1, N("2.5", 1), 1, 0, 0), 0), "3");
  EXPECT_EQ(S(kiln_numeric_div(nullptr, 1, 0, 3, 0, 38, 0), 38),
            "0.33333333333333333333333333333333333333");
  EXPECT_EQ(S(kiln_numeric_div(nullptr, N("1e37", 0), 0, 3, 0, 0, 0), 0),
            "3333333333333333333333333333333333333");
  // 5e28 * 10^10 leaves 128 bits: long division in 256 bits.
  EXPECT_EQ(S(kiln_numeric_div(nullptr, N("5e28", 0), 0, 7, 0, 10, 0), 10),
            "7142857142857142857142857142.8571428571");
  // Negative k: the divisor is scaled up instead.
  EXPECT_EQ(S(kiln_numeric_div(nullptr, N("0.5", 38), 38, 1, 0, 0, 0), 0), "1");
  EXPECT_EQ(S(kiln_numeric_div(nullptr, N("-0.5", 38), 38, 1, 0, 0, 0), 0), "-1");
  EXPECT_EQ(S(kiln_numeric_div(nullptr, N("0.49", 38), 38, 1, 0, 0, 0), 0), "0");
  EXPECT_EQ(kiln_numeric_div(nullptr, 0, 0, 7, 0, 38, 0), 0);
  EXPECT_EQ(raised([] { kiln_numeric_div(nullptr, 1, 0, 0, 2, 2, 0); }), KILN_ERR_DIVISION_BY_ZERO);
  EXPECT_EQ(raised([] { kiln_numeric_div(nullptr, N("1e37", 0), 0, 1, 2, 0, 0); }),
            KILN_ERR_NUMERIC_OVERFLOW);
  EXPECT_EQ(raised([] { kiln_numeric_div(nullptr, N("1e30", 0), 0, 1, 0, 30, 0); }),
            KILN_ERR_NUMERIC_OVERFLOW);
}

TEST_F(StdlibTest, NumericMod) {
  EXPECT_EQ(kiln_numeric_mod(nullptr, 7, 0, 3, 0, 0, 0), 1);
  EXPECT_EQ(kiln_numeric_mod(nullptr, -7, 0, 3, 0, 0, 0), -1); // the dividend's sign
  EXPECT_EQ(kiln_numeric_mod(nullptr, 7, 0, -3, 0, 0, 0), 1);
  EXPECT_EQ(kiln_numeric_mod(nullptr, -7, 0, -3, 0, 0, 0), -1);
  EXPECT_EQ(S(kiln_numeric_mod(nullptr, N("5.5", 1), 1, 2, 0, 1, 0), 1), "1.5");
  EXPECT_EQ(S(kiln_numeric_mod(nullptr, N("-5.5", 1), 1, N("0.25", 2), 2, 2, 0), 2), "0.00");
  EXPECT_EQ(S(kiln_numeric_mod(nullptr, N("1e37", 0), 0, N("0.3", 38), 38, 38, 0), 38),
            "0.10000000000000000000000000000000000000");
  // 7e40 mod 0.3: the aligned dividend needs more than 256 bits.
  EXPECT_EQ(S(kiln_numeric_mod(nullptr, 7, -40, N("0.3", 38), 38, 1, 0), 1), "0.1");
  EXPECT_EQ(S(kiln_numeric_mod(nullptr, -7, -40, N("0.3", 38), 38, 1, 0), 1), "-0.1");
  // ... and the aligned divisor: the remainder is the dividend.
  EXPECT_EQ(S(kiln_numeric_mod(nullptr, N("0.7", 38), 38, 3, -41, 1, 0), 1), "0.7");
  EXPECT_EQ(raised([] { kiln_numeric_mod(nullptr, 7, 0, 0, 0, 0, 0); }), KILN_ERR_DIVISION_BY_ZERO);
}

TEST_F(StdlibTest, NumericRescale) {
  EXPECT_EQ(kiln_numeric_rescale(nullptr, 25, 1, 0, 38, 0), 3);
  EXPECT_EQ(kiln_numeric_rescale(nullptr, -25, 1, 0, 38, 0), -3);
  EXPECT_EQ(kiln_numeric_rescale(nullptr, 24, 1, 0, 38, 0), 2);
  EXPECT_EQ(kiln_numeric_rescale(nullptr, -24, 1, 0, 38, 0), -2);
  EXPECT_EQ(S(kiln_numeric_rescale(nullptr, N("1.005", 3), 3, 2, 38, 0), 2), "1.01");
  EXPECT_EQ(kiln_numeric_rescale(nullptr, 12, 0, 2, 38, 0), 1200);
  EXPECT_EQ(kiln_numeric_rescale(nullptr, 1250, 0, -2, 38, 0), 13); // negative scale
  EXPECT_EQ(kiln_numeric_rescale(nullptr, N("0.5", 38), 38, -1, 38, 0), 0);
  EXPECT_EQ(S(kiln_numeric_rescale(nullptr, N("999.994", 3), 3, 2, 5, 0), 2), "999.99");
  EXPECT_EQ(raised([] { kiln_numeric_rescale(nullptr, N("999.995", 3), 3, 2, 5, 0); }),
            KILN_ERR_NUMERIC_OVERFLOW);
  EXPECT_EQ(raised([] { kiln_numeric_rescale(nullptr, 1, 0, 39, 38, 0); }),
            KILN_ERR_NUMERIC_OVERFLOW);
  EXPECT_EQ(kiln_numeric_rescale(nullptr, 0, 0, 100, 38, 0), 0);
}

TEST_F(StdlibTest, NumericRound) {
  i128 v = N("-2.567", 3);
  EXPECT_EQ(S(kiln_numeric_round(nullptr, v, 3, 2, 2, 0, 0), 2), "-2.57");
  EXPECT_EQ(S(kiln_numeric_round(nullptr, v, 3, 2, 2, 1, 0), 2), "-2.56");
  EXPECT_EQ(S(kiln_numeric_round(nullptr, v, 3, 2, 2, 2, 0), 2), "-2.57");
  EXPECT_EQ(S(kiln_numeric_round(nullptr, v, 3, 2, 2, 3, 0), 2), "-2.56");
  EXPECT_EQ(S(kiln_numeric_round(nullptr, v, 3, 0, 0, 0, 0), 0), "-3");
  EXPECT_EQ(S(kiln_numeric_round(nullptr, v, 3, 0, 0, 1, 0), 0), "-2");
  EXPECT_EQ(S(kiln_numeric_round(nullptr, v, 3, 0, 0, 2, 0), 0), "-3");
  EXPECT_EQ(S(kiln_numeric_round(nullptr, v, 3, 0, 0, 3, 0), 0), "-2");
  EXPECT_EQ(S(kiln_numeric_round(nullptr, N("2.5", 1), 1, 0, 0, 0, 0), 0), "3");
  EXPECT_EQ(S(kiln_numeric_round(nullptr, N("0.001", 3), 3, 0, 0, 3, 0), 0), "1");
  EXPECT_EQ(S(kiln_numeric_round(nullptr, N("-0.001", 3), 3, 0, 0, 2, 0), 0), "-1");
  // Negative digits; result kept at the input's scale.
  EXPECT_EQ(S(kiln_numeric_round(nullptr, N("1250.5", 1), 1, -2, 1, 0, 0), 1), "1300.0");
  EXPECT_EQ(S(kiln_numeric_round(nullptr, N("1249.9", 1), 1, -2, 0, 0, 0), 0), "1200");
  // More digits than present: unchanged, rescaled.
  EXPECT_EQ(S(kiln_numeric_round(nullptr, N("1.5", 1), 1, 4, 4, 0, 0), 4), "1.5000");
  EXPECT_EQ(S(kiln_numeric_round(nullptr, N("0.5", 38), 38, -5, 0, 3, 0), 0), "100000");
  EXPECT_EQ(raised([&] { kiln_numeric_round(nullptr, N(kMax38.c_str(), 0), 0, -1, 0, 0, 0); }),
            KILN_ERR_NUMERIC_OVERFLOW);
}

TEST_F(StdlibTest, NumericAccumulateAndCompare) {
  EXPECT_EQ(kiln_numeric_accumulate(nullptr, 100, 7, -3, 0), 79);
  i128 max = N(kMax38.c_str(), 0);
  EXPECT_EQ(raised([&] { kiln_numeric_accumulate(nullptr, max, 1, 1, 0); }),
            KILN_ERR_NUMERIC_OVERFLOW);
  EXPECT_EQ(raised([&] { kiln_numeric_accumulate(nullptr, 0, max, INT64_MAX, 0); }),
            KILN_ERR_NUMERIC_OVERFLOW);

  EXPECT_EQ(kiln_numeric_cmp(150, 2, 15, 1), 0);
  EXPECT_EQ(kiln_numeric_cmp(151, 2, 15, 1), 1);
  EXPECT_EQ(kiln_numeric_cmp(-151, 2, -15, 1), -1);
  EXPECT_EQ(kiln_numeric_cmp(-1, 0, 0, 5), -1);
  EXPECT_EQ(kiln_numeric_cmp(0, 0, 0, 5), 0);
  EXPECT_EQ(kiln_numeric_cmp(N("1e37", 0), 0, 1, 38), 1); // slow path
  EXPECT_EQ(kiln_numeric_cmp(-N("1e37", 0), 0, -1, 38), -1);
  EXPECT_EQ(kiln_numeric_cmp(N("0.5", 38), 38, 5, 1), 0);
  EXPECT_EQ(kiln_numeric_cmp(1, 0, N("0.5", 38), 38), 1);
}

TEST_F(StdlibTest, NumericSquareRoot) {
  EXPECT_EQ(S(kiln_numeric_sqrt(nullptr, 2, 0, 16, 0), 16), "1.4142135623730950");
  EXPECT_EQ(S(kiln_numeric_sqrt(nullptr, 225, 2, 16, 0), 16), "1.5000000000000000");
  EXPECT_EQ(S(kiln_numeric_sqrt(nullptr, 0, 2, 16, 0), 16), "0.0000000000000000");
  EXPECT_EQ(kiln_numeric_sqrt(nullptr, 225, 2, 0, 0), 2); // 1.5 rounds half up
  EXPECT_EQ(S(kiln_numeric_sqrt(nullptr, N(kMax38.c_str(), 0), 0, 16, 0), 16),
            "10000000000000000000.0000000000000000");
  EXPECT_EQ(S(kiln_numeric_sqrt(nullptr, N("0.5", 38), 38, 34, 0), 34),
            "0.7071067811865475244008443621048490");
  EXPECT_EQ(S(kiln_numeric_sqrt(nullptr, N("0.5", 38), 38, 1, 0), 1), "0.7"); // digits cut first
  EXPECT_EQ(raised([] { kiln_numeric_sqrt(nullptr, -1, 0, 16, 0); }), KILN_ERR_SQRT_NEGATIVE);
}

// PostgreSQL's numeric variance and stddev round the quotient at select_div_scale's scale and
// the root at that scale again; the results below are PostgreSQL 15's.
TEST_F(StdlibTest, NumericVarianceAsPostgresRoundsIt) {
  auto v = [](i128 a, int32_t sa, i128 b, int root) {
    return S(kiln_numeric_variance(nullptr, a, sa, b, 0, root, 16, 0), 16);
  };
  // stddev_samp(1, 2, 2): 1/3 divides to 20 digits (its first digit is below 1), and its root
  // is 0.57735026918962576451.
  EXPECT_EQ(v(2, 0, 6, 1), "0.5773502691896258");
  EXPECT_EQ(v(2, 0, 6, 0), "0.3333333333333333");
  // stddev_pop over 14/3: 4.6666666666666667 at 16 digits, whose root rounds up at the 16th.
  EXPECT_EQ(v(14, 0, 3, 1), "2.1602468994692868");
  // A large quotient divides at fewer digits: 1e20 / 3 at scale 0.
  EXPECT_EQ(v(N("100000000000000000000", 0), 0, 3, 0), "33333333333333333333.0000000000000000");
  EXPECT_EQ(v(225, 2, 1, 1), "1.5000000000000000");
  EXPECT_EQ(v(0, 0, 3, 1), "0.0000000000000000");
  EXPECT_EQ(raised([] { kiln_numeric_variance(nullptr, 1, 0, 0, 0, 1, 16, 0); }),
            KILN_ERR_DIVISION_BY_ZERO);
  EXPECT_EQ(raised([] { kiln_numeric_variance(nullptr, -1, 0, 3, 0, 1, 16, 0); }),
            KILN_ERR_SQRT_NEGATIVE);
}

TEST_F(StdlibTest, DoublePrecisionFunctions) {
  EXPECT_EQ(kiln_f64_sqrt(nullptr, 2.25, 0), 1.5);
  EXPECT_DOUBLE_EQ(kiln_f64_cbrt(-27), -3); // glibc's cbrt, as PostgreSQL's: 3.0000000000000004
  EXPECT_EQ(kiln_f64_ln(nullptr, 1, 0), 0);
  EXPECT_EQ(kiln_f64_log10(nullptr, 1000, 0), 3);
  EXPECT_EQ(kiln_f64_power(nullptr, -2, 3, 0), -8);
  EXPECT_EQ(kiln_f64_power(nullptr, NAN, 0, 0), 1);
  EXPECT_EQ(kiln_f64_power(nullptr, 1, NAN, 0), 1);
  EXPECT_EQ(kiln_f64_power(nullptr, 0, 0, 0), 1);
  EXPECT_EQ(kiln_f64_power(nullptr, 2, -INFINITY, 0), 0); // zero is the true answer
  EXPECT_EQ(kiln_f64_exp(nullptr, -INFINITY, 0), 0);
  EXPECT_EQ(raised([] { kiln_f64_sqrt(nullptr, -1, 0); }), KILN_ERR_SQRT_NEGATIVE);
  EXPECT_EQ(raised([] { kiln_f64_ln(nullptr, 0, 0); }), KILN_ERR_LOG_ZERO);
  EXPECT_EQ(raised([] { kiln_f64_log10(nullptr, -1, 0); }), KILN_ERR_LOG_NEGATIVE);
  EXPECT_EQ(raised([] { kiln_f64_power(nullptr, 0, -1, 0); }), KILN_ERR_POWER_ZERO_NEGATIVE);
  EXPECT_EQ(raised([] { kiln_f64_power(nullptr, -8, 0.5, 0); }), KILN_ERR_POWER_COMPLEX);
  EXPECT_EQ(raised([] { kiln_f64_power(nullptr, 10, 400, 0); }), KILN_ERR_FLOAT_OUT_OF_RANGE);
  EXPECT_EQ(raised([] { kiln_f64_power(nullptr, 10, -400, 0); }), KILN_ERR_FLOAT_UNDERFLOW);
  EXPECT_EQ(raised([] { kiln_f64_exp(nullptr, 1000, 0); }), KILN_ERR_FLOAT_OUT_OF_RANGE);
  EXPECT_EQ(raised([] { kiln_f64_exp(nullptr, -1000, 0); }), KILN_ERR_FLOAT_UNDERFLOW);
}

// ---- conversions ----

TEST_F(StdlibTest, NumericFloatConversions) {
  EXPECT_EQ(kiln_numeric_to_f64(1, 1), 0.1);
  EXPECT_EQ(kiln_numeric_to_f64(-15, 1), -1.5);
  EXPECT_EQ(kiln_numeric_to_f64(N("0.33333333333333333333333333333333333333", 38), 38), 1.0 / 3);
  EXPECT_EQ(kiln_numeric_to_f64(N("12345678901234567890.123", 3), 3), 12345678901234567890.123);
  EXPECT_EQ(kiln_numeric_to_f64(12, -3), 12000.0);
  EXPECT_EQ(kiln_numeric_to_f64(N("9007199254740993", 0), 0), 9007199254740992.0);

  EXPECT_EQ(S(kiln_f64_to_numeric(nullptr, 0.1, 2, 38, 0), 2), "0.10");
  EXPECT_EQ(S(kiln_f64_to_numeric(nullptr, 1.005, 2, 38, 0), 2), "1.01"); // via "%.15g"
  EXPECT_EQ(S(kiln_f64_to_numeric(nullptr, -2.5, 0, 38, 0), 0), "-3");
  EXPECT_EQ(S(kiln_f64_to_numeric(nullptr, 1e20, 0, 38, 0), 0), "100000000000000000000");
  EXPECT_EQ(S(kiln_f64_to_numeric(nullptr, 1.0 / 3, 20, 38, 0), 20), "0.33333333333333300000");
  EXPECT_EQ(S(kiln_f64_to_numeric(nullptr, 1.5e-7, 8, 38, 0), 8), "0.00000015");
  EXPECT_EQ(raised([] { kiln_f64_to_numeric(nullptr, NAN, 2, 38, 0); }), KILN_ERR_NUMERIC_OVERFLOW);
  EXPECT_EQ(raised([] { kiln_f64_to_numeric(nullptr, -INFINITY, 2, 38, 0); }),
            KILN_ERR_NUMERIC_OVERFLOW);
  EXPECT_EQ(raised([] { kiln_f64_to_numeric(nullptr, 1000.0, 2, 5, 0); }),
            KILN_ERR_NUMERIC_OVERFLOW);
}

TEST_F(StdlibTest, ToInteger) {
  const int64_t lo = INT32_MIN, hi = INT32_MAX;
  const int32_t code = KILN_ERR_INT_OUT_OF_RANGE;
  EXPECT_EQ(kiln_numeric_to_int(nullptr, 25, 1, lo, hi, code, 0), 3);
  EXPECT_EQ(kiln_numeric_to_int(nullptr, -25, 1, lo, hi, code, 0), -3);
  EXPECT_EQ(kiln_numeric_to_int(nullptr, N("2147483647.49", 2), 2, lo, hi, code, 0), INT32_MAX);
  EXPECT_EQ(raised([&] { kiln_numeric_to_int(nullptr, N("2147483647.5", 1), 1, lo, hi, code, 0); }),
            code);
  EXPECT_EQ(raised([&] {
              kiln_numeric_to_int(nullptr, N(kMax38.c_str(), 0), 0, INT64_MIN, INT64_MAX,
                                  KILN_ERR_BIGINT_OUT_OF_RANGE, 0);
            }),
            KILN_ERR_BIGINT_OUT_OF_RANGE);

  EXPECT_EQ(kiln_f64_to_int(nullptr, 2.5, lo, hi, code, 0), 2); // rint: half to even
  EXPECT_EQ(kiln_f64_to_int(nullptr, 3.5, lo, hi, code, 0), 4);
  EXPECT_EQ(kiln_f64_to_int(nullptr, -2.5, lo, hi, code, 0), -2);
  EXPECT_EQ(kiln_f64_to_int(nullptr, 0.5, lo, hi, code, 0), 0);
  EXPECT_EQ(kiln_f64_to_int(nullptr, -1.5, lo, hi, code, 0), -2);
  EXPECT_EQ(kiln_f64_to_int(nullptr, 0.49999999999999994, lo, hi, code, 0), 0);
  EXPECT_EQ(kiln_f64_to_int(nullptr, 4503599627370497.0, INT64_MIN, INT64_MAX, 2, 0),
            4503599627370497);
  EXPECT_EQ(kiln_f64_to_int(nullptr, 2251799813685248.5, INT64_MIN, INT64_MAX, 2, 0),
            2251799813685248);
  EXPECT_EQ(kiln_f64_to_int(nullptr, 2147483647.4, lo, hi, code, 0), INT32_MAX);
  EXPECT_EQ(kiln_f64_to_int(nullptr, -2147483648.4, lo, hi, code, 0), INT32_MIN);
  EXPECT_EQ(raised([&] { kiln_f64_to_int(nullptr, 2147483647.5, lo, hi, code, 0); }), code);
  EXPECT_EQ(raised([&] { kiln_f64_to_int(nullptr, NAN, lo, hi, code, 0); }), code);
  EXPECT_EQ(kiln_f64_to_int(nullptr, -9223372036854775808.0, INT64_MIN, INT64_MAX, 2, 0),
            INT64_MIN);
  EXPECT_EQ(raised([] { kiln_f64_to_int(nullptr, 0x1p63, INT64_MIN, INT64_MAX, 2, 0); }), 2);
  EXPECT_EQ(raised([] { kiln_f64_to_int(nullptr, INFINITY, INT64_MIN, INT64_MAX, 2, 0); }), 2);
}

// The runtime's layout of std::to_chars's shortest digits (PostgreSQL's float8out).
std::string referenceFloat(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, end);
  size_t e = sci.find('e');
  int exponent = std::stoi(sci.substr(e + 1));
  if (exponent < -4 || exponent >= 15)
    return sci;
  std::string digits;
  for (char c : sci.substr(0, e))
    if (c >= '0' && c <= '9')
      digits += c;
  std::string out = v < 0 || std::signbit(v) ? "-" : "";
  if (exponent < 0)
    return out + "0." + std::string(-exponent - 1, '0') + digits;
  if (static_cast<size_t>(exponent) + 1 >= digits.size())
    return out + digits + std::string(exponent + 1 - digits.size(), '0');
  return out + digits.substr(0, exponent + 1) + "." + digits.substr(exponent + 1);
}

TEST_F(StdlibTest, FloatOutput) {
  EXPECT_EQ(F(0.1), "0.1");
  EXPECT_EQ(F(1e15), "1e+15");
  EXPECT_EQ(F(123456789012345.0), "123456789012345");
  EXPECT_EQ(F(999999999999999.0), "999999999999999");
  EXPECT_EQ(F(1e-05), "1e-05");
  EXPECT_EQ(F(1.5e-05), "1.5e-05");
  EXPECT_EQ(F(0.0001), "0.0001");
  EXPECT_EQ(F(0.00015), "0.00015");
  EXPECT_EQ(F(1e20), "1e+20");
  EXPECT_EQ(F(1.2345678901234568e+20), "1.2345678901234568e+20");
  EXPECT_EQ(F(1e100), "1e+100");
  EXPECT_EQ(F(100), "100");
  EXPECT_EQ(F(-1.5), "-1.5");
  EXPECT_EQ(F(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(F(0.0), "0");
  EXPECT_EQ(F(-0.0), "-0");
  EXPECT_EQ(F(5e-324), "5e-324");
  EXPECT_EQ(F(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(F(NAN), "NaN");
  EXPECT_EQ(F(INFINITY), "Infinity");
  EXPECT_EQ(F(-INFINITY), "-Infinity");

  // Shortest round-trip digits, checked against std::to_chars: every power of two (where the
  // rounding interval is lopsided) and random bit patterns.
  for (int e = -1074; e <= 1023; ++e) {
    double v = std::ldexp(1.0, e);
    ASSERT_EQ(F(v), referenceFloat(v)) << e;
    ASSERT_EQ(F(-v), referenceFloat(-v)) << e;
  }
  std::mt19937_64 rng(42);
  for (int i = 0; i < 50000; ++i) {
    uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    if (!std::isfinite(v))
      continue;
    ASSERT_EQ(F(v), referenceFloat(v)) << bits;
  }
  // Decimal data (few digits) and arbitrary values in the fixed-notation range.
  std::uniform_int_distribution<int> exponent(-4, 14), length(1, 17);
  for (int i = 0; i < 100000; ++i) {
    int digits = length(rng);
    double mantissa = static_cast<double>(rng() % static_cast<uint64_t>(std::pow(10.0, digits)));
    double v = mantissa * std::pow(10.0, exponent(rng) - digits + 1);
    ASSERT_EQ(F(v), referenceFloat(v)) << v;
    double w = std::ldexp(static_cast<double>(rng() >> 11), -53) * std::pow(10.0, exponent(rng));
    ASSERT_EQ(F(w), referenceFloat(w)) << w;
    ASSERT_EQ(F(0.1 * i), referenceFloat(0.1 * i)) << i;
  }
}

TEST_F(StdlibTest, OtherOutput) {
  kiln_str out;
  kiln_text_from_i64(nullptr, INT64_MIN, &out);
  EXPECT_EQ(str(out), "-9223372036854775808");
  kiln_text_from_i64(nullptr, 0, &out);
  EXPECT_EQ(str(out), "0");
  kiln_text_from_i64(nullptr, 42, &out);
  EXPECT_EQ(str(out), "42");
  kiln_text_from_bool(nullptr, 1, &out);
  EXPECT_EQ(str(out), "true");
  kiln_text_from_bool(nullptr, 0, &out);
  EXPECT_EQ(str(out), "false");

  EXPECT_EQ(S(42, 4), "0.0042");
  EXPECT_EQ(S(-5, 2), "-0.05");
  EXPECT_EQ(S(0, 2), "0.00");
  EXPECT_EQ(S(1250, 2), "12.50");
  EXPECT_EQ(S(12, -2), "1200");
  EXPECT_EQ(S(0, -2), "0");
  EXPECT_EQ(S(-N(kMax38.c_str(), 0), 0), "-" + kMax38);
  EXPECT_EQ(S(N(kMax38.c_str(), 0), 38), "0." + kMax38);
}

// ---- text input ----

TEST_F(StdlibTest, TextToNumeric) {
  EXPECT_EQ(S(N("  1.005 ", 2), 2), "1.01");
  EXPECT_EQ(S(N("-1.005", 2), 2), "-1.01");
  EXPECT_EQ(S(N("+1.004", 2), 2), "1.00");
  EXPECT_EQ(S(N("1e3", 0), 0), "1000");
  EXPECT_EQ(S(N("1.5E-1", 2), 2), "0.15");
  EXPECT_EQ(S(N(".5", 1), 1), "0.5");
  EXPECT_EQ(S(N("5.", 1), 1), "5.0");
  EXPECT_EQ(S(N("0.000000000000000000000000000000000000000000000001", 2), 2), "0.00");
  EXPECT_EQ(S(N("00000000000000000000000000000000000000000000012", 0), 0), "12");
  EXPECT_EQ(S(N("1234.5", -2), -2), "1200");
  auto numeric = [](const char *text, int32_t scale, int32_t precision) {
    return raised(
        [=] { kiln_text_to_numeric(nullptr, text, std::strlen(text), scale, precision, 0); });
  };
  for (const char *bad : {"", " ", "abc", "1e", "1.2.3", "--1", "1 2", ".", "e5", "NaN", "1,5"})
    EXPECT_EQ(numeric(bad, 2, 38), KILN_ERR_INVALID_TEXT_CAST) << bad;
  EXPECT_EQ(numeric("1e38", 0, 38), KILN_ERR_NUMERIC_OVERFLOW);
  EXPECT_EQ(numeric("1e999999999", 0, 38), KILN_ERR_NUMERIC_OVERFLOW);
  EXPECT_EQ(numeric("0e999999999", 0, 38), 0);
  EXPECT_EQ(numeric("999.995", 2, 5), KILN_ERR_NUMERIC_OVERFLOW);
  EXPECT_EQ(numeric("999.994", 2, 5), 0);
  EXPECT_EQ(numeric(kMax38.c_str(), 0, 38), 0);
  EXPECT_EQ(numeric((kMax38 + ".5").c_str(), 0, 38), KILN_ERR_NUMERIC_OVERFLOW);
}

TEST_F(StdlibTest, TextToIntFloatBool) {
  auto toInt = [](const char *text, int64_t lo, int64_t hi, int64_t *out) {
    return raised([=] {
      *out =
          kiln_text_to_int(nullptr, text, std::strlen(text), lo, hi, KILN_ERR_INT_OUT_OF_RANGE, 0);
    });
  };
  int64_t v = 0;
  EXPECT_EQ(toInt(" 42 ", INT32_MIN, INT32_MAX, &v), 0);
  EXPECT_EQ(v, 42);
  EXPECT_EQ(toInt("+7", INT32_MIN, INT32_MAX, &v), 0);
  EXPECT_EQ(v, 7);
  EXPECT_EQ(toInt("-2147483648", INT32_MIN, INT32_MAX, &v), 0);
  EXPECT_EQ(v, INT32_MIN);
  EXPECT_EQ(toInt("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_EQ(toInt("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_EQ(toInt("2147483648", INT32_MIN, INT32_MAX, &v), KILN_ERR_INT_OUT_OF_RANGE);
  EXPECT_EQ(toInt("-2147483649", INT32_MIN, INT32_MAX, &v), KILN_ERR_INT_OUT_OF_RANGE);
  EXPECT_EQ(toInt("9223372036854775808", INT64_MIN, INT64_MAX, &v), KILN_ERR_INT_OUT_OF_RANGE);
  EXPECT_EQ(toInt("99999999999999999999999x", INT64_MIN, INT64_MAX, &v),
            KILN_ERR_INT_OUT_OF_RANGE); // overflow is noticed first, as in PostgreSQL
  for (const char *bad : {"", " ", "-", "+", "12a", "1 2", "1.0", "0x10", "--1", " - 1"})
    EXPECT_EQ(toInt(bad, INT32_MIN, INT32_MAX, &v), KILN_ERR_INVALID_TEXT_CAST) << bad;

  auto toFloat = [](const char *text, double *out) {
    return raised([=] { *out = kiln_text_to_f64(nullptr, text, std::strlen(text), 0); });
  };
  double d = 0;
  EXPECT_EQ(toFloat(" 1.5 ", &d), 0);
  EXPECT_EQ(d, 1.5);
  EXPECT_EQ(toFloat("-Infinity", &d), 0);
  EXPECT_EQ(d, -INFINITY);
  EXPECT_EQ(toFloat("inf", &d), 0);
  EXPECT_EQ(d, INFINITY);
  EXPECT_EQ(toFloat("NaN", &d), 0);
  EXPECT_TRUE(std::isnan(d));
  EXPECT_EQ(toFloat("4.9e-324", &d), 0); // denormal: accepted
  EXPECT_EQ(d, 5e-324);
  EXPECT_EQ(toFloat("1e400", &d), KILN_ERR_FLOAT_OUT_OF_RANGE);
  EXPECT_EQ(toFloat("-1e400", &d), KILN_ERR_FLOAT_OUT_OF_RANGE);
  EXPECT_EQ(toFloat("1e-400", &d), KILN_ERR_FLOAT_OUT_OF_RANGE);
  for (const char *bad : {"", " ", "abc", "1.5x", "1e", "Infinityx", "- 1"})
    EXPECT_EQ(toFloat(bad, &d), KILN_ERR_INVALID_TEXT_CAST) << bad;
  // Not NUL-terminated input: only n bytes are read.
  EXPECT_EQ(kiln_text_to_f64(nullptr, "12345", 2, 0), 12.0);

  auto toBool = [](const char *text, int32_t *out) {
    return raised([=] { *out = kiln_text_to_bool(nullptr, text, std::strlen(text), 0); });
  };
  int32_t b = -1;
  for (const char *t : {"t", "TRUE", " yes ", "y", "on", "1", "tr", "Tru"}) {
    EXPECT_EQ(toBool(t, &b), 0) << t;
    EXPECT_EQ(b, 1) << t;
  }
  for (const char *f : {"f", "False", "no", "N", "off", "of", "0", "fals"}) {
    EXPECT_EQ(toBool(f, &b), 0) << f;
    EXPECT_EQ(b, 0) << f;
  }
  for (const char *bad : {"", "o", "2", "truex", "yess", "onn", "x", "t r"})
    EXPECT_EQ(toBool(bad, &b), KILN_ERR_INVALID_TEXT_CAST) << bad;
}

// ---- dates and timestamps ----

TEST_F(StdlibTest, Dates) {
  EXPECT_EQ(DateText(0), "2000-01-01");
  EXPECT_EQ(DateText(-1), "1999-12-31");
  EXPECT_EQ(DateText(59), "2000-02-29");
  EXPECT_EQ(DateText(8825), "2024-02-29");
  EXPECT_EQ(DateText(-730119), "0001-01-01");
  EXPECT_EQ(DateText(-730120), "0001-12-31 BC");
  EXPECT_EQ(Date("2000-01-01"), 0);
  EXPECT_EQ(Date(" 2024-02-29 "), 8825);
  EXPECT_EQ(Date("2024-2-9"), Date("2024-02-09"));
  EXPECT_EQ(Date("1999-12-31"), -1);
  EXPECT_EQ(Date("0001-12-31 BC"), -730120);
  EXPECT_EQ(Date("2024-01-31 12:34:56"), Date("2024-01-31"));
  EXPECT_EQ(Date("4714-11-24 BC"), -2451545); // Julian day 0, PostgreSQL's first date
  EXPECT_EQ(DateText(Date("5874897-12-31")), "5874897-12-31");
  for (int32_t days = -800000; days <= 800000; days += 7)
    ASSERT_EQ(Date(DateText(days)), days) << days;
  for (int32_t days : {-2451545, 2145031948})
    ASSERT_EQ(Date(DateText(days)), days);

  auto date = [](const char *text) {
    return raised([=] { kiln_text_to_date(nullptr, text, std::strlen(text), 0); });
  };
  for (const char *bad : {"", "2024", "2024-01", "24-01-01", "2024/01/01", "2024-01-01x",
                          "2024-001-01", "2024-01-01 12", "2024-01-01 BCE"})
    EXPECT_EQ(date(bad), KILN_ERR_INVALID_TEXT_CAST) << bad;
  for (const char *range : {"1900-02-29", "2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31",
                            "0000-01-01", "5874898-01-01", "4714-11-23 BC"})
    EXPECT_EQ(date(range), KILN_ERR_DATE_OUT_OF_RANGE) << range;
}

TEST_F(StdlibTest, Timestamps) {
  const int64_t day = 86400000000;
  EXPECT_EQ(TsText(0), "2000-01-01 00:00:00");
  EXPECT_EQ(TsText(-1), "1999-12-31 23:59:59.999999");
  EXPECT_EQ(TsText(1500000), "2000-01-01 00:00:01.5");
  EXPECT_EQ(TsText(-day * 730120 + 1000), "0001-12-31 00:00:00.001 BC");
  EXPECT_EQ(Ts("2000-01-01"), 0);
  EXPECT_EQ(Ts("2000-01-01 00:00:01.5"), 1500000);
  EXPECT_EQ(Ts("1999-12-31 23:59:59.999999"), -1);
  EXPECT_EQ(Ts("2024-01-31T12:00"), Ts("2024-01-31 12:00:00"));
  EXPECT_EQ(Ts("2024-01-31 12:00:00.5"), Ts("2024-01-31") + 12 * 3600000000LL + 500000);
  EXPECT_EQ(Ts("2000-01-01 00:00:00.0000005"), 1); // rounds at microseconds
  EXPECT_EQ(Ts("2000-01-01 00:00:00.9999995"), 1000000);
  EXPECT_EQ(Ts("2024-01-01 24:00:00"), Ts("2024-01-02"));
  EXPECT_EQ(Ts("0001-12-31 00:00:00.001 BC"), -day * 730120 + 1000);
  EXPECT_EQ(TsText(Ts("294276-12-31 23:59:59.999999")), "294276-12-31 23:59:59.999999");
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    // From 4714-11-24 BC (PostgreSQL's first day) to about 275000 AD.
    int64_t micros =
        static_cast<int64_t>(rng() % uint64_t((2451545 + 100000000) * day)) - 2451545 * day;
    if (i % 2)
      micros -= micros % 1000000;
    ASSERT_EQ(Ts(TsText(micros)), micros) << micros;
  }

  auto ts = [](const char *text) {
    return raised([=] { kiln_text_to_timestamp(nullptr, text, std::strlen(text), 0); });
  };
  for (const char *bad : {"2024-01-01 12:", "2024-01-01 12:0", "2024-01-01 12:00:0",
                          "2024-01-01 12:00:00.", "2024-01-01 12:00:00x", "2024-01-01X12:00"})
    EXPECT_EQ(ts(bad), KILN_ERR_INVALID_TEXT_CAST) << bad;
  for (const char *range : {"2024-01-01 25:00:00", "2024-01-01 12:60:00", "2024-01-01 24:00:01",
                            "294277-01-01", "2024-02-30 00:00:00"})
    EXPECT_EQ(ts(range), KILN_ERR_DATE_OUT_OF_RANGE) << range;
}

TEST_F(StdlibTest, DateTrunc) {
  const int64_t t = Ts("2024-05-15 13:45:30.123456"); // a Wednesday
  const char *expected[] = {"2024-05-15 13:45:30.123456", "2024-05-15 13:45:30.123",
                            "2024-05-15 13:45:30",        "2024-05-15 13:45:00",
                            "2024-05-15 13:00:00",        "2024-05-15 00:00:00",
                            "2024-05-13 00:00:00",        "2024-05-01 00:00:00",
                            "2024-04-01 00:00:00",        "2024-01-01 00:00:00"};
  for (int32_t unit = 0; unit <= 9; ++unit)
    EXPECT_EQ(TsText(kiln_date_trunc(unit, t)), expected[unit]) << unit;
  // Before the epoch: floor, not truncation towards zero. 1999-12-31 was a Friday.
  const char *before[] = {"1999-12-31 23:59:59.999999", "1999-12-31 23:59:59.999",
                          "1999-12-31 23:59:59",        "1999-12-31 23:59:00",
                          "1999-12-31 23:00:00",        "1999-12-31 00:00:00",
                          "1999-12-27 00:00:00",        "1999-12-01 00:00:00",
                          "1999-10-01 00:00:00",        "1999-01-01 00:00:00"};
  for (int32_t unit = 0; unit <= 9; ++unit)
    EXPECT_EQ(TsText(kiln_date_trunc(unit, -1)), before[unit]) << unit;
  EXPECT_EQ(TsText(kiln_date_trunc(6, 0)), "1999-12-27 00:00:00"); // 2000-01-01: a Saturday
  EXPECT_EQ(TsText(kiln_date_trunc(6, Ts("2024-05-13 00:00:00"))), "2024-05-13 00:00:00");
  EXPECT_EQ(TsText(kiln_date_trunc(6, Ts("2024-05-19 23:59:59"))), "2024-05-13 00:00:00");
  EXPECT_EQ(TsText(kiln_date_trunc(8, Ts("2024-12-31 23:59:59"))), "2024-10-01 00:00:00");
  EXPECT_EQ(TsText(kiln_date_trunc(9, Ts("0044-03-15 12:00:00 BC"))), "0044-01-01 00:00:00 BC");
}

// ---- text functions ----

TEST_F(StdlibTest, Like) {
  EXPECT_TRUE(Like("abc", "abc"));
  EXPECT_FALSE(Like("abc", "ab"));
  EXPECT_FALSE(Like("ab", "abc"));
  EXPECT_TRUE(Like("abc", "a%"));
  EXPECT_TRUE(Like("abc", "%c"));
  EXPECT_TRUE(Like("abc", "%b%"));
  EXPECT_TRUE(Like("abc", "_b_"));
  EXPECT_FALSE(Like("abc", "a_"));
  EXPECT_TRUE(Like("", "%"));
  EXPECT_TRUE(Like("", ""));
  EXPECT_FALSE(Like("", "_"));
  EXPECT_FALSE(Like("a", ""));
  EXPECT_TRUE(Like("mississippi", "%iss%ppi"));
  EXPECT_TRUE(Like("mississippi", "m%s%s%i"));
  EXPECT_FALSE(Like("mississippi", "m%s%s%x"));
  EXPECT_TRUE(Like("aaa", "%%a%%"));
  EXPECT_TRUE(Like("abcabd", "%ab_"));
  EXPECT_TRUE(Like("xaab", "%a_b"));
  EXPECT_FALSE(Like("ab", "%_%_%_%"));
  // Backslash escapes.
  EXPECT_TRUE(Like("50%", "50\\%"));
  EXPECT_FALSE(Like("500", "50\\%"));
  EXPECT_TRUE(Like("a_b", "a\\_b"));
  EXPECT_FALSE(Like("axb", "a\\_b"));
  EXPECT_TRUE(Like("a\\b", "a\\\\b"));
  EXPECT_TRUE(Like("abc", "\\a\\b\\c"));
  EXPECT_TRUE(Like("x%y", "%\\%%"));
  EXPECT_FALSE(Like("xy", "%\\%%"));
  // A lone backslash at the end of the pattern raises when the match reaches it, as in PostgreSQL.
  EXPECT_EQ(raised([] { Like("a\\", "a\\"); }), KILN_ERR_LIKE_TRAILING_ESCAPE);
  EXPECT_EQ(raised([] { Like("ab", "a\\"); }), KILN_ERR_LIKE_TRAILING_ESCAPE);
  EXPECT_FALSE(Like("ab", "%b\\")); // the text ends first, so PostgreSQL does not raise either
  EXPECT_FALSE(Like("a", "b\\"));   // the mismatch comes first
  // ILIKE folds ASCII only.
  EXPECT_TRUE(Like("ABC", "a%c", true));
  EXPECT_FALSE(Like("ABC", "a%c", false));
  EXPECT_TRUE(Like("Straße", "STRA%E", true));
  EXPECT_FALSE(Like("É", "é", true));
  // `_` is one character, not one byte.
  EXPECT_TRUE(Like("é", "_"));
  EXPECT_TRUE(Like("aé", "a_"));
  EXPECT_FALSE(Like("é", "__"));
  EXPECT_TRUE(Like("héllo", "h_llo"));
  EXPECT_TRUE(Like("日本語", "%_語"));
  EXPECT_TRUE(Like("日本語", "_本%"));
  // No exponential blow-up.
  std::string many(2000, 'a');
  EXPECT_FALSE(Like(many, "%a%a%a%a%a%a%a%a%a%a%b"));
}

TEST_F(StdlibTest, Substr) {
  EXPECT_EQ(Substr("alphabet", 3, 2, true), "ph");
  EXPECT_EQ(Substr("alphabet", 3), "phabet");
  EXPECT_EQ(Substr("alphabet", 0, 3, true), "al");
  EXPECT_EQ(Substr("alphabet", -5, 7, true), "a");
  EXPECT_EQ(Substr("alphabet", -5, 6, true), "");
  EXPECT_EQ(Substr("alphabet", -5), "alphabet");
  EXPECT_EQ(Substr("alphabet", 10), "");
  EXPECT_EQ(Substr("alphabet", 8, 5, true), "t");
  EXPECT_EQ(Substr("alphabet", 2, 0, true), "");
  EXPECT_EQ(Substr("alphabet", 2, INT64_MAX, true), "lphabet");
  EXPECT_EQ(Substr("alphabet", INT64_MIN, INT64_MAX, true), "");
  EXPECT_EQ(Substr("héllo wörld", 2, 4, true), "éllo");
  EXPECT_EQ(Substr("héllo wörld", 8), "örld");
  EXPECT_EQ(raised([] {
              kiln_str out;
              kiln_substr(nullptr, "abc", 3, 1, -1, 1, 0, &out);
            }),
            KILN_ERR_NEGATIVE_SUBSTRING_LENGTH);
}

TEST_F(StdlibTest, StringFunctions) {
  kiln_str out;
  kiln_concat(nullptr, "ab", 2, "cd", 2, &out);
  EXPECT_EQ(str(out), "abcd");
  kiln_concat(nullptr, "", 0, "cd", 2, &out);
  EXPECT_EQ(str(out), "cd");
  kiln_concat(nullptr, "ab", 2, "", 0, &out);
  EXPECT_EQ(str(out), "ab");
  kiln_concat(nullptr, "", 0, "", 0, &out);
  EXPECT_EQ(str(out), "");
  kiln_lower(nullptr, "HeLLo ÉZ", 9, &out);
  EXPECT_EQ(str(out), "hello Éz");
  kiln_upper(nullptr, "HeLLo éz", 9, &out);
  EXPECT_EQ(str(out), "HELLO éZ");
  kiln_btrim(nullptr, "  a b  ", 7, &out);
  EXPECT_EQ(str(out), "a b");
  kiln_ltrim(nullptr, "  a b  ", 7, &out);
  EXPECT_EQ(str(out), "a b  ");
  kiln_rtrim(nullptr, "  a b  ", 7, &out);
  EXPECT_EQ(str(out), "  a b");
  kiln_btrim(nullptr, "   ", 3, &out);
  EXPECT_EQ(str(out), "");
  kiln_btrim(nullptr, "\ta\t", 3, &out); // spaces only
  EXPECT_EQ(str(out), "\ta\t");
  EXPECT_EQ(kiln_length("héllo", 6), 5);
  EXPECT_EQ(kiln_length("", 0), 0);
  EXPECT_EQ(kiln_length("日本語", 9), 3);

  auto replace = [&](const std::string &s, const std::string &from, const std::string &to) {
    kiln_replace(nullptr, s.data(), s.size(), from.data(), from.size(), to.data(), to.size(), &out);
    return str(out);
  };
  EXPECT_EQ(replace("abcabc", "bc", "X"), "aXaX");
  EXPECT_EQ(replace("abcabc", "b", "BBB"), "aBBBcaBBBc");
  EXPECT_EQ(replace("aaaa", "aa", "a"), "aa");
  EXPECT_EQ(replace("abc", "", "X"), "abc");
  EXPECT_EQ(replace("abc", "x", "X"), "abc");
  EXPECT_EQ(replace("abc", "abc", ""), "");
  EXPECT_EQ(replace("ab", "abc", "X"), "ab");
}

// ---- hashing and comparison ----

TEST_F(StdlibTest, HashingAndComparison) {
  std::string text = "the quick brown fox jumps over the lazy dog, repeatedly and at length";
  std::set<uint64_t> seen;
  for (size_t n = 0; n <= text.size(); ++n) {
    uint64_t h = kiln_hash_bytes(text.data(), n);
    EXPECT_EQ(h, kiln_hash_bytes(std::string(text, 0, n).data(), n)); // content, not address
    seen.insert(h);
  }
  EXPECT_EQ(seen.size(), text.size() + 1);
  EXPECT_NE(kiln_hash_bytes("a", 1), kiln_hash_bytes("b", 1));
  EXPECT_NE(kiln_hash_bytes("\0", 1), kiln_hash_bytes("\0\0", 2));
  // Every input bit flips about half of the output bits.
  for (int bit = 0; bit < 64; ++bit) {
    uint64_t a = kiln_hash_mix(12345, 0), b = kiln_hash_mix(12345, uint64_t(1) << bit);
    int flipped = __builtin_popcountll(a ^ b);
    EXPECT_GT(flipped, 12) << bit;
    EXPECT_LT(flipped, 52) << bit;
  }
  EXPECT_NE(kiln_hash_mix(kiln_hash_mix(0, 1), 2), kiln_hash_mix(kiln_hash_mix(0, 2), 1));
  EXPECT_NE(kiln_hash_mix(0, 0), 0u);

  EXPECT_LT(kiln_text_cmp("ab", 2, "abc", 3), 0);
  EXPECT_GT(kiln_text_cmp("b", 1, "abc", 3), 0);
  EXPECT_EQ(kiln_text_cmp("abc", 3, "abc", 3), 0);
  EXPECT_GT(kiln_text_cmp("\xc3\xa9", 2, "z", 1), 0); // bytes compare unsigned ("C")
  EXPECT_TRUE(kiln_text_eq("abc", 3, "abc", 3));
  EXPECT_FALSE(kiln_text_eq("abc", 3, "abd", 3));
  EXPECT_FALSE(kiln_text_eq("abc", 3, "ab", 2));

  EXPECT_EQ(kiln_f64_cmp(1, 2), -1);
  EXPECT_EQ(kiln_f64_cmp(2, 1), 1);
  EXPECT_EQ(kiln_f64_cmp(-0.0, 0.0), 0);
  EXPECT_EQ(kiln_f64_cmp(NAN, NAN), 0);
  EXPECT_EQ(kiln_f64_cmp(NAN, INFINITY), 1);
  EXPECT_EQ(kiln_f64_cmp(-INFINITY, NAN), -1);
}

} // namespace

namespace {
bool RegexLike(const std::string &s, const std::string &p, const std::string &flags = "") {
  return kiln_regexp_like(nullptr, s.data(), static_cast<int64_t>(s.size()), p.data(),
                          static_cast<int64_t>(p.size()), flags.data(),
                          static_cast<int64_t>(flags.size()), 0);
}
std::string RegexReplace(const std::string &s, const std::string &p, const std::string &r,
                         const std::string &flags = "") {
  kiln_str out;
  kiln_regexp_replace(nullptr, s.data(), static_cast<int64_t>(s.size()), p.data(),
                      static_cast<int64_t>(p.size()), r.data(), static_cast<int64_t>(r.size()),
                      flags.data(), static_cast<int64_t>(flags.size()), 0, &out);
  return str(out);
}
} // namespace

TEST_F(StdlibTest, RegularExpressions) {
  EXPECT_TRUE(RegexLike("abc123", "^[a-c]+[0-9]*$"));
  EXPECT_FALSE(RegexLike("abc", "ABC"));
  EXPECT_TRUE(RegexLike("abc", "ABC", "i"));
  EXPECT_FALSE(RegexLike("abc", "ABC", "ic")); // the last of i and c wins
  EXPECT_TRUE(RegexLike("a\nb", "a.b"));       // PostgreSQL: `.` matches a newline
  EXPECT_FALSE(RegexLike("a\nb", "a.b", "n"));
  EXPECT_FALSE(RegexLike("ab\n", "b$")); // and `$` is only the end
  EXPECT_TRUE(RegexLike("ab\nc", "b$", "n"));
  EXPECT_TRUE(RegexLike("héé", "^hé+$")); // characters, not bytes
  EXPECT_TRUE(RegexLike("ab", "a b # a comment", "x"));
  EXPECT_TRUE(RegexLike("x9", "[[:digit:]]"));
  EXPECT_EQ(raised([] { RegexLike("a", "("); }), KILN_ERR_INVALID_REGEX);
  EXPECT_EQ(raised([] { RegexLike("a", "a", "z"); }), KILN_ERR_INVALID_REGEX_OPTION);
  EXPECT_EQ(raised([] { RegexLike("a", "a", "g"); }), KILN_ERR_INVALID_REGEX_OPTION);

  EXPECT_EQ(RegexReplace("abc", "b", "X"), "aXc");
  EXPECT_EQ(RegexReplace("banana", "a", "_"), "b_nana"); // the first match only
  EXPECT_EQ(RegexReplace("banana", "a", "_", "g"), "b_n_n_");
  EXPECT_EQ(RegexReplace("a1b2", "([a-z])([0-9])", "\\2\\1", "g"), "1a2b");
  EXPECT_EQ(RegexReplace("abc", "b", "<\\&>"), "a<b>c");
  EXPECT_EQ(RegexReplace("abc", "b", "\\\\"), "a\\c");
  EXPECT_EQ(RegexReplace("abc", "x*", "-", "g"), "-a-b-c-"); // empty matches, as PostgreSQL
  EXPECT_EQ(RegexReplace("ABC", "b", "x", "gi"), "AxC");
  EXPECT_EQ(RegexReplace("abc", "z", "x"), "abc");
  EXPECT_EQ(RegexReplace("abc", "(z)?b", "[\\1]"), "a[]c"); // an unset group is empty
  EXPECT_EQ(raised([] { RegexReplace("a", "[", "x"); }), KILN_ERR_INVALID_REGEX);
}

namespace {

// An interval of PostgreSQL's three fields, and its text as the stdlib prints it.
i128 Iv(int32_t months, int32_t days, int64_t micros) {
  return kiln_interval_pack({months, days, micros});
}
std::string IvText(i128 v) {
  kiln_str out;
  kiln_text_from_interval(nullptr, v, &out);
  return str(out);
}

} // namespace

// ---- intervals: PostgreSQL 15's answers ----

TEST_F(StdlibTest, IntervalTextAsPostgresPrintsIt) {
  EXPECT_EQ(IvText(Iv(14, 3, 14706500000)), "1 year 2 mons 3 days 04:05:06.5");
  EXPECT_EQ(IvText(Iv(0, -1, 7200000000)), "-1 days +02:00:00");
  EXPECT_EQ(IvText(Iv(0, 0, 0)), "00:00:00");
  EXPECT_EQ(IvText(Iv(0, 0, -1000000)), "-00:00:01");
  EXPECT_EQ(IvText(Iv(0, 0, 90000000000)), "25:00:00");
  EXPECT_EQ(IvText(Iv(1, -1, 0)), "1 mon -1 days");
  EXPECT_EQ(IvText(Iv(-1, -15, 0)), "-1 mons -15 days");
  EXPECT_EQ(IvText(Iv(0, 0, 1)), "00:00:00.000001");
  EXPECT_EQ(IvText(Iv(-24, 1, 0)), "-2 years +1 day");
}

TEST_F(StdlibTest, IntervalArithmeticAsPostgres) {
  EXPECT_EQ(IvText(kiln_interval_diff(Ts("2024-03-01 10:00:00"), Ts("2024-02-28 12:30:15.25"))),
            "1 day 21:29:44.75");
  EXPECT_EQ(IvText(kiln_interval_diff(Ts("2024-01-01"), Ts("2024-01-02 01:00:00"))),
            "-1 days -01:00:00");
  EXPECT_EQ(IvText(kiln_interval_mul(nullptr, Iv(0, 1, 0), 1.5, 0)), "1 day 12:00:00");
  EXPECT_EQ(IvText(kiln_interval_mul(nullptr, Iv(1, 0, 0), 0.5, 0)), "15 days");
  EXPECT_EQ(IvText(kiln_interval_div(nullptr, Iv(0, 0, 3600000000), 3, 0)), "00:20:00");
  EXPECT_EQ(IvText(kiln_interval_mul(nullptr, Iv(1, 1, 0), -2, 0)), "-2 mons -2 days");
  EXPECT_EQ(IvText(kiln_interval_div(nullptr, Iv(12, 0, 0), 7, 0)), "1 mon 21 days 10:17:08.5344");
  EXPECT_EQ(raised([] { kiln_interval_mul(nullptr, Iv(0, 1, 0), 1e20, 0); }),
            KILN_ERR_INTERVAL_OUT_OF_RANGE);
  EXPECT_EQ(raised([] { kiln_interval_div(nullptr, Iv(0, 1, 0), 0, 0); }),
            KILN_ERR_DIVISION_BY_ZERO);
  EXPECT_EQ(raised([] { kiln_interval_add(nullptr, Iv(0, INT32_MAX, 0), Iv(0, 1, 0), 1, 0); }),
            KILN_ERR_INTERVAL_OUT_OF_RANGE);
  // Equal spans: a month is 30 days, a day 24 hours.
  EXPECT_EQ(kiln_interval_cmp(Iv(0, 1, 0), Iv(0, 0, 86400000000)), 0);
  EXPECT_EQ(kiln_interval_cmp(Iv(1, 0, 0), Iv(0, 30, 0)), 0);
  EXPECT_EQ(kiln_interval_cmp(Iv(1, 0, 0), Iv(0, 29, 86399000000)), 1);
  EXPECT_EQ(TsText(kiln_add_interval(nullptr, Ts("2024-01-31 00:00:00"), Iv(1, 0, 0), 0)),
            "2024-02-29 00:00:00");
  // Past 294276 AD (found by fuzz_model, folding a constant): PostgreSQL's range error.
  EXPECT_EQ(
      raised([] { kiln_add_interval(nullptr, Ts("2024-01-31 00:00:00"), Iv(0, 844934110, 0), 0); }),
      KILN_ERR_TIMESTAMP_OUT_OF_RANGE);
  EXPECT_EQ(
      raised([] { kiln_add_interval(nullptr, Ts("2024-01-31 00:00:00"), Iv(INT32_MAX, 0, 0), 0); }),
      KILN_ERR_TIMESTAMP_OUT_OF_RANGE);
}

TEST_F(StdlibTest, IntervalFields) {
  i128 v = Iv(14, 3, 14706500000); // 1 year 2 mons 3 days 04:05:06.5
  EXPECT_EQ(S(kiln_extract_interval(KILN_FIELD_EPOCH, v, 6), 6), "37015506.500000");
  EXPECT_EQ(S(kiln_extract_interval(KILN_FIELD_SECOND, v, 6), 6), "6.500000");
  EXPECT_EQ(S(kiln_extract_interval(KILN_FIELD_YEAR, v, 0), 0), "1");
  EXPECT_EQ(S(kiln_extract_interval(KILN_FIELD_MONTH, v, 0), 0), "2");
  EXPECT_EQ(S(kiln_extract_interval(KILN_FIELD_HOUR, Iv(0, 0, -90000000000), 0), 0), "-25");
  EXPECT_EQ(S(kiln_extract_interval(KILN_FIELD_QUARTER, Iv(7, 0, 0), 0), 0), "3");
  EXPECT_EQ(S(kiln_extract_interval(KILN_FIELD_MILLISECONDS, Iv(0, 0, 1500000), 3), 3), "1500.000");
  EXPECT_EQ(kiln_date_part_interval(KILN_FIELD_EPOCH, Iv(0, 1, 1000000)), 86401.0);
}
