//! The resource catalog through the API, as departments and the bureau use it.

use crate::common::{TestApp, error_body, uscc};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn entry(provider: i64, code: &str, name: &str) -> Value {
    json!({
        "classification": ["基础信息资源", "人口", "户籍人口"],
        "name": name,
        "code": code,
        "provider_dept_id": provider,
        "summary": "全市户籍人口的身份、住址等基本信息",
        "format": {"category": "database", "detail": "PostgreSQL"},
        "items": [
            {"name": "公民身份号码", "column": "sfzh", "data_type": "char", "length": 18, "code_standard": "GB 11643", "sensitivity": "sensitive", "sharing": "conditional", "opening": "not_open"},
            {"name": "姓名", "column": "xm", "data_type": "char", "length": 50, "sensitivity": "sensitive", "sharing": "conditional", "opening": "not_open"}
        ],
        "sharing": {"kind": "conditional", "condition": "用于政务服务身份核验", "methods": ["api"]},
        "opening": "not_open",
        "update_cycle": "daily",
        "library": "base_population",
        "attribute": "base"
    })
}

async fn reviewer_token(app: &TestApp, admin: &str) -> String {
    let bureau = app.dept_id(admin, "聊城市大数据局").await;
    let role = shuju_store::roles::by_key(app.admin.store(), "catalog_reviewer")
        .await
        .unwrap()
        .unwrap()
        .id;
    let r = app.post(admin, "/api/v1/users", json!({"username": "reviewer", "display_name": "审核员", "dept_id": bureau, "role_ids": [role], "password": "Review-Pass-1"})).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    app.first_login("reviewer", "Review-Pass-1", "Review-Pass-2")
        .await
}

