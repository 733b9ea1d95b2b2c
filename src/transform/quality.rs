//! Data-quality findings: how many values each cleaning rule changed, which
//! country names are unknown, which flags disagree with the data and which
//! dates are out of order.
//!
//! Each transform thread fills its own [`Findings`]; the pipeline merges them
//! in file order, so the report is the same whatever the thread count.

use std::collections::BTreeMap;

use serde::Serialize;

/// One kind of finding. The names are stable: they appear in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// `n/a` (any case) turned into an absent value.
    NaValue,
    /// An empty string turned into an absent value.
    EmptyValue,
    /// `-99` turned into an absent number.
    MinusNinetyNine,
    /// `1970-01-01` turned into an absent date.
    EpochDate,
    /// A date that is no calendar date.
    UnreadableDate,
    /// A number that does not parse.
    UnreadableNumber,
    /// A 0/1 flag written `0.0` or `1.0`.
    FlagAsDecimal,
    /// A 0/1 flag that is empty or `n/a`.
    MissingFlag,
    /// A 0/1 flag with another value.
    UnreadableFlag,
    /// NUL bytes removed from a text value.
    NulBytesRemoved,
    /// A country name written other than its table name (case, accents, a
    /// variant such as `Ivory Coast`) and mapped to its code.
    CountryVariantResolved,
    /// A country name that matches no country: no code is given.
    UnknownCountry,
    /// A city given without a known country of residence: no city id.
    CityWithoutCountry,
    /// Display forms of a skill, company, city or institution beyond the
    /// first one seen for its id (case, spacing, punctuation, accents).
    NameVariantMerged,
    /// `organization_name` used for `organisation_name`.
    OrganizationSpelling,
    /// `Dropped out` and other case variants of a status.
    StatusCaseVariant,
    /// An enrollment status outside Enrolled / Graduated / Dropped Out.
    UnknownStatus,
    /// An enrollment without a cohort code: no ENROLLED_IN.
    EnrollmentWithoutCohort,
    /// learning_details is `[]`.
    NoLearningEntry,
    /// is_graduate_learner / is_active_learner / is_a_dropped_out disagrees
    /// with enrollment_status.
    StatusFlagMismatch,
    /// is_placed disagrees with the three employment flags.
    PlacedFlagMismatch,
    /// has_employment_details / has_education_details / has_placement_details
    /// disagrees with its JSON column.
    DetailsFlagMismatch,
    /// Graduated without a graduation date.
    GraduatedWithoutDate,
    /// A graduation date without the Graduated status.
    GraduationDateNotGraduated,
    /// A graduation date after the program end date.
    GraduationAfterEnd,
    /// A program end date before its start date.
    EndBeforeStart,
    /// A job whose end date is before its start date.
    JobEndBeforeStart,
    /// A job or study entry without an organisation or institution name.
    EntryWithoutName,
    /// A row whose learner key repeats an earlier row's (the later row is
    /// rejected).
    DuplicateKey,
    /// No snapshot date: neither configured nor readable from snapshot_id.
    NoSnapshotDate,
    /// A state whose date is after the snapshot (a job that starts later):
    /// its interval begins at the snapshot date (graph.md).
    StateDateAfterSnapshot,
    /// A state dated before the state ahead of it (a graduation before its
    /// enrollment began): it begins where that one does.
    StateDatesOutOfOrder,
    /// A row whose own snapshot_id differs from the configured snapshot
    /// date (`--snapshot-date`), which overrides it.
    SnapshotIdOverridden,
}

/// Counters per finding, plus the unknown country names with their counts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Findings {
    counts: BTreeMap<Finding, u64>,
    unknown_countries: BTreeMap<String, u64>,
}

/// Unknown country names kept by name; past this, only counted.
const MAX_UNKNOWN_NAMES: usize = 1_000;

impl Findings {
    pub fn add(&mut self, finding: Finding) {
        *self.counts.entry(finding).or_default() += 1;
    }

    /// Adds `count` occurrences at once (none: nothing recorded).
    pub fn set_add(&mut self, finding: Finding, count: u64) {
        if count > 0 {
            *self.counts.entry(finding).or_default() += count;
        }
    }

