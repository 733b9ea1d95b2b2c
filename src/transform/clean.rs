//! Field-level cleaning rules of the input contract: missing-value markers
//! (`n/a` in any case, the empty string, `-99`, `1970-01-01`), NUL bytes,
//! 0/1 flags in their spellings, numbers and dates.
//!
//! Every rule counts what it cleaned in [`Findings`], so the data-quality
//! report can say how much each rule changed.

use std::borrow::Cow;

use chrono::NaiveDate;

use super::quality::{Finding, Findings};

/// [`str::trim`], with a shortcut for the common value whose first and last
/// bytes are visible ASCII: `trim` decodes and classifies a character at
/// each end, and every field of every row is trimmed, most of them more
/// than once.
pub fn trim(raw: &str) -> &str {
    match raw.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => raw,
        [only] if only.is_ascii_graphic() => raw,
        _ => raw.trim(),
    }
}

/// Text with NUL bytes removed and surrounding whitespace trimmed, or `None`
/// when the value is missing (`n/a` in any case, empty).
pub fn text(raw: &str, findings: &mut Findings) -> Option<String> {
    text_ref(raw, findings).map(Cow::into_owned)
}

/// [`text`] without a copy when the value needs no NUL removed: for values
/// that are only read (names on their way to an id).
pub fn text_ref<'a>(raw: &'a str, findings: &mut Findings) -> Option<Cow<'a, str>> {
    let value = trim(raw);
    if value.is_empty() {
        findings.add(Finding::EmptyValue);
        return None;
    }
    if value.eq_ignore_ascii_case("n/a") {
        findings.add(Finding::NaValue);
        return None;
    }
    if value.contains('\0') {
        findings.add(Finding::NulBytesRemoved);
        let cleaned: String = value.chars().filter(|&c| c != '\0').collect();
        // What the NUL bytes hid is read like any value: `n/a\0` is `n/a`.
        let cleaned = cleaned.trim();
        return (!cleaned.is_empty() && !cleaned.eq_ignore_ascii_case("n/a"))
            .then(|| Cow::Owned(cleaned.to_string()));
    }
    Some(Cow::Borrowed(value))
}

/// True when `raw` is a missing-text marker (NUL bytes aside).
pub fn is_missing(raw: &str) -> bool {
    let value = trim(raw);
    if value.contains('\0') {
        let cleaned: String = value.chars().filter(|&c| c != '\0').collect();
        return is_missing(&cleaned);
    }
    value.is_empty() || value.eq_ignore_ascii_case("n/a")
}

/// A 0/1 flag: `0`, `1`, `0.0`, `1.0` (also `true`/`false`); `None` when
/// missing or unreadable.
pub fn flag(raw: &str, findings: &mut Findings) -> Option<bool> {
    match trim(raw) {
        "1" | "true" | "True" | "TRUE" => Some(true),
        "0" | "false" | "False" | "FALSE" => Some(false),
        "1.0" => {
            findings.add(Finding::FlagAsDecimal);
            Some(true)
        }
        "0.0" => {
            findings.add(Finding::FlagAsDecimal);
            Some(false)
        }
        other if is_missing(other) => {
            findings.add(Finding::MissingFlag);
            None
        }
        _ => {
            findings.add(Finding::UnreadableFlag);
            None
        }
    }
}

/// A decimal number; `None` for missing markers (`-99`, `-99.0`, `n/a`,
/// empty) and for text that is no number.
pub fn number(raw: &str, findings: &mut Findings) -> Option<f64> {
    let value = trim(raw);
    if is_missing(value) {
        return None;
    }
    match plain_decimal(value).map_or_else(|| value.parse::<f64>(), Ok) {
        Ok(-99.0) => {
            findings.add(Finding::MinusNinetyNine);
            None
        }
        Ok(n) if n.is_finite() => Some(n),
        _ => {
            findings.add(Finding::UnreadableNumber);
            None
        }
    }
}

/// Exact powers of ten up to 10^15.
const POWERS_OF_TEN: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// A plain decimal (an optional `-`, at most 15 digits, at most one point)
/// read without `str::parse`'s general machinery, to the same value: a
/// mantissa below 2^53 divided by an exact power of ten is correctly rounded
/// (Clinger's fast path). `None` for anything else, which `parse` reads.
fn plain_decimal(value: &str) -> Option<f64> {
    let (negative, digits) = match value.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    let (mut mantissa, mut count, mut decimals) = (0u64, 0usize, None::<usize>);
    for &byte in digits {
        match byte {
            b'0'..=b'9' if count < 15 => {
                mantissa = mantissa * 10 + u64::from(byte - b'0');
                count += 1;
                decimals = decimals.map(|d| d + 1);
            }
            b'.' if decimals.is_none() => decimals = Some(0),
            _ => return None,
        }
    }
    if count == 0 {
        return None;
    }
    let magnitude = mantissa as f64 / POWERS_OF_TEN[decimals.unwrap_or(0)];
    Some(if negative { -magnitude } else { magnitude })
}

