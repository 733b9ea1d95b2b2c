//! Progress of a phase: a bar with rate and ETA on a terminal, a log line
//! every few seconds otherwise (CI, files, pipes).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

use crate::pipeline::text::grouped_round;

/// How often a phase logs its progress when there is no terminal.
const LOG_EVERY: Duration = Duration::from_secs(5);

pub struct PhaseProgress {
    name: &'static str,
    bar: Option<ProgressBar>,
    total: Option<u64>,
    started: Instant,
    /// Milliseconds after `started` of the last log line.
    last_log_ms: AtomicU64,
    position: AtomicU64,
}

impl PhaseProgress {
    /// Starts showing a phase; `total` is the expected count, if known.
    pub fn new(name: &'static str, unit: &'static str, total: Option<u64>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = match total {
                Some(n) => ProgressBar::new(n),
                None => ProgressBar::new_spinner(),
            };
            let template = match total {
                Some(_) => format!(
                    "{{prefix:>9}} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} {{rate}} ETA {{eta}}"
                ),
                None => format!("{{prefix:>9}} {{spinner}} {{human_pos}} {unit} {{rate}} {{elapsed}}"),
            };
            if let Ok(style) = ProgressStyle::with_template(&template) {
                // indicatif's own {per_sec} prints fractions ungrouped (2408.9982/s).
                let style = style.with_key("rate", |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                    let _ = write!(out, "{}/s", grouped_round(state.per_sec()));
                });
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(name);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        PhaseProgress {
            name,
            bar,
            total,
            started: Instant::now(),
            last_log_ms: AtomicU64::new(0),
            position: AtomicU64::new(0),
        }
    }

    /// Adds `n` to the position.
    pub fn add(&self, n: u64) {
        let position = self.position.fetch_add(n, Ordering::Relaxed) + n;
        match &self.bar {
            Some(bar) => bar.set_position(position),
            None => self.maybe_log(position),
        }
    }

    fn maybe_log(&self, position: u64) {
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_log_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < LOG_EVERY.as_millis() as u64
            || self
                .last_log_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let rate = position as f64 / (now as f64 / 1000.0).max(1e-3);
        match self.total {
            Some(total) => tracing::info!(
                phase = self.name,
                done = position,
                total,
                rate = rate.round() as u64,
                eta_s = ((total.saturating_sub(position)) as f64 / rate.max(1e-9)).round() as u64,
                "Progress"
            ),
            None => tracing::info!(
                phase = self.name,
                done = position,
                rate = rate.round() as u64,
                "Progress"
            ),
        }
    }

    /// Ends the phase and returns its duration in seconds.
    pub fn finish(self) -> f64 {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let seconds = self.started.elapsed().as_secs_f64();
        tracing::info!(
            phase = self.name,
            done = self.position.load(Ordering::Relaxed),
            seconds,
            "Phase done"
        );
        seconds
    }
}
