//! `licnode import` and `licnode export`: CSV or JSON lines in and out of a collection.
//!
//! Import goes through the bulk path: rows are validated and built into documents, then stored
//! a batch per transaction. Refused rows are reported with their line and reasons; the rest
//! are imported.

use std::io::{BufRead, Write};
use std::time::Instant;

use anyhow::{Context, bail};
use licnode_app::{Archive, ArchiveError, Author, BulkRow, BulkWriter, Reader, SecretFields};
use licnode_model::{Collection, FieldType, Issue};
use licnode_store::ListQuery;
use serde_json::{Map, Value};

/// CSV (a header row of field names or Chinese labels) or JSON lines (one object per line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    /// The format a file name suggests.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// One refused row.
#[derive(Debug, serde::Serialize)]
pub struct Refusal {
    /// 1-based line of the input (for CSV, the header is line 1).
    pub line: u64,
    pub code: String,
    pub message: String,
    pub issues: Vec<Issue>,
}

/// What an import did.
#[derive(Debug, Default, serde::Serialize)]
pub struct ImportSummary {
    pub read: u64,
    pub imported: u64,
    pub warnings: u64,
    pub refused: Vec<Refusal>,
    pub seconds: f64,
}

/// Rows per transaction on the bulk path.
const BATCH: usize = 1_000;

