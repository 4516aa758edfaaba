//! Permission strings (`module:object:action`, down to buttons) and their matching.
//!
//! A granted pattern may use `*` for any segment: `system:user:*`, `*:*:*`.

pub const ALL: &str = "*:*:*";

pub const DEPT_LIST: &str = "system:dept:list";
pub const DEPT_ADD: &str = "system:dept:add";
pub const DEPT_EDIT: &str = "system:dept:edit";
pub const DEPT_REMOVE: &str = "system:dept:remove";
pub const DEPT_IMPORT: &str = "system:dept:import";
pub const DEPT_EXPORT: &str = "system:dept:export";
pub const USER_LIST: &str = "system:user:list";
pub const USER_ADD: &str = "system:user:add";
pub const USER_EDIT: &str = "system:user:edit";
pub const USER_REMOVE: &str = "system:user:remove";
pub const USER_RESET_PWD: &str = "system:user:resetPwd";
pub const ROLE_LIST: &str = "system:role:list";
pub const ROLE_ADD: &str = "system:role:add";
pub const ROLE_EDIT: &str = "system:role:edit";
pub const ROLE_REMOVE: &str = "system:role:remove";
pub const DICT_LIST: &str = "system:dict:list";
pub const DICT_ADD: &str = "system:dict:add";
pub const DICT_EDIT: &str = "system:dict:edit";
pub const DICT_REMOVE: &str = "system:dict:remove";
pub const TOKEN_LIST: &str = "system:token:list";
pub const TOKEN_ADD: &str = "system:token:add";
pub const TOKEN_REMOVE: &str = "system:token:remove";
pub const DIVISION_LIST: &str = "system:division:list";
pub const OPERLOG_LIST: &str = "monitor:operlog:list";
pub const LOGININFOR_LIST: &str = "monitor:logininfor:list";
pub const METRICS_VIEW: &str = "monitor:metrics:view";

pub const CATALOG_LIST: &str = "catalog:entry:list";
pub const CATALOG_ADD: &str = "catalog:entry:add";
pub const CATALOG_EDIT: &str = "catalog:entry:edit";
pub const CATALOG_SUBMIT: &str = "catalog:entry:submit";
pub const CATALOG_REVIEW: &str = "catalog:entry:review";
pub const CATALOG_OFFLINE: &str = "catalog:entry:offline";
pub const CATALOG_REMOVE: &str = "catalog:entry:remove";
pub const CATALOG_IMPORT: &str = "catalog:entry:import";
pub const CATALOG_EXPORT: &str = "catalog:entry:export";
pub const CORRECTION_ADD: &str = "catalog:correction:add";
pub const CORRECTION_ANSWER: &str = "catalog:correction:answer";
pub const SYSTEM_LIST: &str = "catalog:system:list";
pub const SYSTEM_ADD: &str = "catalog:system:add";
pub const SYSTEM_EDIT: &str = "catalog:system:edit";
pub const ELEMENT_EDIT: &str = "catalog:element:edit";

pub const EXCHANGE_REQUEST: &str = "exchange:request:add";
pub const EXCHANGE_LIST: &str = "exchange:request:list";
pub const EXCHANGE_CHECK: &str = "exchange:request:check";
pub const EXCHANGE_ANSWER: &str = "exchange:request:answer";
pub const GRANT_REVOKE: &str = "exchange:grant:revoke";
pub const GRANT_TERMS: &str = "exchange:grant:terms";
pub const GATEWAY_CALL: &str = "exchange:gateway:call";
pub const DATA_USE_VIEW: &str = "exchange:datause:view";
pub const USAGE_VIEW: &str = "exchange:usage:view";
pub const PROJECT_ADD: &str = "exchange:project:add";
pub const PROJECT_LIST: &str = "exchange:project:list";
pub const PROJECT_REVIEW: &str = "exchange:project:review";

