// The catalog and type names: the relations a query may read (source tables and upstream models),
// and the Kiln type a type name stands for, in a CAST or in a source's YAML. Type names Kiln does
// not support are rejected here with the type to use instead.
#include "kiln/Binder/Binder.h"

namespace kiln::binder {

using ir::Type;

void Catalog::add(Relation relation) {
  std::string key = relation.name;
  relations_[key] = std::move(relation);
}

const Relation *Catalog::find(const std::vector<std::string> &names) const {
  std::string key;
  for (const std::string &part : names)
    key += (key.empty() ? "" : ".") + part;
  auto it = relations_.find(key);
  return it == relations_.end() ? nullptr : &it->second;
}

std::vector<std::string> Catalog::names() const {
  std::vector<std::string> result;
  for (const auto &[name, relation] : relations_)
    result.push_back(name);
  return result;
}

std::optional<ir::Type> resolveType(const ast::TypeName &type, const SourceManager &sources,
                                    DiagnosticEngine &diags) {
  if (type.is_array) { // one dimension, of any other type
    ast::TypeName element = type;
    element.is_array = false;
    std::optional<ir::Type> resolved = resolveType(element, sources, diags);
    if (!resolved)
      return std::nullopt;
    return Type::array(*resolved);
  }
  const std::string &name = type.name;
  if (name == "bool" || name == "boolean")
    return Type::boolean();
  if (name == "int4" || name == "integer" || name == "int")
    return Type::int32();
  if (name == "int8" || name == "bigint")
    return Type::int64();
  if (name == "int2" || name == "smallint")
    return Type::int16();
  if (name == "float4" || name == "real")
    return Type::real();
  if (name == "float8" || name == "double precision" || name == "float")
    return Type::float64();
  if (name == "text" || name == "varchar" || name == "bpchar" || name == "character varying") {
    if (name == "bpchar") {
      diags.error(type.range, "type char(n) is not supported yet").hint =
          "use text or varchar: blank-padded semantics are not implemented";
      return std::nullopt;
    }
    return Type::text(); // varchar(n) length limits are not enforced yet
  }
  if (name == "date")
    return Type::date();
  if (name == "timestamp")
    return Type::timestamp();
  if (name == "timestamptz") // timestamp with time zone: an instant, shown in UTC
    return Type::timestamptz();
  if (name == "jsonb")
    return Type::jsonb();
  if (name == "interval") // with any fields: they matter only to reading constants
    return Type::interval();
  if (name == "numeric" || name == "decimal") {
    int64_t precision = ir::kMaxNumericPrecision, scale = 0;
    if (type.modifiers.size() >= 1)
      precision = type.modifiers[0];
    if (type.modifiers.size() >= 2)
      scale = type.modifiers[1];
    if (type.modifiers.empty())
      scale = 6; // unconstrained NUMERIC: see README (fixed scale)
    if (precision < 1 || precision > ir::kMaxNumericPrecision) {
      diags.error(type.range, "NUMERIC precision " + std::to_string(precision) + " is out of range")
          .hint = "Kiln stores NUMERIC as a 128-bit scaled integer: precision must be 1 to 38";
      return std::nullopt;
    }
    if (scale < 0 || scale > precision) {
      diags.error(type.range, "NUMERIC scale " + std::to_string(scale) +
                                  " must be between 0 and precision " + std::to_string(precision));
      return std::nullopt;
    }
    return Type::numeric(static_cast<int32_t>(precision), static_cast<int32_t>(scale));
  }
  std::string shown = name;
  if (name == "timetz")
    shown = "time with time zone";
  Diagnostic &d = diags.error(type.range, "type " + shown + " is not supported yet");
  if (name == "json")
    d.hint = "use jsonb (json keeps its text as written; jsonb in PostgreSQL's normal form)";
  else
    d.hint = "supported types: boolean, smallint, integer, bigint, real, double precision, "
             "numeric(p,s), text, varchar, date, timestamp, timestamptz, interval, jsonb";
  return std::nullopt;
}

} // namespace kiln::binder
