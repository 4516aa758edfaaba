//! Standardise and validate one value: full-width characters to half-width, whitespace trimmed
//! and collapsed, dates in the formats departments write them, numbers, check digits, code tables.

use crate::spec::{Check, ColumnSpec, Kind, OnInvalid};
use chrono::{NaiveDate, NaiveDateTime};
use shuju_types::{CitizenId, CreditCode, DivisionCode};
use std::borrow::Cow;

/// A cleaned value, ready for an Arrow builder.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    Null,
    /// Borrowed from the source row unless cleaning changed it.
    Text(Cow<'a, str>),
    Integer(i64),
    Decimal(f64),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since the epoch, UTC.
    Timestamp(i64),
    Boolean(bool),
}

/// Full-width ASCII (U+FF01–U+FF5E) and the ideographic space to half-width; whitespace trimmed
/// and runs of it collapsed to one space.
pub fn standardise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for ch in s.chars() {
        let c = match ch {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(ch as u32 - 0xFEE0).unwrap_or(ch),
            '\u{FEFF}' => continue,
            c => c,
        };
        if c.is_whitespace() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

/// Can this byte start a space, a full-width character or a byte-order mark? (ASCII controls
/// and space; the lead bytes of U+0085/U+00A0, U+1680, U+2000–U+205F, U+3000 and U+FExx/U+FFxx.)
/// Text without such a byte is as [`standardise`] would leave it.
#[inline]
fn special(b: u8) -> bool {
    b <= b' ' || matches!(b, 0xC2 | 0xE1 | 0xE2 | 0xE3 | 0xEF)
}

/// Could any value in this text need standardising? One pass over a whole chunk of values, in
/// blocks the compiler turns into vector compares; `false` lets each value skip its own look.
pub fn may_need_standardising(text: &[u8]) -> bool {
    text.chunks(64)
        .any(|block| block.iter().fold(false, |any, &b| any | special(b)))
}

/// Would [`standardise`] change this value? Checked without allocating: most values need nothing.
fn needs_standardising(s: &str) -> bool {
    // Most values hold no special byte: those need no look at their characters.
    if !s.bytes().any(special) {
        return false;
    }
    let mut prev_space = true; // a leading space needs trimming
    for c in s.chars() {
        let space = c.is_whitespace();
        if (space && (prev_space || c != ' '))
            || matches!(c, '\u{3000}' | '\u{FF01}'..='\u{FF5E}' | '\u{FEFF}')
        {
            return true;
        }
        prev_space = space;
    }
    prev_space && !s.is_empty()
}

const EPOCH_DAYS_CE: i32 = 719_163;

/// Parse the date formats departments use: 2024-01-02, 2024/1/2, 2024.1.2, 20240102,
/// 2024年1月2日, and a date-time whose date part is one of those.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    // The two common shapes without a general parser: 20240102 and 2024-01-02.
    if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
        return NaiveDate::from_ymd_opt(num(0..4)? as i32, num(4..6)?, num(6..8)?);
    }
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10))
    {
        return NaiveDate::from_ymd_opt(y as i32, m, d);
    }
    let head: String = s
        .chars()
        .take_while(|c| !matches!(c, 'T' | ' ' | '日'))
        .map(|c| match c {
            '/' | '.' | '年' | '月' => '-',
            c => c,
        })
        .collect();
    let mut parts = head.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// Date-times: RFC 3339 (with offset), or a naive date-time taken as Beijing time, or a date.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_micros());
    }
    let beijing = chrono::FixedOffset::east_opt(8 * 3600)?;
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y/%m/%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y%m%d%H%M%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return t
                .and_local_timezone(beijing)
                .single()
                .map(|t| t.timestamp_micros());
        }
    }
    let d = parse_date(s)?;
    d.and_hms_opt(0, 0, 0)?
        .and_local_timezone(beijing)
        .single()
        .map(|t| t.timestamp_micros())
}

/// Upper-case ASCII letters, copying only when there are lower-case ones (a lower-case `x`).
fn upper(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(s.to_ascii_uppercase())
    } else {
        s
    }
}

/// A number as written, thousands separators removed.
fn digits(s: &str) -> Cow<'_, str> {
    if s.contains(',') {
        Cow::Owned(s.replace(',', ""))
    } else {
        Cow::Borrowed(s)
    }
}