/// A whole number; decimals with no fraction (`3.0`) are accepted.
pub fn integer(raw: &str, findings: &mut Findings) -> Option<i64> {
    let n = number(raw, findings)?;
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Some(n as i64)
    } else {
        findings.add(Finding::UnreadableNumber);
        None
    }
}

/// A date as the export writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateValue {
    /// A real calendar date.
    Known(NaiveDate),
    /// `9999-12-31`: still ongoing.
    Ongoing,
    /// Missing: `1970-01-01`, a missing marker or unreadable text.
    Missing,
}

impl DateValue {
    pub fn known(self) -> Option<NaiveDate> {
        match self {
            DateValue::Known(d) => Some(d),
            _ => None,
        }
    }
}

/// A date: `YYYY-MM-DD`, optionally followed by a time, which is dropped.
pub fn date(raw: &str, findings: &mut Findings) -> DateValue {
    let value = trim(raw);
    if is_missing(value) {
        return DateValue::Missing;
    }
    match iso_date(value) {
        Some((1970, 1, 1)) => {
            findings.add(Finding::EpochDate);
            DateValue::Missing
        }
        Some((9999, 12, 31)) => DateValue::Ongoing,
        Some((y, m, d)) => match NaiveDate::from_ymd_opt(y, m, d) {
            Some(date) => DateValue::Known(date),
            None => {
                findings.add(Finding::UnreadableDate);
                DateValue::Missing
            }
        },
        None => {
            findings.add(Finding::UnreadableDate);
            DateValue::Missing
        }
    }
}

/// Year, month and day of `YYYY-MM-DD` (anything after the tenth byte, such
/// as a time, is ignored). Hand-written because chrono's general parser was
/// a tenth of the transform's time (see BENCHMARKS.md).
fn iso_date(value: &str) -> Option<(i32, u32, u32)> {
    let b = value.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' || (b.len() > 10 && b[10].is_ascii_digit()) {
        return None;
    }
    Some((digits(&b[0..4])? as i32, digits(&b[5..7])?, digits(&b[8..10])?))
}

/// The number a run of ASCII digits spells; `None` if any byte is no digit.
fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// A `YYYYMMDD` date (a snapshot id). Eight digits are read by hand, to the
/// date chrono's `%Y%m%d` gives (property-tested), since chrono's general
/// parser was a seventieth of `check`; anything else goes to chrono.
pub fn compact_date(value: &str) -> Option<NaiveDate> {
    let b = value.as_bytes();
    let parts = if b.len() == 8 {
        digits(&b[0..4]).zip(digits(&b[4..6])).zip(digits(&b[6..8]))
    } else {
        None
    };
    match parts {
        Some(((year, month), day)) => NaiveDate::from_ymd_opt(year as i32, month, day),
        None => NaiveDate::parse_from_str(value, "%Y%m%d").ok(),
    }
}

