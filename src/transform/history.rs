//! A learner's state histories (type 2): the learning state from the
//! enrollment, the professional status from employment periods and flags.
//!
//! Each history is a list of spans in time order; the last one is current
//! (no `validTo`). graph.md gives the rules; the comments below say how the
//! gaps in the data are filled.

use chrono::NaiveDate;

use crate::graph::records::{Props, Rel};

/// The enrollment status after case folding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Enrolled,
    Graduated,
    DroppedOut,
    Unknown,
}

/// One span of a history before it becomes a relationship.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    pub state: &'static str,
    pub from: Option<NaiveDate>,
    pub date_unknown: bool,
}

/// The relationships of spans without their properties, for passes that
/// only count them.
pub fn to_targets(spans: Vec<Span>) -> Vec<Rel> {
    spans
        .into_iter()
        .map(|span| Rel {
            target: span.state.to_string(),
            props: Props::default(),
        })
        .collect()
}

/// What bounding a history to its snapshot changed, for the findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bounded {
    /// Spans whose date was after the snapshot: they begin at the snapshot.
    pub after_snapshot: u64,
    /// Spans dated before the span ahead of them: they begin where it does.
    pub out_of_order: u64,
}

/// Bounds a history to the snapshot that records it (graph.md): no span
/// begins after the snapshot date (a job starting next quarter is recorded
/// as begun at the snapshot), and none begins before the span ahead of it
/// (a graduation dated before its enrollment began is recorded as at that
/// start). So no interval begins after its snapshot or ends before it
/// begins. Without a snapshot date only the order is kept.
pub fn bound(spans: &mut [Span], snapshot: Option<NaiveDate>) -> Bounded {
    let mut bounded = Bounded::default();
    let mut latest: Option<NaiveDate> = None;
    for span in spans.iter_mut() {
        let Some(mut from) = span.from else { continue };
        if let Some(snapshot) = snapshot
            && from > snapshot
        {
            from = snapshot;
            bounded.after_snapshot += 1;
        }
        if let Some(latest) = latest
            && from < latest
        {
            from = latest;
            bounded.out_of_order += 1;
        }
        span.from = Some(from);
        latest = Some(from);
    }
    bounded
}

/// Turns spans in time order into relationships: each span ends where the
/// next begins, the last is current. A current span with no date takes the
/// snapshot date.
pub fn to_rels(mut spans: Vec<Span>, snapshot: Option<NaiveDate>) -> Vec<Rel> {
    if let Some(last) = spans.last_mut()
        && last.from.is_none()
    {
        last.from = snapshot;
        last.date_unknown = true;
    }
    let count = spans.len();
    let next_from: Vec<Option<NaiveDate>> = spans.iter().skip(1).map(|s| s.from).collect();
    spans
        .into_iter()
        .enumerate()
        .map(|(i, span)| {
            let current = i + 1 == count;
            let mut props = Props::default();
            props.date("validFrom", span.from);
            if !current {
                props.date("validTo", next_from[i]);
            }
            props.bool("isCurrent", Some(current));
            props.bool(
                "dateUnknown",
                Some(span.date_unknown || (!current && next_from[i].is_none())),
            );
            Rel {
                target: span.state.to_string(),
                props,
            }
        })
        .collect()
}

/// The learning-state spans of one enrollment.
pub fn learning_spans(
    status: Status,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    graduation: Option<NaiveDate>,
) -> Vec<Span> {
    let active = Span {
        state: "Active",
        from: start,
        date_unknown: start.is_none(),
    };
    let ended = |state: &'static str, from: Option<NaiveDate>| Span {
        state,
        from,
        date_unknown: from.is_none(),
    };
    match status {
        Status::Enrolled => vec![active],
        Status::Graduated => vec![active, ended("Graduate", graduation.or(end))],
        Status::DroppedOut => vec![active, ended("Dropped Out", end)],
        Status::Unknown => vec![ended("Inactive", None)],
    }
}

/// A job period: start known, end `None` while it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

/// The current professional status from the three flags.
pub fn current_status(wage: bool, freelancer: bool, venture: bool) -> &'static str {
    match (wage, freelancer, venture) {
        (false, false, false) => "Unemployed",
        (true, false, false) => "Wage Employed",
        (false, true, false) => "Freelancer",
        (false, false, true) => "Entrepreneur",
        _ => "Multiple",
    }
}

