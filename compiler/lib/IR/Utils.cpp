#include "kiln/IR/Utils.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

namespace kiln::ir {

ExprOp mirroredComparison(ExprOp op) {
  switch (op) {
  case ExprOp::Lt:
    return ExprOp::Gt;
  case ExprOp::Le:
    return ExprOp::Ge;
  case ExprOp::Gt:
    return ExprOp::Lt;
  case ExprOp::Ge:
    return ExprOp::Le;
  default:
    return op;
  }
}

std::optional<Type> fixedResultType(ExprOp op) {
  switch (op) {
  case ExprOp::Eq:
  case ExprOp::Ne:
  case ExprOp::Lt:
  case ExprOp::Le:
  case ExprOp::Gt:
  case ExprOp::Ge:
  case ExprOp::IsDistinctFrom:
  case ExprOp::IsNotDistinctFrom:
  case ExprOp::And:
  case ExprOp::Or:
  case ExprOp::Not:
  case ExprOp::IsNull:
  case ExprOp::IsNotNull:
  case ExprOp::Like:
    return Type::boolean();
  case ExprOp::Concat:
    return Type::text();
  default:
    return std::nullopt;
  }
}

bool inferNullable(ExprOp op, const std::vector<ExprPtr> &args) {
  auto nullable = [](const ExprPtr &e) { return e->nullable; };
  switch (op) {
  case ExprOp::IsNull:
  case ExprOp::IsNotNull:
  case ExprOp::IsDistinctFrom:
  case ExprOp::IsNotDistinctFrom:
    return false;
  case ExprOp::Coalesce:
  case ExprOp::Greatest:
  case ExprOp::Least:
    return args.empty() || std::all_of(args.begin(), args.end(), nullable);
  case ExprOp::NullIf:
    return true;
  case ExprOp::Case:
    // Conditions never make the result NULL (a NULL condition falls through): only the values
    // at odd positions and the trailing ELSE matter.
    for (size_t i = 1; i < args.size(); i += 2)
      if (args[i]->nullable)
        return true;
    return !args.empty() && args.back()->nullable;
  default:
    return std::any_of(args.begin(), args.end(), nullable);
  }
}

std::optional<Schema> inferSchema(const Module &module, const Op &op) {
  return inferSchema(op, [&](int32_t id) -> const Op * { return module.find(id); });
}

std::optional<Schema> inferSchema(const Op &op, const OpLookup &lookup) {
  auto input = [&](size_t i) -> const Op * {
    return i < op.inputs.size() ? lookup(op.inputs[i]) : nullptr;
  };
  switch (op.info().schema) {
  case SchemaRule::Declared:
    return std::nullopt;
  case SchemaRule::None:
    return Schema{};
  case SchemaRule::SameAsInput:
    if (const Op *in = input(0))
      return in->schema;
    return std::nullopt;
  case SchemaRule::UnionOfInputs: {
    const Op *first = input(0);
    if (!first)
      return std::nullopt;
    Schema schema = first->schema;
    for (size_t i = 1; i < op.inputs.size(); ++i) {
      const Op *in = input(i);
      if (!in || in->schema.size() != schema.size())
        return std::nullopt;
      for (size_t c = 0; c < schema.size(); ++c)
        schema[c].nullable |= in->schema[c].nullable;
    }
    return schema;
  }
  case SchemaRule::Concat: {
    Schema schema;
    for (size_t i = 0; i < op.inputs.size(); ++i) {
      const Op *in = input(i);
      if (!in)
        return std::nullopt;
      schema.insert(schema.end(), in->schema.begin(), in->schema.end());
    }
    return schema;
  }
  case SchemaRule::Projection: {
    Schema all;
    for (size_t i = 0; i < op.inputs.size(); ++i) {
      const Op *in = input(i);
      if (!in)
        return std::nullopt;
      all.insert(all.end(), in->schema.begin(), in->schema.end());
    }
    Schema schema;
    for (int32_t c : op.columns) {
      if (c < 0 || c >= static_cast<int32_t>(all.size()))
        return std::nullopt;
      schema.push_back(all[c]);
    }
    return schema;
  }
  case SchemaRule::Aggregate: {
    const Op *in = input(0);
    if (!in)
      return std::nullopt;
    Schema schema;
    for (int32_t key : op.group_keys) {
      if (key < 0 || key >= (int32_t)in->schema.size())
        return std::nullopt;
      schema.push_back(in->schema[key]);
    }
    for (const AggCall &agg : op.aggregates)
      schema.push_back({agg.name, agg.type, aggregateNullable(op, agg, in->schema)});
    return schema;
  }
  case SchemaRule::Window: {
    const Op *in = input(0);
    if (!in)
      return std::nullopt;
    Schema schema = in->schema;
    for (const WindowCall &call : op.windows)
      schema.push_back({call.name, call.type, windowNullable(call)});
    return schema;
  }
  case SchemaRule::SetFunctions: {
    const Op *in = input(0);
    std::optional<Schema> added = unnestColumns(op);
    if (!in || !added)
      return std::nullopt;
    Schema schema = in->schema;
    schema.insert(schema.end(), added->begin(), added->end());
    return schema;
  }
  }
  return std::nullopt;
}

std::optional<Schema> unnestColumns(const std::vector<SetCall> &calls,
                                    const std::vector<ExprPtr> &args, bool ordinality, bool outer) {
  Schema columns;
  size_t arg = 0;
  bool padded = outer || calls.size() > 1;
  for (const SetCall &call : calls) {
    if (call.args < 1 || arg + static_cast<size_t>(call.args) > args.size())
      return std::nullopt;
    for (Column column : setFunctionColumns(call.fn, args[arg]->type)) {
      column.nullable |= padded;
      columns.push_back(std::move(column));
    }
    arg += static_cast<size_t>(call.args);
  }
  if (ordinality)
    columns.push_back({"ordinality", Type::int64(), outer});
  return columns;
}

bool windowNullable(const WindowCall &call) {
  switch (call.fn) {
  case WindowFn::RowNumber:
  case WindowFn::Rank:
  case WindowFn::DenseRank:
  case WindowFn::PercentRank:
  case WindowFn::CumeDist:
  case WindowFn::Ntile:
  case WindowFn::CountStar:
  case WindowFn::Count:
    return false;
  default: // no such row, an empty frame, or a NULL value
    return true;
  }
}

bool aggregateNullable(const Op &aggregate, const AggCall &agg, const Schema &input) {
  if (agg.kind == AggKind::Count || agg.kind == AggKind::CountStar ||
      agg.kind == AggKind::CountDistinct)
    return false;
  if (aggregate.group_keys.empty())
    return true;
  return agg.arg < 0 || agg.arg >= (int32_t)input.size() || input[agg.arg].nullable;
}

bool sameColumn(const Column &a, const Column &b) {
  return a.name == b.name && a.type == b.type && a.nullable == b.nullable;
}

bool sameSchema(const Schema &a, const Schema &b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), sameColumn);
}

