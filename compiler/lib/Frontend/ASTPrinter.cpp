#include "kiln/Frontend/ASTPrinter.h"

#include <cstdio>
#include <ostream>

namespace kiln::frontend {
namespace {

using ast::Expr;
using ast::ExprKind;

bool isPlainName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9'))
    return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

std::string quoted(std::string_view text) {
  std::string result = "\"";
  for (char c : text) {
    switch (c) {
    case '"':
      result += "\\\"";
      break;
    case '\\':
      result += "\\\\";
      break;
    case '\n':
      result += "\\n";
      break;
    case '\t':
      result += "\\t";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char escape[8];
        std::snprintf(escape, sizeof escape, "\\x%02x", static_cast<unsigned char>(c));
        result += escape;
      } else {
        result += c;
      }
    }
  }
  return result + "\"";
}

// A name as SQL would need it written: bare if it is a plain lower-case identifier.
std::string name(std::string_view text) {
  if (isPlainName(text))
    return std::string(text);
  std::string result = "\"";
  for (char c : text)
    result += c == '"' ? std::string("\"\"") : std::string(1, c);
  return result + "\"";
}

std::string qualifiedName(const std::vector<std::string> &parts) {
  std::string result;
  for (const std::string &part : parts)
    result += (result.empty() ? "" : ".") + name(part);
  return result;
}

std::string typeName(const ast::TypeName &type) {
  std::string result = type.name;
  if (!type.interval_fields.empty())
    result += " " + type.interval_fields;
  if (!type.modifiers.empty()) {
    result += "(";
    for (size_t i = 0; i < type.modifiers.size(); ++i)
      result += (i ? "," : "") + std::to_string(type.modifiers[i]);
    result += ")";
  }
  return type.is_array ? result + "[]" : result;
}

const char *literalKind(ast::LiteralKind kind) {
  switch (kind) {
  case ast::LiteralKind::Integer:
    return "integer";
  case ast::LiteralKind::Numeric:
    return "numeric";
  case ast::LiteralKind::String:
    return "string";
  case ast::LiteralKind::Boolean:
    return "boolean";
  case ast::LiteralKind::Null:
    return "null";
  }
  return "?";
}

const char *joinKind(ast::JoinKind kind) {
  switch (kind) {
  case ast::JoinKind::Inner:
    return "inner";
  case ast::JoinKind::Left:
    return "left";
  case ast::JoinKind::Right:
    return "right";
  case ast::JoinKind::Full:
    return "full";
  case ast::JoinKind::Cross:
    return "cross";
  }
  return "?";
}

class Printer {
public:
  Printer(std::ostream &out, const SourceManager *sources, bool multiline)
      : out_(out), sources_(sources), multiline_(multiline) {}

  // Every node prints with `level` as the indentation of the line it starts on.
  void select(const ast::SelectStmt &stmt, int level) {
    if (stmt.op != ast::SetOp::None) {
      out_ << "("
           << (stmt.op == ast::SetOp::Union       ? "union"
               : stmt.op == ast::SetOp::Intersect ? "intersect"
                                                  : "except");
      if (stmt.all)
        out_ << " all";
    } else if (stmt.targets.empty() && !stmt.values.empty()) {
      out_ << "(values";
    } else {
      out_ << "(select";
      if (stmt.distinct_on)
        out_ << " distinct-on";
      else if (stmt.distinct)
        out_ << " distinct";
    }
    at(stmt.range);
    int inner = level + 1;
    if (!stmt.with.empty()) {
      list("with", inner, stmt.with, [&](const ast::CommonTableExpr &cte, int l) {
        out_ << "(cte";
        at(cte.range);
        out_ << " " << name(cte.name);
        names(" (columns", cte.column_names);
        subquery(cte.query.get(), l + 1);
        out_ << ")";
      });
    }
    if (stmt.larg) {
      newline(inner);
      select(*stmt.larg, inner);
    }
    if (stmt.rarg) {
      newline(inner);
      select(*stmt.rarg, inner);
    }
    if (!stmt.distinct_on_exprs.empty())
      list("distinct-on", inner, stmt.distinct_on_exprs,
           [&](const ast::ExprPtr &e, int l) { expr(e.get(), l); });
    if (!stmt.targets.empty()) {
      list("targets", inner, stmt.targets, [&](const ast::SelectItem &item, int l) {
        out_ << "(item";
        at(item.range);
        out_ << " ";
        expr(item.expr.get(), l);
        if (!item.alias.empty())
          out_ << " as " << name(item.alias);
        out_ << ")";
      });
    }
    if (!stmt.values.empty()) {
      for (const auto &row : stmt.values) {
        newline(inner);
        this->row(row, inner);
      }
    }
    if (!stmt.from.empty()) {
      list("from", inner, stmt.from,
           [&](const std::unique_ptr<ast::TableRef> &ref, int l) { tableRef(ref.get(), l); });
    }
    clause("where", stmt.where.get(), inner);
    if (!stmt.group_by.empty()) {
      list("group-by", inner, stmt.group_by,
           [&](const ast::ExprPtr &e, int l) { expr(e.get(), l); });
    }
    clause("having", stmt.having.get(), inner);
    if (!stmt.order_by.empty()) {
      list("order-by", inner, stmt.order_by, [&](const ast::SortItem &item, int l) {
        out_ << "(sort ";
        expr(item.expr.get(), l);
        if (item.descending)
          out_ << " desc";
        if (item.nulls)
          out_ << (item.nulls == 1 ? " nulls-first" : " nulls-last");
        out_ << ")";
      });
    }
    clause("limit", stmt.limit.get(), inner);
    clause("offset", stmt.offset.get(), inner);
    out_ << ")";
  }

