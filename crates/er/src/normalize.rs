//! Normalising the fields records are compared on: half-width characters, no stray whitespace,
//! dates as `YYYYMMDD`, a name's pinyin (so homophones — 伟/玮, 华/花 — are seen as one sound) and a
//! Chinese address taken apart into division, road, number and building.

use pinyin::ToPinyin;

/// Full-width ASCII (！ to ～ and the ideographic space) to half-width, lower case, and whitespace
/// removed or collapsed (`keep_spaces`).
pub fn clean(s: &str, keep_spaces: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        let c = match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && keep_spaces && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// A person's name as compared: traditional characters as simplified (陳偉 → 陈伟), then
/// [`clean`]; the middle dot of transcribed names (阿依古丽·买买提) dropped.
pub fn name(s: &str) -> String {
    let c = clean(s, false);
    let c = if has_hanzi(&c) {
        fast2s::convert(&c)
    } else {
        c
    };
    c.chars()
        .filter(|ch| !matches!(ch, '·' | '•' | '.' | '-'))
        .collect()
}

/// A citizen ID as written, to compare: digits and `X` only, upper case, a legacy 15-digit
/// ID in its 18-digit form. `None` unless 15 to 18 such characters are left.
pub fn citizen_id(s: &str) -> Option<String> {
    let c: String = clean(s, false)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !(15..=18).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_digit() || b == b'X') {
        return None;
    }
    Some(match shuju_types::CitizenId::widen(&c) {
        Some(id) => id.as_str().to_owned(),
        None => c,
    })
}

/// Two hanzi names with one surname whose given names hold the same characters in another
/// order (林帆秀 / 林秀帆). No allocation: it runs on every pair of names that differ.
pub fn given_swapped(a: &str, b: &str) -> bool {
    const MAX: usize = 8;
    if a.len() != b.len() || a.len() > MAX * 4 {
        return false;
    }
    let (mut x, mut y) = (['\0'; MAX], ['\0'; MAX]);
    let (mut n, mut m) = (0, 0);
    for c in a.chars() {
        if n == MAX {
            return false;
        }
        x[n] = c;
        n += 1;
    }
    for c in b.chars() {
        if m == MAX {
            return false;
        }
        y[m] = c;
        m += 1;
    }
    if n < 3 || n != m || x[0] != y[0] || !('\u{4E00}'..='\u{9FFF}').contains(&x[0]) {
        return false;
    }
    x[..n].sort_unstable();
    y[..m].sort_unstable();
    x[..n] == y[..m]
}

/// Two names with one surname, one the other with a character dropped (林秀帆 / 林帆). No
/// allocation.
pub fn one_dropped(a: &str, b: &str) -> bool {
    let (long, short) = if a.len() > b.len() { (a, b) } else { (b, a) };
    let Some(first) = short.chars().next() else {
        return false;
    };
    let gap = long.len() - short.len();
    if !(1..=4).contains(&gap) || !long.starts_with(first) || short.chars().nth(1).is_none() {
        return false;
    }
    // Skip one character of the long name, somewhere after the surname, and the rest agree.
    let mut l = long.char_indices();
    l.next();
    l.any(|(i, c)| {
        c.len_utf8() == gap
            && short.get(..i) == Some(&long[..i])
            && short.get(i..) == long.get(i + gap..)
    })
}

/// Two `YYYYMMDD` dates one day apart (a birth written the day after, across month ends too).
pub fn one_day_apart(a: &str, b: &str) -> bool {
    fn day(s: &str) -> Option<chrono::NaiveDate> {
        let b = s.as_bytes();
        if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n =
            |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        chrono::NaiveDate::from_ymd_opt(n(0..4) as i32, n(4..6), n(6..8))
    }
    // Dates in years other than the same or the next are never a day apart: most pairs end
    // here without a date built.
    let year = |s: &str| s.get(..4).and_then(|y| y.parse::<i32>().ok());
    match (year(a), year(b)) {
        (Some(x), Some(y)) if (x - y).abs() <= 1 => {}
        _ => return false,
    }
    match (day(a), day(b)) {
        (Some(x), Some(y)) => (x - y).num_days().abs() == 1,
        _ => false,
    }
}

