//! The bulk path: batches of new records validated and built into documents on every core
//! while the previous batch is inserted, one transaction per batch (`licnode import`, the demo,
//! the benchmarks). References are not judged here: imported archives arrive collection by
//! collection in any order.

use licnode_model::{Collection, Issue};
use serde_json::{Map, Value};

use licnode_store::StoreError;

use super::{Archive, ArchiveError, Author};

/// One row for the bulk path: its fields, and its own jurisdiction if it names one.
#[derive(Clone, Debug)]
pub struct BulkRow {
    pub jurisdiction: Option<String>,
    pub fields: Map<String, Value>,
}

/// The bulk path: batches of new records are validated and built into documents on every core
/// while the previous batch is being inserted, one transaction per batch.
pub struct BulkWriter {
    archive: Archive,
    collection: &'static Collection,
    author: Author,
    in_flight: Option<tokio::task::JoinHandle<Result<usize, StoreError>>>,
    inserted: u64,
}

impl BulkWriter {
    /// A bulk writer of `collection` records written by `author`.
    pub fn new(
        archive: &Archive,
        collection: &str,
        author: &Author,
    ) -> Result<BulkWriter, ArchiveError> {
        Ok(BulkWriter {
            archive: archive.clone(),
            collection: Archive::collection(collection)?,
            author: author.clone(),
            in_flight: None,
            inserted: 0,
        })
    }

    /// Builds `rows` and queues them for insertion; returns the refused rows (by index into
    /// `rows`) with their reasons. Returns once the previous batch is committed.
    pub async fn write(
        &mut self,
        rows: Vec<BulkRow>,
    ) -> Result<(Vec<(usize, ArchiveError)>, Vec<Vec<Issue>>), StoreError> {
        let archive = self.archive.clone();
        let collection = self.collection.name;
        let author = self.author.clone();
        let built = tokio::task::spawn_blocking(move || {
            let at_ms = licnode_store::now_ms();
            let threads = std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(8);
            let chunk = rows.len().div_ceil(threads).max(1);
            std::thread::scope(|scope| {
                let handles: Vec<_> = rows
                    .chunks(chunk)
                    .enumerate()
                    .map(|(part_index, part)| {
                        let (archive, author) = (&archive, &author);
                        scope.spawn(move || {
                            part.iter()
                                .enumerate()
                                .map(|(offset, row)| {
                                    let index = part_index * chunk + offset;
                                    let built = archive.prepare(
                                        collection,
                                        row.jurisdiction.as_deref(),
                                        &row.fields,
                                        author,
                                        at_ms,
                                    );
                                    (index, built)
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|handle| handle.join().unwrap_or_default())
                    .collect::<Vec<_>>()
            })
        })
        .await
        .map_err(|error| StoreError::GroupCommit(format!("building documents: {error}")))?;
        let mut prepared = Vec::with_capacity(built.len());
        let mut refused = Vec::new();
        let mut warnings = Vec::new();
        for (index, result) in built {
            match result {
                Ok((record, issues)) => {
                    if !issues.is_empty() {
                        warnings.push(issues);
                    }
                    prepared.push(record);
                }
                Err(error) => refused.push((index, error)),
            }
        }
        self.wait().await?;
        let store = self.archive.store.clone();
        self.in_flight = Some(tokio::spawn(async move {
            store.insert_new(&prepared).await.map(|seqs| seqs.len())
        }));
        Ok((refused, warnings))
    }

    async fn wait(&mut self) -> Result<(), StoreError> {
        if let Some(handle) = self.in_flight.take() {
            self.inserted += handle
                .await
                .map_err(|error| StoreError::GroupCommit(format!("inserting: {error}")))??
                as u64;
        }
        Ok(())
    }

    /// Waits for the last batch and refreshes the planner's statistics; returns how many
    /// records were inserted in all.
    pub async fn finish(mut self) -> Result<u64, StoreError> {
        self.wait().await?;
        if self.inserted > 0 {
            self.archive.store.analyze().await?;
        }
        Ok(self.inserted)
    }

    /// Records inserted so far (committed batches).
    pub fn inserted(&self) -> u64 {
        self.inserted
    }
}
