//! Art. 36 (不得泄露……企业商业秘密、技术秘密): the fields the model classifies `Secret` — an
//! enterprise's production scale, conditions, output value, raw inspection data and measured
//! results, verification records, and people's identity numbers, contacts and letters — are
//! masked in every read that leaves the records service (the JSON API, the web pages, the
//! CSV/XLSX/JSON-lines exports) unless an approver or an administrator asks for them unmasked.
//! Every read that then shows a secret value, and every filter on a secret field, leaves a
//! `secret_disclosed` audit entry. The role is decided here, on the typed `Author`, for every
//! door; the doors only say what was asked for.

use licnode_doc::Conflict;
use licnode_model::{Classification, Collection, Field, FieldType, MASKED_SECRET};
use licnode_store::{AuditEntry, AuditKind, ListQuery, Page, Role, SearchQuery, StoredRecord};
use serde_json::{Map, Value, json};

use super::{Archive, ArchiveError, Author};

/// Most record ids one `secret_disclosed` entry names; the count is always complete.
const AUDITED_IDS: usize = 100;

/// Whether a read shows secret fields masked (the default) or as stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SecretFields {
    /// Every secret value reads as [`MASKED_SECRET`].
    #[default]
    Masked,
    /// Secret values as stored: approvers and administrators only, audited.
    Unmasked,
}

impl SecretFields {
    /// A request's `unmasked` parameter: `true` or `1` asks for the values, `false`, `0` or
    /// nothing for the mask; anything else is `None` (the door refuses it).
    pub fn from_parameter(text: &str) -> Option<SecretFields> {
        match text.trim() {
            "true" | "1" => Some(SecretFields::Unmasked),
            "false" | "0" | "" => Some(SecretFields::Masked),
            _ => None,
        }
    }
}

/// Who may ask for secret fields unmasked. Art. 36 binds the bodies that learn the secrets;
/// within a node the need is the decision's: approvers decide on licences, refusals,
/// revocations and reports from the verification, inspection and production facts, and
/// administrators run imports, exports and restores of the whole archive (and hold its
/// database). Clerks enter secret values but read them masked; auditors read the trail, which
/// never holds a secret value. The regulation makes no difference between collections, so
/// neither does this rule.
pub fn may_read_secrets(role: Role) -> bool {
    matches!(role, Role::Approver | Role::Administrator)
}

/// A reader of records: who reads, whether they asked for secret fields unmasked, and through
/// which door (`api`, `web`, `licnode export`…), for the audit entry.
#[derive(Clone, Debug)]
pub struct Reader {
    author: Author,
    secrets: SecretFields,
    via: &'static str,
}

impl Reader {
    /// A reader asking for `secrets`; `secret_not_for_role` when the role may not see them.
    pub fn new(
        author: &Author,
        secrets: SecretFields,
        via: &'static str,
    ) -> Result<Reader, ArchiveError> {
        if secrets == SecretFields::Unmasked {
            require_secret_reader(author)?;
        }
        Ok(Reader {
            author: author.clone(),
            secrets,
            via,
        })
    }

    /// A reader who sees secret fields masked: anyone may read so.
    pub fn masked(author: &Author, via: &'static str) -> Reader {
        Reader {
            author: author.clone(),
            secrets: SecretFields::Masked,
            via,
        }
    }

    /// What this reader asked for.
    pub fn secrets(&self) -> SecretFields {
        self.secrets
    }

    /// Who reads.
    pub fn author(&self) -> &Author {
        &self.author
    }
}

fn require_secret_reader(author: &Author) -> Result<(), ArchiveError> {
    if may_read_secrets(author.role()) {
        Ok(())
    } else {
        Err(ArchiveError::SecretNotForRole {
            user: author.user().to_string(),
            role: author.role(),
        })
    }
}

