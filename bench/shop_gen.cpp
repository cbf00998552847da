// shop_gen: a seeded generator of change records for examples/shop.
//
//   shop_gen [--records N] [--commit-every T] [--seed S] [--customers C] [--products P] [-o FILE]
//
// Writes N change records (default 1,000,000) as JSON lines in the input format of a Kiln binary:
//   {"table":"shop.orders","op":"insert"|"upsert"|"delete","row":{...}}
// with {"op":"commit"} after every T change records (default 10,000) and at the end. First the
// customers and products (a snapshot: C = 10,000 customers, P = 1,000 products by default), then a
// stream of events: new orders with their lines, orders moving placed -> shipped -> delivered,
// cancellations (and a few reinstated orders), quantity corrections, removed lines, fraudulent
// orders deleted with their lines, order date corrections and reassigned orders, customers moving
// region or renamed, new sign-ups, a few closed accounts, product price and category changes.
// The values exercise the models' SQL: regions, categories and statuses in mixed case (lower()),
// NULL regions (coalesce), NULL categories, prices, dates and quantities, zero quantities (the
// `quantity > 0` filter), names with quotes and non-ASCII letters (JSON escaping).
//
// Every record is valid against the state built by the records before it (no duplicate inserts,
// no deletes of missing keys), so any prefix of the output is a valid input too. The output
// depends only on the arguments: the random generator and every distribution are defined here,
// not taken from the standard library.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

// xoshiro256** seeded through splitmix64.
class Rng {
public:
  explicit Rng(uint64_t seed) {
    for (uint64_t &word : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      word = z ^ (z >> 31);
    }
  }
  uint64_t next() {
    uint64_t result = rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) (Lemire's multiply-shift; the tiny bias does not matter here).
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  int64_t range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(below(hi - lo + 1)); }
  // True with probability p.
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
  template <typename T, size_t N> const T &pick(const T (&items)[N]) { return items[below(N)]; }

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

const char *const kFirst[] = {"Ada",  "Ben",     "Chloe", "Dev",   "Elena", "Farid", "Greta",
                              "Hiro", "Ines",    "Jon",   "Kemal", "Lena",  "Milo",  "Nora",
                              "Omar", "Priya",   "Quinn", "Rosa",  "Sami",  "Tess",  "Ugo",
                              "Vera", "Wanjiru", "Xiu",   "Yusuf", "Zoë",   "Ángel", "Björn"};
const char *const kLast[] = {"Alvarez", "Brown",    "Chen",    "Dubois", "Evans",    "Fischer",
                             "Garcia",  "Hansen",   "Ito",     "Jones",  "Kowalski", "Lopez",
                             "Müller",  "Nakamura", "O'Brien", "Patel",  "Quispe",   "Rossi",
                             "Smith",   "Tanaka",   "Usman",   "Vargas", "Wójcik",   "Yilmaz"};
// Mixed case on purpose: the models group by lower(region).
const char *const kRegions[] = {"north", "south", "east",    "west",  "North", "West",
                                "EAST",  "south", "central", "north", "west",  "Central"};
const char *const kMoveRegions[] = {"north", "south", "east", "west", "central"};
const char *const kCategories[] = {
    "Books",   "Games",     "Garden", "Kitchen", "Toys",    "Music",  "Sports",  "Outdoor",
    "Beauty",  "Health",    "Office", "Pets",    "Tools",   "Baby",   "Fashion", "Shoes",
    "Jewelry", "Computers", "Phones", "Cameras", "Grocery", "Crafts", "Auto",    "Lighting"};
const char *const kAdjectives[] = {"Classic", "Compact", "Deluxe", "Eco",     "Essential",
                                   "Handy",   "Mini",    "Pro",    "Rugged",  "Smart",
                                   "Super",   "Travel",  "Ultra",  "Vintage", "Wireless"};
const char *const kNouns[] = {"Kettle", "Lamp",   "Backpack", "Board Game", "Notebook", "Pan",
                              "Kite",   "Puzzle", "Speaker",  "Jacket",     "Mug",      "Tent",
                              "Shears", "Brush",  "Charger",  "Watch",      "Blender",  "Novel"};

// Days since 1970-01-01 -> "YYYY-MM-DD" (Howard Hinnant's civil_from_days).
std::string formatDate(int64_t days) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t doe = days - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2)
    ++y;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04" PRId64 "-%02" PRId64 "-%02" PRId64, y, m, d);
  return buf;
}

constexpr int64_t kStartDay = 19723; // 2024-01-01

struct Customer {
  std::string name;
  const char *region = nullptr; // nullptr: NULL
  int64_t signup = 0;
  bool alive = false;
};

