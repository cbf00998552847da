// Debezium's transaction metadata: reading it (RecordParser.h) and assembling whole upstream
// transactions from topics read at different paces (DebeziumTransactions.h).
#include <string>
#include <vector>

#include "DebeziumTransactions.h"
#include "RecordParser.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::runtime::detail {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(DebeziumMetadata, ChangeEventsNameTheirTransaction) {
  DebeziumMetadataReader reader;
  auto id = [&](std::string_view event) {
    absl::StatusOr<std::optional<std::string>> result = reader.transactionOf(event);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->value_or("-") : "error";
  };
  EXPECT_EQ(id(R"({"before":null,"after":{"id":1},"op":"c",)"
               R"("transaction":{"id":"571:53195832","total_order":1,"data_collection_order":1}})"),
            "571:53195832");
  // The schema/payload wrapper, and numeric ids.
  EXPECT_EQ(id(R"({"schema":{"type":"struct"},"payload":{"op":"u","after":{"id":1},)"
               R"("transaction":{"total_order":2,"id":42}}})"),
            "42");
  // Snapshot reads, connectors without metadata, tombstones: no transaction.
  EXPECT_EQ(id(R"({"op":"r","after":{"id":1},"transaction":null})"), "-");
  EXPECT_EQ(id(R"({"op":"c","after":{"id":1}})"), "-");
  EXPECT_EQ(id(""), "-");
  EXPECT_EQ(id("null"), "-");
  EXPECT_EQ(id(R"({"schema":{},"payload":null})"), "-");

  EXPECT_FALSE(reader.transactionOf(R"({"op":"c","transaction":7})").ok());
  EXPECT_FALSE(reader.transactionOf(R"({"op":"c","transaction":{"total_order":1}})").ok());
  EXPECT_FALSE(reader.transactionOf(R"({"op":"c","transaction":{"id":""}})").ok());
  EXPECT_FALSE(reader.transactionOf(R"({"op":"c",)").ok());
}

TEST(DebeziumMetadata, TransactionTopicEvents) {
  DebeziumMetadataReader reader;
  absl::StatusOr<DebeziumTransactionMarker> begin = reader.marker(
      R"({"status":"BEGIN","id":"571:1","ts_ms":1,"event_count":null,"data_collections":null})");
  ASSERT_TRUE(begin.ok()) << begin.status();
  EXPECT_FALSE(begin->end);
  EXPECT_EQ(begin->id, "571:1");
  absl::StatusOr<DebeziumTransactionMarker> end = reader.marker(
      R"({"schema":{"type":"struct"},"payload":{"status":"END","id":"571:1","event_count":3,)"
      R"("data_collections":[{"data_collection":"public.a","event_count":2},)"
      R"({"data_collection":"public.b","event_count":1}]}})");
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_TRUE(end->end);
  EXPECT_THAT(end->event_counts, ElementsAre(Pair("public.a", 2), Pair("public.b", 1)));

  EXPECT_FALSE(reader.marker(R"({"status":"COMMIT","id":"1"})").ok());
  EXPECT_FALSE(reader.marker(R"({"status":"END","id":"1"})").ok());
  EXPECT_FALSE(
      reader.marker(R"({"status":"END","id":"1","data_collections":[{"event_count":1}]})").ok());
  EXPECT_FALSE(reader.marker("null").ok());
}

TEST(TransactionAssembler, TopicsAreNamedAfterTheTransactionTopic) {
  EXPECT_EQ(TransactionAssembler::collectionOf("pg.public.orders", "pg.transaction"),
            "public.orders");
  EXPECT_EQ(TransactionAssembler::collectionOf("orders", "pg.transaction"), std::nullopt);
  EXPECT_EQ(TransactionAssembler::collectionOf("pg.transaction", "pg.transaction"), std::nullopt);
  EXPECT_EQ(TransactionAssembler::collectionOf("pg.public.orders", "transactions"), std::nullopt);
  EXPECT_EQ(TransactionAssembler::collectionOf("pg.public.orders", "pg.tx"), "public.orders");
}

// Topics: 0 and 1 carry public.a and public.b, 2 is the transaction topic.
class Assembling : public ::testing::Test {
protected:
  TransactionAssembler assembler{2, {{0, "public.a"}, {1, "public.b"}}};

  bool event(int32_t topic, int64_t offset, std::optional<std::string> id, int32_t partition = 0) {
    TransactionAssembler::Message message;
    message.topic = topic;
    message.partition = partition;
    message.offset = offset;
    message.payload = absl::StrCat(topic, "/", partition, "@", offset);
    absl::StatusOr<bool> held = assembler.event(std::move(message), std::move(id));
    EXPECT_TRUE(held.ok()) << held.status();
    return held.ok() && *held;
  }
  void end(const std::string &id, int64_t a, int64_t b, int64_t offset) {
    EXPECT_TRUE(
        assembler.end(id, {{"public.a", a}, {"public.b", b}, {"public.other", 5}}, 0, offset).ok());
  }
  // The next batch: its transaction's id and payloads.
  std::vector<std::string> next() {
    std::optional<TransactionAssembler::Batch> batch = assembler.next();
    if (!batch)
      return {};
    std::vector<std::string> out{batch->id};
    for (const TransactionAssembler::Message &m : batch->messages)
      out.push_back(m.payload);
    return out;
  }
};