/// The longest text value the platform keeps, in bytes, whatever the column declares.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// What the load notes beside a legacy ID kept in its widened form.
pub const WIDENED: &str = "widened from a 15-digit legacy ID to its 18-digit form (GB 11643)";

/// Whether cleaning `raw` for `col` widened a legacy 15-digit citizen ID.
pub fn widened(col: &ColumnSpec, raw: &str) -> bool {
    matches!(col.check, Some(Check::CitizenId)) && {
        let t = raw.trim();
        t.len() == 15 && t.bytes().all(|b| b.is_ascii_digit())
    }
}

/// Clean one raw value for a column; `Err` carries the reason, never the value.
pub fn clean<'a>(col: &ColumnSpec, raw: &'a str) -> Result<Value<'a>, String> {
    clean_text(col, raw, false)
}

/// [`clean`], told whether the value is known to need no standardising (`plain`: it came from
/// text [`may_need_standardising`] passed).
pub fn clean_text<'a>(col: &ColumnSpec, raw: &'a str, plain: bool) -> Result<Value<'a>, String> {
    let cow: Cow<'a, str> = if !plain && needs_standardising(raw) {
        Cow::Owned(standardise(raw))
    } else {
        Cow::Borrowed(raw)
    };
    let s: &str = &cow;
    if s.len() > MAX_VALUE_BYTES {
        return Err(format!(
            "longer than the platform keeps in one value ({} KiB)",
            MAX_VALUE_BYTES >> 10
        ));
    }
    // Characters are counted only for a value whose bytes could exceed the length.
    if let Some(n) = col.max_len
        && s.len() > n as usize
        && s.chars().count() > n as usize
    {
        return Err(format!(
            "longer than its {n} characters ({})",
            s.chars().count()
        ));
    }
    if s.is_empty() || s.eq_ignore_ascii_case("null") {
        return if col.required {
            Err("missing".into())
        } else {
            Ok(Value::Null)
        };
    }
    if col.on_invalid == OnInvalid::Raw && col.kind == Kind::Text {
        return Ok(Value::Text(cow));
    }
    let v = match col.kind {
        Kind::Text => {
            match &col.check {
                None => {}
                Some(Check::CitizenId) => {
                    // Only the check character can be a letter (`x` for X): anything else in
                    // lower case is not an ID, whatever its case.
                    let up = if s.ends_with('x') { upper(cow) } else { cow };
                    // A legacy 15-digit ID is kept in its 18-digit form (the load marks it).
                    if let Some(id) = CitizenId::widen(&up) {
                        return Ok(Value::Text(Cow::Owned(id.as_str().to_owned())));
                    }
                    return CitizenId::parse(&up)
                        .map(|_| Value::Text(up))
                        .map_err(|e| e.message.to_string());
                }
                Some(Check::CreditCode) => {
                    let up = upper(cow);
                    return CreditCode::parse(&up)
                        .map(|_| Value::Text(up))
                        .map_err(|e| e.message.to_string());
                }
                Some(Check::DivisionCode) => {
                    DivisionCode::parse(s).map_err(|e| e.message.to_string())?;
                }
                Some(Check::Codes(codes)) => {
                    // A department's own code, standardised through the column's map.
                    if let Some(standard) = col.codes.get(s) {
                        return Ok(Value::Text(Cow::Owned(standard.clone())));
                    }
                    if !codes.iter().any(|c| c == s) {
                        return Err(match &col.element {
                            Some(e) => format!(
                                "not a code of data element {e}, and the column's code map has no entry for it"
                            ),
                            None => "not in the code table".into(),
                        });
                    }
                }
            }
            return Ok(Value::Text(cow));
        }
        Kind::Integer => Value::Integer(
            digits(s)
                .parse()
                .map_err(|_| "not a whole number".to_string())?,
        ),
        Kind::Decimal => {
            let v: f64 = digits(s).parse().map_err(|_| "not a number".to_string())?;
            if !v.is_finite() {
                return Err("not a number".into());
            }
            Value::Decimal(v)
        }
        Kind::Date => {
            let d = parse_date(s).ok_or("not a date")?;
            Value::Date(chrono::Datelike::num_days_from_ce(&d) - EPOCH_DAYS_CE)
        }
        Kind::Timestamp => Value::Timestamp(parse_timestamp(s).ok_or("not a date-time")?),
        Kind::Boolean => Value::Boolean(match s {
            "1" | "true" | "TRUE" | "是" | "Y" | "y" => true,
            "0" | "false" | "FALSE" | "否" | "N" | "n" => false,
            _ => return Err("not yes or no".into()),
        }),
    };
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn col(kind: Kind, check: Option<Check>) -> ColumnSpec {
        ColumnSpec {
            check,
            required: true,
            ..ColumnSpec::new("c", kind)
        }
    }

    #[test]
    fn full_width_and_spaces() {
        assert_eq!(standardise("　聊城市１２３号  A\t座 "), "聊城市123号 A 座");
        assert_eq!(standardise("\u{feff}姓名"), "姓名");
    }

    #[test]
    fn dates_in_the_formats_departments_use() {
        let d = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
        for s in [
            "2024-01-02",
            "2024/1/2",
            "2024.01.02",
            "20240102",
            "2024年1月2日",
            "2024-01-02T08:00:00+08:00",
            "２０２４-０１-０２",
        ] {
            assert_eq!(
                clean(&col(Kind::Date, None), s),
                Ok(Value::Date(
                    chrono::Datelike::num_days_from_ce(&d) - EPOCH_DAYS_CE
                )),
                "{s}"
            );
        }
        assert!(clean(&col(Kind::Date, None), "2024-02-30").is_err());
        assert!(clean(&col(Kind::Date, None), "yesterday").is_err());
    }

    #[test]
    fn check_digits_and_codes() {
        let id = col(Kind::Text, Some(Check::CitizenId));
        assert!(clean(&id, "11010519491231002x").is_ok());
        assert_eq!(
            clean(&id, "11010519491231002X"),
            Ok(Value::Text("11010519491231002X".into()))
        );
        let e = clean(&id, "110105194912310021").unwrap_err();
        assert!(e.contains("check"), "{e}");
        assert!(!e.contains("110105"), "the reason never repeats the value");
        assert_eq!(clean(&id, " "), Err("missing".into()));
        assert_eq!(
            clean(&id, "110105491231002"),
            Ok(Value::Text("11010519491231002X".into())),
            "a legacy 15-digit ID is widened"
        );
        assert!(widened(&id, " 110105491231002 "));
        assert!(!widened(&id, "11010519491231002X"));
        let codes = col(Kind::Text, Some(Check::Codes(vec!["1".into(), "2".into()])));
        assert!(clean(&codes, "1").is_ok());
        assert!(clean(&codes, "3").is_err());
    }

    #[test]
    fn timestamps_are_beijing_time_unless_offset() {
        let a = parse_timestamp("2026-03-01T08:00:00+08:00").unwrap();
        let b = parse_timestamp("2026-03-01 08:00:00").unwrap();
        assert_eq!(a, b);
    }

    proptest! {
        #[test]
        fn the_quick_check_agrees_with_standardise(s in "[ a\u{3000}\u{FF11}\t中]{0,8}") {
            prop_assert_eq!(needs_standardising(&s), standardise(&s) != s);
        }

        #[test]
        fn text_the_chunk_check_passes_needs_no_standardising(s in "\\PC{0,80}") {
            if !may_need_standardising(s.as_bytes()) {
                prop_assert_eq!(standardise(&s), s.clone());
            }
            prop_assert_eq!(may_need_standardising(s.as_bytes()), s.bytes().any(special));
        }

        #[test]
        fn standardise_is_idempotent(s in "\\PC{0,40}") {
            let once = standardise(&s);
            prop_assert_eq!(standardise(&once), once.clone());
            prop_assert_eq!(once.trim(), once.as_str());
        }

        #[test]
        fn any_valid_date_round_trips_in_every_format(y in 1900i32..2100, m in 1u32..13, d in 1u32..29) {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            for f in ["%Y-%m-%d", "%Y/%-m/%-d", "%Y%m%d", "%Y年%-m月%-d日"] {
                prop_assert_eq!(parse_date(&date.format(f).to_string()), Some(date));
            }
        }
    }
}
