"""The demo city as an operator sees it: every source table loaded with rows, rejects and quality;
persons and enterprises resolved, files and checks; a command-line delivery matched while the
server runs. Arguments: base URL, an API token of the admin, the shuju binary, the data dir."""
import json, os, subprocess, sys, time, urllib.request
base, t = sys.argv[1], sys.argv[2]
shuju, data = sys.argv[3], sys.argv[4]
def call(path, body=None, token=None, purpose=None):
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(),
                                 headers={"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {}),
                                          **({"x-purpose": purpose} if purpose else {})})
    return json.load(urllib.request.urlopen(req))
tables = call("/api/v1/lake/tables", token=t)
names = {x["spec"]["name"]: x for x in tables}
want = {"gongan_hukou", "rsj_shebao", "zrzy_budongchan", "gongan_vehicles", "scjg_entities", "cameras",
        "mzj_marriages", "mzj_assistance", "gjj_accounts", "scjg_penalties", "jtj_schools", "shj_air_quality",
        "scjg_shareholders", "scjg_licences", "shj_inspections", "gongan_rentals", "mzj_disability",
        "cgj_cases", "jtys_traffic_flow", "population", "legal_entity"}
assert want <= set(names), sorted(names)
for n in sorted(want):
    x = names[n]
    assert x["rows"] > 0 and x["quality"] is not None, (n, x["rows"], x["quality"])
    print(f"{n:<18} rows {x['rows']:>6}  rejected {x['rejected']:>4}  completeness {x['quality']['completeness_bp']/100:.1f}%")
flagged = call("/api/v1/lake/sql", {"sql": "SELECT count(*) AS n FROM gongan_hukou WHERE _flagged IS NOT NULL"}, t)["rows"][0]["n"]
assert flagged > 0, "the registry's bad check digits are kept, flagged"
print(f"gongan_hukou: {flagged} records kept with a flagged citizen ID")
assert names["population"]["rows"] == names["gongan_hukou"]["rows"]
r = call("/api/v1/lake/sql", {"sql": "SELECT count(*) AS n FROM population WHERE vehicles > 0"}, t)
print(f"persons with a vehicle: {r['rows'][0]['n']}")
runs = call("/api/v1/persons/runs", token=t)
assert runs and runs[0]["entities"] > 0, runs
print(f"resolution run {runs[0]['id']}: {runs[0]['records']} person records -> {runs[0]['entities']} persons")
sfzh = call("/api/v1/lake/sql", {"sql": "SELECT sfzh FROM gongan_hukou WHERE _flagged IS NULL ORDER BY sfzh LIMIT 1"}, t)["rows"][0]["sfzh"]
found = call(f"/api/v1/persons?citizen_id={sfzh}", token=t)
assert len(found) == 1, found
req = urllib.request.Request(base + f"/api/v1/persons/{found[0]['person_id']}/checks/low_income", data=b"{}",
                             headers={"content-type": "application/json", "authorization": f"Bearer {t}", "x-purpose": "demo"})
check = json.load(urllib.request.urlopen(req))
assert len(check["rules"]) == 5, check
runs = call("/api/v1/enterprises/runs", token=t)
assert runs and runs[0]["entities"] > 0, runs
print(f"enterprise run {runs[0]['id']}: {runs[0]['records']} records -> {runs[0]['entities']} enterprises")
code = call("/api/v1/lake/sql", {"sql": "SELECT tyshxydm FROM scjg_entities WHERE _flagged IS NULL AND zch IS NOT NULL AND zch <> '' ORDER BY tyshxydm LIMIT 1"}, t)["rows"][0]["tyshxydm"]
ent = call(f"/api/v1/enterprises/{code}", token=t, purpose="demo")
assert ent["enterprise_id"] == code and any(f["table"] == "scjg_entities" for f in ent["facts"]), ent
print(f"enterprise file {code}: {len(ent['facts'])} facts ({', '.join(sorted({f['kind'] for f in ent['facts']}))}), credit {ent['credit']['level']}")
# E-licenses: business licences issued in bulk from the market registry, and the ones the demo
# city's approved service cases issued (disability certificates and others), every one counted.
kinds, page = {}, 1
while True:
    lic = call(f"/api/v1/licenses?size=500&page={page}", token=t)
    for x in lic["items"]:
        kinds[x["type_key"]] = kinds.get(x["type_key"], 0) + 1
    if not lic["items"] or page * 500 >= lic["total"]:
        break
    page += 1
assert sum(kinds.values()) == lic["total"], (kinds, lic["total"])
assert kinds.get("business_licence", 0) > 0, kinds
assert len(kinds) > 1, f"the approved service cases issued no e-license: {kinds}"
print(f"e-licenses: {lic['total']} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})")
h = call("/api/v1/exchange/usage?days=30", token=t)
assert h["sharing"] and all(r["catalogued"] >= r["shared"] >= 0 for r in h["sharing"]), h
print(f"sharing dashboard: {len(h['sharing'])} providing departments, {sum(r['shared'] for r in h['sharing'])} of {sum(r['catalogued'] for r in h['sharing'])} entries shared")
print(f"low-income check of {found[0]['person_id']}: {'yes' if check['passed'] else 'no'} — " + "; ".join(f"{r['rule']} {'✓' if r['pass'] else '✗'}" for r in check["rules"]))
# A late delivery through the command line while the server runs: matched to the person as it lands.
person = call("/api/v1/lake/sql", {"sql": f"SELECT xm, csrq FROM gongan_hukou WHERE sfzh = '{sfzh}'"}, t)["rows"][0]
late = os.path.join(data, "late_shebao.jsonl")
with open(late, "w") as f:
    f.write(json.dumps({"cbrybh": "SB-CLI-1", "sfzh": sfzh, "xm": person["xm"], "csrq": person["csrq"], "xzlx": "110",
                        "jfjs": 4000, "cbzt": "1", "gxsj": "2026-11-01T08:00:00+08:00"}, ensure_ascii=False) + "\n")
code = names["rsj_shebao"]["spec"]["resource_code"]
subprocess.run([shuju, "ingest", "--data-dir", data, "--resource", code, late], check=True, capture_output=True)
pid = found[0]["person_id"]
for _ in range(90):
    time.sleep(1)
    req = urllib.request.Request(base + f"/api/v1/persons/{pid}", headers={"authorization": f"Bearer {t}", "x-purpose": "demo"})
    if any(x["record_key"] == "SB-CLI-1" for x in json.load(urllib.request.urlopen(req))["facts"]):
        print(f"a command-line delivery joined {pid} while the server ran")
        break
else:
    raise SystemExit("a command-line delivery was not matched while the server ran")
