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
