//! The fields records are compared on and the levels of agreement each comparison tells apart.
//! Level 0 is always "missing on one side" (it weighs nothing); level 1 is exact agreement.

use crate::normalize::{self, Address};
use serde::{Deserialize, Serialize};
use strsim::{jaro_winkler, osa_distance};

/// How a field is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compare {
    /// Equal or not (sex, state, a code).
    Exact,
    /// A person's name (traditional characters read as simplified): exact; same sound (pinyin for
    /// hanzi, or a pinyin spelling of the hanzi: 林秀帆 / Lin Xiufan), the given name's characters
    /// swapped (林帆秀 / 林秀帆) or Jaro–Winkler ≥ 0.94; ≥ 0.85, one name the other's start
    /// (王子涵 / 王子) or one character dropped (林秀帆 / 林帆); else.
    Name,
    /// Free text: exact; Jaro–Winkler ≥ 0.92; ≥ 0.80; else.
    Text,
    /// A date as YYYYMMDD: exact; one digit wrong or two swapped, or day and month swapped; same
    /// year; else.
    Date,
    /// A number or identifier written as digits: exact; one digit wrong or two swapped; else.
    Digits,
    /// A Chinese address: same dwelling; same door on the same road; same road; else.
    Address,
    /// A phone number: exact; last eight digits or one digit off; else.
    Phone,
    /// A citizen ID as written, whether or not it passed its check (a legacy 15-digit one read in
    /// its 18-digit form): exact; one character wrong or two swapped (a typo); two wrong; else.
    CitizenId,
    /// An organisation's name: exact; the same name once place names, brackets and the legal
    /// form are dropped (聊城市宏达科技有限责任公司 / 宏达科技（聊城）有限公司), by sound; Jaro–Winkler of
    /// those ≥ 0.90; else.
    OrgName,
}

impl Compare {
    /// Levels this comparison has, "missing" included.
    pub fn levels(self) -> usize {
        match self {
            Compare::Exact => 3,
            Compare::Digits | Compare::Phone => 4,
            Compare::Name
            | Compare::Text
            | Compare::Date
            | Compare::Address
            | Compare::OrgName
            | Compare::CitizenId => 5,
        }
    }