/// The secret fields `query` filters on. Such a filter answers whether a secret holds a value,
/// so it is a read of the secret: refused (`secret_not_for_role`) to a role that may not see
/// secrets, and to be passed to [`Archive::release`], which audits it.
pub fn secret_filters(query: &ListQuery, reader: &Reader) -> Result<Vec<String>, ArchiveError> {
    let model = Archive::collection(&query.collection)?;
    let filtered_on: Vec<String> = query
        .fields
        .iter()
        .filter(|(name, _)| model.field(name).is_some_and(is_secret))
        .map(|(name, _)| name.clone())
        .collect();
    if !filtered_on.is_empty() {
        require_secret_reader(&reader.author)?;
    }
    Ok(filtered_on)
}

fn is_secret(field: &Field) -> bool {
    field.classification == Classification::Secret
}

/// The secret fields of a collection as paths: `production_scale`, and a secret column of a
/// table as `inspection_items[].measured_result`. Empty for a collection without secrets.
pub fn secret_field_paths(model: &Collection) -> Vec<String> {
    let mut paths = Vec::new();
    for field in model.fields {
        if is_secret(field) {
            paths.push(field.name.to_string());
        } else if let FieldType::Table(columns) = field.field_type {
            paths.extend(
                columns
                    .iter()
                    .filter(|column| is_secret(column))
                    .map(|column| format!("{}[].{}", field.name, column.name)),
            );
        }
    }
    paths
}

/// Calls `visit(path, value)` for every non-null value of `data` in a secret field or a
/// secret column of a table (`inspection_items[0].measured_result`).
fn each_secret_value(
    model: &Collection,
    data: &mut Map<String, Value>,
    visit: &mut dyn FnMut(String, &mut Value),
) {
    for field in model.fields {
        let Some(value) = data.get_mut(field.name) else {
            continue;
        };
        if is_secret(field) {
            if !value.is_null() {
                visit(field.name.to_string(), value);
            }
            continue;
        }
        let (FieldType::Table(columns), Value::Array(rows)) = (field.field_type, value) else {
            continue;
        };
        for (index, row) in rows.iter_mut().enumerate() {
            let Value::Object(row) = row else { continue };
            for column in columns.iter().filter(|column| is_secret(column)) {
                if let Some(cell) = row.get_mut(column.name).filter(|cell| !cell.is_null()) {
                    visit(format!("{}[{index}].{}", field.name, column.name), cell);
                }
            }
        }
    }
}

/// Replaces every secret value of `data` with [`MASKED_SECRET`]; returns the paths masked.
pub fn mask_secret_fields(model: &Collection, data: &mut Map<String, Value>) -> Vec<String> {
    let mut masked = Vec::new();
    each_secret_value(model, data, &mut |path, value| {
        *value = Value::String(MASKED_SECRET.to_string());
        masked.push(path);
    });
    masked
}

/// `record` with its secret values masked: what an overview that offers no unmasked reading
/// (the licence file, linked records, the board) shows every role (Art. 36).
pub fn masked_record(mut record: StoredRecord) -> StoredRecord {
    if let Some(model) = licnode_model::collection(&record.collection) {
        mask_secret_fields(model, &mut record.data);
    }
    record
}

/// [`masked_record`] of each record.
pub fn masked_records(records: Vec<StoredRecord>) -> Vec<StoredRecord> {
    records.into_iter().map(masked_record).collect()
}

/// The paths of `data` that show the mask: what a masked read hid. A stored secret never holds
/// the mask (`masked_value`), so the mask there means masked.
pub fn masked_paths(model: &Collection, data: &Map<String, Value>) -> Vec<String> {
    let mut copy = data.clone();
    let mut paths = Vec::new();
    each_secret_value(model, &mut copy, &mut |path, value| {
        if value.as_str() == Some(MASKED_SECRET) {
            paths.push(path);
        }
    });
    paths
}

/// The secret paths of `data` that hold a value.
fn secret_values_present(model: &Collection, data: &Map<String, Value>) -> Vec<String> {
    let mut copy = data.clone();
    let mut paths = Vec::new();
    each_secret_value(model, &mut copy, &mut |path, _| paths.push(path));
    paths
}

