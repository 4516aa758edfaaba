//! Masking of personal identifiers for display. Masked values keep enough to recognise a record
//! (division prefix, last digits) and nothing that identifies a person on its own.

/// Keep the first `head` and last `tail` characters, replace the rest with `*`.
pub fn mask_middle(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out = String::with_capacity(s.len());
    out.extend(&chars[..head]);
    out.extend(std::iter::repeat_n('*', chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// A mobile phone number as `138****5678`.
pub fn mask_phone(s: &str) -> String {
    mask_middle(s, 3, 4)
}

/// A personal name as `张*` / `欧阳**`: only the surname is kept.
pub fn mask_name(s: &str) -> String {
    let n = s.chars().count();
    match n {
        0 => String::new(),
        1 => "*".into(),
        2 | 3 => mask_middle(s, 1, 0),
        _ => mask_middle(s, 2, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(
            mask_middle("371502199001011234", 6, 4),
            "371502********1234"
        );
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳修文"), "欧阳**");
        assert_eq!(mask_middle("ab", 3, 4), "**");
    }
}
