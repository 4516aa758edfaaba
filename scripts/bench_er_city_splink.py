"""The peer of `shuju bench er`'s two-department row: Splink on DuckDB linking the synthetic city's
household registry (GBK CSV, Chinese headers) and social-insurance file (JSON lines) as delivered,
after the cleaning a competent analyst does first (decode GBK, NFKC, dates as YYYYMMDD, citizen IDs
upper-cased and legacy 15-digit ones widened, sex read from the ID where the file has none), with
the same fields Shuju compares (name, sex, birth date, the citizen ID as written). Pairwise
precision, recall and F1 against the city's truth, over every delivered record. Prints one JSON
line."""
import json, resource, sys, time, unicodedata

t0 = time.time()
import pandas as pd
import splink
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

hukou_path, shebao_path, truth_path = sys.argv[1], sys.argv[2], sys.argv[3]

W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def check_char(first17):
    return CHECK[sum(int(d) * w for d, w in zip(first17, W)) % 11]


def valid(s):
    if len(s) != 18 or not s[:17].isdigit():
        return False
    try:
        pd.Timestamp(f"{s[6:10]}-{s[10:12]}-{s[12:14]}")
    except ValueError:
        return False
    return check_char(s[:17]) == s[17]


def widen(s):
    if len(s) == 15 and s.isdigit():
        w = s[:6] + "19" + s[6:]
        w = w + check_char(w)
        return w if valid(w) else None
    return None


def clean_id(s):
    if s is None or (isinstance(s, float)):
        return None
    s = unicodedata.normalize("NFKC", str(s)).strip().upper()
    return widen(s) or s or None


def lake_key(s):
    # The key the lake keeps a registry row under, as the truth names it.
    if valid(s):
        return s
    w = widen(s)
    return w if w else "!" + s


def sex_of(i):
    if i and len(i) == 18 and i[16].isdigit():
        return "1" if int(i[16]) % 2 else "2"
    return None


hukou = pd.read_csv(hukou_path, dtype=str, encoding="gb18030", keep_default_na=False)
a = pd.DataFrame({
    "rec_id": "gongan_hukou|" + hukou["公民身份号码"].map(lake_key),
    "citizen_id": hukou["公民身份号码"].map(clean_id),
    "name": hukou["姓名"].map(lambda s: unicodedata.normalize("NFKC", s).strip()),
    "sex": hukou["性别"].map({"男": "1", "女": "2"}),
    "birth": hukou["出生日期"].str.replace("-", "", regex=False),
})
rows = [json.loads(l) for l in open(shebao_path, encoding="utf-8") if l.strip()]
sb = pd.DataFrame(rows).drop_duplicates("cbrybh")
ids = sb["sfzh"].map(clean_id)
b = pd.DataFrame({
    "rec_id": "rsj_shebao|" + sb["cbrybh"],
    "citizen_id": ids,
    "name": sb["xm"].map(lambda s: unicodedata.normalize("NFKC", s).strip()),
    "sex": ids.map(sex_of),
    "birth": sb["csrq"].str.replace("-", "", regex=False),
})
a = a.replace("", None)
b = b.replace("", None)

settings = SettingsCreator(
    link_type="link_only",
    unique_id_column_name="rec_id",
    comparisons=[
        cl.JaroWinklerAtThresholds("name", [0.94, 0.85]).configure(term_frequency_adjustments=True),
        cl.ExactMatch("sex"),
        cl.LevenshteinAtThresholds("birth", [1, 2]),
        cl.LevenshteinAtThresholds("citizen_id", [1]),
    ],
    blocking_rules_to_generate_predictions=[
        block_on("citizen_id"),
        block_on("birth"),
        block_on("name", "substr(birth, 1, 4)"),
        block_on("substr(citizen_id, 1, 12)"),
        block_on("substr(citizen_id, 7, 12)"),
    ],
    retain_intermediate_calculation_columns=False,
    retain_matching_columns=False,
)
db_api = DuckDBAPI()
linker = Linker([db_api.register(a, dataset_display_name="a"), db_api.register(b, dataset_display_name="b")], settings, log_level="WARNING")
linker.training.estimate_probability_two_random_records_match([block_on("citizen_id")], recall=0.9)
linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=42)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("citizen_id"))
pred = linker.inference.predict(threshold_match_probability=0.2)
clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.5).as_pandas_dataframe()
secs = time.time() - t0

truth = pd.read_csv(truth_path, dtype=str)
truth = truth[truth["source"].isin(["gongan_hukou", "rsj_shebao"])]
truth["rec_id"] = truth["source"] + "|" + truth["record_key"]
cluster_of = dict(zip(clusters["rec_id"], clusters["cluster_id"]))
truth["cluster"] = truth["rec_id"].map(lambda r: cluster_of.get(r, "alone " + r))


def pairs(groups):
    return sum(n * (n - 1) // 2 for n in groups)


true_pairs = pairs(truth.groupby("person_uid").size())
predicted = pairs(truth.groupby("cluster").size())
correct = pairs(truth.groupby(["cluster", "person_uid"]).size())
p = correct / predicted if predicted else 1.0
r = correct / true_pairs if true_pairs else 1.0
print(json.dumps({
    "secs": secs,
    "records": len(truth),
    "version": splink.__version__,
    "true_pairs": true_pairs,
    "predicted_pairs": predicted,
    "correct_pairs": correct,
    "precision": p,
    "recall": r,
    "f1": 2 * p * r / (p + r) if p + r else 0.0,
    "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
}))