    /// What each level means, for explanations.
    pub fn level_names(self) -> &'static [&'static str] {
        match self {
            Compare::Exact => &["missing", "exact", "different"],
            Compare::Digits => &["missing", "exact", "one digit off", "different"],
            Compare::Phone => &["missing", "exact", "last eight digits", "different"],
            Compare::CitizenId => &[
                "missing",
                "exact",
                "one character off or two swapped",
                "two characters off",
                "different",
            ],
            Compare::Name => &[
                "missing",
                "exact",
                "same sound or nearly",
                "similar",
                "different",
            ],
            Compare::Text => &["missing", "exact", "nearly", "similar", "different"],
            Compare::OrgName => &[
                "missing",
                "exact",
                "same name without place or legal form",
                "similar",
                "different",
            ],
            Compare::Date => &[
                "missing",
                "exact",
                "one digit or day off, or day and month swapped",
                "same year",
                "different",
            ],
            Compare::Address => &[
                "missing",
                "same dwelling",
                "same door",
                "same road",
                "different",
            ],
        }
    }

    /// Normalise a raw value for this comparison; `None` when nothing is left. The second value
    /// is the aid kept beside it (a hanzi name's pinyin).
    pub fn normalise(self, raw: &str) -> Option<(Box<str>, Option<Box<str>>)> {
        let v = match self {
            Compare::Date => normalize::date(raw),
            Compare::Phone => normalize::phone(raw),
            Compare::Address => {
                let a = normalize::address(raw);
                if a.road.is_empty() && a.number.is_empty() {
                    format!("|{}||", normalize::clean(raw, false))
                } else {
                    a.canonical()
                }
            }
            Compare::Text => normalize::clean(raw, true),
            Compare::Name => normalize::name(raw),
            Compare::CitizenId => normalize::citizen_id(raw)?,
            Compare::Exact | Compare::Digits => normalize::clean(raw, false),
            Compare::OrgName => {
                let (full, core) = normalize::org_name(raw);
                if full.is_empty() {
                    return None;
                }
                let core = if core.is_empty() { full.clone() } else { core };
                let aid = if normalize::has_hanzi(&core) {
                    normalize::pinyin(&core)
                } else {
                    core
                };
                return Some((full.into_boxed_str(), Some(aid.into_boxed_str())));
            }
        };
        if v.is_empty() || v == "|||" {
            return None;
        }
        let aid = (self == Compare::Name && normalize::has_hanzi(&v))
            .then(|| normalize::pinyin(&v).into_boxed_str());
        Some((v.into_boxed_str(), aid))
    }

    /// The level at which two normalised values agree (never 0: missing is decided by the caller).
    pub fn level(self, a: &str, b: &str, aid_a: Option<&str>, aid_b: Option<&str>) -> u8 {
        if a == b {
            return 1;
        }
        match self {
            Compare::Exact => 2,
            Compare::Digits => {
                if a.len() == b.len() && osa_distance(a, b) <= 1 {
                    2
                } else {
                    3
                }
            }
            Compare::Phone => {
                let tail = |s: &str| s.get(s.len().saturating_sub(8)..).unwrap_or(s).to_owned();
                if (a.len() >= 8 && tail(a) == tail(b)) || osa_distance(a, b) <= 1 {
                    2
                } else {
                    3
                }
            }
            Compare::Name => {
                if aid_a.is_some() && aid_a == aid_b
                    || normalize::given_swapped(a, b)
                    || spelled(a, aid_a, b)
                    || spelled(b, aid_b, a)
                {
                    return 2;
                }
                let jw = jaro_winkler(a, b);
                if jw >= 0.94 {
                    2
                } else if jw >= 0.85
                    || (a.chars().count() >= 2
                        && b.chars().count() >= 2
                        && (a.starts_with(b) || b.starts_with(a)))
                    || normalize::one_dropped(a, b)
                {
                    3
                } else {
                    4
                }
            }
            Compare::CitizenId => {
                if a.len() != b.len() {
                    return 4;
                }
                match osa_distance(a, b) {
                    0 | 1 => 2,
                    2 => 3,
                    _ => 4,
                }
            }
            Compare::OrgName => {
                let (x, y) = (aid_a.unwrap_or(a), aid_b.unwrap_or(b));
                if x == y {
                    2
                } else if jaro_winkler(x, y) >= 0.90 {
                    3
                } else {
                    4
                }
            }
            Compare::Text => {
                let jw = jaro_winkler(a, b);
                if jw >= 0.92 {
                    2
                } else if jw >= 0.80 {
                    3
                } else {
                    4
                }
            }
            Compare::Date => {
                let swapped = a.len() == 8
                    && b.len() == 8
                    && a[..4] == b[..4]
                    && a[4..6] == b[6..8]
                    && a[6..8] == b[4..6];
                if swapped
                    || (a.len() == b.len() && osa_distance(a, b) <= 1)
                    || normalize::one_day_apart(a, b)
                {
                    2
                } else if a.len() >= 4 && b.len() >= 4 && a[..4] == b[..4] {
                    3
                } else {
                    4
                }
            }
            Compare::Address => {
                let (x, y) = (Address::from_canonical(a), Address::from_canonical(b));
                let same_road = !x.road.is_empty() && x.road == y.road;
                if same_road && x.number == y.number && x.dwelling == y.dwelling {
                    1
                } else if same_road && !x.number.is_empty() && x.number == y.number {
                    2
                } else if same_road {
                    3
                } else {
                    4
                }
            }
        }
    }
}

