//! What an operator's Prometheus scrapes (`/metrics` on `metrics_listen`): counters the server
//! keeps as it works, and gauges read from the running state at each scrape.
//!
//! One registry per [`Metrics`] value (not the crate's global one), so each server in a test
//! process counts only its own requests.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The content type of [`Metrics::render`]: Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Request durations in seconds: card sign-ins take milliseconds, SSE streams are not timed (they
/// end when the client leaves), the request timeout is 30 s.
const DURATION_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0];

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    audit: IntCounterVec,
    refusals: IntCounterVec,
    requests: HistogramVec,
    streams_open: IntGauge,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    crl_age: IntGaugeVec,
    crl_stale: IntGaugeVec,
}

/// The state read at scrape time.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub streams_open: usize,
    pub pool: PoolUse,
    pub crls: Vec<CrlState>,
}

/// The database connection pool now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUse {
    pub connections: u32,
    pub idle: usize,
    pub max: u32,
}

/// One trust anchor's revocation list as of the scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlState {
    /// `hpki` or `jpki`.
    pub family: &'static str,
    pub ca: String,
    /// Seconds since the oldest of its CRLs was issued (thisUpdate).
    pub age_secs: i64,
    /// Whether a CRL is past its nextUpdate (or, naming none, past `crl_max_age_secs`): this CA's
    /// certificates are refused until a current one is loaded.
    pub stale: bool,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let audit = IntCounterVec::new(
            Opts::new(
                "mahpki_audit_events_total",
                "Audited actions (sign-ins, bindings, revocations, operator commands) by action \
                 and outcome (ok or the error code that ended it).",
            ),
            &["action", "outcome"],
        )
        .expect("valid metric");
        let refusals = IntCounterVec::new(
            Opts::new("mahpki_refusals_total", "API answers with an error, by error code."),
            &["code"],
        )
        .expect("valid metric");
        let requests = HistogramVec::new(
            HistogramOpts::new(
                "mahpki_http_request_duration_seconds",
                "Time to answer HTTP requests, by route, method and status.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let streams_open =
            IntGauge::new("mahpki_sse_streams_open", "Live-event (SSE) streams open now.")
                .expect("valid metric");
        let pool_connections = IntGauge::new(
            "mahpki_db_pool_connections",
            "Database connections open in the pool (busy and idle).",
        )
        .expect("valid metric");
        let pool_idle =
            IntGauge::new("mahpki_db_pool_idle_connections", "Idle database connections.")
                .expect("valid metric");
        let pool_max =
            IntGauge::new("mahpki_db_pool_max_connections", "The most connections the pool opens.")
                .expect("valid metric");
        let crl_age = IntGaugeVec::new(
            Opts::new(
                "mahpki_crl_age_seconds",
                "Seconds since each CA's oldest loaded CRL was issued (thisUpdate).",
            ),
            &["family", "ca"],
        )
        .expect("valid metric");
        let crl_stale = IntGaugeVec::new(
            Opts::new(
                "mahpki_crl_stale",
                "1 while a CA's CRL is out of date: its certificates are refused until a \
                 current CRL is loaded.",
            ),
            &["family", "ca"],
        )
        .expect("valid metric");
        for c in [
            Box::new(audit.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(refusals.clone()),
            Box::new(requests.clone()),
            Box::new(streams_open.clone()),
            Box::new(pool_connections.clone()),
            Box::new(pool_idle.clone()),
            Box::new(pool_max.clone()),
            Box::new(crl_age.clone()),
            Box::new(crl_stale.clone()),
        ] {
            registry.register(c).expect("metric names are unique");
        }
        Self {
            registry,
            audit,
            refusals,
            requests,
            streams_open,
            pool_connections,
            pool_idle,
            pool_max,
            crl_age,
            crl_stale,
        }
    }

    /// An audit row was written.
    pub fn audited(&self, action: &str, outcome: &str) {
        self.audit.with_label_values(&[action, outcome]).inc();
    }

    /// The API answered with an error.
    pub fn refused(&self, code: &str) {
        self.refusals.with_label_values(&[code]).inc();
    }

    /// A request was answered. `route` is the router's pattern (bounded), never the raw path.
    pub fn answered(&self, route: &str, method: &str, status: u16, secs: f64) {
        self.requests.with_label_values(&[route, method, &status.to_string()]).observe(secs);
    }

    /// The text Prometheus scrapes, with the gauges set from `now`.
    pub fn render(&self, now: &Snapshot) -> String {
        self.streams_open.set(i64::try_from(now.streams_open).unwrap_or(i64::MAX));
        self.pool_connections.set(i64::from(now.pool.connections));
        self.pool_idle.set(i64::try_from(now.pool.idle).unwrap_or(i64::MAX));
        self.pool_max.set(i64::from(now.pool.max));
        // Anchors can go away on a restart only, but a reset keeps the labels exactly the
        // configured ones either way.
        self.crl_age.reset();
        self.crl_stale.reset();
        for c in &now.crls {
            self.crl_age.with_label_values(&[c.family, &c.ca]).set(c.age_secs);
            self.crl_stale.with_label_values(&[c.family, &c.ca]).set(i64::from(c.stale));
        }
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "metrics could not be encoded");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_gauges_appear_with_their_labels() {
        let m = Metrics::new();
        m.audited("hpki.auth", "ok");
        m.audited("hpki.auth", "ok");
        m.refused("bad_request");
        m.answered("/api/health", "GET", 200, 0.002);
        let text = m.render(&Snapshot {
            streams_open: 3,
            pool: PoolUse { connections: 2, idle: 1, max: 8 },
            crls: vec![CrlState { family: "hpki", ca: "JMA".into(), age_secs: 60, stale: true }],
        });
        assert!(text.contains(r#"mahpki_audit_events_total{action="hpki.auth",outcome="ok"} 2"#));
        assert!(text.contains(r#"mahpki_refusals_total{code="bad_request"} 1"#));
        assert!(text.contains(
            r#"mahpki_http_request_duration_seconds_count{method="GET",route="/api/health",status="200"} 1"#
        ));
        assert!(text.contains("mahpki_sse_streams_open 3"));
        assert!(text.contains("mahpki_db_pool_max_connections 8"));
        assert!(text.contains(r#"mahpki_crl_stale{ca="JMA",family="hpki"} 1"#));
        // A second scrape without that anchor drops its series.
        let text = m.render(&Snapshot::default());
        assert!(!text.contains("mahpki_crl_stale{"));
    }
}
