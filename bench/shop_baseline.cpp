// shop_baseline: examples/shop's sink models maintained by hand-written C++, the practical limit
// that the Kiln binary is compared with (bench/README.md).
//
//   shop_baseline [--input FILE]... [--sink NAME=file:PATH|NAME=stdout]... [--tick-size N]
//   [--stats]
//
// Same input and output as the binary `kiln build examples/shop` writes: change records as JSON
// lines ({"table":"shop.orders","op":"insert"|"delete"|"upsert","row":{...}}, {"op":"commit"}
// ends a tick), and per tick and sink the consolidated changes, deletions first then by row:
//   {"tick":3,"sink":"product_sales","weight":-1,"row":{...}}
// Semantics follow PostgreSQL (and runtime/lib/Host.cpp for the keyed sources: an upsert of an
// existing key is delete(old) + insert(new), an upsert equal to the stored row does nothing, a
// delete needs only the key; inserting an existing key or deleting a missing one is a bad record,
// reported on stderr and skipped). NUMERIC values are 128-bit integers scaled by 10^scale;
// divisions follow PostgreSQL's numeric division (result scale from select_div_scale, rounded
// half away from zero), then round().
//
// It is written the way one would write these views by hand for speed, not as a generic engine:
// one struct per table, slots found through one hash lookup by primary key, categorical strings
// (regions, categories, statuses) interned once with their derived flags, join indexes as slot
// lists (customer -> orders, order -> lines, product -> lines), one aggregate state per group with
// NULL counts, MIN/MAX over sorted vectors (multisets that support retraction), and per tick a
// snapshot of each group's output state at its first change: at commit only the changed groups
// are compared and formatted. A change to a customer's region or a product's category moves only
// the aggregates that depend on it.
#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace {

namespace od = simdjson::ondemand;
using i128 = __int128;
using u128 = unsigned __int128;

// ---------------------------------------------------------------------------------------------
// Values

constexpr int32_t kNullDate = INT32_MIN; // a NULL date inside group keys and snapshots

// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil).
int64_t daysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
constexpr int64_t kPgEpoch = 10957; // 2000-01-01, PostgreSQL's epoch for DATE

void civilFromDays(int64_t z, int64_t &y, int64_t &m, int64_t &d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2)
    ++y;
}

// "YYYY-MM-DD" -> days since 2000-01-01.
bool parseDate(std::string_view s, int32_t &out) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-')
    return false;
  int v[8];
  int k = 0;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v[k++] = s[i] - '0';
  }
  int64_t y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3], m = v[4] * 10 + v[5],
          d = v[6] * 10 + v[7];
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > kDays[m - 1] + (m == 2 && leap))
    return false;
  out = static_cast<int32_t>(daysFromCivil(y, m, d) - kPgEpoch);
  return true;
}

// NUMERIC(precision, scale) from its text: [sign] digits [. digits], rounded half away from zero.
bool parseNumeric(std::string_view s, int precision, int scale, i128 &out) {
  size_t pos = 0;
  bool negative = false;
  if (pos < s.size() && (s[pos] == '-' || s[pos] == '+'))
    negative = s[pos++] == '-';
  i128 v = 0;
  int digits = 0, frac = 0;
  bool any = false, round_up = false;
  for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos) {
    v = v * 10 + (s[pos] - '0');
    any = true;
    if (v != 0 && ++digits > 38)
      return false;
  }
  if (pos < s.size() && s[pos] == '.') {
    for (++pos; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos) {
      any = true;
      if (frac < scale) {
        v = v * 10 + (s[pos] - '0');
        ++frac;
      } else if (frac == scale) {
        round_up = s[pos] >= '5';
        ++frac;
      }
    }
  }
  if (!any || pos != s.size())
    return false;
  for (int f = std::min(frac, scale); f < scale; ++f)
    v *= 10;
  if (round_up)
    ++v;
  i128 limit = 1;
  for (int i = 0; i < precision; ++i)
    limit *= 10;
  if (v >= limit)
    return false;
  out = negative ? -v : v;
  return true;
}

i128 pow10(int k) {
  i128 p = 1;
  while (k-- > 0)
    p *= 10;
  return p;
}

// round(n / d) half away from zero, n >= 0, d > 0.
u128 divRound(u128 n, u128 d) {
  u128 q = n / d, r = n % d;
  return r >= d - r ? q + 1 : q;
}

int decimalDigits(u128 v) {
  int n = 0;
  do {
    ++n;
    v /= 10;
  } while (v != 0);
  return n;
}

// PostgreSQL's numeric_div followed by round(., digits): a / b at the result scale that
// select_div_scale picks (at least 16 significant digits), rounded half away from zero, then
// rounded again to `digits`. `a` has scale sa and display scale sa, `b` scale sb.
i128 pgDivRound(i128 a, int sa, i128 b, int sb, int digits) {
  bool negative = (a < 0) != (b < 0);
  u128 ua = a < 0 ? -static_cast<u128>(a) : static_cast<u128>(a);
  u128 ub = b < 0 ? -static_cast<u128>(b) : static_cast<u128>(b);
  // Weight (position of the first non-zero base-10000 digit) and that digit, per operand.
  auto weightAndFirst = [](u128 v, int scale, int &weight, int &first) {
    if (v == 0) {
      weight = 0;
      first = 0;
      return;
    }
    int e10 = decimalDigits(v) - 1 - scale; // the value's decimal exponent
    weight = e10 >= 0 ? e10 / 4 : -((-e10 + 3) / 4);
    int shift = scale + 4 * weight; // first = floor(v / 10^shift)
    first = shift >= 0 ? static_cast<int>(v / static_cast<u128>(pow10(shift)))
                       : static_cast<int>(v * static_cast<u128>(pow10(-shift)));
  };
  int w1, f1, w2, f2;
  weightAndFirst(ua, sa, w1, f1);
  weightAndFirst(ub, sb, w2, f2);
  int qweight = w1 - w2 - (f1 <= f2 ? 1 : 0);
  int rscale = std::max({16 - qweight * 4, sa, sb, 0});
  rscale = std::min(rscale, 1000);
  // q = a / b * 10^rscale = ua * 10^(sb + rscale - sa) / ub.
  int k = sb + rscale - sa;
  u128 num = ua, den = ub;
  if (k >= 0) {
    u128 p = static_cast<u128>(pow10(k));
    if (num != 0 && num > ~static_cast<u128>(0) / p) {
      std::fprintf(stderr, "shop_baseline: numeric division out of the 128-bit range\n");
      std::abort();
    }
    num *= p;
  } else {
    den *= static_cast<u128>(pow10(-k));
  }
  u128 q = divRound(num, den);
  if (rscale > digits)
    q = divRound(q, static_cast<u128>(pow10(rscale - digits)));
  else
    q *= static_cast<u128>(pow10(digits - rscale));
  return negative ? -static_cast<i128>(q) : static_cast<i128>(q);
}