/// Whitespace runs collapsed to one space, ends trimmed.
pub fn collapse_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f() -> Findings {
        Findings::default()
    }

    #[test]
    fn a_missing_marker_with_nul_bytes_in_it_is_still_missing() {
        // Found by the snapshot sequence test: `n/a` with a NUL byte was
        // stored as the text "n/a", so the next snapshot's clean `n/a`
        // counted as a change.
        for raw in ["n/a\0", "\0n/a", "n/\0a", " N/\0A ", "\0", " \0 "] {
            assert_eq!(text(raw, &mut f()), None, "{raw:?}");
            assert!(is_missing(raw), "{raw:?}");
        }
        assert_eq!(text("Lag\0os", &mut f()).as_deref(), Some("Lagos"));
        assert!(!is_missing("n/a\0b"));
    }

    proptest::proptest! {
        #[test]
        fn plain_decimals_read_as_str_parse_reads_them(raw in "-?[0-9]{0,17}(\\.[0-9]{0,17}){0,2}") {
            if let Some(fast) = plain_decimal(&raw) {
                let parsed: f64 = raw.parse().expect("a plain decimal parses");
                proptest::prop_assert_eq!(fast.to_bits(), parsed.to_bits(), "{}", raw);
            }
        }

        #[test]
        fn compact_dates_read_as_chrono_reads_them(raw in "[0-9]{8}|[0-9]{4}(0[0-9]|1[0-3])[0-3][0-9]") {
            proptest::prop_assert_eq!(compact_date(&raw), NaiveDate::parse_from_str(&raw, "%Y%m%d").ok(), "{}", raw);
        }

        #[test]
        fn the_trim_shortcut_trims_as_str_trim_does(raw in "[ a-z\\t\\n\\r\u{a0}\u{3000}é.,0-9-]{0,6}") {
            proptest::prop_assert_eq!(trim(&raw), raw.trim());
        }
    }

    #[test]
    fn missing_text_in_any_case_is_absent() {
        let mut findings = f();
        for raw in ["n/a", "N/A", "N/a", " n/A ", "", "   "] {
            assert_eq!(text(raw, &mut findings), None, "{raw:?}");
        }
        assert_eq!(findings.get(Finding::NaValue), 4);
        assert_eq!(findings.get(Finding::EmptyValue), 2);
        assert_eq!(text("  Lagos ", &mut findings).as_deref(), Some("Lagos"));
        assert_eq!(text("n/a please", &mut findings).as_deref(), Some("n/a please"));
    }

    #[test]
    fn nul_bytes_are_removed_and_counted() {
        let mut findings = f();
        assert_eq!(text("he\0llo", &mut findings).as_deref(), Some("hello"));
        assert_eq!(text("\0", &mut findings), None);
        assert_eq!(findings.get(Finding::NulBytesRemoved), 2);
    }

    #[test]
    fn flags_accept_every_spelling_of_the_export() {
        let mut findings = f();
        assert_eq!(flag("1", &mut findings), Some(true));
        assert_eq!(flag("0", &mut findings), Some(false));
        assert_eq!(flag("1.0", &mut findings), Some(true));
        assert_eq!(flag("0.0", &mut findings), Some(false));
        assert_eq!(flag("", &mut findings), None);
        assert_eq!(flag("n/a", &mut findings), None);
        assert_eq!(flag("yes please", &mut findings), None);
        assert_eq!(findings.get(Finding::FlagAsDecimal), 2);
        assert_eq!(findings.get(Finding::MissingFlag), 2);
        assert_eq!(findings.get(Finding::UnreadableFlag), 1);
    }

    #[test]
    fn minus_ninety_nine_is_a_missing_number() {
        let mut findings = f();
        assert_eq!(number("-99", &mut findings), None);
        assert_eq!(number("-99.0", &mut findings), None);
        assert_eq!(number(" 67.25 ", &mut findings), Some(67.25));
        assert_eq!(number("-98", &mut findings), Some(-98.0));
        assert_eq!(number("abc", &mut findings), None);
        assert_eq!(number("NaN", &mut findings), None);
        assert_eq!(integer("12", &mut findings), Some(12));
        assert_eq!(integer("12.0", &mut findings), Some(12));
        assert_eq!(integer("12.5", &mut findings), None);
        assert_eq!(number("1.2.3", &mut findings), None, "two points");
        assert_eq!(
            number("-99.00000000000001", &mut findings),
            Some(-99.00000000000001)
        );
        assert_eq!(findings.get(Finding::MinusNinetyNine), 2);
        assert_eq!(findings.get(Finding::UnreadableNumber), 4);
    }

    #[test]
    fn dates_know_missing_and_ongoing() {
        let mut findings = f();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date");
        assert_eq!(
            date("2024-09-23", &mut findings),
            DateValue::Known(d("2024-09-23"))
        );
        assert_eq!(
            date("2024-09-23 00:00:00", &mut findings),
            DateValue::Known(d("2024-09-23"))
        );
        assert_eq!(date("1970-01-01", &mut findings), DateValue::Missing);
        assert_eq!(date("9999-12-31", &mut findings), DateValue::Ongoing);
        assert_eq!(date("2024-02-30", &mut findings), DateValue::Missing);
        assert_eq!(date("n/a", &mut findings), DateValue::Missing);
        assert_eq!(date("2024-9-23", &mut findings), DateValue::Missing);
        assert_eq!(date("20240-09-23", &mut findings), DateValue::Missing);
        assert_eq!(date("2024-09-2x", &mut findings), DateValue::Missing);
        // Each dash in its place, and no digit straight after the day.
        assert_eq!(date("2024x09-23", &mut findings), DateValue::Missing);
        assert_eq!(date("2024-09x23", &mut findings), DateValue::Missing);
        assert_eq!(date("2024-09-231", &mut findings), DateValue::Missing);
        assert_eq!(
            date("2024-09-23T10:00", &mut findings),
            DateValue::Known(d("2024-09-23"))
        );
        assert_eq!(findings.get(Finding::EpochDate), 1);
        assert_eq!(findings.get(Finding::UnreadableDate), 7);
    }

    #[test]
    fn long_numbers_read_as_str_parse_reads_them_and_integers_stop_below_nine_quadrillion() {
        // Sixteen digits whose mantissa is past 2^53: dividing it as the
        // fast path does would round twice and miss the nearest value.
        for raw in ["9.513282814504773", "990997441.4579967", "9999.383683404875"] {
            let parsed: f64 = raw.parse().expect("a number");
            assert_eq!(
                number(raw, &mut f()).map(f64::to_bits),
                Some(parsed.to_bits()),
                "{raw}"
            );
        }
        let mut findings = f();
        assert_eq!(
            integer("8999999999999999", &mut findings),
            Some(8_999_999_999_999_999)
        );
        assert_eq!(integer("9000000000000000", &mut findings), None);
        assert_eq!(integer("-9000000000000000", &mut findings), None);
        assert_eq!(findings.get(Finding::UnreadableNumber), 2);
    }
}
