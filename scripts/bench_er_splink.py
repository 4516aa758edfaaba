"""The peer of `shuju bench er`: Splink on DuckDB resolving the same two files with the same
comparisons and blocking rules, end to end (read, train, predict, cluster). Prints one JSON line;
writes each record's cluster to the given CSV."""
import json, resource, sys, time

t0 = time.time()
import splink
from splink import DuckDBAPI, Linker

from splink_common import load, settings, train

a_path, b_path, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
db_api = DuckDBAPI()
df_a = db_api.register(load(a_path), dataset_display_name="a")
df_b = db_api.register(load(b_path), dataset_display_name="b")
linker = Linker([df_a, df_b], settings(), log_level="WARNING")
train(linker)
pred = linker.inference.predict(threshold_match_probability=0.2)
clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.5)
df = clusters.as_pandas_dataframe()
secs = time.time() - t0
df[["rec_id", "cluster_id"]].to_csv(out_path, index=False)
print(json.dumps({
    "secs": secs,
    "records": len(df),
    "version": splink.__version__,
    "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
}))
