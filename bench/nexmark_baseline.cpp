// nexmark_baseline: Nexmark queries q0, q1, q2, q3, q4 and q9 of bench/nexmark maintained by
// hand-written C++, the practical limit the Kiln binary is compared with (bench/README.md).
//
//   nexmark_baseline --query q4 --input EVENTS --sink q4=file:OUT
//
// It reads what the Kiln binary reads (nexmark_gen's change records: inserts and commits) and
// writes what it writes: per tick, the query's consolidated changes as JSON lines
//
//   {"tick":3,"sink":"q4","weight":-1,"row":{...}}
//
// retractions first, then by row text, with PostgreSQL's values (NUMERIC at the column's scale,
// timestamps without trailing zeros). Each query keeps only what it needs, for this workload's
// insert-only streams: q0-q2 keep nothing; q3 indexes qualifying people and waiting auctions by
// seller; q4 keeps each auction's window and winning price and per category a sum and a count;
// q9 each auction's best bid. Bids that arrive before their auction wait in a list per auction
// id (the generator sends up to 10 auction ids ahead).
#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "kiln/runtime/civil.h"

namespace {

namespace od = simdjson::ondemand;
using i128 = __int128;

// ---- Values as the Kiln binary writes them ----

void appendInt(std::string &out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

// A scaled integer with `scale` digits after the point (every digit kept, as NUMERIC prints).
void appendNumeric(std::string &out, i128 v, int scale) {
  bool negative = v < 0;
  unsigned __int128 u = negative ? -static_cast<unsigned __int128>(v) : v;
  char digits[48];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  } while (u != 0 || n <= scale);
  if (negative)
    out += '-';
  for (int i = n - 1; i >= 0; --i) {
    out += digits[i];
    if (i == scale && scale > 0)
      out += '.';
  }
}

// Microseconds since 2000-01-01 as "2024-01-01 00:00:00.00035" (no trailing zeros).
void appendTimestamp(std::string &out, int64_t micros) {
  int64_t day = micros / KILN_MICROS_PER_DAY, rest = micros % KILN_MICROS_PER_DAY;
  if (rest < 0)
    rest += KILN_MICROS_PER_DAY, --day;
  kiln_civil c = kiln_civil_from_days(day);
  char buf[48];
  int n =
      std::snprintf(buf, sizeof buf, "\"%04" PRId64 "-%02d-%02d %02d:%02d:%02d", c.year, c.month,
                    c.day, static_cast<int>(rest / 3600000000),
                    static_cast<int>(rest / 60000000 % 60), static_cast<int>(rest / 1000000 % 60));
  out.append(buf, static_cast<size_t>(n));
  if (int64_t fraction = rest % 1000000) {
    char f[8];
    std::snprintf(f, sizeof f, ".%06d", static_cast<int>(fraction));
    size_t len = 7;
    while (f[len - 1] == '0')
      --len;
    out.append(f, len);
  }
  out += '"';
}

void appendString(std::string &out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
}

// "2024-01-01 00:00:00.000350" -> microseconds since 2000-01-01.
int64_t parseTimestamp(std::string_view s) {
  auto num = [&](size_t at, size_t len) {
    int64_t v = 0;
    for (size_t i = at; i < at + len; ++i)
      v = v * 10 + (s[i] - '0');
    return v;
  };
  int64_t days = kiln_days_from_civil(num(0, 4), static_cast<int32_t>(num(5, 2)),
                                      static_cast<int32_t>(num(8, 2)));
  int64_t micros = ((num(11, 2) * 60 + num(14, 2)) * 60 + num(17, 2)) * 1000000;
  if (s.size() > 20) {
    int64_t fraction = num(20, s.size() - 20);
    for (size_t i = s.size() - 20; i < 6; ++i)
      fraction *= 10;
    micros += fraction;
  }
  return days * KILN_MICROS_PER_DAY + micros;
}

// ---- Events ----

struct Person {
  int64_t id = 0;
  std::string name, city, state;
};
struct Auction {
  int64_t id = 0, initialbid = 0, reserve = 0, seller = 0, category = 0;
  int64_t date_time = 0, expires = 0;
  std::string itemname, description, extra;
};
struct Bid {
  int64_t auction = 0, bidder = 0, price = 0, date_time = 0;
  std::string_view extra; // valid while the record is
  std::string extra_copy;
};

// ---- One tick's output ----

class TickOutput {
public:
  TickOutput(std::FILE *file, const char *sink) : file_(file), sink_(sink) {}
  void add(std::string row, int64_t weight) { changes_.emplace_back(std::move(row), weight); }
  // Consolidated, retractions first, then by row: the Kiln binary's order.
  void flush(int64_t tick) {
    std::sort(changes_.begin(), changes_.end());
    std::vector<std::pair<std::string, int64_t>> merged;
    for (auto &change : changes_) {
      if (!merged.empty() && merged.back().first == change.first)
        merged.back().second += change.second;
      else
        merged.push_back(std::move(change));
    }
    std::stable_sort(merged.begin(), merged.end(),
                     [](const auto &a, const auto &b) { return (a.second < 0) > (b.second < 0); });
    out_.clear();
    for (const auto &[row, weight] : merged) {
      if (weight == 0)
        continue;
      out_ += "{\"tick\":";
      appendInt(out_, tick);
      out_ += ",\"sink\":\"";
      out_ += sink_;
      out_ += "\",\"weight\":";
      appendInt(out_, weight);
      out_ += ",\"row\":";
      out_ += row;
      out_ += "}\n";
    }
    if (std::fwrite(out_.data(), 1, out_.size(), file_) != out_.size()) {
      std::fprintf(stderr, "nexmark_baseline: cannot write: %s\n", std::strerror(errno));
      std::exit(1);
    }
    changes_.clear();
  }

private:
  std::FILE *file_;
  const char *sink_;
  std::vector<std::pair<std::string, int64_t>> changes_;
  std::string out_;
};

// ---- The queries ----

class Query {
public:
  explicit Query(TickOutput &out) : out_(out) {}
  virtual ~Query() = default;
  virtual void person(const Person &) {}
  virtual void auction(const Auction &) {}
  virtual void bid(const Bid &) {}
  virtual void endTick() {}

protected:
  TickOutput &out_;
};

class Q0 : public Query { // passthrough
public:
  using Query::Query;
  void bid(const Bid &b) override {
    std::string row = "{\"auction\":";
    appendInt(row, b.auction);
    row += ",\"bidder\":";
    appendInt(row, b.bidder);
    row += ",\"price\":";
    appendInt(row, b.price);
    row += ",\"date_time\":";
    appendTimestamp(row, b.date_time);
    row += ",\"extra\":";
    appendString(row, b.extra);
    row += '}';
    out_.add(std::move(row), 1);
  }
};

class Q1 : public Query { // 0.908 * price: NUMERIC with 3 decimals
public:
  using Query::Query;
  void bid(const Bid &b) override {
    std::string row = "{\"auction\":";
    appendInt(row, b.auction);
    row += ",\"bidder\":";
    appendInt(row, b.bidder);
    row += ",\"price\":";
    appendNumeric(row, static_cast<i128>(b.price) * 908, 3);
    row += ",\"date_time\":";
    appendTimestamp(row, b.date_time);
    row += ",\"extra\":";
    appendString(row, b.extra);
    row += '}';
    out_.add(std::move(row), 1);
  }
};

class Q2 : public Query { // auction % 123 == 0
public:
  using Query::Query;
  void bid(const Bid &b) override {
    if (b.auction % 123 != 0)
      return;
    std::string row = "{\"auction\":";
    appendInt(row, b.auction);
    row += ",\"price\":";
    appendInt(row, b.price);
    row += '}';
    out_.add(std::move(row), 1);
  }
};

class Q3 : public Query { // category-10 auctions of sellers in OR, ID, CA
public:
  using Query::Query;
  void person(const Person &p) override {
    if (p.state != "OR" && p.state != "ID" && p.state != "CA")
      return;
    people_[p.id] = p;
    if (auto waiting = waiting_.find(p.id); waiting != waiting_.end()) {
      for (int64_t auction : waiting->second)
        emit(p, auction);
      waiting_.erase(waiting);
    }
  }
  void auction(const Auction &a) override {
    if (a.category != 10)
      return;
    if (auto p = people_.find(a.seller); p != people_.end())
      emit(p->second, a.id);
    else // a seller not (yet) known to qualify
      waiting_[a.seller].push_back(a.id);
  }

private:
  void emit(const Person &p, int64_t auction) {
    std::string row = "{\"name\":";
    appendString(row, p.name);
    row += ",\"city\":";
    appendString(row, p.city);
    row += ",\"state\":";
    appendString(row, p.state);
    row += ",\"id\":";
    appendInt(row, auction);
    row += '}';
    out_.add(std::move(row), 1);
  }
  absl::flat_hash_map<int64_t, Person> people_;
  absl::flat_hash_map<int64_t, std::vector<int64_t>> waiting_;
};

// Bids of auctions not seen yet, per auction id.
struct EarlyBids {
  absl::flat_hash_map<int64_t, std::vector<Bid>> by_auction;
  void keep(const Bid &b) {
    Bid copy = b;
    copy.extra_copy = std::string(b.extra);
    copy.extra = {};
    by_auction[b.auction].push_back(std::move(copy));
  }
  template <typename F> void release(int64_t auction, F &&f) {
    if (auto it = by_auction.find(auction); it != by_auction.end()) {
      for (Bid &b : it->second) {
        b.extra = b.extra_copy;
        f(b);
      }
      by_auction.erase(it);
    }
  }
};

class Q4 : public Query { // average winning price per category
public:
  using Query::Query;
  void auction(const Auction &a) override {
    Open &open = auctions_[a.id];
    open.category = a.category, open.from = a.date_time, open.until = a.expires;
    early_.release(a.id, [&](const Bid &b) { bid(b); });
  }
  void bid(const Bid &b) override {
    auto it = auctions_.find(b.auction);
    if (it == auctions_.end()) {
      early_.keep(b);
      return;
    }
    Open &open = it->second;
    if (b.date_time < open.from || b.date_time > open.until || (open.won && b.price <= open.final))
      return;
    Category &c = categories_[open.category];
    touch(open.category, c);
    if (open.won) {
      c.sum += b.price - open.final;
    } else {
      c.sum += b.price;
      ++c.count;
    }
    open.won = true;
    open.final = b.price;
  }
  void endTick() override {
    for (int64_t category : dirty_) {
      Category &c = categories_[category];
      if (c.before_count > 0)
        out_.add(row(category, c.before_sum, c.before_count), -1);
      if (c.count > 0)
        out_.add(row(category, c.sum, c.count), 1);
      c.dirty = false;
    }
    dirty_.clear();
  }

private:
  struct Open {
    int64_t category = 0, from = 0, until = 0, final = 0;
    bool won = false;
  };
  struct Category {
    i128 sum = 0, before_sum = 0;
    int64_t count = 0, before_count = 0;
    bool dirty = false;
  };
  void touch(int64_t category, Category &c) {
    if (c.dirty)
      return;
    c.dirty = true;
    c.before_sum = c.sum, c.before_count = c.count;
    dirty_.push_back(category);
  }
  // avg at NUMERIC scale 16, rounded half away from zero as PostgreSQL rounds.
  static std::string row(int64_t category, i128 sum, int64_t count) {
    i128 scaled = sum * static_cast<i128>(10000000000000000LL);
    i128 q = scaled / count, r = scaled % count;
    if (2 * (r < 0 ? -r : r) >= count)
      q += scaled < 0 ? -1 : 1;
    std::string out = "{\"category\":";
    appendInt(out, category);
    out += ",\"avg_final\":";
    appendNumeric(out, q, 16);
    out += '}';
    return out;
  }
  absl::flat_hash_map<int64_t, Open> auctions_;
  absl::flat_hash_map<int64_t, Category> categories_;
  std::vector<int64_t> dirty_;
  EarlyBids early_;
};

class Q9 : public Query { // each auction with its best bid while open
public:
  using Query::Query;
  void auction(const Auction &a) override {
    State &s = auctions_[a.id];
    s.auction = a;
    early_.release(a.id, [&](const Bid &b) { bid(b); });
  }
  void bid(const Bid &b) override {
    auto it = auctions_.find(b.auction);
    if (it == auctions_.end()) {
      early_.keep(b);
      return;
    }
    State &s = it->second;
    if (b.date_time < s.auction.date_time || b.date_time > s.auction.expires)
      return;
    if (s.has_best &&
        (b.price < s.best.price || (b.price == s.best.price && b.date_time >= s.best.date_time)))
      return;
    if (!s.dirty) {
      s.dirty = true;
      s.before = s.has_best ? row(s) : std::string();
      dirty_.push_back(b.auction);
    }
    s.best = b;
    s.best.extra_copy = std::string(b.extra);
    s.has_best = true;
  }
  void endTick() override {
    for (int64_t id : dirty_) {
      State &s = auctions_[id];
      if (!s.before.empty())
        out_.add(std::move(s.before), -1);
      out_.add(row(s), 1);
      s.dirty = false;
      s.before.clear();
    }
    dirty_.clear();
  }

private:
  struct State {
    Auction auction;
    Bid best;
    bool has_best = false, dirty = false;
    std::string before;
  };
  static std::string row(const State &s) {
    const Auction &a = s.auction;
    std::string out = "{\"id\":";
    appendInt(out, a.id);
    out += ",\"itemname\":";
    appendString(out, a.itemname);
    out += ",\"description\":";
    appendString(out, a.description);
    out += ",\"initialbid\":";
    appendInt(out, a.initialbid);
    out += ",\"reserve\":";
    appendInt(out, a.reserve);
    out += ",\"date_time\":";
    appendTimestamp(out, a.date_time);
    out += ",\"expires\":";
    appendTimestamp(out, a.expires);
    out += ",\"seller\":";
    appendInt(out, a.seller);
    out += ",\"category\":";
    appendInt(out, a.category);
    out += ",\"extra\":";
    appendString(out, a.extra);
    out += ",\"auction\":";
    appendInt(out, s.best.auction);
    out += ",\"bidder\":";
    appendInt(out, s.best.bidder);
    out += ",\"price\":";
    appendInt(out, s.best.price);
    out += ",\"bid_datetime\":";
    appendTimestamp(out, s.best.date_time);
    out += ",\"bid_extra\":";
    appendString(out, s.best.extra_copy);
    out += '}';
    return out;
  }
  absl::flat_hash_map<int64_t, State> auctions_;
  std::vector<int64_t> dirty_;
  EarlyBids early_;
};

// ---- Reading records ----

[[noreturn]] void fail(const std::string &message) {
  std::fprintf(stderr, "nexmark_baseline: %s\n", message.c_str());
  std::exit(1);
}

class Reader {
public:
  explicit Reader(Query &query, TickOutput &out) : query_(query), out_(out) {}

