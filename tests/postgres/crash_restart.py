"""Kills a program streaming from PostgreSQL (logical replication) with SIGKILL at random
moments while a writer changes the upstream tables, restarts it from its checkpoints each time,
and checks that the sink of the run that finally catches up (--stop-at-end) sums to
PostgreSQL's view of the model: nothing lost, nothing applied twice.

  crash_restart.py --prog PATH --work DIR [--kills N] [--transactions N] [--seed S] [--kafka]

The sink is a file, or with --kafka a Kafka topic (KAFKA_BROKERS, tests/kafka/with-mock.sh) written
in one transaction per tick, read back by kcat with isolation.level=read_committed; checkpoints
are then taken every third tick, so that restarts replay ticks that were already delivered.
Needs PG_URL (tests/postgres/with-postgres.sh) and a program built from replication.test's
project (tables public.customers and shop.orders, sink revenue). Prints one summary line.
"""
import argparse, collections, json, os, random, signal, subprocess, sys, threading, time
from decimal import Decimal

parser = argparse.ArgumentParser()
parser.add_argument("--prog", required=True)
parser.add_argument("--work", required=True)
parser.add_argument("--kills", type=int, default=5)
parser.add_argument("--transactions", type=int, default=300)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--kafka", action="store_true")
args = parser.parse_args()
url = os.environ["PG_URL"]
random.seed(args.seed)

def sql(text):
    # A server busy with the connections of killed programs may refuse one for a moment: psql
    # then exits with 2 before running anything, and the statement is tried again.
    for attempt in range(50):
        run = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", text],
                             capture_output=True, text=True)
        if run.returncode == 0:
            return run.stdout
        if run.returncode != 2 or "connection to server" not in run.stderr:
            break
        time.sleep(0.2)
    raise RuntimeError(f"psql failed ({run.returncode}): {run.stderr}")

sql("""drop schema if exists shop cascade; drop table if exists customers;
       select pg_drop_replication_slot(slot_name) from pg_replication_slots where not active;
       drop publication if exists kiln_pgrep;
       create schema shop;
       create table customers (id int primary key, region text, tags text[]);
       create table shop.orders (customer_id int, amount numeric(10,2));
       alter table shop.orders replica identity full;
       insert into customers select i, (array['eu','us','apac'])[1 + i % 3] from generate_series(1, 8) i;
       insert into shop.orders select 1 + i % 8, i * 1.25 from generate_series(1, 20) i;""")

def writer():
    rng = random.Random(args.seed + 1)
    for _ in range(args.transactions):
        statements = [f"insert into shop.orders values ({rng.randint(1, 8)}, {rng.randint(1, 5000) / 100})"]
        if rng.random() < 0.3:
            statements.append(f"update customers set region = '{rng.choice(['eu', 'us', 'apac'])}' "
                              f"where id = {rng.randint(1, 8)}")
        if rng.random() < 0.3:
            statements.append("delete from shop.orders where ctid = "
                              "(select ctid from shop.orders order by amount limit 1)")
        sql("begin; " + "; ".join(statements) + "; commit;")
        time.sleep(rng.random() * 0.02)

os.makedirs(args.work, exist_ok=True)
os.chdir(args.work)
for name in ("out.jsonl", "stderr"):
    if os.path.exists(name):
        os.remove(name)
subprocess.run(["rm", "-rf", "ck"], check=True)
if args.kafka:
    topic = f"revenue-{args.seed}-{time.time_ns()}"
    command = [args.prog, "--checkpoint-dir", "ck", "--checkpoint-every", "3",
               "--sink", f"revenue=kafka://{os.environ['KAFKA_BROKERS']}/{topic}"]
else:
    command = [args.prog, "--checkpoint-dir", "ck", "--checkpoint-every", "1",
               "--sink", "revenue=file:out.jsonl"]
thread = threading.Thread(target=writer)
thread.start()
kills = starts = 0
with open("stderr", "a") as err:
    while kills < args.kills:
        prog = subprocess.Popen(command, stderr=err)
        starts += 1
        time.sleep(0.3 + random.random() * 1.5)
        if prog.poll() is None:
            prog.send_signal(signal.SIGKILL)
            kills += 1
        prog.wait()
    thread.join()
    final = subprocess.run(command + ["--stop-at-end"], stderr=err)
if final.returncode != 0:
    print("crash_restart: the final run failed:", open("stderr").read()[-2000:])
    sys.exit(1)

if args.kafka:
    with open("out.jsonl", "w") as out:
        subprocess.run(["kcat", "-b", os.environ["KAFKA_BROKERS"], "-X", "isolation.level=read_committed",
                        "-C", "-t", topic, "-e", "-q", "-f", "%s\n"], stdout=out, check=True)
state = collections.Counter()
for line in open("out.jsonl"):
    change = json.loads(line, parse_float=Decimal)
    row = change["row"]
    state[(row["region"], row["orders"], Decimal(row["revenue"]))] += change["weight"]
got = {row: n for row, n in state.items() if n != 0}
expected = {}
for line in sql("""select c.region, count(*), sum(o.amount) from customers c
                   join shop.orders o on o.customer_id = c.id
                   where not coalesce('vip' = any(c.tags), false) group by c.region""").splitlines():
    region, count, total = line.split("|")
    expected[(region, int(count), Decimal(total))] = 1
if got != expected:
    print(f"crash_restart: the sink holds {sorted(got)} but PostgreSQL {sorted(expected)}")
    sys.exit(1)
sink = "Kafka sink" if args.kafka else "sink"
print(f"crash_restart: {kills} kills ({starts} starts) during {args.transactions} upstream "
      f"transactions: the {sink} equals PostgreSQL's view")
