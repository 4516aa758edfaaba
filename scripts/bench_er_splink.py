"""The peer of `shuju bench er`: Splink on DuckDB resolving the same two files with the same
comparisons and blocking rules, end to end (read, train, predict, cluster). Prints one JSON line;
writes each record's cluster to the given CSV."""
import json, resource, sys, time

t0 = time.time()
import pandas as pd
import splink
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

a_path, b_path, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
db_api = DuckDBAPI()


def load(path):
    # The cleaning a Splink user does first: one date format, half-width characters.
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df["birth"] = df["birth"].str.replace("-", "", regex=False)
    df["address"] = df["address"].str.normalize("NFKC")
    return df.replace("", None)


df_a = db_api.register(load(a_path), dataset_display_name="a")
df_b = db_api.register(load(b_path), dataset_display_name="b")
settings = SettingsCreator(
    link_type="link_only",
    unique_id_column_name="rec_id",
    comparisons=[
        cl.JaroWinklerAtThresholds("name", [0.94, 0.85]).configure(term_frequency_adjustments=True),
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
    retain_matching_columns=False,
)
linker = Linker([df_a, df_b], settings, log_level="WARNING")
linker.training.estimate_probability_two_random_records_match(
    [block_on("name", "birth")], recall=0.8
)
linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=42)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))
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