struct Product {
  std::string name;
  const char *category = nullptr;
  int64_t price = 0; // cents
  bool price_null = false;
};

struct Item {
  int32_t line = 0;
  int64_t product = 0;
  int32_t quantity = 0;
  bool quantity_null = false;
  int64_t unit_price = 0; // cents
  bool price_null = false;
  bool alive = false;
};

enum Status { kPlaced, kShipped, kDelivered, kCancelled };
const char *const kStatusText[4][3] = {{"placed", "placed", "Placed"},
                                       {"shipped", "shipped", "SHIPPED"},
                                       {"delivered", "delivered", "Delivered"},
                                       {"cancelled", "cancelled", "CANCELLED"}};

struct Order {
  int64_t customer = 0;
  int64_t date = 0;
  bool date_null = false;
  Status status = kPlaced;
  const char *status_text = "placed";
  bool alive = false;
  std::vector<Item> items;
  int32_t next_line = 1;
};

class Generator {
public:
  Generator(uint64_t seed, int64_t records, int64_t commit_every, int64_t customers,
            int64_t products, std::FILE *out)
      : rng_(seed), limit_(records), commit_every_(commit_every), initial_customers_(customers),
        initial_products_(products), out_(out) {}

  void run() {
    customers_.emplace_back(); // ids start at 1
    products_.emplace_back();
    orders_.emplace_back();
    for (int64_t i = 0; i < initial_customers_ && !done(); ++i)
      newCustomer(true);
    for (int64_t i = 0; i < initial_products_ && !done(); ++i)
      newProduct();
    while (!done())
      event();
    if (in_tick_ > 0)
      commit();
    flush();
  }

private:
  bool done() const { return emitted_ >= limit_; }

  // ---- output ----
  void append(std::string_view text) { buf_.append(text); }
  void appendInt(int64_t v) {
    char tmp[24];
    int n = std::snprintf(tmp, sizeof tmp, "%" PRId64, v);
    buf_.append(tmp, n);
  }
  void appendString(std::string_view s) {
    buf_ += '"';
    for (char c : s) {
      if (c == '"' || c == '\\')
        buf_ += '\\';
      buf_ += c;
    }
    buf_ += '"';
  }
  void appendNullableString(const char *s) {
    if (s == nullptr)
      append("null");
    else
      appendString(s);
  }
  void appendMoney(int64_t cents, bool null) {
    if (null) {
      append("null");
      return;
    }
    char tmp[32];
    int n =
        std::snprintf(tmp, sizeof tmp, "\"%" PRId64 ".%02" PRId64 "\"", cents / 100, cents % 100);
    buf_.append(tmp, n);
  }
  void appendDate(int64_t day, bool null) {
    if (null)
      append("null");
    else
      appendString(formatDate(day));
  }
  // Opens a record; the caller appends the row's fields and calls end().
  bool begin(const char *table, const char *op) {
    if (done())
      return false;
    append("{\"table\":\"shop.");
    append(table);
    append("\",\"op\":\"");
    append(op);
    append("\",\"row\":{");
    return true;
  }
  void end() {
    append("}}\n");
    ++emitted_;
    if (++in_tick_ == commit_every_)
      commit();
    if (buf_.size() > (1 << 20))
      flush();
  }
  void commit() {
    append("{\"op\":\"commit\"}\n");
    in_tick_ = 0;
  }
  void flush() {
    std::fwrite(buf_.data(), 1, buf_.size(), out_);
    buf_.clear();
  }

  void writeCustomer(int64_t id, const char *op) {
    if (!begin("customers", op))
      return;
    const Customer &c = customers_[id];
    append("\"id\":");
    appendInt(id);
    append(",\"name\":");
    appendString(c.name);
    append(",\"region\":");
    appendNullableString(c.region);
    append(",\"signup_date\":");
    appendDate(c.signup, false);
    end();
  }
  void writeProduct(int64_t id, const char *op) {
    if (!begin("products", op))
      return;
    const Product &p = products_[id];
    append("\"id\":");
    appendInt(id);
    append(",\"name\":");
    appendString(p.name);
    append(",\"category\":");
    appendNullableString(p.category);
    append(",\"price\":");
    appendMoney(p.price, p.price_null);
    end();
  }
  void writeOrder(int64_t id, const char *op) {
    if (!begin("orders", op))
      return;
    const Order &o = orders_[id];
    append("\"id\":");
    appendInt(id);
    append(",\"customer_id\":");
    appendInt(o.customer);
    append(",\"order_date\":");
    appendDate(o.date, o.date_null);
    append(",\"status\":");
    appendString(o.status_text);
    end();
  }
  void writeOrderKey(int64_t id) {
    if (!begin("orders", "delete"))
      return;
    append("\"id\":");
    appendInt(id);
    end();
  }
  void writeItem(int64_t order, const Item &item, const char *op) {
    if (!begin("order_items", op))
      return;
    append("\"order_id\":");
    appendInt(order);
    append(",\"line\":");
    appendInt(item.line);
    append(",\"product_id\":");
    appendInt(item.product);
    append(",\"quantity\":");
    if (item.quantity_null)
      append("null");
    else
      appendInt(item.quantity);
    append(",\"unit_price\":");
    appendMoney(item.unit_price, item.price_null);
    end();
  }
  void writeItemKey(int64_t order, int32_t line) {
    if (!begin("order_items", "delete"))
      return;
    append("\"order_id\":");
    appendInt(order);
    append(",\"line\":");
    appendInt(line);
    end();
  }

