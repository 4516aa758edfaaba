//! The e-license registry: license types with their claim schemas, issuer keys (rotating, the old
//! ones kept in the trust list), issuing, renewal, revocation, showing and verifying.

use crate::jose::{self, b64};
use crate::kek::{self, KeyWrap};
use crate::nonces::Nonces;
use crate::sdjwt::{self, Credential, Expect, Status, TrustList, Verified};
use crate::seal;
use crate::status::StatusList;
use p256::ecdsa::SigningKey;
use serde::Serialize;
use serde_json::{Map, Value, json};
use shuju_admin::departments;
use shuju_admin::{Admin, Caller, perm};
use shuju_store::audit::{self, Outcome};
use shuju_store::license::{self as store, LicenseRow, LicenseType};
use shuju_store::{Page, Paged, Store};
use shuju_types::{CitizenId, CreditCode, Error, LicenseId, Result};

/// How many licenses one status list holds.
pub const STATUS_LIST_SIZE: usize = 1 << 20;
/// The URI path of the status list (appended to the platform's base URL).
pub const STATUS_PATH: &str = "/api/v1/licenses/status/1";
/// How long a status list token or trust list may be cached.
pub const TTL_SECONDS: i64 = 3600;

/// The nine types the reference city uses. Type codes: the State Council's definer USCC + 3 digits.
const DEFINER: &str = "11100000000013127D";
type TypeSeed = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    Option<i64>,
);
const TYPES: &[TypeSeed] = &[
    (
        "business_licence",
        "营业执照",
        "001",
        "enterprise",
        &[
            ("name", "名称"),
            ("uscc", "统一社会信用代码"),
            ("legal_representative", "法定代表人"),
            ("registered_capital", "注册资本"),
            ("established", "成立日期"),
            ("address", "住所"),
            ("scope", "经营范围"),
        ],
        None,
    ),
    (
        "driving_licence",
        "机动车驾驶证",
        "002",
        "citizen",
        &[
            ("name", "姓名"),
            ("citizen_id", "公民身份号码"),
            ("vehicle_class", "准驾车型"),
            ("first_issued", "初次领证日期"),
            ("address", "住址"),
        ],
        Some(6 * 365),
    ),
    (
        "vehicle_licence",
        "机动车行驶证",
        "003",
        "citizen",
        &[
            ("plate", "号牌号码"),
            ("owner", "所有人"),
            ("vehicle_type", "车辆类型"),
            ("vin", "车辆识别代号"),
            ("registered", "注册日期"),
        ],
        None,
    ),
    (
        "real_estate_certificate",
        "不动产权证书",
        "004",
        "citizen",
        &[
            ("owner", "权利人"),
            ("citizen_id", "公民身份号码"),
            ("unit_no", "不动产单元号"),
            ("location", "坐落"),
            ("area", "面积"),
            ("use", "用途"),
        ],
        None,
    ),
    (
        "marriage_certificate",
        "结婚证",
        "005",
        "citizen",
        &[
            ("name", "姓名"),
            ("citizen_id", "公民身份号码"),
            ("spouse", "配偶姓名"),
            ("spouse_id", "配偶身份号码"),
            ("registered", "登记日期"),
        ],
        None,
    ),
    (
        "divorce_certificate",
        "离婚证",
        "006",
        "citizen",
        &[
            ("name", "姓名"),
            ("citizen_id", "公民身份号码"),
            ("former_spouse", "原配偶姓名"),
            ("registered", "登记日期"),
        ],
        None,
    ),
    (
        "disability_certificate",
        "残疾人证",
        "007",
        "citizen",
        &[
            ("name", "姓名"),
            ("citizen_id", "公民身份号码"),
            ("category", "残疾类别"),
            ("grade", "残疾等级"),
            ("address", "住址"),
        ],
        Some(10 * 365),
    ),
    (
        "vehicle_entry_pass",
        "货车城区通行证",
        "008",
        "citizen",
        &[
            ("name", "姓名"),
            ("citizen_id", "公民身份号码"),
            ("plate", "号牌号码"),
            ("zone", "通行区域"),
        ],
        Some(365),
    ), // An individual business (个体工商户) is registered to the natural person who runs it: the
    // licence is held by the operator, under their citizen ID.
    (
        "individual_business_licence",
        "个体工商户营业执照",
        "009",
        "citizen",
        &[
            ("name", "经营者姓名"),
            ("citizen_id", "公民身份号码"),
            ("trade_name", "个体工商户名称"),
            ("premises", "经营场所"),
        ],
        None,
    ),
];

/// Matters that accept a shown license, with the claims each needs.
const MATTERS: &[(&str, &str, &str, &[&str])] = &[
    (
        "vehicle_entry_pass",
        "货车城区通行证",
        "driving_licence",
        &["name", "vehicle_class"],
    ),
    (
        "individual_business_registration",
        "个体工商户登记",
        "business_licence",
        &["name", "uscc", "legal_representative"],
    ),
    (
        "housing_fund_withdrawal",
        "住房公积金提取",
        "real_estate_certificate",
        &["owner", "unit_no", "area"],
    ),
    (
        "low_income_review",
        "低保资格审核",
        "disability_certificate",
        &["name", "category", "grade"],
    ),
    (
        "marriage_status_check",
        "婚姻状况核验",
        "marriage_certificate",
        &["name", "spouse", "registered"],
    ),
];

/// Where a holder's newest license of a type stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    Valid(String),
    /// Its validity ended (the license ID).
    Expired(String),
    /// Revoked or suspended (the license ID and its status).
    Withdrawn(String, String),
    Missing,
}

/// A decision receipt's signatures: ES256 (compact JWS over the payload) and the SM2 seal over
/// the payload's canonical JSON, each with its key's id in the trust list.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Signed {
    pub jws: String,
    pub es256_kid: String,
    pub seal: String,
    pub sm2_kid: String,
}

