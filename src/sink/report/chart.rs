//! Charts as inline SVG, drawn here rather than by a script at view time:
//! the page needs no network and no JavaScript, and shows the same in
//! every browser and in print.

use std::fmt::Write as _;

use super::escape;

/// The colours of a chart's series, in order.
pub const PALETTE: [&str; 4] = ["#2f6db5", "#d9822b", "#8a9bb0", "#3a9d5d"];

const WIDTH: f64 = 760.0;
const LABEL_WIDTH: f64 = 250.0;
const VALUE_WIDTH: f64 = 70.0;
const ROW: f64 = 22.0;
const BAR: f64 = 15.0;
const TOP: f64 = 8.0;

/// One bar: its label and one value per series (stacked left to right).
pub struct Bar {
    pub label: String,
    pub values: Vec<f64>,
}

/// Horizontal bars, stacked when there are several series; each bar's total
/// is written at its end with `unit`. Empty when there is nothing to draw.
pub fn bars(name: &str, series: &[&str], bars: &[Bar], unit: &str) -> String {
    let max = bars
        .iter()
        .map(|b| b.values.iter().filter(|v| v.is_finite()).sum::<f64>())
        .fold(0.0, f64::max);
    if bars.is_empty() || max <= 0.0 {
        return String::new();
    }
    let scale = (WIDTH - LABEL_WIDTH - VALUE_WIDTH) / max;
    let mut svg = open(name, bars.len(), series.len() > 1);
    for (i, bar) in bars.iter().enumerate() {
        let y = TOP + i as f64 * ROW;
        label(&mut svg, y, &bar.label);
        let mut x = LABEL_WIDTH;
        for (j, value) in bar.values.iter().enumerate() {
            let width = value.max(0.0) * scale;
            if width > 0.0 {
                let _ = write!(
                    svg,
                    r#"<rect class="bar" x="{x:.1}" y="{y:.1}" width="{width:.1}" height="{BAR}" fill="{}"><title>{}: {}</title></rect>"#,
                    PALETTE[j % PALETTE.len()],
                    escape(series.get(j).copied().unwrap_or("")),
                    number(*value)
                );
            }
            x += width;
        }
        let total: f64 = bar.values.iter().sum();
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" class="value">{}{}</text>"#,
            x + 4.0,
            y + BAR - 3.0,
            number(total),
            escape(unit)
        );
    }
    legend(&mut svg, series, bars.len());
    svg.push_str("</svg>");
    svg
}

/// One row of a range chart: from `low` to `high`, a mark at `middle`.
pub struct Range {
    pub label: String,
    pub low: f64,
    pub middle: f64,
    pub high: f64,
}

/// Quartiles as ranges: a bar from the first to the third, a mark at the
/// median, which is written at the bar's end with `unit`.
pub fn ranges(name: &str, rows: &[Range], unit: &str) -> String {
    let max = rows.iter().map(|r| r.high).fold(0.0, f64::max);
    if rows.is_empty() || max <= 0.0 {
        return String::new();
    }
    let scale = (WIDTH - LABEL_WIDTH - VALUE_WIDTH) / max;
    let mut svg = open(name, rows.len(), false);
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + i as f64 * ROW;
        label(&mut svg, y, &row.label);
        let (low, high) = (LABEL_WIDTH + row.low * scale, LABEL_WIDTH + row.high * scale);
        let _ = write!(
            svg,
            r#"<rect class="bar" x="{low:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{} to {}</title></rect>"#,
            y + 3.0,
            (high - low).max(2.0),
            BAR - 6.0,
            PALETTE[0],
            number(row.low),
            number(row.high)
        );
        let middle = LABEL_WIDTH + row.middle * scale;
        let _ = write!(
            svg,
            r#"<rect class="mark" x="{:.1}" y="{y:.1}" width="3" height="{BAR}" fill="{}"/><text x="{:.1}" y="{:.1}" class="value">{}{}</text>"#,
            middle - 1.5,
            PALETTE[1],
            high.max(middle) + 4.0,
            y + BAR - 3.0,
            number(row.middle),
            escape(unit)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn open(name: &str, rows: usize, legend: bool) -> String {
    let height = TOP * 2.0 + rows as f64 * ROW + if legend { ROW } else { 0.0 };
    format!(
        r#"<svg class="chart" data-chart="{}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="{}">"#,
        escape(name),
        escape(name)
    )
}

fn label(svg: &mut String, y: f64, text: &str) {
    let shown: String = if text.chars().count() > 34 {
        text.chars().take(33).chain(['…']).collect()
    } else {
        text.to_string()
    };
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" class="label" text-anchor="end"><title>{}</title>{}</text>"#,
        LABEL_WIDTH - 6.0,
        y + BAR - 3.0,
        escape(text),
        escape(&shown)
    );
}

fn legend(svg: &mut String, series: &[&str], rows: usize) {
    if series.len() < 2 {
        return;
    }
    let y = TOP + rows as f64 * ROW + 4.0;
    let mut x = LABEL_WIDTH;
    for (j, name) in series.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<rect x="{x:.1}" y="{y:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{:.1}" class="legend">{}</text>"#,
            PALETTE[j % PALETTE.len()],
            x + 16.0,
            y + 10.0,
            escape(name)
        );
        x += 30.0 + 7.0 * name.chars().count() as f64;
    }
}

/// A number as a reader wants it: whole numbers without decimals, digits
/// grouped by thousands (`12,345`, `1,234.5`).
pub fn number(value: f64) -> String {
    use thousands::Separable;
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}").separate_with_commas()
    } else {
        format!("{value:.1}").separate_with_commas()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_total_and_escape_labels() {
        let svg = bars(
            "test",
            &["a", "b"],
            &[
                Bar {
                    label: "<Lagos & co>".into(),
                    values: vec![30.0, 10.0],
                },
                Bar {
                    label: "Nairobi".into(),
                    values: vec![20.0, 0.0],
                },
            ],
            "",
        );
        assert_eq!(
            svg.matches("<rect class=\"bar\"").count(),
            3,
            "a zero segment is not drawn: {svg}"
        );
        // The largest total fills the plot's width.
        let full = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
        assert!(svg.contains(&format!("width=\"{:.1}\"", full * 0.75)), "{svg}");
        assert!(svg.contains("&lt;Lagos &amp; co&gt;"), "{svg}");
        assert!(!svg.contains("<Lagos"), "{svg}");
        assert!(svg.contains(">40</text>"), "the total is written: {svg}");
    }

    #[test]
    fn nothing_to_draw_draws_nothing() {
        assert_eq!(bars("x", &["a"], &[], ""), "");
        assert_eq!(
            bars(
                "x",
                &["a"],
                &[Bar {
                    label: "zero".into(),
                    values: vec![0.0]
                }],
                ""
            ),
            ""
        );
        assert_eq!(ranges("x", &[], ""), "");
    }

    #[test]
    fn numbers_drop_needless_decimals_and_group_digits() {
        assert_eq!(number(12.0), "12");
        assert_eq!(number(12.26), "12.3");
        assert_eq!(number(19_999.0), "19,999");
        assert_eq!(number(1_234.56), "1,234.6");
    }
}
