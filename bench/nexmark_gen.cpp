// nexmark_gen: Nexmark's events (people, auctions, bids) as change records for the Kiln binary of
// bench/nexmark, seeded, following the reference generator's rules (../shared/corpora/README.md):
//
//   {"table":"nexmark.bid","op":"insert","row":{"auction":1000,"bidder":1001,...}}
//
// with {"op":"commit"} after every T events (default 10,000) and at the end.
//
// Event e (from 0): e % 50 == 0 a person, 1..3 an auction, 4..49 a bid. Person ids are
// epoch + 1000 (epoch = e / 50), auction ids 3 * epoch + (e % 50 - 1) + 1000. A bid's auction is
// the hot one, (last auction / 100) * 100, half of the time, else one of the last 100 auctions
// (or one of the next 10, not yet created); its bidder the hot person, (last person / 100) * 100
// + 1, 3 times in 4, else one of the last 1,000 people. An auction's seller is the hot person,
// (last person / 100) * 100, 3 times in 4. Prices are log-uniform from 100 to 10^8 cents;
// categories 10..14; cities and states from fixed lists; `extra` pads a bid to about 100 bytes, a
// person to 200, an auction to 500. A bid's channel is one of four names half of the time, else
// "channel-k", and its URL then carries channel_id=k. Event times are a fixed spacing apart
// (--spacing-us, default 10 µs) from 2024-01-01; an auction expires 1 ms to 2 x 1,666 events'
// time after it opens.
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "kiln/runtime/civil.h"