/// What an official submits to issue a license.
#[derive(Clone, Debug)]
pub struct IssueInput {
    pub type_key: String,
    pub holder_id: String,
    pub holder_name: String,
    pub claims: Map<String, Value>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    /// The holder's own public key (a P-256 JWK) when the holder keeps the key in a wallet of
    /// its own; `None`: the platform's custodial wallet makes and keeps (sealed) the holder key.
    pub holder_jwk: Option<Value>,
}

/// A license with its type, for views.
#[derive(Clone, Debug)]
pub struct LicenseView {
    pub row: LicenseRow,
    pub type_key: String,
    pub type_name: String,
}

/// A presentation built for a matter.
#[derive(Clone, Debug)]
pub struct Shown {
    pub presentation: String,
    pub claims: Vec<String>,
    pub show_id: i64,
}

/// What verification reads: the trust list and the status list.
type Snapshot = std::sync::Arc<(TrustList, StatusList)>;

#[derive(Clone)]
pub struct Licenses {
    admin: Admin,
    pub(crate) store: Store,
    base_url: String,
    /// Seals the private keys the registry stores (see [`crate::kek`]).
    kek: std::sync::Arc<dyn KeyWrap>,
    /// Verifiers' nonces, each used once.
    nonces: std::sync::Arc<Nonces>,
    /// The trust list and status list as verification reads them, refreshed every second and
    /// after each write through this instance.
    cache: std::sync::Arc<shuju_store::Cached<(TrustList, StatusList)>>,
    /// The license types, read by nearly every request (cleared when this registry adds one).
    types: std::sync::Arc<shuju_store::Cached<Vec<LicenseType>>>,
    /// The active signing keys, unsealed and parsed (cleared when this registry rotates or
    /// reseals them; another process's rotation shows within a second).
    keys: std::sync::Arc<shuju_store::Cached<SigningKeys>>,
    /// Status list indices taken from the store a block at a time, so a license is signed
    /// before its write begins (an index taken and never used stays unset: nothing refers to it).
    indices: std::sync::Arc<shuju_store::Numbers>,
}

/// How many status list indices one write takes ahead.
const INDEX_BLOCK: i64 = 64;

/// A license checked and signed, not yet written ([`Licenses::prepare`], [`Licenses::write`]).
pub struct Prepared {
    row: LicenseRow,
    predecessor: Option<(i64, i64)>,
    audit: audit::AuditEntry,
}

impl Prepared {
    /// The identifier the license will have.
    pub fn license_id(&self) -> &str {
        &self.row.license_id
    }
}

/// The active ES256 key and SM2 seal key, each with its id.
type SigningKeys = ((String, SigningKey), (String, sm2::dsa::SigningKey));

impl std::fmt::Debug for Licenses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Licenses")
            .field("base_url", &self.base_url)
            .finish()
    }
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

fn date_secs(d: &str) -> Option<i64> {
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
}

impl Licenses {
    /// Open the registry; seed the types, matters, status list and keys on first use. Private
    /// keys are sealed under `kek`; keys an older version stored in clear are sealed now.
    pub async fn open(
        admin: Admin,
        base_url: &str,
        kek: std::sync::Arc<dyn KeyWrap>,
    ) -> Result<Licenses> {
        let l = Licenses {
            store: admin.store().clone(),
            admin,
            base_url: base_url.trim_end_matches('/').to_owned(),
            kek,
            nonces: Default::default(),
            cache: Default::default(),
            types: Default::default(),
            keys: Default::default(),
            indices: std::sync::Arc::new(shuju_store::Numbers::new(
                shuju_store::Counter::StatusIndices,
                INDEX_BLOCK,
            )),
        };
        l.seal_keys_in_clear().await?;
        l.seed().await?;
        Ok(l)
    }

    /// Seal every stored private key under `to` (keys stored in clear by older versions, or all
    /// of them when the KEK changes); one transaction, audited. `from` opens the sealed ones.
    async fn reseal(
        &self,
        from: &dyn KeyWrap,
        to: &dyn KeyWrap,
        only_clear: bool,
    ) -> Result<usize> {
        let open = |stored: &str, name: &str| -> Result<Vec<u8>> {
            if kek::is_wrapped(stored) {
                from.unwrap(stored, name)
            } else {
                hex::decode(stored).map_err(Error::internal)
            }
        };
        let keys = store::keys(&self.store).await?;
        let holders = store::holder_secrets(&self.store).await?;
        let mut tx = self.store.write().await?;
        let mut n = 0;
        for k in keys {
            if only_clear && kek::is_wrapped(&k.secret) {
                continue;
            }
            let plain = open(&k.secret, &k.kid)?;
            store::set_key_secret(&mut tx, &k.kid, &to.wrap(&plain, &k.kid)?).await?;
            n += 1;
        }
        for (id, license_id, secret) in holders {
            if only_clear && kek::is_wrapped(&secret) {
                continue;
            }
            let plain = open(&secret, &license_id)?;
            store::set_holder_secret(&mut tx, id, &to.wrap(&plain, &license_id)?).await?;
            n += 1;
        }
        if n > 0 {
            audit::append(
                &mut tx,
                &Caller::system().entry(
                    "license.key.seal",
                    "license_key",
                    None,
                    Outcome::Ok,
                    Some(format!("{n} private keys sealed under KEK {}", to.id())),
                ),
            )
            .await?;
        }
        tx.commit().await?;
        self.keys.clear();
        Ok(n)
    }

    async fn seal_keys_in_clear(&self) -> Result<usize> {
        let kek = self.kek.clone();
        self.reseal(kek.as_ref(), kek.as_ref(), true).await
    }

    /// Seal every private key again under a new KEK (its rotation). The registry keeps using
    /// the old one until it is opened with the new.
    pub async fn reseal_under(&self, new: &dyn KeyWrap) -> Result<usize> {
        let kek = self.kek.clone();
        self.reseal(kek.as_ref(), new, false).await
    }

