// Prints the textual form of the incremental IR. The format (parsed back by Parser.cpp):
//
//   module @shop {
//     %0 = source "shop.orders" key [$0] : (id i64 not null, amount numeric(12,2)) loc("s.yml":3:9)
//     %1 = filter %0 (gt $1 (numeric(12,2) 0.00)) append_only
//     %2 = map %1 [$0, (add $1 (numeric(12,2) 1.00) : numeric(13,2))] : (id i64 not null, a ...)
//     %3 = join %1, %2 on [$0 = $0]
//     %4 = aggregate %3 group [$0] [count_star() as n : i64, sum($1) as total : numeric(38,2)]
//     %5 = sink "revenue" %4
//   }
//
// What SQL's rules determine is left out and recomputed by the parser: an operator's schema when
// it equals inferSchema(), a column reference's type and nullability when they are the input
// column's, an operation's result type when fixed (comparisons are bool), and nullability when
// it is inferNullable()'s. Anything that deviates is printed, so every field round-trips.

#include "kiln/IR/TextFormat.h"
#include "kiln/IR/Utils.h"

#include "Syntax.h"
#include "kiln/runtime/interval.h"

#include <charconv>
#include <ostream>
#include <sstream>
#include <unordered_map>

namespace kiln::ir {
namespace {

std::string int128String(__int128 value) {
  unsigned __int128 magnitude = value < 0 ? -(unsigned __int128)value : value;
  std::string digits;
  do {
    digits.insert(digits.begin(), char('0' + int(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude);
  return value < 0 ? "-" + digits : digits;
}

// A scaled NUMERIC value with exactly `scale` fraction digits: 1250 at scale 2 is "12.50".
std::string numericString(__int128 scaled, int32_t scale) {
  std::string s = int128String(scaled);
  bool negative = s[0] == '-';
  std::string digits = negative ? s.substr(1) : s;
  if (scale <= 0)
    return s;
  if ((int32_t)digits.size() <= scale)
    digits.insert(0, scale + 1 - digits.size(), '0');
  digits.insert(digits.size() - scale, ".");
  return negative ? "-" + digits : digits;
}

std::string float64String(double f) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f); // shortest exact representation
  std::string s(buf, end);
  // inf and nan are not numbers in the lexer's eyes: quote them.
  bool finite = s.find_first_of("in") == std::string::npos;
  return finite ? s : syntax::quote(s);
}

std::string locString(const Location &loc) {
  return "loc(" + syntax::quote(loc.file) + ":" + std::to_string(loc.line) + ":" +
         std::to_string(loc.column) + ")";
}

class Printer {
public:
  explicit Printer(std::ostream &out) : out_(out) {}

  void module(const Module &module);
  // `input`: the row column references read, to leave out what it determines. Without one
  // (printing an expression on its own) columns print as bare `$N`.
  void expr(const Expr &e, const Schema *input);

private:
  void op(const Op &op, const std::unordered_map<int32_t, const Op *> &earlier);
  void schema(const Schema &schema);
  void column(int32_t index) { out_ << "$" << index; }
  void columnList(const std::vector<int32_t> &columns) {
    out_ << "[";
    for (size_t i = 0; i < columns.size(); ++i) {
      out_ << (i ? ", " : "");
      column(columns[i]);
    }
    out_ << "]";
  }
  void sortKeys(const std::vector<SortKey> &keys) {
    out_ << " order [";
    for (size_t i = 0; i < keys.size(); ++i) {
      const SortKey &key = keys[i];
      out_ << (i ? ", " : "");
      column(key.column);
      if (key.descending)
        out_ << " desc";
      if (key.nulls_first != key.descending) // not PostgreSQL's default for the direction
        out_ << (key.nulls_first ? " nulls first" : " nulls last");
    }
    out_ << "]";
  }
  void frameBound(const WindowFrame &frame, bool start) {
    FrameBound bound = start ? frame.start : frame.end;
    switch (bound) {
    case FrameBound::UnboundedPreceding:
      out_ << "unbounded preceding";
      return;
    case FrameBound::CurrentRow:
      out_ << "current row";
      return;
    case FrameBound::UnboundedFollowing:
      out_ << "unbounded following";
      return;
    case FrameBound::Preceding:
    case FrameBound::Following:
      if (frame.units == FrameUnits::Range)
        literal(*makeLiteral(start ? frame.start_value : frame.end_value, frame.offset_type));
      else
        out_ << (start ? frame.start_offset : frame.end_offset);
      out_ << (bound == FrameBound::Preceding ? " preceding" : " following");
      return;
    }
  }
  void frame(const WindowFrame &frame) {
    out_ << (frame.units == FrameUnits::Rows    ? " rows between "
             : frame.units == FrameUnits::Range ? " range between "
                                                : " groups between ");
    frameBound(frame, true);
    out_ << " and ";
    frameBound(frame, false);
    switch (frame.exclude) {
    case FrameExclusion::NoOthers:
      break;
    case FrameExclusion::CurrentRow:
      out_ << " exclude current row";
      break;
    case FrameExclusion::Group:
      out_ << " exclude group";
      break;
    case FrameExclusion::Ties:
      out_ << " exclude ties";
      break;
    }
  }
  void nullability(bool nullable, bool expected) {
    if (nullable != expected)
      out_ << (nullable ? " nullable" : " not null");
  }
  void loc(const Location &loc) {
    if (loc.known())
      out_ << " " << locString(loc);
  }
  void literal(const Expr &e);

  std::ostream &out_;
};

void Printer::module(const Module &module) {
  out_ << "module";
  if (!module.name.empty())
    out_ << " @" << syntax::name(module.name);
  if (!module.time_zone.empty())
    out_ << " time_zone " << syntax::quote(module.time_zone);
  out_ << " {\n";
  // Only ops printed so far give context, as the parser sees the text in order.
  std::unordered_map<int32_t, const Op *> earlier;
  for (const auto &op : module.ops) {
    this->op(*op, earlier);
    earlier.emplace(op->id, op.get());
  }
  out_ << "}\n";
}

void Printer::op(const Op &op, const std::unordered_map<int32_t, const Op *> &earlier) {
  auto lookup = [&](int32_t id) -> const Op * {
    auto it = earlier.find(id);
    return it == earlier.end() ? nullptr : it->second;
  };
  out_ << "  %" << op.id << " = " << opKindName(op.kind);
  if (!op.name.empty() || op.has(kNamed))
    out_ << " " << syntax::quote(op.name);
  for (size_t i = 0; i < op.inputs.size(); ++i)
    out_ << (i ? ", %" : " %") << op.inputs[i];

  const Op *first = op.inputs.empty() ? nullptr : lookup(op.inputs[0]);
  const Schema *input = first ? &first->schema : nullptr;
  switch (op.info().payload) {
  case OpPayload::None:
    break;
  case OpPayload::SourceKey:
    if (!op.key.empty()) {
      out_ << " key [";
      for (size_t i = 0; i < op.key.size(); ++i) {
        if (i)
          out_ << ", ";
        column(op.key[i]);
      }
      out_ << "]";
    }
    break;
  case OpPayload::Predicate:
    if (op.predicate) {
      out_ << " ";
      expr(*op.predicate, input);
    }
    break;
  case OpPayload::Exprs:
    out_ << " [";
    for (size_t i = 0; i < op.exprs.size(); ++i) {
      if (i)
        out_ << ", ";
      expr(*op.exprs[i], input);
    }
    out_ << "]";
    break;
  case OpPayload::JoinKeys:
  case OpPayload::RangeJoinKeys: {
    // Pairs `left = right`; `_` marks the missing side of an (invalid) unequal key count.
    out_ << " on [";
    size_t n = std::max(op.left_keys.size(), op.right_keys.size());
    for (size_t i = 0; i < n; ++i) {
      if (i)
        out_ << ", ";
      if (i < op.left_keys.size())
        column(op.left_keys[i]);
      else
        out_ << "_";
      out_ << " = ";
      if (i < op.right_keys.size())
        column(op.right_keys[i]);
      else
        out_ << "_";
    }
    out_ << "]";
    if (op.info().payload == OpPayload::RangeJoinKeys) {
      out_ << " range [";
      for (size_t i = 0; i < op.ranges.size(); ++i) {
        if (i)
          out_ << ", ";
        column(op.ranges[i].left);
        out_ << " " << exprOpName(op.ranges[i].op) << " ";
        column(op.ranges[i].right);
      }
      out_ << "]";
    }
    break;
  }
  case OpPayload::JoinGraph:
    out_ << " on [";
    for (size_t i = 0; i < op.equalities.size(); ++i) {
      out_ << (i ? ", " : "");
      column(op.equalities[i].first);
      out_ << " = ";
      column(op.equalities[i].second);
    }
    out_ << "] columns [";
    for (size_t i = 0; i < op.columns.size(); ++i) {
      out_ << (i ? ", " : "");
      column(op.columns[i]);
    }
    out_ << "]";
    break;
  case OpPayload::TopK:
    if (!op.group_keys.empty()) {
      out_ << " group ";
      columnList(op.group_keys);
    }
    sortKeys(op.sort_keys);
    if (op.limit >= 0)
      out_ << " limit " << op.limit;
    if (op.offset > 0)
      out_ << " offset " << op.offset;
    break;
  case OpPayload::Window:
    if (!op.group_keys.empty()) {
      out_ << " partition ";
      columnList(op.group_keys);
    }
    if (!op.sort_keys.empty())
      sortKeys(op.sort_keys);
    out_ << " [";
    for (size_t i = 0; i < op.windows.size(); ++i) {
      const WindowCall &call = op.windows[i];
      out_ << (i ? ", " : "") << windowFnName(call.fn) << "(";
      if (call.arg >= 0)
        column(call.arg);
      bool counted = call.fn == WindowFn::Lag || call.fn == WindowFn::Lead ||
                     call.fn == WindowFn::Ntile || call.fn == WindowFn::NthValue;
      if (counted)
        out_ << (call.arg >= 0 ? ", " : "") << call.n;
      if (call.default_arg >= 0) {
        out_ << ", ";
        column(call.default_arg);
      }
      out_ << ")";
      if (usesFrame(call.fn) && !(call.frame == WindowFrame{}))
        frame(call.frame);
      out_ << " as " << syntax::name(call.name) << " : " << call.type.str();
    }
    out_ << "]";
    if (op.limit >= 0)
      out_ << " limit " << op.limit;
    break;
  case OpPayload::SetFunctions: {
    out_ << " [";
    size_t arg = 0;
    for (size_t i = 0; i < op.set_calls.size(); ++i) {
      out_ << (i ? ", " : "") << setFunctionName(op.set_calls[i].fn) << "(";
      for (int32_t a = 0; a < op.set_calls[i].args && arg < op.exprs.size(); ++a, ++arg) {
        out_ << (a ? ", " : "");
        expr(*op.exprs[arg], input);
      }
      out_ << ")";
      loc(op.set_calls[i].loc);
    }
    out_ << "]";
    if (op.ordinality)
      out_ << " ordinality";
    if (op.outer)
      out_ << " outer";
    if (op.predicate) { // over the output row
      out_ << " on ";
      expr(*op.predicate, &op.schema);
    }
    break;
  }
  case OpPayload::Aggregates:
    if (!op.group_keys.empty()) {
      out_ << " group [";
      for (size_t i = 0; i < op.group_keys.size(); ++i) {
        if (i)
          out_ << ", ";
        column(op.group_keys[i]);
      }
      out_ << "]";
    }
    out_ << " [";
    for (size_t i = 0; i < op.aggregates.size(); ++i) {
      const AggCall &agg = op.aggregates[i];
      if (i)
        out_ << ", ";
      out_ << aggKindName(agg.kind) << "(";
      if (agg.distinct)
        out_ << "distinct ";
      if (agg.arg >= 0)
        column(agg.arg);
      if (agg.kind == AggKind::StringAgg)
        out_ << ", " << syntax::quote(agg.separator);
      if (joinsEntries(agg.kind) && !agg.order.empty())
        sortKeys(agg.order);
      out_ << ") as " << syntax::name(agg.name) << " : " << agg.type.str();
    }
    out_ << "]";
    break;
  }

  std::optional<Schema> inferred = inferSchema(op, lookup);
  if (!inferred || !sameSchema(*inferred, op.schema)) {
    out_ << " : ";
    schema(op.schema);
  }
  if (op.append_only)
    out_ << " append_only";
  loc(op.loc);
  out_ << "\n";
}

void Printer::schema(const Schema &schema) {
  out_ << "(";
  for (size_t i = 0; i < schema.size(); ++i) {
    if (i)
      out_ << ", ";
    out_ << syntax::name(schema[i].name) << " " << schema[i].type.str();
    if (!schema[i].nullable)
      out_ << " not null";
  }
  out_ << ")";
}

void Printer::expr(const Expr &e, const Schema *input) {
  if (e.op == ExprOp::Literal)
    return literal(e);
  if (e.op == ExprOp::Column) {
    if (!input)
      return column(e.column);
    const Column *col =
        e.column >= 0 && e.column < (int32_t)input->size() ? &(*input)[e.column] : nullptr;
    bool sameType = col && col->type == e.type;
    if (sameType && col->nullable == e.nullable && !e.loc.known())
      return column(e.column);
    out_ << "(";
    column(e.column);
    if (!sameType)
      out_ << " : " << e.type.str();
    nullability(e.nullable, col ? col->nullable : true);
    loc(e.loc);
    out_ << ")";
    return;
  }

  out_ << "(" << exprOpName(e.op);
  if (e.op == ExprOp::Call)
    out_ << " " << syntax::quote(functionInfo(e.function).name);
  for (const ExprPtr &arg : e.args) {
    out_ << " ";
    expr(*arg, input);
  }
  if (e.op == ExprOp::Like && e.flag)
    out_ << " ilike";
  if (e.op == ExprOp::Call && e.flag) // kiln_array_compare's ALL
    out_ << " all";
  std::optional<Type> fixed = fixedResultType(e.op);
  if (!fixed || *fixed != e.type)
    out_ << " : " << e.type.str();
  nullability(e.nullable, inferNullable(e.op, e.args));
  loc(e.loc);
  out_ << ")";
}

void Printer::literal(const Expr &e) {
  const Value &v = e.literal;
  out_ << "(";
  if (v.is_null || e.type.kind == TypeKind::Null) {
    out_ << "null";
    if (e.type.kind != TypeKind::Null)
      out_ << " " << e.type.str();
  } else {
    out_ << e.type.str() << " ";
    switch (e.type.kind) {
    case TypeKind::Bool:
      out_ << (v.b ? "true" : "false");
      break;
    case TypeKind::Int32:
    case TypeKind::Int64:
      out_ << v.i;
      break;
    case TypeKind::Float64:
      out_ << float64String(v.f);
      break;
    case TypeKind::Numeric:
      out_ << numericString(v.n, e.type.scale);
      break;
    case TypeKind::Text:
    case TypeKind::Jsonb:
    case TypeKind::Array:
      out_ << syntax::quote(v.s);
      break;
    case TypeKind::Interval: { // months days microseconds
      kiln_interval parts = kiln_interval_unpack(v.n);
      out_ << parts.months << " " << parts.days << " " << parts.micros;
      break;
    }
    case TypeKind::Date:
      if (auto s = syntax::formatDate(v.i))
        out_ << syntax::quote(*s);
      else
        out_ << v.i;
      break;
    case TypeKind::Timestamp:
    case TypeKind::TimestampTz:
      if (auto s = syntax::formatTimestamp(v.i))
        out_ << syntax::quote(*s);
      else
        out_ << v.i;
      break;
    case TypeKind::Null:
      break;
    }
  }
  nullability(e.nullable, v.is_null);
  loc(e.loc);
  out_ << ")";
}

} // namespace

void printModule(const Module &module, std::ostream &out) { Printer(out).module(module); }

std::string printExpr(const Expr &expr) {
  std::ostringstream out;
  Printer(out).expr(expr, nullptr);
  return out.str();
}

} // namespace kiln::ir