  void file(std::FILE *in) {
    std::string buffer(1 << 20, '\0'), line;
    size_t have = 0;
    for (;;) {
      size_t n = std::fread(buffer.data() + have, 1, buffer.size() - have, in);
      have += n;
      size_t start = 0;
      for (;;) {
        const char *nl =
            static_cast<const char *>(std::memchr(buffer.data() + start, '\n', have - start));
        if (!nl)
          break;
        record(std::string_view(buffer.data() + start,
                                static_cast<size_t>(nl - buffer.data()) - start));
        start = static_cast<size_t>(nl - buffer.data()) + 1;
      }
      std::memmove(buffer.data(), buffer.data() + start, have - start);
      have -= start;
      if (n == 0)
        break;
      if (have == buffer.size())
        buffer.resize(buffer.size() * 2);
    }
    if (have > 0)
      record(std::string_view(buffer.data(), have));
    if (pending_)
      commit();
  }

private:
  void commit() {
    query_.endTick();
    out_.flush(++tick_);
    pending_ = false;
  }

  void record(std::string_view line) {
    if (line.empty())
      return;
    padded_.assign(line.data(), line.size());
    padded_.append(simdjson::SIMDJSON_PADDING, '\0');
    od::document doc;
    if (parser_.iterate(padded_.data(), line.size(), padded_.size()).get(doc))
      fail("invalid JSON: " + std::string(line));
    std::string_view table, op;
    if (doc["op"].get_string().get(op))
      fail("a record without \"op\"");
    if (op == "commit") {
      commit();
      return;
    }
    if (op != "insert" || doc["table"].get_string().get(table))
      fail("only inserts of Nexmark's tables: " + std::string(line));
    od::object row;
    if (doc["row"].get_object().get(row))
      fail("a record without \"row\"");
    pending_ = true;
    if (table == "nexmark.bid") {
      Bid b;
      std::string_view time;
      if (row["auction"].get_int64().get(b.auction) || row["bidder"].get_int64().get(b.bidder) ||
          row["price"].get_int64().get(b.price) || row["date_time"].get_string().get(time) ||
          row["extra"].get_string().get(b.extra))
        fail("a bid without its fields: " + std::string(line));
      b.date_time = parseTimestamp(time);
      query_.bid(b);
    } else if (table == "nexmark.auction") {
      Auction a;
      std::string_view item, description, extra, from, until;
      if (row["id"].get_int64().get(a.id) || row["itemname"].get_string().get(item) ||
          row["description"].get_string().get(description) ||
          row["initialbid"].get_int64().get(a.initialbid) ||
          row["reserve"].get_int64().get(a.reserve) || row["date_time"].get_string().get(from) ||
          row["expires"].get_string().get(until) || row["seller"].get_int64().get(a.seller) ||
          row["category"].get_int64().get(a.category) || row["extra"].get_string().get(extra))
        fail("an auction without its fields: " + std::string(line));
      a.itemname = item, a.description = description, a.extra = extra;
      a.date_time = parseTimestamp(from), a.expires = parseTimestamp(until);
      query_.auction(a);
    } else if (table == "nexmark.person") {
      Person p;
      std::string_view name, city, state;
      if (row["id"].get_int64().get(p.id) || row["name"].get_string().get(name) ||
          row["city"].get_string().get(city) || row["state"].get_string().get(state))
        fail("a person without its fields: " + std::string(line));
      p.name = name, p.city = city, p.state = state;
      query_.person(p);
    } else {
      fail("unknown table: " + std::string(table));
    }
  }