pub const LAKE_LIST: &str = "lake:table:list";
pub const LAKE_EDIT: &str = "lake:table:edit";
pub const LAKE_INGEST: &str = "lake:data:ingest";
pub const LAKE_QUERY: &str = "lake:data:query";
pub const LAKE_UNMASKED: &str = "lake:data:unmasked";
pub const LAKE_QUARANTINE: &str = "lake:quarantine:list";
pub const LAKE_BUILD: &str = "lake:base:build";

pub const IDENTITY_RESOLVE: &str = "identity:resolve:run";
pub const IDENTITY_VIEW: &str = "identity:file:view";
pub const IDENTITY_REVIEW: &str = "identity:review:decide";
pub const IDENTITY_RULES: &str = "identity:rule:edit";

pub const LICENSE_ISSUE: &str = "license:license:issue";
pub const LICENSE_LIST: &str = "license:license:list";
pub const LICENSE_REVOKE: &str = "license:license:revoke";
pub const LICENSE_SHOW: &str = "license:license:show";
pub const LICENSE_VERIFY: &str = "license:license:verify";
pub const LICENSE_KEYS: &str = "license:key:rotate";
pub const WALLET: &str = "license:wallet:use";

pub const SERVICE_MATTERS: &str = "service:matter:edit";
pub const SERVICE_INTAKE: &str = "service:case:intake";
pub const SERVICE_HANDLE: &str = "service:task:handle";
pub const SERVICE_APPLY: &str = "service:case:apply";

