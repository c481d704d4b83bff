//! `licnode generate`: generated, realistic records of a collection as JSON lines.

use std::io::Write;

use anyhow::bail;

use crate::cli::collection_named;

/// The arguments of `licnode generate`.
#[derive(clap::Args)]
pub struct GenerateArgs {
    #[arg(long)]
    pub collection: String,
    #[arg(long, default_value_t = 100)]
    pub count: u64,
    /// Jurisdiction of the records: a division code; counties below it are drawn at random.
    #[arg(long, default_value = "330000")]
    pub within: String,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Prints the records.
pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let GenerateArgs {
        collection,
        count,
        within,
        seed,
    } = args;
    let collection = collection_named(&collection)?;
    let counties = licnode_model::divisions::counties_within(&within);
    if counties.is_empty() && licnode_model::divisions::lookup(&within).is_none() {
        bail!("{within:?} is not a division code");
    }
    let mut generator = licnode_gen::Generator::new(seed);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for index in 0..count {
        let jurisdiction = if counties.is_empty() {
            within.clone()
        } else {
            counties[(index as usize) % counties.len()].code.clone()
        };
        let fields = generator.record(collection, &jurisdiction);
        let line = serde_json::json!({ "jurisdiction": jurisdiction, "fields": fields });
        writeln!(out, "{line}")?;
    }
    Ok(())
}
