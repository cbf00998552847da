// INTERVAL constants in date and timestamp arithmetic: `o_orderdate < date '1995-01-01' +
// interval '3' month`, `ts - interval '90 days'`, `ts + 2 * interval '1 hour'`. An interval here is
// a constant of months, days and microseconds (PostgreSQL's three parts), evaluated from the
// query's text by the binder; `timestamp + interval` is folded when the timestamp is a constant too
// and is otherwise a call of kiln_add_interval, which adds the parts as PostgreSQL does (months on
// the calendar, then days, then microseconds; kiln/runtime/civil.h). Interval values anywhere else
// (selected, stored, compared, computed from columns) are not supported yet: a located error says
// so.
#include "BinderImpl.h"

#include "kiln/runtime/civil.h"

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

bool fitsInt32(int64_t v) {
  return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
}

ExprPtr intLiteral(int64_t v, Type type) {
  ir::Value value;
  value.is_null = false;
  value.i = v;
  return ir::makeLiteral(value, type);
}

} // namespace

Binder::IntervalForm Binder::constantInterval(const ast::Expr &expr, IntervalValue &out) {
  using K = ast::ExprKind;
  if (expr.kind == K::Cast && expr.cast_type.name == "interval") {
    const ast::Expr &operand = *expr.args[0];
    if (operand.kind != K::Literal || operand.literal_kind != ast::LiteralKind::String) {
      error(expr.range, "only constant intervals are supported so far").hint =
          "write the interval as a literal, such as interval '3 days', or multiply one by a "
          "constant";
      return IntervalForm::Failed;
    }
    out = {};
    if (!parseInterval(operand.text, expr.cast_type.interval_fields, out)) {
      error(operand.range, "invalid input syntax for type interval: \"" + operand.text + "\"")
          .hint = "write a number and a unit, such as '3 days', '1 year 2 months' or '02:30:00'";
      return IntervalForm::Failed;
    }
    return IntervalForm::Constant;
  }
  if (expr.kind == K::Unary && (expr.op == "-" || expr.op == "+")) {
    IntervalForm form = constantInterval(*expr.args[0], out);
    if (form == IntervalForm::Constant && expr.op == "-")
      out = {-out.months, -out.days, -out.micros};
    return form;
  }
  if (expr.kind == K::Binary && (expr.op == "+" || expr.op == "-")) {
    IntervalValue a, b;
    IntervalForm left = constantInterval(*expr.args[0], a);
    if (left == IntervalForm::Failed)
      return left;
    IntervalForm right = constantInterval(*expr.args[1], b);
    if (right == IntervalForm::Failed)
      return right;
    if (left != IntervalForm::Constant || right != IntervalForm::Constant)
      return IntervalForm::None; // a date or timestamp plus an interval, or no interval at all
    int64_t sign = expr.op == "+" ? 1 : -1;
    out = {a.months + sign * b.months, a.days + sign * b.days, a.micros + sign * b.micros};
    return IntervalForm::Constant;
  }
  if (expr.kind == K::Binary && expr.op == "*") {
    for (int side = 0; side < 2; ++side) {
      const ast::Expr &factor = *expr.args[static_cast<size_t>(1 - side)];
      IntervalForm form = constantInterval(*expr.args[static_cast<size_t>(side)], out);
      if (form == IntervalForm::Failed)
        return form;
      if (form != IntervalForm::Constant)
        continue;
      if (factor.kind != K::Literal || factor.literal_kind != ast::LiteralKind::Integer) {
        error(factor.range, "an interval can be multiplied only by an integer constant so far");
        return IntervalForm::Failed;
      }
      int64_t n = std::strtoll(factor.text.c_str(), nullptr, 10);
      out = {out.months * n, out.days * n, out.micros * n};
      return IntervalForm::Constant;
    }
  }
  return IntervalForm::None;
}

std::optional<Bound> Binder::bindIntervalArithmetic(const ast::Expr &expr, const Scope &scope) {
  IntervalValue interval;
  int interval_side = -1;
  for (int side = 1; side >= 0 && interval_side < 0; --side) {
    IntervalForm form = constantInterval(*expr.args[static_cast<size_t>(side)], interval);
    if (form == IntervalForm::Failed)
      return Bound{};
    if (form == IntervalForm::Constant)
      interval_side = side;
  }
  if (interval_side < 0)
    return std::nullopt;
  const ast::Expr &other = *expr.args[static_cast<size_t>(1 - interval_side)];
  IntervalValue unused;
  if (constantInterval(other, unused) == IntervalForm::Constant ||
      (interval_side == 0 && expr.op == "-")) {
    error(expr.range, "interval values are supported only added to or subtracted from a date or "
                      "timestamp so far")
        .hint = "add the intervals to the date or timestamp one after another";
    return Bound{};
  }
  if (expr.op == "-")
    interval = {-interval.months, -interval.days, -interval.micros};
  Bound base = bindExpr(other, scope);
  if (!base)
    return Bound{};
  if (!base.unknown && base.expr->type.kind != TypeKind::Date && !base.expr->type.isTimestamp()) {
    std::string left = interval_side == 0 ? "interval" : base.expr->type.sqlName();
    std::string right = interval_side == 0 ? base.expr->type.sqlName() : "interval";
    error(expr.range, "operator does not exist: " + left + " " + expr.op + " " + right).hint =
        "an interval is added to a date or a timestamp";
    return Bound{};
  }
  if (!fitsInt32(interval.months) || !fitsInt32(interval.days)) {
    error(expr.range, "interval out of range");
    return Bound{};
  }
  // PostgreSQL's date + interval is a timestamp; a timestamptz's calendar is UTC's, the session's
  // time zone, so it adds as a timestamp does.
  Type type = !base.unknown && base.expr->type.isTimestamp() ? base.expr->type : Type::timestamp();
  ExprPtr timestamp = coerce(std::move(base), type, other.range);
  if (!timestamp)
    return Bound{};
  ir::Location loc = location(expr.range);
  if (timestamp->op == ExprOp::Literal) {
    ir::Value value = timestamp->literal;
    if (!value.is_null)
      value.i =
          kiln_timestamp_add_interval(value.i, interval.months, interval.days, interval.micros);
    return Bound{ir::makeLiteral(value, type), false};
  }
  bool nullable = timestamp->nullable;
  std::vector<ExprPtr> args;
  args.push_back(std::move(timestamp));
  args.push_back(intLiteral(interval.months, Type::int32()));
  args.push_back(intLiteral(interval.days, Type::int32()));
  args.push_back(intLiteral(interval.micros, Type::int64()));
  ExprPtr call = ir::makeCall(ExprOp::Call, type, std::move(args), loc);
  call->function = ir::FunctionId::AddInterval;
  call->nullable = nullable;
  return Bound{std::move(call), false};
}

} // namespace kiln::binder
