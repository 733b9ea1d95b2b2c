//! The learning_details cell: enrollments in program cohorts, and the
//! learning state history that follows the most recent enrollment
//! (docs/input.md, "learning_details").

use chrono::NaiveDate;

use super::details::LearningEntry;
use super::history::{self, Status};
use super::quality::{Finding, Findings};
use super::{Fields, Transformer, clean};
use crate::graph::records::{EntityCollector, LearnerRecord, Props, Rel};
use crate::source::columns::col;

/// The enrollment the learning state follows: the one that started last.
struct LatestEnrollment {
    start: Option<NaiveDate>,
    status: Status,
    end: Option<NaiveDate>,
    graduation: Option<NaiveDate>,
}

/// An enrollment's dates, known ones only.
#[derive(Clone, Copy)]
struct EnrollmentDates {
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    graduation: Option<NaiveDate>,
}

impl Transformer {
    /// Every enrollment (one per cohort, the first entry of a cohort kept),
    /// its Program recorded, and the learning state history.
    pub(super) fn enrollments(
        &self,
        learning: &[LearningEntry<'_>],
        fields: &Fields<'_>,
        record: &mut LearnerRecord,
        findings: &mut Findings,
        entities: &mut EntityCollector,
    ) {
        if learning.is_empty() {
            findings.add(Finding::NoLearningEntry);
        }
        let mut latest: Option<LatestEnrollment> = None;
        for entry in learning {
            let (status, canonical) = enrollment_status(entry, findings);
            let dates = enrollment_dates(entry, status, findings);
            if latest.as_ref().is_none_or(|l| dates.start > l.start) {
                latest = Some(LatestEnrollment {
                    start: dates.start,
                    status,
                    end: dates.end,
                    graduation: dates.graduation,
                });
            }
            let Some(cohort) = clean::text(entry.cohort_code.as_str(), findings) else {
                findings.add(Finding::EnrollmentWithoutCohort);
                continue;
            };
            if record.enrollments.iter().any(|r| r.target == cohort) {
                continue;
            }
            let program_name = clean::text_ref(entry.program_name.as_str(), findings);
            entities.program(&cohort, program_name.as_deref());
            let props = self.enrollment_props(entry, &cohort, status, canonical, dates, findings);
            record.enrollments.push(Rel {
                target: cohort,
                props,
            });
        }
        self.learning_states(latest, fields, record, findings);
    }

    /// The learning state history of the latest enrollment, its status
    /// checked against the is_graduate, is_active and is_dropped_out flags.
    fn learning_states(
        &self,
        latest: Option<LatestEnrollment>,
        fields: &Fields<'_>,
        record: &mut LearnerRecord,
        findings: &mut Findings,
    ) {
        let LatestEnrollment {
            start,
            status,
            end,
            graduation,
        } = latest.unwrap_or(LatestEnrollment {
            start: None,
            status: Status::Unknown,
            end: None,
            graduation: None,
        });
        for (flag_column, expected) in [
            (col::IS_GRADUATE, status == Status::Graduated),
            (col::IS_ACTIVE, status == Status::Enrolled),
            (col::IS_DROPPED_OUT, status == Status::DroppedOut),
        ] {
            if clean::flag(fields.get(flag_column), findings).is_some_and(|f| f != expected) {
                findings.add(Finding::StatusFlagMismatch);
            }
        }
        record.learning_states = self.state_rels(
            history::learning_spans(status, start, end, graduation),
            record.snapshot,
            findings,
        );
    }

    /// The ENROLLED_IN relationship's properties: status, dates, scores and
    /// the assignment, milestone and test counts.
    fn enrollment_props(
        &self,
        entry: &LearningEntry<'_>,
        cohort: &str,
        status: Status,
        canonical: Option<&'static str>,
        dates: EnrollmentDates,
        findings: &mut Findings,
    ) -> Props {
        let mut props = self.props();
        props.str("cohortCode", Some(cohort));
        props.str("enrollmentStatus", canonical);
        props.date("startDate", dates.start);
        props.date("endDate", dates.end);
        props.date("graduationDate", dates.graduation);
        let number =
            |raw: &super::details::Text<'_>, findings: &mut Findings| clean::number(raw.as_str(), findings);
        let integer =
            |raw: &super::details::Text<'_>, findings: &mut Findings| clean::integer(raw.as_str(), findings);
        props.float("lmsOverallScore", number(&entry.lms_overall_score, findings));
        props.float("completionRate", number(&entry.completion_rate, findings));
        props.int("assignments", integer(&entry.no_of_assignments, findings));
        props.int(
            "assignmentsSubmitted",
            integer(&entry.no_of_submissions, findings),
        );
        props.int(
            "assignmentsPassed",
            integer(&entry.no_of_assignment_passed, findings),
        );
        props.float(
            "assignmentCompletionRate",
            number(&entry.assignment_completion_rate, findings),
        );
        props.int("milestones", integer(&entry.no_of_milestone, findings));
        props.int(
            "milestonesSubmitted",
            integer(&entry.no_of_milestone_submitted, findings),
        );
        props.int(
            "milestonesPassed",
            integer(&entry.no_of_milestone_passed, findings),
        );
        props.float(
            "milestoneCompletionRate",
            number(&entry.milestone_completion_rate, findings),
        );
        props.int("tests", integer(&entry.no_of_test, findings));
        props.int("testsSubmitted", integer(&entry.no_of_test_submitted, findings));
        props.int("testsPassed", integer(&entry.no_of_test_passed, findings));
        props.float(
            "testCompletionRate",
            number(&entry.test_completion_rate, findings),
        );
        props.bool("isCompleted", canonical.map(|_| status == Status::Graduated));
        props.bool("isDropped", canonical.map(|_| status == Status::DroppedOut));
        props.int(
            "durationDays",
            dates
                .start
                .zip(dates.end)
                .map(|(s, e)| (e - s).num_days())
                .filter(|d| *d >= 0),
        );
        props.finish()
    }
}

/// The enrollment status, whatever its case, and its canonical spelling
/// (`None` when it is no known status).
fn enrollment_status(entry: &LearningEntry<'_>, findings: &mut Findings) -> (Status, Option<&'static str>) {
    let status_text = clean::trim(entry.enrollment_status.as_str());
    let status = match status_text.to_ascii_lowercase().as_str() {
        "enrolled" => Status::Enrolled,
        "graduated" => Status::Graduated,
        "dropped out" => Status::DroppedOut,
        _ => Status::Unknown,
    };
    let canonical = match status {
        Status::Enrolled => Some("Enrolled"),
        Status::Graduated => Some("Graduated"),
        Status::DroppedOut => Some("Dropped Out"),
        Status::Unknown => None,
    };
    match canonical {
        Some(c) if c != status_text => findings.add(Finding::StatusCaseVariant),
        None if !clean::is_missing(status_text) => findings.add(Finding::UnknownStatus),
        _ => {}
    }
    (status, canonical)
}

/// The enrollment's dates, checked against each other and its status.
fn enrollment_dates(entry: &LearningEntry<'_>, status: Status, findings: &mut Findings) -> EnrollmentDates {
    let start = clean::date(entry.program_start_date.as_str(), findings).known();
    let end = clean::date(entry.program_end_date.as_str(), findings).known();
    let graduation = clean::date(entry.program_graduation_date.as_str(), findings).known();
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        findings.add(Finding::EndBeforeStart);
    }
    match (status, graduation) {
        (Status::Graduated, None) => findings.add(Finding::GraduatedWithoutDate),
        (Status::Graduated, Some(g)) if end.is_some_and(|e| g > e) => {
            findings.add(Finding::GraduationAfterEnd)
        }
        (s, Some(_)) if s != Status::Graduated => findings.add(Finding::GraduationDateNotGraduated),
        _ => {}
    }
    EnrollmentDates {
        start,
        end,
        graduation,
    }
}
