//! `GET /metrics` scraped and parsed as Prometheus would, for tests that
//! assert on what was counted.

use std::collections::HashMap;

use prometheus_parse::{Scrape, Value};

/// Every sample of the scrape, by name and labels (`name{a="x",b="y"}`, labels sorted).
pub async fn scrape(url: &str) -> HashMap<String, f64> {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    let scrape = Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("valid exposition text");
    let mut samples = HashMap::new();
    for sample in scrape.samples {
        let mut labels: Vec<_> = sample.labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        labels.sort();
        let value = match sample.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            Value::Histogram(buckets) => buckets.iter().map(|b| b.count).fold(0.0, f64::max),
            Value::Summary(_) => continue,
        };
        samples.insert(format!("{}{{{}}}", sample.metric, labels.join(",")), value);
    }
    samples
}

pub fn get(samples: &HashMap<String, f64>, key: &str) -> f64 {
    *samples
        .get(key)
        .unwrap_or_else(|| panic!("no sample {key} among {:?}", samples.keys().collect::<Vec<_>>()))
}