/// Whether the text holds any CJK ideograph.
pub fn has_hanzi(s: &str) -> bool {
    s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

/// The toneless pinyin of a Chinese name (`王玮` → `wangwei`); other characters kept as they are.
pub fn pinyin(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for (c, p) in s.chars().zip(s.to_pinyin()) {
        match p {
            Some(p) => out.push_str(p.plain()),
            None => out.push(c),
        }
    }
    out
}

/// Place names an organisation's name may carry: every division the platform knows, in full and
/// short (聊城市 and 聊城), longest first.
fn place_names() -> &'static [String] {
    static NAMES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        let mut v: Vec<String> = Vec::new();
        for row in shuju_types::division_seed::SEED {
            let full = row.1;
            v.push(full.to_owned());
            let short: String = full
                .strip_suffix(['省', '市', '区', '县'])
                .unwrap_or(full)
                .to_owned();
            if short.chars().count() >= 2 {
                v.push(short);
            }
        }
        v.push("山东".to_owned());
        v.sort_by_key(|s| std::cmp::Reverse(s.len()));
        v.dedup();
        v
    });
    &NAMES
}

const LEGAL_FORMS: &[&str] = &["股份有限公司", "有限责任公司", "有限公司", "公司"];

/// An organisation's name as compared: half-width, no spaces or brackets, 有限责任公司 written
/// 有限公司 — and its core, without place names and the legal form (聊城市宏达科技有限责任公司 and
/// 宏达科技（聊城）有限公司 share the core 宏达科技).
pub fn org_name(s: &str) -> (String, String) {
    let full: String = clean(s, false)
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | '[' | ']' | '【' | '】' | '〔' | '〕' | '·'))
        .collect::<String>()
        .replace("有限责任公司", "有限公司");
    let mut core = full.clone();
    for f in LEGAL_FORMS {
        if let Some(c) = core.strip_suffix(f) {
            core = c.to_owned();
            break;
        }
    }
    for p in place_names() {
        if core.chars().count() > p.chars().count() + 1 {
            core = core.replace(p.as_str(), "");
        }
    }
    (full, core)
}

/// A date in any of the forms departments write (20240102, 2024-01-02, 2024/1/2, 2024年1月2日,
/// an RFC 3339 timestamp) as `YYYYMMDD`; anything else as its digits.
pub fn date(s: &str) -> String {
    let s = clean(s, false);
    let parts: Vec<&str> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .collect();
    match parts.as_slice() {
        [y, m, d, ..] if y.len() == 4 && m.len() <= 2 && d.len() <= 2 => {
            format!("{y}{m:0>2}{d:0>2}")
        }
        _ => s.chars().filter(char::is_ascii_digit).collect(),
    }
}

/// The parts of a Chinese address that identify a dwelling.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    /// The county-level division named (东昌府区), if any.
    pub division: String,
    /// The road or street (柳园路).
    pub road: String,
    /// The door number on the road (12号).
    pub number: String,
    /// Building, unit and room (3号楼2单元502室 → `3-2-502`).
    pub dwelling: String,
}

const DIVISION_ENDS: &[char] = &['区', '县', '市', '旗'];
const ROAD_ENDS: &[&str] = &["大道", "路", "街", "巷", "道", "胡同", "村"];

/// Take a Chinese address apart. Province and city prefixes are dropped; the county is kept;
/// numbers in full-width or with stray spaces read the same.
pub fn address(s: &str) -> Address {
    let s = clean(s, false);
    let mut a = Address::default();
    let mut rest: &str = &s;
    for p in ["山东省", "聊城市"] {
        rest = rest.strip_prefix(p).unwrap_or(rest);
    }
    // The county: up to the first division suffix, if it comes early.
    if let Some((i, c)) = rest
        .char_indices()
        .take(6)
        .find(|(_, c)| DIVISION_ENDS.contains(c))
    {
        a.division = rest[..i + c.len_utf8()].to_owned();
        rest = &rest[i + c.len_utf8()..];
    }
    // A sub-district or town (古楼街道, 郑家镇) and a community under it (柳园社区) say where,
    // not which road: the short forms of an address leave them out.
    for end in ["街道办事处", "街道", "镇", "乡"] {
        if let Some(i) = rest.find(end)
            && rest[..i].chars().count() <= 6
            && rest[..i].chars().count() >= 2
        {
            rest = &rest[i + end.len()..];
            break;
        }
    }
    for end in ["社区居委会", "社区", "居委会"] {
        if let Some(i) = rest.find(end)
            && rest[..i].chars().count() <= 6
        {
            rest = &rest[i + end.len()..];
            break;
        }
    }
    // The road: up to the first road suffix.
    if let Some((i, end)) = ROAD_ENDS
        .iter()
        .filter_map(|e| rest.find(e).map(|i| (i, *e)))
        .min_by_key(|(i, _)| *i)
    {
        a.road = rest[..i + end.len()].to_owned();
        rest = &rest[i + end.len()..];
    }
    // The door number, then the numbers of building, unit and room.
    let mut numbers = rest
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty());
    a.number = numbers.next().unwrap_or_default().to_owned();
    a.dwelling = numbers.collect::<Vec<_>>().join("-");
    a
}

