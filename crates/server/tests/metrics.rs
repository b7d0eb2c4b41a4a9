//! Issue 16, "An operator's view": `/metrics` on its own listener in Prometheus text format, read
//! back by an independent parser (the Prometheus project's Python client, Debian's
//! `python3-prometheus-client`), and `/api/health/live` and `/api/health/ready`, through the real
//! binary: sign-ins and refusals are counted, a stale CRL makes the server not ready and shows
//! in the metrics once SIGHUP reloaded it.

mod common;

use std::{collections::BTreeMap, io::Write as _, process::Stdio};

use common::binary::{OneHolder, request};

/// The samples of a scrape as the independent parser reads them: `name{k="v",…}` → value.
fn parse_with_prometheus_client(text: &str) -> BTreeMap<String, f64> {
    const SCRIPT: &str = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
        print("%s{%s} %r" % (s.name, labels, s.value))
"#;
    let mut child = std::process::Command::new("/usr/bin/python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (scripts/setup.sh installs python3-prometheus-client)");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the parser refused the scrape: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_owned(), v.parse().unwrap())
        })
        .collect()
}

fn sample(samples: &BTreeMap<String, f64>, key: &str) -> f64 {
    *samples.get(key).unwrap_or_else(|| panic!("no sample {key} in {samples:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_scrapes_counts_and_probes_readiness() {
    let files = OneHolder::new("metrics_listen = \"127.0.0.1:0\"");
    let mut server = files.serve(2);
    let (addr, metrics) = (server.addr.clone(), server.announced[0].clone());
    assert_ne!(addr, metrics, "the metrics have a listener of their own");

    let live = request(&addr, "GET", "/api/health/live", "").await;
    assert_eq!(live.status, 200, "{live:?}");
    let ready = request(&addr, "GET", "/api/health/ready", "").await;
    assert_eq!(ready.status, 200, "{ready:?}");
    let ready: mahpki_protocol::Readiness = serde_json::from_str(&ready.body).unwrap();
    assert!(ready.ready && ready.database.ok && ready.stale_crls.is_empty(), "{ready:?}");

    // One JMA sign-in, one wrong one, one malformed body, one unknown path.
    let good = OneHolder::LOGIN;
    let wrong = r#"{"registration_number":"100001","card_id":"CARD9999"}"#;
    assert_eq!(request(&addr, "POST", "/api/jma/login", good).await.status, 200);
    let refused = request(&addr, "POST", "/api/jma/login", wrong).await;
    assert!(refused.body.contains("jma_login_failed"), "{refused:?}");
    assert_eq!(request(&addr, "POST", "/api/jma/login", "{").await.status, 400);
    assert_eq!(request(&addr, "GET", "/api/no/such/thing", "").await.status, 404);
    // The public listener does not serve the scrape.
    let public = request(&addr, "GET", "/metrics", "").await;
    assert!(!public.body.contains("mahpki_"), "{public:?}");

    let scrape = request(&metrics, "GET", "/metrics", "").await;
    assert_eq!(scrape.status, 200);
    assert_eq!(scrape.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let s = parse_with_prometheus_client(&scrape.body);
    assert_eq!(sample(&s, r#"mahpki_audit_events_total{action="jma.auth",outcome="ok"}"#), 1.0);
    assert_eq!(sample(&s, r#"mahpki_refusals_total{code="jma_login_failed"}"#), 1.0);
    assert_eq!(sample(&s, r#"mahpki_refusals_total{code="bad_request"}"#), 1.0);
    assert_eq!(sample(&s, r#"mahpki_refusals_total{code="not_found"}"#), 1.0);
    let count = |route: &str, method: &str, status: u16| {
        sample(
            &s,
            &format!(
                r#"mahpki_http_request_duration_seconds_count{{method="{method}",route="{route}",status="{status}"}}"#
            ),
        )
    };
    assert_eq!(count("/api/jma/login", "POST", 200), 1.0);
    assert_eq!(count("/api/health/ready", "GET", 200), 1.0);
    assert_eq!(count("unmatched", "GET", 404), 1.0);
    assert_eq!(sample(&s, "mahpki_sse_streams_open{}"), 0.0);
    assert!(sample(&s, "mahpki_db_pool_max_connections{}") >= 1.0);
    let ca_label = |name: &str| {
        s.keys()
            .find(|k| k.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {s:#?}"))
            .clone()
    };
    let stale_key = ca_label("mahpki_crl_stale{");
    assert!(
        stale_key.contains(r#"family="hpki""#) && stale_key.contains("HPKI test CA"),
        "{stale_key}"
    );
    assert_eq!(s[&stale_key], 0.0);
    assert!(s[&ca_label("mahpki_crl_age_seconds{")] > 0.0);

    // The CA's CRL passes its nextUpdate; after the reload the server is not ready and says why.
    files.write_crl(&[], "20250101000000Z");
    server.signal(libc::SIGHUP);
    assert!(server.await_log("CRLs reloaded").await, "the server stopped before reloading");
    let ready = request(&addr, "GET", "/api/health/ready", "").await;
    assert_eq!(ready.status, 503, "{ready:?}");
    let ready: mahpki_protocol::Readiness = serde_json::from_str(&ready.body).unwrap();
    assert!(!ready.ready && ready.database.ok, "{ready:?}");
    assert_eq!(ready.stale_crls.len(), 1);
    assert!(ready.stale_crls[0].contains("HPKI test CA"), "{ready:?}");
    let s = parse_with_prometheus_client(&request(&metrics, "GET", "/metrics", "").await.body);
    assert_eq!(s[&stale_key], 1.0);
    // Still live: a restart would not bring a CRL.
    assert_eq!(request(&addr, "GET", "/api/health/live", "").await.status, 200);
    server.stop();
}
