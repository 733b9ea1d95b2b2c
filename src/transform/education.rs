//! The education_details cell: studies at institutions (docs/input.md).

use super::Transformer;
use super::clean;
use super::details::EducationEntry;
use super::quality::Findings;
use crate::graph::records::{EntityCollector, LearnerRecord, NameKind, Rel};

impl Transformer {
    pub(super) fn studies(
        &self,
        education: &[EducationEntry<'_>],
        record: &mut LearnerRecord,
        findings: &mut Findings,
        entities: &mut EntityCollector,
    ) {
        for entry in education {
            let Some(institution) = Self::organisation(
                entry.institution_name.as_str(),
                NameKind::Institution,
                entities,
                findings,
            ) else {
                continue;
            };
            let mut props = self.props();
            props.str(
                "fieldOfStudy",
                clean::text_ref(entry.field_of_study.as_str(), findings),
            );
            props.str(
                "levelOfStudy",
                clean::text_ref(entry.level_of_study.as_str(), findings),
            );
            props.date(
                "startDate",
                clean::date(entry.start_date.as_str(), findings).known(),
            );
            props.date("endDate", clean::date(entry.end_date.as_str(), findings).known());
            props.bool("graduated", clean::flag(entry.graduated.as_str(), findings));
            record.studied_at.push(Rel {
                target: institution,
                props: props.finish(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::graph::records::{Props, Value};
    use crate::transform::TransformOptions;
    use crate::transform::details::parse_array;
    use crate::transform::quality::Finding;

    /// Expected values written by hand from docs/input.md and docs/graph.md.
    #[test]
    fn education_entries_become_studied_at_with_their_properties() {
        let cell = r#"[
            {"institution_name":"University of Lagos","field_of_study":"Computer Science","level_of_study":"Bachelor's","start_date":"2015-09-01","end_date":"2019-07-01","graduated":"1"},
            {"institution_name":"n/a","field_of_study":"Art"}
        ]"#;
        let entries = parse_array(cell).expect("valid");
        let (mut record, mut findings, mut entities) = (
            LearnerRecord::default(),
            Findings::default(),
            EntityCollector::default(),
        );
        Transformer::new(TransformOptions::default()).studies(
            &entries,
            &mut record,
            &mut findings,
            &mut entities,
        );
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date");
        assert_eq!(record.studied_at.len(), 1, "the nameless entry writes nothing");
        assert_eq!(record.studied_at[0].target, "university-of-lagos");
        assert_eq!(
            record.studied_at[0].props,
            Props(vec![
                ("fieldOfStudy", Value::Str("Computer Science".into())),
                ("levelOfStudy", Value::Str("Bachelor's".into())),
                ("startDate", Value::Date(day("2015-09-01"))),
                ("endDate", Value::Date(day("2019-07-01"))),
                ("graduated", Value::Bool(true)),
            ])
        );
        assert_eq!(findings.get(Finding::EntryWithoutName), 1);
    }
}