  // ---- entities ----
  std::string personName() {
    std::string name = rng_.pick(kFirst);
    if (rng_.chance(0.002))
      name += " \"Bo\""; // a nickname in quotes
    name += ' ';
    name += rng_.pick(kLast);
    return name;
  }

  void newCustomer(bool initial) {
    Customer c;
    c.name = personName();
    c.region = rng_.chance(0.07) ? nullptr : rng_.pick(kRegions);
    c.signup = initial ? kStartDay - rng_.range(1, 1500) : day_;
    c.alive = true;
    customers_.push_back(std::move(c));
    live_customers_.push_back(static_cast<int64_t>(customers_.size()) - 1);
    writeCustomer(static_cast<int64_t>(customers_.size()) - 1, "insert");
  }

  void newProduct() {
    Product p;
    p.name = std::string(rng_.pick(kAdjectives)) + " " + rng_.pick(kNouns) + " " +
             std::to_string(products_.size());
    p.category = rng_.chance(0.01) ? nullptr : kCategories[categoryIndex()];
    p.price_null = rng_.chance(0.005);
    p.price = rng_.chance(0.7) ? rng_.range(199, 4999) : rng_.range(5000, 50000);
    products_.push_back(std::move(p));
    writeProduct(static_cast<int64_t>(products_.size()) - 1, "insert");
  }

  // Categories and products are skewed: a few sell much more than the rest.
  size_t categoryIndex() {
    constexpr size_t n = std::size(kCategories);
    return rng_.chance(0.5) ? rng_.below(6) : rng_.below(n);
  }
  int64_t pickProduct() {
    int64_t n = static_cast<int64_t>(products_.size()) - 1;
    if (rng_.chance(0.3))
      return 1 + rng_.below(std::max<int64_t>(1, n / 20));
    return 1 + rng_.below(n);
  }
  // A live customer, some of them far more often than others.
  int64_t pickCustomer() {
    size_t n = live_customers_.size();
    size_t index = rng_.chance(0.2) ? rng_.below(std::max<size_t>(1, n / 20)) : rng_.below(n);
    return live_customers_[index];
  }
  // An order among the most recent ones (where updates happen), or 0.
  int64_t pickRecentOrder() {
    int64_t last = static_cast<int64_t>(orders_.size()) - 1;
    if (last < 1)
      return 0;
    int64_t window = std::min<int64_t>(last, 20000);
    return last - rng_.below(window);
  }

  int64_t unitPrice(const Product &p) {
    if (p.price_null)
      return rng_.range(100, 10000);
    static const int kDiscount[] = {100, 100, 100, 100, 95, 90, 80, 75};
    int64_t percent = rng_.pick(kDiscount);
    return (p.price * percent + 50) / 100;
  }

  void newOrder() {
    if (live_customers_.empty())
      return;
    if (++orders_today_ >= 600) { // about 600 orders a day
      ++day_;
      orders_today_ = 0;
    }
    int64_t id = static_cast<int64_t>(orders_.size());
    orders_.emplace_back();
    Order &o = orders_.back();
    o.customer = pickCustomer();
    o.date = day_;
    o.date_null = rng_.chance(0.001);
    o.status = kPlaced;
    o.status_text = rng_.chance(0.03) ? "Placed" : "placed";
    o.alive = true;
    writeOrder(id, "insert");
    static const int kLines[] = {1, 1, 1, 2, 2, 2, 3, 3, 4, 5};
    int lines = rng_.pick(kLines);
    for (int i = 0; i < lines; ++i) {
      Item item;
      item.line = o.next_line++;
      item.product = pickProduct();
      static const int kQuantity[] = {1, 1, 1, 1, 2, 2, 2, 3, 4, 5, 10};
      item.quantity = rng_.chance(0.005) ? 0 : rng_.pick(kQuantity);
      item.quantity_null = rng_.chance(0.001);
      item.unit_price = unitPrice(products_[item.product]);
      item.price_null = rng_.chance(0.002);
      item.alive = true;
      o.items.push_back(item);
      writeItem(id, o.items.back(), "insert");
    }
  }

