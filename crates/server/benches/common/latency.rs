//! Latency samples as the benches' tables print them (shared by `enrol` and `streams`).

/// Milliseconds: how many samples, their median, 95th percentile and maximum.
pub struct Spread {
    pub n: usize,
    pub median: f64,
    pub p95: f64,
    pub max: f64,
}

impl Spread {
    /// Nearest-rank percentiles of `ms` (at least one sample).
    pub fn of(ms: &[f64]) -> Self {
        let mut ms = ms.to_vec();
        ms.sort_by(f64::total_cmp);
        let pick = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
        Self { n: ms.len(), median: pick(0.5), p95: pick(0.95), max: ms[ms.len() - 1] }
    }

    /// `| n | median | p95 | max |`, one decimal.
    pub fn cells(&self) -> String {
        format!("{} | {:.1} | {:.1} | {:.1}", self.n, self.median, self.p95, self.max)
    }
}
