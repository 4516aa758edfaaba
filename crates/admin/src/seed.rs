//! First start and the demo city.
//!
//! There is no default password anywhere. [`Admin::bootstrap`] runs when the database has no users:
//! in one transaction it seeds the divisions, the root departments, the built-in roles and
//! dictionaries, and the `admin` account with a random password that must be changed at first
//! login. The caller (the binary) shows that password once and writes it to a 0600 file.

use crate::departments::DepartmentInput;
use crate::divisions::seed_rows;
use crate::password;
use crate::perm;
use crate::users::UserInput;
use crate::{Admin, Caller};
use shuju_store::audit::{self, Outcome};
use shuju_store::dicts::{self, DictItemFields, DictTypeFields};
use shuju_store::roles::{self, RoleFields};
use shuju_store::{departments, divisions, users};
use shuju_types::{CreditCode, Error, Result};

pub const ADMIN_USER: &str = "admin";
pub const ADMIN_ROLE: &str = "admin";
pub const OFFICER_ROLE: &str = "dept_officer";
pub const AUDITOR_ROLE: &str = "auditor";
pub const REVIEWER_ROLE: &str = "catalog_reviewer";
/// A citizen's or an enterprise agent's account: its own e-license wallet only.
pub const HOLDER_ROLE: &str = "license_holder";
pub const SYSADMIN_ROLE: &str = "sysadmin";
pub const CLERK_ROLE: &str = "window_clerk";
pub const APPROVER_ROLE: &str = "approver";
/// The bureau's data officer for one person, one file: runs resolution, reviews pairs.
pub const IDENTITY_OFFICER_ROLE: &str = "identity_officer";
/// The bureau's keeper of service matters, guides and processes.
pub const SERVICE_ADMIN_ROLE: &str = "service_admin";

/// A unified social credit code for a government organ (登记管理部门 1, 机关 1) of a division.
pub fn organ_uscc(division: &str, n: u32) -> String {
    CreditCode::complete(&format!("11{division}{:09}", 4_353_000 + n))
        .map(|c| c.as_str().to_owned())
        .unwrap_or_default()
}

/// Built-in dictionaries: (key, name, [(label, value, colour)]).
type DictSeed = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, &'static str)],
);
const DICTS: &[DictSeed] = &[
    (
        "sys_normal_disable",
        "状态",
        &[
            ("正常", "active", "primary"),
            ("停用", "disabled", "danger"),
        ],
    ),
    (
        "sys_data_scope",
        "数据范围",
        &[
            ("全部数据", "all", "default"),
            ("自定义部门", "custom", "default"),
            ("本部门", "dept", "default"),
            ("本部门及以下", "dept_and_below", "default"),
            ("仅本人", "self", "default"),
        ],
    ),
    (
        "sys_oper_outcome",
        "操作结果",
        &[
            ("成功", "ok", "success"),
            ("拒绝", "rejected", "warning"),
            ("无权限", "denied", "danger"),
        ],
    ),
    (
        "sys_login_outcome",
        "登录结果",
        &[
            ("成功", "success", "success"),
            ("失败", "failure", "danger"),
            ("锁定", "locked", "warning"),
        ],
    ),
];