void appendInt(std::string &out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void appendNumeric(std::string &out, i128 v, int scale) {
  char buf[48];
  char *p = buf + sizeof buf;
  u128 m = v < 0 ? -static_cast<u128>(v) : static_cast<u128>(v);
  int n = 0;
  do {
    *--p = static_cast<char>('0' + static_cast<int>(m % 10));
    m /= 10;
    if (++n == scale)
      *--p = '.';
  } while (m != 0 || n < scale);
  if (n == scale)
    *--p = '0'; // 0.xx
  if (v < 0)
    *--p = '-';
  out.append(p, buf + sizeof buf);
}

void appendDate(std::string &out, int32_t days) {
  int64_t y, m, d;
  civilFromDays(days + kPgEpoch, y, m, d);
  char buf[16];
  buf[0] = '"';
  buf[1] = static_cast<char>('0' + y / 1000 % 10);
  buf[2] = static_cast<char>('0' + y / 100 % 10);
  buf[3] = static_cast<char>('0' + y / 10 % 10);
  buf[4] = static_cast<char>('0' + y % 10);
  buf[5] = '-';
  buf[6] = static_cast<char>('0' + m / 10);
  buf[7] = static_cast<char>('0' + m % 10);
  buf[8] = '-';
  buf[9] = static_cast<char>('0' + d / 10);
  buf[10] = static_cast<char>('0' + d % 10);
  buf[11] = '"';
  out.append(buf, 12);
}

void appendNullableDate(std::string &out, int32_t days) {
  if (days == kNullDate)
    out += "null";
  else
    appendDate(out, days);
}

void appendJsonString(std::string &out, std::string_view s) {
  out += '"';
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    out.append(s.data() + start, i - start);
    start = i + 1;
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default: {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    }
    }
  }
  out.append(s.data() + start, s.size() - start);
  out += '"';
}

// Strings that live as long as the program (names; interned values).
class Arena {
public:
  std::string_view copy(std::string_view s) {
    if (s.size() > left_) {
      size_t n = std::max<size_t>(1 << 16, s.size());
      chunks_.emplace_back(new char[n]);
      next_ = chunks_.back().get();
      left_ = n;
    }
    if (!s.empty())
      std::memcpy(next_, s.data(), s.size());
    std::string_view out(next_, s.size());
    next_ += s.size();
    left_ -= s.size();
    return out;
  }

private:
  std::vector<std::unique_ptr<char[]>> chunks_;
  char *next_ = nullptr;
  size_t left_ = 0;
};

// Multiset of dates with retraction, kept sorted: MIN is front, MAX is back. New orders carry
// the latest date, so inserts are mostly appends.
class DateMultiset {
public:
  void insert(int32_t d) {
    if (v_.empty() || v_.back() <= d)
      v_.push_back(d);
    else
      v_.insert(std::upper_bound(v_.begin(), v_.end(), d), d);
  }
  void erase(int32_t d) {
    if (v_.back() == d)
      v_.pop_back();
    else
      v_.erase(std::lower_bound(v_.begin(), v_.end(), d));
  }
  int32_t min() const { return v_.empty() ? kNullDate : v_.front(); }
  int32_t max() const { return v_.empty() ? kNullDate : v_.back(); }

private:
  std::vector<int32_t> v_;
};

// ---------------------------------------------------------------------------------------------
// Tables and aggregates

// Categorical strings (region, category, status as given) get an id once; id 0 is NULL.
struct Category {
  std::string_view text;
  uint32_t region = 0;   // as a raw region: id of coalesce(lower(region), 'unknown')
  uint32_t category = 0; // as a raw category: id of lower(category)
  bool north_east = false, south_west = false; // as a normalised region
  bool active = false, open = false;           // as a raw status: not cancelled; placed/shipped
};

struct Customer {
  int64_t id = 0;
  bool exists = false;
  std::string_view name;
  uint32_t region_raw = 0;
  uint32_t region = 0; // normalised
  int32_t signup = kNullDate;
  std::vector<uint32_t> orders; // existing orders with this customer_id
  // customer_lifetime_value: the customer's orders in order_totals
  int64_t n_orders = 0, lv_nn = 0;
  i128 lv = 0;
  DateMultiset dates;
  // customer_open_orders
  int64_t n_open = 0;
  DateMultiset open_dates;
  // Output state at the first change of the current tick.
  uint32_t clv_tick = 0, open_tick = 0;
  struct Clv {
    std::string_view name;
    uint32_t region;
    int64_t n_orders, lv_nn;
    i128 lv;
    int32_t first, last;
  } clv_before;
  struct Open {
    int64_t n_open;
    int32_t oldest;
  } open_before;
};

struct Product {
  int64_t id = 0;
  bool exists = false;
  std::string_view name;
  uint32_t category_raw = 0;
  uint32_t category = 0; // lower(category)
  i128 price = 0;
  bool price_null = true;
  std::vector<uint32_t> items;
  // product_sales
  int64_t units = 0, lines = 0, amount_nn = 0;
  i128 amount = 0;
  uint32_t tick = 0;
  struct Sales {
    std::string_view name;
    uint32_t category;
    i128 price;
    bool price_null;
    int64_t units, lines, amount_nn;
    i128 amount;
  } before;
};

struct Order {
  int64_t id = 0;
  bool exists = false;
  int64_t customer_id = 0;
  uint32_t customer = 0; // slot, valid while exists
  uint32_t pos_in_customer = 0;
  int32_t date = kNullDate;
  uint32_t status_raw = 0;
  bool active = false, open = false;
  std::vector<uint32_t> items; // lines, also those that arrived before the order
  // order_totals (the parts customer_lifetime_value reads)
  int64_t lines = 0, amount_nn = 0;
  i128 amount = 0;
};

struct Item {
  uint32_t order = 0;
  int32_t line = 0;
  int64_t product_id = 0;
  uint32_t product = 0;
  uint32_t pos_in_product = 0;
  int32_t quantity = 0;
  bool quantity_null = true;
  i128 unit_price = 0;
  bool price_null = true;
};

struct RevenueGroup { // revenue_by_region_day
  uint32_t region;
  int32_t date;
  int64_t units = 0, lines = 0, amount_nn = 0;
  i128 amount = 0;
  uint32_t tick = 0;
  int64_t b_units = 0, b_lines = 0, b_amount_nn = 0;
  i128 b_amount = 0;
};

struct CategoryGroup { // top_categories
  int64_t units = 0, lines = 0, amount_nn = 0, north_east = 0, south_west = 0;
  i128 amount = 0;
  uint32_t tick = 0;
  int64_t b_units = 0, b_lines = 0, b_amount_nn = 0, b_north_east = 0, b_south_west = 0;
  i128 b_amount = 0;
};