    /// Open a stored private key.
    fn unseal(&self, stored: &str, name: &str) -> Result<Vec<u8>> {
        self.kek.unwrap(stored, name)
    }

    pub fn issuer_uri(&self) -> String {
        format!("{}/issuers/371500", self.base_url)
    }

    pub fn status_uri(&self) -> String {
        format!("{}{STATUS_PATH}", self.base_url)
    }

    async fn seed(&self) -> Result<()> {
        let sys = Caller::system();
        let have = store::types(&self.store).await?;
        let first = have.is_empty();
        let missing: Vec<_> = TYPES
            .iter()
            .filter(|t| !have.iter().any(|h| h.type_key == t.0))
            .collect();
        if !missing.is_empty() {
            let mut tx = self.store.write().await?;
            for (key, name, n, kind, claims, days) in missing.iter().copied() {
                let claims: Vec<Value> = claims
                    .iter()
                    .map(|(c, l)| json!({"name": c, "label": l}))
                    .collect();
                let t = LicenseType {
                    id: 0,
                    type_key: (*key).into(),
                    name: (*name).into(),
                    type_code: format!("{DEFINER}{n}"),
                    holder_kind: (*kind).into(),
                    claims: Value::Array(claims).to_string(),
                    validity_days: *days,
                    created_by: sys.username.clone(),
                    created_at: String::new(),
                };
                store::insert_type(&mut tx, &t).await?;
            }
            if first {
                for (code, name, t, claims) in MATTERS {
                    store::insert_matter(&mut tx, code, name, t, &json!(claims).to_string())
                        .await?;
                }
            }
            audit::append(
                &mut tx,
                &sys.entry(
                    "license.seed",
                    "license_type",
                    None,
                    Outcome::Ok,
                    Some(format!("{} types", missing.len())),
                ),
            )
            .await?;
            tx.commit().await?;
            self.types.clear();
        }
        if store::status_list(&self.store).await?.is_none() {
            let mut tx = self.store.write().await?;
            store::save_status_list(
                &mut tx,
                STATUS_LIST_SIZE as i64,
                0,
                &hex::encode(vec![0u8; STATUS_LIST_SIZE / 4]),
            )
            .await?;
            tx.commit().await?;
        }
        let keys = store::keys(&self.store).await?;
        for alg in ["ES256", "SM2"] {
            if !keys.iter().any(|k| k.alg == alg && k.retired_at.is_none()) {
                self.rotate_unchecked(alg).await?;
            }
        }
        Ok(())
    }

    async fn rotate_unchecked(&self, alg: &str) -> Result<String> {
        let kid = format!(
            "{}-{}",
            alg.to_lowercase(),
            chrono::Utc::now().format("%Y%m%d%H%M%S%3f")
        );
        let (public, secret) = match alg {
            "ES256" => {
                let k = jose::generate();
                (
                    jose::jwk(k.verifying_key()).to_string(),
                    self.kek.wrap(&k.to_bytes(), &kid)?,
                )
            }
            _ => {
                let k = seal::generate()?;
                (seal::public_hex(&k), self.kek.wrap(&k.to_bytes(), &kid)?)
            }
        };
        let mut tx = self.store.write().await?;
        store::retire_keys(&mut tx, alg).await?;
        store::insert_key(&mut tx, &kid, alg, &public, &secret).await?;
        audit::append(
            &mut tx,
            &Caller::system().entry(
                "license.key.rotate",
                "license_key",
                Some(kid.clone()),
                Outcome::Ok,
                Some(alg.into()),
            ),
        )
        .await?;
        tx.commit().await?;
        self.keys.clear();
        self.invalidate();
        Ok(kid)
    }

    /// Rotate an issuer key; old keys stay in the trust list.
    pub async fn rotate(&self, c: &Caller, alg: &str) -> Result<String> {
        self.require(c, perm::LICENSE_KEYS, "license.key.rotate")
            .await?;
        if !["ES256", "SM2"].contains(&alg) {
            return Err(Error::invalid("alg", "must be ES256 or SM2"));
        }
        self.rotate_unchecked(alg).await
    }

    /// The active key of `alg`: its id and its private key, unsealed.
    async fn active_key(&self, alg: &str) -> Result<(String, Vec<u8>)> {
        let k = store::keys(&self.store)
            .await?
            .into_iter()
            .rev()
            .find(|k| k.alg == alg && k.retired_at.is_none())
            .ok_or_else(|| Error::internal(format!("no active {alg} key")))?;
        let secret = self.unseal(&k.secret, &k.kid)?;
        Ok((k.kid, secret))
    }

    /// The active ES256 and SM2 keys with their ids, unsealed.
    async fn signing_keys(&self) -> Result<std::sync::Arc<SigningKeys>> {
        self.keys
            .get(|| async {
                let (es_kid, es_secret) = self.active_key("ES256").await?;
                let es_key = SigningKey::from_slice(&es_secret)
                    .map_err(|e| Error::internal(e.to_string()))?;
                let (sm_kid, sm_secret) = self.active_key("SM2").await?;
                let sm_key = sm2::dsa::SigningKey::from_slice(seal::DISTID, &sm_secret)
                    .map_err(|e| Error::internal(e.to_string()))?;
                Ok(((es_kid, es_key), (sm_kid, sm_key)))
            })
            .await
    }

    /// The license types (held for a moment: see [`shuju_store::Cached`]).
    async fn cached_types(&self) -> Result<std::sync::Arc<Vec<LicenseType>>> {
        self.types.get(|| store::types(&self.store)).await
    }

    /// The published trust list: every ES256 and SM2 key, active or retired.
    pub async fn trust_list(&self) -> Result<Value> {
        let keys = store::keys(&self.store).await?;
        Ok(json!({
            "issuer": self.issuer_uri(),
            "ttl": TTL_SECONDS,
            "iat": now_secs(),
            "keys": keys.iter().map(|k| json!({
                "kid": k.kid, "alg": k.alg, "iss": self.issuer_uri(),
                "public": if k.alg == "ES256" { serde_json::from_str::<Value>(&k.public).unwrap_or(Value::Null) } else { json!(k.public) },
                "created_at": k.created_at, "retired_at": k.retired_at,
            })).collect::<Vec<_>>(),
        }))
    }