/// Whether `latin` is the pinyin spelling of the hanzi name `hanzi` (whose pinyin is `aid`),
/// surname first or last (Lin Xiufan, Xiufan Lin).
fn spelled(hanzi: &str, aid: Option<&str>, latin: &str) -> bool {
    let Some(aid) = aid else { return false };
    if normalize::has_hanzi(latin) || !latin.bytes().all(|b| b.is_ascii_alphabetic()) {
        return false;
    }
    if aid == latin {
        return true;
    }
    let mut chars = hanzi.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let surname = normalize::pinyin(&first.to_string());
    aid.strip_prefix(surname.as_str()).is_some_and(|given| {
        latin.len() == aid.len() && latin.starts_with(given) && latin.ends_with(surname.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lv(c: Compare, a: &str, b: &str) -> u8 {
        let (a, pa) = c.normalise(a).unwrap();
        let (b, pb) = c.normalise(b).unwrap();
        c.level(&a, &b, pa.as_deref(), pb.as_deref())
    }

    #[test]
    fn names() {
        assert_eq!(lv(Compare::Name, "王伟", "王伟"), 1);
        assert_eq!(lv(Compare::Name, "王伟", "王玮"), 2, "homophone");
        assert_eq!(lv(Compare::Name, "王子涵", "王子"), 3, "dropped character");
        assert_eq!(lv(Compare::Name, "王伟", "李强"), 4);
        assert_eq!(lv(Compare::Name, "katherine", "katharine"), 2);
        assert_eq!(
            lv(Compare::Name, "林帆秀", "林秀帆"),
            2,
            "given name swapped"
        );
        assert_eq!(lv(Compare::Name, "陳偉", "陈伟"), 1, "traditional form");
        assert_eq!(
            lv(Compare::Name, "林秀帆", "Lin Xiufan"),
            2,
            "pinyin spelling"
        );
        assert_eq!(lv(Compare::Name, "林秀帆", "Xiufan LIN"), 2, "surname last");
        assert_eq!(
            lv(Compare::Name, "林秀帆", "林帆"),
            3,
            "a character dropped"
        );
        assert_eq!(
            lv(Compare::Name, "林秀帆", "帆秀林"),
            4,
            "the surname is not swapped"
        );
    }

    #[test]
    fn citizen_ids_as_written() {
        let id = "11010519491231002X";
        assert_eq!(lv(Compare::CitizenId, id, "11010519491231002x"), 1);
        assert_eq!(
            lv(Compare::CitizenId, id, "110105491231002"),
            1,
            "legacy form"
        );
        assert_eq!(lv(Compare::CitizenId, id, "110105194912310021"), 2, "check");
        assert_eq!(lv(Compare::CitizenId, id, "110105149912310021"), 3);
        assert_eq!(
            lv(Compare::CitizenId, id, "11015019491231002X"),
            2,
            "swapped"
        );
        assert_eq!(lv(Compare::CitizenId, id, "371502198001010011"), 4);
        assert!(Compare::CitizenId.normalise("无").is_none());
    }

    #[test]
    fn organisation_names() {
        let n = "聊城宏达科技有限公司";
        for v in ["聊城宏达科技有限责任公司", "聊城 宏达科技 有限公司"] {
            assert_eq!(lv(Compare::OrgName, n, v), 1, "{v}");
        }
        for v in ["聊城市宏达科技有限公司", "宏达科技（聊城）有限公司"] {
            assert_eq!(lv(Compare::OrgName, n, v), 2, "{v}");
        }
        assert_eq!(
            lv(Compare::OrgName, "东昌府区张伟百货店", "张玮百货店"),
            2,
            "county dropped, homophone in the owner's name"
        );
        assert_eq!(
            lv(Compare::OrgName, n, "聊城宏大科技有限公司"),
            2,
            "same sound"
        );
        assert_eq!(lv(Compare::OrgName, n, "聊城宏达科贸有限公司"), 3);
        assert_eq!(lv(Compare::OrgName, n, "阳谷县李强水果店"), 4);
    }

    #[test]
    fn dates_and_digits() {
        assert_eq!(lv(Compare::Date, "1980-05-06", "19800506"), 1);
        assert_eq!(
            lv(Compare::Date, "19800506", "19800605"),
            2,
            "day and month swapped"
        );
        assert_eq!(lv(Compare::Date, "19800506", "19800516"), 2);
        assert_eq!(lv(Compare::Date, "19800531", "19800601"), 2, "a day off");
        assert_eq!(lv(Compare::Date, "19801231", "19810101"), 2, "a day off");
        assert_eq!(lv(Compare::Date, "19800506", "19801231"), 3);
        assert_eq!(lv(Compare::Date, "19800506", "19910101"), 4);
        assert_eq!(lv(Compare::Digits, "2615", "2651"), 2);
        assert_eq!(lv(Compare::Digits, "2615", "3000"), 3);
    }

    #[test]
    fn addresses_and_phones() {
        let a = "聊城市东昌府区柳园路12号3号楼2单元502室";
        assert_eq!(
            lv(Compare::Address, a, "东昌府区柳园路１２号3号楼2单元502室"),
            1
        );
        assert_eq!(
            lv(
                Compare::Address,
                a,
                "聊城市东昌府区柳园路12号5号楼1单元101室"
            ),
            2
        );
        assert_eq!(lv(Compare::Address, a, "聊城市东昌府区柳园路99号"), 3);
        assert_eq!(lv(Compare::Address, a, "聊城市冠县建设路1号"), 4);
        assert_eq!(lv(Compare::Phone, "13800001111", "+86 13800001111"), 1);
        assert_eq!(lv(Compare::Phone, "13800001111", "13800001112"), 2);
    }
}
