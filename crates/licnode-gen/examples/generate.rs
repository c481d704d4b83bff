//! Prints generated records as JSON lines, or with `--count-only` just times the generation.
//!
//! `cargo run --release -p licnode-gen --example generate -- licences 1000000 --count-only`
//! `cargo run -p licnode-gen --example generate -- reviewers 3 --seed 7 --jurisdiction 330000`

use std::io::Write;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let collection_name = arguments.first().map_or("licences", String::as_str);
    let count: u64 = arguments.get(1).map_or(Ok(5), |text| text.parse())?;
    let option = |name: &str| {
        arguments
            .iter()
            .position(|argument| argument == name)
            .and_then(|position| arguments.get(position + 1))
            .cloned()
    };
    let seed: u64 = option("--seed").map_or(Ok(1), |text| text.parse())?;
    let jurisdiction = option("--jurisdiction").unwrap_or_else(|| "100000".to_owned());
    let count_only = arguments.iter().any(|argument| argument == "--count-only");
    let collection = licnode_model::collection(collection_name)
        .ok_or_else(|| format!("no collection {collection_name:?}"))?;

    let mut generator = licnode_gen::Generator::new(seed);
    let started = Instant::now();
    let stdout = std::io::stdout();
    let mut output = stdout.lock();
    let mut fields = 0_usize;
    for _ in 0..count {
        let record = generator.record(collection, &jurisdiction);
        if count_only {
            fields += record.len();
        } else {
            writeln!(output, "{}", serde_json::Value::Object(record))?;
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "{count} {collection_name} records ({fields} fields) in {:.2?} ({:.0} records/s)",
        elapsed,
        count as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}
