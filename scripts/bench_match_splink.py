"""The peer of `shuju bench match`: Splink on DuckDB matching single new records against the
registry file — the model trained once on a sample of both files (as Shuju's side is), then
`predict_between(registry, one record)` per query. Prints one JSON line."""
import json, resource, sys, time

import splink
from splink import DuckDBAPI, Linker

from splink_common import load, settings, train

a_path, b_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
t0 = time.time()
db_api = DuckDBAPI()
train_a = db_api.register(load(a_path, nrows=1_000_000), dataset_display_name="registry")
train_b = db_api.register(load(b_path, nrows=1_000_000), dataset_display_name="other")
# Term frequencies would need tables registered for every query; the match compares without them.
linker = Linker([train_a, train_b], settings(tf=False), log_level="WARNING")
train(linker)
registry = db_api.register(load(a_path), dataset_display_name="registry_all")
setup = time.time() - t0

queries = load(b_path, nrows=n)
lat = []
for i in range(len(queries)):
    one = queries.iloc[[i]].copy()
    one["rec_id"] = "q_" + one["rec_id"]
    t = time.time()
    q = db_api.register(one)
    linker.inference.predict_between(registry, q, threshold_match_probability=0.2, warning_mode="never").as_pandas_dataframe()
    lat.append((time.time() - t) * 1000)
lat.sort()
pct = lambda p: lat[min(int(len(lat) * p), len(lat) - 1)]
print(json.dumps({
    "version": splink.__version__,
    "queries": len(lat),
    "p50_ms": pct(0.5),
    "p99_ms": pct(0.99),
    "max_ms": lat[-1],
    "setup_secs": setup,
    "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
}))