enum Sink { kOpenOrders, kLifetimeValue, kProductSales, kRevenue, kTopCategories, kSinks };
const char *const kSinkNames[kSinks] = {"customer_open_orders", "customer_lifetime_value",
                                        "product_sales", "revenue_by_region_day", "top_categories"};

// Which aggregates a line update reaches.
enum : unsigned { kRev = 1, kTop = 2, kProd = 4, kOrd = 8, kAll = 15 };

// Project vars (kiln_project.yml).
const i128 kVip = 1000 * 100, kRegular = 250 * 100; // lifetime value in cents
constexpr int64_t kMinCategoryUnits = 20;

// A decoded row: the columns the record carries, parsed.
struct Field {
  bool present = false, null = true;
  int64_t i = 0;
  i128 n = 0;
  int32_t date = 0;
  std::string_view s;
};

class Shop {
public:
  struct Options {
    int64_t tick_size = 0;
    std::string sink_paths[kSinks]; // "" or "-": stdout
  };

  explicit Shop(const Options &options) : options_(options) {
    categoricals_.push_back(Category{}); // 0: NULL
    unknown_region_ = internNormalised("unknown");
    category_groups_.resize(1);
    for (int s = 0; s < kSinks; ++s) {
      const std::string &path = options.sink_paths[s];
      if (path.empty() || path == "-") {
        files_[s] = stdout;
        continue;
      }
      for (int t = 0; t < s; ++t)
        if (options.sink_paths[t] == path)
          files_[s] = files_[t];
      if (files_[s] == nullptr) {
        files_[s] = std::fopen(path.c_str(), "w");
        if (files_[s] == nullptr) {
          std::fprintf(stderr, "shop_baseline: error: cannot open %s: %s\n", path.c_str(),
                       std::strerror(errno));
          std::exit(1);
        }
      }
    }
  }

  ~Shop() {
    for (int s = 0; s < kSinks; ++s) {
      bool first = true;
      for (int t = 0; t < s; ++t)
        first &= files_[t] != files_[s];
      if (first && files_[s] != stdout)
        std::fclose(files_[s]);
    }
    std::fflush(stdout);
  }

  // Reads JSON lines in blocks: every line is parsed in place, with the bytes after it (the rest
  // of the block and simdjson's padding) readable.
  void processFile(std::FILE *file, const std::string &origin) {
    constexpr size_t kPadding = simdjson::SIMDJSON_PADDING;
    size_t capacity = size_t{1} << 22;
    std::unique_ptr<char[]> buf(new char[capacity + kPadding]);
    size_t have = 0;
    int64_t line_number = 0;
    auto line = [&](size_t start, size_t end) {
      ++line_number;
      size_t len = end - start;
      if (len > 0 && buf[start + len - 1] == '\r')
        --len;
      std::string_view text(buf.get() + start, len);
      if (text.find_first_not_of(" \t") != std::string_view::npos)
        processRecord(text, capacity + kPadding - start, origin, line_number);
    };
    while (true) {
      size_t n = std::fread(buf.get() + have, 1, capacity - have, file);
      have += n;
      size_t start = 0;
      while (const char *nl =
                 static_cast<const char *>(std::memchr(buf.get() + start, '\n', have - start))) {
        size_t end = nl - buf.get();
        line(start, end);
        start = end + 1;
      }
      if (n == 0) {
        if (std::ferror(file)) {
          std::fprintf(stderr, "shop_baseline: error: cannot read %s\n", origin.c_str());
          std::exit(1);
        }
        if (start < have)
          line(start, have);
        break;
      }
      std::memmove(buf.get(), buf.get() + start, have - start);
      have -= start;
      if (have == capacity) { // a line longer than the block
        std::unique_ptr<char[]> bigger(new char[2 * capacity + kPadding]);
        std::memcpy(bigger.get(), buf.get(), have);
        buf = std::move(bigger);
        capacity *= 2;
      }
    }
    finishInput();
  }

  void printStats() const {
    std::fprintf(stderr, "shop: %lld records (%lld bad), %lld ticks, %lld changes out\n",
                 static_cast<long long>(records_), static_cast<long long>(bad_),
                 static_cast<long long>(ticks_), static_cast<long long>(changes_out_));
  }

private:
  // ---- interning ----
  uint32_t internRaw(std::string_view s) {
    auto it = raw_ids_.find(s);
    if (it != raw_ids_.end())
      return it->second;
    Category c;
    c.text = arena_.copy(s);
    std::string lower(s);
    for (char &ch : lower)
      if (ch >= 'A' && ch <= 'Z')
        ch = static_cast<char>(ch - 'A' + 'a');
    uint32_t normal = internNormalised(lower);
    c.region = normal;
    c.category = normal;
    c.active = lower != "cancelled";
    c.open = lower == "placed" || lower == "shipped";
    uint32_t id = static_cast<uint32_t>(categoricals_.size());
    categoricals_.push_back(c);
    raw_ids_.emplace(c.text, id);
    return id;
  }
  // Ids of lower-cased values (regions and categories share the space).
  uint32_t internNormalised(std::string_view s) {
    auto it = normal_ids_.find(s);
    if (it != normal_ids_.end())
      return it->second;
    Category c;
    c.text = arena_.copy(s);
    c.north_east = s == "north" || s == "east";
    c.south_west = s == "south" || s == "west";
    uint32_t id = static_cast<uint32_t>(normals_.size()) + 1; // 0: NULL
    normals_.push_back(c);
    normal_ids_.emplace(c.text, id);
    if (category_groups_.size() <= id)
      category_groups_.resize(id + 1);
    return id;
  }
  const Category &normal(uint32_t id) const { return normals_[id - 1]; }

  // ---- slots ----
  uint32_t customerSlot(int64_t id) {
    auto [it, inserted] = customer_ids_.try_emplace(id, static_cast<uint32_t>(customers_.size()));
    if (inserted)
      customers_.emplace_back().id = id;
    return it->second;
  }
  uint32_t productSlot(int64_t id) {
    auto [it, inserted] = product_ids_.try_emplace(id, static_cast<uint32_t>(products_.size()));
    if (inserted)
      products_.emplace_back().id = id;
    return it->second;
  }
  uint32_t orderSlot(int64_t id) {
    auto [it, inserted] = order_ids_.try_emplace(id, static_cast<uint32_t>(orders_.size()));
    if (inserted)
      orders_.emplace_back().id = id;
    return it->second;
  }
  uint32_t newItem() {
    if (!free_items_.empty()) {
      uint32_t i = free_items_.back();
      free_items_.pop_back();
      items_[i] = Item{};
      return i;
    }
    items_.emplace_back();
    return static_cast<uint32_t>(items_.size() - 1);
  }

