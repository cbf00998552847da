#include "kiln/Plan/Plan.h"

#include "kiln/IR/TextFormat.h"

#include <map>
#include <ostream>

namespace kiln::plan {

const char *nodeKindName(NodeKind kind) {
  switch (kind) {
  case NodeKind::Scan:
    return "scan";
  case NodeKind::Values:
    return "values";
  case NodeKind::Filter:
    return "filter";
  case NodeKind::Project:
    return "project";
  case NodeKind::Join:
    return "join";
  case NodeKind::Aggregate:
    return "aggregate";
  case NodeKind::Distinct:
    return "distinct";
  case NodeKind::Positive:
    return "positive";
  case NodeKind::UnionAll:
    return "union_all";
  case NodeKind::Negate:
    return "negate";
  case NodeKind::TopK:
    return "top_k";
  case NodeKind::Window:
    return "window";
  case NodeKind::Unnest:
    return "unnest";
  }
  return "?";
}

namespace {

class PlanPrinter {
public:
  explicit PlanPrinter(std::ostream &out) : out_(out) {}

  void print(const Node &node, int depth) {
    std::string indent(depth * 2, ' ');
    auto seen = numbers_.find(&node);
    if (seen != numbers_.end()) {
      out_ << indent << "(shared #" << seen->second << ")\n";
      return;
    }
    bool shared = node.inputs.size() > 0 || node.kind == NodeKind::Scan;
    int number = static_cast<int>(numbers_.size());
    if (shared)
      numbers_[&node] = number;
    out_ << indent << '#' << number << ' ' << nodeKindName(node.kind);
    printDetails(node);
    out_ << " -> (";
    for (size_t i = 0; i < node.schema.size(); ++i) {
      const ir::Column &column = node.schema[i];
      out_ << (i ? ", " : "") << column.name << ' ' << column.type.str()
           << (column.nullable ? "" : " not null");
    }
    out_ << ")\n";
    for (const NodePtr &input : node.inputs)
      print(*input, depth + 1);
  }

private:
  void printExprs(const char *label, const std::vector<ir::ExprPtr> &exprs) {
    out_ << ' ' << label << (*label ? " [" : "[");
    for (size_t i = 0; i < exprs.size(); ++i)
      out_ << (i ? ", " : "") << ir::printExpr(*exprs[i]);
    out_ << ']';
  }

  void printDetails(const Node &node) {
    switch (node.kind) {
    case NodeKind::Scan:
      out_ << (node.scans_model ? " model " : " source ") << node.relation;
      break;
    case NodeKind::Filter:
      out_ << ' ' << ir::printExpr(*node.predicate);
      break;
    case NodeKind::Project:
    case NodeKind::Values:
      printExprs("", node.exprs);
      break;
    case NodeKind::Join:
      printExprs("left_keys", node.left_keys);
      printExprs("right_keys", node.right_keys);
      if (node.predicate)
        out_ << " residual " << ir::printExpr(*node.predicate);
      break;
    case NodeKind::Unnest:
      out_ << " [";
      for (size_t i = 0; i < node.set_calls.size(); ++i)
        out_ << (i ? ", " : "") << ir::setFunctionName(node.set_calls[i].fn);
      out_ << ']' << (node.ordinality ? " ordinality" : "") << (node.outer ? " outer" : "");
      break;
    case NodeKind::Aggregate:
      out_ << " group [";
      for (size_t i = 0; i < node.group_keys.size(); ++i)
        out_ << (i ? ", " : "") << '$' << node.group_keys[i];
      out_ << "] [";
      for (size_t i = 0; i < node.aggregates.size(); ++i) {
        const ir::AggCall &agg = node.aggregates[i];
        out_ << (i ? ", " : "") << ir::aggKindName(agg.kind) << '(';
        if (agg.arg >= 0)
          out_ << '$' << agg.arg;
        out_ << ')';
      }
      out_ << ']';
      break;
    case NodeKind::Window:
    case NodeKind::TopK:
      if (!node.group_keys.empty()) {
        out_ << (node.kind == NodeKind::Window ? " partition [" : " group [");
        for (size_t i = 0; i < node.group_keys.size(); ++i)
          out_ << (i ? ", " : "") << '$' << node.group_keys[i];
        out_ << ']';
      }
      out_ << " order [";
      for (size_t i = 0; i < node.sort_keys.size(); ++i)
        out_ << (i ? ", " : "") << '$' << node.sort_keys[i].column
             << (node.sort_keys[i].descending ? " desc" : "")
             << (node.sort_keys[i].nulls_first != node.sort_keys[i].descending
                     ? (node.sort_keys[i].nulls_first ? " nulls first" : " nulls last")
                     : "");
      out_ << ']';
      if (node.limit >= 0)
        out_ << " limit " << node.limit;
      if (node.offset > 0)
        out_ << " offset " << node.offset;
      if (!node.windows.empty()) {
        out_ << " [";
        for (size_t i = 0; i < node.windows.size(); ++i) {
          const ir::WindowCall &call = node.windows[i];
          out_ << (i ? ", " : "") << ir::windowFnName(call.fn) << '(';
          if (call.arg >= 0)
            out_ << '$' << call.arg;
          out_ << ')';
        }
        out_ << ']';
      }
      break;
    case NodeKind::Distinct:
    case NodeKind::Positive:
    case NodeKind::UnionAll:
    case NodeKind::Negate:
      break;
    }
  }

  std::ostream &out_;
  std::map<const Node *, int> numbers_;
};

} // namespace

void printPlan(const Node &root, std::ostream &out) { PlanPrinter(out).print(root, 0); }

} // namespace kiln::plan