  void setStatus(int64_t id, Status status) {
    Order &o = orders_[id];
    o.status = status;
    o.status_text = kStatusText[status][rng_.below(3)];
    writeOrder(id, "upsert");
  }

  // Moves a recent order on: placed -> shipped -> delivered.
  bool advanceOrder() {
    for (int attempt = 0; attempt < 4; ++attempt) {
      int64_t id = pickRecentOrder();
      if (id == 0 || !orders_[id].alive)
        continue;
      Status s = orders_[id].status;
      if (s == kPlaced || s == kShipped) {
        setStatus(id, s == kPlaced ? kShipped : kDelivered);
        return true;
      }
    }
    return false;
  }

  bool cancelOrder() {
    for (int attempt = 0; attempt < 4; ++attempt) {
      int64_t id = pickRecentOrder();
      if (id == 0 || !orders_[id].alive || orders_[id].status != kPlaced)
        continue;
      setStatus(id, kCancelled);
      return true;
    }
    return false;
  }

  bool reinstateOrder() {
    for (int attempt = 0; attempt < 8; ++attempt) {
      int64_t id = pickRecentOrder();
      if (id == 0 || !orders_[id].alive || orders_[id].status != kCancelled)
        continue;
      setStatus(id, kPlaced);
      return true;
    }
    return false;
  }

  // A live line of an open (placed) recent order, or nullptr.
  Item *pickOpenLine(int64_t &order_id) {
    for (int attempt = 0; attempt < 4; ++attempt) {
      int64_t id = pickRecentOrder();
      if (id == 0 || !orders_[id].alive || orders_[id].status != kPlaced)
        continue;
      std::vector<Item> &items = orders_[id].items;
      if (items.empty())
        continue;
      Item &item = items[rng_.below(items.size())];
      if (!item.alive)
        continue;
      order_id = id;
      return &item;
    }
    return nullptr;
  }

  bool changeQuantity() {
    int64_t order = 0;
    Item *item = pickOpenLine(order);
    if (item == nullptr)
      return false;
    if (item->quantity_null)
      item->quantity_null = false;
    else if (rng_.chance(0.05))
      item->quantity = 0; // leaves the models (quantity > 0)
    else
      item->quantity = std::max(1, item->quantity + (rng_.chance(0.6) ? 1 : -1));
    writeItem(order, *item, "upsert");
    return true;
  }

  bool removeLine() {
    int64_t order = 0;
    Item *item = pickOpenLine(order);
    if (item == nullptr)
      return false;
    item->alive = false;
    writeItemKey(order, item->line);
    return true;
  }

  bool addLine() {
    int64_t order = 0;
    Item *existing = pickOpenLine(order);
    if (existing == nullptr)
      return false;
    Order &o = orders_[order];
    Item item;
    item.line = o.next_line++;
    item.product = pickProduct();
    item.quantity = 1 + static_cast<int32_t>(rng_.below(3));
    item.unit_price = unitPrice(products_[item.product]);
    item.alive = true;
    o.items.push_back(item);
    writeItem(order, o.items.back(), "insert");
    return true;
  }

  // A fraudulent order disappears: its lines (full rows), then the order (key only).
  bool deleteOrder() {
    for (int attempt = 0; attempt < 4; ++attempt) {
      int64_t id = pickRecentOrder();
      if (id == 0 || !orders_[id].alive)
        continue;
      Order &o = orders_[id];
      for (Item &item : o.items) {
        if (!item.alive)
          continue;
        item.alive = false;
        writeItem(id, item, "delete");
      }
      o.alive = false;
      writeOrderKey(id);
      return true;
    }
    return false;
  }

  // Data corrections: an order's date moves by a few days, or it belongs to another customer.
  bool correctOrder() {
    for (int attempt = 0; attempt < 4; ++attempt) {
      int64_t id = pickRecentOrder();
      if (id == 0 || !orders_[id].alive)
        continue;
      Order &o = orders_[id];
      if (rng_.chance(0.7)) {
        o.date_null = false;
        o.date -= rng_.range(1, 5);
      } else {
        o.customer = pickCustomer();
      }
      writeOrder(id, "upsert");
      return true;
    }
    return false;
  }

