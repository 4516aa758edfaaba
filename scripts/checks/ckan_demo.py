"""The real `ckanapi` client against the demo city, with an API token (the catalog is not
published to anonymous callers unless the open-data setting says so). Arguments: the ckanapi
executable, the base URL, the token."""
import json
import subprocess
import sys

ckanapi, url, token = sys.argv[1:4]


def action(*args):
    out = subprocess.run([ckanapi, "action", *args, "-r", url, "-a", token], check=True, capture_output=True)
    return json.loads(out.stdout)


r = action("package_search", "q=人口", "rows=5")
assert r["count"] > 0 and 0 < len(r["results"]) <= 5, r["count"]
assert all("人口" in json.dumps(p, ensure_ascii=False) for p in r["results"])
print(f"package_search q=人口 rows=5: {r['count']} matches, first: {r['results'][0]['title']}")
p = action("package_show", f"id={r['results'][0]['name']}")
assert p["resources"] and all(x["name"] for x in p["resources"]), p
print(f"package_show {p['name']}: {p['title']} with {len(p['resources'])} items as resources")
o = action("organization_list")
assert len(o) > 10, o
print(f"organization_list: {len(o)} departments")
anonymous = subprocess.run([ckanapi, "action", "package_search", "-r", url], capture_output=True)
assert anonymous.returncode != 0, "the catalog answered an anonymous caller with open_data off"
print("an anonymous caller is refused (open_data is off by default)")
