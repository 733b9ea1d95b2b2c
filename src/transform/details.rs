//! The JSON arrays inside cells: learning, employment, placement and
//! education details, parsed into borrowed, typed entries.
//!
//! Every value is read as text whatever its JSON type (the export writes
//! numbers as strings, but not always), so one reader serves all.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A JSON value read as text: strings as they are, numbers and booleans in
/// their JSON form, `null` as absent.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Text<'a>(pub Option<Cow<'a, str>>);

impl Text<'_> {
    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number, boolean or null")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(if v { "1" } else { "0" }))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// One learning_details entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LearningEntry<'a> {
    #[serde(borrow)]
    pub program_name: Text<'a>,
    #[serde(borrow)]
    pub cohort_code: Text<'a>,
    #[serde(borrow)]
    pub program_start_date: Text<'a>,
    #[serde(borrow)]
    pub program_end_date: Text<'a>,
    #[serde(borrow)]
    pub enrollment_status: Text<'a>,
    #[serde(borrow)]
    pub program_graduation_date: Text<'a>,
    #[serde(borrow)]
    pub lms_overall_score: Text<'a>,
    #[serde(borrow)]
    pub completion_rate: Text<'a>,
    #[serde(borrow)]
    pub no_of_assignments: Text<'a>,
    #[serde(borrow)]
    pub no_of_submissions: Text<'a>,
    #[serde(borrow)]
    pub no_of_assignment_passed: Text<'a>,
    #[serde(borrow)]
    pub assignment_completion_rate: Text<'a>,
    #[serde(borrow)]
    pub no_of_milestone: Text<'a>,
    #[serde(borrow)]
    pub no_of_milestone_submitted: Text<'a>,
    #[serde(borrow)]
    pub no_of_milestone_passed: Text<'a>,
    #[serde(borrow)]
    pub milestone_completion_rate: Text<'a>,
    #[serde(borrow)]
    pub no_of_test: Text<'a>,
    #[serde(borrow)]
    pub no_of_test_submitted: Text<'a>,
    #[serde(borrow)]
    pub no_of_test_passed: Text<'a>,
    #[serde(borrow)]
    pub test_completion_rate: Text<'a>,
}

/// One employment_details entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EmploymentEntry<'a> {
    #[serde(borrow)]
    pub organisation_name: Text<'a>,
    /// The export's other spelling of `organisation_name`.
    #[serde(borrow)]
    pub organization_name: Text<'a>,
    #[serde(borrow)]
    pub start_date: Text<'a>,
    #[serde(borrow)]
    pub end_date: Text<'a>,
    #[serde(borrow)]
    pub job_title: Text<'a>,
    #[serde(borrow)]
    pub is_current: Text<'a>,
    #[serde(borrow)]
    pub duration_in_years: Text<'a>,
}

/// One placement_details entry, in either of its two shapes: wage or
/// freelance work (`organisation_name`) or a venture (`business_name`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PlacementEntry<'a> {
    #[serde(borrow)]
    pub employment_type: Text<'a>,
    #[serde(borrow)]
    pub job_start_date: Text<'a>,
    #[serde(borrow)]
    pub organisation_name: Text<'a>,
    #[serde(borrow)]
    pub organization_name: Text<'a>,
    #[serde(borrow)]
    pub salary_range: Text<'a>,
    #[serde(borrow)]
    pub job_title: Text<'a>,
    #[serde(borrow)]
    pub business_name: Text<'a>,
    #[serde(borrow)]
    pub jobs_created_to_date: Text<'a>,
    #[serde(borrow)]
    pub capital_secured_todate: Text<'a>,
    #[serde(borrow)]
    pub female_opp_todate: Text<'a>,
}

/// One education_details entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EducationEntry<'a> {
    #[serde(borrow)]
    pub institution_name: Text<'a>,
    #[serde(borrow)]
    pub start_date: Text<'a>,
    #[serde(borrow)]
    pub end_date: Text<'a>,
    #[serde(borrow)]
    pub field_of_study: Text<'a>,
    #[serde(borrow)]
    pub level_of_study: Text<'a>,
    #[serde(borrow)]
    pub graduated: Text<'a>,
}

/// Parses a JSON array cell. An empty cell or `n/a` is an empty array.
pub fn parse_array<'a, T: Deserialize<'a>>(cell: &'a str) -> Result<Vec<T>, serde_json::Error> {
    let trimmed = super::clean::trim(cell);
    if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("n/a") || trimmed == "[]" {
        return Ok(Vec::new());
    }
    serde_json::from_str(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_of_any_json_type_read_as_text() {
        let entries: Vec<PlacementEntry> = parse_array(
            r#"[{"business_name":"Acme \"A\"","jobs_created_to_date":3,"capital_secured_todate":2500.5,"female_opp_todate":null}]"#,
        )
        .expect("valid");
        assert_eq!(entries[0].business_name.as_str(), "Acme \"A\"");
        assert_eq!(entries[0].jobs_created_to_date.as_str(), "3");
        assert_eq!(entries[0].capital_secured_todate.as_str(), "2500.5");
        assert_eq!(entries[0].female_opp_todate, Text(None));
        let entries: Vec<EducationEntry> =
            parse_array(r#"[{"graduated":true,"level_of_study":-2,"start_date":false}]"#).expect("valid");
        assert_eq!(entries[0].graduated.as_str(), "1");
        assert_eq!(entries[0].start_date.as_str(), "0");
        assert_eq!(entries[0].level_of_study.as_str(), "-2");
    }

    #[test]
    fn a_value_that_is_an_array_or_object_is_an_error_that_says_what_was_expected() {
        for cell in [
            r#"[{"institution_name":{"name":"X"}}]"#,
            r#"[{"institution_name":["X"]}]"#,
        ] {
            let error = parse_array::<EducationEntry>(cell).expect_err("not a text value");
            assert!(
                error
                    .to_string()
                    .contains("expected a string, number, boolean or null"),
                "{cell}: {error}"
            );
        }
    }

    #[test]
    fn both_spellings_of_organisation_are_read() {
        let entries: Vec<EmploymentEntry> =
            parse_array(r#"[{"organization_name":"Andela","is_current":"1","extra":"ignored"}]"#)
                .expect("valid");
        assert_eq!(entries[0].organization_name.as_str(), "Andela");
        assert_eq!(entries[0].organisation_name, Text(None));
    }

    #[test]
    fn empty_markers_are_empty_arrays_and_broken_json_is_an_error() {
        assert!(parse_array::<EducationEntry>("[]").expect("ok").is_empty());
        assert!(parse_array::<EducationEntry>("").expect("ok").is_empty());
        assert!(parse_array::<EducationEntry>("n/a").expect("ok").is_empty());
        assert!(parse_array::<EducationEntry>(r#"[{"institution_name":"X""#).is_err());
        assert!(parse_array::<EducationEntry>(r#"{"institution_name":"X"}"#).is_err());
    }
}