  void statement(const ast::Statement &stmt) {
    using Kind = ast::Statement::Kind;
    if (stmt.kind == Kind::Select) {
      select(*stmt.select, 0);
      return;
    }
    static const char *const kHeads[] = {"select", "create-table", "create-view", "insert",
                                         "delete", "update",       "drop-table",  "drop-view"};
    out_ << "(" << kHeads[static_cast<int>(stmt.kind)];
    at(stmt.range);
    if (stmt.if_exists)
      out_ << " if-exists";
    out_ << " " << qualifiedName(stmt.name);
    for (const ast::ColumnDef &column : stmt.columns) {
      out_ << " (column";
      at(column.range);
      out_ << " " << name(column.name) << " " << typeName(column.type);
      if (column.not_null)
        out_ << " not-null";
      if (column.primary_key)
        out_ << " primary-key";
      out_ << ")";
    }
    names(" (primary-key", stmt.primary_key);
    names(" (columns", stmt.insert_columns);
    for (const auto &row : stmt.values) {
      out_ << " ";
      this->row(row, 0);
    }
    for (const auto &[column, value] : stmt.assignments) {
      out_ << " (set " << name(column) << " ";
      expr(value.get(), 0);
      out_ << ")";
    }
    clause("where", stmt.where.get(), 0);
    if (stmt.select) {
      out_ << " ";
      select(*stmt.select, 0);
    }
    out_ << ")";
  }

private:
  void newline(int level) {
    if (multiline_) {
      out_ << "\n" << std::string(2 * level, ' ');
    } else {
      out_ << " ";
    }
  }

  void at(const SourceRange &range) {
    if (!sources_)
      return;
    if (!range.valid()) {
      out_ << " @?";
      return;
    }
    LineCol position = sources_->lineCol(range.begin);
    out_ << " @" << position.line << ":" << position.column << "+" << range.length;
  }

  // (head
  //   element
  //   element)
  template <class T, class F>
  void list(const char *head, int level, const std::vector<T> &elements, F print) {
    newline(level);
    out_ << "(" << head;
    for (const T &element : elements) {
      newline(level + 1);
      print(element, level + 1);
    }
    out_ << ")";
  }

  void clause(const char *head, const Expr *e, int level) {
    if (!e)
      return;
    newline(level);
    out_ << "(" << head << " ";
    expr(e, level);
    out_ << ")";
  }

  void names(const char *head, const std::vector<std::string> &list) {
    if (list.empty())
      return;
    out_ << head;
    for (const std::string &n : list)
      out_ << " " << name(n);
    out_ << ")";
  }

  void row(const std::vector<ast::ExprPtr> &row, int level) {
    out_ << "(row";
    for (const ast::ExprPtr &e : row) {
      out_ << " ";
      expr(e.get(), level);
    }
    out_ << ")";
  }

  void subquery(const ast::SelectStmt *stmt, int level) {
    if (!stmt)
      return;
    newline(level);
    select(*stmt, level);
  }

  void tableRef(const ast::TableRef *ref, int level) {
    if (!ref) {
      out_ << "(null)";
      return;
    }
    switch (ref->kind) {
    case ast::TableRef::Kind::Named:
      out_ << "(table";
      at(ref->range);
      out_ << " " << qualifiedName(ref->names);
      break;
    case ast::TableRef::Kind::Subquery:
      out_ << (ref->lateral ? "(lateral subquery" : "(subquery");
      at(ref->range);
      break;
    case ast::TableRef::Kind::Join:
      out_ << "(join " << joinKind(ref->join_kind);
      if (ref->natural)
        out_ << " natural";
      at(ref->range);
      break;
    case ast::TableRef::Kind::Function:
      out_ << "(function";
      if (ref->ordinality)
        out_ << " with ordinality";
      at(ref->range);
      break;
    }
    if (!ref->alias.empty())
      out_ << " as " << name(ref->alias);
    names(" (columns", ref->column_aliases);
    subquery(ref->subquery.get(), level + 1);
    for (const ast::ExprPtr &call : ref->functions) {
      newline(level + 1);
      expr(call.get(), level + 1);
    }
    if (ref->kind == ast::TableRef::Kind::Join) {
      newline(level + 1);
      tableRef(ref->left.get(), level + 1);
      newline(level + 1);
      tableRef(ref->right.get(), level + 1);
      clause("on", ref->on.get(), level + 1);
      if (!ref->using_columns.empty()) {
        newline(level + 1);
        names("(using", ref->using_columns);
      }
    }
    out_ << ")";
  }