bool sameColumnTypes(const Schema &a, const Schema &b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const Column &x, const Column &y) { return x.type == y.type; });
}

bool sameValue(const Value &a, const Value &b, const Type &type) {
  if (a.is_null || b.is_null)
    return a.is_null == b.is_null;
  switch (type.kind) {
  case TypeKind::Bool:
    return a.b == b.b;
  case TypeKind::Int32:
  case TypeKind::Int64:
  case TypeKind::Date:
  case TypeKind::Timestamp:
  case TypeKind::TimestampTz:
    return a.i == b.i;
  case TypeKind::Float64:
    // Bitwise: 0.0 and -0.0 print differently, and a NaN literal equals itself.
    return std::memcmp(&a.f, &b.f, sizeof(double)) == 0;
  case TypeKind::Numeric:
  case TypeKind::Interval: // the same fields (an equal span may print differently)
    return a.n == b.n;
  case TypeKind::Text:
  case TypeKind::Jsonb:
  case TypeKind::Array:
    return a.s == b.s;
  case TypeKind::Null:
    return true;
  }
  return false;
}

bool sameExpr(const Expr &a, const Expr &b) {
  if (a.op != b.op || a.type != b.type || a.nullable != b.nullable ||
      a.args.size() != b.args.size())
    return false;
  switch (a.op) {
  case ExprOp::Column:
    if (a.column != b.column)
      return false;
    break;
  case ExprOp::Literal:
    if (!sameValue(a.literal, b.literal, a.type))
      return false;
    break;
  case ExprOp::Call:
    if (a.function != b.function || a.flag != b.flag)
      return false;
    break;
  case ExprOp::Like:
    if (a.flag != b.flag)
      return false;
    break;
  default:
    break;
  }
  for (size_t i = 0; i < a.args.size(); ++i)
    if (!sameExpr(*a.args[i], *b.args[i]))
      return false;
  return true;
}