namespace {

const char *const kFirstNames[] = {"Peter", "Paul",  "Luke",  "John",   "Saul",  "Vicky",
                                   "Kate",  "Julie", "Sarah", "Deiter", "Walter"};
const char *const kLastNames[] = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                  "Walton", "Smith",  "Jones",   "Noris"};
const char *const kCities[] = {"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
                               "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
const char *const kStates[] = {"AZ", "CA", "ID", "OR", "WA", "WY"};
const char *const kChannels[] = {"Google", "Facebook", "Baidu", "Apple"};

struct Options {
  int64_t events = 1000000;
  int64_t commit_every = 10000;
  uint64_t seed = 1;
  int64_t spacing_us = 10;
  const char *output = nullptr;
};

class Generator {
public:
  explicit Generator(const Options &options) : options_(options), rng_(options.seed) {}

  void run(std::FILE *out) {
    std::string line;
    for (int64_t e = 0; e < options_.events; ++e) {
      line.clear();
      int64_t epoch = e / 50, offset = e % 50;
      int64_t now = kStart + e * options_.spacing_us;
      if (offset == 0)
        person(line, epoch + 1000, now);
      else if (offset <= 3)
        auction(line, 3 * epoch + (offset - 1) + 1000, epoch, now);
      else
        bid(line, epoch, now);
      if ((e + 1) % options_.commit_every == 0 || e + 1 == options_.events)
        line += "{\"op\":\"commit\"}\n";
      std::fwrite(line.data(), 1, line.size(), out);
    }
  }

private:
  // 2024-01-01 00:00:00 in microseconds since 2000-01-01 (PostgreSQL's epoch).
  static constexpr int64_t kStart = 757382400LL * 1000000;

  int64_t uniform(int64_t n) { return std::uniform_int_distribution<int64_t>(0, n - 1)(rng_); }
  double unit() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  int64_t price() { return std::llround(std::pow(10.0, unit() * 6) * 100); }

  std::string letters(int64_t n) {
    std::string s;
    for (int64_t i = 0; i < n; ++i)
      s += static_cast<char>('a' + uniform(26));
    return s;
  }
  // Pads `row` (without its closing brace) with an "extra" field to about `size` bytes.
  void extra(std::string &row, size_t size) {
    size_t have = row.size() + 12;
    row +=
        ",\"extra\":\"" + letters(have + 8 < size ? static_cast<int64_t>(size - have) : 8) + "\"";
  }

  // `micros` since 2000-01-01 as a quoted timestamp, PostgreSQL's text form.
  static void timestamp(std::string &out, int64_t micros) {
    int64_t rest = micros % KILN_MICROS_PER_DAY;
    kiln_civil day = kiln_civil_from_days(micros / KILN_MICROS_PER_DAY);
    char buf[64];
    std::snprintf(buf, sizeof buf,
                  "\"%04" PRId64 "-%02d-%02d %02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%06" PRId64
                  "\"",
                  day.year, day.month, day.day, static_cast<int64_t>(rest / 3600000000),
                  static_cast<int64_t>(rest / 60000000 % 60), rest / 1000000 % 60, rest % 1000000);
    out += buf;
  }

  int64_t lastPerson(int64_t epoch) const { return epoch + 1000; }

  void person(std::string &line, int64_t id, int64_t now) {
    std::string row = "{\"id\":" + std::to_string(id) + ",\"name\":\"" + kFirstNames[uniform(11)] +
                      " " + kLastNames[uniform(9)] + "\",\"emailaddress\":\"" + letters(7) + "@" +
                      letters(5) + ".com\",\"creditcard\":\"";
    for (int g = 0; g < 4; ++g)
      row += (g ? " " : "") + std::to_string(1000 + uniform(9000));
    row += "\",\"city\":\"";
    row += kCities[uniform(10)];
    row += "\",\"state\":\"";
    row += kStates[uniform(6)];
    row += "\",\"date_time\":";
    timestamp(row, now);
    extra(row, 200);
    line += "{\"table\":\"nexmark.person\",\"op\":\"insert\",\"row\":" + row + "}}\n";
  }

  void auction(std::string &line, int64_t id, int64_t epoch, int64_t now) {
    int64_t last = lastPerson(epoch);
    int64_t seller =
        uniform(4) < 3 ? (last / 100) * 100 : last - uniform(std::min<int64_t>(1000, last - 999));
    if (seller < 1000)
      seller = 1000;
    int64_t initial = price();
    std::string row = "{\"id\":" + std::to_string(id) + ",\"itemname\":\"" + letters(8) +
                      "\",\"description\":\"" + letters(20) +
                      "\",\"initialbid\":" + std::to_string(initial) +
                      ",\"reserve\":" + std::to_string(initial + price()) + ",\"date_time\":";
    timestamp(row, now);
    row += ",\"expires\":";
    timestamp(row, now + 1000 + uniform(2 * 1666 * options_.spacing_us));
    row += ",\"seller\":" + std::to_string(seller) +
           ",\"category\":" + std::to_string(10 + uniform(5));
    extra(row, 500);
    line += "{\"table\":\"nexmark.auction\",\"op\":\"insert\",\"row\":" + row + "}}\n";
  }

  void bid(std::string &line, int64_t epoch, int64_t now) {
    int64_t last_auction = 3 * epoch + 2 + 1000;
    int64_t auction =
        uniform(2) == 0 ? (last_auction / 100) * 100 : last_auction - uniform(100) + uniform(10);
    if (auction < 1000)
      auction = 1000;
    int64_t last = lastPerson(epoch);
    int64_t bidder = uniform(4) < 3 ? (last / 100) * 100 + 1 : last - uniform(1000);
    if (bidder < 1000)
      bidder = 1000;
    std::string channel, url = "https://www.nexmark.com/" + letters(5) + "/" + letters(5) + "/" +
                               letters(5) + "/item.htm?query=1";
    if (uniform(2) == 0) {
      channel = kChannels[uniform(4)];
    } else {
      int64_t k = uniform(10000);
      channel = "channel-" + std::to_string(k);
      url += "&channel_id=" + std::to_string(k);
    }
    std::string row = "{\"auction\":" + std::to_string(auction) +
                      ",\"bidder\":" + std::to_string(bidder) +
                      ",\"price\":" + std::to_string(price()) + ",\"channel\":\"" + channel +
                      "\",\"url\":\"" + url + "\",\"date_time\":";
    timestamp(row, now);
    extra(row, 100);
    line += "{\"table\":\"nexmark.bid\",\"op\":\"insert\",\"row\":" + row + "}}\n";
  }

  Options options_;
  std::mt19937_64 rng_;
};

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: nexmark_gen [--events N] [--commit-every T] [--seed S] "
                       "[--spacing-us U] [-o FILE]\n");
  std::exit(2);
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    auto value = [&]() -> const char * {
      if (i + 1 >= argc)
        usage();
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--events"))
      options.events = std::atoll(value());
    else if (!std::strcmp(argv[i], "--commit-every"))
      options.commit_every = std::atoll(value());
    else if (!std::strcmp(argv[i], "--seed"))
      options.seed = std::strtoull(value(), nullptr, 10);
    else if (!std::strcmp(argv[i], "--spacing-us"))
      options.spacing_us = std::atoll(value());
    else if (!std::strcmp(argv[i], "-o"))
      options.output = value();
    else
      usage();
  }
  if (options.events < 1 || options.commit_every < 1 || options.spacing_us < 1)
    usage();
  std::FILE *out = options.output ? std::fopen(options.output, "w") : stdout;
  if (!out) {
    std::perror(options.output);
    return 1;
  }
  Generator(options).run(out);
  return std::fclose(out) == 0 ? 0 : 1;
}
