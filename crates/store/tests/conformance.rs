//! The storage conformance suite: every case runs on SQLite and on PostgreSQL.

use shuju_store::audit::{self, AuditEntry, AuditFilter, Outcome};
use shuju_store::departments::{self, DepartmentFields, DepartmentFilter};
use shuju_store::dicts::{self, DictItemFields, DictTypeFields};
use shuju_store::roles::{self, RoleFields};
use shuju_store::sessions::{self, NewApiToken, Session};
use shuju_store::users::{self, UserFields, UserFilter};
use shuju_store::{Migrate, Page, Store, divisions, fmt_time, login_log, testing};
use shuju_types::ErrorCode;

/// Run each case on both backends.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let db = shuju_store::testing::sqlite();
                    super::$case(db.open().await, &db.url).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(db) = shuju_store::testing::postgres().await else { return };
                    super::$case(db.open().await, &db.url).await;
                }
            )*
        }
    };
}

conformance!(
    migrations_are_idempotent_and_newer_schemas_refused,
    departments_crud_soft_delete_and_unique_uscc,
    users_roles_and_permissions,
    dictionaries,
    sessions_and_tokens_expire_and_revoke,
    audit_chain_verifies_and_detects_edits,
    audit_chain_detects_deleted_and_reordered_records,
    audit_list_filters_and_pages,
    dropped_transaction_leaves_nothing,
    login_log_and_divisions,
    lake_tables_jobs_and_quality,
    outbox_events_and_cursors,
    rule_sets_keep_every_version,
    identity_runs_links_reviews_and_decisions,
    catalog_entries_versions_events_and_systems,
    exchange_requests_grants_and_projects,
    gateway_calls_usage_and_subscriptions,
    license_types_licenses_keys_and_holders,
    service_notices_queue_claim_and_settle,
);

fn dept(name: &str, parent: Option<i64>, uscc: Option<&str>) -> DepartmentFields {
    DepartmentFields {
        parent_id: parent,
        name: name.into(),
        division_code: "371500".into(),
        uscc: uscc.map(Into::into),
        status: "active".into(),
        ..Default::default()
    }
}

fn entry(action: &str, object_id: &str) -> AuditEntry {
    AuditEntry {
        actor: "tester".into(),
        action: action.into(),
        object_type: "thing".into(),
        object_id: Some(object_id.into()),
        ..Default::default()
    }
}

async fn migrations_are_idempotent_and_newer_schemas_refused(store: Store, url: &str) {
    let v = store.schema_version().await.unwrap();
    assert_eq!(v, store.known_schema_version());
    store.close().await;
    // Opening again applies nothing new.
    let again = Store::open(url, Migrate::Apply).await.unwrap();
    assert_eq!(again.schema_version().await.unwrap(), v);
    // A schema from the future is refused, and the database is left alone.
    let checksum = match again.backend() {
        shuju_store::Backend::Sqlite => "X'00'",
        shuju_store::Backend::Postgres => "decode('00', 'hex')",
    };
    sqlx::query(&format!("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99990101, 'from the future', TRUE, {checksum}, 1)"))
        .execute(again.pool())
        .await
        .unwrap();
    again.close().await;
    let err = Store::open(url, Migrate::Apply).await.unwrap_err();
    assert!(
        err.message.contains("newer version of Shuju"),
        "{}",
        err.message
    );
}