  bool updateCustomer() {
    if (live_customers_.empty())
      return false;
    int64_t id = pickCustomer();
    Customer &c = customers_[id];
    if (rng_.chance(0.1))
      c.name = personName();
    else
      c.region = rng_.chance(0.02) ? nullptr : rng_.pick(kMoveRegions);
    writeCustomer(id, "upsert");
    return true;
  }

  // A closed account: the customer row goes, the orders stay (and leave the joined models).
  bool deleteCustomer() {
    if (live_customers_.size() < 100)
      return false;
    size_t index = rng_.below(live_customers_.size());
    int64_t id = live_customers_[index];
    live_customers_[index] = live_customers_.back();
    live_customers_.pop_back();
    customers_[id].alive = false;
    if (!begin("customers", "delete"))
      return true;
    append("\"id\":");
    appendInt(id);
    end();
    return true;
  }

  bool updateProduct() {
    int64_t id = pickProduct();
    Product &p = products_[id];
    if (rng_.chance(0.05)) {
      p.category = rng_.chance(0.1) ? nullptr : kCategories[categoryIndex()];
    } else if (p.price_null) {
      p.price_null = false;
    } else {
      p.price = (p.price * (rng_.chance(0.7) ? 105 : 95) + 50) / 100;
    }
    writeProduct(id, "upsert");
    return true;
  }

  void event() {
    uint64_t r = rng_.below(1000);
    bool ok = false;
    if (r < 480) {
      newOrder();
      return;
    }
    if (r < 700)
      ok = advanceOrder();
    else if (r < 730)
      ok = cancelOrder();
    else if (r < 735)
      ok = reinstateOrder();
    else if (r < 815)
      ok = changeQuantity();
    else if (r < 850)
      ok = removeLine();
    else if (r < 870)
      ok = addLine();
    else if (r < 885)
      ok = deleteOrder();
    else if (r < 890)
      ok = correctOrder();
    else if (r < 930)
      ok = updateCustomer();
    else if (r < 945) {
      newCustomer(false);
      ok = true;
    } else if (r < 946)
      ok = deleteCustomer();
    else if (r < 956)
      ok = updateProduct();
    if (!ok)
      newOrder();
  }

  Rng rng_;
  int64_t limit_;
  int64_t commit_every_;
  int64_t initial_customers_;
  int64_t initial_products_;
  std::FILE *out_;
  std::string buf_;
  int64_t emitted_ = 0;
  int64_t in_tick_ = 0;
  int64_t day_ = kStartDay;
  int64_t orders_today_ = 0;
  std::vector<Customer> customers_;
  std::vector<int64_t> live_customers_;
  std::vector<Product> products_;
  std::vector<Order> orders_;
};

[[noreturn]] void usage(const char *argv0, const char *problem) {
  if (problem != nullptr)
    std::fprintf(stderr, "%s: error: %s\n", argv0, problem);
  std::fprintf(stderr,
               "usage: %s [--records N] [--commit-every T] [--seed S] [--customers C] "
               "[--products P] [-o FILE]\n",
               argv0);
  std::exit(problem != nullptr ? 1 : 0);
}

} // namespace

int main(int argc, char **argv) {
  int64_t records = 1'000'000, commit_every = 10'000, customers = 10'000, products = 1'000;
  uint64_t seed = 1;
  const char *output = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h")
      usage(argv[0], nullptr);
    if (i + 1 >= argc)
      usage(argv[0], "missing value");
    const char *value = argv[++i];
    char *end = nullptr;
    long long number = std::strtoll(value, &end, 10);
    bool numeric = *value != '\0' && *end == '\0';
    if (arg == "-o")
      output = value;
    else if (!numeric || number < 0)
      usage(argv[0], "expected a non-negative number");
    else if (arg == "--records")
      records = number;
    else if (arg == "--commit-every")
      commit_every = number;
    else if (arg == "--seed")
      seed = static_cast<uint64_t>(number);
    else if (arg == "--customers")
      customers = number;
    else if (arg == "--products")
      products = number;
    else
      usage(argv[0], "unknown option");
  }
  if (commit_every <= 0)
    usage(argv[0], "--commit-every must be positive");
  if (products <= 0 || customers <= 0)
    usage(argv[0], "--customers and --products must be positive");
  std::FILE *out = output == nullptr ? stdout : std::fopen(output, "w");
  if (out == nullptr) {
    std::perror(output);
    return 1;
  }
  Generator(seed, records, commit_every, customers, products, out).run();
  if (std::fflush(out) != 0 || (out != stdout && std::fclose(out) != 0)) {
    std::perror("write");
    return 1;
  }
  return 0;
}
