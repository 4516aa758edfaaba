//! Every parser of outside input, fed arbitrary Unicode (and near-misses of valid values with
//! characters of any width spliced in), answers a value or an error: it never panics.

use proptest::prelude::*;
use shuju_types::{
    CitizenId, CodingProfile, CreditCode, DivisionCode, Library, LicenseId, RegistrationNumber,
    ResourceCode, mask,
};

fn parse_all(s: &str) {
    let _ = CitizenId::parse(s);
    let _ = CreditCode::parse(s);
    let _ = DivisionCode::parse(s);
    let _ = Library::parse(s);
    let _ = LicenseId::parse(s);
    let _ = RegistrationNumber::parse(s);
    let _ = ResourceCode::parse(s, &CodingProfile::default());
    let _ = mask::mask_middle(s, 6, 4);
    let _ = mask::mask_name(s);
    let _ = mask::mask_phone(s);
}

/// Valid-looking values, so the parsers get past their first checks.
const SEEDS: &[&str] = &[
    "371502198001010016",
    "91371500MA3C0000X1",
    "371502",
    "1.2.156.3005.2.11100000000013127D001.11371500004426580F.202600000001.001.K",
    "3713010000012345",
    "371/000001",
    "1/000001",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_unicode_never_panics(s in any::<String>()) {
        parse_all(&s);
    }

    #[test]
    fn near_misses_with_wide_characters_never_panic(
        seed in prop::sample::select(SEEDS),
        at in 0usize..80,
        cut in 0usize..4,
        insert in "[\\PC中文𝕏é]{0,4}",
    ) {
        let chars: Vec<char> = seed.chars().collect();
        let at = at.min(chars.len());
        let end = (at + cut).min(chars.len());
        let mut s: String = chars[..at].iter().collect();
        s.push_str(&insert);
        s.extend(&chars[end..]);
        parse_all(&s);
    }

    /// A character of 2, 3 or 4 bytes in place of as many ASCII ones: the byte length stays what
    /// the parser expects, the character boundaries move (a parser slicing by bytes panics).
    #[test]
    fn wide_characters_of_the_expected_byte_length_never_panic(
        seed in prop::sample::select(SEEDS),
        at in 0usize..200,
        wide in prop::sample::select(vec!['é', '中', '𝕏']),
    ) {
        let chars: Vec<char> = seed.chars().collect();
        let at = at % chars.len();
        let end = (at + wide.len_utf8()).min(chars.len());
        let mut s: String = chars[..at].iter().collect();
        s.push(wide);
        s.extend(&chars[end..]);
        parse_all(&s);
    }
}