  Query &query_;
  TickOutput &out_;
  od::parser parser_;
  std::string padded_;
  int64_t tick_ = 0;
  bool pending_ = false;
};

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: nexmark_baseline --query q0|q1|q2|q3|q4|q9 [--input FILE]... "
                       "[--sink QUERY=file:PATH]\n");
  std::exit(2);
}

} // namespace

int main(int argc, char **argv) {
  std::string query_name, output = "-";
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc)
      usage();
    std::string value = argv[++i];
    if (arg == "--query")
      query_name = value;
    else if (arg == "--input")
      inputs.push_back(value);
    else if (arg == "--sink" && value.find("=file:") != std::string::npos)
      output = value.substr(value.find("=file:") + 6);
    else
      usage();
  }
  std::FILE *out = output == "-" ? stdout : std::fopen(output.c_str(), "w");
  if (!out)
    fail("cannot open " + output + ": " + std::strerror(errno));
  TickOutput tick_output(out, query_name.c_str());
  std::unique_ptr<Query> query;
  if (query_name == "q0")
    query = std::make_unique<Q0>(tick_output);
  else if (query_name == "q1")
    query = std::make_unique<Q1>(tick_output);
  else if (query_name == "q2")
    query = std::make_unique<Q2>(tick_output);
  else if (query_name == "q3")
    query = std::make_unique<Q3>(tick_output);
  else if (query_name == "q4")
    query = std::make_unique<Q4>(tick_output);
  else if (query_name == "q9")
    query = std::make_unique<Q9>(tick_output);
  else
    usage();
  if (inputs.empty())
    inputs.push_back("-");
  Reader reader(*query, tick_output);
  for (const std::string &path : inputs) {
    std::FILE *in = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
    if (!in)
      fail("cannot open " + path + ": " + std::strerror(errno));
    reader.file(in);
    if (in != stdin)
      std::fclose(in);
  }
  return std::fclose(out) == 0 ? 0 : 1;
}
