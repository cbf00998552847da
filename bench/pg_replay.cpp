// pg_replay: PostgreSQL as the "recompute" competitor (and oracle) of a Kiln project.
//
//   pg_replay --conninfo STR --compile FILE --input FILE [--every K] [--output FILE]
//             [--snapshots FILE]
//
// FILE given to --compile is the output of `kiln compile <project>`: its "-- source:" lines become
// tables (with their primary keys), every model becomes a view, and the "(sink)" models are the
// views read back. The change records of --input (the JSON lines a Kiln binary reads) are applied
// tick by tick, one transaction per tick: inserts (consecutive ones batched into one multi-row
// INSERT), upserts as INSERT ... ON CONFLICT (key) DO UPDATE, deletes by key. After every K-th tick
// (and the last) every sink view is recomputed with SELECT * and its rows written to --output;
// with --snapshots, as JSON lines {"tick":N,"sink":"name","row":{...}} (row_to_json) for checking
// the contract against the Kiln binary's accumulated output.
//
// It prints one line of key=value measurements: wall and CPU time of loading every tick, and of
// the recomputations (mean per sampled tick). CPU time is the server backend's (from
// /proc/PID/stat; the server must run on this machine) plus this client's. The session disables
// parallel query so that PostgreSQL uses one core, like the Kiln binary.
#include <libpq-fe.h>
#include <simdjson.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Table {
  std::string name; // schema.table
  std::string definition;
  std::vector<std::string> columns, key;
};

struct Model {
  std::string name, kind, sql;
};

[[noreturn]] void die(const std::string &message) {
  std::fprintf(stderr, "pg_replay: error: %s\n", message.c_str());
  std::exit(1);
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string_view::npos)
    return "";
  size_t e = s.find_last_not_of(" \t\n");
  return std::string(s.substr(b, e - b + 1));
}