/// The roles every installation starts with.
fn builtin_roles() -> Vec<RoleFields> {
    let officer: Vec<String> = [
        perm::DEPT_LIST,
        perm::DEPT_EXPORT,
        perm::USER_LIST,
        perm::USER_ADD,
        perm::USER_EDIT,
        perm::USER_RESET_PWD,
        perm::DICT_LIST,
        perm::DIVISION_LIST,
        perm::CATALOG_LIST,
        perm::CATALOG_ADD,
        perm::CATALOG_EDIT,
        perm::CATALOG_SUBMIT,
        perm::CATALOG_OFFLINE,
        perm::CATALOG_REMOVE,
        perm::CATALOG_IMPORT,
        perm::CATALOG_EXPORT,
        perm::CORRECTION_ADD,
        perm::CORRECTION_ANSWER,
        perm::SYSTEM_LIST,
        perm::SYSTEM_ADD,
        perm::SYSTEM_EDIT,
        perm::EXCHANGE_REQUEST,
        perm::EXCHANGE_LIST,
        perm::EXCHANGE_ANSWER,
        perm::GRANT_TERMS,
        perm::GATEWAY_CALL,
        perm::PROJECT_ADD,
        perm::PROJECT_LIST,
        perm::LAKE_LIST,
        perm::LAKE_INGEST,
        perm::LAKE_QUARANTINE,
        perm::LAKE_QUERY,
    ]
    .map(String::from)
    .to_vec();
    vec![
        RoleFields {
            role_key: ADMIN_ROLE.into(),
            name: "超级管理员".into(),
            data_scope: "all".into(),
            status: "active".into(),
            sort_order: 1,
            remark: Some("大数据局平台管理员".into()),
            permissions: vec![perm::ALL.into()],
            dept_ids: vec![],
        },
        RoleFields {
            role_key: OFFICER_ROLE.into(),
            name: "部门数据管理员".into(),
            data_scope: "dept_and_below".into(),
            status: "active".into(),
            sort_order: 2,
            remark: Some("管理本部门及下级部门的账号与数据".into()),
            permissions: officer,
            dept_ids: vec![],
        },
        RoleFields {
            role_key: AUDITOR_ROLE.into(),
            name: "安全审计员".into(),
            data_scope: "all".into(),
            status: "active".into(),
            sort_order: 3,
            remark: Some("查看操作日志与登录日志".into()),
            permissions: [
                perm::OPERLOG_LIST,
                perm::LOGININFOR_LIST,
                perm::DEPT_LIST,
                perm::USER_LIST,
                perm::CATALOG_LIST,
                perm::LAKE_LIST,
                perm::USAGE_VIEW,
            ]
            .map(String::from)
            .to_vec(),
            dept_ids: vec![],
        },
        RoleFields {
            role_key: REVIEWER_ROLE.into(),
            name: "目录审核员".into(),
            data_scope: "all".into(),
            status: "active".into(),
            sort_order: 4,
            remark: Some("大数据局：审核各部门提交的目录".into()),
            permissions: [
                perm::CATALOG_LIST,
                perm::CATALOG_REVIEW,
                perm::CATALOG_OFFLINE,
                perm::CATALOG_EXPORT,
                perm::SYSTEM_LIST,
                perm::DEPT_LIST,
                perm::LAKE_LIST,
                perm::LAKE_EDIT,
                perm::LAKE_QUERY,
                perm::USAGE_VIEW,
            ]
            .map(String::from)
            .to_vec(),
            dept_ids: vec![],
        },
        RoleFields {
            role_key: SYSADMIN_ROLE.into(),
            name: "系统管理员".into(),
            data_scope: "all".into(),
            status: "active".into(),
            sort_order: 6,
            remark: Some("三员之一：部门、账号、角色、字典与令牌；不读业务数据与审计日志".into()),
            permissions: [
                perm::DEPT_LIST,
                perm::DEPT_ADD,
                perm::DEPT_EDIT,
                perm::DEPT_REMOVE,
                perm::DEPT_IMPORT,
                perm::DEPT_EXPORT,
                perm::USER_LIST,
                perm::USER_ADD,
                perm::USER_EDIT,
                perm::USER_REMOVE,
                perm::USER_RESET_PWD,
                perm::ROLE_LIST,
                perm::ROLE_ADD,
                perm::ROLE_EDIT,
                perm::ROLE_REMOVE,
                perm::DICT_LIST,
                perm::DICT_ADD,
                perm::DICT_EDIT,
                perm::DICT_REMOVE,
                perm::TOKEN_LIST,
                perm::TOKEN_ADD,
                perm::TOKEN_REMOVE,
                perm::DIVISION_LIST,
            ]
            .map(String::from)
            .to_vec(),
            dept_ids: vec![],
        },
        RoleFields {
            role_key: CLERK_ROLE.into(),
            name: "窗口人员".into(),
            data_scope: "dept".into(),
            status: "active".into(),
            sort_order: 7,
            remark: Some("一窗受理：查询申请人档案（须说明用途）、核验亮证、查阅目录".into()),
            permissions: [
                perm::CATALOG_LIST,
                perm::IDENTITY_VIEW,
                perm::LICENSE_VERIFY,
                perm::DICT_LIST,
                perm::SERVICE_INTAKE,
            ]
            .map(String::from)
            .to_vec(),
            dept_ids: vec![],
        },
        RoleFields {
            role_key: APPROVER_ROLE.into(),
            name: "审批人员".into(),
            data_scope: "dept".into(),
            status: "active".into(),
            sort_order: 8,
            remark: Some("审批办件：查阅申请人档案与一键核查、核验证照、签发证照".into()),
            permissions: [
                perm::CATALOG_LIST,
                perm::IDENTITY_VIEW,
                perm::LICENSE_VERIFY,
                perm::LICENSE_LIST,
                perm::LICENSE_ISSUE,
                perm::DICT_LIST,
                perm::SERVICE_HANDLE,
            ]
            .map(String::from)
            .to_vec(),
            dept_ids: vec![],
        },
        RoleFields {
            role_key: IDENTITY_OFFICER_ROLE.into(),
            name: "一人一档数据专员".into(),
            data_scope: "all".into(),
            status: "active".into(),
            sort_order: 9,
            remark: Some("大数据局：运行人员与企业的全量匹配、复核待定配对、查阅匹配结果".into()),
            permissions: [
                perm::IDENTITY_RESOLVE,
                perm::IDENTITY_VIEW,
                perm::IDENTITY_REVIEW,
                perm::CATALOG_LIST,
                perm::LAKE_LIST,
                perm::LAKE_QUARANTINE,
                perm::DICT_LIST,
            ]
            .map(String::from)
            .to_vec(),
            dept_ids: vec![],
        },
        RoleFields {
            role_key: HOLDER_ROLE.into(),
            name: "持证人".into(),
            data_scope: "self".into(),
            status: "active".into(),
            sort_order: 5,
            remark: Some("公众与企业经办人：自己的电子证照与亮证".into()),
            permissions: vec![perm::WALLET.into(), perm::SERVICE_APPLY.into()],
            dept_ids: vec![],
        },
        RoleFields {
            role_key: SERVICE_ADMIN_ROLE.into(),
            name: "政务服务事项管理员".into(),
            data_scope: "all".into(),
            status: "active".into(),
            sort_order: 10,
            remark: Some("维护政务服务事项、办事指南与审批流程（每次保存为新版本）".into()),
            permissions: [perm::SERVICE_MATTERS, perm::CATALOG_LIST, perm::DICT_LIST]
                .map(String::from)
                .to_vec(),
            dept_ids: vec![],
        },
    ]
}