  // ---- per-tick snapshots ----
  void touchClv(Customer &c) {
    if (c.clv_tick == tick_)
      return;
    c.clv_tick = tick_;
    c.clv_before = {c.name, c.region, c.n_orders, c.lv_nn, c.lv, c.dates.min(), c.dates.max()};
    dirty_[kLifetimeValue].push_back(static_cast<uint32_t>(&c - customers_.data()));
  }
  void touchOpen(Customer &c) {
    if (c.open_tick == tick_)
      return;
    c.open_tick = tick_;
    c.open_before = {c.n_open, c.open_dates.min()};
    dirty_[kOpenOrders].push_back(static_cast<uint32_t>(&c - customers_.data()));
  }
  void touchProduct(Product &p) {
    if (p.tick == tick_)
      return;
    p.tick = tick_;
    p.before = {p.name, p.category, p.price, p.price_null, p.units, p.lines, p.amount_nn, p.amount};
    dirty_[kProductSales].push_back(static_cast<uint32_t>(&p - products_.data()));
  }
  RevenueGroup &revenueGroup(uint32_t region, int32_t date) {
    uint64_t key = (static_cast<uint64_t>(region) << 32) | static_cast<uint32_t>(date);
    auto [it, inserted] = revenue_ids_.try_emplace(key, static_cast<uint32_t>(revenue_.size()));
    if (inserted) {
      RevenueGroup &g = revenue_.emplace_back();
      g.region = region;
      g.date = date;
    }
    RevenueGroup &g = revenue_[it->second];
    if (g.tick != tick_) {
      g.tick = tick_;
      g.b_units = g.units, g.b_lines = g.lines, g.b_amount_nn = g.amount_nn, g.b_amount = g.amount;
      dirty_[kRevenue].push_back(it->second);
    }
    return g;
  }
  CategoryGroup &categoryGroup(uint32_t category) {
    CategoryGroup &g = category_groups_[category];
    if (g.tick != tick_) {
      g.tick = tick_;
      g.b_units = g.units, g.b_lines = g.lines, g.b_amount_nn = g.amount_nn;
      g.b_north_east = g.north_east, g.b_south_west = g.south_west, g.b_amount = g.amount;
      dirty_[kTopCategories].push_back(category);
    }
    return g;
  }

  // ---- the joined order lines ----
  // A line is in order_lines when its quantity is > 0, its order exists and is not cancelled,
  // and its customer and product exist.
  bool effective(const Item &it) const {
    if (it.quantity_null || it.quantity <= 0)
      return false;
    const Order &o = orders_[it.order];
    return o.exists && o.active && customers_[o.customer].exists && products_[it.product].exists;
  }

  // Adds (sign 1) or removes (sign -1) an effective line's contribution to the aggregates in mask.
  void apply(const Item &it, int sign, unsigned mask) {
    Order &o = orders_[it.order];
    Customer &c = customers_[o.customer];
    Product &p = products_[it.product];
    int64_t q = sign * static_cast<int64_t>(it.quantity);
    i128 amount = it.price_null ? 0 : it.unit_price * q;
    int64_t nn = it.price_null ? 0 : sign;
    if (mask & kRev) {
      RevenueGroup &g = revenueGroup(c.region, o.date);
      g.units += q, g.lines += sign, g.amount_nn += nn, g.amount += amount;
    }
    if (mask & kTop) {
      CategoryGroup &g = categoryGroup(p.category);
      const Category &r = normal(c.region);
      g.units += q, g.lines += sign, g.amount_nn += nn, g.amount += amount;
      if (r.north_east)
        g.north_east += q;
      if (r.south_west)
        g.south_west += q;
    }
    if (mask & kProd) {
      touchProduct(p);
      p.units += q, p.lines += sign, p.amount_nn += nn, p.amount += amount;
    }
    if (mask & kOrd) {
      // order_totals -> per_customer: the order counts once it has a line; its total is NULL
      // when all its line amounts are.
      bool present0 = o.lines > 0, nn0 = o.amount_nn > 0;
      i128 total0 = nn0 ? o.amount : 0;
      o.lines += sign, o.amount_nn += nn, o.amount += amount;
      bool present1 = o.lines > 0, nn1 = o.amount_nn > 0;
      i128 total1 = nn1 ? o.amount : 0;
      if (present0 != present1 || nn0 != nn1 || total0 != total1) {
        touchClv(c);
        c.n_orders += present1 - present0;
        c.lv_nn += nn1 - nn0;
        c.lv += total1 - total0;
        if (present0 != present1 && o.date != kNullDate) {
          if (present1)
            c.dates.insert(o.date);
          else
            c.dates.erase(o.date);
        }
      }
    }
  }

  void applyOrderLines(const Order &o, int sign, unsigned mask) {
    if (!o.exists || !o.active)
      return;
    for (uint32_t i : o.items)
      if (effective(items_[i]))
        apply(items_[i], sign, mask);
  }
  void applyCustomerLines(const Customer &c, int sign, unsigned mask) {
    if (!c.exists)
      return;
    for (uint32_t o : c.orders)
      applyOrderLines(orders_[o], sign, mask);
  }
  void applyProductLines(const Product &p, int sign, unsigned mask) {
    if (!p.exists)
      return;
    for (uint32_t i : p.items)
      if (effective(items_[i]))
        apply(items_[i], sign, mask);
  }

  // ---- orders: customer links and customer_open_orders ----
  void linkOrder(Order &o) {
    o.customer = customerSlot(o.customer_id);
    Customer &c = customers_[o.customer];
    o.pos_in_customer = static_cast<uint32_t>(c.orders.size());
    c.orders.push_back(static_cast<uint32_t>(&o - orders_.data()));
    if (o.open)
      addOpen(c, o, 1);
  }
  void unlinkOrder(Order &o) {
    Customer &c = customers_[o.customer];
    uint32_t last = c.orders.back();
    c.orders[o.pos_in_customer] = last;
    orders_[last].pos_in_customer = o.pos_in_customer;
    c.orders.pop_back();
    if (o.open)
      addOpen(c, o, -1);
  }
  void addOpen(Customer &c, const Order &o, int sign) {
    touchOpen(c);
    c.n_open += sign;
    if (o.date != kNullDate) {
      if (sign > 0)
        c.open_dates.insert(o.date);
      else
        c.open_dates.erase(o.date);
    }
  }

  // ---- record processing ----
  bool bad(std::string_view line, const std::string &origin, int64_t line_number,
           const char *reason) {
    ++bad_;
    std::fprintf(stderr, "%s:%lld: error: %s\n  %.*s\n", origin.c_str(),
                 static_cast<long long>(line_number), reason,
                 static_cast<int>(std::min<size_t>(line.size(), 200)), line.data());
    return false;
  }

  enum Table { kCustomers, kProducts, kOrders, kItems, kNoTable };
  enum Op { kInsert, kDelete, kUpsert };

  static Table tableOf(std::string_view name) {
    if (name.starts_with("shop."))
      name.remove_prefix(5);
    if (name == "customers")
      return kCustomers;
    if (name == "products")
      return kProducts;
    if (name == "orders")
      return kOrders;
    if (name == "order_items")
      return kItems;
    return kNoTable;
  }