/// Reads rows from `input` and imports them into `collection`.
pub async fn import(
    archive: &Archive,
    collection: &'static Collection,
    format: Format,
    input: Box<dyn BufRead + Send>,
    jurisdiction: Option<&str>,
    user: &str,
    progress: &mut dyn FnMut(&ImportSummary),
) -> anyhow::Result<ImportSummary> {
    let started = Instant::now();
    let mut summary = ImportSummary::default();
    // The operator at the node's console imports as an administrator: an agency's archive
    // brought in holds decisions already made (terminal licences, events, submitted reports).
    let mut writer = BulkWriter::new(archive, collection.name, &Author::operator(user))?;
    let mut rows: Vec<(u64, Result<Row, Refusal>)> = Vec::with_capacity(BATCH);
    let mut reader = RowReader::new(collection, format, input)?;
    loop {
        let next = reader.next_row()?;
        let done = next.is_none();
        if let Some(row) = next {
            summary.read += 1;
            rows.push(row);
        }
        if rows.len() >= BATCH || (done && !rows.is_empty()) {
            let mut lines = Vec::with_capacity(rows.len());
            let mut batch = Vec::with_capacity(rows.len());
            for (line, row) in rows.drain(..) {
                match row {
                    Ok(row) => {
                        lines.push(line);
                        batch.push(BulkRow {
                            jurisdiction: row
                                .jurisdiction
                                .or_else(|| jurisdiction.map(str::to_string)),
                            fields: row.fields,
                        });
                    }
                    Err(refusal) => summary.refused.push(refusal),
                }
            }
            let accepted = batch.len() as u64;
            let (refused, warnings) = writer.write(batch).await?;
            summary.imported += accepted - refused.len() as u64;
            summary.warnings += warnings.len() as u64;
            for (index, error) in refused {
                summary.refused.push(refusal_of(lines[index], error));
            }
            summary.seconds = started.elapsed().as_secs_f64();
            progress(&summary);
        }
        if done {
            break;
        }
    }
    writer.finish().await?;
    summary.refused.sort_by_key(|refusal| refusal.line);
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn refusal_of(line: u64, error: ArchiveError) -> Refusal {
    let code = error.code().to_string();
    match error {
        ArchiveError::Invalid(errors) => Refusal {
            line,
            code,
            message: errors
                .0
                .iter()
                .map(|issue| format!("{}: {}", issue.field, issue.message))
                .collect::<Vec<_>>()
                .join("; "),
            issues: errors.0,
        },
        other => Refusal {
            line,
            code,
            message: other.to_string(),
            issues: Vec::new(),
        },
    }
}

/// One input row: its fields, and its own jurisdiction when the row names one.
struct Row {
    jurisdiction: Option<String>,
    fields: Map<String, Value>,
}

/// Reads rows as JSON objects, whatever the format.
struct RowReader {
    collection: &'static Collection,
    format: Format,
    lines: Option<std::io::Lines<Box<dyn BufRead + Send>>>,
    csv: Option<csv::Reader<Box<dyn BufRead + Send>>>,
    headers: Vec<String>,
    line: u64,
}

impl RowReader {
    fn new(
        collection: &'static Collection,
        format: Format,
        input: Box<dyn BufRead + Send>,
    ) -> anyhow::Result<RowReader> {
        let mut reader = RowReader {
            collection,
            format,
            lines: None,
            csv: None,
            headers: Vec::new(),
            line: 0,
        };
        match format {
            Format::Jsonl => reader.lines = Some(input.lines()),
            Format::Csv => {
                let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(input);
                let headers = csv.headers().context("cannot read the CSV header row")?;
                reader.headers = headers
                    .iter()
                    .map(|header| {
                        field_for_header(collection, header.trim_start_matches('\u{feff}'))
                    })
                    .collect::<anyhow::Result<_>>()?;
                reader.csv = Some(csv);
                reader.line = 1;
            }
        }
        Ok(reader)
    }

    /// The next row, or `None` at the end of the input. A row that cannot be read as an object
    /// is a refusal, not an error.
    fn next_row(&mut self) -> anyhow::Result<Option<(u64, Result<Row, Refusal>)>> {
        match self.format {
            Format::Jsonl => {
                let Some(lines) = self.lines.as_mut() else {
                    return Ok(None);
                };
                loop {
                    let Some(line) = lines.next() else {
                        return Ok(None);
                    };
                    self.line += 1;
                    let line = line.context("cannot read the input")?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    let row = match serde_json::from_str::<Value>(&line) {
                        Ok(Value::Object(map)) => Ok(row_of_object(map)),
                        Ok(_) => Err(refusal(
                            self.line,
                            "expected_object",
                            "the line is not a JSON object",
                        )),
                        Err(error) => Err(refusal(self.line, "malformed_json", &error.to_string())),
                    };
                    return Ok(Some((self.line, row)));
                }
            }
            Format::Csv => {
                let Some(csv) = self.csv.as_mut() else {
                    return Ok(None);
                };
                let mut record = csv::StringRecord::new();
                match csv.read_record(&mut record) {
                    Ok(false) => Ok(None),
                    Ok(true) => {
                        self.line += 1;
                        Ok(Some((self.line, self.csv_row(&record))))
                    }
                    Err(error) => {
                        self.line += 1;
                        Ok(Some((
                            self.line,
                            Err(refusal(self.line, "malformed_csv", &error.to_string())),
                        )))
                    }
                }
            }
        }
    }

    fn csv_row(&self, record: &csv::StringRecord) -> Result<Row, Refusal> {
        if record.len() != self.headers.len() {
            return Err(refusal(
                self.line,
                "malformed_csv",
                &format!(
                    "the row has {} cells, the header {}",
                    record.len(),
                    self.headers.len()
                ),
            ));
        }
        let mut map = Map::new();
        for (name, cell) in self.headers.iter().zip(record.iter()) {
            let cell = cell.trim();
            if cell.is_empty() {
                continue;
            }
            let value = match self.collection.field(name).map(|f| f.field_type) {
                Some(FieldType::Table(_)) => serde_json::from_str(cell).map_err(|error| {
                    refusal(
                        self.line,
                        "malformed_json",
                        &format!("{name}: a table cell must hold a JSON array: {error}"),
                    )
                })?,
                _ => Value::String(cell.to_string()),
            };
            map.insert(name.clone(), value);
        }
        Ok(Row {
            jurisdiction: None,
            fields: map,
        })
    }
}

/// A JSON line is either an object of fields, or an exported line
/// `{"id": …, "jurisdiction": …, "fields": {…}}`.
fn row_of_object(mut map: Map<String, Value>) -> Row {
    if let Some(Value::Object(fields)) = map.get("fields").cloned() {
        let jurisdiction = match map.remove("jurisdiction") {
            Some(Value::String(code)) => Some(code),
            _ => None,
        };
        return Row {
            jurisdiction,
            fields,
        };
    }
    Row {
        jurisdiction: None,
        fields: map,
    }
}

fn refusal(line: u64, code: &str, message: &str) -> Refusal {
    Refusal {
        line,
        code: code.to_string(),
        message: message.to_string(),
        issues: Vec::new(),
    }
}

/// A CSV header names a field by its name or its Chinese label.
fn field_for_header(collection: &Collection, header: &str) -> anyhow::Result<String> {
    let header = header.trim();
    if let Some(field) = collection
        .fields
        .iter()
        .find(|field| field.name == header || field.label_zh == header)
    {
        return Ok(field.name.to_string());
    }
    bail!(
        "CSV column {header:?} is not a field of {} (by name or Chinese label)",
        collection.name
    )
}

/// What `licnode export` writes besides the collection: a division to stay within, the CSV
/// headers' language, and whether secret fields are written unmasked (Art. 36).
#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    /// Only records at or below this division code.
    pub within: Option<String>,
    /// CSV headers in Chinese (the fields' labels) instead of field names.
    pub chinese_headers: bool,
    /// Secret fields as stored instead of masked; audited as `secret_disclosed` per page.
    pub secrets: SecretFields,
    /// The operator named in the audit log.
    pub user: String,
}

