//! Dictionaries behind every drop-down.

use crate::perm;
use crate::{Admin, Caller};
use shuju_store::Page;
use shuju_store::Paged;
use shuju_store::audit::{self, Outcome};
use shuju_store::dicts::{self as store, DictItemFields, DictTypeFields};
pub use shuju_store::dicts::{DictItem, DictType};
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
        const ACTION: &str = "dict.type.create";
        self.require(c, perm::DICT_ADD, ACTION, "dict_type").await?;
        let f = self.checked(c, ACTION, "dict_type", None, f).await?;
        if store::type_by_key(&self.store, &f.type_key)
            .await?
            .is_some()
        {
            let e = Error::invalid("type_key", "is already taken");
            return Err(self.refused(c, ACTION, "dict_type", None, e).await);
        }
        let mut tx = self.store.write().await?;
        let id = store::insert_type(&mut tx, &f, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(ACTION, "dict_type", Some(id.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await?;
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
        const ACTION: &str = "dict.type.update";
        self.require(c, perm::DICT_EDIT, ACTION, "dict_type")
            .await?;
        let f = self
            .checked(c, ACTION, "dict_type", Some(id.to_string()), f)
            .await?;
        let mut tx = self.store.write().await?;
        if store::update_type(&mut tx, id, &f, &c.username).await? == 0 {
            drop(tx);
            return Err(self
                .refused(
                    c,
                    ACTION,
                    "dict_type",
                    Some(id.to_string()),
                    Error::not_found("dictionary"),
                )
                .await);
        }
        audit::append(
            &mut tx,
            &c.entry(ACTION, "dict_type", Some(id.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await?;
        store::get_type(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("dictionary"))
    }

    pub async fn delete_dict_type(&self, c: &Caller, id: i64) -> Result<()> {
        const ACTION: &str = "dict.type.delete";
        self.require(c, perm::DICT_REMOVE, ACTION, "dict_type")
            .await?;
        let mut tx = self.store.write().await?;
        if store::delete_type(&mut tx, id, &c.username).await? == 0 {
            drop(tx);
            return Err(self
                .refused(
                    c,
                    ACTION,
                    "dict_type",
                    Some(id.to_string()),
                    Error::not_found("dictionary"),
                )
                .await);
        }
        audit::append(
            &mut tx,
            &c.entry(ACTION, "dict_type", Some(id.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await
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
        const ACTION: &str = "dict.item.create";
        self.require(c, perm::DICT_ADD, ACTION, "dict_item").await?;
        let r = async {
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
        }
        .await;
        let f = self.checked(c, ACTION, "dict_item", None, r).await?;
        let mut tx = self.store.write().await?;
        let id = store::insert_item(&mut tx, type_id, &f, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(ACTION, "dict_item", Some(id.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await?;
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
        const ACTION: &str = "dict.item.update";
        self.require(c, perm::DICT_EDIT, ACTION, "dict_item")
            .await?;
        let f = self
            .checked(c, ACTION, "dict_item", Some(id.to_string()), f)
            .await?;
        let mut tx = self.store.write().await?;
        if store::update_item(&mut tx, id, &f, &c.username).await? == 0 {
            drop(tx);
            return Err(self
                .refused(
                    c,
                    ACTION,
                    "dict_item",
                    Some(id.to_string()),
                    Error::not_found("dictionary item"),
                )
                .await);
        }
        audit::append(
            &mut tx,
            &c.entry(ACTION, "dict_item", Some(id.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await?;
        store::get_item(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("dictionary item"))
    }

    pub async fn delete_dict_item(&self, c: &Caller, id: i64) -> Result<()> {
        const ACTION: &str = "dict.item.delete";
        self.require(c, perm::DICT_REMOVE, ACTION, "dict_item")
            .await?;
        let mut tx = self.store.write().await?;
        if store::delete_item(&mut tx, id, &c.username).await? == 0 {
            drop(tx);
            return Err(self
                .refused(
                    c,
                    ACTION,
                    "dict_item",
                    Some(id.to_string()),
                    Error::not_found("dictionary item"),
                )
                .await);
        }
        audit::append(
            &mut tx,
            &c.entry(ACTION, "dict_item", Some(id.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await
    }
}