    pub async fn trust(&self) -> Result<TrustList> {
        let mut t = TrustList::default();
        for k in store::keys(&self.store)
            .await?
            .into_iter()
            .filter(|k| k.alg == "ES256")
        {
            let jwk: Value = serde_json::from_str(&k.public).map_err(Error::internal)?;
            t.add(&k.kid, &self.issuer_uri(), jose::from_jwk(&jwk)?);
        }
        Ok(t)
    }

    async fn status_list(&self) -> Result<StatusList> {
        let row = store::status_list(&self.store)
            .await?
            .ok_or_else(|| Error::internal("no status list"))?;
        StatusList::from_bytes(hex::decode(row.bytes).map_err(Error::internal)?)
    }

    /// The offline verifier bundle: the trust list and the signed status list, with the time after
    /// which a window must fetch a fresh one.
    pub async fn bundle(&self) -> Result<Value> {
        let now = now_secs();
        Ok(json!({
            "trust_list": self.trust_list().await?,
            "status_list_token": self.status_token().await?,
            "fetched_at": now,
            "stale_after": now + TTL_SECONDS,
        }))
    }

    /// The signed status list token.
    pub async fn status_token(&self) -> Result<String> {
        let (kid, secret) = self.active_key("ES256").await?;
        let key = SigningKey::from_slice(&secret).map_err(|e| Error::internal(e.to_string()))?;
        self.status_list()
            .await?
            .token(&self.status_uri(), &kid, now_secs(), TTL_SECONDS, &key)
    }

    pub async fn types(&self) -> Result<Vec<LicenseType>> {
        Ok(self.cached_types().await?.to_vec())
    }

    /// The license ID (GB/T 36904) of a valid, unexpired license of a type (by key or name) that
    /// `holder` holds: which license serves a service case's material, for a case the holder
    /// consented to be read for. Nothing of its claims.
    pub async fn held(&self, holder: &str, license_type: &str) -> Result<Option<String>> {
        Ok(match self.standing(holder, license_type).await? {
            Standing::Valid(id) => Some(id),
            _ => None,
        })
    }

    /// Where `holder`'s newest license of a type (by key or name) stands today: valid, expired,
    /// withdrawn (revoked or suspended), or none held. Nothing of its claims.
    pub async fn standing(&self, holder: &str, license_type: &str) -> Result<Standing> {
        let Some(t) = self
            .cached_types()
            .await?
            .iter()
            .find(|t| t.type_key == license_type || t.name == license_type)
            .cloned()
        else {
            return Ok(Standing::Missing);
        };
        let Some(r) = store::newest_of(&self.store, holder, t.id).await? else {
            return Ok(Standing::Missing);
        };
        let today = chrono::Local::now().format("%Y-%m-%d").to_string();
        Ok(match r.status.as_str() {
            "valid" if r.valid_until.as_deref().is_some_and(|u| u < today.as_str()) => {
                Standing::Expired(r.license_id)
            }
            "valid" => Standing::Valid(r.license_id),
            _ => Standing::Withdrawn(r.license_id, r.status),
        })
    }

    pub async fn matters(&self) -> Result<Vec<store::Matter>> {
        store::matters(&self.store).await
    }

    async fn require(&self, c: &Caller, p: &str, action: &str) -> Result<()> {
        c.require(&self.store, p, action, "license", None).await
    }

    async fn refuse(&self, c: &Caller, action: &str, e: Error) -> Error {
        let detail = e
            .field
            .as_ref()
            .map(|f| format!("field: {f}"))
            .or_else(|| Some(e.code.as_str().into()));
        let _ = audit::record(
            &self.store,
            &c.entry(action, "license", None, Outcome::Rejected, detail),
        )
        .await;
        e
    }

    /// Issue a license (version 001), or with `predecessor`, the next version of one.
    pub async fn issue(
        &self,
        c: &Caller,
        input: IssueInput,
        predecessor: Option<&LicenseRow>,
    ) -> Result<LicenseView> {
        self.issue_from(c, input, predecessor, None).await
    }

    /// Issue a license; `from`: the record it is issued from (a lake record `table:key`, or a
    /// service case `case:<id>`) and the department that holds or decided it, which is then the
    /// issuer.
    pub async fn issue_from(
        &self,
        c: &Caller,
        input: IssueInput,
        predecessor: Option<&LicenseRow>,
        from: Option<(&str, i64)>,
    ) -> Result<LicenseView> {
        let p = self
            .prepare(c, input, predecessor, from.map(|(_, dept)| dept))
            .await?;
        let mut tx = self.store.write().await?;
        let mut audits = Vec::with_capacity(1);
        let id = self
            .write(&mut tx, &p, from.map(|(s, _)| s), &mut audits)
            .await?;
        audit::append_many(&mut tx, &audits).await?;
        tx.commit().await?;
        self.invalidate();
        self.view(
            store::get(&self.store, id)
                .await?
                .ok_or_else(|| Error::not_found("license"))?,
        )
        .await
    }

