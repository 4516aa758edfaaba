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
