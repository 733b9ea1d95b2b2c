//! The employment_details and placement_details cells: jobs, placements
//! and ventures, each a relationship to a Company, and the periods of work
//! the professional status history is built from (docs/input.md).

use chrono::NaiveDate;

use super::clean::{self, DateValue};
use super::details::{EmploymentEntry, PlacementEntry};
use super::history::Period;
use super::quality::{Finding, Findings};
use super::{Transformer, organisation_name};
use crate::graph::records::{EntityCollector, LearnerRecord, NameKind, Rel};

impl Transformer {
    pub(super) fn jobs(
        &self,
        employment: &[EmploymentEntry<'_>],
        record: &mut LearnerRecord,
        findings: &mut Findings,
        entities: &mut EntityCollector,
    ) -> Vec<Period> {
        let mut periods = Vec::new();
        for job in employment {
            let name = organisation_name(&job.organisation_name, &job.organization_name, findings);
            let start = clean::date(job.start_date.as_str(), findings);
            let end = clean::date(job.end_date.as_str(), findings);
            let is_current =
                clean::flag(job.is_current.as_str(), findings).unwrap_or(false) || end == DateValue::Ongoing;
            if let (Some(s), Some(e)) = (start.known(), end.known())
                && e < s
            {
                findings.add(Finding::JobEndBeforeStart);
            }
            if let Some(s) = start.known() {
                let end = if is_current {
                    None
                } else {
                    end.known().filter(|e| *e >= s)
                };
                if is_current || end.is_some() {
                    periods.push(Period { start: s, end });
                }
            }
            let Some(company) = Self::organisation(name, NameKind::Company, entities, findings) else {
                continue;
            };
            let years = clean::number(job.duration_in_years.as_str(), findings);
            let mut props = self.props();
            props.str("position", clean::text_ref(job.job_title.as_str(), findings));
            props.date("startDate", start.known());
            props.date("endDate", end.known());
            props.bool("isCurrent", Some(is_current));
            props.str("source", Some("employment_details"));
            props.int(
                "durationMonths",
                years.map(|y| (y * 12.0).round() as i64).filter(|m| *m >= 0),
            );
            record.works_for.push(Rel {
                target: company,
                props: props.finish(),
            });
        }
        periods
    }

    /// Returns the latest placement start date, when the current status
    /// began as far as the data says.
    pub(super) fn placements(
        &self,
        placement: &[PlacementEntry<'_>],
        record: &mut LearnerRecord,
        findings: &mut Findings,
        entities: &mut EntityCollector,
    ) -> Option<NaiveDate> {
        let mut latest_start = None;
        for entry in placement {
            let start = clean::date(entry.job_start_date.as_str(), findings).known();
            latest_start = latest_start.max(start);
            if entry.business_name.0.is_some() {
                let Some(company) = Self::organisation(
                    entry.business_name.as_str(),
                    NameKind::Company,
                    entities,
                    findings,
                ) else {
                    continue;
                };
                let mut props = self.props();
                props.date("startDate", start);
                props.int(
                    "jobsCreated",
                    clean::integer(entry.jobs_created_to_date.as_str(), findings),
                );
                props.float(
                    "capitalSecured",
                    clean::number(entry.capital_secured_todate.as_str(), findings),
                );
                props.int(
                    "femaleOpportunities",
                    clean::integer(entry.female_opp_todate.as_str(), findings),
                );
                record.runs_venture.push(Rel {
                    target: company,
                    props: props.finish(),
                });
                continue;
            }
            let name = organisation_name(&entry.organisation_name, &entry.organization_name, findings);
            let Some(company) = Self::organisation(name, NameKind::Company, entities, findings) else {
                continue;
            };
            let mut props = self.props();
            props.str("position", clean::text_ref(entry.job_title.as_str(), findings));
            props.date("startDate", start);
            props.bool("isCurrent", Some(true));
            props.str(
                "employmentType",
                clean::text_ref(entry.employment_type.as_str(), findings),
            );
            props.str(
                "salaryRange",
                clean::text_ref(entry.salary_range.as_str(), findings),
            );
            props.str("source", Some("placement_details"));
            record.works_for.push(Rel {
                target: company,
                props: props.finish(),
            });
        }
        latest_start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::records::{Props, Value};
    use crate::transform::TransformOptions;
    use crate::transform::details::parse_array;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
    }

    fn props(pairs: &[(&'static str, Value)]) -> Props {
        Props(pairs.to_vec())
    }

    /// Expected values written by hand from docs/input.md and docs/graph.md.
    #[test]
    fn jobs_become_works_for_with_their_properties_and_periods_of_work() {
        let cell = r#"[
            {"organisation_name":"Andela","job_title":"Engineer","start_date":"2023-01-15","end_date":"2024-03-01","is_current":"0","duration_in_years":"1.5"},
            {"organization_name":"Acme Ltd.","start_date":"2024-04-01","end_date":"9999-12-31","is_current":"0","duration_in_years":"-1"},
            {"organisation_name":"Beta","start_date":"2024-05-01","end_date":"2024-05-01","is_current":"1"},
            {"organisation_name":"Gamma","start_date":"2022-05-01","end_date":"2022-01-01","is_current":"0"},
            {"organisation_name":"Delta","start_date":"2021-02-01","end_date":"2021-02-01","is_current":"0"},
            {"organisation_name":"Epsilon","start_date":"2020-02-01","end_date":"","is_current":"0"},
            {"organisation_name":"Zeta","start_date":"2019-01-01","end_date":"2019-06-01","is_current":"0"}
        ]"#;
        let entries = parse_array(cell).expect("valid");
        let (mut record, mut findings, mut entities) = (
            LearnerRecord::default(),
            Findings::default(),
            EntityCollector::default(),
        );
        let periods = Transformer::new(TransformOptions::default()).jobs(
            &entries,
            &mut record,
            &mut findings,
            &mut entities,
        );

        let starts: Vec<(NaiveDate, Option<NaiveDate>)> = periods.iter().map(|p| (p.start, p.end)).collect();
        assert_eq!(
            starts,
            vec![
                (day("2023-01-15"), Some(day("2024-03-01"))),
                // 9999-12-31 means ongoing: a current job, open-ended.
                (day("2024-04-01"), None),
                // Marked current: open-ended whatever its end date says.
                (day("2024-05-01"), None),
                // Gamma ends before it starts: no period. Delta ends the
                // day it starts: a period of one day. Epsilon has no end
                // and is not current: no period.
                (day("2021-02-01"), Some(day("2021-02-01"))),
                (day("2019-01-01"), Some(day("2019-06-01"))),
            ]
        );
        assert_eq!(findings.get(Finding::JobEndBeforeStart), 1, "Gamma only");

        let targets: Vec<&str> = record.works_for.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(
            targets,
            ["andela", "acme-ltd", "beta", "gamma", "delta", "epsilon", "zeta"]
        );
        assert_eq!(
            record.works_for[0].props,
            props(&[
                ("position", Value::Str("Engineer".into())),
                ("startDate", Value::Date(day("2023-01-15"))),
                ("endDate", Value::Date(day("2024-03-01"))),
                ("isCurrent", Value::Bool(false)),
                ("source", Value::Str("employment_details".into())),
                ("durationMonths", Value::Int(18)),
            ])
        );
        assert_eq!(
            record.works_for[1].props,
            props(&[
                ("startDate", Value::Date(day("2024-04-01"))),
                ("isCurrent", Value::Bool(true)),
                ("source", Value::Str("employment_details".into())),
            ]),
            "an ongoing end is no date, and a negative duration no duration"
        );
        assert_eq!(
            record.works_for[2].props.get("isCurrent"),
            Some(&Value::Bool(true))
        );
    }

    #[test]
    fn placements_become_ventures_or_placed_jobs_and_give_the_latest_start() {
        let cell = r#"[
            {"business_name":"Sunrise Farms","job_start_date":"2024-02-01","jobs_created_to_date":"4","capital_secured_todate":"2500.5","female_opp_todate":"2"},
            {"organisation_name":"Andela","job_title":"Developer","job_start_date":"2024-06-01","employment_type":"Full-time","salary_range":"$500-$1000"},
            {"organisation_name":"","job_start_date":"2023-01-01"}
        ]"#;
        let entries = parse_array(cell).expect("valid");
        let (mut record, mut findings, mut entities) = (
            LearnerRecord::default(),
            Findings::default(),
            EntityCollector::default(),
        );
        let latest = Transformer::new(TransformOptions::default()).placements(
            &entries,
            &mut record,
            &mut findings,
            &mut entities,
        );
        assert_eq!(latest, Some(day("2024-06-01")));
        assert_eq!(record.runs_venture.len(), 1);
        assert_eq!(record.runs_venture[0].target, "sunrise-farms");
        assert_eq!(
            record.runs_venture[0].props,
            props(&[
                ("startDate", Value::Date(day("2024-02-01"))),
                ("jobsCreated", Value::Int(4)),
                ("capitalSecured", Value::Float(2500.5)),
                ("femaleOpportunities", Value::Int(2)),
            ])
        );
        assert_eq!(record.works_for.len(), 1, "the nameless placement writes nothing");
        assert_eq!(record.works_for[0].target, "andela");
        assert_eq!(
            record.works_for[0].props,
            props(&[
                ("position", Value::Str("Developer".into())),
                ("startDate", Value::Date(day("2024-06-01"))),
                ("isCurrent", Value::Bool(true)),
                ("employmentType", Value::Str("Full-time".into())),
                ("salaryRange", Value::Str("$500-$1000".into())),
                ("source", Value::Str("placement_details".into())),
            ])
        );
        assert_eq!(findings.get(Finding::EntryWithoutName), 1);
    }
}