    /// Check and sign a license to issue (see [`Licenses::issue_from`]); `issuer`: the department
    /// that decided it, if not the caller's. Call it before the write it goes into begins: it
    /// may take a short write of its own (a new block of status list indices), which would wait
    /// forever on a write the same task holds.
    pub async fn prepare(
        &self,
        c: &Caller,
        input: IssueInput,
        predecessor: Option<&LicenseRow>,
        issuer: Option<i64>,
    ) -> Result<Prepared> {
        const ACTION: &str = "license.issue";
        self.require(c, perm::LICENSE_ISSUE, ACTION).await?;
        let checked = self.check_input(c, &input, issuer).await;
        let (t, issuer_uscc, dept_id) = match checked {
            Ok(v) => v,
            Err(e) => return Err(self.refuse(c, ACTION, e).await),
        };
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let valid_from = input.valid_from.clone().unwrap_or(today);
        let valid_until = input.valid_until.clone().or_else(|| {
            t.validity_days.and_then(|d| {
                chrono::NaiveDate::parse_from_str(&valid_from, "%Y-%m-%d")
                    .ok()
                    .map(|f| {
                        (f + chrono::Duration::days(d))
                            .format("%Y-%m-%d")
                            .to_string()
                    })
            })
        });
        let keys = self.signing_keys().await?;
        let ((es_kid, es_key), (sm_kid, sm_key)) = &*keys;
        // The holder key: the holder's own (public part given), or one the custodial wallet keeps.
        let (holder_vk, holder_sk) = match &input.holder_jwk {
            Some(jwk) => (
                jose::from_jwk(jwk).map_err(|e| Error::invalid("holder_jwk", e.message))?,
                None,
            ),
            None => {
                let k = jose::generate();
                (*k.verifying_key(), Some(k))
            }
        };
        let idx = self.status_index().await?;
        let (serial, version, predecessor_id) = match predecessor {
            Some(p) => {
                let old = LicenseId::parse(&p.license_id)?;
                (old.serial().to_owned(), old.version() + 1, Some(p.id))
            }
            None => (
                format!("{}{:08}", chrono::Utc::now().format("%Y"), idx + 1),
                1,
                None,
            ),
        };
        let lid = LicenseId::new(&t.type_code, &issuer_uscc, &serial, version)?;
        let content = json!({"license_id": lid.to_string(), "type": t.type_key, "holder_id": input.holder_id, "holder_name": input.holder_name,
            "claims": input.claims, "valid_from": valid_from, "valid_until": valid_until, "issuer": issuer_uscc});
        let sd = sdjwt::issue(
            &Credential {
                issuer: &self.issuer_uri(),
                kid: es_kid,
                vct: &t.type_key,
                license_id: &lid.to_string(),
                iat: now_secs(),
                exp: valid_until.as_deref().and_then(date_secs),
                claims: &input.claims,
                holder: &holder_vk,
                status: Some((&self.status_uri(), idx as u64)),
            },
            es_key,
        )?;
        let row = LicenseRow {
            id: 0,
            license_id: lid.to_string(),
            type_id: t.id,
            holder_kind: t.holder_kind.clone(),
            holder_id: input.holder_id.clone(),
            holder_name: input.holder_name.clone(),
            issuer_dept_id: dept_id,
            claims: Value::Object(input.claims.clone()).to_string(),
            version: i64::from(version),
            predecessor_id,
            valid_from: valid_from.clone(),
            valid_until: valid_until.clone(),
            status: "valid".into(),
            status_idx: idx,
            sd_jwt: sd,
            seal: seal::seal(&content, sm_key),
            seal_kid: sm_kid.clone(),
            holder_jwk: jose::jwk(&holder_vk).to_string(),
            holder_secret: match &holder_sk {
                Some(k) => self.kek.wrap(&k.to_bytes(), &lid.to_string())?,
                None => String::new(),
            },
            created_by: c.username.clone(),
            created_at: String::new(),
            updated_by: String::new(),
            updated_at: String::new(),
        };
        Ok(Prepared {
            row,
            predecessor: predecessor.map(|p| (p.id, p.status_idx)),
            audit: c.entry(ACTION, "license", None, Outcome::Ok, Some(t.type_key)),
        })
    }

    /// Write a prepared license inside the caller's transaction; `source`: the record it is
    /// issued from (a lake record `table:key`, a service case `case:<id>`). Its audit record is
    /// added to `audits` for the caller to append with the rest of the write. After the commit,
    /// call [`Licenses::invalidate`].
    pub async fn write(
        &self,
        tx: &mut shuju_store::WriteTx,
        p: &Prepared,
        source: Option<&str>,
        audits: &mut Vec<audit::AuditEntry>,
    ) -> Result<i64> {
        let id = store::insert_license(tx, &p.row).await?;
        if let Some(source) = source {
            store::set_source_ref(tx, id, source).await?;
        }
        if let Some((old, old_idx)) = p.predecessor {
            // The previous version is superseded: revoked in the status list and the registry.
            set_bit(tx, old_idx, Status::Revoked).await?;
            store::set_status(tx, old, "revoked", &p.row.created_by).await?;
        }
        let mut a = p.audit.clone();
        a.object_id = Some(id.to_string());
        audits.push(a);
        Ok(id)
    }

    /// A status list index for a new license, from the block this registry holds (a new block
    /// taken in a short write of its own when it is used up).
    async fn status_index(&self) -> Result<i64> {
        self.indices
            .next(&self.store)
            .await?
            .ok_or_else(|| Error::unavailable("the status list is full"))
    }

