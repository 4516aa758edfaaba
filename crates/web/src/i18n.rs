//! The pages' two languages: zh-CN (default) and English. Message catalogues are TOML files
//! embedded at build time; a test checks that both have the same keys.
//!
//! The Rust layer below the web face writes its messages (validation, refusals, lake check
//! reasons) in English; [`text`] gives their Chinese from `messages.zh-CN.toml`, where the English
//! is the key, as in gettext, and `{}` stands for a part the message fills in. A test scans the
//! workspace's sources and fails on any message without a Chinese text.

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

/// One catalogue entry with parts filled in: its literal pieces around the parts, and its text.
struct Pattern {
    pieces: Vec<String>,
    zh: String,
    literal: usize,
}

impl Pattern {
    /// The parts of `msg` this pattern's pieces leave, leftmost; every part is non-empty.
    fn parts<'m>(&self, msg: &'m str) -> Option<Vec<&'m str>> {
        let (first, rest) = self.pieces.split_first()?;
        let (last, middle) = rest.split_last()?;
        let body = msg
            .strip_prefix(first.as_str())?
            .strip_suffix(last.as_str())?;
        let mut parts = Vec::with_capacity(middle.len() + 1);
        let mut at = 0;
        for piece in middle {
            let from = at + 1;
            let i = from + body.get(from..)?.find(piece.as_str())?;
            parts.push(&body[at..i]);
            at = i + piece.len();
        }
        (at < body.len()).then(|| {
            parts.push(&body[at..]);
            parts
        })
    }

    /// The text with `{}` (the next part) and `{N}` (part N, from 1) filled in.
    fn fill(&self, parts: &[String]) -> String {
        let mut out = String::with_capacity(self.zh.len() + 16);
        let mut next = 0;
        let mut rest = self.zh.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let tail = &rest[open + 1..];
            let close = tail.find('}');
            let n = match close.map(|c| &tail[..c]) {
                Some("") => {
                    next += 1;
                    Some(next)
                }
                Some(digits) => digits.parse::<usize>().ok(),
                None => None,
            };
            match (n.and_then(|n| parts.get(n.wrapping_sub(1))), close) {
                (Some(p), Some(c)) => {
                    out.push_str(p);
                    rest = &tail[c + 1..];
                }
                _ => {
                    out.push('{');
                    rest = tail;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

struct Messages {
    exact: HashMap<String, String>,
    patterns: Vec<Pattern>,
}

fn messages() -> &'static Messages {
    static M: OnceLock<Messages> = OnceLock::new();
    M.get_or_init(|| {
        let all = load(include_str!("../i18n/messages.zh-CN.toml"));
        let mut exact = HashMap::new();
        let mut patterns = Vec::new();
        for (en, zh) in all {
            if en.contains("{}") {
                let pieces: Vec<String> = en.split("{}").map(str::to_owned).collect();
                let literal = pieces.iter().map(String::len).sum();
                patterns.push(Pattern {
                    pieces,
                    zh,
                    literal,
                });
            } else {
                exact.insert(en, zh);
            }
        }
        Messages { exact, patterns }
    })
}

/// A message of the Rust layer (an error's message, a lake check's reason) in `lang`. A message
/// the catalogue does not know is shown as written.
pub fn text(lang: Lang, msg: &str) -> String {
    match lang {
        Lang::En => msg.to_owned(),
        Lang::Zh => zh(msg, 2).unwrap_or_else(|| msg.to_owned()),
    }
}

/// An error's message in `lang`.
pub fn say(lang: Lang, e: &shuju_types::Error) -> String {
    text(lang, &e.message)
}

fn zh(msg: &str, depth: u8) -> Option<String> {
    let m = messages();
    if let Some(z) = m.exact.get(msg) {
        return Some(z.clone());
    }
    // `Error::not_found(what)` and `Error::invalid(field, message)` compose their messages.
    if let Some(what) = msg.strip_suffix(" not found") {
        return Some(format!(
            "未找到{}",
            zh(what, depth).unwrap_or_else(|| what.to_owned())
        ));
    }
    if let Some((field, rest)) = msg.split_once(": ")
        && !field.is_empty()
        && !field.contains(' ')
        && let Some(r) = zh(rest, depth)
    {
        return Some(format!("{field}：{r}"));
    }
    let (parts, p) = m
        .patterns
        .iter()
        .filter_map(|p| Some((p.parts(msg)?, p)))
        .max_by_key(|(_, p)| p.literal)?;
    // A part that is itself a sentence (a nested message) is translated too; a name is not.
    let parts: Vec<String> = parts
        .into_iter()
        .map(|s| {
            match depth {
                0 => None,
                d if s.contains(' ') => zh(s, d - 1),
                _ => None,
            }
            .unwrap_or_else(|| s.to_owned())
        })
        .collect();
    Some(p.fill(&parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_translated_whole_and_in_parts() {
        toml::from_str::<Catalogue>(include_str!("../i18n/messages.zh-CN.toml"))
            .expect("messages.zh-CN.toml parses (a key twice fails it)");
        let zh = |m: &str| text(Lang::Zh, m);
        assert_eq!(zh("wrong username or password"), "用户名或密码错误");
        assert_eq!(
            text(Lang::En, "wrong username or password"),
            "wrong username or password"
        );
        assert_eq!(
            zh("uscc: must be 18 characters (GB 32100)"),
            "uscc：须为 18 位（GB 32100）"
        );
        assert_eq!(zh("case 12 not found"), "未找到办件 12");
        assert_eq!(zh("department not found"), "未找到部门");
        assert_eq!(
            zh("grant 7 has 3 of its 100 rows left today; ask for fewer or wait for midnight"),
            "授权 7 今日的 100 行只剩 3 行；请少取一些或等到零点"
        );
        // The most specific entry wins, and a nested sentence is translated in its place.
        assert_eq!(
            zh("grant 7 expired on 2026-01-01; the quota resets at midnight"),
            "授权 7 已于 2026-01-01 到期；the quota resets at midnight"
        );
        assert_eq!(
            zh("the city's entries were refused: row 3: uscc: must be 18 characters (GB 32100)"),
            "本市目录被拒绝：第 3 行：uscc：须为 18 位（GB 32100）"
        );
        assert_eq!(
            zh("longer than its 3 characters (5)"),
            "超过规定的 3 个字符（实际 5 个）"
        );
        // Unknown text stays as written; a pattern's parts are never empty.
        assert_eq!(zh("something new"), "something new");
        assert_eq!(zh("case  not found"), "未找到case ");
    }

    /// Every message the workspace's code writes into an error, and every reason the lake gives
    /// a value it flags or a row it rejects, has a Chinese text.
    #[test]
    fn every_message_in_the_code_has_a_chinese_text() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let errors = regex::Regex::new(
            r#"(?s)Error::(?:invalid|bad_request|not_found|conflict|forbidden|unauthenticated|rate_limited|new)\(\s*(?:ErrorCode::\w+,\s*)?(?:(?:"[^"]*"|F|\w+|[a-z_.:]+\([^()]*\)|&?format!\([^)]*\)),\s*)?(?:format!\(\s*)?"((?:[^"\\]|\\.)*)""#,
        )
        .unwrap();
        let reasons = regex::Regex::new(
            r#"(?s)(?:(?:Err\(|ok_or\(|reason: |=> |const [A-Z_]+: &str = |refuse\()\s*(?:format!\(\s*)?"((?:[^"\\]|\\.)*)"|"((?:[^"\\]|\\.)*)"\.(?:to_string|into)\(\))"#,
        )
        .unwrap();
        // Helpers that make an error from a message: `bad(message)`, `bad(setting, message)`.
        let helpers = regex::Regex::new(
            r#"\bbad\(\s*"((?:[^"\\]|\\.)*)"\s*\)|\bbad\(\s*"[^"]*",\s*(?:format!\(\s*)?"((?:[^"\\]|\\.)*)""#,
        )
        .unwrap();
        let holes = regex::Regex::new(r"\{[^{}]*\}").unwrap();
        let literal = regex::Regex::new(r#""((?:[^"\\]|\\.)*)""#).unwrap();
        let m = messages();
        let known: std::collections::HashSet<String> = m
            .exact
            .keys()
            .cloned()
            .chain(m.patterns.iter().map(|p| p.pieces.join("{}")))
            .collect();
        let mut missing = std::collections::BTreeSet::new();
        let mut seen = 0;
        let mut check = |msg: &str, file: &std::path::Path| {
            let key = holes.replace_all(msg, "{}").into_owned();
            // A message of parts alone, or already in Chinese, needs no entry.
            let prose = key.chars().any(|c| c.is_ascii_alphabetic());
            let chinese = key.chars().next().is_some_and(|c| !c.is_ascii());
            if prose && !chinese && !key.starts_with('_') {
                seen += 1;
                if !known.contains(&key) {
                    missing.insert(format!("{key:?} ({})", file.display()));
                }
            }
        };
        let mut files = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() && !p.ends_with("tests") && !p.ends_with("benches") {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    files.push(p);
                }
            }
        }
        for f in &files {
            let src = std::fs::read_to_string(f).unwrap();
            // Unit tests at the end of a file write messages no user meets.
            let src = src.split("#[cfg(test)]").next().unwrap_or("");
            for c in errors.captures_iter(src).chain(helpers.captures_iter(src)) {
                check(c.get(1).or(c.get(2)).map_or("", |m| m.as_str()), f);
            }
            // The levels a comparison explains a match with.
            if f.ends_with("er/src/compare.rs")
                && let Some(body) = src.split("pub fn level_names").nth(1)
            {
                let body = body.split("\n    }\n").next().unwrap_or("");
                for c in literal.captures_iter(body) {
                    check(&c[1], f);
                }
            }
            let lake = f.components().any(|c| c.as_os_str() == "lake");
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if lake && ["clean.rs", "read.rs", "load.rs"].contains(&name) {
                for c in reasons.captures_iter(src) {
                    check(c.get(1).or(c.get(2)).map_or("", |m| m.as_str()), f);
                }
            }
        }
        assert!(seen > 400, "the scan found only {seen} messages");
        assert!(
            missing.is_empty(),
            "messages without a Chinese text in messages.zh-CN.toml:\n{}",
            missing.into_iter().collect::<Vec<_>>().join("\n")
        );
    }

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
