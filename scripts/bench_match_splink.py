"""The peer of `shuju bench match`: Splink on DuckDB matching single new records against the
registry file — the model trained once on both files, then `predict_between(registry, one
record)` per query.
Prints one JSON line."""
import json, resource, sys, time

import pandas as pd
import splink
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

a_path, b_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
t0 = time.time()


def load(path, nrows=None):
    df = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=nrows)
    df["birth"] = df["birth"].str.replace("-", "", regex=False)
    df["address"] = df["address"].str.normalize("NFKC")
    return df.replace("", None)


db_api = DuckDBAPI()
# Trained on a sample of at most a million records of each file (as Shuju's side is); matched
# against the whole registry.
train_a = db_api.register(load(a_path, nrows=1_000_000), dataset_display_name="registry")
train_b = db_api.register(load(b_path, nrows=1_000_000), dataset_display_name="other")
settings = SettingsCreator(
    link_type="link_only",
    unique_id_column_name="rec_id",
    comparisons=[
        cl.JaroWinklerAtThresholds("name", [0.94, 0.85]),
        cl.ExactMatch("sex"),
        cl.LevenshteinAtThresholds("birth", [1, 2]),
        cl.JaroWinklerAtThresholds("address", [0.92, 0.8]),
        cl.LevenshteinAtThresholds("phone", [1]),
    ],
    blocking_rules_to_generate_predictions=[
        block_on("birth"),
        block_on("name", "address"),
        block_on("phone"),
    ],
    retain_intermediate_calculation_columns=False,
)
# The model a resolution run over both departments trains, as in bench_er_splink.py.
linker = Linker([train_a, train_b], settings, log_level="WARNING")
linker.training.estimate_probability_two_random_records_match([block_on("name", "birth")], recall=0.8)
linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=42)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))
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
