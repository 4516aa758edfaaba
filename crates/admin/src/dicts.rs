//! Dictionaries behind every drop-down.

use crate::perm;
use crate::{Action, Admin, Caller};
use shuju_store::Page;
use shuju_store::dicts::{self as store, DictItemFields, DictTypeFields};
pub use shuju_store::dicts::{DictItem, DictType};
use shuju_store::{Paged, WriteTx};
use shuju_types::{Error, Result};

fn status(s: Option<String>) -> Result<String> {
    let s = s.unwrap_or_else(|| "active".into());
    if ["active", "disabled"].contains(&s.as_str()) {
        Ok(s)
    } else {
        Err(Error::invalid("status", "must be active or disabled"))
    }
}

pub fn validate_type(
    key: &str,
    name: &str,
    st: Option<String>,
    remark: Option<String>,
) -> Result<DictTypeFields> {
    let key = key.trim();
    if !(2..=64).contains(&key.len())
        || !key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(Error::invalid(
            "type_key",
            "must be 2 to 64 characters of a-z, 0-9 and '_'",
        ));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name", "must be 1 to 100 characters"));
    }
    Ok(DictTypeFields {
        type_key: key.into(),
        name: name.into(),
        status: status(st)?,
        remark: remark.filter(|r| !r.trim().is_empty()),
    })
}

/// Item colours are a named style or `#rrggbb`.
pub const COLOURS: [&str; 6] = ["default", "primary", "success", "info", "warning", "danger"];

pub fn validate_item(
    label: &str,
    value: &str,
    sort: Option<i64>,
    color: Option<String>,
    st: Option<String>,
) -> Result<DictItemFields> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(Error::invalid("label", "must be 1 to 100 characters"));
    }
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 100 {
        return Err(Error::invalid("value", "must be 1 to 100 characters"));
    }
    let color = color.filter(|c| !c.trim().is_empty());
    if let Some(c) = &color {
        let hex =
            c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|x| x.is_ascii_hexdigit());
        if !hex && !COLOURS.contains(&c.as_str()) {
            return Err(Error::invalid(
                "color",
                "must be #rrggbb or one of default, primary, success, info, warning, danger",
            ));
        }
    }
    Ok(DictItemFields {
        label: label.into(),
        value: value.into(),
        sort_order: sort.unwrap_or(0),
        color,
        status: status(st)?,
    })
}

impl Admin {
    pub async fn create_dict_type(
        &self,
        c: &Caller,
        f: Result<DictTypeFields>,
    ) -> Result<DictType> {
        let a = Action {
            name: "dict.type.create",
            perm: perm::DICT_ADD,
            object_type: "dict_type",
            object_id: None,
            noun: "dictionary",
        };
        let check = async || {
            let f = f?;
            if store::type_by_key(&self.store, &f.type_key)
                .await?
                .is_some()
            {
                return Err(Error::invalid("type_key", "is already taken"));
            }
            Ok(f)
        };
        let change = async |tx: &mut WriteTx, f: DictTypeFields| {
            let id = store::insert_type(tx, &f, &c.username).await?;
            Ok(Some((id, id)))
        };
        let id = self.act(c, a, check, change).await?;
        store::get_type(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("dictionary"))
    }

    pub async fn update_dict_type(
        &self,
        c: &Caller,
        id: i64,
        f: Result<DictTypeFields>,
    ) -> Result<DictType> {
        let a = Action {
            name: "dict.type.update",
            perm: perm::DICT_EDIT,
            object_type: "dict_type",
            object_id: Some(id),
            noun: "dictionary",
        };
        let change = async |tx: &mut WriteTx, f: DictTypeFields| {
            let n = store::update_type(tx, id, &f, &c.username).await?;
            Ok((n > 0).then_some(((), id)))
        };
        self.act(c, a, async || f, change).await?;
        store::get_type(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("dictionary"))
    }