/// What one read disclosed: the records that showed a secret value, and their fields.
#[derive(Default)]
struct Disclosure {
    collections: Vec<String>,
    record_ids: Vec<String>,
    fields: Vec<String>,
}

impl Disclosure {
    fn add(&mut self, record: &StoredRecord, paths: Vec<String>) {
        if paths.is_empty() {
            return;
        }
        if !self.collections.contains(&record.collection) {
            self.collections.push(record.collection.clone());
        }
        self.record_ids.push(record.id.clone());
        for path in paths {
            if !self.fields.contains(&path) {
                self.fields.push(path);
            }
        }
    }
}

impl Archive {
    /// Masks `records` for `reader`, or — for a reader who asked for them unmasked — leaves
    /// them as stored and audits what they disclosed. `filtered_on` names the secret fields
    /// the records were selected by: such a filter answers whether a secret holds a value, so
    /// it is audited even when the records are shown masked. Every read of records that leaves
    /// the node's services passes through here.
    pub async fn release(
        &self,
        reader: &Reader,
        records: &mut [StoredRecord],
        filtered_on: &[String],
    ) -> Result<(), ArchiveError> {
        let mut disclosure = Disclosure::default();
        for record in records.iter_mut() {
            let Some(model) = licnode_model::collection(&record.collection) else {
                continue;
            };
            match reader.secrets {
                SecretFields::Masked => {
                    mask_secret_fields(model, &mut record.data);
                }
                SecretFields::Unmasked => {
                    disclosure.add(record, secret_values_present(model, &record.data));
                }
            }
        }
        if disclosure.record_ids.is_empty() && filtered_on.is_empty() {
            return Ok(());
        }
        self.audit_disclosure(reader, &disclosure, filtered_on)
            .await
    }

    /// The `secret_disclosed` entry of one read: who, through which door, which records (the
    /// first hundred ids and the count) and which fields.
    async fn audit_disclosure(
        &self,
        reader: &Reader,
        disclosure: &Disclosure,
        filtered_on: &[String],
    ) -> Result<(), ArchiveError> {
        let mut entry = AuditEntry::new(
            AuditKind::SecretDisclosed,
            &self.scope.node_code,
            reader.author.user(),
            licnode_store::now_ms(),
        )
        .detail(json!({
            "via": reader.via,
            "role": reader.author.role().as_str(),
            "unmasked": reader.secrets == SecretFields::Unmasked,
            "collections": disclosure.collections,
            "records": disclosure.record_ids.len(),
            "record_ids": disclosure.record_ids.iter().take(AUDITED_IDS).collect::<Vec<_>>(),
            "fields": disclosure.fields,
            "filtered_on": filtered_on,
        }));
        if let [only] = disclosure.record_ids.as_slice() {
            entry = entry.record(only);
        }
        self.store.audit(entry).await?;
        Ok(())
    }

    /// One record as `reader` may see it.
    pub async fn read_as(&self, id: &str, reader: &Reader) -> Result<StoredRecord, ArchiveError> {
        let mut record = self.get(id).await?;
        self.release(reader, std::slice::from_mut(&mut record), &[])
            .await?;
        Ok(record)
    }

    /// A page of records as `reader` may see it. A filter on a secret field is a read of that
    /// field: refused to a role that may not see secrets, audited otherwise.
    pub async fn list_as(&self, query: &ListQuery, reader: &Reader) -> Result<Page, ArchiveError> {
        let filtered_on = secret_filters(query, reader)?;
        let mut page = self.store.list(query).await?;
        self.release(reader, &mut page.items, &filtered_on).await?;
        Ok(page)
    }

    /// A page of search results as `reader` may see it (a search reads names, licence numbers
    /// and credit codes, none of them secret).
    pub async fn search_as(
        &self,
        query: &SearchQuery,
        reader: &Reader,
    ) -> Result<Page, ArchiveError> {
        let mut page = self.store.search(query).await?;
        self.release(reader, &mut page.items, &[]).await?;
        Ok(page)
    }