// Splits "a, b(1,2), c" at top-level commas.
std::vector<std::string> splitTopLevel(std::string_view s) {
  std::vector<std::string> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(')
      ++depth;
    else if (s[i] == ')')
      --depth;
    else if (s[i] == ',' && depth == 0) {
      parts.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  parts.push_back(trim(s.substr(start)));
  return parts;
}

void parseCompileOutput(const std::string &text, std::vector<Table> &tables,
                        std::vector<Model> &models) {
  std::istringstream in(text);
  std::string line;
  Model *current = nullptr;
  while (std::getline(in, line)) {
    if (line.starts_with("-- source: ")) {
      std::string rest = line.substr(11);
      size_t open = rest.find(" (");
      if (open == std::string::npos || rest.back() != ')')
        die("cannot read: " + line);
      Table t;
      t.name = rest.substr(0, open);
      t.definition = rest.substr(open + 1);
      for (const std::string &part : splitTopLevel(rest.substr(open + 2, rest.size() - open - 3))) {
        if (part.starts_with("primary key")) {
          size_t a = part.find('('), b = part.rfind(')');
          for (const std::string &k : splitTopLevel(part.substr(a + 1, b - a - 1)))
            t.key.push_back(k);
        } else {
          t.columns.push_back(part.substr(0, part.find(' ')));
        }
      }
      tables.push_back(std::move(t));
      current = nullptr;
    } else if (line.starts_with("-- model: ")) {
      std::string rest = line.substr(10);
      size_t open = rest.find(" (");
      if (open == std::string::npos)
        die("cannot read: " + line);
      models.push_back({rest.substr(0, open), rest.substr(open + 2, rest.size() - open - 3), ""});
      current = &models.back();
    } else if (current != nullptr) {
      current->sql += line + "\n";
    }
  }
}

PGresult *exec(PGconn *conn, const std::string &sql, ExecStatusType expected = PGRES_COMMAND_OK) {
  PGresult *res = PQexec(conn, sql.c_str());
  ExecStatusType status = PQresultStatus(res);
  if (status != expected && !(expected == PGRES_COMMAND_OK && status == PGRES_TUPLES_OK)) {
    std::string message = PQerrorMessage(conn);
    std::string shown = sql.substr(0, 300);
    die(message + "in: " + shown);
  }
  return res;
}

double cpuSecondsOfProcess(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = content.rfind(')');
  if (close == std::string::npos)
    return 0;
  std::istringstream fields(content.substr(close + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14)
      utime = std::atoll(field.c_str());
    if (i == 15)
      stime = std::atoll(field.c_str());
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double cpuSecondsOfSelf() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
         usage.ru_stime.tv_usec / 1e6;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string quoteIdent(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"')
      out += '"';
    out += c;
  }
  return out + '"';
}

void appendLiteral(std::string &out, simdjson::dom::element v) {
  using simdjson::dom::element_type;
  switch (v.type()) {
  case element_type::NULL_VALUE:
    out += "NULL";
    return;
  case element_type::BOOL:
    out += v.get_bool().value() ? "TRUE" : "FALSE";
    return;
  case element_type::STRING: {
    std::string_view s = v.get_string().value();
    out += '\'';
    for (char c : s) {
      if (c == '\'')
        out += '\'';
      out += c;
    }
    out += '\'';
    return;
  }
  case element_type::INT64:
    out += std::to_string(v.get_int64().value());
    return;
  case element_type::UINT64:
    out += std::to_string(v.get_uint64().value());
    return;
  case element_type::DOUBLE: {
    // The double's shortest text: write NUMERIC values as JSON strings to keep them exact.
    std::string text = simdjson::minify(v);
    out += text;
    return;
  }
  default:
    die("arrays and objects are not column values");
  }
}

} // namespace

int main(int argc, char **argv) {
  std::string conninfo, compile_path, input_path, output_path = "/dev/null", snapshots_path;
  long every = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc)
      die("missing value for " + arg);
    std::string value = argv[++i];
    if (arg == "--conninfo")
      conninfo = value;
    else if (arg == "--compile")
      compile_path = value;
    else if (arg == "--input")
      input_path = value;
    else if (arg == "--every")
      every = std::atol(value.c_str());
    else if (arg == "--output")
      output_path = value;
    else if (arg == "--snapshots")
      snapshots_path = value;
    else
      die("unknown option " + arg);
  }
  if (conninfo.empty() || compile_path.empty() || input_path.empty() || every <= 0)
    die("usage: pg_replay --conninfo STR --compile FILE --input FILE [--every K] [--output FILE] "
        "[--snapshots FILE]");

  std::ifstream compile_file(compile_path);
  std::string compile_text((std::istreambuf_iterator<char>(compile_file)),
                           std::istreambuf_iterator<char>());
  std::vector<Table> tables;
  std::vector<Model> models;
  parseCompileOutput(compile_text, tables, models);
  if (tables.empty() || models.empty())
    die("no sources or models in " + compile_path);

  PGconn *conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK)
    die(PQerrorMessage(conn));
  PQclear(exec(conn, "SET client_min_messages = warning; SET max_parallel_workers_per_gather = 0; "
                     "SET synchronous_commit = off"));
  for (auto it = models.rbegin(); it != models.rend(); ++it)
    PQclear(exec(conn, "DROP VIEW IF EXISTS " + quoteIdent(it->name) + " CASCADE"));
  std::vector<std::string> schemas;
  for (const Table &t : tables) {
    std::string schema = t.name.substr(0, t.name.find('.'));
    if (t.name.find('.') != std::string::npos &&
        std::find(schemas.begin(), schemas.end(), schema) == schemas.end()) {
      schemas.push_back(schema);
      PQclear(exec(conn, "DROP SCHEMA IF EXISTS " + quoteIdent(schema) +
                             " CASCADE; CREATE SCHEMA " + quoteIdent(schema)));
    }
    PQclear(exec(conn, "CREATE TABLE " + t.name + " " + t.definition));
  }
  std::vector<std::string> sinks;
  for (const Model &m : models) {
    PQclear(exec(conn, "CREATE VIEW " + quoteIdent(m.name) + " AS\n" + m.sql));
    if (m.kind == "sink")
      sinks.push_back(m.name);
  }
  int backend = PQbackendPID(conn);

  simdjson::padded_string input;
  if (simdjson::padded_string::load(input_path).get(input))
    die("cannot read " + input_path);
  simdjson::dom::parser parser;

  std::FILE *output = std::fopen(output_path.c_str(), "w");
  if (output == nullptr)
    die("cannot open " + output_path);
  std::FILE *snapshots = nullptr;
  if (!snapshots_path.empty() && (snapshots = std::fopen(snapshots_path.c_str(), "w")) == nullptr)
    die("cannot open " + snapshots_path);

  double load_wall = 0, load_cpu = 0, query_wall = 0, query_cpu = 0;
  long ticks = 0, samples = 0, records = 0;
  std::string sql;
  // The statement being built: consecutive inserts into one table with the same columns share it.
  std::string batch_key;
  auto flushStatement = [&] {
    if (!batch_key.empty())
      sql += ";\n";
    batch_key.clear();
  };

  auto recompute = [&](long tick) {
    double wall0 = now(), cpu0 = cpuSecondsOfProcess(backend) + cpuSecondsOfSelf();
    for (const std::string &sink : sinks) {
      std::string query = snapshots != nullptr
                              ? "SELECT row_to_json(v)::text FROM " + quoteIdent(sink) + " v"
                              : "SELECT * FROM " + quoteIdent(sink);
      PGresult *res = exec(conn, query, PGRES_TUPLES_OK);
      int rows = PQntuples(res), cols = PQnfields(res);
      for (int r = 0; r < rows; ++r) {
        if (snapshots != nullptr) {
          std::fprintf(snapshots, "{\"tick\":%ld,\"sink\":\"%s\",\"row\":%s}\n", tick, sink.c_str(),
                       PQgetvalue(res, r, 0));
          continue;
        }
        std::fputs(sink.c_str(), output);
        for (int c = 0; c < cols; ++c) {
          std::fputc('\t', output);
          std::fputs(PQgetisnull(res, r, c) ? "\\N" : PQgetvalue(res, r, c), output);
        }
        std::fputc('\n', output);
      }
      PQclear(res);
    }
    std::fflush(output);
    query_wall += now() - wall0;
    query_cpu += cpuSecondsOfProcess(backend) + cpuSecondsOfSelf() - cpu0;
    ++samples;
  };

  auto commitTick = [&](bool last) {
    flushStatement();
    ++ticks;
    double wall0 = now(), cpu0 = cpuSecondsOfProcess(backend) + cpuSecondsOfSelf();
    PQclear(exec(conn, "BEGIN;\n" + sql + "COMMIT"));
    load_wall += now() - wall0;
    load_cpu += cpuSecondsOfProcess(backend) + cpuSecondsOfSelf() - cpu0;
    sql.clear();
    if (ticks % every == 0 || last)
      recompute(ticks);
  };

  const char *p = input.data(), *end = input.data() + input.size();
  bool pending = false;
  while (p < end) {
    const char *nl = static_cast<const char *>(std::memchr(p, '\n', end - p));
    std::string_view line(p, (nl != nullptr ? nl : end) - p);
    p += line.size() + 1;
    if (trim(line).empty())
      continue;
    simdjson::dom::element record;
    if (parser.parse(line.data(), line.size()).get(record))
      die("invalid JSON: " + std::string(line));
    std::string_view op = record["op"].get_string().value();
    if (op == "commit") {
      commitTick(false);
      pending = false;
      continue;
    }
    ++records;
    pending = true;
    std::string_view table_name = record["table"].get_string().value();
    const Table *table = nullptr;
    for (const Table &t : tables)
      if (t.name == table_name || t.name.substr(t.name.find('.') + 1) == table_name)
        table = &t;
    if (table == nullptr)
      die("unknown table " + std::string(table_name));
    simdjson::dom::object row = record["row"].get_object().value();
    std::string columns, values;
    for (auto [key, value] : row) {
      if (!columns.empty())
        columns += ", ", values += ", ";
      columns += quoteIdent(key);
      appendLiteral(values, value);
    }
    if (op == "insert") {
      std::string key = table->name + "(" + columns + ")";
      if (key == batch_key) {
        sql += ",\n(" + values + ")";
        continue;
      }
      flushStatement();
      sql += "INSERT INTO " + table->name + " (" + columns + ") VALUES\n(" + values + ")";
      batch_key = key;
    } else if (op == "upsert") {
      flushStatement();
      sql +=
          "INSERT INTO " + table->name + " (" + columns + ") VALUES (" + values + ") ON CONFLICT (";
      std::string set;
      for (size_t k = 0; k < table->key.size(); ++k)
        sql += (k ? ", " : "") + quoteIdent(table->key[k]);
      for (auto [key, value] : row) {
        if (std::find(table->key.begin(), table->key.end(), std::string(key)) != table->key.end())
          continue;
        set += (set.empty() ? "" : ", ") + quoteIdent(key) + " = EXCLUDED." + quoteIdent(key);
      }
      sql += set.empty() ? ") DO NOTHING;\n" : ") DO UPDATE SET " + set + ";\n";
    } else if (op == "delete") {
      flushStatement();
      sql += "DELETE FROM " + table->name + " WHERE ";
      for (size_t k = 0; k < table->key.size(); ++k) {
        simdjson::dom::element v;
        if (row[table->key[k]].get(v))
          die("delete without its key: " + std::string(line));
        sql += (k ? " AND " : "") + quoteIdent(table->key[k]) + " = ";
        appendLiteral(sql, v);
      }
      sql += ";\n";
    } else {
      die("unknown op " + std::string(op));
    }
  }
  if (pending)
    commitTick(true);
  else if (ticks % every != 0)
    recompute(ticks);

  std::printf("records=%ld ticks=%ld samples=%ld load_wall=%.6f load_cpu=%.6f query_wall_mean=%.6f "
              "query_cpu_mean=%.6f est_wall=%.6f est_cpu=%.6f\n",
              records, ticks, samples, load_wall, load_cpu, query_wall / samples,
              query_cpu / samples, load_wall + ticks * query_wall / samples,
              load_cpu + ticks * query_cpu / samples);
  std::fclose(output);
  if (snapshots != nullptr)
    std::fclose(snapshots);
  PQfinish(conn);
  return 0;
}
