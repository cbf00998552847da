/* An order service that embeds the shop project as a library.
 *
 * The service has its own event format and its own state; Kiln maintains the shop's models for
 * it. It reads events (stdin or a file), one per line:
 *   customer ID "NAME" REGION SIGNUP_DATE
 *   product ID "NAME" CATEGORY PRICE
 *   order ID CUSTOMER DATE          a new order, placed
 *   item ORDER LINE PRODUCT QUANTITY UNIT_PRICE
 *   ship ORDER | deliver ORDER | cancel ORDER
 *   flush                           ends a batch: commit, then print the dashboard
 *   lookup CUSTOMER                 after a flush: the customer's current value and tier, looked
 *                                   up in the index model customer_lookup
 * pushes each as a typed row (no JSON on this path), and at every flush commits the batch and
 * handles the models' changes itself: it keeps revenue per region (the sum over days of
 * revenue_by_region_day) and announces customers who reach the "vip" tier of
 * customer_lifetime_value; and it answers lookups from the shop's index model. An event the
 * shop's tables refuse (an unknown order, a duplicate) is
 * reported and skipped; a SQL runtime error leaves the batch out and the service goes on.
 *
 * Build (after `kiln build project --emit=lib`: the shop's models and the customer_lookup index):
 *   cc -std=c11 -I project/target service.c project/target/libshop.a \
 *      -lstdc++ -lsimdjson -lm -lpthread -o service
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop.h"

#define MAX_ORDERS 4096
#define MAX_REGIONS 32
#define MAX_CUSTOMERS 4096

/* What the service itself knows: its orders (to send their whole row on a status change). */
struct order {
  long long id, customer;
  char date[11];
  int known;
};

struct service {
  shop *kiln;
  struct order orders[MAX_ORDERS];
  /* Its handling of the outputs: revenue per region, and each customer's tier. */
  struct {
    char name[32];
    double revenue;
  } regions[MAX_REGIONS];
  int nregions;
  char tiers[MAX_CUSTOMERS][16];
  long long events, refused, batches;
};

static struct order *order_slot(struct service *s, long long id) {
  return id >= 0 && id < MAX_ORDERS ? &s->orders[id] : NULL;
}

static void add_revenue(struct service *s, const char *name, size_t length, double delta) {
  int i;
  for (i = 0; i < s->nregions; ++i)
    if (strlen(s->regions[i].name) == length && memcmp(s->regions[i].name, name, length) == 0)
      break;
  if (i == s->nregions) {
    if (s->nregions == MAX_REGIONS || length >= sizeof s->regions[i].name)
      return;
    memcpy(s->regions[i].name, name, length);
    s->regions[i].name[length] = '\0';
    ++s->nregions;
  }
  s->regions[i].revenue += delta;
}

/* Called by shop_commit for every change of every sink model. */
static void on_change(void *context, int32_t sink, const shop_row *row, int64_t weight) {
  struct service *s = context;
  if (sink == SHOP_SINK_REVENUE_BY_REGION_DAY) {
    size_t length;
    const char *region = shop_get_text(row, SHOP_REVENUE_BY_REGION_DAY_REGION, &length);
    double revenue = shop_get_double(row, SHOP_REVENUE_BY_REGION_DAY_REVENUE);
    add_revenue(s, region, length, (double)weight * revenue);
  } else if (sink == SHOP_SINK_CUSTOMER_LIFETIME_VALUE && weight > 0) {
    long long id = shop_get_int64(row, SHOP_CUSTOMER_LIFETIME_VALUE_CUSTOMER_ID);
    size_t length;
    const char *tier = shop_get_text(row, SHOP_CUSTOMER_LIFETIME_VALUE_TIER, &length);
    if (id < 0 || id >= MAX_CUSTOMERS || length >= sizeof s->tiers[0])
      return;
    if (length == 3 && memcmp(tier, "vip", 3) == 0 && strcmp(s->tiers[id], "vip") != 0) {
      char json[512];
      shop_format_json(row, json, sizeof json);
      printf("vip: %s\n", json);
    }
    memcpy(s->tiers[id], tier, length);
    s->tiers[id][length] = '\0';
  }
}