    async fn check_input(
        &self,
        c: &Caller,
        input: &IssueInput,
        issuer: Option<i64>,
    ) -> Result<(LicenseType, String, i64)> {
        let t = store::type_by_key(&self.store, &input.type_key)
            .await?
            .ok_or_else(|| Error::invalid("type_key", "no such license type"))?;
        match t.holder_kind.as_str() {
            "citizen" => {
                CitizenId::parse(&input.holder_id).map_err(|e| {
                    Error::invalid("holder_id", e.message.replacen("citizen_id: ", "", 1))
                })?;
            }
            _ => {
                CreditCode::parse(&input.holder_id).map_err(|e| {
                    Error::invalid("holder_id", e.message.replacen("uscc: ", "", 1))
                })?;
            }
        }
        if input.holder_name.trim().is_empty() {
            return Err(Error::invalid("holder_name", "is required"));
        }
        let schema: Vec<Value> = serde_json::from_str(&t.claims).map_err(Error::internal)?;
        let names: Vec<&str> = schema.iter().filter_map(|c| c["name"].as_str()).collect();
        if let Some(unknown) = input.claims.keys().find(|k| !names.contains(&k.as_str())) {
            return Err(Error::invalid(
                format!("claims.{unknown}"),
                format!("is not a claim of {}", t.name),
            ));
        }
        if let Some(missing) = names.iter().find(|n| !input.claims.contains_key(**n)) {
            return Err(Error::invalid(format!("claims.{missing}"), "is required"));
        }
        for d in [&input.valid_from, &input.valid_until]
            .into_iter()
            .flatten()
        {
            if date_secs(d).is_none() {
                return Err(Error::invalid("valid_until", "dates are YYYY-MM-DD"));
            }
        }
        let dept = match issuer.or(c.dept_id) {
            Some(d) => departments::get(&self.store, d).await?,
            None => departments::all(&self.store)
                .await?
                .into_iter()
                .find(|d| d.parent_id.is_some()),
        }
        .ok_or_else(|| Error::invalid("issuer", "the issuing department is unknown"))?;
        let uscc = dept
            .uscc
            .clone()
            .ok_or_else(|| Error::invalid("issuer", "the issuing department has no USCC"))?;
        Ok((t, uscc, dept.id))
    }

    async fn view(&self, row: LicenseRow) -> Result<LicenseView> {
        let t = self
            .cached_types()
            .await?
            .iter()
            .find(|t| t.id == row.type_id)
            .cloned()
            .ok_or_else(|| Error::internal("license without type"))?;
        Ok(LicenseView {
            row,
            type_key: t.type_key,
            type_name: t.name,
        })
    }

    /// Renew or change a license: the next version, linked to its predecessor.
    pub async fn renew(
        &self,
        c: &Caller,
        id: i64,
        claims: Option<Map<String, Value>>,
        valid_until: Option<String>,
    ) -> Result<LicenseView> {
        let old = self.get_row(c, id, "license.renew").await?;
        if old.status == "revoked" {
            return Err(Error::conflict("a revoked license cannot be renewed"));
        }
        let t = self
            .cached_types()
            .await?
            .iter()
            .find(|t| t.id == old.type_id)
            .cloned()
            .ok_or_else(|| Error::internal("license without type"))?;
        let input = IssueInput {
            type_key: t.type_key,
            holder_id: old.holder_id.clone(),
            holder_name: old.holder_name.clone(),
            claims: claims.unwrap_or_else(|| serde_json::from_str(&old.claims).unwrap_or_default()),
            valid_from: None,
            valid_until,
            holder_jwk: (old.holder_secret.is_empty())
                .then(|| serde_json::from_str(&old.holder_jwk).ok())
                .flatten(),
        };
        self.issue(c, input, Some(&old)).await
    }

    /// A license of a department in the caller's data scope (others are not found).
    async fn get_row(&self, c: &Caller, id: i64, action: &str) -> Result<LicenseRow> {
        self.require(c, perm::LICENSE_LIST, action).await?;
        let vis = self.admin.visibility(c).await?;
        store::get(&self.store, id)
            .await?
            .filter(|r| vis.sees_dept(r.issuer_dept_id))
            .ok_or_else(|| Error::not_found("license"))
    }

    /// One license's record as lists show it: the holder masked, no claims, no token.
    pub async fn summary(&self, c: &Caller, id: i64) -> Result<LicenseView> {
        let row = self.get_row(c, id, "license.summary").await?;
        self.view(masked(row)).await
    }

    /// One license in full — the claims and the SD-JWT, the holder's identifier in clear — to the
    /// holder's own account, or to an official who may list licenses, sees the issuing
    /// department and states a purpose. Audited with the purpose.
    pub async fn get(&self, c: &Caller, id: i64) -> Result<LicenseView> {
        const ACTION: &str = "license.read";
        let own = if c.can(perm::LICENSE_LIST) {
            None
        } else if c.can(perm::WALLET) {
            self.holder(c).await?
        } else {
            None
        };
        let row = match own {
            Some(h) => store::get(&self.store, id)
                .await?
                .filter(|r| r.holder_id == h)
                .ok_or_else(|| Error::not_found("license"))?,
            None => {
                let row = self.get_row(c, id, ACTION).await?;
                if c.purpose.as_deref().is_none_or(|p| p.trim().is_empty()) {
                    return Err(self
                        .refuse(
                            c,
                            ACTION,
                            Error::invalid(
                                "x-purpose",
                                "reading a license's claims needs a stated purpose (the X-Purpose header)",
                            ),
                        )
                        .await);
                }
                row
            }
        };
        audit::record(
            &self.store,
            &c.entry(ACTION, "license", Some(id.to_string()), Outcome::Ok, None),
        )
        .await?;
        self.view(row).await
    }

    /// A nonce for the verifier `aud`: the holder presents for it, and it verifies once.
    pub async fn issue_nonce(&self, c: &Caller, aud: &str) -> Result<(String, u64)> {
        self.require(c, perm::LICENSE_VERIFY, "license.nonce")
            .await?;
        self.nonces.issue(aud)
    }

    /// A nonce for the platform's own show screen, acting as the verifier `aud` (the official or
    /// the holder on the page shows to it).
    pub fn page_nonce(&self, aud: &str) -> Result<String> {
        self.nonces.issue(aud).map(|(n, _)| n)
    }

    /// The holder (ID and name, in clear) of the first license issued: the demo gives them a wallet
    /// account. Never reached from a request.
    pub async fn first_holder(&self) -> Result<Option<(String, String)>> {
        let p = store::list(&self.store, &Default::default(), Page::new(None, Some(1))).await?;
        Ok(p.items
            .into_iter()
            .next()
            .map(|r| (r.holder_id, r.holder_name)))
    }

