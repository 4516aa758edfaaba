"""What both Splink peers share: the cleaning a Splink user does first, and the settings that mirror
Shuju's person comparisons and blocking rules."""
import pandas as pd
import splink.comparison_library as cl
from splink import SettingsCreator, block_on


def load(path, nrows=None):
    # One date format, half-width characters, empty cells as missing.
    df = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=nrows)
    df["birth"] = df["birth"].str.replace("-", "", regex=False)
    df["address"] = df["address"].str.normalize("NFKC")
    return df.replace("", None)


def settings(tf=True):
    name = cl.JaroWinklerAtThresholds("name", [0.94, 0.85])
    if tf:
        name = name.configure(term_frequency_adjustments=True)
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="rec_id",
        comparisons=[
            name,
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


def train(linker):
    # u by random sampling, m by EM on two rules, the prior from a deterministic rule.
    linker.training.estimate_probability_two_random_records_match([block_on("name", "birth")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=42)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))