    pub async fn delete_dict_type(&self, c: &Caller, id: i64) -> Result<()> {
        let a = Action {
            name: "dict.type.delete",
            perm: perm::DICT_REMOVE,
            object_type: "dict_type",
            object_id: Some(id),
            noun: "dictionary",
        };
        let change = async |tx: &mut WriteTx, ()| {
            let n = store::delete_type(tx, id, &c.username).await?;
            Ok((n > 0).then_some(((), id)))
        };
        self.act(c, a, async || Ok(()), change).await
    }

    pub async fn list_dict_types(
        &self,
        c: &Caller,
        name: Option<&str>,
        page: Page,
    ) -> Result<Paged<DictType>> {
        self.require(c, perm::DICT_LIST, "dict.list", "dict_type")
            .await?;
        store::list_types(&self.store, name, page).await
    }

    /// The items of a dictionary by its key, for a caller's drop-downs: officials who may list
    /// dictionaries (citizens and enterprise agents use no official forms).
    pub async fn dict_items_for(&self, c: &Caller, key: &str) -> Result<(DictType, Vec<DictItem>)> {
        self.require(c, perm::DICT_LIST, "dict.read", "dict_type")
            .await?;
        self.dict_items_by_key(key).await
    }

    /// The items of a dictionary, by its key, for labels on the server's own pages.
    pub async fn dict_items_by_key(&self, key: &str) -> Result<(DictType, Vec<DictItem>)> {
        let t = store::type_by_key(&self.store, key)
            .await?
            .ok_or_else(|| Error::not_found("dictionary"))?;
        let items = store::items(&self.store, t.id).await?;
        Ok((t, items))
    }

    pub async fn dict_type(&self, c: &Caller, id: i64) -> Result<(DictType, Vec<DictItem>)> {
        self.require(c, perm::DICT_LIST, "dict.read", "dict_type")
            .await?;
        let t = store::get_type(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("dictionary"))?;
        let items = store::items(&self.store, id).await?;
        Ok((t, items))
    }

    pub async fn create_dict_item(
        &self,
        c: &Caller,
        type_id: i64,
        f: Result<DictItemFields>,
    ) -> Result<DictItem> {
        let a = Action {
            name: "dict.item.create",
            perm: perm::DICT_ADD,
            object_type: "dict_item",
            object_id: None,
            noun: "dictionary item",
        };
        let check = async || {
            let f = f?;
            if store::get_type(&self.store, type_id).await?.is_none() {
                return Err(Error::invalid("type_id", "no such dictionary"));
            }
            if store::items(&self.store, type_id)
                .await?
                .iter()
                .any(|i| i.value == f.value)
            {
                return Err(Error::invalid(
                    "value",
                    "is already used in this dictionary",
                ));
            }
            Ok(f)
        };
        let change = async |tx: &mut WriteTx, f: DictItemFields| {
            let id = store::insert_item(tx, type_id, &f, &c.username).await?;
            Ok(Some((id, id)))
        };
        let id = self.act(c, a, check, change).await?;
        store::get_item(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("dictionary item"))
    }

    pub async fn update_dict_item(
        &self,
        c: &Caller,
        id: i64,
        f: Result<DictItemFields>,
    ) -> Result<DictItem> {
        let a = Action {
            name: "dict.item.update",
            perm: perm::DICT_EDIT,
            object_type: "dict_item",
            object_id: Some(id),
            noun: "dictionary item",
        };
        let change = async |tx: &mut WriteTx, f: DictItemFields| {
            let n = store::update_item(tx, id, &f, &c.username).await?;
            Ok((n > 0).then_some(((), id)))
        };
        self.act(c, a, async || f, change).await?;
        store::get_item(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("dictionary item"))
    }

    pub async fn delete_dict_item(&self, c: &Caller, id: i64) -> Result<()> {
        let a = Action {
            name: "dict.item.delete",
            perm: perm::DICT_REMOVE,
            object_type: "dict_item",
            object_id: Some(id),
            noun: "dictionary item",
        };
        let change = async |tx: &mut WriteTx, ()| {
            let n = store::delete_item(tx, id, &c.username).await?;
            Ok((n > 0).then_some(((), id)))
        };
        self.act(c, a, async || Ok(()), change).await
    }
}