static void print_customer(void *context, const shop_row *row, int64_t count) {
  char json[512];
  shop_format_json(row, json, sizeof json);
  printf("customer: %s\n", json);
  (void)context;
  (void)count;
}

static void refused(struct service *s, long long line, const char *what) {
  ++s->refused;
  fprintf(stderr, "line %lld: %s: %s\n", line, what, shop_error(s->kiln));
}

/* Pushes an order's row with `status` (a new order inserts it, a change of status upserts). */
static int push_order(struct service *s, const struct order *o, const char *status, int op) {
  shop_row *row = shop_row_begin(s->kiln, SHOP_TABLE_SHOP_ORDERS);
  shop_set_int64(row, SHOP_SHOP_ORDERS_ID, o->id);
  shop_set_int64(row, SHOP_SHOP_ORDERS_CUSTOMER_ID, o->customer);
  shop_set_text(row, SHOP_SHOP_ORDERS_ORDER_DATE, o->date, strlen(o->date));
  shop_set_text(row, SHOP_SHOP_ORDERS_STATUS, status, strlen(status));
  return shop_row_push(row, op);
}

static void flush(struct service *s) {
  ++s->batches;
  if (shop_commit(s->kiln, on_change, s) != SHOP_OK) {
    fprintf(stderr, "batch %lld left out: %s\n", s->batches, shop_error(s->kiln));
    return;
  }
  printf("batch %lld: revenue by region:", s->batches);
  for (int i = 0; i < s->nregions; ++i)
    printf(" %s=%.2f", s->regions[i].name, s->regions[i].revenue);
  printf("\n");
}