impl Address {
    /// One string for the whole address, the form records are compared on.
    pub fn canonical(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.division, self.road, self.number, self.dwelling
        )
    }

    /// Read back a canonical string.
    pub fn from_canonical(s: &str) -> Address {
        let mut p = s.splitn(4, '|');
        let mut next = || p.next().unwrap_or_default().to_owned();
        Address {
            division: next(),
            road: next(),
            number: next(),
            dwelling: next(),
        }
    }
}

/// A phone number's digits, without a leading +86 / 0086.
pub fn phone(s: &str) -> String {
    let d: String = clean(s, false)
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    d.strip_prefix("0086")
        .or_else(|| d.strip_prefix("86").filter(|r| r.len() == 11))
        .unwrap_or(&d)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning() {
        assert_eq!(clean(" 王　伟 ", false), "王伟");
        assert_eq!(clean("ＡＢ１２", false), "ab12");
        assert_eq!(clean("  light   street ", true), "light street");
    }

    #[test]
    fn names_compared_without_allocating() {
        assert!(given_swapped("林帆秀", "林秀帆"));
        assert!(
            !given_swapped("林帆秀", "帆林秀"),
            "the surname stays first"
        );
        assert!(!given_swapped("王伟", "王伟"[..3].repeat(2).as_str()));
        assert!(one_dropped("林秀帆", "林帆"));
        assert!(one_dropped("林帆", "林秀帆"));
        assert!(one_dropped("王子涵", "王子"));
        assert!(!one_dropped("林秀帆", "李帆"));
        assert!(!one_dropped("林秀帆", "林"), "one character is no name");
        assert!(one_dropped("anna", "ana"));
        assert!(!one_dropped("a林", "林"));
        assert!(one_day_apart("19991231", "20000101"));
        assert!(!one_day_apart("19991231", "20001231"));
        assert!(!one_day_apart("1999123", "19991231"));
    }

    proptest::proptest! {
        #[test]
        fn name_comparisons_never_panic_and_are_symmetric(a in "[林秀帆a-c王]{0,5}", b in "[林秀帆a-c王]{0,5}") {
            proptest::prop_assert_eq!(one_dropped(&a, &b), one_dropped(&b, &a));
            proptest::prop_assert_eq!(given_swapped(&a, &b), given_swapped(&b, &a));
        }

        #[test]
        fn any_text_is_safe(a in "\\PC{0,12}", b in "\\PC{0,12}") {
            let _ = (one_dropped(&a, &b), given_swapped(&a, &b), citizen_id(&a), name(&b));
        }
    }

    #[test]
    fn pinyin_sees_homophones() {
        assert_eq!(pinyin("王伟"), pinyin("王玮"));
        assert_eq!(pinyin("李华"), pinyin("李花"));
        assert_ne!(pinyin("王伟"), pinyin("王强"));
    }

    #[test]
    fn dates() {
        for s in [
            "20240102",
            "2024-01-02",
            "2024/1/2",
            "2024年1月2日",
            "2024-01-02T08:00:00+08:00",
        ] {
            assert_eq!(date(s), "20240102", "{s}");
        }
    }

    #[test]
    fn addresses() {
        let a = address("聊城市东昌府区柳园路12号3号楼2单元502室");
        assert_eq!(a.division, "东昌府区");
        assert_eq!(a.road, "柳园路");
        assert_eq!(a.number, "12");
        assert_eq!(a.dwelling, "3-2-502");
        assert_eq!(
            address("东昌府区柳园路１２号 3号楼2单元502室"),
            a,
            "full-width digits and spaces read the same"
        );
        assert_eq!(Address::from_canonical(&a.canonical()), a);
        for long in [
            "聊城市东昌府区古楼街道柳园路12号3号楼2单元502室",
            "山东省聊城市东昌府区古楼街道办事处柳园社区柳园路12号3栋2单元502",
            "东昌府区柳园路12号3-2-502",
        ] {
            assert_eq!(address(long), a, "{long}");
        }
        let town = address("茌平区郑家镇王庄村15号");
        assert_eq!((town.road.as_str(), town.number.as_str()), ("王庄村", "15"));
    }

    #[test]
    fn phones() {
        assert_eq!(phone("+86 138-0000-1111"), "13800001111");
        assert_eq!(phone("13800001111"), "13800001111");
    }
}
