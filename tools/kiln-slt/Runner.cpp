#include "Runner.h"

#include "Database.h"
#include "Engine.h"
#include "Script.h"
#include "SqlText.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/MD5.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <regex>
#include <sys/wait.h>
#include <unistd.h>

namespace kiln::slt {

// ---- Tally ----------------------------------------------------------------------------------

namespace {
void writeLine(int fd, const std::string &line) {
  std::string text = line + "\n";
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    done += n;
  }
}
} // namespace

void Tally::pass() { fd >= 0 ? writeLine(fd, "P") : void(++passed); }
void Tally::skip() { fd >= 0 ? writeLine(fd, "S") : void(++skipped); }
void Tally::fail(const std::string &reason) {
  if (fd >= 0)
    return writeLine(fd, "F\t" + reason);
  ++failed;
  ++reasons[reason];
}
void Tally::note(const std::string &text) {
  fd >= 0 ? writeLine(fd, "N\t" + text) : void(++notes[text]);
}

void Tally::absorb(std::string_view lines) {
  while (!lines.empty()) {
    size_t end = lines.find('\n');
    std::string_view line = lines.substr(0, end);
    lines = end == std::string_view::npos ? std::string_view() : lines.substr(end + 1);
    std::string rest(line.size() > 2 ? line.substr(2) : std::string_view());
    if (line == "P")
      pass();
    else if (line == "S")
      skip();
    else if (line.rfind("F\t", 0) == 0)
      fail(rest);
    else if (line.rfind("N\t", 0) == 0)
      note(rest);
  }
}

void Tally::add(const Tally &other) {
  passed += other.passed;
  failed += other.failed;
  skipped += other.skipped;
  for (const auto &[reason, count] : other.reasons)
    reasons[reason] += count;
  for (const auto &[text, count] : other.notes)
    notes[text] += count;
}

