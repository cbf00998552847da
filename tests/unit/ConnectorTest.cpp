// Connector addresses (runtime/lib/Connector.h, Postgres.h): what --source, --sink and a
// project's connectors name, and the env_var() calls the executable expands.
#include <cstdlib>

#include "Connector.h"
#include "Postgres.h"
#include "gtest/gtest.h"

namespace kiln::runtime::detail {
namespace {

TEST(ConnectorAddress, SourcesAreFilesOrKafkaTopicsWithAFormat) {
  absl::StatusOr<SourceAddress> file = parseSourceAddress("file:data/orders.jsonl");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->input, "data/orders.jsonl");
  EXPECT_FALSE(file->format.has_value());

  absl::StatusOr<SourceAddress> kafka =
      parseSourceAddress("kafka://b1:9092,b2:9092/shop.orders?format=debezium");
  ASSERT_TRUE(kafka.ok());
  EXPECT_EQ(kafka->input, "kafka://b1:9092,b2:9092/shop.orders");
  EXPECT_EQ(kafka->format, SourceFormat::Debezium);

  // A `?` that does not start settings belongs to the file's name.
  absl::StatusOr<SourceAddress> odd = parseSourceAddress("what?.jsonl");
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->input, "what?.jsonl");

  EXPECT_FALSE(parseSourceAddress("kafka://b:9092/t?format=avro").ok());
  EXPECT_FALSE(parseSourceAddress("kafka://b:9092/t?key=id").ok());
  EXPECT_FALSE(parseSourceAddress("kafka://nohost").ok());
}

TEST(ConnectorAddress, DebeziumSourcesNameTheirTransactionTopic) {
  absl::StatusOr<SourceAddress> kafka = parseSourceAddress(
      "kafka://b:9092/pg.public.orders?format=debezium&transactions=pg.transaction");
  ASSERT_TRUE(kafka.ok());
  EXPECT_EQ(kafka->input, "kafka://b:9092/pg.public.orders");
  EXPECT_EQ(kafka->transactions, "pg.transaction");
  // (The format may come from --format.)
  EXPECT_TRUE(parseSourceAddress("kafka://b:9092/t?transactions=pg.transaction").ok());
  EXPECT_FALSE(parseSourceAddress("kafka://b:9092/t?format=upsert&transactions=x").ok());
  EXPECT_FALSE(parseSourceAddress("file:t.jsonl?transactions=x").ok());
  EXPECT_FALSE(parseSinkTarget("kafka://b:9092/t?transactions=x").ok());
}

TEST(ConnectorAddress, SinksTakeAFormatAndKeyColumns) {
  absl::StatusOr<SinkTarget> kafka =
      parseSinkTarget("kafka://b:9092/revenue?format=upsert&key=region,day");
  ASSERT_TRUE(kafka.ok());
  EXPECT_EQ(kafka->kind, SinkTarget::Kind::Kafka);
  EXPECT_EQ(kafka->brokers, "b:9092");
  EXPECT_EQ(kafka->topic, "revenue");
  EXPECT_EQ(kafka->format, SinkTarget::Format::Upsert);
  EXPECT_EQ(kafka->key, (std::vector<std::string>{"region", "day"}));
  EXPECT_EQ(kafka->describe(), "kafka://b:9092/revenue?format=upsert&key=region,day");

  absl::StatusOr<SinkTarget> csv = parseSinkTarget("csv:out/revenue.csv");
  ASSERT_TRUE(csv.ok());
  EXPECT_EQ(csv->kind, SinkTarget::Kind::File);
  EXPECT_EQ(csv->format, SinkTarget::Format::Csv);
  EXPECT_EQ(csv->path, "out/revenue.csv");

  EXPECT_EQ(parseSinkTarget("stdout")->kind, SinkTarget::Kind::Stdout);
  EXPECT_FALSE(parseSinkTarget("file:").ok());
  EXPECT_FALSE(parseSinkTarget("s3://bucket").ok());
  EXPECT_FALSE(parseSinkTarget("file:x?format=parquet").ok());
}

TEST(ConnectorAddress, EnvVarsExpandWithTheirDefaults) {
  ::setenv("KILN_TEST_BROKERS", "k1:9092", 1);
  ::unsetenv("KILN_TEST_UNSET");
  EXPECT_EQ(*expandEnvVars("kafka://{{ env_var('KILN_TEST_BROKERS') }}/t"), "kafka://k1:9092/t");
  EXPECT_EQ(*expandEnvVars("kafka://{{env_var(\"KILN_TEST_UNSET\", 'localhost:9092')}}/t"),
            "kafka://localhost:9092/t");
  absl::StatusOr<std::string> unset = expandEnvVars("{{ env_var('KILN_TEST_UNSET') }}");
  ASSERT_FALSE(unset.ok());
  EXPECT_EQ(unset.status().message(),
            "environment variable KILN_TEST_UNSET is not set, and its env_var() has no default");
  EXPECT_FALSE(expandEnvVars("{{ var('x') }}").ok());
  EXPECT_FALSE(expandEnvVars("{{ env_var('X'").ok());
  EXPECT_EQ(*expandEnvVars("no templates"), "no templates");
}

TEST(PostgresAddress, KilnsSettingsLeaveTheConninfo) {
  std::optional<PostgresAddress> address = parsePostgresAddress(
      "postgres://app@db:5432/shop?sslmode=require&table=public.orders&slot=s1&publication=p");
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(address->conninfo, "postgres://app@db:5432/shop?sslmode=require");
  EXPECT_EQ(address->table, "public.orders");
  EXPECT_EQ(address->slot, "s1");
  EXPECT_EQ(address->publication, "p");
  EXPECT_FALSE(parsePostgresAddress("kafka://b/t").has_value());
}

TEST(PostgresAddress, PasswordsStayOutOfMessagesAndCheckpoints) {
  EXPECT_EQ(withoutPassword("postgres://app:s3cret@db:5432/shop?table=t"),
            "postgres://app@db:5432/shop?table=t");
  EXPECT_EQ(withoutPassword("postgresql://db/shop?password=x&sslmode=require&table=t"),
            "postgresql://db/shop?sslmode=require&table=t");
  EXPECT_EQ(withoutPassword("postgres://db/shop?sslmode=require&password=x"),
            "postgres://db/shop?sslmode=require");
  EXPECT_EQ(withoutPassword("kafka://a:b@c/t"), "kafka://a:b@c/t");
}

TEST(PostgresAddress, LsnsRoundTrip) {
  EXPECT_EQ(parseLsn("0/16B3748"), 0x16B3748u);
  EXPECT_EQ(parseLsn("1A/FF"), (uint64_t{0x1A} << 32) | 0xFF);
  EXPECT_EQ(formatLsn(uint64_t{0x1A} << 32 | 0x16B3748), "1A/16B3748");
  EXPECT_FALSE(parseLsn("16B3748").has_value());
  EXPECT_FALSE(parseLsn("0/XYZ").has_value());
}

} // namespace
} // namespace kiln::runtime::detail