impl Admin {
    /// Add the built-in roles a newer version introduced to an existing installation. Roles that
    /// exist are left as the administrators edited them.
    pub async fn ensure_builtin_roles(&self) -> Result<Vec<String>> {
        let sys = Caller::system();
        let mut added = Vec::new();
        for r in builtin_roles() {
            if roles::by_key(&self.store, &r.role_key).await?.is_none() {
                let mut tx = self.store.write().await?;
                let id = roles::insert(&mut tx, &r, &sys.username).await?;
                audit::append(
                    &mut tx,
                    &sys.entry(
                        "role.create",
                        "role",
                        Some(id.to_string()),
                        Outcome::Ok,
                        Some("built-in role".into()),
                    ),
                )
                .await?;
                tx.commit().await?;
                added.push(r.role_key.clone());
            }
        }
        self.separate_officers().await?;
        Ok(added)
    }

    /// Three officers apart (三员分立): a role that reads the audit trail and may also change
    /// something (the department officer of older versions read its operation log) loses the
    /// audit permissions; the change is audited.
    async fn separate_officers(&self) -> Result<()> {
        let sys = Caller::system();
        let all = roles::list(
            &self.store,
            None,
            shuju_store::Page::new(Some(1), Some(1000)),
        )
        .await?
        .items;
        for r in all {
            let perms = roles::permissions(&self.store, r.id).await?;
            if perm::separation_error(&perms).is_none() {
                continue;
            }
            let kept: Vec<String> = perms.into_iter().filter(|p| !perm::is_audit(p)).collect();
            let f = RoleFields {
                role_key: r.role_key.clone(),
                name: r.name.clone(),
                data_scope: r.data_scope.clone(),
                status: r.status.clone(),
                sort_order: r.sort_order,
                remark: r.remark.clone(),
                permissions: kept,
                dept_ids: roles::departments(&self.store, r.id).await?,
            };
            let mut tx = self.store.write().await?;
            roles::update(&mut tx, r.id, &f, &sys.username).await?;
            audit::append(
                &mut tx,
                &sys.entry(
                    "role.update",
                    "role",
                    Some(r.id.to_string()),
                    Outcome::Ok,
                    Some(
                        "三员分立: audit permissions removed from a role that changes data".into(),
                    ),
                ),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Seed an empty database. Returns the admin's one-time password, or `None` when the database
    /// already had users.
    pub async fn bootstrap(&self) -> Result<Option<String>> {
        if users::count(&self.store).await? > 0 {
            return Ok(None);
        }
        let sys = Caller::system();
        let mut tx = self.store.write().await?;
        for d in seed_rows() {
            divisions::insert_if_absent(&mut tx, &d).await?;
        }
        let city = departments::DepartmentFields {
            name: "聊城市人民政府".into(),
            division_code: crate::divisions::REFERENCE_CITY.into(),
            uscc: Some(organ_uscc("371500", 1)),
            status: "active".into(),
            sort_order: 1,
            ..Default::default()
        };
        let city_id = departments::insert(&mut tx, &city, &sys.username).await?;
        let bureau = departments::DepartmentFields {
            parent_id: Some(city_id),
            name: "聊城市大数据局".into(),
            short_code: Some("DSJ".into()),
            division_code: crate::divisions::REFERENCE_CITY.into(),
            uscc: Some(organ_uscc("371500", 2)),
            leader: Some("局长".into()),
            contact: Some("0635-0000000".into()),
            status: "active".into(),
            sort_order: 1,
        };
        let bureau_id = departments::insert(&mut tx, &bureau, &sys.username).await?;
        let mut admin_role = 0;
        for r in builtin_roles() {
            let id = roles::insert(&mut tx, &r, &sys.username).await?;
            if r.role_key == ADMIN_ROLE {
                admin_role = id;
            }
        }
        for (key, name, items) in DICTS {
            let tid = dicts::insert_type(
                &mut tx,
                &DictTypeFields {
                    type_key: (*key).into(),
                    name: (*name).into(),
                    status: "active".into(),
                    remark: None,
                },
                &sys.username,
            )
            .await?;
            for (i, (label, value, colour)) in items.iter().enumerate() {
                let f = DictItemFields {
                    label: (*label).into(),
                    value: (*value).into(),
                    sort_order: i64::try_from(i).unwrap_or(0),
                    color: Some((*colour).into()),
                    status: "active".into(),
                };
                dicts::insert_item(&mut tx, tid, &f, &sys.username).await?;
            }
        }
        let pw = password::random();
        let fields = users::UserFields {
            username: ADMIN_USER.into(),
            display_name: "平台管理员".into(),
            dept_id: bureau_id,
            status: "active".into(),
            ..Default::default()
        };
        let uid =
            users::insert(&mut tx, &fields, &password::hash(&pw)?, true, &sys.username).await?;
        users::set_roles(&mut tx, uid, &[admin_role]).await?;
        audit::append(
            &mut tx,
            &sys.entry(
                "system.bootstrap",
                "platform",
                None,
                Outcome::Ok,
                Some("divisions, departments, roles, dictionaries, admin".into()),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(pw))
    }

    /// Grow a bootstrapped database into the demo city: a dozen departments at city, county and
    /// township level and a few users. Returns (username, role, password) of the demo accounts.
    /// Does nothing (returns an empty list) when the demo is already there.
    pub async fn seed_demo(&self) -> Result<Vec<(String, String, String)>> {
        let sys = Caller::system();
        if users::by_username(&self.store, "dsj_officer")
            .await?
            .is_some()
        {
            return Ok(vec![]);
        }
        let find = |name: &'static str| async move {
            departments::all(&self.store)
                .await?
                .into_iter()
                .find(|d| d.name == name)
                .map(|d| d.id)
                .ok_or_else(|| Error::not_found(name))
        };
        let city = find("聊城市人民政府").await?;
        let mut n = 10;
        let mut add = |parent: i64, name: &'static str, div: &'static str, code: &'static str| {
            n += 1;
            let input = DepartmentInput {
                parent_id: Some(parent),
                name: name.into(),
                short_code: Some(code.into()),
                division_code: div.into(),
                uscc: Some(organ_uscc(div, n)),
                leader: None,
                contact: Some(format!("0635-{:07}", 8_300_000 + n)),
                status: None,
                sort_order: Some(i64::from(n)),
            };
            let this = self.clone();
            let sys = sys.clone();
            async move { this.create_department(&sys, input).await.map(|d| d.id) }
        };
        let police = add(city, "聊城市公安局", "371500", "GA").await?;
        let market = add(city, "聊城市市场监督管理局", "371500", "SCJG").await?;
        add(city, "聊城市人力资源和社会保障局", "371500", "RSJ").await?;
        add(city, "聊城市住房公积金管理中心", "371500", "GJJ").await?;
        add(city, "聊城市自然资源和规划局", "371500", "ZRZY").await?;
        let edu = add(city, "聊城市教育和体育局", "371500", "JTJ").await?;
        add(city, "聊城市民政局", "371500", "MZJ").await?;
        add(city, "聊城市生态环境局", "371500", "SHJ").await?;
        let dcf = add(city, "东昌府区人民政府", "371502", "DCF").await?;
        let dcf_data = add(dcf, "东昌府区大数据中心", "371502", "DCF-DSJ").await?;
        add(dcf, "东昌府区古楼街道办事处", "371502", "DCF-GL").await?;
        let yg = add(city, "阳谷县人民政府", "371521", "YG").await?;
        let yg_approval = add(yg, "阳谷县行政审批服务局", "371521", "YG-SP").await?;
        add(yg, "阳谷县狮子楼街道办事处", "371521", "YG-SZL").await?;
        add(city, "聊城经济技术开发区管理委员会", "371571", "KFQ").await?;
        add(city, "聊城市城市管理局", "371500", "CGJ").await?;
        add(city, "聊城市交通运输局", "371500", "JTYS").await?;
        let _ = (police, edu);

        let role = |key: &'static str| async move {
            roles::by_key(&self.store, key)
                .await?
                .map(|r| r.id)
                .ok_or_else(|| Error::not_found(key))
        };
        let officer = role(OFFICER_ROLE).await?;
        let auditor = role(AUDITOR_ROLE).await?;
        let reviewer = role(REVIEWER_ROLE).await?;
        let sysadmin = role(SYSADMIN_ROLE).await?;
        let clerk = role(CLERK_ROLE).await?;
        let approver = role(APPROVER_ROLE).await?;
        let bureau = find("聊城市大数据局").await?;
        let accounts: [(&str, &str, i64, i64, &str); 8] = [
            (
                "dsj_officer",
                "王数据",
                bureau,
                officer,
                "部门数据管理员 (大数据局)",
            ),
            (
                "scjg_officer",
                "李市监",
                market,
                officer,
                "部门数据管理员 (市场监管局)",
            ),
            (
                "dcf_officer",
                "赵东昌",
                dcf_data,
                officer,
                "部门数据管理员 (东昌府区大数据中心)",
            ),
            (
                "yg_clerk",
                "陈窗口",
                yg_approval,
                clerk,
                "窗口人员 (阳谷县行政审批服务局): 查询申请人档案、核验亮证",
            ),
            (
                "yg_approver",
                "吴审批",
                yg_approval,
                approver,
                "审批人员 (阳谷县行政审批服务局): 档案与一键核查、签发证照",
            ),
            (
                "auditor",
                "孙审计",
                bureau,
                auditor,
                "安全审计员: 只读审计日志与登录日志",
            ),
            (
                "sys_admin",
                "钱系统",
                bureau,
                sysadmin,
                "系统管理员: 部门、账号、角色、字典；不读数据与审计日志",
            ),
            (
                "dsj_reviewer",
                "周审核",
                bureau,
                reviewer,
                "目录审核员 (大数据局)",
            ),
        ];
        let mut out = Vec::new();
        for (username, name, dept, role_id, label) in accounts {
            let pw = password::random();
            self.create_user(
                &sys,
                UserInput {
                    username: username.into(),
                    display_name: name.into(),
                    dept_id: dept,
                    phone: Some(format!("1386350{:04}", out.len() + 1)),
                    role_ids: vec![role_id],
                    password: Some(pw.clone()),
                    must_change_password: Some(false),
                    ..Default::default()
                },
            )
            .await?;
            out.push((username.to_owned(), label.to_owned(), pw));
        }
        Ok(out)
    }
}