    /// Sets a count computed over the whole file.
    pub fn set(&mut self, finding: Finding, count: u64) {
        if count > 0 {
            self.counts.insert(finding, count);
        }
    }

    pub fn get(&self, finding: Finding) -> u64 {
        self.counts.get(&finding).copied().unwrap_or(0)
    }

    pub fn unknown_country(&mut self, name: &str) {
        self.add(Finding::UnknownCountry);
        if self.unknown_countries.len() < MAX_UNKNOWN_NAMES || self.unknown_countries.contains_key(name) {
            *self.unknown_countries.entry(name.to_string()).or_default() += 1;
        }
    }

    pub fn unknown_countries(&self) -> &BTreeMap<String, u64> {
        &self.unknown_countries
    }

    pub fn counts(&self) -> &BTreeMap<Finding, u64> {
        &self.counts
    }

    pub fn merge(&mut self, other: &Findings) {
        for (finding, count) in &other.counts {
            *self.counts.entry(*finding).or_default() += count;
        }
        for (name, count) in &other.unknown_countries {
            if self.unknown_countries.len() < MAX_UNKNOWN_NAMES || self.unknown_countries.contains_key(name) {
                *self.unknown_countries.entry(name.clone()).or_default() += count;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_are_set_and_a_zero_records_nothing() {
        let mut findings = Findings::default();
        findings.set_add(Finding::StateDatesOutOfOrder, 0);
        findings.set(Finding::NameVariantMerged, 0);
        assert!(findings.counts().is_empty(), "a zero is no finding: {findings:?}");
        findings.set_add(Finding::StateDatesOutOfOrder, 2);
        findings.set_add(Finding::StateDatesOutOfOrder, 3);
        assert_eq!(findings.get(Finding::StateDatesOutOfOrder), 5);
        findings.set(Finding::NameVariantMerged, 4);
        findings.set(Finding::NameVariantMerged, 7);
        assert_eq!(findings.get(Finding::NameVariantMerged), 7, "set replaces");
        findings.set(Finding::NameVariantMerged, 0);
        assert_eq!(findings.get(Finding::NameVariantMerged), 7, "a zero leaves it");
        let listed: Vec<(Finding, u64)> = findings.counts().iter().map(|(f, n)| (*f, *n)).collect();
        assert_eq!(
            listed,
            [
                (Finding::StateDatesOutOfOrder, 5),
                (Finding::NameVariantMerged, 7)
            ]
            .into_iter()
            .collect::<BTreeMap<_, _>>()
            .into_iter()
            .collect::<Vec<_>>()
        );
    }

    #[test]
    fn unknown_countries_are_counted_and_named_up_to_the_bound() {
        let mut findings = Findings::default();
        findings.unknown_country("Atlantis");
        findings.unknown_country("Atlantis");
        assert_eq!(findings.get(Finding::UnknownCountry), 2);
        assert_eq!(findings.unknown_countries().get("Atlantis"), Some(&2));
        for n in 1..MAX_UNKNOWN_NAMES {
            findings.unknown_country(&format!("Nowhere {n}"));
        }
        assert_eq!(findings.unknown_countries().len(), MAX_UNKNOWN_NAMES);
        findings.unknown_country("One too many");
        findings.unknown_country("Atlantis");
        assert_eq!(
            findings.unknown_countries().len(),
            MAX_UNKNOWN_NAMES,
            "past the bound, only counted"
        );
        assert_eq!(
            findings.unknown_countries().get("Atlantis"),
            Some(&3),
            "a known name still counts"
        );
        assert_eq!(
            findings.get(Finding::UnknownCountry),
            1 + MAX_UNKNOWN_NAMES as u64 + 2
        );

        let mut merged = Findings::default();
        merged.unknown_country("Lemuria");
        merged.merge(&findings);
        merged.merge(&findings);
        assert_eq!(
            merged.get(Finding::UnknownCountry),
            1 + 2 * findings.get(Finding::UnknownCountry)
        );
        assert_eq!(
            merged.unknown_countries().len(),
            MAX_UNKNOWN_NAMES,
            "the bound holds in a merge"
        );
        assert_eq!(merged.unknown_countries().get("Lemuria"), Some(&1));
        assert_eq!(merged.unknown_countries().get("Atlantis"), Some(&6));
    }
}