static void handle(struct service *s, const char *line, long long number) {
  char kind[16], name[128], word[64], date[11], price[32];
  long long id, other, product;
  int line_no, quantity;
  if (sscanf(line, "%15s", kind) != 1)
    return;
  ++s->events;
  if (strcmp(kind, "flush") == 0) {
    flush(s);
  } else if (strcmp(kind, "lookup") == 0 && sscanf(line, "lookup %lld", &id) == 1) {
    shop_row *key = shop_key_begin(s->kiln, SHOP_INDEX_CUSTOMER_LOOKUP);
    shop_set_int64(key, SHOP_CUSTOMER_LOOKUP_CUSTOMER_ID, id);
    int64_t found = shop_lookup(s->kiln, key, print_customer, NULL);
    if (found < 0)
      refused(s, number, "lookup");
    else if (found == 0)
      printf("customer: %lld has no orders\n", id);
  } else if (strcmp(kind, "customer") == 0 &&
             sscanf(line, "customer %lld \"%127[^\"]\" %63s %10s", &id, name, word, date) == 4) {
    shop_row *row = shop_row_begin(s->kiln, SHOP_TABLE_SHOP_CUSTOMERS);
    shop_set_int64(row, SHOP_SHOP_CUSTOMERS_ID, id);
    shop_set_text(row, SHOP_SHOP_CUSTOMERS_NAME, name, strlen(name));
    shop_set_text(row, SHOP_SHOP_CUSTOMERS_REGION, word, strlen(word));
    shop_set_text(row, SHOP_SHOP_CUSTOMERS_SIGNUP_DATE, date, strlen(date));
    if (shop_row_push(row, SHOP_UPSERT) != SHOP_OK)
      refused(s, number, "customer");
  } else if (strcmp(kind, "product") == 0 &&
             sscanf(line, "product %lld \"%127[^\"]\" %63s %31s", &id, name, word, price) == 4) {
    shop_row *row = shop_row_begin(s->kiln, SHOP_TABLE_SHOP_PRODUCTS);
    shop_set_int64(row, SHOP_SHOP_PRODUCTS_ID, id);
    shop_set_text(row, SHOP_SHOP_PRODUCTS_NAME, name, strlen(name));
    shop_set_text(row, SHOP_SHOP_PRODUCTS_CATEGORY, word, strlen(word));
    shop_set_text(row, SHOP_SHOP_PRODUCTS_PRICE, price, strlen(price));
    if (shop_row_push(row, SHOP_UPSERT) != SHOP_OK)
      refused(s, number, "product");
  } else if (strcmp(kind, "order") == 0 &&
             sscanf(line, "order %lld %lld %10s", &id, &other, date) == 3) {
    struct order *o = order_slot(s, id);
    if (o == NULL) {
      fprintf(stderr, "line %lld: order %lld: out of range\n", number, id);
      ++s->refused;
      return;
    }
    struct order placed = {id, other, "", 1};
    memcpy(placed.date, date, sizeof placed.date);
    if (push_order(s, &placed, "placed", SHOP_INSERT) != SHOP_OK)
      refused(s, number, "order");
    else
      *o = placed;
  } else if (strcmp(kind, "item") == 0 &&
             sscanf(line, "item %lld %d %lld %d %31s", &id, &line_no, &product, &quantity,
                    price) == 5) {
    shop_row *row = shop_row_begin(s->kiln, SHOP_TABLE_SHOP_ORDER_ITEMS);
    shop_set_int64(row, SHOP_SHOP_ORDER_ITEMS_ORDER_ID, id);
    shop_set_int64(row, SHOP_SHOP_ORDER_ITEMS_LINE, line_no);
    shop_set_int64(row, SHOP_SHOP_ORDER_ITEMS_PRODUCT_ID, product);
    shop_set_int64(row, SHOP_SHOP_ORDER_ITEMS_QUANTITY, quantity);
    shop_set_text(row, SHOP_SHOP_ORDER_ITEMS_UNIT_PRICE, price, strlen(price));
    if (shop_row_push(row, SHOP_INSERT) != SHOP_OK)
      refused(s, number, "item");
  } else if ((strcmp(kind, "ship") == 0 || strcmp(kind, "deliver") == 0 ||
              strcmp(kind, "cancel") == 0) &&
             sscanf(line, "%*s %lld", &id) == 1) {
    struct order *o = order_slot(s, id);
    const char *status = kind[0] == 's' ? "shipped" : kind[0] == 'd' ? "delivered" : "cancelled";
    if (o == NULL || !o->known) {
      fprintf(stderr, "line %lld: %s: no order %lld\n", number, kind, id);
      ++s->refused;
    } else if (push_order(s, o, status, SHOP_UPSERT) != SHOP_OK) {
      refused(s, number, kind);
    }
  } else {
    fprintf(stderr, "line %lld: cannot read: %s", number, line);
    ++s->refused;
  }
}

int main(int argc, char **argv) {
  FILE *in = argc > 1 ? fopen(argv[1], "r") : stdin;
  if (in == NULL) {
    perror(argv[1]);
    return 1;
  }
  static struct service s; /* large: not on the stack */
  shop_options options = {SHOP_API_VERSION, SHOP_ON_ERROR_ISOLATE};
  char error[256];
  if (shop_open(&options, &s.kiln, error, sizeof error) != SHOP_OK) {
    fprintf(stderr, "cannot open the shop: %s\n", error);
    return 1;
  }
  char line[1024];
  long long number = 0;
  while (fgets(line, sizeof line, in) != NULL)
    handle(&s, line, ++number);
  if (shop_changes_pushed(s.kiln) > 0)
    flush(&s);

  shop_stats stats;
  shop_get_stats(s.kiln, &stats);
  printf("%lld events (%lld refused) in %lld batches; kiln: %lld ticks, %lld changes in, %lld "
         "out, %lld state entries\n",
         s.events, s.refused, s.batches, (long long)stats.ticks, (long long)stats.changes_in,
         (long long)stats.changes_out, (long long)stats.state_entries);
  shop_close(s.kiln);
  if (in != stdin)
    fclose(in);
  return 0;
}