TEST_F(Assembling, ATransactionIsReleasedWholeOnceItsEndAndEveryEventAreIn) {
  EXPECT_TRUE(event(0, 10, "t1"));
  EXPECT_TRUE(event(0, 11, "t1"));
  EXPECT_EQ(assembler.firstHeld(0, 0), 10);
  end("t1", 2, 1, 100);
  EXPECT_EQ(assembler.firstHeld(2, 0), 100);
  EXPECT_THAT(next(), ElementsAre()); // public.b's event is missing
  EXPECT_TRUE(event(1, 7, "t1"));
  EXPECT_THAT(next(), ElementsAre("t1", "0/0@10", "0/0@11", "1/0@7"));
  EXPECT_THAT(next(), ElementsAre());
  EXPECT_EQ(assembler.firstHeld(0, 0), std::nullopt);
  EXPECT_EQ(assembler.firstHeld(2, 0), std::nullopt);
  EXPECT_EQ(assembler.heldEvents(), 0);
  EXPECT_EQ(assembler.heldTransactions(), 0);
}

TEST_F(Assembling, TransactionsAreReleasedInTheOrderOfTheirEnds) {
  // t2's events and END come first, but t1 ended before it: t2 waits for t1.
  EXPECT_TRUE(event(1, 0, "t2"));
  end("t1", 1, 0, 100);
  end("t2", 0, 1, 101);
  EXPECT_THAT(next(), ElementsAre());
  EXPECT_EQ(assembler.firstHeld(2, 0), 100);
  EXPECT_TRUE(event(0, 0, "t1"));
  EXPECT_THAT(next(), ElementsAre("t1", "0/0@0"));
  EXPECT_EQ(assembler.firstHeld(2, 0), 101);
  EXPECT_THAT(next(), ElementsAre("t2", "1/0@0"));
  EXPECT_EQ(assembler.firstHeld(2, 0), std::nullopt);
}

TEST_F(Assembling, ATransactionOfOtherTablesOnlyIsReleasedEmpty) {
  end("t1", 0, 0, 100);
  EXPECT_THAT(next(), ElementsAre("t1"));
  EXPECT_EQ(assembler.firstHeld(2, 0), std::nullopt);
}

TEST_F(Assembling, EventsOutsideTransactionsKeepTheirPartitionsOrder) {
  // A snapshot read passes at once while nothing of its partition is held...
  EXPECT_FALSE(event(0, 0, std::nullopt));
  EXPECT_TRUE(event(0, 1, "t1"));
  // ...and waits behind what is: here until t1 is released, with it.
  EXPECT_TRUE(event(0, 2, std::nullopt));
  EXPECT_FALSE(event(0, 0, std::nullopt, /*partition=*/1));
  EXPECT_FALSE(event(1, 0, std::nullopt));
  end("t1", 1, 0, 100);
  EXPECT_THAT(next(), ElementsAre("t1", "0/0@1", "0/0@2"));
  EXPECT_FALSE(event(0, 3, std::nullopt));
}

TEST_F(Assembling, PositionsStopAtTheFirstHeldMessageOfEachPartition) {
  EXPECT_TRUE(event(0, 5, "t1", 0));
  EXPECT_TRUE(event(0, 8, "t2", 1));
  EXPECT_TRUE(event(0, 9, "t2", 0));
  EXPECT_EQ(assembler.firstHeld(0, 0), 5);
  EXPECT_EQ(assembler.firstHeld(0, 1), 8);
  end("t1", 1, 0, 100);
  EXPECT_THAT(next(), ElementsAre("t1", "0/0@5"));
  EXPECT_EQ(assembler.firstHeld(0, 0), 9);
  EXPECT_EQ(assembler.firstHeld(0, 1), 8);
  EXPECT_EQ(assembler.heldEvents(), 2);
  EXPECT_EQ(assembler.heldTransactions(), 1);
}

TEST_F(Assembling, APartitionOutOfCommitOrderStillReleasesWholeTransactions) {
  EXPECT_TRUE(event(0, 0, "t2"));
  EXPECT_TRUE(event(0, 1, "t1"));
  EXPECT_TRUE(event(0, 2, std::nullopt));
  end("t1", 1, 0, 100);
  end("t2", 1, 0, 101);
  EXPECT_THAT(next(), ElementsAre("t1", "0/0@1"));
  EXPECT_EQ(assembler.firstHeld(0, 0), 0);
  EXPECT_THAT(next(), ElementsAre("t2", "0/0@0", "0/0@2"));
  EXPECT_EQ(assembler.heldEvents(), 0);
}

TEST_F(Assembling, MoreEventsThanTheEndCountsIsAnError) {
  EXPECT_TRUE(event(0, 0, "t1"));
  EXPECT_TRUE(event(0, 1, "t1"));
  absl::Status status = assembler.end("t1", {{"public.a", 1}}, 0, 100);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("public.a"));

  TransactionAssembler other{2, {{0, "public.a"}}};
  ASSERT_TRUE(other.end("t9", {{"public.b", 1}}, 0, 5).ok());
  TransactionAssembler::Message message;
  EXPECT_FALSE(other.event(std::move(message), "t9").ok());
}

TEST_F(Assembling, ATransactionSentAgainIsReleasedAgain) {
  // Debezium delivers at least once: after a connector restart, a transaction comes again.
  EXPECT_TRUE(event(0, 0, "t1"));
  end("t1", 1, 0, 100);
  EXPECT_THAT(next(), ElementsAre("t1", "0/0@0"));
  EXPECT_TRUE(event(0, 1, "t1"));
  EXPECT_THAT(next(), ElementsAre());
  end("t1", 1, 0, 101);
  EXPECT_THAT(next(), ElementsAre("t1", "0/0@1"));
}

} // namespace
} // namespace kiln::runtime::detail
