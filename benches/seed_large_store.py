# A store with 1 000 000 participants and 10 000 000 events (1M enrolments,
# 8.6M views, 400k conversions), written straight into SQLite in the schema
# the server migrated, with counters consistent with the rows.
import sqlite3, sys, random, time
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=OFF")
random.seed(7)
t = time.time()
counters = {}
def add(v, m, g, n):
    k = ("homepage_cta", v, m, g); counters[k] = counters.get(k, 0) + n
rows, conv = [], []
for i in range(1_000_000):
    v = "A" if i % 2 == 0 else "B"
    views = 8 + (i % 3)  # 8.6M views in all with the pattern below
    rows.append(("homepage_cta", f"u{i:07d}", v, "browser", views, 1_700_000_000 + i))
    add(v, "participants", "", 1); add(v, "views", "", views); add(v, "unique_views", "", 1)
    if random.random() < (0.10 if v == "A" else 0.11):
        conv.append(("homepage_cta", "conversion", f"u{i:07d}", v, 0, 1_700_000_000 + i))
        add(v, "conversions", "conversion", 1); add(v, "total_conversions", "conversion", 1)
db.executemany("INSERT INTO participants VALUES (?,?,?,?,?,?)", rows)
db.executemany("INSERT INTO conversions VALUES (?,?,?,?,?,?)", conv)
db.executemany("INSERT INTO counters VALUES (?,?,?,?,?) ON CONFLICT DO UPDATE SET value = excluded.value",
               [(*k, n) for k, n in counters.items()])
db.commit()
views = sum(n for k, n in counters.items() if k[2] == "views")
print(f"participants 1000000, views {views}, conversions {len(conv)}, events {1_000_000 + views + len(conv)}; {time.time()-t:.1f}s")