  void args(const std::vector<ast::ExprPtr> &args, int level) {
    for (const ast::ExprPtr &arg : args) {
      out_ << " ";
      expr(arg.get(), level);
    }
  }

  void expr(const Expr *e, int level) {
    if (!e) {
      out_ << "(null)";
      return;
    }
    auto open = [&](std::string_view head) {
      out_ << "(" << head;
      at(e->range);
    };
    const char *negation = e->negated ? "not-" : "";
    switch (e->kind) {
    case ExprKind::ColumnRef:
      open("column");
      out_ << " " << qualifiedName(e->names);
      break;
    case ExprKind::Star:
      open("star");
      if (!e->names.empty())
        out_ << " " << qualifiedName(e->names);
      break;
    case ExprKind::Literal:
      open("literal");
      out_ << " " << literalKind(e->literal_kind);
      if (e->literal_kind != ast::LiteralKind::Null)
        out_ << " " << quoted(e->text);
      break;
    case ExprKind::Unary:
    case ExprKind::Binary:
      open(e->kind == ExprKind::Unary ? "unary" : "binary");
      out_ << " " << quoted(e->op);
      args(e->args, level);
      break;
    case ExprKind::IsNull:
      open(std::string("is-") + negation + "null");
      args(e->args, level);
      break;
    case ExprKind::IsBool:
      open(std::string("is-") + negation + e->text);
      args(e->args, level);
      break;
    case ExprKind::Between:
      open(std::string(negation) + "between");
      if (e->symmetric)
        out_ << " symmetric";
      args(e->args, level);
      break;
    case ExprKind::InList:
      open(std::string(negation) + "in");
      args(e->args, level);
      break;
    case ExprKind::Like:
      open(std::string(negation) + (e->case_insensitive ? "ilike" : "like"));
      args(e->args, level);
      break;
    case ExprKind::Case:
      open("case");
      if (e->case_operand) {
        out_ << " (operand ";
        expr(e->case_operand.get(), level);
        out_ << ")";
      }
      for (size_t i = 0; i + 1 < e->args.size(); i += 2) {
        out_ << " (when ";
        expr(e->args[i].get(), level);
        out_ << " ";
        expr(e->args[i + 1].get(), level);
        out_ << ")";
      }
      if (e->case_else) {
        out_ << " (else ";
        expr(e->case_else.get(), level);
        out_ << ")";
      }
      break;
    case ExprKind::Coalesce:
    case ExprKind::NullIf:
    case ExprKind::Greatest:
    case ExprKind::Least:
      open(e->kind == ExprKind::Coalesce   ? "coalesce"
           : e->kind == ExprKind::NullIf   ? "nullif"
           : e->kind == ExprKind::Greatest ? "greatest"
                                           : "least");
      args(e->args, level);
      break;
    case ExprKind::Cast:
      open("cast");
      args(e->args, level);
      out_ << " " << typeName(e->cast_type);
      at(e->cast_type.range);
      break;
    case ExprKind::FuncCall:
      open("call");
      out_ << " " << qualifiedName(e->names);
      if (e->distinct)
        out_ << " distinct";
      if (e->star)
        out_ << " *";
      args(e->args, level);
      if (e->over) { // its PARTITION BY expressions, then its ORDER BY's
        out_ << " over";
        args(e->over->partition, level);
        for (const ast::SortItem &item : e->over->order)
          expr(item.expr.get(), level + 1);
      }
      break;
    case ExprKind::Subquery: {
      static const char *const kSublinks[] = {"scalar", "exists", "in", "any", "all"};
      open("subquery");
      out_ << " " << kSublinks[static_cast<int>(e->sublink)];
      if (!e->op.empty())
        out_ << " " << quoted(e->op);
      args(e->args, level);
      subquery(e->subquery.get(), level + 1);
      break;
    }
    case ExprKind::Param:
      open("param");
      out_ << " " << e->text;
      break;
    }
    out_ << ")";
  }

  std::ostream &out_;
  const SourceManager *sources_;
  bool multiline_;
};

} // namespace

void printAST(const ast::SelectStmt &stmt, std::ostream &out, const SourceManager *sources) {
  Printer(out, sources, /*multiline=*/true).select(stmt, 0);
  out << "\n";
}

void printStatement(const ast::Statement &stmt, std::ostream &out, const SourceManager *sources) {
  Printer(out, sources, /*multiline=*/false).statement(stmt);
  out << "\n";
}

} // namespace kiln::frontend
