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
