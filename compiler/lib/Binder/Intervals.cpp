// Intervals: PostgreSQL's input of interval constants (`interval '3' month`, '1 day 02:00:00',
// '@ 3 hours ago'), and the arithmetic of intervals with dates and timestamps: `ts - ts` is an
// interval, `ts + interval` a timestamp (kiln_add_interval: months on the calendar, then days,
// then microseconds; kiln/runtime/civil.h), intervals add, negate, and multiply and divide by
// numbers (kiln/runtime/interval.h). Constants are folded here with the same code the stdlib runs.
#include "BinderImpl.h"

#include "kiln/Binder/Literals.h"
#include "kiln/runtime/civil.h"
#include "kiln/runtime/interval.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace kiln::binder {

using ir::ExprOp;
using ir::ExprPtr;
using ir::Type;
using ir::TypeKind;

namespace {

// How many months, days and microseconds one of a unit is.
struct IntervalUnit {
  const char *names[5];
  int64_t months, days, micros;
};

constexpr int64_t kMicrosPerSecond = 1000000;
const IntervalUnit kIntervalUnits[] = {
    {{"microsecond", "microseconds", "us", "usec", "usecs"}, 0, 0, 1},
    {{"millisecond", "milliseconds", "ms", "msec", "msecs"}, 0, 0, 1000},
    {{"second", "seconds", "s", "sec", "secs"}, 0, 0, kMicrosPerSecond},
    {{"minute", "minutes", "m", "min", "mins"}, 0, 0, 60 * kMicrosPerSecond},
    {{"hour", "hours", "h", "hr", "hrs"}, 0, 0, 3600 * kMicrosPerSecond},
    {{"day", "days", "d", nullptr, nullptr}, 0, 1, 0},
    {{"week", "weeks", "w", nullptr, nullptr}, 0, 7, 0},
    {{"month", "months", "mon", "mons", nullptr}, 1, 0, 0},
    {{"year", "years", "y", "yr", "yrs"}, 12, 0, 0},
    {{"decade", "decades", "dec", "decs", nullptr}, 120, 0, 0},
    {{"century", "centuries", "c", "cent", nullptr}, 1200, 0, 0},
    {{"millennium", "millennia", "mil", "mils", nullptr}, 12000, 0, 0},
};

const IntervalUnit *findIntervalUnit(std::string_view name) {
  for (const IntervalUnit &unit : kIntervalUnits)
    for (const char *spelling : unit.names)
      if (spelling != nullptr && name == spelling)
        return &unit;
  return nullptr;
}

// `part` added to `total`, unless it is not a number or either leaves 64 bits (PostgreSQL's
// "interval field value out of range"; found by fuzz_model).
bool addPart(int64_t &total, double part) {
  if (!(std::fabs(part) < 9.2e18))
    return false;
  return !__builtin_add_overflow(total, static_cast<int64_t>(part), &total);
}

// Adds `amount` of `unit`, spilling fractions down as PostgreSQL does: a fraction of a month is
// 30 days, a fraction of a day 24 hours. False if a field leaves its range.
bool addUnits(IntervalValue &out, double amount, const IntervalUnit &unit) {
  double months = amount * static_cast<double>(unit.months);
  double whole_months = std::trunc(months);
  double days = amount * static_cast<double>(unit.days) + (months - whole_months) * 30;
  double whole_days = std::trunc(days);
  double micros = std::round(amount * static_cast<double>(unit.micros) +
                             (days - whole_days) * static_cast<double>(KILN_MICROS_PER_DAY));
  return addPart(out.months, whole_months) && addPart(out.days, whole_days) &&
         addPart(out.micros, micros);
}

// [-]H:MM[:SS[.ffffff]] as microseconds.
bool parseClock(std::string_view text, int64_t &micros) {
  bool negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+'))
    text.remove_prefix(1);
  double parts[3] = {0, 0, 0};
  int count = 0;
  while (count < 3) {
    size_t colon = text.find(':');
    std::string part(text.substr(0, colon));
    if (part.empty() || part.find_first_not_of("0123456789.") != std::string::npos)
      return false;
    if (count < 2 && part.find('.') != std::string::npos)
      return false;
    parts[count++] = std::strtod(part.c_str(), nullptr);
    if (colon == std::string_view::npos)
      break;
    text.remove_prefix(colon + 1);
    if (count == 3)
      return false;
  }
  if (count < 2)
    return false;
  double total = (parts[0] * 3600 + parts[1] * 60 + parts[2]) * kMicrosPerSecond;
  if (!(total < 9.2e18))
    return false;
  micros = std::llround(negative ? -total : total);
  return true;
}

// PostgreSQL's interval input, in the forms queries write: `3 days`, `1 year 2 mons`,
// `1 day 02:00:00`, `@ 3 hours ago`, or a bare number in the unit of the type's last field
// (`interval '90' day`) or else seconds.
bool parseInterval(std::string_view text, std::string_view fields, IntervalValue &out) {
  std::string lower;
  for (char ch : text)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::vector<std::string> words;
  size_t i = 0;
  while (i < lower.size()) {
    while (i < lower.size() && std::isspace(static_cast<unsigned char>(lower[i])))
      ++i;
    size_t start = i;
    // A number and its unit may be written together ("3days").
    while (i < lower.size() && !std::isspace(static_cast<unsigned char>(lower[i])) &&
           !(i > start && std::isalpha(static_cast<unsigned char>(lower[i])) &&
             !std::isalpha(static_cast<unsigned char>(lower[i - 1]))))
      ++i;
    if (i > start)
      words.push_back(lower.substr(start, i - start));
  }
  if (!words.empty() && words[0] == "@")
    words.erase(words.begin());
  bool ago = !words.empty() && words.back() == "ago";
  if (ago)
    words.pop_back();
  if (words.empty())
    return false;
  auto number = [](const std::string &word, double &value) {
    if (word.empty() || word.find_first_not_of("+-0123456789.") != std::string::npos ||
        word.find_first_of("0123456789") == std::string::npos)
      return false;
    char *end = nullptr;
    value = std::strtod(word.c_str(), &end);
    return *end == '\0';
  };
  for (size_t w = 0; w < words.size(); ++w) {
    double value = 0;
    if (words[w].find(':') != std::string::npos) {
      int64_t micros = 0;
      if (!parseClock(words[w], micros) || __builtin_add_overflow(out.micros, micros, &out.micros))
        return false;
      continue;
    }
    if (!number(words[w], value))
      return false;
    // A number and its unit; or a bare number, in the unit of the type's last field (else
    // seconds), when a number, a clock or nothing follows.
    double next = 0;
    bool unit_follows = w + 1 < words.size() && !number(words[w + 1], next) &&
                        words[w + 1].find(':') == std::string::npos;
    std::string_view last =
        fields.substr(fields.rfind(' ') == std::string_view::npos ? 0 : fields.rfind(' ') + 1);
    const IntervalUnit *unit = findIntervalUnit(unit_follows   ? std::string_view(words[++w])
                                                : last.empty() ? std::string_view("second")
                                                               : last);
    if (unit == nullptr)
      return false;
    if (!addUnits(out, value, *unit))
      return false;
  }
  if (ago) {
    out.months = -out.months;
    out.days = -out.days;
    out.micros = -out.micros;
  }
  return true;
}

} // namespace