/// Every permission the platform checks, with its Chinese and English label, for the role editor.
pub const CATALOGUE: &[(&str, &str, &str)] = &[
    (DEPT_LIST, "部门查询", "List departments"),
    (DEPT_ADD, "部门新增", "Add departments"),
    (DEPT_EDIT, "部门修改", "Edit departments"),
    (DEPT_REMOVE, "部门删除", "Remove departments"),
    (DEPT_IMPORT, "部门导入", "Import departments"),
    (DEPT_EXPORT, "部门导出", "Export departments"),
    (USER_LIST, "用户查询", "List users"),
    (USER_ADD, "用户新增", "Add users"),
    (USER_EDIT, "用户修改", "Edit users"),
    (USER_REMOVE, "用户删除", "Remove users"),
    (USER_RESET_PWD, "重置密码", "Reset passwords"),
    (ROLE_LIST, "角色查询", "List roles"),
    (ROLE_ADD, "角色新增", "Add roles"),
    (ROLE_EDIT, "角色修改", "Edit roles"),
    (ROLE_REMOVE, "角色删除", "Remove roles"),
    (DICT_LIST, "字典查询", "List dictionaries"),
    (DICT_ADD, "字典新增", "Add dictionaries"),
    (DICT_EDIT, "字典修改", "Edit dictionaries"),
    (DICT_REMOVE, "字典删除", "Remove dictionaries"),
    (TOKEN_LIST, "令牌查询", "List API tokens"),
    (TOKEN_ADD, "令牌签发", "Issue API tokens"),
    (TOKEN_REMOVE, "令牌吊销", "Revoke API tokens"),
    (DIVISION_LIST, "行政区划查询", "List divisions"),
    (OPERLOG_LIST, "操作日志", "Operation log"),
    (LOGININFOR_LIST, "登录日志", "Login log"),
    (METRICS_VIEW, "运行指标", "Scrape the Prometheus metrics"),
    (CATALOG_LIST, "目录查询", "List catalog entries"),
    (CATALOG_ADD, "目录新增", "Add catalog entries"),
    (CATALOG_EDIT, "目录修改", "Edit catalog entries"),
    (CATALOG_SUBMIT, "目录提交审核", "Submit entries for review"),
    (CATALOG_REVIEW, "目录审核", "Review catalog entries"),
    (CATALOG_OFFLINE, "目录下线", "Take entries offline"),
    (CATALOG_REMOVE, "目录删除", "Remove draft entries"),
    (CATALOG_IMPORT, "目录导入", "Import the catalog"),
    (CATALOG_EXPORT, "目录导出", "Export the catalog"),
    (CORRECTION_ADD, "目录纠错", "Report catalog errors"),
    (CORRECTION_ANSWER, "纠错答复", "Answer error reports"),
    (SYSTEM_LIST, "信息系统查询", "List information systems"),
    (SYSTEM_ADD, "信息系统新增", "Add information systems"),
    (SYSTEM_EDIT, "信息系统修改", "Edit information systems"),
    (
        ELEMENT_EDIT,
        "数据元维护",
        "Edit data elements, code maps and fact definitions",
    ),
    (EXCHANGE_REQUEST, "共享申请", "Request shared data"),
    (
        EXCHANGE_LIST,
        "共享申请查询",
        "List sharing requests and grants",
    ),
    (EXCHANGE_CHECK, "合规审核", "Check requests (bureau)"),
    (EXCHANGE_ANSWER, "共享答复", "Answer requests (provider)"),
    (GRANT_REVOKE, "授权撤销", "Revoke grants"),
    (
        GRANT_TERMS,
        "授权使用条件",
        "Set a grant's unmasked items, quotas and rate",
    ),
    (
        GATEWAY_CALL,
        "数据服务调用",
        "Call the data-service gateway",
    ),
    (
        DATA_USE_VIEW,
        "数据使用记录查询",
        "See who used a citizen's or enterprise's data",
    ),
    (
        USAGE_VIEW,
        "共享交换运行监测",
        "See the gateway's usage and health and each department's sharing rate",
    ),
    (PROJECT_ADD, "项目申报", "Register IT projects"),
    (PROJECT_LIST, "项目查询", "List IT projects"),
    (PROJECT_REVIEW, "项目审核", "Review IT projects"),
    (
        LAKE_LIST,
        "数据湖表查询",
        "List lake tables, versions and quality",
    ),
    (
        LAKE_EDIT,
        "数据湖映射维护",
        "Set up lake tables and their mapping",
    ),
    (LAKE_INGEST, "数据归集", "Load deliveries into the lake"),
    (LAKE_QUERY, "数据湖查询", "Query the lake with SQL"),
    (
        LAKE_UNMASKED,
        "查看未脱敏数据",
        "See personal data unmasked",
    ),
    (LAKE_QUARANTINE, "隔离区查询", "See rejected rows"),
    (LAKE_BUILD, "基础库构建", "Build base libraries"),
    (IDENTITY_RESOLVE, "实体解析", "Run entity resolution"),
    (
        IDENTITY_VIEW,
        "一人一档查询",
        "Search and view person and enterprise files, match a record",
    ),
    (
        IDENTITY_REVIEW,
        "人工复核",
        "Decide pairs in the review queue",
    ),
    (LICENSE_ISSUE, "证照签发", "Issue e-licenses"),
    (LICENSE_LIST, "证照查询", "List e-licenses"),
    (
        LICENSE_REVOKE,
        "证照吊销/挂起",
        "Revoke or suspend e-licenses",
    ),
    (LICENSE_SHOW, "代办亮证", "Show an e-license for its holder"),
    (
        WALLET,
        "我的证照",
        "Use one's own wallet: list and show the licenses of the holder the account is bound to",
    ),
    (LICENSE_VERIFY, "证照核验", "Verify shown e-licenses"),
    (LICENSE_KEYS, "签发密钥轮换", "Rotate issuer keys"),
    (
        SERVICE_MATTERS,
        "事项与流程维护",
        "Edit service matters and their processes",
    ),
    (
        SERVICE_INTAKE,
        "一窗受理",
        "Open cases for applicants at a service centre",
    ),
    (
        SERVICE_HANDLE,
        "办件审批",
        "Act on the service tasks of your department and role",
    ),
    (
        SERVICE_APPLY,
        "网上申办",
        "Apply for matters, see your own cases",
    ),
];

/// The security auditor's permissions (三员分立, GB/T 22239 level 3): reading the audit trail
/// and the login log. No wildcard grants them — the super administrator and the system
/// administrator do not read the trail of their own actions — and an account that holds one
/// changes nothing (see [`is_change`] and `Caller::can`).
pub const AUDIT_ONLY: &[&str] = &[OPERLOG_LIST, LOGININFOR_LIST];

