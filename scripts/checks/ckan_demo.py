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
# The rest of the CKAN 2.10 action set, as the client calls it.
n = action("package_search", "rows=0")
assert n["results"] == [] and n["count"] > 0, n
names = action("package_list")
assert len(names) == n["count"] and len(set(names)) == len(names), (len(names), n["count"])
assert action("package_list", "limit=5", "offset=5") == names[5:10]
print(f"package_list: {len(names)} packages (package_search rows=0 counts {n['count']})")
cur = action("current_package_list_with_resources", "limit=3")
assert len(cur) == 3 and all(c["resources"] for c in cur)
res = action("resource_show", f"id={p['resources'][0]['id']}")
assert res["name"] == p["resources"][0]["name"], res
auto = action("package_autocomplete", "q=人口", "limit=3")
assert 0 < len(auto) <= 3 and all(a["name"] in names for a in auto), auto
org = action("organization_show", f"id={o[0]}", "include_datasets=true")
assert org["name"] == o[0] and (org["package_count"] == len(org["packages"]) or org["package_count"] > 1000), org
groups = action("group_list", "all_fields=true")
g = action("group_show", f"id={groups[0]['name']}")
assert g["title"] == groups[0]["title"]
tags = action("tag_list")
t = action("tag_show", f"id={tags[0]}")
assert t["package_count"] > 0
lic = action("license_list")
assert {x["id"] for x in lic} == {"open", "conditional", "not_open"}
assert action("site_read") is True and action("help_show", "name=package_list")
assert action("organization_list_for_user")
print(f"groups {len(groups)}, tags {len(tags)}, licenses {len(lic)}; organization_show, resource_show, "
      "autocomplete, tag_show, group_show, site_read, help_show answer")
# ckanapi's own bulk dumps walk the whole catalog through package_list/package_show and
# organization_list/organization_show.
import os, tempfile
with tempfile.TemporaryDirectory() as d:
    for kind, want in (("datasets", len(names)), ("organizations", len(o))):
        out = os.path.join(d, f"{kind}.jsonl")
        # ckanapi starts its workers as `ckanapi` from the PATH.
        env = {**os.environ, "PATH": os.path.dirname(ckanapi) + os.pathsep + os.environ.get("PATH", "")}
        subprocess.run([ckanapi, "dump", kind, "--all", "-O", out, "-p", "4", "-r", url, "-a", token],
                       check=True, capture_output=True, env=env)
        got = [json.loads(line) for line in open(out, encoding="utf-8")]
        assert len(got) == want, (kind, len(got), want)
        print(f"ckanapi dump {kind} --all: {len(got)}")
# Search and listing parameters as CKAN documents them.
orgs = action("organization_list", "all_fields=true", "sort=title asc")
assert [x["title"] for x in orgs] == sorted(x["title"] for x in orgs)
assert sum(x["package_count"] for x in orgs) == len(names), (sum(x["package_count"] for x in orgs), len(names))
assert action("organization_list", "limit=3", "offset=2") == o[2:5]
by_name = action("package_search", f"q=name:{p['name']}")
assert p["name"] in [x["name"] for x in by_name["results"]], by_name["count"]
by_title = action("package_search", f"q=title:{p['title']}")
assert p["name"] in [x["name"] for x in by_title["results"]], by_title["count"]
fmt = action("package_search", "rows=0", 'facet.field=["res_format"]')["facets"]["res_format"]
value = next(iter(fmt))
hit = action("package_search", f"fq=res_format:{value}", "rows=5")
assert hit["count"] == fmt[value] and all(r["format"] == value for x in hit["results"] for r in x["resources"]), value
print(f"organization_list sorts, pages and counts; q=name:/title: find; res_format {value!r} filters {hit['count']}")
