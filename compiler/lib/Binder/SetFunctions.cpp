// Set-returning functions: unnest, jsonb_array_elements[_text], jsonb_each[_text],
// jsonb_object_keys, generate_series, string_to_table and regexp_split_to_table, in FROM (alone, in
// a comma list or a JOIN reading the items before them: PostgreSQL's functions in FROM are
// implicitly LATERAL) and in a select list. Each becomes an unnest node (ir's unnest operator) over
// the rows whose columns its arguments read: a one-row relation when they read none.

#include "BinderImpl.h"

#include <functional>

#include "kiln/IR/Utils.h"

namespace kiln::binder {

using ir::ExprPtr;
using ir::SetFunction;
using ir::Type;
using ir::TypeKind;

namespace {

// string_to_table and regexp_split_to_table: unnest of string_to_array's and
// regexp_split_to_array's arrays.
bool splitsToTable(const std::string &name) {
  return name == "string_to_table" || name == "regexp_split_to_table";
}

std::optional<SetFunction> setFunction(const std::string &name) {
  if (splitsToTable(name))
    return SetFunction::Unnest;
  for (SetFunction fn : ir::kAllSetFunctions)
    if (name == ir::setFunctionName(fn))
      return fn;
  return std::nullopt;
}

// A function of a base type whose FROM alias also names its column (`unnest(a) AS u` has the
// column u); the jsonb functions' columns are named by their OUT parameters (value, key).
bool aliasNamesColumn(SetFunction fn) {
  return fn == SetFunction::Unnest || fn == SetFunction::GenerateSeries ||
         fn == SetFunction::JsonbObjectKeys;
}

bool isRecordFunction(SetFunction fn) {
  return fn == SetFunction::JsonbToRecordset || fn == SetFunction::JsonbToRecord;
}

} // namespace

bool isSetFunctionName(const std::string &name) { return setFunction(name).has_value(); }

bool Binder::bindSetCall(const ast::Expr &expr, const Scope &scope, plan::Node &node) {
  const std::string &name = expr.names.back();
  SetFunction fn = *setFunction(name);
  if (expr.over || expr.agg_filter || !expr.agg_order.empty() || expr.distinct || expr.star) {
    error(expr.range, name + " is a set-returning function: OVER, FILTER, ORDER BY, DISTINCT "
                             "and * do not apply to it");
    return false;
  }
  auto [min_args, max_args] = ir::setFunctionArity(fn);
  if (fn == SetFunction::Unnest)
    max_args = static_cast<int>(expr.args.size()); // unnest(a, b, ...) zips its arrays
  if (splitsToTable(name))
    min_args = 2, max_args = 3;
  int count = static_cast<int>(expr.args.size());
  if (count < std::max(min_args, 1) || count > max_args) {
    Diagnostic &d = error(expr.range, "function " + name + " takes " +
                                          (fn == SetFunction::GenerateSeries || splitsToTable(name)
                                               ? "2 or 3 arguments"
                                           : fn == SetFunction::Unnest ? "one or more arrays"
                                                                       : "one argument"));
    d.hint = fn == SetFunction::GenerateSeries ? "generate_series(start, stop [, step])"
             : splitsToTable(name)             ? name + "(text, delimiter [, ...])"
                                               : name + "(value)";
    return false;
  }
  std::vector<Bound> args;
  for (const ast::ExprPtr &arg : expr.args) {
    args.push_back(bindExpr(*arg, scope));
    if (!args.back())
      return false;
  }
  // A jsonb value the runtime finds of the wrong kind raises where the call is.
  ir::Location loc = location(expr.range);
  if (splitsToTable(name)) {
    Bound array = bindSplitToArray(name == "regexp_split_to_table", std::move(args), expr);
    if (!array)
      return false;
    node.set_calls.push_back({SetFunction::Unnest, 1, loc});
    node.exprs.push_back(std::move(array.expr));
    return true;
  }
  switch (fn) {
  case SetFunction::Unnest:
    for (size_t i = 0; i < args.size(); ++i) {
      const SourceRange &range = expr.args[i]->range;
      if (args[i].unknown) {
        error(range, "could not determine the element type of an untyped literal").hint =
            "cast it to an array type: unnest('{1,2}'::integer[])";
        return false;
      }
      if (!args[i].expr->type.isArray()) {
        error(range, "unnest takes an array, not " + args[i].expr->type.sqlName()).hint =
            "for a jsonb array, use jsonb_array_elements";
        return false;
      }
      node.set_calls.push_back({fn, 1, loc});
      node.exprs.push_back(std::move(args[i].expr));
    }
    return true;
  case SetFunction::GenerateSeries: {
    std::vector<Bound *> operands{&args[0], &args[1]};
    std::optional<Type> type = commonType(operands, expr.range, "generate_series");
    if (!type)
      return false;
    bool times = type->kind == TypeKind::Date || type->isTimestamp();
    if (times) {
      // PostgreSQL's series of timestamp and of timestamptz, stepped by an interval; dates
      // resolve to timestamptz, its preferred type.
      if (count != 3) {
        error(expr.range, "a series of " + type->sqlName() + " values needs a step").hint =
            "generate_series(start, stop, interval '1 day')";
        return false;
      }
      if (type->kind != TypeKind::Timestamp)
        *type = Type::timestamptz();
    } else if (count > 2) {
      operands.push_back(&args[2]);
      type = commonType(operands, expr.range, "generate_series");
      if (!type)
        return false;
    }
    if (type->isSmallint())
      *type = Type::int32(); // PostgreSQL has no smallint series: integer's takes them
    if (!times && !type->isInteger()) {
      error(expr.range, "generate_series of " + type->sqlName() + " is not supported yet").hint =
          "Kiln generates series of integers, bigints, timestamps and timestamptz values (with "
          "an interval step)";
      return false;
    }
    for (size_t i = 0; i < args.size(); ++i) {
      Type want = times && i == 2 ? Type::interval() : *type;
      ExprPtr e = coerce(std::move(args[i]), want, expr.args[i]->range);
      if (!e)
        return false;
      node.exprs.push_back(std::move(e));
    }
    node.set_calls.push_back({fn, count, loc});
    return true;
  }
  default: {
    Bound &arg = args[0];
    TypeKind kind = arg.expr->type.kind;
    // As the jsonb functions of expressions take them: jsonb, text (cast) or an untyped literal.
    if (!arg.unknown && kind != TypeKind::Jsonb && kind != TypeKind::Text &&
        kind != TypeKind::Null) {
      error(expr.args[0]->range,
            "function " + name + "(" + arg.expr->type.sqlName() + ") does not exist")
          .hint = name + " takes a jsonb value";
      return false;
    }
    ExprPtr e = coerce(std::move(arg), Type::jsonb(), expr.args[0]->range);
    if (!e)
      return false;
    node.exprs.push_back(std::move(e));
    node.set_calls.push_back({fn, 1, loc});
    return true;
  }
  }
}

void Binder::finishUnnest(plan::Node &node, const std::vector<std::string> &names) {
  ir::Schema schema = node.inputs[0]->schema;
  std::optional<ir::Schema> added =
      ir::unnestColumns(node.set_calls, node.exprs, node.ordinality, node.outer);
  for (size_t i = 0; added && i < added->size(); ++i) {
    if (i < names.size() && !names[i].empty())
      (*added)[i].name = names[i];
    schema.push_back((*added)[i]);
  }
  node.schema = std::move(schema);
}

plan::NodePtr Binder::oneRow(const ir::Location &loc) {
  ir::Column column{"?row?", Type::boolean(), false};
  plan::NodePtr row = makeNode(plan::NodeKind::Values, {column}, loc, {});
  ir::Value true_value;
  true_value.is_null = false;
  true_value.b = true;
  row->exprs.push_back(ir::makeLiteral(true_value, Type::boolean()));
  return row;
}

std::optional<Binder::FromItem>
Binder::bindFunctionItem(const ast::TableRef &ref, const Scope &lateral, plan::NodePtr &pending) {
  ir::Location loc = location(ref.range);
  plan::NodePtr node = makeNode(plan::NodeKind::Unnest, {}, loc, {});
  node->ordinality = ref.ordinality;
  for (const ast::ExprPtr &call : ref.functions) {
    std::string name = call->kind == ast::ExprKind::FuncCall ? call->names.back() : "";
    if (!isSetFunctionName(name) || (call->names.size() > 1 && call->names[0] != "pg_catalog")) {
      error(call->range, "only set-returning functions may stand in FROM").hint =
          "Kiln's are unnest, jsonb_array_elements, jsonb_array_elements_text, jsonb_each, "
          "jsonb_each_text, jsonb_object_keys, generate_series, string_to_table and "
          "regexp_split_to_table; call other functions in the select list";
      return std::nullopt;
    }
    if (!bindSetCall(*call, lateral, *node))
      return std::nullopt;
  }
  // jsonb_to_record[set]: the row has the column definition list's fields, not the record.
  bool record = node->set_calls.size() == 1 && ref.functions.size() == 1 &&
                isRecordFunction(node->set_calls[0].fn);
  std::optional<std::vector<RecordField>> fields = recordFields(ref, record);
  if (!fields)
    return std::nullopt;
  // Column names: the functions' own, or the alias for one function of a base type, then the
  // column aliases over them.
  std::optional<ir::Schema> columns =
      ir::unnestColumns(node->set_calls, node->exprs, node->ordinality, false);
  if (!columns)
    return std::nullopt;
  if (record) {
    columns->erase(columns->begin());
    for (size_t i = 0; i < fields->size(); ++i)
      columns->insert(columns->begin() + static_cast<std::ptrdiff_t>(i),
                      ir::Column{(*fields)[i].name, (*fields)[i].type, true});
  }
  std::vector<std::string> names;
  bool single = node->set_calls.size() == 1 && ref.functions.size() == 1;
  for (size_t i = 0; i < columns->size(); ++i) {
    std::string name = (*columns)[i].name;
    if (single && i == 0 && splitsToTable(ref.functions[0]->names.back()))
      name = ref.functions[0]->names.back(); // (an unnest of its array, named as itself)
    if (single && i == 0 && !ref.alias.empty() && aliasNamesColumn(node->set_calls[0].fn))
      name = ref.alias;
    if (i < ref.column_aliases.size())
      name = ref.column_aliases[i];
    names.push_back(name);
  }
  if (ref.column_aliases.size() > columns->size()) {
    error(ref.range, "table \"" + ref.alias + "\" has " + std::to_string(columns->size()) +
                         " columns available but " + std::to_string(ref.column_aliases.size()) +
                         " columns specified");
    return std::nullopt;
  }
  FromItem item;
  ScopeRelation relation;
  relation.alias = !ref.alias.empty() ? ref.alias : ref.functions[0]->names.back();
  relation.names = {relation.alias};
  for (size_t i = 0; i < columns->size(); ++i)
    relation.columns.push_back(
        {names[i], (*columns)[i].type, (*columns)[i].nullable, static_cast<int32_t>(i)});
  item.scope.relations.push_back(std::move(relation));
  item.scope.width = static_cast<int32_t>(columns->size());

  bool reads_columns = false;
  for (const ExprPtr &arg : node->exprs)
    reads_columns |= !ir::columnsRead(*arg).empty();
  if (reads_columns) { // the caller puts it over the rows it reads
    pending = node;
    // A record function's unnest keeps its own column names; the fields are named after it.
    pending_names_[node.get()] = record ? std::vector<std::string>{} : names;
    if (record)
      pending_records_[node.get()] = *fields;
    return item;
  }
  // Its own rows: the one row it reads, unnested, without that row's column.
  node->inputs = {oneRow(loc)};
  finishUnnest(*node, record ? std::vector<std::string>{} : names);
  item.plan =
      projectColumns(record ? readRecordFields(node, *fields) : node, 1, item.scope.width, loc);
  return item;
}

std::optional<std::vector<RecordField>> Binder::recordFields(const ast::TableRef &ref,
                                                             bool record) {
  const std::string &name = ref.functions[0]->names.back();
  if (!record) {
    if (!ref.column_definitions.empty()) {
      error(ref.column_definitions[0].range,
            "a column definition list is only allowed for functions returning \"record\"");
      return std::nullopt;
    }
    return std::vector<RecordField>{};
  }
  if (ref.ordinality && !ref.column_definitions.empty()) {
    error(ref.range, "WITH ORDINALITY cannot be used with a column definition list").hint =
        "number the elements another way: jsonb_array_elements(...) WITH ORDINALITY, then ->>";
    return std::nullopt;
  }
  if (ref.column_definitions.empty()) {
    error(ref.range, "a column definition list is required for functions returning \"record\"")
        .hint = "name the fields and their types: " + name + "(...) AS r(id integer, name text)";
    return std::nullopt;
  }
  std::vector<RecordField> fields;
  for (const ast::ColumnDef &definition : ref.column_definitions) {
    std::optional<Type> type = resolveType(definition.type, sources_, diags_);
    if (!type)
      return std::nullopt;
    if (type->isArray()) {
      error(definition.type.range, "array fields of " + name + " are not supported yet").hint =
          "read the field as jsonb and call jsonb_array_elements on it";
      return std::nullopt;
    }
    fields.push_back({definition.name, *type, location(definition.range)});
  }
  return fields;
}

namespace {

// A field of a record function's object (column `record` of `width`-column rows): ->> read as
// the field's type, as jsonb_populate_record reads it (a string's content, else the JSON text,
// through the type's input); -> for a jsonb field.
ExprPtr readField(int32_t record, const RecordField &field) {
  ir::Value key;
  key.is_null = false;
  key.s = field.name;
  bool jsonb = field.type.kind == TypeKind::Jsonb;
  std::vector<ExprPtr> operands;
  operands.push_back(ir::makeColumn(record, Type::jsonb(), true));
  operands.push_back(ir::makeLiteral(key, Type::text()));
  ExprPtr e = ir::makeCall(ir::ExprOp::Call, jsonb ? Type::jsonb() : Type::text(),
                           std::move(operands), field.loc);
  e->function = jsonb ? ir::FunctionId::JsonbObjectField : ir::FunctionId::JsonbObjectFieldText;
  if (jsonb || (field.type.kind == TypeKind::Text && field.type.precision == 0))
    return e;
  std::vector<ExprPtr> operand;
  operand.push_back(std::move(e));
  return ir::makeCall(ir::ExprOp::Cast, field.type, std::move(operand), field.loc);
}

} // namespace

plan::NodePtr Binder::readRecordFields(const plan::NodePtr &unnest,
                                       const std::vector<RecordField> &fields) {
  const ir::Schema &in = unnest->schema;
  auto record = static_cast<int32_t>(unnest->inputs[0]->schema.size());
  ir::Schema schema(in.begin(), in.begin() + record);
  std::vector<ExprPtr> exprs;
  for (int32_t c = 0; c < record; ++c)
    exprs.push_back(ir::makeColumn(c, in[c].type, in[c].nullable));
  for (const RecordField &field : fields) {
    schema.push_back({field.name, field.type, true});
    exprs.push_back(readField(record, field));
  }
  for (auto c = static_cast<size_t>(record) + 1; c < in.size(); ++c) { // the ordinality
    schema.push_back(in[c]);
    exprs.push_back(ir::makeColumn(static_cast<int32_t>(c), in[c].type, in[c].nullable));
  }
  plan::NodePtr map = makeNode(plan::NodeKind::Project, schema, unnest->loc, {unnest});
  map->exprs = std::move(exprs);
  return map;
}

plan::NodePtr Binder::applyLateral(const plan::NodePtr &pending, plan::NodePtr input, bool outer,
                                   ExprPtr predicate) {
  auto record = pending_records_.find(pending.get());
  if (record != pending_records_.end() && predicate) {
    // The condition reads the fields: over the unnest's row, each is read from the record.
    auto width = static_cast<int32_t>(input->schema.size());
    auto count = static_cast<int32_t>(record->second.size());
    std::function<void(ExprPtr &)> substitute = [&](ExprPtr &e) {
      if (e->op == ir::ExprOp::Column && e->column >= width + count) {
        e->column -= count - 1; // the ordinality, after the record
      } else if (e->op == ir::ExprOp::Column && e->column >= width) {
        e = readField(width, record->second[static_cast<size_t>(e->column - width)]);
        return;
      }
      for (ExprPtr &arg : e->args)
        substitute(arg);
    };
    substitute(predicate);
  }
  pending->inputs = {std::move(input)};
  pending->outer = outer;
  pending->predicate = std::move(predicate);
  finishUnnest(*pending, pending_names_[pending.get()]);
  if (record != pending_records_.end())
    return readRecordFields(pending, record->second);
  return pending;
}

Bound Binder::bindSelectListSetCall(const ast::Expr &expr, const Scope &scope) {
  const std::string &name = expr.names.back();
  if (!sets_) {
    error(expr.range, "set-returning function " + name + " is not allowed here").hint =
        "call it in the select list, or in FROM: ... CROSS JOIN LATERAL " + name + "(...)";
    return {};
  }
  if (sets_forbidden_in_) {
    error(expr.range,
          "set-returning functions are not allowed in " + std::string(sets_forbidden_in_))
        .hint = "move the set-returning function into a LATERAL FROM item";
    return {};
  }
  if (isRecordFunction(*setFunction(name))) {
    error(expr.range, name + " returns records, which a select list cannot take").hint =
        "call it in FROM with a column definition list: ... CROSS JOIN LATERAL " + name +
        "(...) AS r(id integer, name text)";
    return {};
  }
  SetContext &sets = *sets_;
  plan::Node &node = *sets.node;
  size_t first_call = node.set_calls.size(), first_arg = node.exprs.size();
  bool bound;
  {
    NoSetFunctions no_nesting(*this); // PostgreSQL evaluates nested ones in another way
    bound = bindSetCall(expr, scope, node);
  }
  if (!bound)
    return {};
  if (node.set_calls.size() != first_call + 1) {
    error(expr.range, "unnest of several arrays may only stand in FROM").hint =
        "unnest each array: select unnest(a), unnest(b) zips them too";
    return {};
  }
  for (size_t a = first_arg; a < node.exprs.size(); ++a)
    for (int32_t c : ir::columnsRead(*node.exprs[a]))
      if (c >= kWindowColumn && c < kHavingScalar) {
        error(expr.range, "window functions in the arguments of " + name + " are not supported")
            .hint = "compute the window function in a subquery, and call " + name + " over it";
        return {};
      }
  ir::Schema columns =
      ir::setFunctionColumns(node.set_calls.back().fn, node.exprs[first_arg]->type);
  if (columns.size() != 1) {
    error(expr.range, name + " in a select list returns records, which Kiln does not have").hint =
        "call it in FROM: ... CROSS JOIN LATERAL " + name + "(...) AS e(key, value)";
    return {};
  }
  // NULL where a longer set zipped with it goes on.
  ExprPtr column = ir::makeColumn(kSetColumn + sets.width, columns[0].type, true);
  ++sets.width;
  return {std::move(column), false};
}

std::optional<Binder::FromItem> Binder::bindLateralJoin(const ast::TableRef &ref, FromItem left,
                                                        const FromItem &right,
                                                        const Lateral &lateral) {
  if (ref.join_kind == ast::JoinKind::Right || ref.join_kind == ast::JoinKind::Full) {
    error(ref.range, "a RIGHT or FULL JOIN cannot pass its left side's columns to a LATERAL item")
        .hint = "the combining JOIN type must be INNER or LEFT for a LATERAL reference";
    return std::nullopt;
  }
  if (ref.natural || !ref.using_columns.empty()) {
    error(ref.range, "NATURAL and USING joins with a LATERAL item reading the left side are not "
                     "supported")
        .hint = "write the condition with ON";
    return std::nullopt;
  }
  bool outer = ref.join_kind == ast::JoinKind::Left;
  int32_t left_width = left.scope.width;
  FromItem input = left;
  FromItem combined = concatScopes(std::move(left), right);
  if (outer) // a left row without a match has NULLs there
    for (ScopeRelation &relation : combined.scope.relations)
      for (ScopeColumn &column : relation.columns)
        if (column.index >= left_width)
          column.nullable = true;
  ExprPtr on;
  if (ref.on) {
    on = bindCondition(*ref.on, combined.scope, "JOIN/ON");
    if (!on)
      return std::nullopt;
    if (on->op == ir::ExprOp::Literal && !on->literal.is_null && on->literal.b)
      on = nullptr; // ON TRUE
  }
  combined.plan = joinLateral(input, lateral, outer, std::move(on));
  return combined;
}

plan::NodePtr Binder::joinLateral(FromItem &left, const Lateral &lateral, bool keep_left,
                                  ExprPtr on) {
  // An outer join takes its condition inside: a left row none of whose matches it holds for
  // stays, padded. An inner join filters afterwards.
  ExprPtr inside = keep_left ? std::move(on) : nullptr;
  plan::NodePtr joined =
      lateral.unnest ? applyLateral(lateral.unnest, left.plan, keep_left, std::move(inside))
                     : joinLateralSubquery(left, *lateral.subquery, keep_left, std::move(inside));
  if (on) {
    plan::NodePtr filter = makeNode(plan::NodeKind::Filter, joined->schema, joined->loc, {joined});
    filter->predicate = std::move(on);
    joined = filter;
  }
  return joined;
}

} // namespace kiln::binder
