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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::records::Value;
    use crate::source::columns::COLUMNS;
    use crate::transform::TransformOptions;
    use crate::transform::details::parse_array;
    use crate::transform::tests::{counts, date, day, state, states, text};

    /// The three status flags, the only columns `enrollments` reads.
    fn flags(
        graduate: &'static str,
        active: &'static str,
        dropped: &'static str,
    ) -> [&'static str; COLUMNS.len()] {
        let mut values = [""; COLUMNS.len()];
        values[col::IS_GRADUATE] = graduate;
        values[col::IS_ACTIVE] = active;
        values[col::IS_DROPPED_OUT] = dropped;
        values
    }

    /// Runs `enrollments` on a learning_details cell, the record dated `snapshot`.
    fn enroll(
        cell: &str,
        flag_values: [&'static str; COLUMNS.len()],
        snapshot: &str,
    ) -> (LearnerRecord, Findings, EntityCollector) {
        let entries = parse_array(cell).expect("valid");
        let mut record = LearnerRecord {
            snapshot: Some(day(snapshot)),
            ..LearnerRecord::default()
        };
        let (mut findings, mut entities) = (Findings::default(), EntityCollector::default());
        Transformer::new(TransformOptions::default()).enrollments(
            &entries,
            &Fields::from_text(flag_values),
            &mut record,
            &mut findings,
            &mut entities,
        );
        (record, findings, entities)
    }

    /// Expected values written by hand from docs/input.md and docs/graph.md.
    #[test]
    fn enrollments_become_enrolled_in_with_every_property_and_the_latest_start_gives_the_state() {
        let cell = r#"[
            {"program_name":"Software Engineering","cohort_code":"SE-C1","program_start_date":"2023-01-10","program_end_date":"2023-07-10","enrollment_status":"graduated","program_graduation_date":"2023-07-01",
             "lms_overall_score":"88.5","completion_rate":"0.91","no_of_assignments":"12","no_of_submissions":"11","no_of_assignment_passed":"10","assignment_completion_rate":"0.83",
             "no_of_milestone":"6","no_of_milestone_submitted":"5","no_of_milestone_passed":"4","milestone_completion_rate":"0.67",
             "no_of_test":"3","no_of_test_submitted":"2","no_of_test_passed":"1","test_completion_rate":"0.33"},
            {"program_name":"Data Science","cohort_code":"DS-C2","program_start_date":"2024-02-01","program_end_date":"2024-08-01","enrollment_status":"Dropped Out","program_graduation_date":"n/a","lms_overall_score":"-99"},
            {"program_name":"Software Engineering","cohort_code":"SE-C1","program_start_date":"2023-06-01","enrollment_status":"Enrolled"},
            {"program_name":"Cloud","cohort_code":"n/a","program_start_date":"2022-01-01","enrollment_status":"Paused"}
        ]"#;
        let (record, findings, mut entities) = enroll(cell, flags("", "1", "1"), "2025-06-30");

        let targets: Vec<&str> = record.enrollments.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(
            targets,
            ["SE-C1", "DS-C2"],
            "one ENROLLED_IN per cohort, its first entry kept; none without a cohort"
        );
        assert_eq!(
            record.enrollments[0].props,
            Props(vec![
                ("cohortCode", text("SE-C1")),
                ("enrollmentStatus", text("Graduated")),
                ("startDate", date("2023-01-10")),
                ("endDate", date("2023-07-10")),
                ("graduationDate", date("2023-07-01")),
                ("lmsOverallScore", Value::Float(88.5)),
                ("completionRate", Value::Float(0.91)),
                ("assignments", Value::Int(12)),
                ("assignmentsSubmitted", Value::Int(11)),
                ("assignmentsPassed", Value::Int(10)),
                ("assignmentCompletionRate", Value::Float(0.83)),
                ("milestones", Value::Int(6)),
                ("milestonesSubmitted", Value::Int(5)),
                ("milestonesPassed", Value::Int(4)),
                ("milestoneCompletionRate", Value::Float(0.67)),
                ("tests", Value::Int(3)),
                ("testsSubmitted", Value::Int(2)),
                ("testsPassed", Value::Int(1)),
                ("testCompletionRate", Value::Float(0.33)),
                ("isCompleted", Value::Bool(true)),
                ("isDropped", Value::Bool(false)),
                // 2023-01-10 to 2023-07-10: 31+28+31+30+31+30 days.
                ("durationDays", Value::Int(181)),
            ])
        );
        assert_eq!(
            record.enrollments[1].props,
            Props(vec![
                ("cohortCode", text("DS-C2")),
                ("enrollmentStatus", text("Dropped Out")),
                ("startDate", date("2024-02-01")),
                ("endDate", date("2024-08-01")),
                ("isCompleted", Value::Bool(false)),
                ("isDropped", Value::Bool(true)),
                // 2024 is a leap year: 29+31+30+31+30+31 days.
                ("durationDays", Value::Int(182)),
            ]),
            "n/a and -99 are absent values"
        );

        // The latest start is DS-C2's (the repeated SE-C1 entry starts
        // earlier): Active from its start, Dropped Out from its end.
        assert_eq!(
            states(&record.learning_states),
            [
                ("Active", &state("2024-02-01", Some("2024-08-01"), false)),
                ("Dropped Out", &state("2024-08-01", None, false)),
            ]
        );

        assert_eq!(
            findings.counts(),
            &counts(&[
                (Finding::StatusCaseVariant, 1),       // "graduated"
                (Finding::MinusNinetyNine, 1),         // DS-C2's score
                (Finding::UnknownStatus, 1),           // "Paused"
                (Finding::NaValue, 1),                 // the cohort "n/a"
                (Finding::EnrollmentWithoutCohort, 1), // the same entry
                (Finding::StatusFlagMismatch, 1),      // is_active_learner 1 for a dropout
                (Finding::MissingFlag, 1),             // is_graduate_learner empty
            ])
        );

        let programs = entities.take().programs;
        assert_eq!(programs.len(), 2);
        assert_eq!(programs["SE-C1"].as_deref(), Some("Software Engineering"));
        assert_eq!(programs["DS-C2"].as_deref(), Some("Data Science"));
    }

    /// The date rules of one enrollment (docs/input.md), each in its own
    /// cohort, the latest of them graduated without a graduation date.
    #[test]
    fn enrollment_dates_are_checked_against_each_other_and_the_status() {
        let cell = r#"[
            {"cohort_code":"EB-C1","enrollment_status":"Enrolled","program_start_date":"2024-05-01","program_end_date":"2024-04-01"},
            {"cohort_code":"GA-C1","enrollment_status":"Graduated","program_start_date":"2023-01-01","program_end_date":"2023-08-01","program_graduation_date":"2023-09-01"},
            {"cohort_code":"GE-C1","enrollment_status":"Graduated","program_start_date":"2022-01-01","program_end_date":"2022-06-01","program_graduation_date":"2022-06-01"},
            {"cohort_code":"GN-C1","enrollment_status":"Enrolled","program_start_date":"2021-01-01","program_graduation_date":"2021-05-01"},
            {"cohort_code":"SD-C1","enrollment_status":"Dropped Out","program_start_date":"2020-03-01","program_end_date":"2020-03-01"},
            {"cohort_code":"UK-C1","enrollment_status":"On hold","program_start_date":"2019-01-01"},
            {"cohort_code":"GW-C1","enrollment_status":"Graduated","program_start_date":"2024-06-01","program_end_date":"2024-12-01"}
        ]"#;
        let (record, findings, _) = enroll(cell, flags("0", "0", "0"), "2024-10-31");

        let props = |cohort: &str| {
            &record
                .enrollments
                .iter()
                .find(|r| r.target == cohort)
                .expect("enrolled")
                .props
        };
        assert_eq!(
            props("EB-C1"),
            &Props(vec![
                ("cohortCode", text("EB-C1")),
                ("enrollmentStatus", text("Enrolled")),
                ("startDate", date("2024-05-01")),
                ("endDate", date("2024-04-01")),
                ("isCompleted", Value::Bool(false)),
                ("isDropped", Value::Bool(false)),
            ]),
            "an end before the start gives no duration"
        );
        assert_eq!(
            props("SD-C1"),
            &Props(vec![
                ("cohortCode", text("SD-C1")),
                ("enrollmentStatus", text("Dropped Out")),
                ("startDate", date("2020-03-01")),
                ("endDate", date("2020-03-01")),
                ("isCompleted", Value::Bool(false)),
                ("isDropped", Value::Bool(true)),
                ("durationDays", Value::Int(0)),
            ]),
            "ending the day it starts lasts no day"
        );
        assert_eq!(
            props("UK-C1"),
            &Props(vec![
                ("cohortCode", text("UK-C1")),
                ("startDate", date("2019-01-01")),
            ]),
            "an unknown status writes no status and no completion flags"
        );
        assert_eq!(props("GN-C1").get("graduationDate"), Some(&date("2021-05-01")));

        // GW-C1 starts last: Active from its start, Graduate from its end
        // (no graduation date), which is after the snapshot: the snapshot's.
        assert_eq!(
            states(&record.learning_states),
            [
                ("Active", &state("2024-06-01", Some("2024-10-31"), false)),
                ("Graduate", &state("2024-10-31", None, false)),
            ]
        );

        assert_eq!(
            findings.counts(),
            &counts(&[
                (Finding::EmptyValue, 7), // no entry names its program
                (Finding::EndBeforeStart, 1),
                (Finding::GraduationAfterEnd, 1),
                (Finding::GraduationDateNotGraduated, 1),
                (Finding::UnknownStatus, 1),
                (Finding::GraduatedWithoutDate, 1),
                (Finding::StateDateAfterSnapshot, 1),
                (Finding::StatusFlagMismatch, 1), // is_graduate_learner 0 for a graduate
            ])
        );
    }

    #[test]
    fn no_enrollment_is_inactive_since_the_snapshot_and_flags_that_agree_are_no_finding() {
        let (record, findings, _) = enroll("[]", flags("0", "0", "0"), "2025-01-31");
        assert!(record.enrollments.is_empty());
        assert_eq!(record.learning_states.len(), 1);
        assert_eq!(record.learning_states[0].target, "Inactive");
        assert_eq!(record.learning_states[0].props, state("2025-01-31", None, true));
        assert_eq!(findings.counts(), &counts(&[(Finding::NoLearningEntry, 1)]));

        for (status, flag_values) in [
            ("Enrolled", flags("0", "1", "0")),
            ("Graduated", flags("1", "0", "0")),
            ("Dropped Out", flags("0", "0", "1")),
        ] {
            let cell = format!(
                r#"[{{"program_name":"P","cohort_code":"C-1","program_start_date":"2024-01-01","program_end_date":"2024-06-01","program_graduation_date":"{}","enrollment_status":"{status}"}}]"#,
                if status == "Graduated" { "2024-06-01" } else { "" }
            );
            let (record, findings, _) = enroll(&cell, flag_values, "2025-01-31");
            assert_eq!(findings.counts(), &counts(&[]), "{status}");
            let current = record.learning_states.last().expect("a state");
            let expected = match status {
                "Enrolled" => "Active",
                "Graduated" => "Graduate",
                _ => "Dropped Out",
            };
            assert_eq!(current.target, expected);
            assert_eq!(current.props.get("isCurrent"), Some(&Value::Bool(true)));
        }
    }

    /// Two enrollments that start the same day: the first listed gives
    /// the state (docs/input.md says nothing; the model's rule is the same).
    #[test]
    fn of_two_enrollments_starting_the_same_day_the_first_listed_gives_the_state() {
        let cell = r#"[
            {"program_name":"P","cohort_code":"A-C1","program_start_date":"2024-01-01","enrollment_status":"Enrolled"},
            {"program_name":"P","cohort_code":"B-C1","program_start_date":"2024-01-01","program_end_date":"2024-03-01","enrollment_status":"Dropped Out"}
        ]"#;
        let (record, _, _) = enroll(cell, flags("0", "1", "0"), "2025-01-31");
        let targets: Vec<&str> = record.learning_states.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(targets, ["Active"]);
    }

    #[test]
    fn a_missing_status_is_no_unknown_status_and_only_an_end_before_the_start_is_out_of_order() {
        for status in ["", "n/a", "  ", "\\u0000"] {
            let cell =
                format!(r#"[{{"program_name":"P","cohort_code":"A-C1","enrollment_status":"{status}"}}]"#);
            let (record, findings, _) = enroll(&cell, flags("0", "0", "0"), "2025-01-31");
            assert_eq!(findings.get(Finding::UnknownStatus), 0, "{status:?}");
            assert_eq!(record.enrollments[0].props.get("enrollmentStatus"), None);
        }
        for (start, end, out_of_order) in [
            ("2024-05-01", "2024-04-30", 1),
            ("2024-05-01", "2024-05-01", 0),
            ("2024-05-01", "2024-05-02", 0),
        ] {
            let cell = format!(
                r#"[{{"program_name":"P","cohort_code":"A-C1","enrollment_status":"Enrolled","program_start_date":"{start}","program_end_date":"{end}"}}]"#
            );
            let (_, findings, _) = enroll(&cell, flags("0", "1", "0"), "2025-01-31");
            assert_eq!(
                findings.get(Finding::EndBeforeStart),
                out_of_order,
                "{start} to {end}"
            );
        }
    }
}
