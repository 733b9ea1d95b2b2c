//! Identity of free-text entities: skills, companies, institutions, cities.
//!
//! Two spellings name the same entity when they differ only in case,
//! spacing, accents or punctuation; the id is a slug of the name and the
//! node's name is the display form seen most often (`graph::spellings`).

use std::borrow::Cow;

/// The display form of a name: whitespace collapsed, ends trimmed, trailing
/// dots and commas dropped.
pub fn display_name(raw: &str) -> Cow<'_, str> {
    let trimmed = super::clean::trim(raw);
    // Only a name that ends in one of the dropped marks needs the char-wise pass.
    let trimmed = if matches!(trimmed.as_bytes().last(), Some(b'.' | b',' | b';')) {
        trimmed.trim_end_matches(['.', ',', ';']).trim_end()
    } else {
        trimmed
    };
    // One pass over the bytes: a pattern of several chars is searched
    // char by char, and this runs for every name of every row.
    let bytes = trimmed.as_bytes();
    let tidy = !bytes.iter().any(|b| matches!(b, b'\t' | b'\n' | b'\r'))
        && !bytes.windows(2).any(|pair| pair == b"  ");
    if tidy {
        Cow::Borrowed(trimmed)
    } else {
        let collapsed = super::clean::collapse_spaces(trimmed);
        Cow::Owned(collapsed.trim_end_matches(['.', ',', ';']).trim_end().to_string())
    }
}

/// A slug: accents folded to ASCII, lower case, runs of other characters
/// replaced by `separator`. `+` and `#` become `plus` and `sharp` first, so
/// that `C++`, `C#` and `C` stay three skills.
pub fn slug(name: &str, separator: char) -> String {
    // Most names are plain ASCII without `+` or `#`: slug them as they are,
    // without the two copies and the transliteration (a tenth of `check`).
    if name.bytes().all(|b| b.is_ascii() && b != b'+' && b != b'#') {
        return slug_ascii(name, separator);
    }
    let folded = deunicode::deunicode(&name.replace('+', " plus ").replace('#', " sharp "));
    slug_ascii(&folded, separator)
}

/// The slug of a name already folded to ASCII.
fn slug_ascii(folded: &str, separator: char) -> String {
    let mut out = String::with_capacity(folded.len());
    let mut pending_separator = false;
    for byte in folded.bytes() {
        if byte.is_ascii_alphanumeric() {
            if pending_separator && !out.is_empty() {
                out.push(separator);
            }
            pending_separator = false;
            out.push(char::from(byte.to_ascii_lowercase()));
        } else {
            pending_separator = true;
        }
    }
    out
}

/// Skill ids join words with `_`: `Data Analysis` -> `data_analysis`.
pub fn skill_id(name: &str) -> String {
    slug(name, '_')
}

/// Company, institution and city ids join words with `-`.
pub fn entity_id(name: &str) -> String {
    slug(name, '-')
}

/// A city id scoped by its country: `NG-lagos`.
pub fn city_id(country_code: &str, city: &str) -> String {
    format!("{country_code}-{}", entity_id(city))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skill_spellings_share_one_id() {
        for raw in [
            "Data Analysis",
            "data analysis",
            "DATA  ANALYSIS",
            " Data-Analysis ",
            "data_analysis",
        ] {
            assert_eq!(skill_id(raw), "data_analysis", "{raw:?}");
        }
        assert_eq!(skill_id("Node.js"), "node_js");
    }

    #[test]
    fn programming_languages_keep_their_symbols_apart() {
        assert_eq!(skill_id("C++"), "c_plus_plus");
        assert_eq!(skill_id("C#"), "c_sharp");
        assert_eq!(skill_id("C"), "c");
        // A name of one symbol alone is still spelled out.
        assert_eq!(skill_id("+"), "plus");
        assert_eq!(skill_id("#"), "sharp");
    }

    #[test]
    fn a_tidy_name_is_borrowed_not_copied() {
        // Run for every name of every row: a tidy one costs no allocation.
        assert!(matches!(display_name("Andela Ltd"), Cow::Borrowed("Andela Ltd")));
        assert!(matches!(display_name("Andela Ltd."), Cow::Borrowed("Andela Ltd")));
        assert!(matches!(display_name("Andela  Ltd"), Cow::Owned(_)));
    }

    #[test]
    fn company_variants_share_one_id() {
        for raw in [
            "Andela Ltd",
            "ANDELA LTD",
            "andela  ltd",
            "Andela Ltd.",
            "Andela Ltd ",
        ] {
            assert_eq!(entity_id(raw), "andela-ltd", "{raw:?}");
        }
        assert_eq!(display_name(" Andela   Ltd. "), "Andela Ltd");
        assert_eq!(display_name("Andela Ltd."), "Andela Ltd");
        assert_eq!(display_name("Andela\t Ltd ."), "Andela Ltd");
    }

    #[test]
    fn accents_fold_into_city_ids() {
        assert_eq!(city_id("CM", "Yaoundé"), "CM-yaounde");
        assert_eq!(city_id("BR", "São Paulo"), "BR-sao-paulo");
        assert_eq!(city_id("NG", " lagos "), "NG-lagos");
    }

    #[test]
    fn names_of_only_symbols_give_empty_ids() {
        assert_eq!(entity_id("---"), "");
        assert_eq!(skill_id("🚀"), "rocket");
    }
}
