//! The pages' two languages: zh-CN (default) and English. Message catalogues are TOML files
//! embedded at build time; a test checks that both have the same keys.

use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh-CN" | "zh" | "zh-cn" => Some(Lang::Zh),
            "en" | "en-US" | "en-GB" => Some(Lang::En),
            _ => None,
        }
    }
}

type Catalogue = HashMap<String, String>;

fn load(src: &str) -> Catalogue {
    toml::from_str(src).unwrap_or_default()
}

fn catalogues() -> &'static (Catalogue, Catalogue) {
    static C: OnceLock<(Catalogue, Catalogue)> = OnceLock::new();
    C.get_or_init(|| {
        (
            load(include_str!("../i18n/zh-CN.toml")),
            load(include_str!("../i18n/en.toml")),
        )
    })
}

/// The message for `key`, or the key itself when it is missing.
pub fn t(lang: Lang, key: &str) -> String {
    let (zh, en) = catalogues();
    let c = if lang == Lang::En { en } else { zh };
    c.get(key).cloned().unwrap_or_else(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_have_the_same_keys() {
        let (zh, en) = catalogues();
        assert!(zh.len() > 50, "zh-CN catalogue did not load");
        let mut a: Vec<_> = zh.keys().collect();
        let mut b: Vec<_> = en.keys().collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert_eq!(t(Lang::Zh, "login"), "登录");
        assert_eq!(t(Lang::En, "login"), "Sign in");
    }
}