std::set<int32_t> columnsRead(const Expr &expr) {
  std::set<int32_t> columns;
  collectColumns(expr, columns);
  return columns;
}

void collectColumns(const Expr &expr, std::set<int32_t> &out) {
  walkExpr(expr, [&](const Expr &e) {
    if (e.op == ExprOp::Column)
      out.insert(e.column);
  });
}

std::vector<Expr *> rootExprs(Op &op) {
  std::vector<Expr *> roots;
  if (op.predicate)
    roots.push_back(op.predicate.get());
  for (ExprPtr &e : op.exprs)
    roots.push_back(e.get());
  return roots;
}

std::vector<const Expr *> rootExprs(const Op &op) {
  std::vector<const Expr *> roots;
  if (op.predicate)
    roots.push_back(op.predicate.get());
  for (const ExprPtr &e : op.exprs)
    roots.push_back(e.get());
  return roots;
}

std::optional<std::set<int32_t>> uniqueColumns(const Module &module, int32_t id) {
  const Op *op = module.find(id);
  if (op->kind == OpKind::Source) {
    if (op->key.empty())
      return std::nullopt;
    return std::set<int32_t>(op->key.begin(), op->key.end());
  }
  if (op->kind == OpKind::Filter || op->kind == OpKind::Consolidate)
    return uniqueColumns(module, op->inputs[0]);
  // A distinct stream is unique on all its columns; a global aggregate has one row (unique on
  // no column: any key has at most one row).
  if (op->kind == OpKind::Distinct) {
    std::set<int32_t> all;
    for (size_t i = 0; i < op->schema.size(); ++i)
      all.insert(static_cast<int32_t>(i));
    return all;
  }
  if (op->kind == OpKind::Aggregate) {
    std::set<int32_t> key;
    for (size_t i = 0; i < op->group_keys.size(); ++i)
      key.insert(static_cast<int32_t>(i));
    return key;
  }
  if (op->kind == OpKind::Map) {
    std::optional<std::set<int32_t>> below = uniqueColumns(module, op->inputs[0]);
    if (!below)
      return std::nullopt;
    std::set<int32_t> key;
    for (int32_t c : *below) {
      bool found = false;
      for (size_t i = 0; i < op->exprs.size() && !found; ++i) {
        if (op->exprs[i]->op == ExprOp::Column && op->exprs[i]->column == c) {
          key.insert(static_cast<int32_t>(i));
          found = true;
        }
      }
      if (!found)
        return std::nullopt;
    }
    return key;
  }
  return std::nullopt; // nothing known: the conservative answer for any other operator
}

std::vector<int32_t> inputOffsets(const Module &module, const Op &op) {
  std::vector<int32_t> offsets{0};
  for (int32_t input : op.inputs)
    offsets.push_back(offsets.back() + static_cast<int32_t>(module.find(input)->schema.size()));
  return offsets;
}

const Op *keyedSourceOf(const Module &module, int32_t id) {
  const Op *op = module.find(id);
  while (op->kind == OpKind::Filter || op->kind == OpKind::Map)
    op = module.find(op->inputs[0]);
  return op->kind == OpKind::Source && !op->key.empty() ? op : nullptr;
}

namespace {

bool reads(const Module &module, int32_t id, const Op *source, std::set<int32_t> &seen) {
  if (!seen.insert(id).second)
    return false;
  const Op *op = module.find(id);
  if (op == source)
    return true;
  for (int32_t input : op->inputs)
    if (reads(module, input, source, seen))
      return true;
  return false;
}

} // namespace

const Op *sharedKeyedSource(const Module &module, const Op &join, size_t port) {
  const Op *source = keyedSourceOf(module, join.inputs[port]);
  std::set<int32_t> seen;
  for (size_t other = 0; source && other < join.inputs.size(); ++other)
    if (other != port && reads(module, join.inputs[other], source, seen))
      return nullptr;
  return source;
}

std::string modelOf(const Module &module, const Op &op) {
  if (op.has(kNamed))
    return op.name; // the model, or the source table
  std::filesystem::path file(op.loc.file);
  if (op.loc.known() && (file.extension() == ".sql" || file.extension() == ".csv")) // a seed's
    return file.stem().string();
  for (const auto &user : module.ops)
    if (std::find(user->inputs.begin(), user->inputs.end(), op.id) != user->inputs.end())
      if (std::string model = modelOf(module, *user); !model.empty())
        return model;
  return "";
}

} // namespace kiln::ir
