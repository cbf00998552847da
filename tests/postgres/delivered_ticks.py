"""delivered-ticks.test's steps, beside PostgreSQL (PG_URL) and the mock cluster (KAFKA_BROKERS).

  delivered_ticks.py WORK MOCK
"""
import json, os, shutil, subprocess, sys

work, mock = sys.argv[1], sys.argv[2]
os.chdir(work)
url, brokers = os.environ["PG_URL"], os.environ["KAFKA_BROKERS"]

def sql(text):
    return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", text],
                          check=True, capture_output=True, text=True).stdout.strip()

def transaction(n):
    sql(f"begin; insert into shop.orders values ({1 + n % 8}, {n}.25); "
        f"update customers set region = 'r{n % 4}' where id = {1 + n % 5}; commit;")

def run(*args):
    with open("stderr", "a") as err:
        subprocess.run(["./prog", "--stop-at-end", *args], check=True, stderr=err)

def messages(topic):
    out = subprocess.run(["kcat", "-b", brokers, "-C", "-t", topic, "-e", "-q", "-f", "%s\n"],
                         check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]

def ticks(topic):
    return sorted({m["tick"] for m in messages(topic)})

sql("""create schema shop;
       create table customers (id int primary key, region text, tags text[]);
       create table shop.orders (customer_id int, amount numeric(10,2));
       alter table shop.orders replica identity full;
       insert into customers select i, 'r' || i % 3 from generate_series(1, 8) i;
       insert into shop.orders select 1 + i % 8, i * 1.25 from generate_series(1, 20) i;""")
# Run 1: the snapshot (tick 1), then, resumed, 6 transactions, checkpointed at its end (tick 7).
run("--checkpoint-dir", "ck", "--sink", f"revenue=kafka://{brokers}/run")
for n in range(6):
    transaction(n)
run("--checkpoint-dir", "ck", "--sink", f"revenue=kafka://{brokers}/run")
print("run 1 wrote ticks", ticks("run"))
# Six more transactions (ticks 8-13); after the third of them (tick 10), the WAL position is past
# its commit and before the next one's (the insert position: the write position may lag).
for n in range(6, 12):
    transaction(n)
    if n == 8:
        delivered = sql("select pg_current_wal_insert_lsn()")
high, low = delivered.split("/")
# A reference: the same checkpoint resumed under another transactional id, whose group holds
# nothing, writes ticks 8-13.
shutil.copytree("ck", "ck-ref")
run("--checkpoint-dir", "ck-ref", "--kafka-transactional-id", "reference",
    "--sink", f"revenue=kafka://{brokers}/ref")
# As a broker would hold after tick 10's transaction of a run killed before its next checkpoint.
subprocess.run([mock, "--commit", brokers, "kiln-pgrep", "run", "0",
                str(int(high, 16) << 32 | int(low, 16))], check=True)
before = len(messages("run"))
run("--checkpoint-dir", "ck", "--sink", f"revenue=kafka://{brokers}/run")
sys.stdout.write("".join(l for l in open("stderr") if "Kafka transaction holds" in l).replace(os.path.abspath("prog"), "prog").replace("./prog", "prog"))
resumed = messages("run")[before:]
print("the resumed run wrote ticks", sorted({m["tick"] for m in resumed}))
expected = [m for m in messages("ref") if m["tick"] > 10]
key = lambda m: json.dumps(m, sort_keys=True)
if sorted(map(key, resumed)) != sorted(map(key, expected)):
    print("the resumed run's messages differ from the reference run's after tick 10:")
    print(" resumed:", sorted(map(key, resumed)))
    print(" reference:", sorted(map(key, expected)))
    sys.exit(1)
print("its messages equal the reference run's after tick 10:", len(expected))
