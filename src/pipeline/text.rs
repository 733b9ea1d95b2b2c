//! How numbers read in human output: digits grouped by thousands
//! (`19,999 learners`, `200,008 relationships`), as a reader counts them.
//! JSON and CSV keep plain numbers, for the programs that read them.

use std::fmt;

use thousands::Separable;

/// A number shown to a reader, its digits grouped; pads like a number
/// (`{:>12}`).
pub struct Grouped(String);

impl fmt::Display for Grouped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// A count, digits grouped.
pub fn grouped(n: impl Separable) -> Grouped {
    Grouped(n.separate_with_commas())
}

/// A rate or other measure, rounded to a whole number, digits grouped.
pub fn grouped_round(x: f64) -> Grouped {
    grouped(x.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped_by_thousands_and_padded_like_numbers() {
        assert_eq!(grouped(19_999u64).to_string(), "19,999");
        assert_eq!(grouped(200_008u64).to_string(), "200,008");
        assert_eq!(grouped(999u64).to_string(), "999");
        assert_eq!(grouped(-1_234_567i64).to_string(), "-1,234,567");
        assert_eq!(format!("{:>8}", grouped(1_000u64)), "   1,000");
        assert_eq!(grouped_round(246_999.6).to_string(), "247,000");
    }
}