/// The professional spans: `Wage Employed` while a job runs, `Unemployed`
/// in the gaps, ending in `current` (from the flags), which starts at
/// `current_since` (a placement start) when that is known and not before
/// the last job period began.
pub fn professional_spans(
    mut periods: Vec<Period>,
    current: &'static str,
    current_since: Option<NaiveDate>,
) -> Vec<Span> {
    periods.sort_by_key(|p| p.start);
    let mut spans: Vec<Span> = Vec::new();
    let mut running_until: Option<Option<NaiveDate>> = None;
    for period in periods {
        match running_until {
            // The period overlaps the running one: extend it.
            Some(end) if end.is_none_or(|e| period.start <= e) => {
                running_until = Some(match (end, period.end) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                });
            }
            Some(Some(end)) => {
                spans.push(Span {
                    state: "Unemployed",
                    from: Some(end),
                    date_unknown: false,
                });
                spans.push(Span {
                    state: "Wage Employed",
                    from: Some(period.start),
                    date_unknown: false,
                });
                running_until = Some(period.end);
            }
            _ => {
                spans.push(Span {
                    state: "Wage Employed",
                    from: Some(period.start),
                    date_unknown: false,
                });
                running_until = Some(period.end);
            }
        }
    }
    let last_from = spans.last().and_then(|s| s.from);
    // The last job ended and the learner is unemployed now: from its end.
    if let Some(Some(end)) = running_until
        && current == "Unemployed"
    {
        spans.push(Span {
            state: "Unemployed",
            from: Some(end),
            date_unknown: false,
        });
        return spans;
    }
    let since = current_since.filter(|d| last_from.is_none_or(|l| *d >= l));
    // The current status goes on from the last span (a job that still
    // runs, or ran last, for a wage-employed learner): it is that span.
    if spans.last().map(|s| s.state) == Some(current) {
        return spans;
    }
    spans.push(Span {
        state: current,
        from: since,
        date_unknown: since.is_none(),
    });
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::records::Value;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
    }

    fn states(rels: &[Rel]) -> Vec<&str> {
        rels.iter().map(|r| r.target.as_str()).collect()
    }

    #[test]
    fn graduate_follows_active_at_the_graduation_date() {
        let spans = learning_spans(
            Status::Graduated,
            Some(d("2023-01-10")),
            Some(d("2023-07-10")),
            Some(d("2023-07-01")),
        );
        let rels = to_rels(spans, Some(d("2025-09-30")));
        assert_eq!(states(&rels), ["Active", "Graduate"]);
        assert_eq!(
            rels[0].props.get("validFrom"),
            Some(&Value::Date(d("2023-01-10")))
        );
        assert_eq!(rels[0].props.get("validTo"), Some(&Value::Date(d("2023-07-01"))));
        assert_eq!(rels[0].props.get("isCurrent"), Some(&Value::Bool(false)));
        assert_eq!(
            rels[1].props.get("validFrom"),
            Some(&Value::Date(d("2023-07-01")))
        );
        assert_eq!(rels[1].props.get("validTo"), None);
        assert_eq!(rels[1].props.get("isCurrent"), Some(&Value::Bool(true)));
        assert_eq!(rels[1].props.get("dateUnknown"), Some(&Value::Bool(false)));
    }

    #[test]
    fn graduate_without_date_starts_at_the_program_end() {
        let spans = learning_spans(
            Status::Graduated,
            Some(d("2023-01-10")),
            Some(d("2023-07-10")),
            None,
        );
        assert_eq!(spans[1].from, Some(d("2023-07-10")));
    }

    #[test]
    fn unknown_dates_are_flagged_and_the_current_state_takes_the_snapshot_date() {
        let rels = to_rels(
            learning_spans(Status::DroppedOut, None, None, None),
            Some(d("2025-09-30")),
        );
        assert_eq!(states(&rels), ["Active", "Dropped Out"]);
        assert_eq!(rels[0].props.get("validFrom"), None);
        assert_eq!(rels[0].props.get("dateUnknown"), Some(&Value::Bool(true)));
        assert_eq!(
            rels[1].props.get("validFrom"),
            Some(&Value::Date(d("2025-09-30")))
        );
        assert_eq!(rels[1].props.get("dateUnknown"), Some(&Value::Bool(true)));
    }

    #[test]
    fn no_interval_begins_after_its_snapshot_or_ends_before_it_begins() {
        // A job starting after the snapshot, then a status from the flags
        // with no date (it borrows the snapshot's).
        let mut spans = professional_spans(
            vec![Period {
                start: d("2026-03-30"),
                end: None,
            }],
            "Freelancer",
            None,
        );
        let snapshot = Some(d("2025-09-30"));
        assert_eq!(
            bound(&mut spans, snapshot),
            Bounded {
                after_snapshot: 1,
                out_of_order: 0
            }
        );
        let rels = to_rels(spans, snapshot);
        assert_eq!(states(&rels), ["Wage Employed", "Freelancer"]);
        assert_eq!(
            rels[0].props.get("validFrom"),
            Some(&Value::Date(d("2025-09-30")))
        );
        assert_eq!(rels[0].props.get("validTo"), Some(&Value::Date(d("2025-09-30"))));

        // A graduation dated before the enrollment began.
        let mut spans = learning_spans(
            Status::Graduated,
            Some(d("2024-05-01")),
            None,
            Some(d("2024-01-15")),
        );
        assert_eq!(bound(&mut spans, snapshot).out_of_order, 1);
        assert_eq!(spans[1].from, Some(d("2024-05-01")));

        // Dates within bounds are left as they are.
        let mut spans = learning_spans(
            Status::Graduated,
            Some(d("2023-01-10")),
            None,
            Some(d("2023-07-01")),
        );
        let before = spans.clone();
        assert_eq!(bound(&mut spans, snapshot), Bounded::default());
        assert_eq!(spans, before);

        // On the bounds themselves: a graduation the day the enrollment
        // began, the snapshot's own day. Nothing is moved or counted.
        let mut spans = learning_spans(
            Status::Graduated,
            Some(d("2025-09-30")),
            None,
            Some(d("2025-09-30")),
        );
        let before = spans.clone();
        assert_eq!(bound(&mut spans, snapshot), Bounded::default());
        assert_eq!(spans, before);
    }

    #[test]
    fn enrolled_learners_stay_active() {
        let rels = to_rels(
            learning_spans(Status::Enrolled, Some(d("2025-02-01")), None, None),
            None,
        );
        assert_eq!(states(&rels), ["Active"]);
        assert_eq!(rels[0].props.get("isCurrent"), Some(&Value::Bool(true)));
    }

    #[test]
    fn the_flags_decide_the_current_status() {
        assert_eq!(current_status(false, false, false), "Unemployed");
        assert_eq!(current_status(true, false, false), "Wage Employed");
        assert_eq!(current_status(false, true, false), "Freelancer");
        assert_eq!(current_status(false, false, true), "Entrepreneur");
        assert_eq!(current_status(true, false, true), "Multiple");
    }

    #[test]
    fn jobs_and_gaps_become_employed_and_unemployed_spans() {
        let periods = vec![
            Period {
                start: d("2020-05-01"),
                end: Some(d("2021-01-01")),
            },
            Period {
                start: d("2019-01-01"),
                end: Some(d("2019-12-31")),
            },
            Period {
                start: d("2020-11-01"),
                end: Some(d("2021-03-01")),
            },
        ];
        let spans = professional_spans(periods, "Unemployed", None);
        let got: Vec<(&str, Option<NaiveDate>)> = spans.iter().map(|s| (s.state, s.from)).collect();
        assert_eq!(
            got,
            vec![
                ("Wage Employed", Some(d("2019-01-01"))),
                ("Unemployed", Some(d("2019-12-31"))),
                ("Wage Employed", Some(d("2020-05-01"))),
                ("Unemployed", Some(d("2021-03-01"))),
            ]
        );
    }

    #[test]
    fn a_running_job_stays_current_for_wage_employed_learners() {
        let periods = vec![Period {
            start: d("2022-01-01"),
            end: None,
        }];
        let rels = to_rels(
            professional_spans(periods, "Wage Employed", None),
            Some(d("2025-09-30")),
        );
        assert_eq!(states(&rels), ["Wage Employed"]);
        assert_eq!(rels[0].props.get("isCurrent"), Some(&Value::Bool(true)));
    }

    #[test]
    fn a_new_status_starts_at_the_placement_date_or_the_snapshot() {
        let periods = vec![Period {
            start: d("2022-01-01"),
            end: Some(d("2023-01-01")),
        }];
        let spans = professional_spans(periods.clone(), "Entrepreneur", Some(d("2024-02-01")));
        assert_eq!(
            spans.last().map(|s| (s.state, s.from)),
            Some(("Entrepreneur", Some(d("2024-02-01"))))
        );
        let rels = to_rels(
            professional_spans(periods, "Freelancer", None),
            Some(d("2025-09-30")),
        );
        assert_eq!(states(&rels), ["Wage Employed", "Freelancer"]);
        assert_eq!(
            rels[1].props.get("validFrom"),
            Some(&Value::Date(d("2025-09-30")))
        );
        assert_eq!(rels[1].props.get("dateUnknown"), Some(&Value::Bool(true)));
        let no_jobs = to_rels(
            professional_spans(Vec::new(), "Unemployed", None),
            Some(d("2025-09-30")),
        );
        assert_eq!(states(&no_jobs), ["Unemployed"]);
    }
}