  // Column names of each table, in order.
  static int columnOf(Table t, std::string_view name) {
    static const std::vector<std::vector<std::string_view>> kColumns = {
        {"id", "name", "region", "signup_date"},
        {"id", "name", "category", "price"},
        {"id", "customer_id", "order_date", "status"},
        {"order_id", "line", "product_id", "quantity", "unit_price"}};
    const auto &cols = kColumns[t];
    for (size_t i = 0; i < cols.size(); ++i)
      if (cols[i] == name)
        return static_cast<int>(i);
    return -1;
  }
  enum Kind { kBigint, kInt, kText, kDate, kNumeric };
  static Kind kindOf(Table t, int col) {
    static const Kind kKinds[4][5] = {{kBigint, kText, kText, kDate},
                                      {kBigint, kText, kText, kNumeric},
                                      {kBigint, kBigint, kDate, kText},
                                      {kBigint, kInt, kBigint, kInt, kNumeric}};
    return kKinds[t][col];
  }

  // Decodes the row object into fields; returns an error message or nullptr.
  const char *decodeRow(Table t, od::value row, Field *fields) {
    od::object obj;
    if (row.get_object().get(obj))
      return "\"row\" must be an object";
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key))
        return "invalid JSON";
      int col = columnOf(t, key);
      if (col < 0)
        return "unknown column";
      Field &f = fields[col];
      f.present = true;
      od::value v = field.value();
      od::json_type type;
      if (v.type().get(type))
        return "invalid JSON";
      if (type == od::json_type::null) {
        f.null = true;
        continue;
      }
      f.null = false;
      Kind kind = kindOf(t, col);
      std::string_view text;
      if (type == od::json_type::number) {
        if (kind == kText || kind == kDate)
          return "expected a string";
        text = v.raw_json_token();
        while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\t' ||
                                 text.back() == '\r'))
          text.remove_suffix(1);
      } else if (type == od::json_type::string) {
        if (v.get_string().get(text))
          return "invalid JSON";
      } else {
        return "wrong JSON type";
      }
      switch (kind) {
      case kBigint:
      case kInt: {
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), f.i);
        if (ec != std::errc() || end != text.data() + text.size() || text.empty())
          return "invalid integer";
        if (kind == kInt && (f.i < INT32_MIN || f.i > INT32_MAX))
          return "integer out of range";
        break;
      }
      case kText:
        f.s = text;
        break;
      case kDate:
        if (!parseDate(text, f.date))
          return "invalid date";
        break;
      case kNumeric:
        if (!parseNumeric(text, 10, 2, f.n))
          return "invalid numeric(10,2)";
        break;
      }
    }
    return nullptr;
  }

  void processRecord(std::string_view line, size_t capacity, const std::string &origin,
                     int64_t line_number) {
    ++records_;
    od::document doc;
    if (parser_.iterate(line.data(), line.size(), capacity).get(doc)) {
      bad(line, origin, line_number, "invalid JSON");
      return;
    }
    od::object obj;
    if (doc.get_object().get(obj)) {
      bad(line, origin, line_number, "expected a JSON object");
      return;
    }
    Table table = kNoTable;
    bool has_table = false, has_row = false, has_op = false;
    Op op = kInsert;
    bool commit = false;
    Field fields[5];
    bool row_first = false; // "row" came before "table"
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) {
        bad(line, origin, line_number, "invalid JSON");
        return;
      }
      if (key == "table") {
        std::string_view name;
        if (field.value().get_string().get(name) || (table = tableOf(name)) == kNoTable) {
          bad(line, origin, line_number, "unknown table");
          return;
        }
        has_table = true;
      } else if (key == "op") {
        std::string_view name;
        if (field.value().get_string().get(name)) {
          bad(line, origin, line_number, "\"op\" must be a string");
          return;
        }
        has_op = true;
        if (name == "insert")
          op = kInsert;
        else if (name == "delete")
          op = kDelete;
        else if (name == "upsert")
          op = kUpsert;
        else if (name == "commit")
          commit = true;
        else {
          bad(line, origin, line_number, "unknown op");
          return;
        }
      } else if (key == "row") {
        has_row = true;
        if (!has_table) {
          row_first = true; // decoded once the table is known
          continue;
        }
        if (const char *error = decodeRow(table, field.value(), fields)) {
          bad(line, origin, line_number, error);
          return;
        }
      } else if (key == "weight") {
        int64_t w;
        if (field.value().get_int64().get(w) || w != 1) {
          bad(line, origin, line_number, "\"weight\" must be 1 for a table with a primary key");
          return;
        }
      } else {
        bad(line, origin, line_number, "unknown field");
        return;
      }
    }
    if (commit) {
      this->commit();
      return;
    }
    if (!has_table || !has_row || !has_op) {
      bad(line, origin, line_number, "a change needs \"table\", \"op\" and \"row\"");
      return;
    }
    if (row_first) {
      od::value v;
      if (parser_.iterate(line.data(), line.size(), capacity).get(doc) ||
          doc.find_field_unordered("row").get(v)) {
        bad(line, origin, line_number, "invalid JSON");
        return;
      }
      if (const char *error = decodeRow(table, v, fields)) {
        bad(line, origin, line_number, error);
        return;
      }
    }
    const char *error = nullptr;
    switch (table) {
    case kCustomers:
      error = changeCustomer(op, fields);
      break;
    case kProducts:
      error = changeProduct(op, fields);
      break;
    case kOrders:
      error = changeOrder(op, fields);
      break;
    case kItems:
      error = changeItem(op, fields);
      break;
    case kNoTable:
      break;
    }
    if (error != nullptr) {
      bad(line, origin, line_number, error);
      return;
    }
    if (options_.tick_size > 0 && ++records_in_tick_ >= options_.tick_size)
      this->commit();
  }

  static bool nullKey(const Field &f) { return !f.present || f.null; }

  const char *changeCustomer(Op op, const Field *f) {
    if (nullKey(f[0]))
      return "null value in column \"id\" violates not-null constraint";
    if (op != kDelete && (!f[1].present || f[1].null))
      return "null value in column \"name\" violates not-null constraint";
    auto found = customer_ids_.find(f[0].i);
    bool exists = found != customer_ids_.end() && customers_[found->second].exists;
    if (op == kInsert && exists)
      return "duplicate key value violates primary key of shop.customers";
    if (op == kDelete && !exists)
      return "no row with that key to delete in shop.customers";
    Customer &c = customers_[exists ? found->second : customerSlot(f[0].i)];
    if (op == kDelete) {
      pending_ = true;
      applyCustomerLines(c, -1, kAll);
      c.exists = false;
      return nullptr;
    }
    uint32_t region_raw = f[2].null ? 0 : internRaw(f[2].s);
    int32_t signup = f[3].null ? kNullDate : f[3].date;
    uint32_t region = region_raw == 0 ? unknown_region_ : categoricals_[region_raw].region;
    if (exists) {
      bool same_name = c.name == f[1].s;
      if (same_name && c.region_raw == region_raw && c.signup == signup)
        return nullptr;
      pending_ = true;
      if (!same_name) {
        if (c.n_orders > 0)
          touchClv(c);
        c.name = arena_.copy(f[1].s);
      }
      if (region != c.region) {
        if (c.n_orders > 0)
          touchClv(c);
        applyCustomerLines(c, -1, kRev | kTop);
        c.region = region;
        applyCustomerLines(c, 1, kRev | kTop);
      }
      c.region_raw = region_raw;
      c.signup = signup;
      return nullptr;
    }
    pending_ = true;
    c.exists = true;
    c.name = arena_.copy(f[1].s);
    c.region_raw = region_raw;
    c.region = region;
    c.signup = signup;
    applyCustomerLines(c, 1, kAll);
    return nullptr;
  }

  const char *changeProduct(Op op, const Field *f) {
    if (nullKey(f[0]))
      return "null value in column \"id\" violates not-null constraint";
    if (op != kDelete && (!f[1].present || f[1].null))
      return "null value in column \"name\" violates not-null constraint";
    auto found = product_ids_.find(f[0].i);
    bool exists = found != product_ids_.end() && products_[found->second].exists;
    if (op == kInsert && exists)
      return "duplicate key value violates primary key of shop.products";
    if (op == kDelete && !exists)
      return "no row with that key to delete in shop.products";
    Product &p = products_[exists ? found->second : productSlot(f[0].i)];
    if (op == kDelete) {
      pending_ = true;
      applyProductLines(p, -1, kAll);
      p.exists = false;
      return nullptr;
    }
    uint32_t category_raw = f[2].null ? 0 : internRaw(f[2].s);
    uint32_t category = category_raw == 0 ? 0 : categoricals_[category_raw].category;
    bool price_null = f[3].null;
    i128 price = price_null ? 0 : f[3].n;
    if (exists) {
      bool same_name = p.name == f[1].s;
      if (same_name && p.category_raw == category_raw && p.price_null == price_null &&
          p.price == price)
        return nullptr;
      pending_ = true;
      if (p.lines > 0)
        touchProduct(p);
      if (!same_name)
        p.name = arena_.copy(f[1].s);
      if (category != p.category) {
        applyProductLines(p, -1, kTop);
        p.category = category;
        applyProductLines(p, 1, kTop);
      }
      p.category_raw = category_raw;
      p.price = price;
      p.price_null = price_null;
      return nullptr;
    }
    pending_ = true;
    p.exists = true;
    p.name = arena_.copy(f[1].s);
    p.category_raw = category_raw;
    p.category = category;
    p.price = price;
    p.price_null = price_null;
    applyProductLines(p, 1, kAll);
    return nullptr;
  }

  const char *changeOrder(Op op, const Field *f) {
    if (nullKey(f[0]))
      return "null value in column \"id\" violates not-null constraint";
    if (op != kDelete && (!f[1].present || f[1].null))
      return "null value in column \"customer_id\" violates not-null constraint";
    auto found = order_ids_.find(f[0].i);
    bool exists = found != order_ids_.end() && orders_[found->second].exists;
    if (op == kInsert && exists)
      return "duplicate key value violates primary key of shop.orders";
    if (op == kDelete && !exists)
      return "no row with that key to delete in shop.orders";
    uint32_t slot = exists ? found->second : orderSlot(f[0].i);
    if (op == kDelete) {
      pending_ = true;
      Order &o = orders_[slot];
      applyOrderLines(o, -1, kAll);
      unlinkOrder(o);
      o.exists = false;
      return nullptr;
    }
    int64_t customer_id = f[1].i;
    int32_t date = f[2].null ? kNullDate : f[2].date;
    uint32_t status_raw = f[3].null ? 0 : internRaw(f[3].s);
    const Category &status = categoricals_[status_raw];
    bool active = status_raw != 0 && status.active, open = status_raw != 0 && status.open;
    Order *o = &orders_[slot];
    if (exists) {
      if (o->customer_id == customer_id && o->date == date) {
        // Only the status changed: the lines leave or join when the order is (un)cancelled.
        if (o->status_raw == status_raw)
          return nullptr;
        pending_ = true;
        if (active != o->active) {
          if (o->active)
            applyOrderLines(*o, -1, kAll);
        }
        if (open != o->open)
          addOpen(customers_[o->customer], *o, open ? 1 : -1);
        bool was_active = o->active;
        o->status_raw = status_raw;
        o->active = active;
        o->open = open;
        if (active && !was_active)
          applyOrderLines(*o, 1, kAll);
        return nullptr;
      }
      // Another customer or date: out with the old row, in with the new one.
      pending_ = true;
      applyOrderLines(*o, -1, kAll);
      unlinkOrder(*o);
      o->exists = false;
    }
    pending_ = true;
    o->exists = true;
    o->customer_id = customer_id;
    o->date = date;
    o->status_raw = status_raw;
    o->active = active;
    o->open = open;
    linkOrder(*o); // may grow customers_, not orders_
    applyOrderLines(*o, 1, kAll);
    return nullptr;
  }

  const char *changeItem(Op op, const Field *f) {
    if (nullKey(f[0]))
      return "null value in column \"order_id\" violates not-null constraint";
    if (nullKey(f[1]))
      return "null value in column \"line\" violates not-null constraint";
    if (op != kDelete && (!f[2].present || f[2].null))
      return "null value in column \"product_id\" violates not-null constraint";
    uint32_t order = orderSlot(f[0].i);
    int32_t line = static_cast<int32_t>(f[1].i);
    std::vector<uint32_t> &lines = orders_[order].items;
    size_t pos = 0;
    while (pos < lines.size() && items_[lines[pos]].line != line)
      ++pos;
    bool exists = pos < lines.size();
    if (op == kInsert && exists)
      return "duplicate key value violates primary key of shop.order_items";
    if (op == kDelete && !exists)
      return "no row with that key to delete in shop.order_items";
    if (op == kDelete) {
      pending_ = true;
      uint32_t i = lines[pos];
      if (effective(items_[i]))
        apply(items_[i], -1, kAll);
      unlinkItem(i);
      lines[pos] = lines.back();
      lines.pop_back();
      free_items_.push_back(i);
      return nullptr;
    }
    int64_t product_id = f[2].i;
    bool quantity_null = f[3].null, price_null = f[4].null;
    int32_t quantity = quantity_null ? 0 : static_cast<int32_t>(f[3].i);
    i128 unit_price = price_null ? 0 : f[4].n;
    uint32_t i;
    if (exists) {
      i = lines[pos];
      Item &it = items_[i];
      if (it.product_id == product_id && it.quantity_null == quantity_null &&
          it.quantity == quantity && it.price_null == price_null && it.unit_price == unit_price)
        return nullptr;
      pending_ = true;
      if (effective(it))
        apply(it, -1, kAll);
      if (it.product_id != product_id) {
        unlinkItem(i);
        linkItem(i, product_id);
      }
    } else {
      pending_ = true;
      i = newItem();
      items_[i].order = order;
      items_[i].line = line;
      linkItem(i, product_id);
      orders_[order].items.push_back(i);
    }
    Item &it = items_[i];
    it.quantity = quantity;
    it.quantity_null = quantity_null;
    it.unit_price = unit_price;
    it.price_null = price_null;
    if (effective(it))
      apply(it, 1, kAll);
    return nullptr;
  }

  void linkItem(uint32_t i, int64_t product_id) {
    uint32_t p = productSlot(product_id);
    Item &it = items_[i];
    it.product_id = product_id;
    it.product = p;
    it.pos_in_product = static_cast<uint32_t>(products_[p].items.size());
    products_[p].items.push_back(i);
  }
  void unlinkItem(uint32_t i) {
    Product &p = products_[items_[i].product];
    uint32_t last = p.items.back();
    p.items[items_[i].pos_in_product] = last;
    items_[last].pos_in_product = items_[i].pos_in_product;
    p.items.pop_back();
  }

  // ---- output ----
  void revenueRow(std::string &out, const RevenueGroup &g, bool before) const {
    int64_t units = before ? g.b_units : g.units, lines = before ? g.b_lines : g.lines;
    int64_t nn = before ? g.b_amount_nn : g.amount_nn;
    i128 amount = before ? g.b_amount : g.amount;
    out += "{\"region\":";
    appendJsonString(out, normal(g.region).text);
    out += ",\"order_date\":";
    appendNullableDate(out, g.date);
    out += ",\"revenue\":";
    if (nn > 0)
      appendNumeric(out, amount, 2);
    else
      out += "null";
    out += ",\"units\":";
    appendInt(out, units);
    out += ",\"order_lines\":";
    appendInt(out, lines);
    out += '}';
  }

  void categoryRow(std::string &out, uint32_t category, const CategoryGroup &g, bool before) const {
    int64_t units = before ? g.b_units : g.units, nn = before ? g.b_amount_nn : g.amount_nn;
    i128 amount = before ? g.b_amount : g.amount;
    out += "{\"category\":";
    if (category == 0)
      out += "null";
    else
      appendJsonString(out, normal(category).text);
    out += ",\"units\":";
    appendInt(out, units);
    out += ",\"revenue\":";
    if (nn > 0)
      appendNumeric(out, amount, 2);
    else
      out += "null";
    out += ",\"units_north_east\":";
    appendInt(out, before ? g.b_north_east : g.north_east);
    out += ",\"units_south_west\":";
    appendInt(out, before ? g.b_south_west : g.south_west);
    out += '}';
  }

  void productRow(std::string &out, int64_t id, const Product::Sales &s) const {
    out += "{\"product_id\":";
    appendInt(out, id);
    out += ",\"product_name\":";
    appendJsonString(out, s.name);
    out += ",\"category\":";
    if (s.category == 0)
      out += "null";
    else
      appendJsonString(out, normal(s.category).text);
    out += ",\"units_sold\":";
    appendInt(out, s.units);
    out += ",\"revenue\":";
    if (s.amount_nn > 0)
      appendNumeric(out, s.amount, 2);
    else
      out += "null";
    // round(sum(line_amount) / nullif(sum(quantity * list_price), 0), 3): every line of the
    // product has the same list price, so the sum is list_price * units_sold.
    out += ",\"price_realisation\":";
    i128 list_value = s.price * s.units;
    if (s.amount_nn > 0 && !s.price_null && list_value != 0)
      appendNumeric(out, pgDivRound(s.amount, 2, list_value, 2, 3), 3);
    else
      out += "null";
    out += '}';
  }

  void lifetimeRow(std::string &out, int64_t id, const Customer::Clv &s) const {
    out += "{\"customer_id\":";
    appendInt(out, id);
    out += ",\"customer_name\":";
    appendJsonString(out, s.name);
    out += ",\"region\":";
    appendJsonString(out, normal(s.region).text);
    out += ",\"order_count\":";
    appendInt(out, s.n_orders);
    out += ",\"lifetime_value\":";
    if (s.lv_nn > 0)
      appendNumeric(out, s.lv, 2);
    else
      out += "null";
    out += ",\"avg_order_value\":";
    if (s.lv_nn > 0)
      appendNumeric(out, pgDivRound(s.lv, 2, s.n_orders, 0, 2), 2);
    else
      out += "null";
    out += ",\"first_order_date\":";
    appendNullableDate(out, s.first);
    out += ",\"last_order_date\":";
    appendNullableDate(out, s.last);
    out += ",\"tier\":";
    bool known = s.lv_nn > 0;
    out += known && s.lv >= kVip       ? "\"vip\""
           : known && s.lv >= kRegular ? "\"regular\""
                                       : "\"occasional\"";
    out += '}';
  }

  void openRow(std::string &out, int64_t id, const Customer::Open &s) const {
    out += "{\"customer_id\":";
    appendInt(out, id);
    out += ",\"open_orders\":";
    appendInt(out, s.n_open);
    out += ",\"oldest_open_order\":";
    appendNullableDate(out, s.oldest);
    out += '}';
  }

  // The changes of one sink in this tick: -old, +new for every group whose row changed. Rows are
  // formatted into the sink's buffer; a pair of equal rows is taken back out.
  template <typename FormatOld, typename FormatNew>
  void change(Sink sink, bool had, bool has, FormatOld format_old, FormatNew format_new) {
    std::string &rows = rows_[sink];
    size_t a = rows.size();
    if (had)
      format_old(rows);
    size_t b = rows.size();
    if (has)
      format_new(rows);
    size_t c = rows.size();
    if (had && has && b - a == c - b && std::memcmp(rows.data() + a, rows.data() + b, b - a) == 0) {
      rows.resize(a);
      return;
    }
    if (had)
      changes_[sink].push_back({-1, static_cast<uint32_t>(a), static_cast<uint32_t>(b - a)});
    if (has)
      changes_[sink].push_back({1, static_cast<uint32_t>(b), static_cast<uint32_t>(c - b)});
  }

  void collectChanges() {
    for (uint32_t slot : dirty_[kRevenue]) {
      const RevenueGroup &g = revenue_[slot];
      change(
          kRevenue, g.b_lines > 0, g.lines > 0, [&](std::string &out) { revenueRow(out, g, true); },
          [&](std::string &out) { revenueRow(out, g, false); });
    }
    for (uint32_t category : dirty_[kTopCategories]) {
      const CategoryGroup &g = category_groups_[category];
      change(
          kTopCategories, g.b_lines > 0 && g.b_units >= kMinCategoryUnits,
          g.lines > 0 && g.units >= kMinCategoryUnits,
          [&](std::string &out) { categoryRow(out, category, g, true); },
          [&](std::string &out) { categoryRow(out, category, g, false); });
    }
    for (uint32_t slot : dirty_[kProductSales]) {
      const Product &p = products_[slot];
      Product::Sales now{p.name,  p.category, p.price,     p.price_null,
                         p.units, p.lines,    p.amount_nn, p.amount};
      change(
          kProductSales, p.before.lines > 0, p.lines > 0,
          [&](std::string &out) { productRow(out, p.id, p.before); },
          [&](std::string &out) { productRow(out, p.id, now); });
    }
    for (uint32_t slot : dirty_[kLifetimeValue]) {
      const Customer &c = customers_[slot];
      Customer::Clv now{c.name, c.region, c.n_orders, c.lv_nn, c.lv, c.dates.min(), c.dates.max()};
      change(
          kLifetimeValue, c.clv_before.n_orders > 0, c.n_orders > 0,
          [&](std::string &out) { lifetimeRow(out, c.id, c.clv_before); },
          [&](std::string &out) { lifetimeRow(out, c.id, now); });
    }
    for (uint32_t slot : dirty_[kOpenOrders]) {
      const Customer &c = customers_[slot];
      Customer::Open now{c.n_open, c.open_dates.min()};
      change(
          kOpenOrders, c.open_before.n_open > 0, c.n_open > 0,
          [&](std::string &out) { openRow(out, c.id, c.open_before); },
          [&](std::string &out) { openRow(out, c.id, now); });
    }
    for (auto &d : dirty_)
      d.clear();
  }

  void commit() {
    collectChanges();
    ++ticks_;
    for (int s = 0; s < kSinks; ++s) {
      std::vector<Change> &changes = changes_[s];
      if (changes.empty())
        continue;
      const char *rows = rows_[s].data();
      auto row = [rows](const Change &c) { return std::string_view(rows + c.offset, c.length); };
      std::sort(changes.begin(), changes.end(), [&](const Change &a, const Change &b) {
        bool ai = a.weight > 0, bi = b.weight > 0;
        if (ai != bi)
          return bi;
        int c = row(a).compare(row(b));
        return c != 0 ? c < 0 : a.weight < b.weight;
      });
      std::string &out = out_;
      out.clear();
      std::string prefix = "{\"tick\":";
      appendInt(prefix, ticks_);
      prefix += ",\"sink\":\"";
      prefix += kSinkNames[s];
      prefix += "\",\"weight\":";
      for (const Change &c : changes) {
        out += prefix;
        appendInt(out, c.weight);
        out += ",\"row\":";
        out += row(c);
        out += "}\n";
      }
      changes_out_ += static_cast<int64_t>(changes.size());
      if (std::fwrite(out.data(), 1, out.size(), files_[s]) != out.size()) {
        std::fprintf(stderr, "shop_baseline: error: cannot write output: %s\n",
                     std::strerror(errno));
        std::exit(1);
      }
      changes.clear();
      rows_[s].clear();
    }
    for (std::FILE *file : files_)
      std::fflush(file);
    ++tick_;
    pending_ = false;
    records_in_tick_ = 0;
  }

  void finishInput() {
    if (pending_)
      commit();
  }

  Options options_;
  od::parser parser_;
  Arena arena_;
  std::vector<Category> categoricals_; // raw values; 0: NULL
  absl::flat_hash_map<std::string_view, uint32_t> raw_ids_;
  std::vector<Category> normals_; // lower-cased values, id - 1
  absl::flat_hash_map<std::string_view, uint32_t> normal_ids_;
  uint32_t unknown_region_ = 0;

  std::vector<Customer> customers_;
  std::vector<Product> products_;
  std::vector<Order> orders_;
  std::vector<Item> items_;
  std::vector<uint32_t> free_items_;
  absl::flat_hash_map<int64_t, uint32_t> customer_ids_, product_ids_, order_ids_;

  std::vector<RevenueGroup> revenue_;
  absl::flat_hash_map<uint64_t, uint32_t> revenue_ids_;
  std::vector<CategoryGroup> category_groups_; // by normalised category id; 0: NULL

  uint32_t tick_ = 1; // for snapshots: the tick being built
  std::vector<uint32_t> dirty_[kSinks];
  struct Change {
    int64_t weight;
    uint32_t offset, length; // of the row in rows_[sink]
  };
  std::vector<Change> changes_[kSinks];
  std::string rows_[kSinks];
  std::string out_;
  std::FILE *files_[kSinks] = {};

  bool pending_ = false;
  int64_t records_in_tick_ = 0;
  int64_t records_ = 0, bad_ = 0, ticks_ = 0, changes_out_ = 0;
};

