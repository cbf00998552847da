#include "Transform.h"

#include <algorithm>
#include <cctype>

namespace kiln::frontend {
namespace {

using ast::ExprKind;
using ast::ExprPtr;

ExprPtr makeExpr(ExprKind kind, const SourceRange &range) {
  return std::make_unique<ast::Expr>(kind, range);
}

// The smallest and largest "location" in a subtree; -1 if it has none.
struct Locations {
  int64_t first = -1, last = -1;
  void add(int64_t location) {
    if (location < 0)
      return;
    if (first < 0 || location < first)
      first = location;
    last = std::max(last, location);
  }
};

void collect(pg::Json json, Locations &locations);

void collect(pg::Object object, Locations &locations, std::string_view skipped = {}) {
  for (auto [key, value] : object) {
    int64_t location;
    if (key == skipped)
      continue;
    if (key == "location" && value.get(location) == simdjson::SUCCESS) {
      locations.add(location);
    } else {
      collect(value, locations);
    }
  }
}

void collect(pg::Json json, Locations &locations) {
  pg::Object object;
  simdjson::dom::array array;
  if (json.get(object) == simdjson::SUCCESS) {
    collect(object, locations);
  } else if (json.get(array) == simdjson::SUCCESS) {
    for (pg::Json item : array)
      collect(item, locations);
  }
}

template <class Tree> int64_t firstLocation(Tree tree) {
  Locations locations;
  collect(tree, locations);
  return locations.first;
}

// The last location in `object` outside its field `skipped`.
int64_t lastLocation(pg::Object object, std::string_view skipped) {
  Locations locations;
  collect(object, locations, skipped);
  return locations.last;
}

std::string joinNames(const std::vector<std::string> &names, std::string_view separator) {
  std::string result;
  for (const std::string &name : names) {
    if (!result.empty())
      result += separator;
    result += name;
  }
  return result;
}

std::string upper(std::string_view text) {
  std::string result(text);
  for (char &c : result)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return result;
}

std::string lower(std::string_view text) {
  std::string result(text);
  for (char &c : result)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return result;
}

} // namespace

// ---- Ranges -------------------------------------------------------------------------------------

SourceRange Transformer::tokenRange(int64_t offset, const SourceRange &fallback) const {
  if (offset < 0)
    return fallback;
  return map_range_(static_cast<uint32_t>(offset), tokens_.extent(static_cast<uint32_t>(offset)));
}

SourceRange Transformer::located(pg::Object node, const SourceRange &fallback) const {
  return tokenRange(pg::integer(node, "location"), fallback);
}

SourceRange Transformer::firstTokenRange(pg::Json json, const SourceRange &fallback) const {
  return tokenRange(firstLocation(json), fallback);
}

SourceRange Transformer::tokensRange(size_t first, size_t last) const {
  return map_range_(tokens_[first].begin, tokens_.span(first, last));
}

SourceRange Transformer::keywordBefore(int64_t before,
                                       std::initializer_list<std::string_view> keywords,
                                       const SourceRange &fallback) const {
  auto token =
      before < 0 ? std::nullopt : tokens_.wordBefore(static_cast<uint32_t>(before), keywords);
  return token ? tokensRange(*token, *token) : fallback;
}

SourceRange Transformer::keywordFrom(int64_t from, std::initializer_list<std::string_view> keywords,
                                     const SourceRange &fallback) const {
  auto token = from < 0 ? std::nullopt : tokens_.wordFrom(static_cast<uint32_t>(from), keywords);
  return token ? tokensRange(*token, *token) : fallback;
}

// A query's keyword: the tree has no location for a SELECT, but its first located child follows
// its SELECT (or VALUES, or WITH) keyword, and no other such keyword comes in between.
SourceRange Transformer::queryRange(pg::Object select, const SourceRange &parent) const {
  return keywordBefore(firstLocation(select), {"select", "values", "with", "table"}, parent);
}

// UNION [ALL], INTERSECT or EXCEPT: the keyword before the right operand.
SourceRange Transformer::setOperatorRange(pg::Object right, const SourceRange &fallback) const {
  int64_t right_first = firstLocation(right);
  if (right_first < 0)
    return fallback;
  auto keyword =
      tokens_.wordBefore(static_cast<uint32_t>(right_first), {"union", "intersect", "except"});
  if (!keyword)
    return fallback;
  size_t last = *keyword;
  if (last + 1 < tokens_.size() && tokens_.isWordIn(last + 1, {"all", "distinct"}))
    ++last;
  return tokensRange(*keyword, last);
}

SourceRange Transformer::statementRange(const RawStatement &raw) const {
  return map_range_(raw.begin, raw.end - raw.begin);
}

SourceRange Transformer::statementStart(const RawStatement &raw) const {
  return tokenRange(raw.begin, map_range_(raw.begin, 0));
}

std::string Transformer::statementName(const RawStatement &raw) const {
  static const std::pair<std::string_view, std::string_view> kNames[] = {
      {"SelectStmt", "SELECT"},
      {"InsertStmt", "INSERT"},
      {"UpdateStmt", "UPDATE"},
      {"DeleteStmt", "DELETE"},
      {"MergeStmt", "MERGE"},
      {"CreateStmt", "CREATE TABLE"},
      {"ViewStmt", "CREATE VIEW"},
      {"CreateTableAsStmt", "CREATE TABLE AS"},
      {"IndexStmt", "CREATE INDEX"},
      {"CreateTrigStmt", "CREATE TRIGGER"},
      {"CreateSchemaStmt", "CREATE SCHEMA"},
      {"CreateFunctionStmt", "CREATE FUNCTION"},
      {"AlterTableStmt", "ALTER TABLE"},
      {"ReindexStmt", "REINDEX"},
      {"TruncateStmt", "TRUNCATE"},
      {"CopyStmt", "COPY"},
      {"ExplainStmt", "EXPLAIN"},
      {"VariableSetStmt", "SET"},
  };
  for (auto [type, name] : kNames) {
    if (raw.node.type == type)
      return std::string(name);
  }
  if (raw.node.is("DropStmt")) {
    std::string object = upper(pg::string(raw.node.fields, "removeType")); // OBJECT_INDEX
    if (object.rfind("OBJECT_", 0) == 0)
      object.erase(0, 7);
    std::replace(object.begin(), object.end(), '_', ' ');
    return "DROP " + object;
  }
  auto first = tokens_.firstFrom(raw.begin);
  return first ? upper(tokens_.text(*first)) : std::string(raw.node.type);
}

Diagnostic &Transformer::error(const SourceRange &range, std::string message) {
  return diags_.error(range, std::move(message));
}

// ---- Queries ------------------------------------------------------------------------------------

std::unique_ptr<ast::SelectStmt> Transformer::query(pg::Object select, const SourceRange &parent) {
  auto stmt = std::make_unique<ast::SelectStmt>();
  std::string_view op = pg::string(select, "op");
  stmt->range = queryRange(select, parent);
  if (op != "SETOP_NONE")
    stmt->range = setOperatorRange(*pg::object(select, "rarg"), stmt->range);
  const SourceRange &range = stmt->range;
  if (auto with = pg::object(select, "withClause"))
    withClause(*with, *stmt);

  if (op == "SETOP_NONE") {
    plainSelect(select, *stmt);
  } else {
    stmt->op = op == "SETOP_UNION"       ? ast::SetOp::Union
               : op == "SETOP_INTERSECT" ? ast::SetOp::Intersect
                                         : ast::SetOp::Except;
    stmt->all = pg::flag(select, "all");
    // The operands are SelectStmt fields inline, without the node wrapper.
    stmt->larg = query(*pg::object(select, "larg"), range);
    stmt->rarg = query(*pg::object(select, "rarg"), range);
  }

  for (pg::Json item : pg::list(select, "sortClause"))
    stmt->order_by.push_back(sortItem(item, range));
  if (auto count = pg::field(select, "limitCount")) {
    stmt->limit = expr(*count, range);
    if (pg::string(select, "limitOption") == "LIMIT_OPTION_WITH_TIES")
      error(keywordFrom(firstLocation(*count), {"ties"}, range),
            "FETCH ... WITH TIES is not supported");
  }
  if (auto offset = pg::field(select, "limitOffset"))
    stmt->offset = expr(*offset, range);
  // The locking clause has no location, and comes after everything else.
  if (!pg::list(select, "lockingClause").empty())
    error(keywordFrom(lastLocation(select, /*skipped=*/"lockingClause"), {"for"}, range),
          "FOR UPDATE and FOR SHARE are not supported");
  return stmt;
}

ast::SortItem Transformer::sortItem(pg::Json item, const SourceRange &range) {
  pg::Object sort = pg::asNode(item)->fields;
  ast::SortItem sort_item;
  sort_item.expr = expr(*pg::field(sort, "node"), range);
  std::string_view direction = pg::string(sort, "sortby_dir");
  sort_item.descending = direction == "SORTBY_DESC";
  if (direction == "SORTBY_USING") // located at the operator
    error(located(sort, range), "ORDER BY ... USING is not supported");
  std::string_view nulls = pg::string(sort, "sortby_nulls");
  sort_item.nulls = nulls == "SORTBY_NULLS_FIRST" ? 1 : nulls == "SORTBY_NULLS_LAST" ? 2 : 0;
  return sort_item;
}

// A WindowDef: OVER (...), OVER name, or OVER (name ORDER BY ...) refining a named window of the
// SELECT (which may give no frame of its own, nor a PARTITION BY when refined).
std::unique_ptr<ast::WindowSpec> Transformer::windowSpec(pg::Object def, const SourceRange &range) {
  auto spec = std::make_unique<ast::WindowSpec>();
  spec->range = range;
  std::string_view name = pg::string(def, "name"), refname = pg::string(def, "refname");
  // `OVER w` arrives as name = w; `OVER (w ...)` as refname = w.
  std::string_view base = refname.empty() && pg::list(def, "partitionClause").empty() &&
                                  pg::list(def, "orderClause").empty() &&
                                  !(pg::integer(def, "frameOptions") & 1) // NONDEFAULT
                              ? name
                              : refname;
  if (!base.empty()) {
    const pg::Object *named = nullptr;
    for (auto it = named_windows_.rbegin(); it != named_windows_.rend() && !named; ++it)
      if (auto found = it->find(std::string(base)); found != it->end())
        named = &found->second;
    if (!named) {
      error(range, "window \"" + std::string(base) + "\" does not exist").hint =
          "define it in the query's WINDOW clause: WINDOW " + std::string(base) + " AS (...)";
      return nullptr;
    }
    spec = windowSpec(*named, range);
    if (!spec)
      return nullptr;
    if (!pg::list(def, "partitionClause").empty()) {
      error(range, "cannot override PARTITION BY clause of window \"" + std::string(base) + "\"");
      return nullptr;
    }
    if (!pg::list(def, "orderClause").empty()) {
      if (!spec->order.empty()) {
        error(range, "cannot override ORDER BY clause of window \"" + std::string(base) + "\"");
        return nullptr;
      }
      for (pg::Json item : pg::list(def, "orderClause"))
        spec->order.push_back(sortItem(item, range));
    }
    if (pg::integer(def, "frameOptions") & 1) { // FRAMEOPTION_NONDEFAULT
      if (spec->frame_options & 1) {
        error(range,
              "cannot copy window \"" + std::string(base) + "\" because it has a frame clause")
            .hint = "write OVER " + std::string(base) + " without parentheses";
        return nullptr;
      }
    } else {
      return spec;
    }
  } else {
    for (pg::Json item : pg::list(def, "partitionClause"))
      spec->partition.push_back(expr(item, range));
    for (pg::Json item : pg::list(def, "orderClause"))
      spec->order.push_back(sortItem(item, range));
  }
  spec->frame_options = static_cast<int>(pg::integer(def, "frameOptions"));
  if (auto start = pg::field(def, "startOffset"))
    spec->start_offset = expr(*start, range);
  if (auto end = pg::field(def, "endOffset"))
    spec->end_offset = expr(*end, range);
  return spec;
}

void Transformer::plainSelect(pg::Object select, ast::SelectStmt &stmt) {
  const SourceRange &range = stmt.range;
  // WINDOW name AS (...): visible to the select list's OVER clauses (and of this SELECT only).
  named_windows_.emplace_back();
  struct PopWindows {
    std::vector<std::map<std::string, pg::Object>> &windows;
    ~PopWindows() { windows.pop_back(); }
  } pop_windows{named_windows_};
  for (pg::Json window : pg::list(select, "windowClause")) {
    pg::Object def = pg::asNode(window)->fields;
    named_windows_.back()[std::string(pg::string(def, "name"))] = def;
  }
  std::vector<pg::Json> distinct = pg::list(select, "distinctClause");
  stmt.distinct = !distinct.empty();
  // Plain DISTINCT is a list holding one NULL node ({}); DISTINCT ON lists its expressions.
  stmt.distinct_on = stmt.distinct && pg::asNode(distinct.front()).has_value();
  if (stmt.distinct_on)
    for (pg::Json item : distinct)
      stmt.distinct_on_exprs.push_back(expr(item, range));

  for (pg::Json item : pg::list(select, "targetList")) {
    pg::Object target = pg::asNode(item)->fields;
    ast::SelectItem select_item;
    select_item.range = located(target, range);
    select_item.expr = expr(*pg::field(target, "val"), select_item.range);
    select_item.alias = pg::string(target, "name");
    stmt.targets.push_back(std::move(select_item));
  }
  if (auto into = pg::object(select, "intoClause"))
    error(located(*pg::object(*into, "rel"), range), "SELECT INTO is not supported");
  for (pg::Json item : pg::list(select, "fromClause"))
    stmt.from.push_back(tableRef(item, range));
  if (auto where = pg::field(select, "whereClause"))
    stmt.where = expr(*where, range);

  groupBy(stmt, pg::list(select, "groupClause"), range);
  if (pg::flag(select, "groupDistinct"))
    error(
        keywordBefore(firstLocation(pg::list(select, "groupClause").front()), {"distinct"}, range),
        "GROUP BY DISTINCT is not supported");
  if (auto having = pg::field(select, "havingClause"))
    stmt.having = expr(*having, range);
  stmt.values = valuesRows(select, range);
}

std::vector<std::vector<ExprPtr>> Transformer::valuesRows(pg::Object node,
                                                          const SourceRange &parent) {
  std::vector<std::vector<ExprPtr>> rows;
  for (pg::Json row : pg::list(node, "valuesLists")) {
    rows.push_back(exprs(pg::list(pg::asNode(row)->fields, "items"), parent));
  }
  return rows;
}

void Transformer::groupBy(ast::SelectStmt &stmt, const std::vector<pg::Json> &items,
                          const SourceRange &range) {
  using Sets = std::vector<std::vector<size_t>>;
  bool any_sets = false;
  auto add = [&](pg::Json e) {
    stmt.group_by.push_back(expr(e, range));
    return stmt.group_by.size() - 1;
  };
  // A ROLLUP or CUBE element, or a set of GROUPING SETS: (a, b) is its items together.
  auto element = [&](pg::Json e) {
    std::vector<size_t> items;
    auto node = pg::asNode(e);
    if (node && node->is("RowExpr"))
      for (pg::Json arg : pg::list(node->fields, "args"))
        items.push_back(add(arg));
    else
      items.push_back(add(e));
    return items;
  };
  std::function<Sets(pg::Json)> setsOf = [&](pg::Json item) -> Sets {
    auto node = pg::asNode(item);
    if (!node || !node->is("GroupingSet"))
      return {{add(item)}};
    any_sets = true;
    std::string_view kind = pg::string(node->fields, "kind");
    std::vector<pg::Json> content = pg::list(node->fields, "content");
    Sets sets;
    if (kind == "GROUPING_SET_EMPTY")
      return {{}};
    if (kind == "GROUPING_SET_SETS") {
      for (pg::Json c : content) {
        auto inner = pg::asNode(c);
        Sets more = inner && inner->is("GroupingSet") ? setsOf(c) : Sets{element(c)};
        sets.insert(sets.end(), more.begin(), more.end());
      }
      return sets;
    }
    std::vector<std::vector<size_t>> elements;
    for (pg::Json c : content)
      elements.push_back(element(c));
    if (kind == "GROUPING_SET_SIMPLE") {
      sets.emplace_back();
      for (const auto &e : elements)
        sets.back().insert(sets.back().end(), e.begin(), e.end());
    } else if (kind == "GROUPING_SET_ROLLUP") { // (a, b, c), (a, b), (a), ()
      for (size_t n = elements.size() + 1; n-- > 0;) {
        sets.emplace_back();
        for (size_t i = 0; i < n; ++i)
          sets.back().insert(sets.back().end(), elements[i].begin(), elements[i].end());
      }
    } else if (elements.size() > 12) { // CUBE: every subset
      error(located(node->fields, range), "CUBE of more than 12 elements is not supported");
    } else {
      for (size_t mask = (size_t{1} << elements.size()); mask-- > 0;) {
        sets.emplace_back();
        for (size_t i = 0; i < elements.size(); ++i)
          if (mask & (size_t{1} << (elements.size() - 1 - i)))
            sets.back().insert(sets.back().end(), elements[i].begin(), elements[i].end());
      }
    }
    return sets;
  };
  // Items side by side multiply: GROUP BY a, ROLLUP (b) is the sets (a, b) and (a).
  Sets product{{}};
  for (pg::Json item : items) {
    Sets next, sets = setsOf(item);
    for (const std::vector<size_t> &left : product)
      for (const std::vector<size_t> &right : sets) {
        next.push_back(left);
        next.back().insert(next.back().end(), right.begin(), right.end());
      }
    product = std::move(next);
    if (product.size() > 4096) {
      error(range, "GROUP BY has more than 4096 grouping sets");
      return;
    }
  }
  if (any_sets)
    stmt.grouping_sets = std::move(product);
}

void Transformer::withClause(pg::Object with, ast::SelectStmt &stmt) {
  std::vector<pg::Json> ctes = pg::list(with, "ctes");
  if (pg::flag(with, "recursive"))
    error(keywordBefore(firstLocation(ctes.front()), {"recursive"}, stmt.range),
          "WITH RECURSIVE is not supported yet");
  for (pg::Json item : ctes) {
    pg::Object cte = pg::asNode(item)->fields;
    ast::CommonTableExpr out;
    out.name = pg::string(cte, "ctename");
    out.column_names = pg::strings(cte, "aliascolnames");
    out.range = located(cte, stmt.range);
    auto query_node = pg::node(cte, "ctequery");
    if (query_node && query_node->is("SelectStmt")) {
      out.query = query(query_node->fields, out.range);
    } else {
      error(out.range, "data-modifying statements in WITH are not supported");
    }
    if (pg::field(cte, "search_clause") || pg::field(cte, "cycle_clause"))
      error(out.range, "SEARCH and CYCLE clauses are not supported");
    stmt.with.push_back(std::move(out));
  }
}

std::vector<std::string> Transformer::relationName(pg::Object range_var) const {
  std::vector<std::string> names;
  for (std::string_view key : {"catalogname", "schemaname", "relname"}) {
    std::string_view name = pg::string(range_var, key);
    if (!name.empty())
      names.emplace_back(name);
  }
  return names;
}

void Transformer::alias(pg::Object node, ast::TableRef &ref) const {
  if (auto alias = pg::object(node, "alias")) {
    ref.alias = pg::string(*alias, "aliasname");
    ref.column_aliases = pg::strings(*alias, "colnames");
  }
}

std::unique_ptr<ast::TableRef> Transformer::tableRef(pg::Json json, const SourceRange &parent) {
  auto node = pg::asNode(json);
  if (node && node->is("JoinExpr"))
    return join(node->fields, parent);
  if (node && node->is("RangeVar")) {
    auto ref = std::make_unique<ast::TableRef>();
    ref->kind = ast::TableRef::Kind::Named;
    ref->range = located(node->fields, parent);
    ref->names = relationName(node->fields);
    alias(node->fields, *ref);
    return ref;
  }
  if (node && node->is("RangeSubselect")) {
    auto ref = std::make_unique<ast::TableRef>();
    ref->kind = ast::TableRef::Kind::Subquery;
    pg::Object subquery = pg::node(node->fields, "subquery")->fields;
    ref->subquery = query(subquery, parent);
    ref->range = ref->subquery->range;
    ref->lateral = pg::flag(node->fields, "lateral");
    alias(node->fields, *ref);
    return ref;
  }
  if (node && node->is("RangeFunction"))
    return rangeFunction(node->fields, parent);
  std::string_view type = node ? node->type : std::string_view();
  std::string message = type == "RangeTableSample" ? "TABLESAMPLE is not supported"
                        : type == "RangeTableFunc" ? "XMLTABLE is not supported"
                                                   : "this kind of FROM item is not supported";
  SourceRange range = node && pg::field(node->fields, "location") ? located(node->fields, parent)
                                                                  : firstTokenRange(json, parent);
  error(range, std::move(message));
  return nullptr;
}

std::unique_ptr<ast::TableRef> Transformer::rangeFunction(pg::Object node,
                                                          const SourceRange &parent) {
  auto ref = std::make_unique<ast::TableRef>();
  ref->kind = ast::TableRef::Kind::Function;
  ref->range = parent;
  ref->ordinality = pg::flag(node, "ordinality");
  // Each function is a list of the call and its column definition list (for functions returning
  // `record`: ROWS FROM (f(...) AS (a int)), which Kiln does not take); one function's list is
  // the node's (AS r(a int, b text)).
  for (pg::Json item : pg::list(node, "functions")) {
    auto pair = pg::asNode(item);
    std::vector<pg::Json> parts = pair ? pg::list(pair->fields, "items") : std::vector<pg::Json>{};
    if (parts.empty())
      continue;
    ast::ExprPtr call = expr(parts[0], parent);
    if (!call)
      return nullptr;
    if (ref->functions.empty())
      ref->range = call->range;
    if (parts.size() > 1 && pg::asNode(parts[1]))
      error(call->range, "a column definition list inside ROWS FROM is not supported yet").hint =
          "call the function alone: FROM f(...) AS r(a int, b text)";
    ref->functions.push_back(std::move(call));
  }
  for (pg::Json item : pg::list(node, "coldeflist")) {
    auto element = pg::asNode(item);
    if (!element || !element->is("ColumnDef"))
      continue;
    ast::ColumnDef column;
    column.name = pg::string(element->fields, "colname");
    column.range = located(element->fields, ref->range);
    column.type = typeName(*pg::object(element->fields, "typeName"), column.range);
    ref->column_definitions.push_back(std::move(column));
  }
  alias(node, *ref);
  return ref;
}

std::unique_ptr<ast::TableRef> Transformer::join(pg::Object node, const SourceRange &parent) {
  auto ref = std::make_unique<ast::TableRef>();
  ref->kind = ast::TableRef::Kind::Join;
  pg::Json right = *pg::field(node, "rarg");
  // The tree has no location for a join: its range is the JOIN keyword before the right side,
  // with the words before it that say which join (NATURAL LEFT OUTER JOIN).
  ref->range = parent;
  int64_t right_first = firstLocation(right);
  auto keyword = right_first < 0 ? std::nullopt
                                 : tokens_.wordBefore(static_cast<uint32_t>(right_first), {"join"});
  if (keyword) {
    size_t first = *keyword;
    while (first > 0 && tokens_.isWordIn(first - 1, {"natural", "inner", "left", "right", "full",
                                                     "outer", "cross"}))
      --first;
    ref->range = tokensRange(first, *keyword);
  }
  ref->natural = pg::flag(node, "isNatural");
  ref->left = tableRef(*pg::field(node, "larg"), ref->range);
  ref->right = tableRef(right, ref->range);
  if (auto quals = pg::field(node, "quals"))
    ref->on = expr(*quals, ref->range);
  ref->using_columns = pg::strings(node, "usingClause");
  std::string_view type = pg::string(node, "jointype");
  if (type == "JOIN_LEFT") {
    ref->join_kind = ast::JoinKind::Left;
  } else if (type == "JOIN_RIGHT") {
    ref->join_kind = ast::JoinKind::Right;
  } else if (type == "JOIN_FULL") {
    ref->join_kind = ast::JoinKind::Full;
  } else {
    // CROSS JOIN is an inner join without a condition (every other inner join needs one).
    bool cross = !ref->natural && !ref->on && ref->using_columns.empty();
    ref->join_kind = cross ? ast::JoinKind::Cross : ast::JoinKind::Inner;
  }
  alias(node, *ref);
  if (pg::field(node, "join_using_alias"))
    error(ref->range, "an alias for JOIN ... USING columns is not supported");
  return ref;
}

// ---- Expressions --------------------------------------------------------------------------------

std::vector<ExprPtr> Transformer::exprs(const std::vector<pg::Json> &list,
                                        const SourceRange &parent) {
  std::vector<ExprPtr> result;
  for (pg::Json item : list)
    result.push_back(expr(item, parent));
  return result;
}

ExprPtr Transformer::expr(pg::Json json, const SourceRange &parent) {
  auto node = pg::asNode(json);
  if (!node) {
    error(parent, "expected an expression");
    return nullptr;
  }
  pg::Object n = node->fields;
  std::string_view type = node->type;
  if (type == "ColumnRef")
    return columnRef(n, located(n, parent));
  if (type == "A_Const")
    return constant(n, parent);
  if (type == "A_Expr")
    return operatorExpr(n, located(n, parent));
  if (type == "BoolExpr")
    return boolExpr(n, located(n, parent));
  if (type == "FuncCall")
    return funcCall(n, located(n, parent));
  if (type == "SubLink")
    return subLink(n, located(n, parent));
  if (type == "CaseExpr")
    return caseExpr(n, located(n, parent));
  if (type == "SQLValueFunction")
    return valueFunction(n, located(n, parent));
  if (type == "TypeCast") {
    ast::TypeName cast_type = typeName(*pg::object(n, "typeName"), parent);
    // Typed literals (DATE '2024-01-01') have no location of their own: use the type's.
    auto e = makeExpr(ExprKind::Cast, located(n, cast_type.range));
    e->cast_type = std::move(cast_type);
    e->args.push_back(expr(*pg::field(n, "arg"), e->range));
    return e;
  }
  if (type == "NullTest") {
    auto e = makeExpr(ExprKind::IsNull, located(n, parent));
    e->negated = pg::string(n, "nulltesttype") == "IS_NOT_NULL";
    e->args.push_back(expr(*pg::field(n, "arg"), e->range));
    return e;
  }
  if (type == "BooleanTest") {
    auto e = makeExpr(ExprKind::IsBool, located(n, parent));
    std::string_view test = pg::string(n, "booltesttype"); // IS_TRUE, IS_NOT_UNKNOWN, ...
    e->negated = test.rfind("IS_NOT_", 0) == 0;
    e->text = lower(test.substr(e->negated ? 7 : 3));
    e->args.push_back(expr(*pg::field(n, "arg"), e->range));
    return e;
  }
  // Arrays: ARRAY[a, b] and a[i] as calls of names no function has ("array[]", "[]").
  if (type == "A_ArrayExpr") {
    auto e = makeExpr(ExprKind::FuncCall, located(n, parent));
    e->names = {"array[]"};
    e->args = exprs(pg::list(n, "elements"), e->range);
    return e;
  }
  if (type == "A_Indirection") {
    std::vector<pg::Json> steps = pg::list(n, "indirection");
    auto index = steps.size() == 1 ? pg::asNode(steps[0]) : std::nullopt;
    if (!index || !index->is("A_Indices"))
      return unsupportedExpr(*node, parent);
    bool slice = pg::flag(index->fields, "is_slice");
    if (!slice && !pg::field(index->fields, "uidx"))
      return unsupportedExpr(*node, parent);
    ExprPtr array = expr(*pg::field(n, "arg"), parent);
    if (!array)
      return nullptr;
    auto e = makeExpr(ExprKind::FuncCall, array->range);
    e->names = {slice ? "[:]" : "[]"};
    e->args.push_back(std::move(array));
    if (!slice) {
      e->args.push_back(expr(*pg::field(index->fields, "uidx"), e->range));
      return e;
    }
    // a[lo:hi]; an omitted bound is the array's own (Kiln's arrays are one-dimensional and
    // start at 1, so a[:hi] is a[1:hi] and a[lo:] runs to the last element).
    for (auto [bound, omitted] : {std::pair<const char *, const char *>{"lidx", "1"},
                                  std::pair<const char *, const char *>{"uidx", "2147483647"}}) {
      if (auto given = pg::field(index->fields, bound)) {
        e->args.push_back(expr(*given, e->range));
      } else {
        auto literal = makeExpr(ExprKind::Literal, e->range);
        literal->literal_kind = ast::LiteralKind::Integer;
        literal->text = omitted;
        e->args.push_back(std::move(literal));
      }
    }
    return e;
  }
  if (type == "GroupingFunc") { // GROUPING(a, b): the binder's, as a call
    auto e = makeExpr(ExprKind::FuncCall, located(n, parent));
    e->names = {"grouping"};
    e->args = exprs(pg::list(n, "args"), e->range);
    return e;
  }
  if (type == "CoalesceExpr") {
    auto e = makeExpr(ExprKind::Coalesce, located(n, parent));
    e->args = exprs(pg::list(n, "args"), e->range);
    return e;
  }
  if (type == "MinMaxExpr") {
    bool greatest = pg::string(n, "op") == "IS_GREATEST";
    auto e = makeExpr(greatest ? ExprKind::Greatest : ExprKind::Least, located(n, parent));
    e->args = exprs(pg::list(n, "args"), e->range);
    return e;
  }
  if (type == "ParamRef") {
    auto e = makeExpr(ExprKind::Param, located(n, parent));
    e->text = "$" + std::to_string(pg::integer(n, "number"));
    return e;
  }
  return unsupportedExpr(*node, parent);
}

ExprPtr Transformer::unsupportedExpr(const pg::Node &node, const SourceRange &parent) {
  static const std::pair<std::string_view, std::string_view> kMessages[] = {
      {"A_Indirection", "field selections and subscripts of more than one dimension are not "
                        "supported"},
      {"CollateClause", "COLLATE is not supported yet"},
      {"RowExpr", "row constructors are not supported"},
      {"SetToDefault", "DEFAULT is not supported here"},
      {"NamedArgExpr", "named arguments are not supported"},
      {"XmlExpr", "XML functions are not supported"},
      {"XmlSerialize", "XML functions are not supported"},
  };
  std::string message = "this expression is not supported (" + std::string(node.type) + ")";
  for (auto [type, text] : kMessages) {
    if (node.type == type)
      message = text;
  }
  SourceRange range = pg::field(node.fields, "location")
                          ? located(node.fields, parent)
                          : tokenRange(firstLocation(node.fields), parent);
  error(range, std::move(message));
  return nullptr;
}

ExprPtr Transformer::columnRef(pg::Object node, const SourceRange &range) {
  auto e = makeExpr(ExprKind::ColumnRef, range);
  for (pg::Json field : pg::list(node, "fields")) {
    auto part = pg::asNode(field);
    if (part && part->is("A_Star")) {
      e->kind = ExprKind::Star; // `*` or `t.*`: always the last part
    } else if (part) {
      e->names.emplace_back(pg::string(part->fields, "sval"));
    }
  }
  return e;
}

// libpg_query 15's JSON writer drops an Integer's value unless it is positive
// (pganalyze/libpg_query#243), so zero and negative integers are read back from the text. The
// grammar folds unary minus into a constant, which then starts at its minus sign(s), with
// parentheses between them when it folded a negated parenthesized constant (`-(-(-1))` is -1).
std::string Transformer::integerText(pg::Object integer, int64_t location) const {
  if (int64_t value = pg::integer(integer, "ival"))
    return std::to_string(value);
  auto token = location < 0 ? std::nullopt : tokens_.at(static_cast<uint32_t>(location));
  if (!token)
    return "0";
  size_t i = *token;
  bool negative = false;
  for (; i < tokens_.size() && (tokens_.text(i) == "-" || tokens_.text(i) == "("); ++i)
    if (tokens_.text(i) == "-")
      negative = !negative;
  if (i == tokens_.size() || tokens_[i].kind != TokenIndex::Kind::Number)
    return "0";
  std::string_view digits = tokens_.text(i);
  digits.remove_prefix(std::min(digits.find_first_not_of('0'), digits.size()));
  if (digits.empty())
    return "0";
  return (negative ? "-" : "") + std::string(digits);
}

ExprPtr Transformer::constant(pg::Object node, const SourceRange &parent) {
  int64_t location = pg::integer(node, "location");
  SourceRange range = tokenRange(location, parent);
  // A folded negative number (`-1`) starts at the minus: underline through the digits.
  if (auto first = location < 0 ? std::nullopt : tokens_.at(static_cast<uint32_t>(location))) {
    size_t last = *first;
    while (last + 1 < tokens_.size() && tokens_.text(last) == "-")
      ++last;
    if (last != *first && tokens_[last].kind == TokenIndex::Kind::Number)
      range = tokensRange(*first, last);
  }
  auto e = makeExpr(ExprKind::Literal, range);
  if (pg::flag(node, "isnull")) {
    e->literal_kind = ast::LiteralKind::Null;
  } else if (auto integer = pg::object(node, "ival")) {
    e->literal_kind = ast::LiteralKind::Integer;
    e->text = integerText(*integer, location);
  } else if (auto number = pg::object(node, "fval")) {
    // Numbers with a point or exponent, and integers too large for int4, as written.
    e->literal_kind = ast::LiteralKind::Numeric;
    e->text = pg::string(*number, "fval");
  } else if (auto string = pg::object(node, "sval")) {
    e->literal_kind = ast::LiteralKind::String;
    e->text = pg::string(*string, "sval");
  } else if (auto boolean = pg::object(node, "boolval")) {
    e->literal_kind = ast::LiteralKind::Boolean;
    e->text = pg::flag(*boolean, "boolval") ? "true" : "false";
  } else if (pg::object(node, "bsval")) {
    error(range, "bit-string literals are not supported");
    return nullptr;
  } else {
    error(range, "unrecognized constant");
    return nullptr;
  }
  return e;
}

std::optional<std::string> Transformer::operatorName(pg::Object node, std::string_view key,
                                                     const SourceRange &range) {
  std::vector<std::string> names = pg::strings(node, key);
  if (names.size() == 1)
    return names.front();
  error(range, "OPERATOR() syntax is not supported");
  return std::nullopt;
}

ExprPtr Transformer::operatorExpr(pg::Object node, const SourceRange &range) {
  std::string_view kind = pg::string(node, "kind");
  auto left = pg::field(node, "lexpr");
  auto right = pg::field(node, "rexpr");
  auto make = [&](ExprKind expr_kind) {
    auto e = makeExpr(expr_kind, range);
    if (left)
      e->args.push_back(expr(*left, range));
    return e;
  };
  // BETWEEN and IN have their operands in a List node.
  auto rightItems = [&] { return pg::list(pg::asNode(*right)->fields, "items"); };

  if (kind == "AEXPR_OP") {
    auto op = operatorName(node, "name", range);
    if (!op)
      return nullptr;
    auto e = make(left ? ExprKind::Binary : ExprKind::Unary); // prefix operators have no lexpr
    e->op = *op;
    e->args.push_back(expr(*right, range));
    return e;
  }
  if (kind == "AEXPR_DISTINCT" || kind == "AEXPR_NOT_DISTINCT") {
    auto e = make(ExprKind::Binary);
    e->op = kind == "AEXPR_DISTINCT" ? "IS DISTINCT FROM" : "IS NOT DISTINCT FROM";
    e->args.push_back(expr(*right, range));
    return e;
  }
  if (kind == "AEXPR_NULLIF") {
    auto e = make(ExprKind::NullIf);
    e->args.push_back(expr(*right, range));
    return e;
  }
  if (kind == "AEXPR_IN") {
    auto e = make(ExprKind::InList);
    e->negated = operatorName(node, "name", range) == "<>";
    for (ExprPtr &item : exprs(rightItems(), range))
      e->args.push_back(std::move(item));
    return e;
  }
  if (kind == "AEXPR_LIKE" || kind == "AEXPR_ILIKE") {
    // An ESCAPE clause turns the pattern into pg_catalog.like_escape(pattern, escape).
    auto pattern = pg::asNode(*right);
    if (pattern && pattern->is("FuncCall") &&
        pg::strings(pattern->fields, "funcname").back() == "like_escape") {
      std::vector<pg::Json> args = pg::list(pattern->fields, "args");
      error(keywordBefore(firstLocation(args.back()), {"escape"}, range),
            "LIKE ... ESCAPE is not supported yet");
      return nullptr;
    }
    auto e = make(ExprKind::Like);
    e->negated = operatorName(node, "name", range).value_or("").rfind('!', 0) == 0; // !~~, !~~*
    e->case_insensitive = kind == "AEXPR_ILIKE";
    e->args.push_back(expr(*right, range));
    return e;
  }
  if (kind.rfind("AEXPR_BETWEEN", 0) == 0 || kind.rfind("AEXPR_NOT_BETWEEN", 0) == 0) {
    auto e = make(ExprKind::Between);
    e->negated = kind.rfind("AEXPR_NOT_", 0) == 0;
    e->symmetric = kind.size() > 4 && kind.substr(kind.size() - 4) == "_SYM";
    for (ExprPtr &bound : exprs(rightItems(), range))
      e->args.push_back(std::move(bound));
    return e;
  }
  if (kind == "AEXPR_SIMILAR") {
    error(range, "SIMILAR TO is not supported yet");
  } else if (kind == "AEXPR_OP_ANY" || kind == "AEXPR_OP_ALL") {
    // x op ANY (array): a call of "any" (or "all") with the operator (Binder/Arrays.cpp).
    std::optional<std::string> op = operatorName(node, "name", range);
    if (!op)
      return nullptr;
    auto e = make(ExprKind::FuncCall);
    e->names = {kind == "AEXPR_OP_ANY" ? "any" : "all"};
    e->op = *op;
    e->args.push_back(expr(*right, range));
    return e;
  } else {
    error(range, "this operator is not supported");
  }
  return nullptr;
}

ExprPtr Transformer::boolExpr(pg::Object node, const SourceRange &range) {
  std::string_view op = pg::string(node, "boolop");
  std::vector<pg::Json> args = pg::list(node, "args");
  if (op == "NOT_EXPR") {
    auto e = makeExpr(ExprKind::Unary, range);
    e->op = "NOT";
    e->args.push_back(expr(args.front(), range));
    return e;
  }
  auto e = makeExpr(ExprKind::Binary, range);
  e->op = op == "AND_EXPR" ? "AND" : "OR";
  for (pg::Json arg : args) {
    ExprPtr operand = expr(arg, range);
    // Flatten nested chains of the same operator, e.g. `a AND (b AND c)`.
    if (operand && operand->kind == ExprKind::Binary && operand->op == e->op) {
      for (ExprPtr &inner : operand->args)
        e->args.push_back(std::move(inner));
    } else {
      e->args.push_back(std::move(operand));
    }
  }
  return e;
}

ExprPtr Transformer::funcCall(pg::Object node, const SourceRange &range) {
  std::unique_ptr<ast::WindowSpec> over;
  if (auto def = pg::object(node, "over")) { // a WindowDef inline
    over = windowSpec(*def, range);
    if (!over)
      return nullptr;
  }
  std::vector<pg::Json> order = pg::list(node, "agg_order");
  if (pg::flag(node, "agg_within_group")) {
    error(range, "WITHIN GROUP is not supported");
    return nullptr;
  }
  if (pg::flag(node, "func_variadic")) {
    error(range, "VARIADIC arguments are not supported");
    return nullptr;
  }
  auto e = makeExpr(ExprKind::FuncCall, range);
  // SQL-syntax calls (EXTRACT(... FROM ...), TRIM, SUBSTRING ... FROM) arrive as pg_catalog.<name>.
  e->names = pg::strings(node, "funcname");
  e->star = pg::flag(node, "agg_star");
  e->distinct = pg::flag(node, "agg_distinct");
  e->args = exprs(pg::list(node, "args"), range);
  for (pg::Json item : order) {
    e->agg_order.push_back(sortItem(item, range));
    if (!e->agg_order.back().expr)
      return nullptr;
  }
  if (auto filter = pg::field(node, "agg_filter")) {
    e->agg_filter = expr(*filter, range);
    if (!e->agg_filter)
      return nullptr;
  }
  e->over = std::move(over);
  return e;
}

ExprPtr Transformer::subLink(pg::Object node, const SourceRange &range) {
  std::string_view type = pg::string(node, "subLinkType");
  auto e = makeExpr(ExprKind::Subquery, range);
  bool negate_in = false;
  if (type == "EXISTS_SUBLINK") {
    e->sublink = ast::SublinkKind::Exists;
  } else if (type == "EXPR_SUBLINK") {
    e->sublink = ast::SublinkKind::Scalar;
  } else if (type == "ANY_SUBLINK" || type == "ALL_SUBLINK") {
    // `x IN (subquery)` is ANY_SUBLINK without an operator.
    bool in = type == "ANY_SUBLINK" && pg::list(node, "operName").empty();
    e->sublink = in                      ? ast::SublinkKind::In
                 : type == "ANY_SUBLINK" ? ast::SublinkKind::Any
                                         : ast::SublinkKind::All;
    if (!in) {
      auto op = operatorName(node, "operName", range);
      if (!op)
        return nullptr;
      e->op = *op;
      // `x = ANY (q)` is `x IN (q)`, and `x <> ALL (q)` is `NOT (x IN (q))`, NULLs and all.
      if ((e->sublink == ast::SublinkKind::Any && e->op == "=") ||
          (e->sublink == ast::SublinkKind::All && (e->op == "<>" || e->op == "!="))) {
        negate_in = e->sublink == ast::SublinkKind::All;
        e->sublink = ast::SublinkKind::In;
        e->op.clear();
      }
    }
  } else if (type == "ARRAY_SUBLINK") {
    error(range, "ARRAY(subquery) is not supported");
    return nullptr;
  } else if (type == "ROWCOMPARE_SUBLINK") {
    error(range, "row comparisons with a subquery are not supported");
    return nullptr;
  } else {
    error(range, "this kind of subquery is not supported");
    return nullptr;
  }
  if (auto test = pg::field(node, "testexpr"))
    e->args.push_back(expr(*test, range));
  e->subquery = query(pg::node(node, "subselect")->fields, range);
  if (!negate_in)
    return e;
  auto negated = makeExpr(ExprKind::Unary, e->range);
  negated->op = "NOT";
  negated->args.push_back(std::move(e));
  return negated;
}

ExprPtr Transformer::caseExpr(pg::Object node, const SourceRange &range) {
  auto e = makeExpr(ExprKind::Case, range);
  if (auto operand = pg::field(node, "arg"))
    e->case_operand = expr(*operand, range);
  for (pg::Json item : pg::list(node, "args")) {
    pg::Object when = pg::asNode(item)->fields;
    SourceRange when_range = located(when, range);
    e->args.push_back(expr(*pg::field(when, "expr"), when_range));
    e->args.push_back(expr(*pg::field(when, "result"), when_range));
  }
  if (auto otherwise = pg::field(node, "defresult"))
    e->case_else = expr(*otherwise, range);
  return e;
}

// CURRENT_DATE, CURRENT_TIMESTAMP, LOCALTIMESTAMP, CURRENT_USER, ...: calls without arguments.
ExprPtr Transformer::valueFunction(pg::Object node, const SourceRange &range) {
  std::string name = lower(pg::string(node, "op")); // svfop_current_timestamp[_n]
  name.erase(0, name.find('_') + 1);
  if (name.size() > 2 && name.substr(name.size() - 2) == "_n") {
    error(range, name.substr(0, name.size() - 2) + " with a precision is not supported");
    return nullptr;
  }
  auto e = makeExpr(ExprKind::FuncCall, range);
  e->names = {name};
  return e;
}

ast::TypeName Transformer::typeName(pg::Object node, const SourceRange &parent) {
  ast::TypeName type;
  type.range = located(node, parent);
  std::vector<std::string> names = pg::strings(node, "names");
  // The grammar spells SQL's type keywords as pg_catalog.<canonical name> (INTEGER ->
  // pg_catalog.int4); other names are as written, and PostgreSQL's own (int8, text, date) are
  // canonical already.
  if (names.size() == 2 && names.front() == "pg_catalog")
    names.erase(names.begin());
  type.name = joinNames(names, ".");
  type.is_array = !pg::list(node, "arrayBounds").empty();
  for (pg::Json item : pg::list(node, "typmods")) {
    auto modifier = pg::asNode(item);
    auto integer =
        modifier && modifier->is("A_Const") ? pg::object(modifier->fields, "ival") : std::nullopt;
    if (!integer) {
      error(firstTokenRange(item, type.range), "type modifiers must be integer constants");
      continue;
    }
    type.modifiers.push_back(
        std::stoll(integerText(*integer, pg::integer(modifier->fields, "location"))));
  }
  if (type.name == "interval" && !type.modifiers.empty())
    intervalFields(type);
  return type;
}

// The grammar gives INTERVAL's fields as a first modifier that is a mask of PostgreSQL's field bits
// (INTERVAL_MASK in datetime.h), all of them for none; a seconds precision follows.
void Transformer::intervalFields(ast::TypeName &type) {
  static const std::pair<int64_t, std::string_view> kFields[] = {
      {1 << 2, "year"},
      {1 << 1, "month"},
      {1 << 3, "day"},
      {1 << 10, "hour"},
      {1 << 11, "minute"},
      {1 << 12, "second"},
      {6, "year to month"},
      {1032, "day to hour"},
      {3080, "day to minute"},
      {7176, "day to second"},
      {3072, "hour to minute"},
      {7168, "hour to second"},
      {6144, "minute to second"},
      {0x7FFF, ""},
  };
  int64_t mask = type.modifiers.front();
  auto fields = std::find_if(std::begin(kFields), std::end(kFields),
                             [&](const auto &entry) { return entry.first == mask; });
  if (fields == std::end(kFields)) {
    error(type.range, "unrecognized INTERVAL fields");
    return;
  }
  type.interval_fields = fields->second;
  type.modifiers.erase(type.modifiers.begin());
}

// ---- Other statements ---------------------------------------------------------------------------

void Transformer::statement(const RawStatement &raw, std::vector<ast::Statement> &out) {
  if (raw.node.is("DropStmt"))
    return drop(raw, out);
  ast::Statement stmt;
  stmt.range = statementRange(raw);
  SourceRange start = statementStart(raw);
  pg::Object node = raw.node.fields;
  if (raw.node.is("SelectStmt")) {
    stmt.kind = ast::Statement::Kind::Select;
    stmt.select = query(node, start);
  } else if (raw.node.is("CreateStmt")) {
    createTable(node, stmt, start);
  } else if (raw.node.is("ViewStmt")) {
    createView(node, stmt, start);
  } else if (raw.node.is("InsertStmt")) {
    insert(node, stmt, start);
  } else if (raw.node.is("UpdateStmt")) {
    update(node, stmt, start);
  } else if (raw.node.is("DeleteStmt")) {
    remove(node, stmt, start);
  } else {
    error(start, statementName(raw) + " is not supported");
    return;
  }
  out.push_back(std::move(stmt));
}

void Transformer::rejectOtherFields(pg::Object node, std::initializer_list<std::string_view> known,
                                    const SourceRange &range, std::string_view statement) {
  static const std::pair<std::string_view, std::string_view> kClauses[] = {
      {"withClause", "WITH"},
      {"returningList", "RETURNING"},
      {"onConflictClause", "ON CONFLICT"},
      {"usingClause", "USING"},
      {"fromClause", "FROM"},
      {"inhRelations", "INHERITS"},
      {"partspec", "PARTITION BY"},
      {"partbound", "PARTITION OF"},
      {"ofTypename", "OF type"},
      {"options", "storage parameters"},
      {"tablespacename", "TABLESPACE"},
      {"accessMethod", "USING"},
  };
  for (auto [key, value] : node) {
    if (std::find(known.begin(), known.end(), key) != known.end())
      continue;
    std::string message = "this form of " + std::string(statement) + " is not supported";
    for (auto [field, clause] : kClauses) {
      if (key == field)
        message = std::string(statement) + " with " + std::string(clause) + " is not supported";
    }
    error(range, std::move(message));
  }
}

std::vector<std::string> Transformer::targetTable(pg::Object range_var, const SourceRange &start) {
  if (pg::object(range_var, "alias"))
    error(located(range_var, start), "a table alias is not supported here");
  return relationName(range_var);
}

void Transformer::createTable(pg::Object node, ast::Statement &stmt, const SourceRange &start) {
  stmt.kind = ast::Statement::Kind::CreateTable;
  stmt.name = targetTable(*pg::object(node, "relation"), start);
  rejectOtherFields(node, {"relation", "tableElts", "oncommit", "if_not_exists"}, start,
                    "CREATE TABLE");
  if (pg::flag(node, "if_not_exists"))
    error(start, "CREATE TABLE IF NOT EXISTS is not supported");

  // The primary key, from a column's constraint or the table's, with where it was declared.
  std::vector<std::pair<std::string, SourceRange>> key;
  auto setKey = [&](std::vector<std::string> columns, const SourceRange &range) {
    if (!key.empty()) {
      error(range, "multiple primary keys for table \"" + stmt.name.back() + "\" are not allowed");
      return;
    }
    for (std::string &column : columns)
      key.emplace_back(std::move(column), range);
  };
  auto constraintError = [&](std::string_view type, const SourceRange &range) {
    std::string_view what = type == "CONSTR_DEFAULT"     ? "column defaults are"
                            : type == "CONSTR_CHECK"     ? "CHECK constraints are"
                            : type == "CONSTR_FOREIGN"   ? "foreign keys are"
                            : type == "CONSTR_GENERATED" ? "generated columns are"
                            : type == "CONSTR_IDENTITY"  ? "identity columns are"
                            : type == "CONSTR_EXCLUSION" ? "exclusion constraints are"
                                                         : "this constraint is";
    error(range, std::string(what) + " not supported");
  };

  for (pg::Json item : pg::list(node, "tableElts")) {
    auto element = pg::asNode(item);
    if (element && element->is("ColumnDef")) {
      pg::Object definition = element->fields;
      ast::ColumnDef column;
      column.name = pg::string(definition, "colname");
      column.range = located(definition, start);
      column.type = typeName(*pg::object(definition, "typeName"), column.range);
      if (auto collate = pg::object(definition, "collClause"))
        error(located(*collate, column.range), "COLLATE is not supported yet");
      for (pg::Json constraint_item : pg::list(definition, "constraints")) {
        pg::Object constraint = pg::asNode(constraint_item)->fields;
        std::string_view type = pg::string(constraint, "contype");
        SourceRange range = located(constraint, column.range);
        if (type == "CONSTR_NOTNULL") {
          column.not_null = true;
        } else if (type == "CONSTR_PRIMARY") {
          setKey({column.name}, range);
        } else if (type != "CONSTR_NULL" && type != "CONSTR_UNIQUE") { // UNIQUE is not enforced
          constraintError(type, range);
        }
      }
      stmt.columns.push_back(std::move(column));
    } else if (element && element->is("Constraint")) {
      std::string_view type = pg::string(element->fields, "contype");
      SourceRange range = located(element->fields, start);
      if (type == "CONSTR_PRIMARY") {
        setKey(pg::strings(element->fields, "keys"), range);
      } else if (type != "CONSTR_UNIQUE") {
        constraintError(type, range);
      }
    } else { // LIKE other_table
      error(keywordBefore(firstLocation(item), {"like"}, start),
            "CREATE TABLE ... (LIKE ...) is not supported");
    }
  }
  // PostgreSQL makes primary key columns NOT NULL.
  for (auto &[name, range] : key) {
    auto column = std::find_if(stmt.columns.begin(), stmt.columns.end(),
                               [&](const ast::ColumnDef &c) { return c.name == name; });
    if (column == stmt.columns.end()) {
      error(range, "column \"" + name + "\" named in key does not exist");
      continue;
    }
    column->primary_key = column->not_null = true;
    stmt.primary_key.push_back(name);
  }
}

void Transformer::createView(pg::Object node, ast::Statement &stmt, const SourceRange &start) {
  stmt.kind = ast::Statement::Kind::CreateView;
  pg::Object view = *pg::object(node, "view");
  stmt.name = targetTable(view, start);
  rejectOtherFields(node, {"view", "query", "aliases", "replace", "withCheckOption"}, start,
                    "CREATE VIEW");
  if (pg::flag(node, "replace"))
    error(start, "CREATE OR REPLACE VIEW is not supported");
  if (pg::string(node, "withCheckOption") != "NO_CHECK_OPTION")
    error(start, "WITH CHECK OPTION is not supported");
  stmt.select = query(pg::node(node, "query")->fields, start);
  std::vector<std::string> columns = pg::strings(node, "aliases");
  if (columns.empty())
    return;
  // CREATE VIEW v (a, b) AS q names the columns as SELECT * FROM (q) AS v (a, b) would.
  SourceRange name_range = located(view, start);
  auto renamed = std::make_unique<ast::TableRef>();
  renamed->kind = ast::TableRef::Kind::Subquery;
  renamed->range = stmt.select->range;
  renamed->alias = stmt.name.back();
  renamed->column_aliases = std::move(columns);
  renamed->subquery = std::move(stmt.select);
  stmt.select = std::make_unique<ast::SelectStmt>();
  stmt.select->range = name_range;
  stmt.select->targets.push_back({makeExpr(ExprKind::Star, name_range), "", name_range});
  stmt.select->from.push_back(std::move(renamed));
}

void Transformer::insert(pg::Object node, ast::Statement &stmt, const SourceRange &start) {
  stmt.kind = ast::Statement::Kind::Insert;
  stmt.name = targetTable(*pg::object(node, "relation"), start);
  rejectOtherFields(node, {"relation", "cols", "selectStmt", "override"}, start, "INSERT");
  for (pg::Json item : pg::list(node, "cols")) {
    pg::Object target = pg::asNode(item)->fields;
    if (pg::field(target, "indirection"))
      error(located(target, start), "inserting into a field or subscript is not supported");
    stmt.insert_columns.emplace_back(pg::string(target, "name"));
  }
  auto select = pg::node(node, "selectStmt");
  if (!select) {
    error(start, "INSERT ... DEFAULT VALUES is not supported");
    return;
  }
  std::unique_ptr<ast::SelectStmt> source = query(select->fields, start);
  // A plain VALUES list, the common case, goes to `values`; any other query to `select`.
  bool plain_values = source->op == ast::SetOp::None && !source->values.empty() &&
                      source->with.empty() && source->order_by.empty() && !source->limit &&
                      !source->offset;
  if (plain_values) {
    stmt.values = std::move(source->values);
  } else {
    stmt.select = std::move(source);
  }
}

void Transformer::update(pg::Object node, ast::Statement &stmt, const SourceRange &start) {
  stmt.kind = ast::Statement::Kind::Update;
  stmt.name = targetTable(*pg::object(node, "relation"), start);
  rejectOtherFields(node, {"relation", "targetList", "whereClause"}, start, "UPDATE");
  for (pg::Json item : pg::list(node, "targetList")) {
    pg::Object target = pg::asNode(item)->fields;
    SourceRange range = located(target, start);
    if (pg::field(target, "indirection"))
      error(range, "assigning to a field or subscript is not supported");
    pg::Json value = *pg::field(target, "val");
    // SET (a, b) = (1, 2) comes as one target per column, each pointing at the source.
    if (auto multiple = pg::asNode(value); multiple && multiple->is("MultiAssignRef")) {
      if (pg::integer(multiple->fields, "colno") == 1)
        error(range, "assigning several columns at once is not supported");
      continue;
    }
    stmt.assignments.emplace_back(pg::string(target, "name"), expr(value, range));
  }
  if (auto where = pg::field(node, "whereClause"))
    stmt.where = expr(*where, start);
}

void Transformer::remove(pg::Object node, ast::Statement &stmt, const SourceRange &start) {
  stmt.kind = ast::Statement::Kind::Delete;
  stmt.name = targetTable(*pg::object(node, "relation"), start);
  rejectOtherFields(node, {"relation", "whereClause"}, start, "DELETE");
  if (auto where = pg::field(node, "whereClause"))
    stmt.where = expr(*where, start);
}

void Transformer::drop(const RawStatement &raw, std::vector<ast::Statement> &out) {
  pg::Object node = raw.node.fields;
  SourceRange start = statementStart(raw);
  std::string_view type = pg::string(node, "removeType");
  if (type != "OBJECT_TABLE" && type != "OBJECT_VIEW") {
    error(start, statementName(raw) + " is not supported");
    return;
  }
  if (pg::string(node, "behavior") == "DROP_CASCADE")
    error(start, "DROP ... CASCADE is not supported");
  // DROP TABLE a, b: one statement per table.
  for (pg::Json object : pg::list(node, "objects")) {
    ast::Statement stmt;
    stmt.kind =
        type == "OBJECT_TABLE" ? ast::Statement::Kind::DropTable : ast::Statement::Kind::DropView;
    stmt.range = statementRange(raw);
    stmt.name = pg::strings(pg::asNode(object)->fields, "items");
    stmt.if_exists = pg::flag(node, "missing_ok");
    out.push_back(std::move(stmt));
  }
}

} // namespace kiln::frontend