namespace {

// ---- Isolation ------------------------------------------------------------------------------

// Runs `work` in a forked child so that a crash or a hang in the compiler or in generated code
// is one failure, not the end of the run. The child inherits the whole state (tables, rows), so
// nothing needs serializing but the outcomes.
template <typename Work>
void isolated(const Options &options, Tally &tally, const std::string &where, Work &&work) {
  int fds[2];
  std::fflush(stdout);
  std::fflush(stderr);
  bool piped = options.fork && ::pipe(fds) == 0;
  pid_t pid = piped ? ::fork() : -1;
  if (pid < 0) { // not asked for, or no pipe or process to be had: run here
    if (piped)
      ::close(fds[0]), ::close(fds[1]);
    work(tally);
    return;
  }
  if (pid == 0) {
    ::close(fds[0]);
    ::alarm(options.timeout);
    Tally child;
    child.fd = fds[1];
    work(child);
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string data;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    data.append(buffer, n);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  tally.absorb(data);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return;
  std::string reason;
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
    reason = "timeout (" + std::to_string(options.timeout) + " s)";
  } else if (WIFSIGNALED(status)) {
    reason = std::string("crash: ") + strsignal(WTERMSIG(status));
  } else {
    reason = "crash: exit status " + std::to_string(WEXITSTATUS(status));
  }
  std::cout << where << ": " << reason << "\n";
  tally.fail(reason);
}

// ---- Formatting -----------------------------------------------------------------------------

// A failure reason for the tally: quoted names and numbers vary between queries that fail for
// the same reason.
std::string normalizeReason(const std::string &message) {
  static const std::regex quoted("\"[^\"]*\"");
  static const std::regex number("\\b[0-9]+\\b");
  return std::regex_replace(std::regex_replace(message, quoted, "\"…\""), number, "N");
}

bool isNumberKind(int32_t kind) {
  return kind == KILN_T_INT32 || kind == KILN_T_INT64 || kind == KILN_T_FLOAT64 ||
         kind == KILN_T_NUMERIC;
}

// A value as sqllogictest prints it: the column's type letter decides, as in SQLite's reference
// runner (sqlite3_column_int64 / _double / _text of whatever the value is).
std::string sltValue(char letter, int32_t kind, const std::optional<std::string> &text) {
  if (!text)
    return "NULL";
  const std::string &t = *text;
  if (kind == KILN_T_BOOL)
    return letter == 'R' ? (t == "t" ? "1.000" : "0.000") : (t == "t" ? "1" : "0");
  char buffer[64];
  if (letter == 'I') {
    if (kind == KILN_T_INT32 || kind == KILN_T_INT64)
      return t;
    if (kind == KILN_T_NUMERIC) { // truncate the exact digits
      std::string integer = t.substr(0, t.find('.'));
      return integer == "-0" ? "0" : integer;
    }
    if (kind == KILN_T_FLOAT64) {
      double d = std::strtod(t.c_str(), nullptr);
      std::snprintf(buffer, sizeof buffer, "%lld",
                    std::isfinite(d) ? static_cast<long long>(std::trunc(d)) : 0LL);
      return buffer;
    }
    std::snprintf(buffer, sizeof buffer, "%lld", std::strtoll(t.c_str(), nullptr, 10));
    return buffer;
  }
  if (letter == 'R') {
    std::snprintf(buffer, sizeof buffer, "%.3f", std::strtod(t.c_str(), nullptr));
    return buffer;
  }
  if (t.empty())
    return "(empty)";
  std::string shown = t;
  for (char &c : shown)
    if (c < ' ' || c > '~')
      c = '@';
  return shown;
}

// A value in a streaming expected line: PostgreSQL's text, quoted when it would not read back as
// one word.
std::string streamValue(const std::optional<std::string> &text) {
  if (!text)
    return "NULL";
  const std::string &t = *text;
  bool quote = t.empty() || t == "NULL" || t.find_first_of(" \t\n'") != std::string::npos;
  if (!quote)
    return t;
  std::string out = "'";
  for (char c : t)
    out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string trimRight(const std::string &s) {
  size_t end = s.find_last_not_of(" \t");
  return end == std::string::npos ? "" : s.substr(0, end + 1);
}

// The changes of every sink, one line each, in a stable order: by sink, deletions first, by line.
std::vector<std::string> changeLines(const kiln_program &program, const std::vector<ZSet> &delta) {
  std::vector<std::string> lines;
  for (int32_t sink = 0; sink < program.nsinks; ++sink) {
    for (bool inserts : {false, true}) {
      std::vector<std::string> group;
      for (const auto &[row, weight] : delta[sink]) {
        if ((weight > 0) != inserts)
          continue;
        std::string line = std::string(program.sinks[sink].name) + " " + (weight > 0 ? "+" : "-") +
                           std::to_string(std::llabs(weight));
        for (const auto &value : row)
          line += " " + streamValue(value);
        group.push_back(line);
      }
      std::sort(group.begin(), group.end());
      lines.insert(lines.end(), group.begin(), group.end());
    }
  }
  return lines;
}

// Every row of all tables, as inserts.
std::vector<Change> contents(const Database &db) {
  std::vector<Change> all;
  for (size_t t = 0; t < db.tables.size(); ++t)
    for (const Row &row : db.tables[t].rows)
      all.push_back({static_cast<int32_t>(t), row, 1});
  return all;
}

std::vector<ZSet> minus(const std::vector<ZSet> &a, const std::vector<ZSet> &b) {
  std::vector<ZSet> out = a;
  for (size_t i = 0; i < b.size(); ++i)
    for (const auto &[row, weight] : b[i])
      addTo(out[i], row, -weight);
  return out;
}

// ---- Query results (sqllogictest) -------------------------------------------------------------

struct OrderKey {
  int32_t column;
  bool descending;
};

struct Expectation {
  bool hashed = false;
  size_t count = 0;
  std::string hash;
  std::vector<std::string> lines;
};

Expectation parseExpected(const Record &record) {
  static const std::regex hashed("^([0-9]+) values hashing to ([0-9a-f]{32})$");
  Expectation e;
  std::smatch m;
  if (record.expected.size() == 1 && std::regex_match(record.expected[0], m, hashed)) {
    e.hashed = true;
    e.count = std::stoul(m[1]);
    e.hash = m[2];
    return e;
  }
  for (const std::string &line : record.expected)
    e.lines.push_back(trimRight(line));
  return e;
}

std::string md5(const std::vector<std::string> &values) {
  llvm::MD5 hash;
  for (const std::string &value : values) {
    hash.update(value);
    hash.update("\n");
  }
  return std::string(hash.final().digest().str());
}

// Orders SQL values of one column as SQLite does for ORDER BY: NULL first, numbers by value.
int compareValues(int32_t kind, const std::optional<std::string> &a,
                  const std::optional<std::string> &b) {
  if (!a || !b)
    return !a && !b ? 0 : !a ? -1 : 1;
  if (isNumberKind(kind)) {
    long double x = std::strtold(a->c_str(), nullptr), y = std::strtold(b->c_str(), nullptr);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a->compare(*b) < 0 ? -1 : a->compare(*b) > 0 ? 1 : 0;
}

// Compares a query's result with the record's expectation; the mismatch, or "" if equal.
std::string checkQuery(const Record &record, const kiln_relation_desc &rel, const ZSet &result,
                       const std::vector<OrderKey> *order, int threshold, bool verbose) {
  struct Shown {
    const TextRow *row;
    std::vector<std::string> values;
  };
  std::vector<Shown> rows;
  for (const auto &[row, weight] : result) {
    if (weight < 0) {
      std::string shown;
      for (const auto &v : row)
        shown += " " + v.value_or("NULL");
      return "row" + shown + " has multiplicity " + std::to_string(weight);
    }
    Shown s{&row, {}};
    for (int32_t c = 0; c < rel.ncols; ++c)
      s.values.push_back(sltValue(record.types[c], rel.cols[c].type, row[c]));
    for (int64_t i = 0; i < weight; ++i)
      rows.push_back(s);
  }
  auto byValues = [](const Shown &a, const Shown &b) { return a.values < b.values; };
  if (record.sort_mode == "nosort" && order) {
    std::stable_sort(rows.begin(), rows.end(), [&](const Shown &a, const Shown &b) {
      for (const OrderKey &key : *order) {
        int c =
            compareValues(rel.cols[key.column].type, (*a.row)[key.column], (*b.row)[key.column]);
        if (c != 0)
          return key.descending ? c > 0 : c < 0;
      }
      return byValues(a, b);
    });
  } else {
    std::sort(rows.begin(), rows.end(), byValues);
  }
  std::vector<std::string> values;
  for (const Shown &row : rows)
    values.insert(values.end(), row.values.begin(), row.values.end());
  if (record.sort_mode == "valuesort")
    std::sort(values.begin(), values.end());

  Expectation expected = parseExpected(record);
  std::string actual_hash = md5(values);
  auto describeActual = [&]() {
    if (values.size() > static_cast<size_t>(threshold) && threshold > 0)
      return std::to_string(values.size()) + " values hashing to " + actual_hash;
    std::string shown;
    for (const std::string &v : values)
      shown += (shown.empty() ? "" : " ") + v;
    return std::to_string(values.size()) + " values: " + shown;
  };
  if (expected.hashed) {
    if (expected.count == values.size() && expected.hash == actual_hash)
      return "";
    return "expected " + std::to_string(expected.count) + " values hashing to " + expected.hash +
           ", got " + describeActual();
  }
  // One value per line (the reference form), or one row per line.
  bool equal = expected.lines == values;
  if (!equal && expected.lines.size() == rows.size() && !rows.empty()) {
    equal = true;
    for (size_t i = 0; i < rows.size() && equal; ++i) {
      std::string line;
      for (const std::string &v : rows[i].values)
        line += (line.empty() ? "" : " ") + v;
      equal = line == expected.lines[i];
    }
  }
  if (equal)
    return "";
  std::string message =
      "expected " + std::to_string(expected.lines.size()) + " values, got " + describeActual();
  if (verbose) {
    message += "\n  expected:";
    for (const std::string &line : expected.lines)
      message += " " + line;
  }
  return message;
}

// The query without its ORDER BY clause (and without LIMIT/OFFSET/FETCH after it).
std::string withoutOrderBy(const std::string &sql) {
  std::vector<SqlToken> tokens = lexSql(sql);
  const int n = static_cast<int>(tokens.size());
  for (int i = n - 2; i >= 0; --i) {
    if (findTopLevel(sql, tokens, "order", i) != i ||
        findTopLevel(sql, tokens, "by", i + 1) != i + 1)
      continue;
    int end = n;
    for (const char *word : {"limit", "offset", "fetch"}) {
      int at = findTopLevel(sql, tokens, word, i);
      if (at >= 0)
        end = std::min(end, at);
    }
    return sql.substr(0, tokens[i].begin) + (end < n ? sql.substr(tokens[end].begin) : "");
  }
  return sql;
}

// Five ticks that build the tables' contents the hard way: the rows arrive in three ticks (a
// random third each); then a random third of them is deleted and inserted again, each in its own
// tick.
std::vector<std::vector<Change>> incrementalTicks(const Database &db, unsigned seed) {
  std::mt19937 random(seed);
  std::vector<std::vector<Change>> ticks(5);
  for (size_t t = 0; t < db.tables.size(); ++t) {
    const std::vector<Row> &rows = db.tables[t].rows;
    std::vector<size_t> order(rows.size());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::shuffle(order.begin(), order.end(), random);
    for (size_t k = 0; k < order.size(); ++k)
      ticks[k * 3 / order.size()].push_back({static_cast<int32_t>(t), rows[order[k]], 1});
    std::shuffle(order.begin(), order.end(), random);
    for (size_t k = 0; k < order.size() / 3; ++k) {
      ticks[3].push_back({static_cast<int32_t>(t), rows[order[k]], -1});
      ticks[4].push_back({static_cast<int32_t>(t), rows[order[k]], 1});
    }
  }
  return ticks;
}

// ---- The file runner ------------------------------------------------------------------------

struct ModeFailure {
  std::string mode;
  std::string reason;  // for the tally
  std::string message; // for the report
};

class FileRunner {
public:
  FileRunner(Script &script, const Options &options, Tally &tally, bool fork_queries)
      : script_(script), options_(options), tally_(tally), fork_queries_(fork_queries),
        file_(sources_.addFile(script.path, script.text)), executor_(sources_, file_) {
    for (const Record &record : script.records)
      if (record.kind == RecordKind::View && !record.skip)
        views_.push_back({record.name, record.sql, true});
  }

  void run() {
    for (size_t i = 0; i < script_.records.size(); ++i) {
      const Record &record = script_.records[i];
      if (record.kind == RecordKind::HashThreshold) {
        threshold_ = record.threshold;
        continue;
      }
      if (record.kind == RecordKind::View)
        continue; // compiled together at the first step
      if (record.skip) {
        tally_.skip();
        continue;
      }
      switch (record.kind) {
      case RecordKind::Statement:
        statement(record);
        break;
      case RecordKind::Query:
        query(record);
        break;
      case RecordKind::Step:
        step(i, record);
        break;
      default:
        break;
      }
    }
    if (options_.rewrite && !rewrites_.empty()) {
      std::string error;
      if (!writeScript(script_, rewrites_, error))
        std::cout << error << "\n";
    }
  }

private:
  std::string where(const Record &record) const {
    return script_.path + ":" + std::to_string(record.line);
  }

  void report(const Record &record, const std::string &what, const std::string &message) const {
    std::cout << where(record) << ": " << what << ": " << message << "\n";
    if (options_.verbose)
      std::cout << "  " << std::regex_replace(record.sql, std::regex("\n"), "\n  ") << "\n";
  }

  // Applies the statements of `sql` to `db` in order; false at the first error.
  bool applyStatements(Database &db, const std::string &sql, uint32_t offset,
                       std::vector<Change> &changes, std::string &error) {
    auto statements = executor_.parse(sql, offset, error);
    if (!statements)
      return false;
    for (const ast::Statement &stmt : *statements) {
      if (program_ && !isDml(stmt)) {
        error = "tables cannot change once the views are compiled (at the first step)";
        return false;
      }
      if (!executor_.execute(db, stmt, sql, offset, changes, error))
        return false;
    }
    return true;
  }

  static bool isDml(const ast::Statement &stmt) {
    using Kind = ast::Statement::Kind;
    return stmt.kind == Kind::Insert || stmt.kind == Kind::Delete || stmt.kind == Kind::Update ||
           stmt.kind == Kind::Select;
  }

  // ---- statement ----

  void statement(const Record &record) {
    std::string error;
    std::optional<bool> index = executeIndexStatement(db_, record.sql, error);
    if (!index)
      index = executeSessionStatement(db_, record.sql, error);
    bool ok = index.value_or(true);
    if (!index) {
      Database next = db_;
      std::vector<Change> changes;
      ok = applyStatements(next, record.sql, record.sql_offset, changes, error);
      if (ok && program_ && !changes.empty()) {
        // After the first step, data changes outside steps are ticks whose output is not checked.
        std::vector<ModeResult> results = advance(next, changes);
        for (const ModeResult &result : results) {
          if (result.error) {
            ok = false;
            error = result.message;
          }
        }
        settle(ok, std::move(next));
      } else if (ok) {
        db_ = std::move(next);
      }
    }
    if (ok == !record.expect_error)
      return tally_.pass();
    report(record, "statement failed", ok ? "expected an error, but it succeeded" : error);
    tally_.fail(ok ? "statement succeeded, expected an error"
                   : "statement: " + normalizeReason(error));
  }

  // ---- query (sqllogictest) ----

  void query(const Record &record) {
    isolated(fork_queries_ ? options_ : Options{.fork = false}, tally_, where(record),
             [&](Tally &tally) { runQuery(record, tally); });
  }

  void runQuery(const Record &record, Tally &tally) {
    std::string error;
    auto statements = executor_.parse(record.sql, record.sql_offset, error);
    if (statements &&
        (statements->size() != 1 || (*statements)[0].kind != ast::Statement::Kind::Select))
      statements.reset(), error = "a query must be one SELECT";
    if (!statements) {
      report(record, "query failed", error);
      return tally.fail("unsupported: " + normalizeReason(error));
    }
    // A view has no order: ORDER BY is done here, so it is cut from the view's SQL. Only
    // positions (ORDER BY 2, 1) are ordered by; other keys make the query compare as rowsort.
    const ast::SelectStmt &select = *(*statements)[0].select;
    std::string sql = record.sql;
    std::vector<OrderKey> order;
    bool positional = !select.order_by.empty();
    for (const ast::SortItem &item : select.order_by) {
      const ast::Expr &e = *item.expr;
      positional &= e.kind == ast::ExprKind::Literal && e.literal_kind == ast::LiteralKind::Integer;
      if (positional)
        order.push_back({std::atoi(e.text.c_str()) - 1, item.descending});
    }
    if (!select.order_by.empty())
      sql = withoutOrderBy(sql);
    if (record.sort_mode == "nosort")
      tally.note(positional ? "nosort: ordered by ORDER BY positions"
                            : "nosort: compared as rowsort");

    std::vector<ViewSource> views = db_.views;
    views.push_back({"__query", sql, true});
    Compiled compiled = compileViews(db_.tables, views, db_.time_zone);
    if (!compiled.program) {
      report(record, compiled.unsupported ? "query unsupported" : "query failed to compile",
             compiled.error);
      if (options_.verbose)
        std::cout << compiled.details;
      return tally.fail((compiled.unsupported ? "unsupported: " : "compile error: ") +
                        normalizeReason(compiled.error));
    }
    const kiln_program &program = *compiled.program->jit->program();
    const int32_t sink = program.nsinks - 1;
    const kiln_relation_desc &rel = program.sinks[sink];
    if (static_cast<int32_t>(record.types.size()) != rel.ncols) {
      report(record, "query failed",
             "expected " + std::to_string(record.types.size()) + " columns, got " +
                 std::to_string(rel.ncols));
      return tally.fail("wrong number of columns");
    }
    for (const OrderKey &key : order) {
      if (key.column < 0 || key.column >= rel.ncols) {
        report(record, "query failed", "ORDER BY position out of range");
        return tally.fail("ORDER BY position out of range");
      }
    }
    const std::vector<OrderKey> *ordering = positional ? &order : nullptr;
    auto check = [&](const Instance &instance) {
      return checkQuery(record, rel, instance.total()[sink], ordering, threshold_,
                        options_.verbose);
    };

    std::vector<ModeFailure> failures;
    auto runtimeFailure = [&](const std::string &mode, const Instance &instance) {
      failures.push_back({mode, "runtime error: " + instance.error(),
                          instance.error() + " (at " + instance.errorLocation() + ")"});
    };
    if (options_.incremental) {
      // The result must be right after the inserts and after the re-inserts.
      std::vector<std::vector<Change>> ticks = incrementalTicks(db_, record.line);
      Instance instance(program);
      std::string mismatch;
      for (size_t k = 0; k < ticks.size() && mismatch.empty(); ++k) {
        if (!instance.tick(ticks[k]))
          break;
        if (instance.unconsolidated())
          mismatch = "unconsolidated output: " + *instance.unconsolidated();
        else if (k == 2 || k == 4) {
          mismatch = check(instance);
          if (!mismatch.empty())
            mismatch += k == 2 ? " (after inserting in three ticks)"
                               : " (after deleting and re-inserting a third)";
        }
      }
      if (instance.failed())
        runtimeFailure("incremental", instance);
      else if (!mismatch.empty())
        failures.push_back(
            {"incremental",
             mismatch.rfind("unconsolidated", 0) == 0 ? "unconsolidated output" : "wrong result",
             mismatch});
    }
    if (options_.recompute) {
      Instance instance(program);
      if (!instance.tick(contents(db_)))
        runtimeFailure("recompute", instance);
      else if (std::string mismatch = check(instance); !mismatch.empty())
        failures.push_back({"recompute", "wrong result", mismatch});
    }
    if (failures.empty())
      return tally.pass();
    for (const ModeFailure &f : failures)
      report(record, "query failed (" + f.mode + ")", f.message);
    // The tally tells failures of one mode apart: they point at incremental maintenance (or at
    // recomputation) rather than at SQL semantics.
    std::string reason = failures[0].reason;
    if (options_.incremental && options_.recompute && failures.size() == 1)
      reason += " (" + failures[0].mode + " only)";
    else if (failures.size() == 2 && failures[1].reason != reason)
      reason +=
          " (" + failures[0].mode + "), " + failures[1].reason + " (" + failures[1].mode + ")";
    tally.fail(reason);
  }

  // ---- streaming ----

  struct ModeResult {
    std::string mode;
    bool error = false;
    std::string message; // the SQL error
    std::vector<std::string> lines;
  };

  // Compiles every view of the file over the tables as they are at the first step, and computes
  // the views' contents before it (not checked: steps check changes).
  bool start(const Record &record) {
    if (program_ || broken_)
      return program_ != nullptr;
    compiled_ = compileViews(db_.tables, views_, db_.time_zone);
    if (!compiled_.program) {
      broken_ = true;
      start_error_ = "the views do not compile: " + compiled_.error;
      std::cout << where(record) << ": " << start_error_ << "\n" << compiled_.details;
      return false;
    }
    const kiln_program &program = *compiled_.program->jit->program();
    Instance baseline(program);
    if (!baseline.tick(contents(db_))) {
      broken_ = true;
      start_error_ = "computing the views before the first step raised: " + baseline.error();
      return false;
    }
    program_ = &program;
    snapshot_ = baseline.total();
    restartIncremental();
    return true;
  }

  void restartIncremental() {
    if (!options_.incremental)
      return;
    incremental_ = std::make_unique<Instance>(*program_);
    incremental_->tick(contents(db_)); // the same ticks succeeded before
  }

  // Feeds one tick of changes (already applied to `next`) to every mode.
  std::vector<ModeResult> advance(const Database &next, const std::vector<Change> &changes) {
    std::vector<ModeResult> results;
    if (options_.incremental) {
      ModeResult r{"incremental", false, "", {}};
      incremental_applied_ = incremental_->tick(changes);
      if (!incremental_applied_) {
        r.error = true;
        r.message = incremental_->error();
      } else {
        r.lines = changeLines(*program_, incremental_->lastTick());
        if (incremental_->unconsolidated())
          r.lines.push_back("# unconsolidated: " + *incremental_->unconsolidated());
      }
      results.push_back(std::move(r));
    }
    if (options_.recompute) {
      ModeResult r{"recompute", false, "", {}};
      Instance fresh(*program_);
      if (!fresh.tick(contents(next))) {
        r.error = true;
        r.message = fresh.error();
      } else {
        r.lines = changeLines(*program_, minus(fresh.total(), snapshot_));
        next_snapshot_ = fresh.total();
      }
      results.push_back(std::move(r));
    }
    return results;
  }

  // After a tick: keep its effects, or go on from the state before it (as PostgreSQL rolls back
  // a failed statement). A tick that raised was rolled back by the engine, so the incremental
  // instance goes on as it is: the steps after it check that nothing of the tick remained. Only
  // a tick it applied while the step failed elsewhere needs a fresh instance.
  void settle(bool ok, Database next) {
    if (ok) {
      db_ = std::move(next);
      if (options_.recompute)
        snapshot_ = std::move(next_snapshot_);
      return;
    }
    if (incremental_applied_)
      restartIncremental();
  }

  void step(size_t index, const Record &record) {
    if (!start(record)) {
      report(record, "step failed", start_error_);
      return tally_.fail("views do not compile");
    }
    // The step's statements, one per line that starts with a DML keyword (or separated by ';').
    Database next = db_;
    std::vector<Change> changes;
    std::string dml_error;
    bool dml_ok = true;
    static const std::regex statement_start("^(insert|delete|update)\\b", std::regex::icase);
    size_t begin = 0;
    while (dml_ok && begin < record.sql.size()) {
      size_t end = begin;
      do {
        end = record.sql.find('\n', end + 1);
      } while (end != std::string::npos &&
               !std::regex_search(record.sql.substr(end + 1, 7), statement_start));
      if (end == std::string::npos)
        end = record.sql.size();
      std::string text = record.sql.substr(begin, end - begin);
      dml_ok = applyStatements(next, text, record.sql_offset + static_cast<uint32_t>(begin),
                               changes, dml_error);
      begin = end + 1;
    }

    std::vector<ModeResult> results;
    incremental_applied_ = false;
    if (dml_ok) {
      results = advance(next, changes);
    } else {
      for (const char *mode : {"incremental", "recompute"})
        if (std::string(mode) == "incremental" ? options_.incremental : options_.recompute)
          results.push_back({mode, true, dml_error, {}});
    }
    bool any_error =
        std::any_of(results.begin(), results.end(), [](const ModeResult &r) { return r.error; });
    settle(dml_ok && !any_error, std::move(next));

    std::vector<std::string> expected;
    for (const std::string &line : record.expected)
      expected.push_back(trimRight(line));
    std::sort(expected.begin(), expected.end());
    std::vector<ModeFailure> failures;
    for (const ModeResult &r : results) {
      if (record.expect_error) {
        if (!r.error)
          failures.push_back({r.mode, "step succeeded, expected an error",
                              "expected an error, but the step succeeded"});
        else if (r.message.find(record.error_substring) == std::string::npos)
          failures.push_back({r.mode, "wrong error",
                              "expected an error containing \"" + record.error_substring +
                                  "\", got: " + r.message});
        continue;
      }
      if (r.error) {
        failures.push_back({r.mode, "error: " + normalizeReason(r.message), r.message});
        continue;
      }
      std::vector<std::string> actual = r.lines;
      std::sort(actual.begin(), actual.end());
      if (actual == expected)
        continue;
      std::string message = "wrong changes";
      for (const std::string &line : expected)
        if (!std::binary_search(actual.begin(), actual.end(), line))
          message += "\n  missing:    " + line;
      for (const std::string &line : actual)
        if (!std::binary_search(expected.begin(), expected.end(), line))
          message += "\n  unexpected: " + line;
      failures.push_back({r.mode, "wrong changes", message});
    }
    if (options_.rewrite && !results.empty())
      rewrite(index, record, results[0]);
    if (failures.empty())
      return tally_.pass();
    for (const ModeFailure &f : failures)
      report(record, "step failed (" + f.mode + ")", f.message);
    tally_.fail(failures[0].reason);
  }

  // The step as it should read: the actual changes, or the actual error.
  void rewrite(size_t index, const Record &record, const ModeResult &result) {
    std::vector<std::string> lines;
    if (!result.error) {
      lines.push_back("step");
    } else if (record.expect_error &&
               result.message.find(record.error_substring) != std::string::npos) {
      lines.push_back(script_.lines[record.header]);
    } else {
      lines.push_back("step error " + result.message);
    }
    lines.insert(lines.end(), script_.lines.begin() + record.header + 1,
                 script_.lines.begin() + record.sql_end);
    if (!result.error) {
      lines.push_back("----");
      lines.insert(lines.end(), result.lines.begin(), result.lines.end());
    }
    std::vector<std::string> old(script_.lines.begin() + record.header,
                                 script_.lines.begin() + record.end);
    if (lines != old)
      rewrites_.emplace_back(index, std::move(lines));
  }

  Script &script_;
  const Options &options_;
  Tally &tally_;
  bool fork_queries_;
  SourceManager sources_;
  FileId file_;
  Executor executor_;
  Database db_;
  int threshold_ = 8;

  std::vector<ViewSource> views_;
  Compiled compiled_;
  const kiln_program *program_ = nullptr;
  bool broken_ = false;
  std::string start_error_;
  std::unique_ptr<Instance> incremental_;
  bool incremental_applied_ = false;           // whether it applied the last step's tick
  std::vector<ZSet> snapshot_, next_snapshot_; // recompute mode: the views before/after a tick
  std::vector<std::pair<size_t, std::vector<std::string>>> rewrites_;
};

} // namespace

Tally runFile(const std::string &path, const Options &options) {
  Tally tally;
  std::string error;
  std::optional<Script> script = readScript(path, error);
  if (!script) {
    std::cout << error << "\n";
    tally.fail("malformed test file");
    return tally;
  }
  // A streaming file is one dataflow: it runs in one child; a sqllogictest file forks per query.
  if (script->streaming) {
    isolated(options, tally, path, [&](Tally &t) { FileRunner(*script, options, t, false).run(); });
  } else {
    FileRunner(*script, options, tally, options.fork).run();
  }
  return tally;
}

} // namespace kiln::slt
