#include "kiln/Driver/Catalog.h"

#include <libpq-fe.h>

#include <memory>

namespace kiln::driver {
namespace {

struct Connection {
  PGconn *conn = nullptr;
  ~Connection() {
    if (conn)
      PQfinish(conn);
  }
};

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

Result query(PGconn *conn, const char *sql, const std::string &schema, const std::string &table) {
  const char *params[] = {schema.c_str(), table.c_str()};
  return Result(PQexecParams(conn, sql, 2, nullptr, params, nullptr, nullptr, 0), &PQclear);
}

// A column's type as Kiln's YAML takes it, from information_schema's description.
std::optional<std::string> kilnType(const std::string &data_type, const char *precision,
                                    const char *scale) {
  if (data_type == "smallint" || data_type == "integer" || data_type == "bigint" ||
      data_type == "real" || data_type == "double precision")
    return data_type;
  if (data_type == "numeric")
    return precision && *precision ? "numeric(" + std::string(precision) + "," +
                                         std::string(scale && *scale ? scale : "0") + ")"
                                   : std::string("numeric");
  if (data_type == "text" || data_type == "character varying" || data_type == "character" ||
      data_type == "uuid" || data_type == "citext")
    return "text";
  if (data_type == "boolean" || data_type == "date")
    return data_type;
  if (data_type == "timestamp without time zone")
    return "timestamp";
  if (data_type == "timestamp with time zone")
    return "timestamptz";
  if (data_type == "jsonb" || data_type == "interval")
    return data_type;
  return std::nullopt;
}

// An array column's type from its format_type (information_schema says only ARRAY):
// "numeric(10,2)[]", "character varying(20)[]", "timestamp without time zone[]".
std::optional<std::string> kilnArrayType(std::string formatted) {
  if (formatted.size() < 3 || formatted.substr(formatted.size() - 2) != "[]")
    return std::nullopt;
  std::string element = formatted.substr(0, formatted.size() - 2);
  std::string precision, scale;
  if (size_t open = element.find('('); open != std::string::npos) {
    std::string modifiers = element.substr(open + 1, element.find(')') - open - 1);
    element = element.substr(0, open);
    size_t comma = modifiers.find(',');
    precision = modifiers.substr(0, comma);
    scale = comma == std::string::npos ? "0" : modifiers.substr(comma + 1);
  }
  bool numeric = element == "numeric";
  std::optional<std::string> type =
      kilnType(element, numeric ? precision.c_str() : nullptr, numeric ? scale.c_str() : nullptr);
  return type ? std::optional(*type + "[]") : std::nullopt;
}

} // namespace

project::CatalogLookup postgresCatalog(const std::string &url) {
  auto connection = std::make_shared<Connection>();
  return [url, connection](const std::string &schema, const std::string &table,
                           std::string &error) -> std::optional<project::CatalogTable> {
    if (!connection->conn) {
      connection->conn = PQconnectdb(url.c_str());
      if (PQstatus(connection->conn) != CONNECTION_OK) {
        error = PQerrorMessage(connection->conn);
        while (!error.empty() && error.back() == '\n')
          error.pop_back();
        PQfinish(connection->conn);
        connection->conn = nullptr;
        return std::nullopt;
      }
    }
    PGconn *conn = connection->conn;
    Result columns = query(conn,
                           "select column_name, data_type, numeric_precision, numeric_scale, "
                           "is_nullable, (select format_type(a.atttypid, a.atttypmod) from "
                           "pg_attribute a where a.attrelid = to_regclass(quote_ident($1) || "
                           "'.' || quote_ident($2)) and a.attname = c.column_name) from "
                           "information_schema.columns c where table_schema = $1 and "
                           "table_name = $2 order by ordinal_position",
                           schema, table);
    if (PQresultStatus(columns.get()) != PGRES_TUPLES_OK) {
      error = PQresultErrorMessage(columns.get());
      return std::nullopt;
    }
    if (PQntuples(columns.get()) == 0)
      return std::nullopt;
    project::CatalogTable found;
    for (int row = 0; row < PQntuples(columns.get()); ++row) {
      std::string name = PQgetvalue(columns.get(), row, 0);
      std::string data_type = PQgetvalue(columns.get(), row, 1);
      std::string formatted = PQgetvalue(columns.get(), row, 5);
      std::optional<std::string> type =
          data_type == "ARRAY"
              ? kilnArrayType(formatted)
              : kilnType(data_type,
                         PQgetisnull(columns.get(), row, 2) ? nullptr
                                                            : PQgetvalue(columns.get(), row, 2),
                         PQgetisnull(columns.get(), row, 3) ? nullptr
                                                            : PQgetvalue(columns.get(), row, 3));
      if (!type) {
        error = "column \"" + name + "\" has type " +
                (data_type == "ARRAY" ? formatted : data_type) +
                ", which Kiln does not support yet: declare the column's data_type in the YAML "
                "(e.g. as text)";
        return std::nullopt;
      }
      found.columns.push_back(
          {name, *type, std::string(PQgetvalue(columns.get(), row, 4)) == "NO"});
    }
    Result key = query(conn,
                       "select a.attname from pg_index i join pg_attribute a on a.attrelid = "
                       "i.indrelid and a.attnum = any(i.indkey) join pg_class c on c.oid = "
                       "i.indrelid join pg_namespace n on n.oid = c.relnamespace where "
                       "i.indisprimary and n.nspname = $1 and c.relname = $2 order by "
                       "array_position(i.indkey, a.attnum)",
                       schema, table);
    if (PQresultStatus(key.get()) == PGRES_TUPLES_OK)
      for (int row = 0; row < PQntuples(key.get()); ++row)
        found.primary_key.push_back(PQgetvalue(key.get(), row, 0));
    return found;
  };
}

} // namespace kiln::driver