/// Writes every record of `collection` (optionally within a division) to `output`, secret
/// fields masked unless `options.secrets` asks for them (the operator writes as an
/// administrator, who may; the records service audits it).
pub async fn export(
    archive: &Archive,
    collection: &'static Collection,
    format: Format,
    options: ExportOptions,
    output: &mut dyn Write,
) -> anyhow::Result<u64> {
    let ExportOptions {
        within,
        chinese_headers,
        secrets,
        user,
    } = options;
    let reader = Reader::new(&Author::operator(user.as_str()), secrets, "licnode export")?;
    let mut written = 0u64;
    let mut after = None;
    let mut sink = match format {
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(output);
            writer.write_record(export_header(collection, chinese_headers))?;
            ExportSink::Csv(Box::new(writer))
        }
        Format::Jsonl => ExportSink::Jsonl(output),
    };
    loop {
        let query = ListQuery {
            collection: collection.name.to_string(),
            within: within.clone(),
            after,
            limit: 1_000,
            ..ListQuery::default()
        };
        let page = archive.list_as(&query, &reader).await?;
        for record in &page.items {
            sink.write_record(collection, record)?;
            written += 1;
        }
        match page.next {
            Some(next) => after = next.parse().ok(),
            None => break,
        }
    }
    sink.flush()?;
    // Records leaving the node leave a trace in its audit log (Art. 37).
    let entry = licnode_store::AuditEntry::new(
        licnode_store::AuditKind::Export,
        &archive.scope.node_code,
        &user,
        licnode_store::now_ms(),
    )
    .detail(serde_json::json!({
        "via": "licnode export",
        "collection": collection.name,
        "format": format!("{format:?}").to_lowercase(),
        "within": within,
        "records": written,
        "unmasked": secrets == SecretFields::Unmasked,
    }));
    archive.audit(entry).await?;
    Ok(written)
}

/// The CSV header of an export: the record id, the jurisdiction, then every field, by name or
/// by Chinese label.
fn export_header(collection: &Collection, chinese_headers: bool) -> Vec<String> {
    let mut header = vec![
        if chinese_headers {
            "记录编号"
        } else {
            "id"
        }
        .to_string(),
        if chinese_headers {
            "辖区代码"
        } else {
            "jurisdiction"
        }
        .to_string(),
    ];
    header.extend(collection.fields.iter().map(|field| {
        if chinese_headers {
            field.label_zh.to_string()
        } else {
            field.name.to_string()
        }
    }));
    header
}

/// Where exported records go: CSV rows, or one JSON object per line.
enum ExportSink<'a> {
    Csv(Box<csv::Writer<&'a mut dyn Write>>),
    Jsonl(&'a mut dyn Write),
}

impl ExportSink<'_> {
    /// Writes one record: in CSV its id, jurisdiction and every field as text (empty when
    /// absent); in JSON lines its id, jurisdiction and fields.
    fn write_record(
        &mut self,
        collection: &Collection,
        record: &licnode_store::StoredRecord,
    ) -> anyhow::Result<()> {
        match self {
            ExportSink::Csv(writer) => {
                let mut row = vec![record.id.clone(), record.jurisdiction.clone()];
                row.extend(collection.fields.iter().map(
                    |field| match record.data.get(field.name) {
                        None | Some(Value::Null) => String::new(),
                        Some(Value::String(text)) => text.clone(),
                        Some(other) => other.to_string(),
                    },
                ));
                writer.write_record(&row)?;
            }
            ExportSink::Jsonl(out) => {
                let line = serde_json::json!({
                    "id": record.id,
                    "jurisdiction": record.jurisdiction,
                    "fields": record.data,
                });
                writeln!(out, "{line}")?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            ExportSink::Csv(writer) => writer.flush(),
            ExportSink::Jsonl(out) => out.flush(),
        }
    }
}
