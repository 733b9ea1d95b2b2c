//! The analysts' report: the catalogue's answers and the data-quality
//! findings of a check as one self-contained HTML page (styles and charts
//! inline, no script, nothing fetched at view time).

pub mod chart;

use std::fmt::Write as _;

use serde_json::Value as Json;
use thousands::Separable;

use crate::graph::questions::{self, Answered};
use chart::{Bar, Range};

/// What the page is made of.
pub struct Page<'a> {
    /// Where the answers come from (the URI, never a password).
    pub database: &'a str,
    pub generated: &'a str,
    pub include_missing: bool,
    pub answers: &'a [Answered],
    /// A `check --json` report, when one was given.
    pub check: Option<&'a Json>,
    /// Which snapshot and run of load the page describes, in words.
    pub describes: &'a str,
}

/// How many bars a chart shows at most: the rest stay in the table.
const TOP: usize = 15;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;color:#1d2630;max-width:1000px;margin:24px auto;padding:0 16px}\
h1{font-size:24px}h2{font-size:18px;margin-top:36px;border-bottom:1px solid #d5dbe2;padding-bottom:4px}\
p.note{color:#52606d}table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;border-bottom:1px solid #e4e8ec;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}svg text{font:12px system-ui,sans-serif;fill:#1d2630}\
.figures{display:flex;gap:28px;flex-wrap:wrap}.figures div{font-size:13px;color:#52606d}.figures b{display:block;font-size:22px;color:#1d2630}\
details{margin:6px 0}code{background:#f1f3f5;padding:1px 4px}";

/// The whole page.
pub fn render(page: &Page) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>learngraph report</title>\
<style>{STYLE}</style></head><body>\n<h1>Learner graph report</h1>\n<p class=\"note\">From {} on {}: {} {}</p>\n",
        escape(page.database),
        escape(page.generated),
        escape(page.describes),
        if page.include_missing {
            "Learners marked missing by a later snapshot are included."
        } else {
            "The latest snapshot's view: learners marked missing by a later snapshot are left out."
        }
    );
    html.push_str(&quality(page.check));
    for answered in page.answers {
        html.push_str(&section(answered));
    }
    html.push_str("</body></html>\n");
    html
}

/// A question's section: its title and description, its chart, its table.
fn section(answered: &Answered) -> String {
    let description = questions::find(answered.question)
        .map(|q| q.description.clone())
        .unwrap_or_default();
    let chart = chart_of(answered);
    let mut out = format!(
        "<section id=\"{}\"><h2>{}</h2>\n<p class=\"note\">{} <code>learngraph ask {}</code> (questions/{}.cypher)</p>\n",
        escape(answered.question),
        escape(&answered.title),
        escape(&description),
        escape(answered.question),
        escape(answered.question)
    );
    if answered.question == "population-over-time" && snapshots_covered(answered) < 2 {
        out.push_str(
            "<p>The population over time appears once the graph holds two snapshots: load a later export.</p></section>\n",
        );
        return out;
    }
    if answered.rows.is_empty() {
        out.push_str("<p><b>No answer:</b> the graph holds nothing this question counts");
        if answered.question == "state-transitions" {
            out.push_str(" (it compares two snapshots; load a later one)");
        }
        out.push_str(".</p></section>\n");
        return out;
    }
    out.push_str(&chart);
    let _ = writeln!(
        out,
        "<details{}><summary>Table ({})</summary>{}</details></section>",
        if chart.is_empty() { " open" } else { "" },
        rows_text(answered.rows.len()),
        table(&answered.columns, &answered.rows)
    );
    out
}

/// The chart that suits each question; none for a question without one.
fn chart_of(a: &Answered) -> String {
    let number = |row: &[Json], column: &str| a.value(row, column).as_f64().unwrap_or(0.0);
    let text = |row: &[Json], column: &str| shown(a.value(row, column), "(none)");
    let top = a.rows.iter().take(TOP);
    match a.question {
        "learners-per-country" => {
            let bars: Vec<Bar> = top
                .map(|r| Bar {
                    label: format!("{} {}", text(r, "country"), text(r, "name")),
                    values: vec![number(r, "residents")],
                })
                .collect();
            chart::bars(a.question, &["residents"], &bars, "")
        }
        "program-completion" => {
            let bars: Vec<Bar> = top
                .map(|r| Bar {
                    label: format!("{} {}", text(r, "program"), text(r, "cohort")),
                    values: vec![
                        number(r, "graduated"),
                        number(r, "droppedOut"),
                        number(r, "stillEnrolled"),
                    ],
                })
                .collect();
            chart::bars(
                a.question,
                &["graduated", "dropped out", "still enrolled"],
                &bars,
                "",
            )
        }
        "graduate-employment" => {
            let bars: Vec<Bar> = top
                .map(|r| Bar {
                    label: format!("{} ({} graduates)", text(r, "program"), number(r, "graduates")),
                    values: vec![number(r, "employmentRate")],
                })
                .collect();
            chart::bars(a.question, &["employed"], &bars, " %")
        }
        "time-to-first-job" => {
            let rows: Vec<Range> = a
                .rows
                .iter()
                .filter(|r| a.value(r, "medianDays").is_number())
                .take(TOP)
                .map(|r| Range {
                    label: format!("{} ({} jobs)", text(r, "program"), number(r, "withJob")),
                    low: number(r, "q1Days"),
                    middle: number(r, "medianDays"),
                    high: number(r, "q3Days"),
                })
                .collect();
            chart::ranges(a.question, &rows, " days")
        }
        "top-skills" | "top-skills-employed-graduates" => {
            let bars: Vec<Bar> = top
                .map(|r| Bar {
                    label: text(r, "name"),
                    values: vec![number(r, "learners")],
                })
                .collect();
            chart::bars(a.question, &["learners"], &bars, "")
        }
        "state-transitions" => {
            // The moves, all programs together; staying put is not a move.
            let mut moves: std::collections::BTreeMap<String, f64> = Default::default();
            for r in &a.rows {
                let (from, to) = (text(r, "fromState"), text(r, "toState"));
                if from != to {
                    *moves.entry(format!("{from} → {to}")).or_default() += number(r, "learners");
                }
            }
            let mut bars: Vec<Bar> = moves
                .into_iter()
                .map(|(label, n)| Bar {
                    label,
                    values: vec![n],
                })
                .collect();
            bars.sort_by(|x, y| y.values[0].total_cmp(&x.values[0]));
            bars.truncate(TOP);
            chart::bars(a.question, &["learners"], &bars, "")
        }
        "population-over-time" => over_time(a),
        _ => String::new(),
    }
}

/// The snapshots' population as charts: per snapshot (the learners its
/// export held in the label), the share of each learning state and of each
/// professional status among the learners present on its date.
fn over_time(a: &Answered) -> String {
    use crate::graph::model::{LEARNING_STATES, PROFESSIONAL_STATUSES};
    let mut dates: Vec<(String, f64)> = Vec::new();
    let mut held: std::collections::BTreeMap<(String, String, String), f64> = Default::default();
    for r in &a.rows {
        let date = shown(a.value(r, "snapshotDate"), "?");
        if dates.last().is_none_or(|(d, _)| *d != date) {
            dates.push((date.clone(), a.value(r, "present").as_f64().unwrap_or(0.0)));
        }
        held.insert(
            (
                date,
                shown(a.value(r, "kind"), ""),
                shown(a.value(r, "state"), ""),
            ),
            a.value(r, "learners").as_f64().unwrap_or(0.0),
        );
    }
    let mut out = String::new();
    for (kind, states) in [
        ("learning state", &LEARNING_STATES[..]),
        ("professional status", &PROFESSIONAL_STATUSES[..]),
    ] {
        let bars: Vec<Bar> = dates
            .iter()
            .map(|(date, present)| {
                let counts: Vec<f64> = states
                    .iter()
                    .map(|s| {
                        held.get(&(date.clone(), kind.to_string(), s.to_string()))
                            .copied()
                            .unwrap_or(0.0)
                    })
                    .collect();
                let total: f64 = counts.iter().sum::<f64>().max(1.0);
                Bar {
                    label: format!("{date} ({} present)", (*present as u64).separate_with_commas()),
                    values: counts
                        .iter()
                        .map(|n| (n / total * 1000.0).round() / 10.0)
                        .collect(),
                }
            })
            .collect();
        let _ = write!(out, "<p class=\"note\">Share of each {kind}, per snapshot:</p>");
        out.push_str(&chart::bars(
            &format!("{}-{}", a.question, kind.replace(' ', "-")),
            states,
            &bars,
            " %",
        ));
    }
    out
}

/// How many snapshots an answer of `population-over-time` covers.
fn snapshots_covered(a: &Answered) -> usize {
    let mut dates: Vec<String> = a
        .rows
        .iter()
        .map(|r| shown(a.value(r, "snapshotDate"), ""))
        .collect();
    dates.dedup();
    dates.len()
}

/// The data-quality section from a `check --json` report.
fn quality(check: Option<&Json>) -> String {
    let mut out = String::from("<section id=\"data-quality\"><h2>Data quality of the last check</h2>\n");
    let Some(check) = check else {
        out.push_str(
            "<p class=\"note\">No check report given: run <code>learngraph check FILE --json &gt; check.json</code> \
             and pass <code>--check check.json</code>.</p></section>\n",
        );
        return out;
    };
    let field = |name: &str| shown(&check[name], "–");
    let share = check["rejected_share"].as_f64().unwrap_or(0.0) * 100.0;
    let _ = writeln!(
        out,
        "<p class=\"note\">{} (snapshot {})</p><div class=\"figures\"><div><b>{}</b>rows read</div><div><b>{}</b>rows loaded</div>\
         <div><b>{}</b>rows rejected ({share:.2}%)</div></div>",
        escape(&field("input")),
        escape(&field("snapshot_date")),
        escape(&field("rows_read")),
        escape(&field("rows_loaded")),
        escape(&field("rows_rejected"))
    );
    for (key, title, series) in [
        ("rejected_by_reason", "Rejected rows by reason", "rows"),
        ("findings", "Values cleaned or set aside, by kind", "values"),
        ("unknown_countries", "Country names with no ISO code", "rows"),
    ] {
        let Some(map) = check[key].as_object().filter(|m| !m.is_empty()) else {
            continue;
        };
        let mut entries: Vec<(&String, f64)> =
            map.iter().map(|(k, v)| (k, v.as_f64().unwrap_or(0.0))).collect();
        entries.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        let bars: Vec<Bar> = entries
            .iter()
            .take(TOP)
            .map(|(k, n)| Bar {
                label: k.to_string(),
                values: vec![*n],
            })
            .collect();
        let rows: Vec<Vec<Json>> = entries
            .iter()
            .map(|(k, n)| vec![Json::from(k.as_str()), Json::from(*n)])
            .collect();
        let _ = writeln!(
            out,
            "<h3>{title}</h3>{}<details><summary>Table ({})</summary>{}</details>",
            chart::bars(key, &[series], &bars, ""),
            rows_text(rows.len()),
            table(&["what".to_string(), series.to_string()], &rows)
        );
    }
    out.push_str("</section>\n");
    out
}

fn rows_text(n: usize) -> String {
    if n == 1 {
        "1 row".to_string()
    } else {
        format!("{n} rows")
    }
}

fn table(columns: &[String], rows: &[Vec<Json>]) -> String {
    let mut out = String::from("<table><thead><tr>");
    for column in columns {
        let _ = write!(out, "<th>{}</th>", escape(column));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for value in row {
            let class = if value.is_number() { " class=\"n\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(&shown(value, "")));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// A value as the page shows it: text as it is, numbers as a reader wants
/// them ([`chart::number`]), null as `null`.
fn shown(value: &Json, null: &str) -> String {
    match value {
        Json::Null => null.to_string(),
        Json::String(s) => s.clone(),
        Json::Number(n) => n.as_f64().map(chart::number).unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}

/// Text as HTML: every value on the page is data and goes through here.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(question: &'static str, columns: &[&str], rows: Vec<Vec<Json>>) -> Answered {
        Answered {
            question,
            title: question.to_string(),
            parameters: Default::default(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
            seconds: 0.0,
        }
    }

    #[test]
    fn every_value_is_escaped_and_nothing_is_fetched() {
        let answers = [answered(
            "top-skills",
            &["skill", "name", "learners"],
            vec![vec![
                Json::from("x"),
                Json::from("<script>alert(1)</script>"),
                Json::from(3),
            ]],
        )];
        let check =
            serde_json::json!({"input": "a&b.csv", "rows_read": 10, "rejected_by_reason": {"<bad>": 2}});
        let html = render(&Page {
            database: "bolt://h:7687",
            generated: "now",
            include_missing: false,
            answers: &answers,
            check: Some(&check),
            describes: "the snapshot 2025-12-31, loaded by run r1 (finished).",
        });
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("a&amp;b.csv"));
        assert!(html.contains("&lt;bad&gt;"));
        assert_eq!(
            html.matches("<svg class=\"chart\"").count(),
            2,
            "a chart per answer and per finding kind"
        );
        for outside in ["src=", "href=", "@import", "url("] {
            assert!(
                !html.contains(outside),
                "nothing from outside the page: {outside}"
            );
        }
    }

    #[test]
    fn an_empty_answer_says_why_and_a_missing_check_says_how() {
        let answers = [answered("state-transitions", &["program"], vec![])];
        let html = render(&Page {
            database: "bolt://h:7687",
            generated: "now",
            include_missing: true,
            answers: &answers,
            check: None,
            describes: "no snapshot recorded yet.",
        });
        assert!(html.contains("load a later one"), "{html}");
        assert!(html.contains("--check check.json"));
        assert!(!html.contains("<svg"));
    }
}