std::optional<ir::Value> parseIntervalLiteral(std::string_view text, std::string_view fields,
                                              std::string &error) {
  IntervalValue parsed;
  if (!parseInterval(text, fields, parsed)) {
    error = "invalid input syntax for type interval: \"" + std::string(text) + "\"";
    return std::nullopt;
  }
  if (parsed.months < INT32_MIN || parsed.months > INT32_MAX || parsed.days < INT32_MIN ||
      parsed.days > INT32_MAX) {
    error = "interval out of range";
    return std::nullopt;
  }
  ir::Value v;
  v.is_null = false;
  v.n = kiln_interval_pack(
      {static_cast<int32_t>(parsed.months), static_cast<int32_t>(parsed.days), parsed.micros});
  return v;
}

namespace {

bool isDatetime(const Type &t) { return t.kind == TypeKind::Date || t.isTimestamp(); }

ir::Value packed(kiln_interval v) {
  ir::Value value;
  value.is_null = false;
  value.n = kiln_interval_pack(v);
  return value;
}

} // namespace

std::optional<Bound> Binder::bindIntervalArithmetic(const std::string &op, Bound &left,
                                                    Bound &right, SourceRange range) {
  auto typeOf = [](const Bound &b) { return b.unknown ? Type::null() : b.expr->type; };
  Type lt = typeOf(left), rt = typeOf(right);
  bool left_interval = lt.kind == TypeKind::Interval,
       right_interval = rt.kind == TypeKind::Interval;
  ir::Location loc = location(range);
  bool nullable = left.expr->nullable || right.expr->nullable;
  auto literal = [](const ExprPtr &e) { return e->op == ExprOp::Literal && !e->literal.is_null; };
  auto call = [&](ExprOp kind, Type type, ExprPtr a, ExprPtr b) {
    ExprPtr e = ir::makeCall(kind, type, {}, loc);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    e->nullable = nullable;
    return Bound{std::move(e), false};
  };
  auto outOfRange = [&]() {
    error(range, "interval out of range");
    return Bound{};
  };
  // timestamp - timestamp (a date meeting a timestamp is one): an interval.
  if (op == "-" && isDatetime(lt) && isDatetime(rt) && (lt.isTimestamp() || rt.isTimestamp())) {
    std::optional<Type> common = commonType({&left, &right}, range, "operator -");
    if (!common)
      return Bound{};
    ExprPtr a = coerce(std::move(left), *common, range),
            b = coerce(std::move(right), *common, range);
    if (!a || !b)
      return Bound{};
    if (literal(a) && literal(b))
      return Bound{ir::makeLiteral(packed(kiln_timestamp_diff(a->literal.i, b->literal.i)),
                                   Type::interval()),
                   false};
    return call(ExprOp::Sub, Type::interval(), std::move(a), std::move(b));
  }
  if (!left_interval && !right_interval)
    return std::nullopt;
  // A date or timestamp plus or minus an interval: kiln_add_interval of the interval or its
  // negation. PostgreSQL's date + interval is a timestamp; a timestamptz's calendar is UTC's.
  if ((op == "+" || op == "-") &&
      (isDatetime(lt) || isDatetime(rt) || left.unknown || right.unknown)) {
    bool interval_left = left_interval;
    if (interval_left && op == "-") {
      error(range, "operator does not exist: interval - " +
                       (right.unknown ? std::string("unknown") : rt.sqlName()))
          .hint = "subtract the interval from the date or timestamp";
      return Bound{};
    }
    Bound &base = interval_left ? right : left;
    Bound &interval = interval_left ? left : right;
    Type type =
        !base.unknown && base.expr->type.isTimestamp() ? base.expr->type : Type::timestamp();
    ExprPtr timestamp = coerce(std::move(base), type, range);
    ExprPtr amount = std::move(interval.expr);
    if (!timestamp || !amount)
      return Bound{};
    if (op == "-") {
      if (literal(amount)) {
        kiln_interval negated;
        if (!kiln_interval_add_checked({0, 0, 0}, kiln_interval_unpack(amount->literal.n), -1,
                                       &negated))
          return outOfRange();
        amount = ir::makeLiteral(packed(negated), Type::interval());
      } else {
        ExprPtr negated = ir::makeCall(ExprOp::Neg, Type::interval(), {}, loc);
        negated->nullable = amount->nullable;
        negated->args.push_back(std::move(amount));
        amount = std::move(negated);
      }
    }
    if (literal(timestamp) && literal(amount)) {
      kiln_interval v = kiln_interval_unpack(amount->literal.n);
      ir::Value value = timestamp->literal;
      value.i = kiln_timestamp_add_interval(value.i, v.months, v.days, v.micros);
      return Bound{ir::makeLiteral(value, type), false};
    }
    std::vector<ExprPtr> args;
    args.push_back(std::move(timestamp));
    args.push_back(std::move(amount));
    ExprPtr e = ir::makeCall(ExprOp::Call, type, std::move(args), loc);
    e->function = ir::FunctionId::AddInterval;
    e->nullable = nullable;
    return Bound{std::move(e), false};
  }
  // interval +/- interval.
  if ((op == "+" || op == "-") && (left_interval || left.unknown) &&
      (right_interval || right.unknown)) {
    ExprPtr a = coerce(std::move(left), Type::interval(), range);
    ExprPtr b = coerce(std::move(right), Type::interval(), range);
    if (!a || !b)
      return Bound{};
    if (literal(a) && literal(b)) {
      kiln_interval sum;
      if (!kiln_interval_add_checked(kiln_interval_unpack(a->literal.n),
                                     kiln_interval_unpack(b->literal.n), op == "+" ? 1 : -1, &sum))
        return outOfRange();
      return Bound{ir::makeLiteral(packed(sum), Type::interval()), false};
    }
    return call(op == "+" ? ExprOp::Add : ExprOp::Sub, Type::interval(), std::move(a),
                std::move(b));
  }
  // interval * number, number * interval, interval / number: the number as a double precision.
  if ((op == "*" && (left_interval != right_interval)) || (op == "/" && left_interval)) {
    Bound &interval = left_interval ? left : right;
    Bound &factor = left_interval ? right : left;
    if (!factor.unknown && !factor.expr->type.isNumericLike()) {
      error(range, "operator does not exist: " + lt.sqlName() + " " + op + " " + rt.sqlName());
      return Bound{};
    }
    ExprPtr a = std::move(interval.expr);
    ExprPtr b = coerce(std::move(factor), Type::float64(), range);
    if (!b)
      return Bound{};
    if (literal(a) && literal(b)) {
      kiln_interval product;
      if (op == "/" && b->literal.f == 0.0) {
        error(range, "division by zero");
        return Bound{};
      }
      bool ok = op == "*" ? kiln_interval_mul_checked(kiln_interval_unpack(a->literal.n),
                                                      b->literal.f, &product)
                          : kiln_interval_div_checked(kiln_interval_unpack(a->literal.n),
                                                      b->literal.f, &product);
      if (!ok)
        return outOfRange();
      return Bound{ir::makeLiteral(packed(product), Type::interval()), false};
    }
    return call(op == "*" ? ExprOp::Mul : ExprOp::Div, Type::interval(), std::move(a),
                std::move(b));
  }
  error(range,
        "operator does not exist: " + (left.unknown ? std::string("unknown") : lt.sqlName()) + " " +
            op + " " + (right.unknown ? std::string("unknown") : rt.sqlName()))
      .hint = "intervals add to dates, timestamps and intervals, and multiply or divide by numbers";
  return Bound{};
}

} // namespace kiln::binder