    pub async fn list(
        &self,
        c: &Caller,
        f: store::LicenseFilter,
        page: Page,
    ) -> Result<Paged<LicenseView>> {
        self.require(c, perm::LICENSE_LIST, "license.list").await?;
        let mut f = f;
        let vis = self.admin.visibility(c).await?;
        if !vis.all {
            f.issuers = Some(vis.depts.iter().copied().collect());
        }
        let p = store::list(&self.store, &f, page).await?;
        let mut items = Vec::with_capacity(p.items.len());
        for r in p.items {
            items.push(self.view(masked(r)).await?);
        }
        Ok(Paged {
            total: p.total,
            page: p.page,
            size: p.size,
            items,
        })
    }

    /// Revoke, suspend or reinstate (from suspension only).
    pub async fn set_status(
        &self,
        c: &Caller,
        id: i64,
        to: Status,
        reason: &str,
    ) -> Result<LicenseView> {
        const ACTION: &str = "license.status";
        self.require(c, perm::LICENSE_REVOKE, ACTION).await?;
        if reason.trim().is_empty() {
            return Err(self
                .refuse(c, ACTION, Error::invalid("reason", "is required"))
                .await);
        }
        let vis = self.admin.visibility(c).await?;
        let row = store::get(&self.store, id)
            .await?
            .filter(|r| vis.sees_dept(r.issuer_dept_id))
            .ok_or_else(|| Error::not_found("license"))?;
        let mut tx = self.store.write().await?;
        match set_bit(&mut tx, row.status_idx, to).await {
            Ok(()) => {}
            Err(e) if e.code == shuju_types::ErrorCode::Internal => return Err(e),
            Err(e) => {
                drop(tx);
                return Err(self.refuse(c, ACTION, e).await);
            }
        }
        let label = match to {
            Status::Valid => "valid",
            Status::Revoked => "revoked",
            Status::Suspended => "suspended",
        };
        store::set_status(&mut tx, id, label, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "license",
                Some(id.to_string()),
                Outcome::Ok,
                Some(format!("{label}: {}", reason.trim())),
            ),
        )
        .await?;
        tx.commit().await?;
        self.invalidate();
        self.view(masked(
            store::get(&self.store, id)
                .await?
                .ok_or_else(|| Error::not_found("license"))?,
        ))
        .await
    }

    /// The holder (citizen ID or credit code) the caller's account is bound to.
    pub async fn holder(&self, c: &Caller) -> Result<Option<String>> {
        match c.user_id {
            Some(u) => store::holder_of(&self.store, u).await,
            None => Ok(None),
        }
    }

    /// Bind an account to the holder it speaks for (a citizen, or an enterprise's agent), after
    /// the issuing side has checked who it is. Audited.
    pub async fn bind_holder(&self, c: &Caller, user_id: i64, holder_id: &str) -> Result<()> {
        const ACTION: &str = "license.holder.bind";
        self.require(c, perm::LICENSE_ISSUE, ACTION).await?;
        let h = holder_id.trim();
        let h = match (CitizenId::parse(h), CreditCode::parse(h)) {
            (Ok(id), _) => id.as_str().to_owned(),
            (_, Ok(code)) => code.as_str().to_owned(),
            (Err(_), Err(_)) => {
                return Err(self
                    .refuse(
                        c,
                        ACTION,
                        Error::invalid("holder_id", "is neither a citizen ID nor a credit code"),
                    )
                    .await);
            }
        };
        if shuju_admin::users::get(&self.store, user_id)
            .await?
            .is_none()
        {
            return Err(Error::not_found("user"));
        }
        let mut tx = self.store.write().await?;
        store::bind_holder(&mut tx, user_id, &h, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(ACTION, "user", Some(user_id.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await
    }

    /// The caller's own wallet: the holder its account is bound to and that holder's licenses
    /// (every version and status), newest first.
    pub async fn wallet(&self, c: &Caller) -> Result<(String, Vec<LicenseView>)> {
        const ACTION: &str = "license.wallet";
        self.require(c, perm::WALLET, ACTION).await?;
        let holder = self.holder(c).await?.ok_or_else(|| {
            Error::forbidden("this account is not bound to a holder; the issuing office binds it")
        })?;
        let f = store::LicenseFilter {
            holder_id: Some(holder.clone()),
            ..Default::default()
        };
        let mut out = Vec::new();
        for row in store::list(&self.store, &f, shuju_store::Page::new(None, Some(100)))
            .await?
            .items
        {
            out.push(self.view(row).await?);
        }
        Ok((holder, out))
    }

    /// Show a license for a matter: a presentation disclosing exactly the matter's claims, bound
    /// to the verifier's audience and nonce. The show is recorded with the claim names only.
    pub async fn show(
        &self,
        c: &Caller,
        id: i64,
        matter: &str,
        aud: &str,
        nonce: &str,
    ) -> Result<Shown> {
        const ACTION: &str = "license.show";
        // An official shows for the holder; a holder's own account shows its own licenses.
        let own = if c.can(perm::LICENSE_SHOW) {
            None
        } else if c.can(perm::WALLET) {
            self.holder(c).await?
        } else {
            None
        };
        if own.is_none() {
            self.require(c, perm::LICENSE_SHOW, ACTION).await?;
        }
        let row = store::get(&self.store, id)
            .await?
            .filter(|r| own.as_ref().is_none_or(|h| *h == r.holder_id))
            .ok_or_else(|| Error::not_found("license"))?;
        let m = match store::matter(&self.store, matter).await? {
            Some(m) => m,
            None => {
                return Err(self
                    .refuse(c, ACTION, Error::invalid("matter", "no such matter"))
                    .await);
            }
        };
        let view = self.view(row.clone()).await?;
        if view.type_key != m.type_key {
            return Err(self
                .refuse(
                    c,
                    ACTION,
                    Error::invalid("matter", format!("this matter takes a {}", m.type_key)),
                )
                .await);
        }
        if aud.trim().is_empty() || nonce.trim().len() < 8 {
            return Err(self
                .refuse(
                    c,
                    ACTION,
                    Error::invalid(
                        "nonce",
                        "the verifier's audience and a nonce of at least 8 characters are required",
                    ),
                )
                .await);
        }
        let claims: Vec<String> = serde_json::from_str(&m.claims).map_err(Error::internal)?;
        let names: Vec<&str> = claims.iter().map(String::as_str).collect();
        if row.holder_secret.is_empty() {
            return Err(self
                .refuse(
                    c,
                    ACTION,
                    Error::invalid(
                        "id",
                        "the holder keeps this license's key in a wallet of its own and presents it from there",
                    ),
                )
                .await);
        }
        let holder = SigningKey::from_slice(&self.unseal(&row.holder_secret, &row.license_id)?)
            .map_err(|e| Error::internal(e.to_string()))?;
        let presentation = sdjwt::present(&row.sd_jwt, &names, &holder, aud, nonce, now_secs())?;
        let mut tx = self.store.write().await?;
        let show_id = store::insert_show(
            &mut tx,
            row.id,
            &m.code,
            &claims.join(","),
            aud,
            nonce,
            None,
        )
        .await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "license",
                Some(row.id.to_string()),
                Outcome::Ok,
                Some(format!("{}: {}", m.code, claims.join(","))),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(Shown {
            presentation,
            claims,
            show_id,
        })
    }

    /// After a commit that wrote licenses or their status: what verification reads (the trust
    /// list and status list) is read again.
    pub fn invalidate(&self) {
        self.cache.clear();
    }

    async fn snapshot(&self) -> Result<Snapshot> {
        self.cache
            .get(|| async { Ok((self.trust().await?, self.status_list().await?)) })
            .await
    }

    /// Verify a shown presentation against the trust list and the status list.
    pub async fn verify(&self, presentation: &str, aud: &str, nonce: &str) -> Result<Verified> {
        let snap = self.snapshot().await?;
        let status_uri = self.status_uri();
        let status = |uri: &str, idx: u64| {
            if uri != status_uri {
                return Err(Error::invalid(
                    "presentation",
                    "the status list is not this platform's",
                ));
            }
            snap.1.get(idx as usize)
        };
        self.nonces.check(nonce, aud)?;
        let v = sdjwt::verify(
            presentation,
            &snap.0,
            &Expect {
                aud,
                nonce,
                now: now_secs(),
                max_age: 600,
                status: &status,
            },
        )?;
        // Used up only by a presentation that verifies: it verifies once.
        self.nonces.take(nonce, aud)?;
        Ok(v)
    }

    /// Shows counted by month, matter and type; each show saves one paper copy.
    pub async fn figures(&self) -> Result<Vec<(String, String, String, i64)>> {
        store::show_counts(&self.store).await
    }

    /// Revoke a license by its identifier (GB/T 36904): an approval found wrong after the fact
    /// withdraws the license it issued. The service's own call; audited as the system's.
    pub async fn revoke_by_license_id(&self, license_id: &str, reason: &str) -> Result<()> {
        let row = store::by_license_id(&self.store, license_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("license {license_id}")))?;
        self.set_status(&Caller::system(), row.id, Status::Revoked, reason)
            .await
            .map(|_| ())
    }

    /// A valid license's credential as its holder carries it (the issuer-signed SD-JWT and every
    /// disclosure): a permit handed over at issue (a self-service terminal shows it as a QR code).
    pub async fn credential_of(&self, license_id: &str) -> Result<Option<String>> {
        Ok(store::by_license_id(&self.store, license_id)
            .await?
            .filter(|r| r.status == "valid")
            .map(|r| r.sd_jwt))
    }

    /// Sign a decision receipt with the bureau's active ES256 key and SM2 seal.
    pub async fn sign_receipt(&self, payload: &Value) -> Result<Signed> {
        let keys = self.signing_keys().await?;
        let ((es_kid, es_key), (sm_kid, sm_key)) = &*keys;
        Ok(Signed {
            jws: jose::sign(
                &json!({"alg": "ES256", "typ": "decision-receipt+jwt", "kid": es_kid}),
                payload,
                es_key,
            ),
            es256_kid: es_kid.clone(),
            seal: seal::seal(payload, sm_key),
            sm2_kid: sm_kid.clone(),
        })
    }

    /// A signed receipt of a show, for the holder's case file: b64 of the show record, signed with
    /// the platform's ES256 key on the verifier's behalf.
    pub async fn receipt(&self, shown: &Shown, matter: &str, aud: &str) -> Result<String> {
        let (kid, secret) = self.active_key("ES256").await?;
        let key = SigningKey::from_slice(&secret).map_err(|e| Error::internal(e.to_string()))?;
        let digest = b64(<sha2::Sha256 as sha2::Digest>::digest(
            shown.presentation.as_bytes(),
        ));
        Ok(jose::sign(
            &json!({"alg": "ES256", "typ": "receipt+jwt", "kid": kid}),
            &json!({"show_id": shown.show_id, "matter": matter, "verifier": aud, "claims": shown.claims, "presentation_sha256": digest, "iat": now_secs()}),
            &key,
        ))
    }
}

/// A license as lists show it: holder masked, no claims, no token, no key.
fn masked(mut r: LicenseRow) -> LicenseRow {
    r.holder_id = shuju_types::mask::mask_middle(&r.holder_id, 6, 4);
    r.holder_name = shuju_types::mask::mask_name(&r.holder_name);
    r.claims = "{}".into();
    r.sd_jwt = String::new();
    r.holder_secret = String::new();
    r
}

/// Set one license's entry in the status list, inside the caller's write.
async fn set_bit(tx: &mut shuju_store::WriteTx, idx: i64, to: Status) -> Result<()> {
    let list_row = store::status_list_for_update(tx)
        .await?
        .ok_or_else(|| Error::internal("no status list"))?;
    let mut list = StatusList::from_bytes(hex::decode(&list_row.bytes).map_err(Error::internal)?)?;
    list.set(idx as usize, to)?;
    store::save_status_list(
        tx,
        list_row.size,
        list_row.next_idx,
        &hex::encode(list.as_bytes()),
    )
    .await
}