#[tokio::test]
async fn each_rule_names_its_field_and_the_fixed_entry_is_published_with_an_audit_trail() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let bureau = app.dept_id(&token, "聊城市大数据局").await;
    let base = entry(bureau, "101001/000001", "户籍人口基本信息");
    let broken: Vec<(&str, Value)> = vec![
        ("sharing.condition", {
            let mut e = base.clone();
            e["sharing"]["condition"] = json!(null);
            e
        }),
        ("sharing.legal_basis", {
            let mut e = base.clone();
            e["sharing"] = json!({"kind": "not_shared"});
            e["items"][0]["sharing"] = json!("not_shared");
            e["items"][1]["sharing"] = json!("not_shared");
            e
        }),
        ("items[1].sharing", {
            let mut e = base.clone();
            e["items"][1]["sharing"] = json!("unconditional");
            e
        }),
        ("secret", {
            let mut e = base.clone();
            e["secret"] = json!(true);
            e
        }),
        ("items[0].sensitivity", {
            let mut e = base.clone();
            e["items"][0]["sensitivity"] = json!("secret");
            e
        }),
        ("related[0]", {
            let mut e = base.clone();
            e["related"] = json!(["101001/009999"]);
            e
        }),
        ("code", {
            let mut e = base.clone();
            e["code"] = json!("101001-1");
            e
        }),
        ("attribute", {
            let mut e = base.clone();
            e["attribute"] = json!("department");
            e
        }),
        ("provider_dept_id", {
            let mut e = base.clone();
            e["provider_dept_id"] = json!(999_999);
            e
        }),
    ];
    for (field, body) in &broken {
        let r = app
            .post(&token, "/api/v1/catalog/entries", body.clone())
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{field}");
        let e = error_body(r).await;
        assert_eq!(e["field"], *field, "{e}");
        assert!(e["message"].as_str().unwrap().starts_with(field), "{e}");
    }
    // Unknown fields in the entry are refused too.
    let mut extra = base.clone();
    extra["colour"] = json!("red");
    assert_eq!(
        app.post(&token, "/api/v1/catalog/entries", extra)
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );

    let created: Value = app
        .post_json(&token, "/api/v1/catalog/entries", base.clone())
        .await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["status"], "draft");
    assert_eq!(created["entry"]["provider_name"], "聊城市大数据局");
    // Codes are unique.
    let r = app
        .post(
            &token,
            "/api/v1/catalog/entries",
            entry(bureau, "101001/000001", "另一个"),
        )
        .await;
    assert_eq!(error_body(r).await["field"], "code");

    let r: Value = app
        .post_json(
            &token,
            &format!("/api/v1/catalog/entries/{id}/submit"),
            json!({}),
        )
        .await;
    assert_eq!(r["status"], "submitted");
    // The reviewer's workbench counts it, linking to the review queue.
    let (browser, _) =
        crate::common::browser_login(&app, "admin", crate::common::ADMIN_PW, "/home").await;
    let home = app.page(&browser, "/home").await;
    assert!(
        home.contains("<div class=\"n\">1</div><div class=\"l\">待审核目录</div>"),
        "{home}"
    );
    // While under review the provider cannot change it.
    assert_eq!(
        app.put(
            &token,
            &format!("/api/v1/catalog/entries/{id}"),
            base.clone()
        )
        .await
        .status(),
        StatusCode::CONFLICT
    );
    let reviewer = reviewer_token(&app, &token).await;
    let r = app
        .post(
            &reviewer,
            &format!("/api/v1/catalog/entries/{id}/return"),
            json!({"reason": " "}),
        )
        .await;
    assert_eq!(error_body(r).await["field"], "reason");
    let r: Value = app
        .post_json(
            &reviewer,
            &format!("/api/v1/catalog/entries/{id}/return"),
            json!({"reason": "请补充共享条件的法律依据"}),
        )
        .await;
    assert_eq!(
        (r["status"].as_str(), r["review_note"].as_str()),
        (Some("draft"), Some("请补充共享条件的法律依据"))
    );
    let r: Value = app.publish(&token, &reviewer, id).await;
    assert_eq!(r["status"], "published");
    assert!(r["entry"]["publish_date"].is_string());
    // Approving twice is a conflict.
    assert_eq!(
        app.post(
            &reviewer,
            &format!("/api/v1/catalog/entries/{id}/approve"),
            json!({})
        )
        .await
        .status(),
        StatusCode::CONFLICT
    );

    let log: Value = app
        .get_json(
            &app.auditor_token(&token).await,
            &format!("/api/v1/audit?object_type=catalog_entry&object_id={id}&size=50"),
        )
        .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "ok")
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "catalog.approve",
            "catalog.submit",
            "catalog.return",
            "catalog.submit",
            "catalog.create"
        ],
        "{log}"
    );
    let refused: Value = app
        .get_json(
            &app.auditor_token(&token).await,
            "/api/v1/audit?action=catalog.create&outcome=rejected&size=50",
        )
        .await;
    assert_eq!(
        refused["total"],
        broken.len() as i64 + 1,
        "every refusal is audited"
    );

    // Change the published entry: the published version stays visible to others until approved.
    let mut changed = base.clone();
    changed["summary"] = json!("修订后的摘要");
    let r: Value = app
        .put_json(&token, &format!("/api/v1/catalog/entries/{id}"), changed)
        .await;
    assert_eq!(
        (r["status"].as_str(), r["published_version"].as_i64()),
        (Some("draft"), Some(2))
    );
    assert_eq!(r["version"], 3);
    let d: Vec<Value> = app
        .get_json(
            &token,
            &format!("/api/v1/catalog/entries/{id}/compare?a=2&b=3"),
        )
        .await;
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["field"], "summary");
    let h: Value = app
        .get_json(&token, &format!("/api/v1/catalog/entries/{id}/history"))
        .await;
    assert_eq!(h["versions"].as_array().unwrap().len(), 3);
    // The CKAN face still shows the published version.
    let p: Value = app
        .client
        .get(app.url(&format!("/api/3/action/package_show?id={id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["result"]["notes"], "全市户籍人口的身份、住址等基本信息");
    // A published entry is taken offline, not deleted.
    assert_eq!(
        app.delete(&token, &format!("/api/v1/catalog/entries/{id}"))
            .await
            .status(),
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn an_officer_sees_and_edits_only_entries_in_their_data_scope() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let city = app.dept_id(&token, "聊城市人民政府").await;
    let mut depts = vec![];
    for (i, name) in ["聊城市公安局", "聊城市民政局"].iter().enumerate() {
        let r: Value = app.post_json(&token, "/api/v1/departments", json!({"parent_id": city, "name": name, "division_code": "371500", "uscc": uscc(20 + i as u32)})).await;
        depts.push(r["id"].as_i64().unwrap());
    }
    let officer_role = shuju_store::roles::by_key(app.admin.store(), "dept_officer")
        .await
        .unwrap()
        .unwrap()
        .id;
    app.post(&token, "/api/v1/users", json!({"username": "police", "display_name": "p", "dept_id": depts[0], "role_ids": [officer_role], "password": "Officer-Pass-1"})).await;
    let t = app
        .first_login("police", "Officer-Pass-1", "Officer-Pass-2")
        .await;
    let mine: Value = app
        .post_json(
            &t,
            "/api/v1/catalog/entries",
            entry(depts[0], "101001/000011", "公安户籍信息"),
        )
        .await;
    let r = app
        .post(
            &t,
            "/api/v1/catalog/entries",
            entry(depts[1], "101001/000012", "民政信息"),
        )
        .await;
    assert_eq!(
        error_body(r).await["field"],
        "provider_dept_id",
        "cannot register for another department"
    );
    let theirs: Value = app
        .post_json(
            &token,
            "/api/v1/catalog/entries",
            entry(depts[1], "101001/000012", "民政救助信息"),
        )
        .await;
    let theirs_id = theirs["id"].as_i64().unwrap();

    let list: Value = app.get_json(&t, "/api/v1/catalog/entries").await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["公安户籍信息"]);
    assert_eq!(
        app.get(&t, &format!("/api/v1/catalog/entries/{theirs_id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "another department's draft is invisible"
    );
    assert_eq!(
        app.put(
            &t,
            &format!("/api/v1/catalog/entries/{theirs_id}"),
            entry(depts[1], "101001/000012", "x")
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    let s: Value = app.get_json(&t, "/api/v1/catalog/search?mine=true").await;
    assert_eq!(s["total"], 1);
    // Once published, the other department's entry is readable (that is what the catalog is for),
    // but still not editable.
    let reviewer = reviewer_token(&app, &token).await;
    app.publish(&token, &reviewer, theirs_id).await;
    assert_eq!(
        app.get(&t, &format!("/api/v1/catalog/entries/{theirs_id}"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.put(
            &t,
            &format!("/api/v1/catalog/entries/{theirs_id}"),
            entry(depts[1], "101001/000012", "x")
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(
            &t,
            &format!("/api/v1/catalog/entries/{theirs_id}/offline"),
            json!({"reason": "x"})
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    // The officer cannot approve their own entry.
    app.post(
        &t,
        &format!("/api/v1/catalog/entries/{}/submit", mine["id"]),
        json!({}),
    )
    .await;
    assert_eq!(
        app.post(
            &t,
            &format!("/api/v1/catalog/entries/{}/approve", mine["id"]),
            json!({})
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );

    // Error correction: the officer reports on the published entry; its provider answers.
    let r: Value = app
        .post_json(
            &t,
            &format!("/api/v1/catalog/entries/{theirs_id}/corrections"),
            json!({"description": "更新周期应为每周"}),
        )
        .await;
    let cid = r["id"].as_i64().unwrap();
    let q: Value = app
        .get_json(
            &token,
            "/api/v1/catalog/corrections?view=to_answer&status=open",
        )
        .await;
    assert_eq!(q["total"], 1);
    assert_eq!(
        app.post(
            &t,
            &format!("/api/v1/catalog/corrections/{cid}/answer"),
            json!({"answer": "x"})
        )
        .await
        .status(),
        StatusCode::NOT_FOUND,
        "only the provider answers"
    );
    let a: Value = app
        .post_json(
            &token,
            &format!("/api/v1/catalog/corrections/{cid}/answer"),
            json!({"answer": "已核实，将于下月调整"}),
        )
        .await;
    assert_eq!(a["status"], "answered");
    let mine_reports: Value = app
        .get_json(&t, "/api/v1/catalog/corrections?view=mine")
        .await;
    assert_eq!(mine_reports["items"][0]["answer"], "已核实，将于下月调整");
}

#[tokio::test]
async fn an_excel_file_with_three_bad_rows_among_a_thousand_is_refused_listing_them() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let providers: Vec<shuju_synth::catalog::Provider> = ["聊城市大数据局"]
        .iter()
        .map(|n| shuju_synth::catalog::Provider {
            id: 2,
            name: (*n).into(),
        })
        .collect();
    let profile = shuju_types::CodingProfile::default();
    let (mut entries, _) = shuju_synth::catalog::generate(400, &providers, 11, &profile);
    for (e, sys) in entries.iter_mut() {
        *sys = None;
        e.related.clear();
    }
    let mut rows = 0;
    let mut keep = Vec::new();
    for mut e in entries {
        let room = 1000 - rows;
        e.0.items.truncate(room);
        rows += e.0.items.len();
        keep.push(e);
        if rows == 1000 {
            break;
        }
    }
    assert_eq!(rows, 1000, "a file of exactly 1,000 rows");
    let bytes = shuju_catalog::excel::write_workbook(&keep).unwrap();
    // Break three rows: a data type, an item shared wider than its resource, and a code.
    let mut wb = umya_like_edit(
        &bytes,
        &[
            (10, 10, "字符串"),
            (500, 9, "9 bad column"),
            (900, 2, "1010/1"),
        ],
    );
    let upload = |bytes: Vec<u8>, partial: bool| {
        let form = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name("c.xlsx"),
            )
            .text("partial", partial.to_string());
        app.client
            .post(app.url("/api/v1/catalog/import"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
    };
    let rep: Value = upload(wb.clone(), false)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rep["rejected"], json!(true), "{rep}");
    assert_eq!(rep["imported"], 0);
    let errs: Vec<(i64, String)> = rep["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert_eq!(
        errs.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec![10, 500, 900]
    );
    assert!(errs[0].1.contains("data_type"), "{errs:?}");
    let list: Value = app.get_json(&token, "/api/v1/catalog/entries").await;
    assert_eq!(list["total"], 0, "nothing imported");
    // Asked for the good rows, everything else is imported.
    let rep: Value = upload(std::mem::take(&mut wb), true)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rep["rejected"], json!(false));
    assert!(rep["imported"].as_i64().unwrap() >= keep.len() as i64 - 3);
    let list: Value = app.get_json(&token, "/api/v1/catalog/entries").await;
    assert_eq!(list["total"], rep["imported"]);
    // Export and template come back as workbooks in the same layout.
    let x = app
        .get(&token, "/api/v1/catalog/export")
        .await
        .bytes()
        .await
        .unwrap();
    assert!(x.starts_with(b"PK"));
    let t = app
        .client
        .get(app.url("/api/v1/catalog/template"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(t.starts_with(b"PK"));
}

/// Rewrite some cells (row is the 1-based Excel row, col the 0-based column) of a workbook made
/// by `write_workbook`, by reading and rewriting it.
fn umya_like_edit(bytes: &[u8], edits: &[(u32, u16, &str)]) -> Vec<u8> {
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    let mut wb: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let mut out = rust_xlsxwriter::Workbook::new();
    let ws = out.add_worksheet();
    for (r, row) in range.rows().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let mut s = match v {
                Data::String(s) => s.clone(),
                Data::Empty => continue,
                other => other.to_string(),
            };
            if let Some((_, _, new)) = edits
                .iter()
                .find(|(er, ec, _)| *er as usize == r + 1 && *ec as usize == c)
            {
                s = (*new).to_owned();
            }
            ws.write_string(r as u32, c as u16, &s).unwrap();
        }
    }
    out.save_to_buffer().unwrap()
}

#[tokio::test]
async fn search_facets_filters_and_the_ckan_face() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let catalog = app.catalog().await;
    let providers: Vec<shuju_synth::catalog::Provider> =
        shuju_store::departments::all(app.admin.store())
            .await
            .unwrap()
            .into_iter()
            .map(|d| shuju_synth::catalog::Provider {
                id: d.id,
                name: d.name,
            })
            .collect();
    let (mut entries, _) = shuju_synth::catalog::generate(300, &providers, 3, catalog.coding());
    entries.iter_mut().for_each(|(_, s)| *s = None);
    let bytes = shuju_catalog::excel::write_workbook(&entries).unwrap();
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("c.xlsx"),
        )
        .text("publish", "true");
    let rep: Value = app
        .client
        .post(app.url("/api/v1/catalog/import"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            rep["imported"].as_i64(),
            rep["errors"].as_array().map(Vec::len)
        ),
        (Some(300), Some(0)),
        "{rep}"
    );

    let s: Value = app
        .get_json(&token, "/api/v1/catalog/search?q=%E4%BA%BA%E5%8F%A3&size=5")
        .await; // 人口
    let total = s["total"].as_i64().unwrap();
    assert!(total > 0, "{s}");
    assert!(s["items"].as_array().unwrap().iter().all(|e| {
        let t = e.to_string();
        t.contains("人口")
    }));
    let expected = entries
        .iter()
        .filter(|(e, _)| {
            e.name.contains("人口")
                || e.summary.contains("人口")
                || e.classification.iter().any(|c| c.contains("人口"))
                || e.items.iter().any(|i| i.name.contains("人口"))
        })
        .count() as i64;
    assert_eq!(total, expected, "every entry mentioning 人口 is found");
    // Facets count the hits; a facet filter narrows them.
    let lib = &s["facets"]["library"][0];
    let narrowed: Value = app
        .get_json(
            &token,
            &format!(
                "/api/v1/catalog/search?q=%E4%BA%BA%E5%8F%A3&library={}",
                lib["value"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(narrowed["total"], lib["count"]);
    // Department subtree filter.
    let city = app.dept_id(&token, "聊城市人民政府").await;
    let all: Value = app
        .get_json(&token, &format!("/api/v1/catalog/search?under={city}"))
        .await;
    assert_eq!(all["total"], 300);

    // CKAN: package_search with q, rows, facets and fq; package_show; organization_list.
    let r: Value = app
        .client
        .post(app.url("/api/3/action/package_search"))
        .json(
            &json!({"q": "人口", "rows": "5", "facet.field": "[\"organization\",\"res_format\"]"}),
        )
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["success"], json!(true));
    assert_eq!(r["result"]["count"].as_i64(), Some(expected));
    assert_eq!(
        r["result"]["results"].as_array().unwrap().len(),
        5.min(expected as usize)
    );
    let org = r["result"]["search_facets"]["organization"]["items"][0].clone();
    let r2: Value = app
        .client
        .get(app.url(&format!(
            "/api/3/action/package_search?q=%E4%BA%BA%E5%8F%A3&fq=organization:{}",
            org["name"].as_str().unwrap()
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r2["result"]["count"], org["count"]);
    let pkg = &r["result"]["results"][0];
    let shown: Value = app
        .client
        .get(app.url(&format!(
            "/api/3/action/package_show?id={}",
            pkg["name"].as_str().unwrap()
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["result"]["id"], pkg["id"]);
    assert!(
        shown["result"]["resources"].as_array().unwrap().len() >= 3,
        "items are resources"
    );
    let orgs: Value = app
        .client
        .get(app.url("/api/action/organization_list?all_fields=true"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        orgs["result"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["title"] == "聊城市大数据局")
    );
    let bad: Value = app
        .client
        .get(app.url("/api/3/action/package_show?id=nope"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (bad["success"].clone(), bad["error"]["__type"].clone()),
        (json!(false), json!("Not Found Error"))
    );
    // DCAT-AP 3.
    let d: Value = app
        .client
        .get(app.url("/api/v1/catalog/dcat"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["@type"], "dcat:Catalog");
    assert_eq!(d["dcat:dataset"].as_array().unwrap().len(), 300);
    assert!(
        d["dcat:dataset"][0]["dct:accrualPeriodicity"]["@id"]
            .as_str()
            .unwrap()
            .starts_with("http://publications.europa.eu/resource/authority/frequency/")
    );
}

#[tokio::test]
async fn information_systems_and_the_cloud_rate() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let bureau = app.dept_id(&token, "聊城市大数据局").await;
    for (name, hosting) in [
        ("政务服务平台", "gov_cloud"),
        ("共享交换平台", "gov_cloud"),
        ("档案系统", "self_hosted"),
    ] {
        let r = app
            .post(
                &token,
                "/api/v1/catalog/systems",
                json!({"name": name, "owner_dept_id": bureau, "hosting": hosting}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = app
        .post(
            &token,
            "/api/v1/catalog/systems",
            json!({"name": "x", "owner_dept_id": bureau, "hosting": "cloud9"}),
        )
        .await;
    assert_eq!(error_body(r).await["field"], "hosting");
    let l: Value = app.get_json(&token, "/api/v1/catalog/systems").await;
    assert_eq!(l["total"], 3);
    let sid = l["items"][0]["id"].as_i64().unwrap();
    let mut e = entry(bureau, "101001/000021", "来自系统的资源");
    e["system_id"] = json!(sid);
    assert_eq!(
        app.post(&token, "/api/v1/catalog/entries", e)
            .await
            .status(),
        StatusCode::OK
    );
    let mut e = entry(bureau, "101001/000022", "x");
    e["system_id"] = json!(999);
    assert_eq!(
        error_body(app.post(&token, "/api/v1/catalog/entries", e).await).await["field"],
        "system_id"
    );
    let (_, _, systems, cloud) = app.catalog().await.figures().await.unwrap();
    assert_eq!((systems, cloud), (3, 2));
}

#[tokio::test]
async fn the_catalog_works_on_postgresql_too() {
    let Some(app) = TestApp::spawn_pg().await else {
        return;
    };
    let token = app.admin_token().await;
    let bureau = app.dept_id(&token, "聊城市大数据局").await;
    let sys: Value = app
        .post_json(
            &token,
            "/api/v1/catalog/systems",
            json!({"name": "人口库", "owner_dept_id": bureau, "hosting": "gov_cloud"}),
        )
        .await;
    let mut e = entry(bureau, "101001/000031", "户籍人口基本信息");
    e["system_id"] = sys["id"].clone();
    let created: Value = app
        .post_json(&token, "/api/v1/catalog/entries", e.clone())
        .await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        error_body(app.post(&token, "/api/v1/catalog/entries", e).await).await["field"],
        "code"
    );
    let r: Value = app.publish(&token, &token, id).await;
    assert_eq!(r["status"], "published");
    let s: Value = app
        .get_json(&token, "/api/v1/catalog/search?q=%E6%88%B7%E7%B1%8D")
        .await; // 户籍
    assert_eq!(s["total"], 1, "{s}");
    let c: Value = app
        .post_json(
            &token,
            &format!("/api/v1/catalog/entries/{id}/corrections"),
            json!({"description": "摘要有误"}),
        )
        .await;
    let a: Value = app
        .post_json(
            &token,
            &format!("/api/v1/catalog/corrections/{}/answer", c["id"]),
            json!({"answer": "已改"}),
        )
        .await;
    assert_eq!(a["status"], "answered");
    let p: Value = app
        .client
        .get(app.url(&format!("/api/3/action/package_show?id={id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["result"]["title"], "户籍人口基本信息");
    let per_system = app.catalog().await.entries_per_system().await.unwrap();
    assert_eq!(per_system.get(&sys["id"].as_i64().unwrap()), Some(&1));
    let report = shuju_store::audit::verify(app.admin.store()).await.unwrap();
    assert!(report.is_whole(), "{:?}", report.broken);
}