/// Is `p` one of the auditor's own permissions?
pub fn is_audit(p: &str) -> bool {
    AUDIT_ONLY.contains(&p)
}

/// Does holding `pattern` let its holder do more than read? (`list`, `view` and `export` read;
/// every other action, and any wildcard action, may change something.)
pub fn is_change(pattern: &str) -> bool {
    !matches!(pattern.rsplit(':').next(), Some("list" | "view" | "export"))
        || pattern.split(':').count() < 3
}

/// Does `pattern` grant `perm`? Segments are compared one by one; `*` matches any one segment,
/// and a trailing `*` matches the rest. The auditor's permissions are granted only by name.
pub fn matches(pattern: &str, perm: &str) -> bool {
    if is_audit(perm) {
        return pattern == perm;
    }
    pattern_matches(pattern, perm)
}

/// May a holder of `pattern` hand `perm` to a role or an account? As [`matches`], except that a
/// wildcard may hand out the auditor's permissions it does not itself use (the administrator
/// appoints the auditor; the appointment is in the audit trail the auditor reads).
pub fn grantable(pattern: &str, perm: &str) -> bool {
    pattern_matches(pattern, perm)
}

/// Three officers apart: a set of permissions that reads the audit trail may change nothing.
pub fn separation_error(perms: &[String]) -> Option<String> {
    let audit = perms.iter().find(|p| is_audit(p))?;
    perms.iter().find(|p| is_change(p)).map(|p| {
        format!("三员分立: {audit} (security auditor) cannot be held with {p}, which changes data")
    })
}

fn pattern_matches(pattern: &str, perm: &str) -> bool {
    let mut p = pattern.split(':');
    let mut q = perm.split(':');
    loop {
        match (p.next(), q.next()) {
            (None, None) => return true,
            (Some("*"), None) => return true,
            (Some(a), Some(b)) if a == "*" || a == b => {
                if a == "*" && p.clone().next().is_none() {
                    return true;
                }
            }
            _ => return false,
        }
    }
}

/// Is this a well-formed permission pattern?
pub fn is_valid(pattern: &str) -> bool {
    let segs: Vec<&str> = pattern.split(':').collect();
    (1..=4).contains(&segs.len())
        && segs.iter().all(|s| {
            *s == "*"
                || (!s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        assert!(matches("*:*:*", "system:user:list"));
        assert!(matches("system:user:*", "system:user:list"));
        assert!(matches("system:*", "system:user:list"));
        assert!(matches("system:user:list", "system:user:list"));
        assert!(!matches("system:user:list", "system:user:add"));
        assert!(!matches("system:dept:*", "system:user:list"));
        assert!(!matches("system:user", "system:user:list"));
        assert!(is_valid("catalog:entry:edit"));
        assert!(!is_valid("catalog::edit"));
        assert!(!is_valid("catalog:entry edit"));
    }

    #[test]
    fn no_wildcard_reads_the_audit_trail_and_an_auditor_changes_nothing() {
        assert!(!matches("*:*:*", OPERLOG_LIST));
        assert!(!matches("monitor:*", OPERLOG_LIST));
        assert!(!matches("monitor:operlog:*", OPERLOG_LIST));
        assert!(matches(OPERLOG_LIST, OPERLOG_LIST));
        assert!(grantable("*:*:*", OPERLOG_LIST));
        assert!(is_change(USER_ADD) && is_change("*:*:*") && is_change("catalog:*"));
        assert!(!is_change(USER_LIST) && !is_change(USAGE_VIEW) && !is_change(CATALOG_EXPORT));
        let auditor: Vec<String> = [OPERLOG_LIST, USER_LIST].map(String::from).to_vec();
        assert!(separation_error(&auditor).is_none());
        let mixed: Vec<String> = [OPERLOG_LIST, USER_ADD].map(String::from).to_vec();
        assert!(separation_error(&mixed).is_some());
    }
}