async fn departments_crud_soft_delete_and_unique_uscc(store: Store, _: &str) {
    let mut tx = store.write().await.unwrap();
    let root = departments::insert(
        &mut tx,
        &dept("聊城市人民政府", None, Some("11371500004353001X")),
        "t",
    )
    .await
    .unwrap();
    let child = departments::insert(&mut tx, &dept("聊城市大数据局", Some(root), None), "t")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let d = departments::get(&store, child).await.unwrap().unwrap();
    assert_eq!(d.parent_id, Some(root));
    assert_eq!(d.name, "聊城市大数据局");
    assert_eq!(d.created_by, "t");

    let mut tx = store.write().await.unwrap();
    let mut f = dept("聊城市大数据局（改）", Some(root), None);
    f.leader = Some("王局".into());
    assert_eq!(
        departments::update(&mut tx, child, &f, "u").await.unwrap(),
        1
    );
    tx.commit().await.unwrap();
    let d = departments::get(&store, child).await.unwrap().unwrap();
    assert_eq!(d.leader.as_deref(), Some("王局"));
    assert_eq!(d.updated_by, "u");

    // The same USCC twice is a conflict.
    let mut tx = store.write().await.unwrap();
    let err = departments::insert(
        &mut tx,
        &dept("重复", None, Some("11371500004353001X")),
        "t",
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    drop(tx);

    let page = departments::list(
        &store,
        &DepartmentFilter {
            name: Some("大数据".into()),
            ..Default::default()
        },
        Page::default(),
    )
    .await
    .unwrap();
    assert_eq!(page.total, 1);
    let only = departments::list(
        &store,
        &DepartmentFilter {
            ids: Some(vec![root]),
            ..Default::default()
        },
        Page::default(),
    )
    .await
    .unwrap();
    assert_eq!(only.items.len(), 1);
    assert_eq!(departments::dependants(&store, root).await.unwrap(), (1, 0));

    let mut tx = store.write().await.unwrap();
    assert_eq!(
        departments::soft_delete(&mut tx, child, "t").await.unwrap(),
        1
    );
    tx.commit().await.unwrap();
    assert!(departments::get(&store, child).await.unwrap().is_none());
    assert_eq!(departments::all(&store).await.unwrap().len(), 1);
    // The row is still there, marked deleted.
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM departments WHERE deleted_at IS NOT NULL")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(n, 1);
}

async fn users_roles_and_permissions(store: Store, _: &str) {
    let mut tx = store.write().await.unwrap();
    let a = departments::insert(&mut tx, &dept("A", None, None), "t")
        .await
        .unwrap();
    let b = departments::insert(&mut tx, &dept("B", None, None), "t")
        .await
        .unwrap();
    let role = roles::insert(
        &mut tx,
        &RoleFields {
            role_key: "officer".into(),
            name: "Officer".into(),
            data_scope: "custom".into(),
            status: "active".into(),
            permissions: vec![
                "system:user:list".into(),
                "system:user:list".into(),
                "system:dept:*".into(),
            ],
            dept_ids: vec![b, a],
            ..Default::default()
        },
        "t",
    )
    .await
    .unwrap();
    let fields = |u: &str, d: i64| UserFields {
        username: u.into(),
        display_name: u.into(),
        dept_id: d,
        status: "active".into(),
        phone: Some("13800000000".into()),
        ..Default::default()
    };
    let u1 = users::insert(&mut tx, &fields("alice", a), "hash1", true, "t")
        .await
        .unwrap();
    let u2 = users::insert(&mut tx, &fields("bob", b), "hash2", false, "t")
        .await
        .unwrap();
    users::set_roles(&mut tx, u1, &[role]).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(
        roles::permissions(&store, role).await.unwrap(),
        vec!["system:dept:*", "system:user:list"]
    );
    assert_eq!(roles::departments(&store, role).await.unwrap(), vec![a, b]);
    assert_eq!(roles::of_user(&store, u1).await.unwrap().len(), 1);
    assert!(roles::of_user(&store, u2).await.unwrap().is_empty());
    let alice = users::by_username(&store, "alice").await.unwrap().unwrap();
    assert_eq!(alice.must_change_password, 1);
    assert_eq!(alice.password_hash, "hash1");

    // Username unique among live users.
    let mut tx = store.write().await.unwrap();
    assert_eq!(
        users::insert(&mut tx, &fields("alice", b), "h", false, "t")
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    drop(tx);

    // Scope filter: users of A, or the caller themself.
    let f = UserFilter {
        dept_ids: Some(vec![a]),
        ..Default::default()
    };
    let p = users::list(&store, &f, Page::default()).await.unwrap();
    assert_eq!(
        p.items
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>(),
        vec!["alice"]
    );
    let f = UserFilter {
        dept_ids: Some(vec![]),
        or_user_id: Some(u2),
        ..Default::default()
    };
    let p = users::list(&store, &f, Page::default()).await.unwrap();
    assert_eq!(
        p.items
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>(),
        vec!["bob"]
    );

    let mut tx = store.write().await.unwrap();
    users::set_password(&mut tx, u1, "hash3", false, "alice")
        .await
        .unwrap();
    users::set_login_state(&mut tx, u2, 3, Some("2030-01-01T00:00:00.000Z"))
        .await
        .unwrap();
    roles::soft_delete(&mut tx, role, "t").await.unwrap();
    tx.commit().await.unwrap();
    let alice = users::get(&store, u1).await.unwrap().unwrap();
    assert_eq!(
        (alice.password_hash.as_str(), alice.must_change_password),
        ("hash3", 0)
    );
    let bob = users::get(&store, u2).await.unwrap().unwrap();
    assert_eq!(bob.failed_attempts, 3);
    assert!(roles::of_user(&store, u1).await.unwrap().is_empty());
    assert_eq!(users::count(&store).await.unwrap(), 2);
}

async fn dictionaries(store: Store, _: &str) {
    let mut tx = store.write().await.unwrap();
    let t = dicts::insert_type(
        &mut tx,
        &DictTypeFields {
            type_key: "sys_yes_no".into(),
            name: "是否".into(),
            status: "active".into(),
            remark: None,
        },
        "t",
    )
    .await
    .unwrap();
    for (i, (l, v)) in [("是", "Y"), ("否", "N")].iter().enumerate() {
        dicts::insert_item(
            &mut tx,
            t,
            &DictItemFields {
                label: (*l).into(),
                value: (*v).into(),
                sort_order: i as i64,
                color: Some("primary".into()),
                status: "active".into(),
            },
            "t",
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let items = dicts::items(&store, t).await.unwrap();
    assert_eq!(
        items.iter().map(|i| i.value.as_str()).collect::<Vec<_>>(),
        vec!["Y", "N"]
    );
    assert_eq!(
        dicts::type_by_key(&store, "sys_yes_no")
            .await
            .unwrap()
            .unwrap()
            .id,
        t
    );
    let mut tx = store.write().await.unwrap();
    assert_eq!(
        dicts::insert_item(
            &mut tx,
            t,
            &DictItemFields {
                label: "x".into(),
                value: "Y".into(),
                status: "active".into(),
                ..Default::default()
            },
            "t"
        )
        .await
        .unwrap_err()
        .code,
        ErrorCode::Conflict
    );
    drop(tx);
    let mut tx = store.write().await.unwrap();
    dicts::delete_type(&mut tx, t, "t").await.unwrap();
    tx.commit().await.unwrap();
    assert!(
        dicts::type_by_key(&store, "sys_yes_no")
            .await
            .unwrap()
            .is_none()
    );
    assert!(dicts::items(&store, t).await.unwrap().is_empty());
}

async fn sessions_and_tokens_expire_and_revoke(store: Store, _: &str) {
    let mut tx = store.write().await.unwrap();
    let d = departments::insert(&mut tx, &dept("A", None, None), "t")
        .await
        .unwrap();
    let u = users::insert(
        &mut tx,
        &UserFields {
            username: "u1".into(),
            display_name: "U".into(),
            dept_id: d,
            status: "active".into(),
            ..Default::default()
        },
        "h",
        false,
        "t",
    )
    .await
    .unwrap();
    let now = chrono::Utc::now();
    for (hash, exp) in [
        ("live", now + chrono::Duration::hours(1)),
        ("old", now - chrono::Duration::hours(1)),
    ] {
        sessions::insert(
            &mut tx,
            &Session {
                token_hash: hash.into(),
                user_id: u,
                csrf_token: "c".into(),
                client: None,
                created_at: fmt_time(now),
                expires_at: fmt_time(exp),
                revoked_at: None,
            },
        )
        .await
        .unwrap();
    }
    let tok = sessions::insert_token(
        &mut tx,
        &NewApiToken {
            name: "etl".into(),
            token_hash: "th".into(),
            prefix: "shj_ab".into(),
            user_id: u,
            scopes: "system:dept:list".into(),
            expires_at: fmt_time(now + chrono::Duration::days(1)),
        },
        "t",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(sessions::get(&store, "live").await.unwrap().is_some());
    assert!(
        sessions::get(&store, "old").await.unwrap().is_none(),
        "expired sessions are not found"
    );
    assert_eq!(
        sessions::token_by_hash(&store, "th")
            .await
            .unwrap()
            .unwrap()
            .id,
        tok
    );
    sessions::touch_token(&store, tok).await.unwrap();
    assert!(
        sessions::get_token(&store, tok)
            .await
            .unwrap()
            .unwrap()
            .last_used_at
            .is_some()
    );

    let mut tx = store.write().await.unwrap();
    sessions::revoke_user(&mut tx, u, None).await.unwrap();
    sessions::revoke_token(&mut tx, tok).await.unwrap();
    tx.commit().await.unwrap();
    assert!(sessions::get(&store, "live").await.unwrap().is_none());
    assert!(
        sessions::token_by_hash(&store, "th")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        sessions::list_tokens(&store, Some(u)).await.unwrap().len(),
        1
    );
}

async fn append_n(store: &Store, n: usize) {
    for i in 0..n {
        audit::record(store, &entry("thing.create", &i.to_string()))
            .await
            .unwrap();
    }
}

async fn audit_chain_verifies_and_detects_edits(store: Store, _: &str) {
    let empty = audit::verify(&store).await.unwrap();
    assert!(empty.is_whole());
    assert_eq!(empty.records, 0);
    append_n(&store, 12).await;
    let r = audit::verify(&store).await.unwrap();
    assert!(r.is_whole(), "{:?}", r.broken);
    assert_eq!((r.records, r.head_seq), (12, 12));
    // Edit one field of record 7 directly in the database.
    sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 7")
        .execute(store.pool())
        .await
        .unwrap();
    let r = audit::verify(&store).await.unwrap();
    assert_eq!(r.broken.as_ref().map(|b| b.seq), Some(7), "{:?}", r.broken);
    // Re-hashing the edited record does not help: the next link breaks.
    let rec: audit::AuditRecord = sqlx::query_as("SELECT * FROM audit_log WHERE seq = 7")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let new_hash = rec.compute_hash(&rec.prev_hash);
    sqlx::query("UPDATE audit_log SET hash = $1 WHERE seq = 7")
        .bind(new_hash)
        .execute(store.pool())
        .await
        .unwrap();
    let r = audit::verify(&store).await.unwrap();
    assert_eq!(r.broken.as_ref().map(|b| b.seq), Some(8), "{:?}", r.broken);
}

async fn audit_chain_detects_deleted_and_reordered_records(store: Store, url: &str) {
    append_n(&store, 6).await;
    // Deleting the newest record is caught by the head.
    sqlx::query("DELETE FROM audit_log WHERE seq = 6")
        .execute(store.pool())
        .await
        .unwrap();
    let r = audit::verify(&store).await.unwrap();
    assert_eq!(r.broken.as_ref().map(|b| b.seq), Some(6), "{:?}", r.broken);
    store.close().await;

    let db2 = if url.starts_with("sqlite") {
        testing::sqlite()
    } else {
        testing::postgres().await.unwrap()
    };
    let store = db2.open().await;
    append_n(&store, 6).await;
    // Deleting a record in the middle.
    sqlx::query("DELETE FROM audit_log WHERE seq = 3")
        .execute(store.pool())
        .await
        .unwrap();
    let r = audit::verify(&store).await.unwrap();
    assert_eq!(r.broken.as_ref().map(|b| b.seq), Some(3), "{:?}", r.broken);
    // Reordering: swap the contents of records 4 and 5 by swapping their sequence numbers.
    sqlx::query("UPDATE audit_log SET seq = 1000 WHERE seq = 4")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET seq = 4 WHERE seq = 5")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET seq = 5 WHERE seq = 1000")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO audit_log SELECT 3, at, actor_id, actor, dept_id, action, object_type, object_id, purpose, client, outcome, detail, prev_hash, hash FROM audit_log WHERE seq = 2").execute(store.pool()).await.unwrap();
    let r = audit::verify(&store).await.unwrap();
    assert_eq!(
        r.broken.as_ref().map(|b| b.seq),
        Some(3),
        "a copied record is caught: {:?}",
        r.broken
    );
}

async fn audit_list_filters_and_pages(store: Store, _: &str) {
    append_n(&store, 5).await;
    let mut e = entry("department.create", "9");
    e.outcome = Outcome::Rejected;
    e.dept_id = Some(42);
    e.detail = Some("field: uscc".into());
    audit::record(&store, &e).await.unwrap();
    let all = audit::list(&store, &AuditFilter::default(), Page::new(Some(1), Some(4)))
        .await
        .unwrap();
    assert_eq!((all.total, all.items.len()), (6, 4));
    assert_eq!(all.items[0].seq, 6, "newest first");
    let f = AuditFilter {
        action: Some("department.".into()),
        outcome: Some("rejected".into()),
        ..Default::default()
    };
    let p = audit::list(&store, &f, Page::default()).await.unwrap();
    assert_eq!(p.total, 1);
    assert_eq!(p.items[0].detail.as_deref(), Some("field: uscc"));
    let f = AuditFilter {
        dept_ids: Some(vec![42]),
        ..Default::default()
    };
    assert_eq!(
        audit::list(&store, &f, Page::default())
            .await
            .unwrap()
            .total,
        1
    );
    let f = AuditFilter {
        dept_ids: Some(vec![]),
        ..Default::default()
    };
    assert_eq!(
        audit::list(&store, &f, Page::default())
            .await
            .unwrap()
            .total,
        0
    );
    let f = AuditFilter {
        from: Some("2000-01-01".into()),
        to: Some("2999-01-01".into()),
        ..Default::default()
    };
    assert_eq!(
        audit::list(&store, &f, Page::default())
            .await
            .unwrap()
            .total,
        6
    );
    assert_eq!(audit::count(&store).await.unwrap(), 6);
}

async fn dropped_transaction_leaves_nothing(store: Store, _: &str) {
    {
        let mut tx = store.write().await.unwrap();
        departments::insert(&mut tx, &dept("never", None, None), "t")
            .await
            .unwrap();
        audit::append(&mut tx, &entry("department.create", "x"))
            .await
            .unwrap();
        // dropped without commit
    }
    assert!(departments::all(&store).await.unwrap().is_empty());
    assert_eq!(audit::count(&store).await.unwrap(), 0);
    let r = audit::verify(&store).await.unwrap();
    assert!(r.is_whole());
    // The chain continues correctly after the rollback.
    append_n(&store, 2).await;
    assert!(audit::verify(&store).await.unwrap().is_whole());
}

async fn login_log_and_divisions(store: Store, _: &str) {
    let mut tx = store.write().await.unwrap();
    login_log::insert(
        &mut tx,
        "admin",
        None,
        Some("127.0.0.1"),
        "failure",
        Some("wrong password"),
    )
    .await
    .unwrap();
    login_log::insert(
        &mut tx,
        "admin",
        Some(1),
        Some("127.0.0.1"),
        "success",
        None,
    )
    .await
    .unwrap();
    let d = divisions::Division {
        code: "371523".into(),
        name: "茌平县".into(),
        level: "county".into(),
        parent_code: Some("371500".into()),
        kind: "gbt2260".into(),
        valid_from: "1998".into(),
        valid_to: None,
    };
    assert!(divisions::insert_if_absent(&mut tx, &d).await.unwrap());
    assert!(!divisions::insert_if_absent(&mut tx, &d).await.unwrap());
    divisions::retire(&mut tx, "371523", "2019").await.unwrap();
    tx.commit().await.unwrap();
    let p = login_log::list(
        &store,
        &login_log::LoginFilter {
            outcome: Some("failure".into()),
            ..Default::default()
        },
        Page::default(),
    )
    .await
    .unwrap();
    assert_eq!(p.total, 1);
    assert_eq!(
        login_log::count_success_since(&store, "2000-01-01")
            .await
            .unwrap(),
        1
    );
    assert!(
        divisions::current(&store, "371523")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(divisions::list(&store, true).await.unwrap().len(), 1);
}

async fn lake_tables_jobs_and_quality(store: Store, _: &str) {
    use shuju_store::lake::{self, JobEnd, QualityRow, TableRow};
    let t = |code: &str, name: &str| TableRow {
        resource_code: code.into(),
        table_name: name.into(),
        library: "business".into(),
        title: "户籍".into(),
        spec: "{}".into(),
        updated_by: "admin".into(),
        updated_at: String::new(),
    };
    let mut tx = store.write().await.unwrap();
    lake::put_table(&mut tx, &t("R1", "hukou")).await.unwrap();
    lake::put_table(&mut tx, &t("R2", "shebao")).await.unwrap();
    // Replacing a resource's table keeps one row.
    lake::put_table(&mut tx, &t("R1", "hukou")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(lake::list_tables(&store).await.unwrap().len(), 2);
    assert_eq!(
        lake::get_table_by_name(&store, "shebao")
            .await
            .unwrap()
            .unwrap()
            .resource_code,
        "R2"
    );
    let mut tx = store.write().await.unwrap();
    let dup = lake::put_table(&mut tx, &t("R3", "hukou")).await;
    assert!(dup.is_err(), "a table name belongs to one resource");
    drop(tx);

    let mut tx = store.write().await.unwrap();
    // The file's hash may be known only when the job ends.
    let a = lake::start_job(&mut tx, "hukou", "R1", "a.csv", "", "admin")
        .await
        .unwrap();
    let b = lake::start_job(&mut tx, "hukou", "R1", "b.csv", "cd", "admin")
        .await
        .unwrap();
    lake::finish_job(
        &mut tx,
        a,
        &JobEnd {
            status: "done",
            rows_read: 10,
            inserted: 9,
            rejected: 1,
            version: Some(0),
            file_sha256: Some("ab".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(lake::interrupt_running(&mut tx).await.unwrap(), 1);
    lake::add_quality(
        &mut tx,
        &[QualityRow {
            table_name: "hukou".into(),
            version: 0,
            job_id: Some(a),
            column_name: "*".into(),
            row_count: 9,
            completeness_bp: 10_000,
            validity_bp: 9_000,
            uniqueness_bp: 10_000,
            ..Default::default()
        }],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let jobs = lake::list_jobs(&store, Some("hukou"), 10).await.unwrap();
    assert_eq!(jobs.iter().map(|j| j.id).collect::<Vec<_>>(), [b, a]);
    assert_eq!(jobs[0].status, "interrupted");
    let done = lake::get_job(&store, a).await.unwrap().unwrap();
    assert_eq!(
        (
            done.inserted,
            done.rejected,
            done.version,
            done.file_sha256.as_str()
        ),
        (9, 1, Some(0), "ab")
    );
    assert_eq!(jobs[0].file_sha256, "cd");
    let q = lake::quality(&store, "hukou", 10).await.unwrap();
    assert_eq!((q.len(), q[0].validity_bp), (1, 9_000));
}

async fn outbox_events_and_cursors(store: Store, _: &str) {
    use shuju_store::outbox;
    assert_eq!(outbox::newest(&store).await.unwrap(), 0);
    assert_eq!(
        outbox::cursor(&store, "identity.match").await.unwrap(),
        None
    );
    let mut tx = store.write().await.unwrap();
    let a = outbox::append(&mut tx, outbox::LAKE_LOADED, r#"{"table":"hukou","job":1}"#)
        .await
        .unwrap();
    let b = outbox::append(
        &mut tx,
        outbox::LAKE_LOADED,
        r#"{"table":"shebao","job":2}"#,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // An event written in a transaction that rolls back never appears.
    let mut tx = store.write().await.unwrap();
    outbox::append(&mut tx, outbox::LAKE_LOADED, "{}")
        .await
        .unwrap();
    drop(tx);
    assert!(b > a);
    assert_eq!(outbox::newest(&store).await.unwrap(), b);
    let all = outbox::after(&store, 0, 10).await.unwrap();
    assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), [a, b]);
    assert_eq!(all[1].payload, r#"{"table":"shebao","job":2}"#);
    assert_eq!(outbox::after(&store, a, 10).await.unwrap().len(), 1);
    assert_eq!(outbox::after(&store, 0, 1).await.unwrap()[0].id, a);
    // Cursors are per subscriber and move forward by upsert.
    let mut tx = store.write().await.unwrap();
    outbox::set_cursor(&mut tx, "identity.match", a)
        .await
        .unwrap();
    outbox::set_cursor(&mut tx, "exchange.bulk", b)
        .await
        .unwrap();
    outbox::set_cursor(&mut tx, "identity.match", b)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        outbox::cursor(&store, "identity.match").await.unwrap(),
        Some(b)
    );
    assert_eq!(
        outbox::cursor(&store, "exchange.bulk").await.unwrap(),
        Some(b)
    );
}

async fn rule_sets_keep_every_version(store: Store, _: &str) {
    use shuju_store::rules;
    assert!(rules::get(&store, "low_income").await.unwrap().is_none());
    let mut tx = store.write().await.unwrap();
    assert_eq!(
        rules::save(&mut tx, "low_income", "低保", "{\"v\":1}", "admin")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        rules::save(&mut tx, "low_income", "低保核查", "{\"v\":2}", "bob")
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        rules::save(&mut tx, "exit_entry", "出入境", "{}", "admin")
            .await
            .unwrap(),
        1
    );
    tx.commit().await.unwrap();
    let newest = rules::get(&store, "low_income").await.unwrap().unwrap();
    assert_eq!(
        (newest.version, newest.name.as_str(), newest.jdm.as_str()),
        (2, "低保核查", "{\"v\":2}")
    );
    assert_eq!(newest.updated_by, "bob");
    let list = rules::list(&store).await.unwrap();
    assert_eq!(
        list.iter()
            .map(|r| (r.rule_key.as_str(), r.version))
            .collect::<Vec<_>>(),
        [("exit_entry", 1), ("low_income", 2)]
    );
}

async fn identity_runs_links_reviews_and_decisions(store: Store, _: &str) {
    use shuju_store::identity::{self, DecisionRow, NewRun};
    let run = |links: Vec<(&'static str, &'static str, &'static str, &'static str)>| NewRun {
        kind: "person",
        records: links.len() as i64,
        entities: 2,
        stats: "{}".into(),
        changes: "{}".into(),
        versions: "{\"hukou\":3}".into(),
        actor: "admin",
        links,
        reviews: vec![(
            "hukou".into(),
            "k1".into(),
            "shebao".into(),
            "s9".into(),
            "0.7".into(),
            "{}".into(),
        )],
    };
    let mut tx = store.write().await.unwrap();
    let r1 = identity::write_run(
        &mut tx,
        &run(vec![
            ("hukou", "k1", "P1", "id"),
            ("shebao", "s1", "P1", "model"),
            ("hukou", "k2", "P2", "id"),
        ]),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(identity::links(&store, "person").await.unwrap().len(), 3);
    assert!(
        identity::links(&store, "enterprise")
            .await
            .unwrap()
            .is_empty()
    );
    let p1 = identity::entity_records(&store, "person", "P1")
        .await
        .unwrap();
    assert_eq!(
        p1.iter()
            .map(|l| (l.source.as_str(), l.record_key.as_str()))
            .collect::<Vec<_>>(),
        [("hukou", "k1"), ("shebao", "s1")]
    );
    let of = identity::entity_of(&store, "person", "shebao", "s1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (of.entity_id.as_str(), of.method.as_str(), of.run_id),
        ("P1", "model", r1)
    );
    // A landed record joins between runs; the next run replaces all links.
    let mut tx = store.write().await.unwrap();
    identity::add_links(
        &mut tx,
        "person",
        "shebao",
        &[("s2".into(), "P2".into(), "index".into())],
        r1,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        identity::entity_records(&store, "person", "P2")
            .await
            .unwrap()
            .len(),
        2
    );
    let reviews = identity::reviews(&store, "person", 10).await.unwrap();
    assert_eq!(reviews.len(), 1);
    let d = DecisionRow {
        id: 0,
        kind: "person".into(),
        decision: "reject".into(),
        a_source: "hukou".into(),
        a_key: "k1".into(),
        b_source: Some("shebao".into()),
        b_key: Some("s9".into()),
        reason: "不同人".into(),
        actor: "admin".into(),
        decided_at: String::new(),
    };
    let mut tx = store.write().await.unwrap();
    identity::decide(&mut tx, &d, Some(reviews[0].id))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        identity::reviews(&store, "person", 10)
            .await
            .unwrap()
            .is_empty(),
        "a decided pair leaves the queue"
    );
    assert!(
        identity::review(&store, reviews[0].id)
            .await
            .unwrap()
            .is_none()
    );
    let ds = identity::decisions(&store, "person").await.unwrap();
    assert_eq!(
        (ds.len(), ds[0].b_key.as_deref(), ds[0].reason.as_str()),
        (1, Some("s9"), "不同人")
    );
    let mut tx = store.write().await.unwrap();
    let r2 = identity::write_run(&mut tx, &run(vec![("hukou", "k1", "P1", "id")]))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(identity::links(&store, "person").await.unwrap().len(), 1);
    let runs = identity::runs(&store, "person", 10).await.unwrap();
    assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [r2, r1]);
    assert_eq!(runs[0].versions, "{\"hukou\":3}");
}

async fn two_departments(store: &Store) -> (i64, i64) {
    let mut tx = store.write().await.unwrap();
    let a = departments::insert(&mut tx, &dept("公安局", None, None), "t")
        .await
        .unwrap();
    let b = departments::insert(&mut tx, &dept("人社局", None, None), "t")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (a, b)
}

fn entry_fields(
    code: &str,
    name: &str,
    provider: i64,
    system: Option<i64>,
) -> shuju_store::catalog::EntryFields {
    shuju_store::catalog::EntryFields {
        code: code.into(),
        name: name.into(),
        provider_dept_id: provider,
        status: "draft".into(),
        version: 1,
        library: "base".into(),
        sharing: "unconditional".into(),
        update_cycle: "daily".into(),
        format: "database".into(),
        attribute: "{}".into(),
        system_id: system,
        content: "{\"items\":[]}".into(),
        ..Default::default()
    }
}

async fn catalog_entries_versions_events_and_systems(store: Store, _: &str) {
    use shuju_store::catalog::{self as cat, CorrectionFilter, EntryFilter, InfoSystemFields};
    let (ga, rs) = two_departments(&store).await;
    let mut tx = store.write().await.unwrap();
    let sys = cat::insert_system(
        &mut tx,
        &InfoSystemFields {
            name: "人口信息系统".into(),
            owner_dept_id: ga,
            hosting: "gov_cloud".into(),
            status: "active".into(),
            description: None,
        },
        "admin",
    )
    .await
    .unwrap();
    let e1 = cat::insert_entry(
        &mut tx,
        &entry_fields("371500/A01", "户籍人口", ga, Some(sys)),
        "admin",
    )
    .await
    .unwrap();
    let e2 = cat::insert_entry(
        &mut tx,
        &entry_fields("371500/B01", "社保参保", rs, None),
        "admin",
    )
    .await
    .unwrap();
    cat::insert_version(&mut tx, e1, 1, "{\"v\":1}", "admin")
        .await
        .unwrap();
    cat::insert_event(&mut tx, e1, 1, "create", None, "draft", None, "admin")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        cat::get_system(&store, sys).await.unwrap().unwrap().name,
        "人口信息系统"
    );
    assert_eq!(cat::system_counts(&store).await.unwrap(), (1, 1));
    assert_eq!(
        cat::list_systems(&store, Some(&[rs][..]), None, Page::new(None, None))
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        cat::list_systems(&store, None, Some("人口"), Page::new(None, None))
            .await
            .unwrap()
            .total,
        1
    );
    // A code is unique among live entries.
    let mut tx = store.write().await.unwrap();
    assert!(
        cat::insert_entry(&mut tx, &entry_fields("371500/A01", "重复", rs, None), "x")
            .await
            .is_err()
    );
    drop(tx);
    assert_eq!(
        cat::entry_by_code(&store, "371500/A01")
            .await
            .unwrap()
            .unwrap()
            .id,
        e1
    );
    let codes = vec!["371500/A01".to_owned(), "371500/Z99".to_owned()];
    assert_eq!(
        cat::existing_codes(&store, &codes).await.unwrap(),
        ["371500/A01"]
    );
    // Publish a second version of e1; versions and events read newest first.
    let mut f = entry_fields("371500/A01", "户籍人口信息", ga, Some(sys));
    (f.status, f.version, f.published_version) = ("published".into(), 2, Some(2));
    let mut tx = store.write().await.unwrap();
    assert_eq!(
        cat::update_entry(&mut tx, e1, &f, "reviewer")
            .await
            .unwrap(),
        1
    );
    cat::insert_version(&mut tx, e1, 2, "{\"v\":2}", "reviewer")
        .await
        .unwrap();
    cat::insert_event(
        &mut tx,
        e1,
        2,
        "approve",
        Some("submitted"),
        "published",
        Some("好"),
        "reviewer",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let versions = cat::list_versions(&store, e1).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1]
    );
    assert_eq!(
        cat::get_version(&store, e1, 1)
            .await
            .unwrap()
            .unwrap()
            .content,
        "{\"v\":1}"
    );
    let events = cat::list_events(&store, e1).await.unwrap();
    assert_eq!(
        (
            events.len(),
            events[0].to_status.as_str(),
            events[0].note.as_deref()
        ),
        (2, "published", Some("好"))
    );
    assert_eq!(cat::entry_counts(&store).await.unwrap(), (2, 1));
    let all = Page::new(None, None);
    let published = EntryFilter {
        published_only: true,
        ..Default::default()
    };
    assert_eq!(
        cat::list_entries(&store, &published, all)
            .await
            .unwrap()
            .items[0]
            .id,
        e1
    );
    let of_rs = EntryFilter {
        providers: Some(vec![rs]),
        ..Default::default()
    };
    assert_eq!(
        cat::list_entries(&store, &of_rs, all).await.unwrap().items[0].id,
        e2
    );
    let none = EntryFilter {
        providers: Some(vec![]),
        ..Default::default()
    };
    assert_eq!(
        cat::list_entries(&store, &none, all).await.unwrap().total,
        0
    );
    let by_name = EntryFilter {
        name: Some("社保".into()),
        ..Default::default()
    };
    assert_eq!(
        cat::list_entries(&store, &by_name, all)
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(cat::entries_per_system(&store).await.unwrap(), [(sys, 1)]);
    // Changes since a moment, and soft deletion.
    let mark = cat::last_change(&store).await.unwrap().unwrap();
    assert_eq!(
        cat::entries_changed_since(&store, None)
            .await
            .unwrap()
            .len(),
        2
    );
    let mut tx = store.write().await.unwrap();
    assert_eq!(
        cat::soft_delete_entry(&mut tx, e2, "admin").await.unwrap(),
        1
    );
    tx.commit().await.unwrap();
    assert!(cat::get_entry(&store, e2).await.unwrap().is_none());
    assert!(
        cat::entries_deleted_since(&store, "2000-01-01T00:00:00Z")
            .await
            .unwrap()
            .contains(&e2)
    );
    assert!(
        cat::entries_changed_since(&store, Some(&mark))
            .await
            .unwrap()
            .iter()
            .all(|e| e.id != e2)
    );
    // Corrections: reported by one department, answered by the provider.
    let mut tx = store.write().await.unwrap();
    let c = cat::insert_correction(&mut tx, e1, "rs_user", Some(rs), "地址字段有误")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let open = CorrectionFilter {
        status: Some("open".into()),
        providers: Some(vec![ga]),
        ..Default::default()
    };
    assert_eq!(
        cat::list_corrections(&store, &open, all)
            .await
            .unwrap()
            .total,
        1
    );
    let theirs = CorrectionFilter {
        providers: Some(vec![rs]),
        reporters: Some(vec![]),
        ..Default::default()
    };
    assert_eq!(
        cat::list_corrections(&store, &theirs, all)
            .await
            .unwrap()
            .total,
        0
    );
    let mine = CorrectionFilter {
        reporters: Some(vec![rs]),
        ..Default::default()
    };
    assert_eq!(
        cat::list_corrections(&store, &mine, all)
            .await
            .unwrap()
            .total,
        1
    );
    let mut tx = store.write().await.unwrap();
    assert_eq!(
        cat::answer_correction(&mut tx, c, "已更正", "ga_user")
            .await
            .unwrap(),
        1
    );
    tx.commit().await.unwrap();
    let done = cat::get_correction(&store, c).await.unwrap().unwrap();
    assert_eq!(
        (done.status.as_str(), done.answer.as_deref()),
        ("answered", Some("已更正"))
    );
}

/// A published entry of 公安局 requested by 人社局: (provider, consumer, entry, request).
async fn a_request(store: &Store) -> (i64, i64, i64, shuju_store::exchange::RequestRow) {
    use shuju_store::catalog as cat;
    use shuju_store::exchange::{self as ex, RequestRow};
    let (ga, rs) = two_departments(store).await;
    let mut f = entry_fields("371500/A01", "户籍人口", ga, None);
    (f.status, f.published_version) = ("published".into(), Some(1));
    let mut tx = store.write().await.unwrap();
    let entry = cat::insert_entry(&mut tx, &f, "admin").await.unwrap();
    let mut r = RequestRow {
        id: 0,
        entry_id: entry,
        consumer_dept_id: rs,
        consumer_system: "社保系统".into(),
        items: "[\"姓名\",\"身份证号\"]".into(),
        purpose: "参保核验".into(),
        legal_basis: Some("社会保险法".into()),
        period_until: "2027-12-31".into(),
        complex: 0,
        status: "bureau_check".into(),
        stage_started: "2026-12-01".into(),
        deadline: Some("2026-12-03".into()),
        escalated: 0,
        decision_reason: None,
        decided_by: None,
        created_by: "rs_user".into(),
        created_at: String::new(),
        updated_at: String::new(),
    };
    r.id = ex::insert_request(&mut tx, &r).await.unwrap();
    tx.commit().await.unwrap();
    (ga, rs, entry, r)
}

async fn exchange_requests_grants_and_projects(store: Store, _: &str) {
    use shuju_store::exchange as ex;
    let (ga, rs, entry, r) = a_request(&store).await;
    assert_eq!(
        ex::get_request(&store, r.id)
            .await
            .unwrap()
            .unwrap()
            .purpose,
        "参保核验"
    );
    assert_eq!(
        ex::list_requests(&store, Some("bureau_check"), Some(&[rs][..]), None)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        ex::list_requests(&store, None, None, Some(&[rs][..]))
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        ex::list_requests(&store, None, Some(&[][..]), None)
            .await
            .unwrap()
            .len(),
        0
    );
    // Past its deadline it is overdue until escalated.
    assert_eq!(ex::overdue(&store, "2026-12-04").await.unwrap().len(), 1);
    assert_eq!(ex::overdue(&store, "2026-12-02").await.unwrap().len(), 0);
    let mut tx = store.write().await.unwrap();
    assert_eq!(ex::set_escalated(&mut tx, r.id).await.unwrap(), 1);
    tx.commit().await.unwrap();
    assert!(ex::overdue(&store, "2026-12-04").await.unwrap().is_empty());
    let mut tx = store.write().await.unwrap();
    ex::set_stage(
        &mut tx,
        r.id,
        "granted",
        "2026-12-02",
        None,
        Some("同意"),
        Some("ga_user"),
    )
    .await
    .unwrap();
    let g = ex::insert_grant(&mut tx, &r).await.unwrap();
    tx.commit().await.unwrap();
    let done = ex::get_request(&store, r.id).await.unwrap().unwrap();
    assert_eq!(
        (done.status.as_str(), done.decided_by.as_deref()),
        ("granted", Some("ga_user"))
    );
    let grant = ex::get_grant(&store, g).await.unwrap().unwrap();
    assert_eq!(
        (
            grant.entry_id,
            grant.consumer_dept_id,
            grant.valid_until.as_str()
        ),
        (entry, rs, "2027-12-31")
    );
    assert!(grant.revoked_at.is_none());
    assert_eq!(
        ex::grants_of(&store, Some(&[rs][..]), Some(entry))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        ex::grants_of(&store, Some(&[ga][..]), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        ex::dept_grants_since(&store, ga, "2000-01-01")
            .await
            .unwrap(),
        1
    );
    assert_eq!(ex::dept_catalog_counts(&store, ga).await.unwrap(), (1, 1));
    let mut tx = store.write().await.unwrap();
    assert_eq!(ex::revoke_grant(&mut tx, g, "期满").await.unwrap(), 1);
    tx.commit().await.unwrap();
    assert_eq!(
        ex::get_grant(&store, g)
            .await
            .unwrap()
            .unwrap()
            .revoked_reason
            .as_deref(),
        Some("期满")
    );
    // IT projects and the facts their gate reads.
    let mut tx = store.write().await.unwrap();
    let p = ex::insert_project(
        &mut tx,
        "社保系统升级",
        rs,
        2027,
        300,
        "[\"社保系统\"]",
        "rs_user",
    )
    .await
    .unwrap();
    assert_eq!(
        ex::review_project(&mut tx, p, "approved", Some(250), Some("压减"), "bureau")
            .await
            .unwrap(),
        1
    );
    tx.commit().await.unwrap();
    let proj = ex::get_project(&store, p).await.unwrap().unwrap();
    assert_eq!(
        (proj.status.as_str(), proj.approved_budget),
        ("approved", Some(250))
    );
    assert_eq!(
        ex::list_projects(&store, Some(2027), Some(&[rs][..]))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        ex::list_projects(&store, Some(2026), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        ex::dept_calls_since(&store, ga, "2000-01-01")
            .await
            .unwrap(),
        0
    );
    assert!(ex::dept_system_names(&store, rs).await.unwrap().is_empty());
}

async fn gateway_calls_usage_and_subscriptions(store: Store, _: &str) {
    use shuju_store::exchange as ex;
    use shuju_store::gateway::{self as gw, DeliveryRow, NewCall, Terms, UseBy};
    let (ga, rs, entry, r) = a_request(&store).await;
    let mut tx = store.write().await.unwrap();
    let g = ex::insert_grant(&mut tx, &r).await.unwrap();
    let terms = Terms {
        unmasked_items: vec!["身份证号".into()],
        calls_per_day: 10,
        rows_per_day: 100,
        calls_per_second: 5,
    };
    assert_eq!(gw::set_terms(&mut tx, g, &terms).await.unwrap(), 1);
    tx.commit().await.unwrap();
    let grant = ex::get_grant(&store, g).await.unwrap().unwrap();
    assert_eq!(
        (grant.unmasked_items.as_str(), grant.calls_per_day),
        ("[\"身份证号\"]", 10)
    );
    let call = |status: i64, rows: i64, subjects: &[&str]| NewCall {
        grant_id: g,
        entry_id: entry,
        consumer_dept_id: rs,
        consumer_system: "社保系统".into(),
        purpose: "参保核验".into(),
        actor: "rs_app".into(),
        status,
        rows_out: rows,
        ms: 3,
        day: "2026-12-03".into(),
        subjects: subjects.iter().map(|s| (*s).to_owned()).collect(),
    };
    let mut tx = store.write().await.unwrap();
    let ids = gw::record_calls(
        &mut tx,
        &[
            call(200, 1, &["371502199001011234"]),
            call(200, 2, &["371502199001011234", "X"]),
            call(429, 0, &[]),
        ],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    // Only answered calls count against the day.
    let u = gw::usage(&store, g, "2026-12-03").await.unwrap();
    assert_eq!((u.calls, u.rows_out), (2, 3));
    assert_eq!(gw::usage(&store, g, "2026-12-04").await.unwrap().calls, 0);
    let uses = gw::data_use(&store, "371502199001011234", 10)
        .await
        .unwrap();
    assert_eq!(
        (
            uses.len(),
            uses[0].consumer_dept.as_str(),
            uses[0].entry_name.as_str()
        ),
        (2, "人社局", "户籍人口")
    );
    let by_grant = gw::use_stats(&store, UseBy::Grant, "2000-01-01")
        .await
        .unwrap();
    assert_eq!(
        (
            by_grant[0].id,
            by_grant[0].calls,
            by_grant[0].errors,
            by_grant[0].rows_out
        ),
        (g, 3, 1, 3)
    );
    let by_entry = gw::use_stats(&store, UseBy::Entry, "2000-01-01")
        .await
        .unwrap();
    assert_eq!(
        (by_entry[0].party.as_str(), by_entry[0].consumers),
        ("公安局", 1)
    );
    assert_eq!(
        gw::use_stats(&store, UseBy::ConsumerDept, "2000-01-01")
            .await
            .unwrap()[0]
            .id,
        rs
    );
    let rates = gw::sharing_rates(&store, "2000-01-01").await.unwrap();
    let ga_rate = rates.iter().find(|x| x.dept_id == ga).unwrap();
    assert_eq!(
        (
            ga_rate.catalogued,
            ga_rate.shared,
            ga_rate.granted,
            ga_rate.exchanged
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(
        ex::dept_calls_since(&store, ga, "2000-01-01")
            .await
            .unwrap(),
        2
    );
    let mut tx = store.write().await.unwrap();
    assert_eq!(
        gw::move_usage_day(&mut tx, g, "2026-12-03", "2026-12-02")
            .await
            .unwrap(),
        1
    );
    tx.commit().await.unwrap();
    assert_eq!(gw::usage(&store, g, "2026-12-03").await.unwrap().calls, 0);
    // A subscription moves with its deliveries.
    let mut tx = store.write().await.unwrap();
    let s = gw::insert_subscription(&mut tx, g, "rs_user")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(gw::subscriptions(&store, Some(g)).await.unwrap().len(), 1);
    assert!(
        gw::get_subscription(&store, s)
            .await
            .unwrap()
            .unwrap()
            .last_version
            .is_none()
    );
    let d = DeliveryRow {
        id: 0,
        subscription_id: s,
        from_version: None,
        to_version: 4,
        file_name: "changes-4.csv".into(),
        rows_changed: 10,
        rows_removed: 1,
        sha256: "ab".into(),
        delivered_at: String::new(),
    };
    let mut tx = store.write().await.unwrap();
    gw::record_delivery(&mut tx, &d).await.unwrap();
    gw::record_delivery(
        &mut tx,
        &DeliveryRow {
            from_version: Some(4),
            to_version: 6,
            ..d.clone()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        gw::get_subscription(&store, s)
            .await
            .unwrap()
            .unwrap()
            .last_version,
        Some(6)
    );
    let ds = gw::deliveries(&store, s).await.unwrap();
    assert_eq!(ds.iter().map(|d| d.to_version).collect::<Vec<_>>(), [6, 4]);
}

async fn license_types_licenses_keys_and_holders(store: Store, _: &str) {
    use shuju_store::license::{self as lic, LicenseFilter, LicenseRow, LicenseType};
    let (ga, rs) = two_departments(&store).await;
    let mut tx = store.write().await.unwrap();
    let ty = lic::insert_type(
        &mut tx,
        &LicenseType {
            id: 0,
            type_key: "business_licence".into(),
            name: "营业执照".into(),
            type_code: "01".into(),
            holder_kind: "enterprise".into(),
            claims: "[]".into(),
            validity_days: None,
            created_by: "admin".into(),
            created_at: String::new(),
        },
    )
    .await
    .unwrap();
    lic::insert_key(&mut tx, "k1", "ES256", "{}", "kek1.a.b.c")
        .await
        .unwrap();
    lic::insert_key(&mut tx, "s1", "SM2", "{}", "kek1.d.e.f")
        .await
        .unwrap();
    assert_eq!(lic::retire_keys(&mut tx, "ES256").await.unwrap(), 1);
    lic::insert_key(&mut tx, "k2", "ES256", "{}", "kek1.g.h.i")
        .await
        .unwrap();
    assert_eq!(
        lic::set_key_secret(&mut tx, "k2", "kek2.j.k.l")
            .await
            .unwrap(),
        1
    );
    tx.commit().await.unwrap();
    assert_eq!(
        lic::type_by_key(&store, "business_licence")
            .await
            .unwrap()
            .unwrap()
            .id,
        ty
    );
    assert_eq!(lic::types(&store).await.unwrap().len(), 1);
    let keys = lic::keys(&store).await.unwrap();
    assert_eq!(keys.len(), 3);
    assert!(
        keys.iter()
            .find(|k| k.kid == "k1")
            .unwrap()
            .retired_at
            .is_some()
    );
    assert_eq!(
        keys.iter().find(|k| k.kid == "k2").unwrap().secret,
        "kek2.j.k.l"
    );
    // The status list: created once, its indexes taken one at a time.
    assert!(lic::status_list(&store).await.unwrap().is_none());
    let mut tx = store.write().await.unwrap();
    lic::save_status_list(&mut tx, 2, 0, "00").await.unwrap();
    assert_eq!(lic::take_status_index(&mut tx).await.unwrap(), Some(0));
    assert_eq!(lic::take_status_index(&mut tx).await.unwrap(), Some(1));
    assert_eq!(
        lic::take_status_index(&mut tx).await.unwrap(),
        None,
        "a full list gives no index"
    );
    assert_eq!(
        lic::status_list_for_update(&mut tx)
            .await
            .unwrap()
            .unwrap()
            .next_idx,
        2
    );
    tx.commit().await.unwrap();
    let row = |id: &str, holder: &str, issuer: i64, idx: i64| LicenseRow {
        id: 0,
        license_id: id.into(),
        type_id: ty,
        holder_kind: "enterprise".into(),
        holder_id: holder.into(),
        holder_name: "某公司".into(),
        issuer_dept_id: issuer,
        claims: "{}".into(),
        version: 1,
        predecessor_id: None,
        valid_from: "2026-01-01".into(),
        valid_until: None,
        status: "valid".into(),
        status_idx: idx,
        sd_jwt: "x~".into(),
        seal: "s".into(),
        seal_kid: "s1".into(),
        holder_jwk: "{}".into(),
        holder_secret: "kek1.m.n.o".into(),
        created_by: "admin".into(),
        created_at: String::new(),
        updated_by: "admin".into(),
        updated_at: String::new(),
    };
    let mut tx = store.write().await.unwrap();
    let l1 = lic::insert_license(&mut tx, &row("L1", "91371500MA3C00001X", ga, 0))
        .await
        .unwrap();
    let l2 = lic::insert_license(&mut tx, &row("L2", "91371500MA3C00002X", rs, 1))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.write().await.unwrap();
    assert!(
        lic::insert_license(&mut tx, &row("L1", "x", ga, 2))
            .await
            .is_err(),
        "a license id is unique"
    );
    drop(tx);
    let mut tx = store.write().await.unwrap();
    assert_eq!(
        lic::set_status(&mut tx, l2, "suspended", "rs_user")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        lic::set_source_ref(&mut tx, l1, "scjg_entities:91371500MA3C00001X")
            .await
            .unwrap(),
        1
    );
    assert_eq!(lic::set_holder_secret(&mut tx, l2, "").await.unwrap(), 1);
    tx.commit().await.unwrap();
    assert_eq!(
        lic::by_license_id(&store, "L2")
            .await
            .unwrap()
            .unwrap()
            .status,
        "suspended"
    );
    assert_eq!(
        lic::get(&store, l1).await.unwrap().unwrap().license_id,
        "L1"
    );
    let all = Page::new(None, None);
    let of_ga = LicenseFilter {
        issuers: Some(vec![ga]),
        ..Default::default()
    };
    assert_eq!(lic::list(&store, &of_ga, all).await.unwrap().items.len(), 1);
    let valid = LicenseFilter {
        status: Some("valid".into()),
        type_id: Some(ty),
        ..Default::default()
    };
    assert_eq!(
        lic::list(&store, &valid, all).await.unwrap().items[0].id,
        l1
    );
    let none = LicenseFilter {
        issuers: Some(vec![]),
        ..Default::default()
    };
    assert_eq!(lic::list(&store, &none, all).await.unwrap().total, 0);
    let keys = lic::source_keys(&store, "scjg_entities").await.unwrap();
    assert!(keys.contains("91371500MA3C00001X") && keys.len() == 1);
    assert!(
        lic::source_keys(&store, "scjg").await.unwrap().is_empty(),
        "a table name is matched whole"
    );
    assert_eq!(
        lic::holder_secrets(&store)
            .await
            .unwrap()
            .iter()
            .map(|h| h.0)
            .collect::<Vec<_>>(),
        [l1]
    );
    // Matters, shows and their counts.
    let mut tx = store.write().await.unwrap();
    lic::insert_matter(&mut tx, "M1", "开办企业", "business_licence", "[\"name\"]")
        .await
        .unwrap();
    lic::insert_show(&mut tx, l1, "M1", "[\"name\"]", "window", "n1", None)
        .await
        .unwrap();
    lic::insert_show(&mut tx, l1, "M1", "[\"name\"]", "window", "n2", Some("r"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        lic::matter(&store, "M1").await.unwrap().unwrap().name,
        "开办企业"
    );
    assert_eq!(lic::matters(&store).await.unwrap().len(), 1);
    let counts = lic::show_counts(&store).await.unwrap();
    assert_eq!(
        (
            counts.len(),
            counts[0].1.as_str(),
            counts[0].2.as_str(),
            counts[0].3
        ),
        (1, "M1", "business_licence", 2)
    );
    // A wallet account speaks for one holder; binding again replaces it.
    let mut tx = store.write().await.unwrap();
    let u = users::insert(
        &mut tx,
        &UserFields {
            username: "agent".into(),
            display_name: "经办人".into(),
            dept_id: ga,
            status: "active".into(),
            ..Default::default()
        },
        "h",
        false,
        "t",
    )
    .await
    .unwrap();
    lic::bind_holder(&mut tx, u, "91371500MA3C00001X", "ga_user")
        .await
        .unwrap();
    lic::bind_holder(&mut tx, u, "91371500MA3C00002X", "ga_user")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        lic::holder_of(&store, u).await.unwrap().as_deref(),
        Some("91371500MA3C00002X")
    );
    assert!(lic::holder_of(&store, u + 1).await.unwrap().is_none());
}

async fn service_notices_queue_claim_and_settle(store: Store, _: &str) {
    use shuju_store::service as db;
    let mut tx = store.write().await.unwrap();
    let ids = db::take_case_ids(&mut tx, 2).await.unwrap();
    assert_eq!(ids.end - ids.start, 2, "a block of two numbers");
    let case = ids.start;
    db::insert_case(
        &mut tx,
        &db::NewCase {
            id: case,
            matter_code: "371500-T0001-01".into(),
            matter_version: 1,
            process_name: "p".into(),
            process_version: 1,
            applicant: "11010519491231002X".into(),
            centre_id: None,
            status: "open".into(),
            promised_by: "2026-12-31".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        db::take_case_ids(&mut tx, 1).await.unwrap().start,
        ids.end,
        "the next block follows"
    );
    let notice = |channel: &str, to: &str| db::NewNotice {
        case_id: case,
        seq: 1,
        kind: "received".into(),
        channel: channel.into(),
        recipient: to.into(),
        template_version: 0,
        subject: "受理".into(),
        body: "您的申请已受理".into(),
    };
    let t0 = "2026-12-04T08:00:00.000Z";
    db::add_notices(
        &mut tx,
        &[
            notice("email", "a@example.cn"),
            notice("sms", "13800138000"),
        ],
        t0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // Notices queued in a transaction that rolls back are never sent.
    let mut tx = store.write().await.unwrap();
    db::add_notices(&mut tx, &[notice("email", "b@example.cn")], t0)
        .await
        .unwrap();
    drop(tx);
    let due = db::notices_due(&store, "2026-12-04T08:00:01.000Z", 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 2);
    assert!(due.iter().all(|n| n.state == "queued" && n.attempts == 0));
    assert!(
        db::notices_due(&store, "2026-12-04T07:59:59.000Z", 10)
            .await
            .unwrap()
            .is_empty(),
        "not due before next_at"
    );
    // One sender claims a notice; a second that read it at the same time does not.
    let lease = "2026-12-04T08:01:00.000Z";
    let (a, b) = (&due[0], &due[1]);
    assert!(
        db::claim_notice(&store, a.id, &a.next_at, lease)
            .await
            .unwrap()
    );
    assert!(
        !db::claim_notice(&store, a.id, &a.next_at, lease)
            .await
            .unwrap()
    );
    // While claimed it is not due; a sender that died leaves it due again after the lease.
    let due = db::notices_due(&store, "2026-12-04T08:00:30.000Z", 10)
        .await
        .unwrap();
    assert_eq!(due.iter().map(|n| n.id).collect::<Vec<_>>(), [b.id]);
    assert_eq!(
        db::notices_due(&store, "2026-12-04T08:01:01.000Z", 10)
            .await
            .unwrap()
            .len(),
        2
    );
    db::notice_attempted(&store, a.id, "sent", 1, lease, Some("250 ok"), None)
        .await
        .unwrap();
    assert!(
        db::claim_notice(&store, b.id, &b.next_at, lease)
            .await
            .unwrap()
    );
    db::notice_attempted(
        &store,
        b.id,
        "retrying",
        1,
        "2026-12-04T08:02:00.000Z",
        None,
        Some("the gateway answered 503"),
    )
    .await
    .unwrap();
    // A settled notice cannot be claimed again.
    assert!(!db::claim_notice(&store, a.id, lease, lease).await.unwrap());
    let all = db::notices_of_case(&store, case).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].state, "sent");
    assert_eq!(all[0].receipt.as_deref(), Some("250 ok"));
    assert_eq!(all[1].state, "retrying");
    assert_eq!(
        all[1].last_error.as_deref(),
        Some("the gateway answered 503")
    );
    let mut states = db::notice_states(&store).await.unwrap();
    states.sort();
    assert_eq!(states, [("retrying".to_owned(), 1), ("sent".to_owned(), 1)]);
}

/// Every pooled SQLite connection gets the larger page cache, not only the first.
#[tokio::test]
async fn every_sqlite_connection_keeps_an_eight_mebibyte_page_cache() {
    let db = shuju_store::testing::sqlite();
    let store = db.open().await;
    let mut held = vec![];
    for _ in 0..3 {
        let mut conn = store.pool().acquire().await.expect("connection");
        let kib: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(&mut *conn)
            .await
            .expect("pragma");
        assert_eq!(kib, -8192);
        held.push(conn);
    }
}