    /// The conflicts of a record as `reader` may see them: the concurrent values of a secret
    /// field are masked, or audited when shown.
    pub async fn conflicts_as(
        &self,
        id: &str,
        reader: &Reader,
    ) -> Result<Vec<Conflict>, ArchiveError> {
        let record = self.get(id).await?;
        let model = Self::collection(&record.collection)?;
        let mut conflicts = self.conflicts(id).await?;
        let mut shown = Vec::new();
        for conflict in &mut conflicts {
            let secret = model.field(&conflict.field).is_some_and(is_secret);
            if !secret {
                continue;
            }
            match reader.secrets {
                SecretFields::Masked => {
                    for value in std::iter::once(&mut conflict.shown).chain(&mut conflict.values) {
                        if !value.is_null() {
                            *value = Value::String(MASKED_SECRET.to_string());
                        }
                    }
                }
                SecretFields::Unmasked => shown.push(conflict.field.clone()),
            }
        }
        if !shown.is_empty() {
            let mut disclosure = Disclosure::default();
            disclosure.add(&record, shown);
            self.audit_disclosure(reader, &disclosure, &[]).await?;
        }
        Ok(conflicts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(name: &str) -> &'static Collection {
        licnode_model::collection(name).unwrap_or_else(|| panic!("{name} exists"))
    }

    #[test]
    fn only_approvers_and_administrators_may_read_secrets() {
        let readers: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| may_read_secrets(*role))
            .collect();
        assert_eq!(readers, [Role::Approver, Role::Administrator]);
        for role in Role::ALL {
            let asked = Reader::new(
                &Author::staff("someone", role),
                SecretFields::Unmasked,
                "test",
            );
            assert_eq!(asked.is_ok(), may_read_secrets(role), "{role:?}");
            assert!(
                Reader::new(
                    &Author::staff("someone", role),
                    SecretFields::Masked,
                    "test"
                )
                .is_ok()
            );
        }
    }

    #[test]
    fn the_secret_fields_of_a_collection_are_named_with_their_table_columns() {
        assert_eq!(
            secret_field_paths(collection("inspections")),
            ["raw_records", "inspection_items[].measured_result"]
        );
        assert_eq!(secret_field_paths(collection("reviewers")), ["id_number"]);
        assert!(secret_field_paths(collection("licences")).is_empty());
    }

    #[test]
    fn masking_hides_every_secret_value_and_nothing_else() {
        let mut data = match json!({
            "raw_records": "绝缘电阻 2.1 MΩ",
            "sampling_form": "抽样单 2024-001",
            "inspection_items": [
                { "item": "绝缘电阻", "measured_result": "2.1", "verdict": "conforming" },
                { "item": "导体电阻", "verdict": "conforming" }
            ]
        }) {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let masked = mask_secret_fields(collection("inspections"), &mut data);
        assert_eq!(
            masked,
            ["raw_records", "inspection_items[0].measured_result"]
        );
        assert_eq!(data["raw_records"], json!(MASKED_SECRET));
        assert_eq!(data["sampling_form"], json!("抽样单 2024-001"));
        assert_eq!(
            data["inspection_items"][0]["measured_result"],
            json!(MASKED_SECRET)
        );
        assert_eq!(data["inspection_items"][0]["item"], json!("绝缘电阻"));
        assert!(data["inspection_items"][1].get("measured_result").is_none());
        assert_eq!(masked_paths(collection("inspections"), &data), masked);
    }

    #[test]
    fn the_unmasked_parameter_reads_true_false_or_nothing() {
        assert_eq!(
            SecretFields::from_parameter("true"),
            Some(SecretFields::Unmasked)
        );
        assert_eq!(
            SecretFields::from_parameter("1"),
            Some(SecretFields::Unmasked)
        );
        assert_eq!(
            SecretFields::from_parameter("0"),
            Some(SecretFields::Masked)
        );
        assert_eq!(SecretFields::from_parameter(""), Some(SecretFields::Masked));
        assert_eq!(SecretFields::from_parameter("yes please"), None);
    }
}
