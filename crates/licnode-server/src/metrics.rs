//! Prometheus metrics: request counters, latency histograms and the node's own counters, kept
//! in a `prometheus-client` registry and rendered in the OpenMetrics text format at `/metrics`
//! (no listener of its own).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The labels of `licnode_http_requests_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// The label of `licnode_http_request_duration_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The node's metrics registry.
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    /// Counters registered at their first increment, by their full name (`…_total`).
    counters: Mutex<HashMap<&'static str, Counter>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        // A counter's samples are named `<name>_total`.
        registry.register(
            "licnode_http_requests",
            "HTTP requests answered",
            requests.clone(),
        );
        let latency: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "licnode_http_request_duration_seconds",
            "Time to answer HTTP requests",
            latency.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            requests,
            latency,
            counters: Mutex::default(),
        }
    }
}

/// What the counters the node increments count (the encoder ends each help with a period).
fn counter_help(name: &str) -> &'static str {
    match name {
        "licnode_records_created_total" => "Records created through the staff API",
        "licnode_records_updated_total" => "Records changed through the staff API",
        "licnode_records_destroyed_total" => "Records destroyed on a signed approval (Art. 38)",
        _ => "A count kept by the node",
    }
}

impl Metrics {
    /// Records one answered request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Adds `by` to the counter `name` (a `_total` metric), registering it at its first use.
    pub fn increment(&self, name: &'static str, by: u64) {
        let counter = {
            let Ok(mut counters) = self.counters.lock() else {
                return;
            };
            if let Some(counter) = counters.get(name) {
                counter.clone()
            } else {
                let counter = Counter::default();
                if let Ok(mut registry) = self.registry.lock() {
                    registry.register(
                        name.strip_suffix("_total").unwrap_or(name),
                        counter_help(name),
                        counter.clone(),
                    );
                }
                counters.insert(name, counter.clone());
                counter
            }
        };
        counter.inc_by(by);
    }

    /// The registry in the OpenMetrics text format, followed by `gauges` (name, help, value)
    /// read at this scrape and by `more`, text of the same format computed elsewhere.
    pub fn render(&self, gauges: &[(&str, &str, f64)], more: &str) -> String {
        let mut out = String::new();
        if let Ok(registry) = self.registry.lock() {
            let _ = encode_registry(&mut out, &registry);
        }
        let mut scraped = Registry::default();
        for (name, help, value) in gauges {
            // The encoder ends each help with a period.
            let help = help.strip_suffix('.').unwrap_or(help);
            // Whole numbers are written as integers (`licnode_up 1`), as they always were.
            if value.fract() == 0.0 && value.abs() < 9.0e15 {
                let gauge = Gauge::<i64>::default();
                gauge.set(*value as i64);
                scraped.register(*name, help, gauge);
            } else {
                let gauge = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
                gauge.set(*value);
                scraped.register(*name, help, gauge);
            }
        }
        let _ = encode_registry(&mut out, &scraped);
        out.push_str(more);
        let _ = encode_eof(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_histogram_counts_each_request_in_its_buckets() {
        let metrics = Metrics::default();
        metrics.observe_request("GET", "/healthz", 200, Duration::from_millis(3));
        let text = metrics.render(&[("licnode_up", "Node is up.", 1.0)], "");
        assert!(text.contains(
            "licnode_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1\n"
        ));
        assert!(text.contains(
            "licnode_http_request_duration_seconds_bucket{le=\"0.0025\",route=\"/healthz\"} 0\n"
        ));
        assert!(text.contains(
            "licnode_http_request_duration_seconds_bucket{le=\"0.005\",route=\"/healthz\"} 1\n"
        ));
        assert!(text.contains(
            "licnode_http_request_duration_seconds_bucket{le=\"+Inf\",route=\"/healthz\"} 1\n"
        ));
        assert!(
            text.contains("licnode_http_request_duration_seconds_count{route=\"/healthz\"} 1\n")
        );
        assert!(text.contains("# TYPE licnode_http_request_duration_seconds histogram\n"));
        assert!(
            text.contains("# HELP licnode_up Node is up.\n# TYPE licnode_up gauge\nlicnode_up 1\n")
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn counters_keep_their_total_names_and_add_up() {
        let metrics = Metrics::default();
        metrics.increment("licnode_records_created_total", 1);
        metrics.increment("licnode_records_created_total", 2);
        metrics.increment("licnode_records_destroyed_total", 5);
        let text = metrics.render(&[], "");
        assert!(
            text.contains("# TYPE licnode_records_created counter\n"),
            "{text}"
        );
        assert!(
            text.contains("\nlicnode_records_created_total 3\n"),
            "{text}"
        );
        assert!(
            text.contains("\nlicnode_records_destroyed_total 5\n"),
            "{text}"
        );
    }

    #[test]
    fn a_route_with_a_quote_is_escaped_in_its_label() {
        let metrics = Metrics::default();
        metrics.observe_request("GET", "/a\"b", 404, Duration::from_millis(1));
        let text = metrics.render(&[], "");
        assert!(text.contains("route=\"/a\\\"b\""), "{text}");
    }

    #[test]
    fn gauges_keep_whole_numbers_whole_and_fractions_exact() {
        let metrics = Metrics::default();
        let text = metrics.render(
            &[
                (
                    "licnode_change_log_last_seq",
                    "Highest sequence number.",
                    0.0,
                ),
                ("licnode_sync_last_success_timestamp_seconds", "When.", 1.5),
            ],
            "",
        );
        assert!(text.contains("\nlicnode_change_log_last_seq 0\n"), "{text}");
        assert!(
            text.contains("\nlicnode_sync_last_success_timestamp_seconds 1.5\n"),
            "{text}"
        );
    }

    #[test]
    fn text_computed_elsewhere_comes_before_the_end_marker() {
        let metrics = Metrics::default();
        let more = "# TYPE licnode_deadlines_late gauge\nlicnode_deadlines_late{rule=\"x\"} 2\n";
        let text = metrics.render(&[], more);
        assert!(text.ends_with(&format!("{more}# EOF\n")), "{text}");
    }
}