[[noreturn]] void usage(const char *argv0, const std::string &problem) {
  std::fprintf(stderr,
               "%s: error: %s\nusage: %s [--input FILE]... [--sink NAME=file:PATH|NAME=stdout]... "
               "[--tick-size N] [--stats]\n",
               argv0, problem.c_str(), argv0);
  std::exit(1);
}

} // namespace

int main(int argc, char **argv) {
  Shop::Options options;
  std::vector<std::string> inputs;
  bool stats = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (size_t eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    if (arg == "--stats") {
      stats = true;
      continue;
    }
    if (arg != "--input" && arg != "--sink" && arg != "--tick-size")
      usage(argv[0], "unknown option " + arg);
    if (!has_value) {
      if (i + 1 >= argc)
        usage(argv[0], arg + " needs a value");
      value = argv[++i];
    }
    if (arg == "--input") {
      inputs.push_back(value);
    } else if (arg == "--tick-size") {
      options.tick_size = std::atoll(value.c_str());
    } else {
      size_t eq = value.find('=');
      std::string name = value.substr(0, eq == std::string::npos ? value.size() : eq);
      std::string target = eq == std::string::npos ? "" : value.substr(eq + 1);
      int sink = -1;
      for (int s = 0; s < kSinks; ++s)
        if (name == kSinkNames[s])
          sink = s;
      if (sink < 0)
        usage(argv[0], "unknown sink \"" + name + "\"");
      if (target == "stdout")
        options.sink_paths[sink] = "-";
      else if (target.starts_with("file:") && target.size() > 5)
        options.sink_paths[sink] = target.substr(5);
      else
        usage(argv[0], "--sink takes NAME=file:PATH or NAME=stdout");
    }
  }
  if (inputs.empty())
    inputs.push_back("-");

  Shop shop(options);
  for (const std::string &path : inputs) {
    std::FILE *file = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
      std::fprintf(stderr, "%s: error: cannot open %s: %s\n", argv[0], path.c_str(),
                   std::strerror(errno));
      return 1;
    }
    shop.processFile(file, path == "-" ? "<stdin>" : path);
    if (file != stdin)
      std::fclose(file);
  }
  if (stats)
    shop.printStats();
  return 0;
}
