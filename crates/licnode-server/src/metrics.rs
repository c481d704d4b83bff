//! Prometheus metrics: request counters and latency histograms, rendered in the text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The node's metrics registry.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    counters: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    /// Records one answered request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests
                .entry((method.to_string(), route.to_string(), status))
                .or_default() += 1;
        }
        if let Ok(mut latency) = self.latency.lock() {
            let histogram = latency.entry(route.to_string()).or_default();
            let seconds = elapsed.as_secs_f64();
            for (index, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    histogram.counts[index] += 1;
                }
            }
            histogram.count += 1;
            histogram.sum += seconds;
        }
    }

    /// Adds `by` to the counter `name` (a `_total` metric).
    pub fn increment(&self, name: &'static str, by: u64) {
        if let Ok(mut counters) = self.counters.lock() {
            *counters.entry(name).or_default() += by;
        }
    }

    /// The registry in Prometheus text format, followed by `gauges` (name, help, value).
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP licnode_http_requests_total HTTP requests answered.\n\
             # TYPE licnode_http_requests_total counter"
        );
        if let Ok(requests) = self.requests.lock() {
            for ((method, route, status), count) in requests.iter() {
                let _ = writeln!(
                    out,
                    "licnode_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
                    escape(route)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP licnode_http_request_duration_seconds Time to answer HTTP requests.\n\
             # TYPE licnode_http_request_duration_seconds histogram"
        );
        if let Ok(latency) = self.latency.lock() {
            for (route, histogram) in latency.iter() {
                let route = escape(route);
                for (index, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "licnode_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                        histogram.counts[index]
                    );
                }
                let _ = writeln!(
                    out,
                    "licnode_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                     licnode_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                     licnode_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    histogram.count, histogram.sum, histogram.count
                );
            }
        }
        if let Ok(counters) = self.counters.lock() {
            for (name, value) in counters.iter() {
                let _ = writeln!(out, "# TYPE {name} counter\n{name} {value}");
            }
        }
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_histogram_counts_each_request_in_its_buckets() {
        let metrics = Metrics::default();
        metrics.observe_request("GET", "/healthz", 200, Duration::from_millis(3));
        let text = metrics.render(&[("licnode_up", "Node is up.", 1.0)]);
        assert!(text.contains(
            "licnode_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ));
        assert!(text.contains(
            "licnode_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.0025\"} 0"
        ));
        assert!(text.contains(
            "licnode_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 1"
        ));
        assert!(text.contains("licnode_up 1"));
    }
}
