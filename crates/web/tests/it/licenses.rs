//! Electronic licenses through the API: issue, show, verify, revoke, renew.

use crate::common::{TestApp, error_body};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn driving(holder: &str) -> Value {
    json!({
        "type_key": "driving_licence",
        "holder_id": holder,
        "holder_name": "张三",
        "claims": {"name": "张三", "citizen_id": holder, "vehicle_class": "C1", "first_issued": "2015-03-01", "address": "聊城市东昌府区柳园街道"},
        "valid_until": "2031-03-01"
    })
}

const HOLDER: &str = "11010519491231002X";

/// A nonce the verifier `aud` asks the platform for: a presentation made for it verifies once.
async fn nonce(app: &TestApp, token: &str, aud: &str) -> String {
    let v: Value = app
        .post_json(token, "/api/v1/licenses/nonces", json!({"aud": aud}))
        .await;
    v["nonce"].as_str().expect("a nonce").to_owned()
}

#[tokio::test]
async fn issue_show_verify_revoke_and_renew() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    // Refusals name the field.
    let r = app
        .post(&token, "/api/v1/licenses", driving("110105194912310021"))
        .await;
    assert_eq!(error_body(r).await["field"], "holder_id");
    let mut extra = driving(HOLDER);
    extra["claims"]["blood_type"] = json!("A");
    assert_eq!(
        error_body(app.post(&token, "/api/v1/licenses", extra).await).await["field"],
        "claims.blood_type"
    );
    let mut missing = driving(HOLDER);
    missing["claims"]
        .as_object_mut()
        .unwrap()
        .remove("vehicle_class");
    assert_eq!(
        error_body(app.post(&token, "/api/v1/licenses", missing).await).await["field"],
        "claims.vehicle_class"
    );

    let lic: Value = app
        .post_json(&token, "/api/v1/licenses", driving(HOLDER))
        .await;
    let id = lic["id"].as_i64().unwrap();
    let lid = shuju_types::LicenseId::parse(lic["license_id"].as_str().unwrap()).unwrap();
    assert_eq!(lid.version(), 1);
    assert!(lic["sd_jwt"].as_str().unwrap().contains('~'));
    assert_eq!(lic["seal"].as_str().unwrap().len(), 128);
    let list: Value = app.get_json(&token, "/api/v1/licenses").await;
    assert_eq!(
        list["items"][0]["holder_id"], "110105********002X",
        "masked in lists"
    );

    // Show for a matter, to a verifier's nonce: exactly the matter's claims.
    let show_path = format!("/api/v1/licenses/{id}/show");
    let n1 = nonce(&app, &token, "window-yg-01").await;
    let s: Value = app
        .post_json(
            &token,
            &show_path,
            json!({"matter": "vehicle_entry_pass", "aud": "window-yg-01", "nonce": n1}),
        )
        .await;
    assert_eq!(s["claims"], json!(["name", "vehicle_class"]));
    assert!(s["qr_svg"].as_str().unwrap().starts_with("<?xml"));
    let p = s["presentation"].as_str().unwrap().to_owned();
    let decoded: String = p
        .split(['~', '.'])
        .filter_map(|x| shuju_license::jose::unb64(x, "x").ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    assert!(
        !decoded.contains(HOLDER)
            && !decoded.contains("柳园街道")
            && !decoded.contains("2015-03-01"),
        "no other claim value"
    );
    let verify = |p: &str, nonce: &str| {
        app.client
            .post(app.url("/api/v1/licenses/verify"))
            .json(&json!({"presentation": p, "aud": "window-yg-01", "nonce": nonce}))
            .send()
    };
    let v: Value = verify(&p, &n1).await.unwrap().json().await.unwrap();
    assert_eq!(v["valid"], json!(true));
    assert_eq!(v["claims"], json!({"name": "张三", "vehicle_class": "C1"}));
    // A presentation verifies once: its nonce is used up.
    let r = verify(&p, &n1).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        error_body(r).await["message"]
            .as_str()
            .unwrap()
            .contains("used already")
    );
    // A presentation made afresh for each verification.
    let fresh = || async {
        let n = nonce(&app, &token, "window-yg-01").await;
        let s: Value = app
            .post_json(
                &token,
                &show_path,
                json!({"matter": "vehicle_entry_pass", "aud": "window-yg-01", "nonce": n}),
            )
            .await;
        verify(s["presentation"].as_str().unwrap(), &n)
            .await
            .unwrap()
    };
    let r = verify(&p, "nonce-9999").await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        error_body(r).await["message"]
            .as_str()
            .unwrap()
            .contains("nonce")
    );
    // A matter for another license type is refused.
    let r = app.post(&token, &format!("/api/v1/licenses/{id}/show"), json!({"matter": "individual_business_registration", "aud": "w", "nonce": "nonce-0002"})).await;
    assert_eq!(error_body(r).await["field"], "matter");

    // Suspend, reinstate; revoke is final.
    let status_path = format!("/api/v1/licenses/{id}/status");
    let st = |status: &str| {
        app.post(
            &token,
            &status_path,
            json!({"status": status, "reason": "核查"}),
        )
    };
    assert_eq!(st("suspended").await.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = fresh().await;
    assert!(
        error_body(r).await["message"]
            .as_str()
            .unwrap()
            .contains("suspended")
    );
    assert_eq!(st("valid").await.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(fresh().await.status(), StatusCode::OK);

    // Renewal: version 002, linked, the predecessor revoked.
    let renewed: Value = app
        .post_json(
            &token,
            &format!("/api/v1/licenses/{id}/renew"),
            json!({"valid_until": "2037-03-01"}),
        )
        .await;
    let new_id = shuju_types::LicenseId::parse(renewed["license_id"].as_str().unwrap()).unwrap();
    assert_eq!((new_id.version(), new_id.serial()), (2, lid.serial()));
    assert_eq!(renewed["predecessor_id"], json!(id));
    let old: Value = app
        .get_json(&token, &format!("/api/v1/licenses?holder_id={HOLDER}"))
        .await;
    let old = old["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == json!(id))
        .unwrap()
        .clone();
    assert_eq!(old["status"], "revoked");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = fresh().await;
    assert!(
        error_body(r).await["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    assert_eq!(
        st("valid").await.status(),
        StatusCode::CONFLICT,
        "a revocation is never reversed"
    );

    // The status list and trust list are published; the status list verifies with the trust list.
    let token_jwt = app.page(&app.client, "/api/v1/licenses/status/1").await;
    let trust: Value = app
        .client
        .get(app.url("/api/v1/licenses/trust-list"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jws = shuju_license::jose::Jws::decode(&token_jwt, "status").unwrap();
    let kid = jws.header["kid"].as_str().unwrap();
    let key = trust["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap();
    jws.verify(
        &shuju_license::jose::from_jwk(&key["public"]).unwrap(),
        "status",
    )
    .unwrap();
    let list = shuju_license::status::StatusList::decode(
        jws.payload["status_list"]["lst"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(
        list.get(old["status_idx"].as_u64().unwrap() as usize)
            .unwrap(),
        shuju_license::sdjwt::Status::Revoked
    );
    // The offline bundle verifies without the server, and says when it is stale.
    let bundle: Value = app
        .client
        .get(app.url("/api/v1/licenses/bundle"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let s2: Value = app
        .post_json(
            &token,
            &format!("/api/v1/licenses/{}/show", renewed["id"]),
            json!({"matter": "vehicle_entry_pass", "aud": "window-yg-01", "nonce": "nonce-0003"}),
        )
        .await;
    let now = bundle["fetched_at"].as_i64().unwrap();
    let r = shuju_license::bundle::verify_offline(
        &bundle,
        s2["presentation"].as_str().unwrap(),
        "window-yg-01",
        "nonce-0003",
        now,
    )
    .unwrap();
    assert!(!r.stale);
    assert_eq!(r.verified.claims.len(), 2);
    let mut old_bundle = bundle.clone();
    old_bundle["stale_after"] = json!(now - 1);
    let later = shuju_license::bundle::verify_offline(
        &old_bundle,
        s2["presentation"].as_str().unwrap(),
        "window-yg-01",
        "nonce-0003",
        now,
    )
    .unwrap();
    assert!(later.stale, "a bundle past its time to live says so");
    assert!(
        shuju_license::bundle::verify_offline(&bundle, &p, "window-yg-01", &n1, now)
            .unwrap_err()
            .message
            .contains("revoked")
    );
    // Shows are recorded (names, not values) and audited.
    let log: Value = app
        .get_json(
            &app.auditor_token(&token).await,
            "/api/v1/audit?action=license.show&outcome=ok",
        )
        .await;
    assert_eq!(
        log["items"][0]["detail"],
        "vehicle_entry_pass: name,vehicle_class"
    );
}

#[tokio::test]
async fn rotated_keys_stay_trusted_so_old_licenses_verify() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let lic: Value = app
        .post_json(&token, "/api/v1/licenses", driving(HOLDER))
        .await;
    let n_rot = nonce(&app, &token, "w1").await;
    let s: Value = app
        .post_json(
            &token,
            &format!("/api/v1/licenses/{}/show", lic["id"]),
            json!({"matter": "vehicle_entry_pass", "aud": "w1", "nonce": n_rot}),
        )
        .await;
    let other = app.second_registry().await;
    other
        .rotate(&shuju_admin::Caller::system(), "ES256")
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let trust: Value = app
        .client
        .get(app.url("/api/v1/licenses/trust-list"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        trust["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["alg"] == "ES256")
            .count(),
        2
    );
    let r = app
        .client
        .post(app.url("/api/v1/licenses/verify"))
        .json(&json!({"presentation": s["presentation"], "aud": "w1", "nonce": n_rot}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    // New licenses are signed with the new key.
    let lic2: Value = app
        .post_json(&token, "/api/v1/licenses", driving(HOLDER))
        .await;
    let kid = shuju_license::jose::Jws::decode(
        lic2["sd_jwt"].as_str().unwrap().split('~').next().unwrap(),
        "x",
    )
    .unwrap()
    .header["kid"]
        .clone();
    let active = trust["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "ES256" && k["retired_at"].is_null())
        .unwrap()["kid"]
        .clone();
    assert_eq!(kid, active);
}

/// Status list indices are taken a block at a time so a license is signed before its write; two
/// registries on one database (the server and a CLI beside it) never share one, and revoking one
/// license withdraws only it.
#[tokio::test]
async fn two_registries_issue_licenses_with_distinct_status_entries() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let other = app.second_registry().await;
    let mut issued: Vec<Value> = Vec::new();
    for i in 0..6 {
        if i % 2 == 0 {
            issued.push(
                app.post_json(&token, "/api/v1/licenses", driving(HOLDER))
                    .await,
            );
        } else {
            let d = driving(HOLDER);
            let input = shuju_license::registry::IssueInput {
                type_key: "driving_licence".into(),
                holder_id: HOLDER.into(),
                holder_name: "张三".into(),
                claims: d["claims"].as_object().unwrap().clone(),
                valid_from: None,
                valid_until: Some("2031-03-01".into()),
                holder_jwk: None,
            };
            let v = other
                .issue(&shuju_admin::Caller::system(), input, None)
                .await
                .unwrap();
            issued.push(json!({"id": v.row.id, "status_idx": v.row.status_idx, "license_id": v.row.license_id}));
        }
    }
    let idx: std::collections::BTreeSet<u64> = issued
        .iter()
        .map(|l| l["status_idx"].as_u64().unwrap())
        .collect();
    let ids: std::collections::BTreeSet<&str> = issued
        .iter()
        .map(|l| l["license_id"].as_str().unwrap())
        .collect();
    assert_eq!((idx.len(), ids.len()), (6, 6), "{issued:?}");
    let first = &issued[1];
    let r = app
        .post(
            &token,
            &format!("/api/v1/licenses/{}/status", first["id"]),
            json!({"status": "revoked", "reason": "核查"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let token_jwt = app.page(&app.client, "/api/v1/licenses/status/1").await;
    let jws = shuju_license::jose::Jws::decode(&token_jwt, "status").unwrap();
    let list = shuju_license::status::StatusList::decode(
        jws.payload["status_list"]["lst"].as_str().unwrap(),
    )
    .unwrap();
    for l in &issued {
        let i = l["status_idx"].as_u64().unwrap() as usize;
        let expect = if l["id"] == first["id"] {
            shuju_license::sdjwt::Status::Revoked
        } else {
            shuju_license::sdjwt::Status::Valid
        };
        assert_eq!(list.get(i).unwrap(), expect, "{l}");
    }
}

#[tokio::test]
async fn the_registry_show_and_verify_pages() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let lic: Value = app
        .post_json(&token, "/api/v1/licenses", driving(HOLDER))
        .await;
    let id = lic["id"].as_i64().unwrap();
    let (client, _) =
        crate::common::browser_login(&app, "admin", crate::common::ADMIN_PW, "/licenses").await;
    let html = app.page(&client, "/licenses").await;
    assert!(
        html.contains("110105********002X") && !html.contains(HOLDER),
        "the registry masks holders"
    );
    let html = app.page(&client, &format!("/licenses/{id}")).await;
    let csrf = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    // The page carries a nonce the platform issued for its verifier.
    let page_nonce = html
        .split("name=\"nonce\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        !html.contains(HOLDER) && !html.contains("柳园街道"),
        "no claims without a purpose"
    );
    let full = app
        .page(
            &client,
            &format!("/licenses/{id}?purpose=%E6%A0%B8%E6%9F%A5"),
        )
        .await;
    assert!(
        full.contains(HOLDER) && full.contains("柳园街道"),
        "claims for a stated purpose"
    );
    let shown = client
        .post(app.url(&format!("/licenses/{id}/show")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("matter", "vehicle_entry_pass"),
            ("aud", "window-01"),
            ("nonce", page_nonce.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(shown.contains("<svg"), "the show screen has the QR code");
    let presentation = shown
        .split("<textarea readonly rows=\"6\" style=\"width:100%\">")
        .nth(1)
        .unwrap()
        .split("</textarea>")
        .next()
        .unwrap()
        .to_owned();
    let result = client
        .post(app.url("/licenses/verify"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("presentation", presentation.as_str()),
            ("aud", "window-01"),
            ("nonce", page_nonce.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        result.contains("核验通过")
            && result.contains("vehicle_class")
            && !result.contains("citizen_id"),
        "{result}"
    );
    let result = client
        .post(app.url("/licenses/verify"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("presentation", presentation.as_str()),
            ("aud", "window-01"),
            ("nonce", "another-nonce"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(result.contains("nonce"), "{result}");
}

/// Bulk issuing from the lake: every active enterprise of the market registry gets a business
/// licence issued by the department that provides the registry, each marriage registration one
/// marriage certificate per party; issuing again adds nothing; a bulk-issued licence shows and
/// verifies like any other.
#[tokio::test]
async fn licences_are_issued_in_bulk_from_the_lake_once() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let _city = app.gather(150, &["scjg_entities", "mzj_marriages"]).await;
    let count = |sql: &str| {
        let (lake, sql) = (app.lake.clone(), sql.to_owned());
        async move {
            let r = lake
                .sql(&shuju_admin::Caller::system(), &sql, &Default::default(), 1)
                .await
                .unwrap();
            r.rows[0]["n"].as_i64().unwrap()
        }
    };
    let active = count("SELECT COUNT(*) AS n FROM scjg_entities WHERE djzt = '存续'").await;
    let marriages = count("SELECT COUNT(*) AS n FROM mzj_marriages WHERE djlx = '结婚'").await;
    assert!(active > 0 && marriages > 0, "{active} {marriages}");

    let r: Value = app
        .post_json(
            &token,
            "/api/v1/licenses/bulk",
            json!({"type_key": "business_licence"}),
        )
        .await;
    assert_eq!(r["tables"], json!(["scjg_entities"]), "{r}");
    assert_eq!(r["read"], active, "{r}");
    assert_eq!(
        r["issued"].as_i64().unwrap() + r["rejected"].as_array().unwrap().len() as i64,
        active,
        "{r}"
    );
    assert!(r["issued"].as_i64().unwrap() > 0);
    let again: Value = app
        .post_json(
            &token,
            "/api/v1/licenses/bulk",
            json!({"type_key": "business_licence"}),
        )
        .await;
    assert_eq!(
        (&again["issued"], &again["already"]),
        (&json!(0), &r["issued"]),
        "{again}"
    );

    // One of them: the enterprise is the holder, the market registry's department the issuer.
    let code: String = app
        .lake
        .sql(
            &shuju_admin::Caller::system(),
            "SELECT tyshxydm FROM scjg_entities WHERE djzt = '存续' ORDER BY tyshxydm LIMIT 1",
            &Default::default(),
            1,
        )
        .await
        .unwrap()
        .rows[0]["tyshxydm"]
        .as_str()
        .unwrap()
        .to_owned();
    let list: Value = app
        .get_json(&token, &format!("/api/v1/licenses?holder_id={code}"))
        .await;
    let lic = &list["items"][0];
    assert_eq!(lic["type_key"], "business_licence", "{list}");
    assert_eq!(lic["claims"], Value::Null, "lists carry no claims");
    let full: Value = app
        .client
        .get(app.url(&format!("/api/v1/licenses/{}", lic["id"])))
        .bearer_auth(&token)
        .header("x-purpose", "bulk-check")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(full["claims"]["uscc"], code.as_str());
    let resource = app
        .lake
        .spec(&shuju_admin::Caller::system(), "scjg_entities")
        .await
        .unwrap()
        .resource_code;
    let entry = shuju_store::catalog::entry_by_code(app.admin.store(), &resource)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lic["issuer_dept_id"], entry.provider_dept_id);
    // It shows for a matter and verifies.
    let id = lic["id"].as_i64().unwrap();
    let matters: Vec<Value> = app.get_json(&token, "/api/v1/license-matters").await;
    let matter = matters
        .iter()
        .find(|m| m["type_key"] == "business_licence")
        .unwrap();
    let nb = nonce(&app, &token, "https://window.example").await;
    let shown: Value = app
        .post_json(
            &token,
            &format!("/api/v1/licenses/{id}/show"),
            json!({"matter": matter["code"], "aud": "https://window.example", "nonce": nb}),
        )
        .await;
    let v: Value = app
        .post_json(
            &token,
            "/api/v1/licenses/verify",
            json!({"presentation": shown["presentation"], "aud": "https://window.example", "nonce": nb}),
        )
        .await;
    assert_eq!(v["valid"], true, "{v}");

    // Marriage: one certificate per party.
    let m: Value = app
        .post_json(
            &token,
            "/api/v1/licenses/bulk",
            json!({"type_key": "marriage_certificate", "limit": 6}),
        )
        .await;
    assert_eq!(m["issued"], 6, "{m}");
    let m: Value = app
        .post_json(
            &token,
            "/api/v1/licenses/bulk",
            json!({"type_key": "marriage_certificate"}),
        )
        .await;
    assert_eq!(m["already"], 6, "{m}");
    assert_eq!(
        m["issued"].as_i64().unwrap() + 6 + m["rejected"].as_array().unwrap().len() as i64,
        2 * marriages,
        "{m}"
    );
    let r = app
        .post(
            &token,
            "/api/v1/licenses/bulk",
            json!({"type_key": "no_such_type"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

/// The holder's wallet: an account bound to a citizen ID lists exactly that holder's licenses
/// and shows its own, never another's; the registry stays closed to it; an unbound account has
/// no wallet.
#[tokio::test]
async fn a_holder_sees_and_shows_only_their_own_licenses() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mine: Value = app
        .post_json(&admin, "/api/v1/licenses", driving(HOLDER))
        .await;
    let other_holder = "110105194912310118";
    let theirs: Value = app
        .post_json(&admin, "/api/v1/licenses", driving(other_holder))
        .await;
    let roles: Value = app.get_json(&admin, "/api/v1/roles").await;
    let role = roles
        .as_array()
        .or_else(|| roles["items"].as_array())
        .unwrap()
        .iter()
        .find(|r| r["role_key"] == "license_holder")
        .unwrap()["id"]
        .clone();
    let depts: Value = app.get_json(&admin, "/api/v1/departments?size=5").await;
    let dept = depts["items"][0]["id"].clone();
    let mut accounts = Vec::new();
    for name in ["holder_a", "holder_b"] {
        let u: Value = app
            .post_json(
                &admin,
                "/api/v1/users",
                json!({"username": name, "display_name": name, "dept_id": dept, "role_ids": [role],
                       "password": "Holder-Pass-2026!"}),
            )
            .await;
        accounts.push(
            u["id"]
                .as_i64()
                .or_else(|| u["user"]["id"].as_i64())
                .unwrap_or_else(|| panic!("{u}")),
        );
    }
    let r = app
        .put(
            &admin,
            &format!("/api/v1/licenses/holders/{}", accounts[0]),
            json!({"holder_id": "123"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .put(
            &admin,
            &format!("/api/v1/licenses/holders/{}", accounts[0]),
            json!({"holder_id": HOLDER}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let a = app
        .first_login("holder_a", "Holder-Pass-2026!", "Holder-Pass-2027!")
        .await;
    let w: Value = app.get_json(&a, "/api/v1/wallet").await;
    assert_eq!(w["holder_id"], HOLDER);
    let ids: Vec<&Value> = w["licenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["id"])
        .collect();
    assert_eq!(ids, vec![&mine["id"]], "{w}");
    // Shows its own, verified like any other.
    let show = |id: &Value| format!("/api/v1/licenses/{id}/show");
    let nw = nonce(&app, &admin, "https://window.example").await;
    let body = json!({"matter": "MT-DRIVE-01", "aud": "https://window.example", "nonce": nw});
    let matters: Vec<Value> = app.get_json(&a, "/api/v1/license-matters").await;
    let matter = matters
        .iter()
        .find(|m| m["type_key"] == "driving_licence")
        .unwrap()["code"]
        .clone();
    let body = json!({"matter": matter, "aud": body["aud"], "nonce": body["nonce"]});
    let shown: Value = app.post_json(&a, &show(&mine["id"]), body.clone()).await;
    let v: Value = app
        .post_json(
            &a,
            "/api/v1/licenses/verify",
            json!({"presentation": shown["presentation"], "aud": "https://window.example", "nonce": nw}),
        )
        .await;
    assert_eq!(v["valid"], true, "{v}");
    // Never another's; the registry stays closed.
    let r = app.post(&a, &show(&theirs["id"]), body.clone()).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&a, "/api/v1/licenses").await.status(),
        StatusCode::FORBIDDEN
    );
    // An account bound to nobody has no wallet.
    let b = app
        .first_login("holder_b", "Holder-Pass-2026!", "Holder-Pass-2027!")
        .await;
    assert_eq!(
        app.get(&b, "/api/v1/wallet").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&b, &show(&mine["id"]), body).await.status(),
        StatusCode::FORBIDDEN
    );
    // The wallet page, signed in through the form.
    let (browser, _) =
        crate::common::browser_login(&app, "holder_a", "Holder-Pass-2027!", "/wallet").await;
    let page = app.page(&browser, "/wallet").await;
    assert!(
        page.contains(mine["license_id"].as_str().unwrap()),
        "{page}"
    );
    assert!(!page.contains(theirs["license_id"].as_str().unwrap()));
    let home = browser.get(app.url("/")).send().await.unwrap();
    assert!(
        home.status().is_success() || home.status().is_redirection(),
        "{}",
        home.status()
    );
}
