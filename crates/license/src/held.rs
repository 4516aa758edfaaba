//! The licences a person or an enterprise holds, as their file lists them: metadata only; the
//! claims stay in the register.

use serde::Serialize;
use shuju_store::Store;
use shuju_types::Result;
use std::collections::HashMap;

/// An electronic licence the platform issued to the file's person or enterprise (its metadata; the
/// claims stay in the register).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LicenceHeld {
    pub license_id: String,
    /// The licence type's key (`individual_business_licence`), as facts and matters name it.
    pub type_key: String,
    /// The licence type's name (个体工商户营业执照).
    pub kind: String,
    pub status: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
}

/// The electronic licences issued to these holders (citizen IDs or credit codes).
pub async fn licences_of(store: &Store, holders: &[String]) -> Result<Vec<LicenceHeld>> {
    use shuju_store::license as lic;
    let mut out = Vec::new();
    if holders.is_empty() {
        return Ok(out);
    }
    let types: HashMap<i64, (String, String)> = lic::types(store)
        .await?
        .into_iter()
        .map(|t| (t.id, (t.type_key, t.name)))
        .collect();
    for h in holders {
        let f = lic::LicenseFilter {
            holder_id: Some(h.clone()),
            ..Default::default()
        };
        let page = shuju_store::Page { page: 1, size: 100 };
        for l in lic::list(store, &f, page).await?.items {
            let (type_key, kind) = types.get(&l.type_id).cloned().unwrap_or_default();
            out.push(LicenceHeld {
                license_id: l.license_id,
                type_key,
                kind,
                status: l.status,
                valid_from: l.valid_from,
                valid_until: l.valid_until,
            });
        }
    }
    Ok(out)
}
