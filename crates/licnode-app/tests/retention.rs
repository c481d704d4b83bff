//! Keeping and destroying (Art. 37, 38) with an injected clock: a record comes due exactly five
//! years after its period starts; destruction is refused without an approval, with a refused,
//! misapplied, tampered, forged, expired or future-dated one, and when the local clock is
//! behind; with a valid approval the record is gone from document, history, projection and
//! search, a certificate remains, and its old changes do not bring it back. Every test runs
//! against SQLite and PostgreSQL.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use licnode_app::Author;
use licnode_app::{Archive, Clock as _, ManualClock};
use licnode_store::public::PublicQuery;
use licnode_store::retention::{NodeKey, Signature};
use licnode_store::{LoggedChange, SearchQuery, Store};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

const YEARS: u32 = 5;
const COUNTY: &str = "330106";
const PROVINCE: &str = "330000";

async fn open(backend: Backend, dir: &std::path::Path) -> (Store, Option<TestDatabase>) {
    std::fs::create_dir_all(dir).expect("test directory");
    let (url, database) = licnode_testkit::database_url(backend, dir)
        .await
        .expect("test database");
    (Store::open(&url).await.expect("open store"), database)
}

/// Node keys for the tests: a node signs with a secret only it knows; verifying looks the
/// signer's secret up by the code its "chain" names, as the PKI looks its certificate up.
/// Unknown signers and wrong signatures are refused.
#[derive(Clone)]
struct TestKey {
    code: &'static str,
    secrets: HashMap<&'static str, &'static str>,
}

fn key(code: &'static str) -> TestKey {
    TestKey {
        code,
        secrets: HashMap::from([(PROVINCE, "province secret"), (COUNTY, "county secret")]),
    }
}

fn mac(secret: &str, message: &[u8]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(secret.as_bytes());
    hasher.update(message);
    hasher.finalize().to_vec()
}

impl NodeKey for TestKey {
    fn sign(&self, message: &[u8]) -> Result<Signature, String> {
        Ok(Signature {
            scheme: 0x0807,
            signature: mac(self.secrets[self.code], message),
            chain: vec![self.code.as_bytes().to_vec()],
        })
    }

    fn verify(
        &self,
        chain: &[Vec<u8>],
        message: &[u8],
        _scheme: u16,
        signature: &[u8],
    ) -> Result<String, (String, String)> {
        let signer = chain
            .first()
            .and_then(|leaf| std::str::from_utf8(leaf).ok())
            .ok_or_else(|| ("no_certificate".to_owned(), String::new()))?;
        let secret = self
            .secrets
            .get(signer)
            .ok_or_else(|| ("unknown_issuer".to_owned(), signer.to_owned()))?;
        if mac(secret, message) == signature {
            Ok(signer.to_owned())
        } else {
            Err(("bad_signature".to_owned(), String::new()))
        }
    }
}

/// Today in China by the machine's clock: records written now carry it as their last change.
fn real_today() -> NaiveDate {
    licnode_app::SystemClock.today()
}

/// A quality archive of the county whose five years start on `start`.
fn quality_archive(start: NaiveDate) -> Map<String, Value> {
    let model = licnode_model::collection("quality_archives").expect("collection");
    let mut record = licnode_gen::Generator::new(7).record(model, COUNTY);
    record.insert("valid_until".into(), json!(start.to_string()));
    record.insert(
        "supervision_records".into(),
        json!([{"supervision_date": "2020-03-04", "supervision_kind": "patrol_visit",
                 "result": "conforming"}]),
    );
    record.insert("enterprise_name".into(), json!("杭州恒远电缆有限公司"));
    record
}

/// A licence in the county that expires on `start`.
fn licence(start: NaiveDate) -> Map<String, Value> {
    let model = licnode_model::collection("licences").expect("collection");
    let mut record = licnode_gen::Generator::new(8).record(model, COUNTY);
    record.insert("valid_until".into(), json!(start.to_string()));
    record.insert("status".into(), json!("valid"));
    record.insert("enterprise_name".into(), json!("杭州恒远电缆有限公司"));
    record
}

fn five_years_after(start: NaiveDate) -> NaiveDate {
    start
        .checked_add_months(chrono::Months::new(12 * YEARS))
        .expect("date")
}

struct Setup {
    store: Store,
    county: Archive,
    province: Archive,
    /// Due date of both records.
    due: NaiveDate,
    archive_id: String,
    licence_id: String,
    _database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

/// One store seen by the county and by its province (the province's copy is the same rows);
/// a quality archive and a licence that come due on the same day.
async fn setup(backend: Backend) -> Setup {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (store, database) = open(backend, &dir.path().join("node")).await;
    let county = Archive::new(store.clone(), COUNTY);
    let province = Archive::new(store.clone(), PROVINCE);
    let start = real_today().checked_add_days(Days::new(40)).expect("date");
    let archive_id = county
        .create(
            "quality_archives",
            None,
            &quality_archive(start),
            &Author::clerk("clerk"),
        )
        .await
        .expect("archive")
        .record
        .id;
    let licence_id = province
        .create(
            "licences",
            Some(COUNTY),
            &licence(start),
            &Author::clerk("clerk"),
        )
        .await
        .expect("licence")
        .record
        .id;
    Setup {
        store,
        county,
        province,
        due: five_years_after(start),
        archive_id,
        licence_id,
        _database: database,
        _dir: dir,
    }
}

fn day_before(date: NaiveDate) -> NaiveDate {
    date.pred_opt().expect("date")
}

fn code<T: std::fmt::Debug>(result: Result<T, licnode_app::retention::RetentionError>) -> String {
    match result {
        Ok(value) => panic!("expected a refusal, got {value:?}"),
        Err(error) => error.code().to_owned(),
    }
}

#[tokio::test]
async fn a_record_comes_due_exactly_at_five_years_and_not_a_day_before() {
    for backend in BACKENDS {
        let s = setup(backend).await;
        let clock = ManualClock::at_date(day_before(s.due));
        // 23:59:59.999 China time the day before: still not due.
        clock.advance_ms(24 * 3600 * 1000 - 1);
        assert!(
            s.county
                .due_records(clock.today(), YEARS)
                .await
                .expect("due")
                .is_empty(),
            "{backend:?}"
        );
        let early = s
            .county
            .request_destruction(
                Some(std::slice::from_ref(&s.archive_id)),
                clock.as_ref(),
                YEARS,
                None,
                &Author::clerk("clerk"),
            )
            .await;
        assert_eq!(code(early), "record_not_due");
        assert_eq!(
            code(
                s.county
                    .request_destruction(None, clock.as_ref(), YEARS, None, &Author::clerk("clerk"))
                    .await
            ),
            "nothing_due"
        );

        clock.advance_ms(1);
        assert_eq!(clock.today(), s.due);
        let due = s
            .county
            .due_records(clock.today(), YEARS)
            .await
            .expect("due");
        let mut ids: Vec<&str> = due.iter().map(|record| record.id.as_str()).collect();
        ids.sort();
        let mut expected = vec![s.archive_id.as_str(), s.licence_id.as_str()];
        expected.sort();
        assert_eq!(ids, expected, "{backend:?}");
        assert!(due.iter().all(|record| record.due_on == s.due.to_string()));
        // The length comes from the configuration.
        assert!(
            s.county
                .due_records(clock.today(), 6)
                .await
                .expect("due")
                .is_empty()
        );
    }
}

#[tokio::test]
async fn destruction_needs_a_valid_approval_by_the_superior_and_leaves_only_a_certificate() {
    for backend in BACKENDS {
        let s = setup(backend).await;
        let county_clock = ManualClock::at_date(s.due);
        let province_clock = ManualClock::at_date(s.due);
        let (county_key, province_key) = (key(COUNTY), key(PROVINCE));
        let both = vec![s.archive_id.clone(), s.licence_id.clone()];

        // The request names both due records.
        let request = s
            .county
            .request_destruction(
                None,
                county_clock.as_ref(),
                YEARS,
                Some("到期"),
                &Author::clerk("clerk"),
            )
            .await
            .expect("request");
        assert_eq!(request.collection, "destructions");
        assert_eq!(request.jurisdiction, COUNTY);

        // 1. Without an approval.
        let destroy = |id: String| {
            let county = s.county.clone();
            let clock = county_clock.clone();
            let county_key = county_key.clone();
            async move {
                county
                    .destroy_approved(
                        &id,
                        &county_key,
                        clock.as_ref(),
                        YEARS,
                        &Author::approver("approver"),
                    )
                    .await
            }
        };
        assert_eq!(code(destroy(request.id.clone()).await), "not_approved");
        // Issue 17, item 3: the service, not the door, refuses a clerk's destruction (Art. 38).
        let by_clerk = s
            .county
            .destroy_approved(
                &request.id,
                &county_key,
                county_clock.as_ref(),
                YEARS,
                &Author::clerk("clerk"),
            )
            .await;
        assert_eq!(code(by_clerk), "approval_required");
        let decided_by_clerk = s
            .county
            .decide_destruction(
                &request.id,
                true,
                &county_key,
                county_clock.as_ref(),
                YEARS,
                30,
                None,
                &Author::clerk("clerk"),
            )
            .await;
        assert_eq!(code(decided_by_clerk), "approval_required");

        // Only a superior decides; the county cannot approve its own request.
        let own = s
            .county
            .decide_destruction(
                &request.id,
                true,
                &county_key,
                county_clock.as_ref(),
                YEARS,
                30,
                None,
                &Author::approver("approver"),
            )
            .await;
        assert_eq!(code(own), "not_a_superior");

        // 2. Refused.
        let refused_request = s
            .county
            .request_destruction(
                Some(std::slice::from_ref(&s.archive_id)),
                county_clock.as_ref(),
                YEARS,
                None,
                &Author::clerk("clerk"),
            )
            .await
            .expect("request");
        s.province
            .decide_destruction(
                &refused_request.id,
                false,
                &province_key,
                province_clock.as_ref(),
                YEARS,
                30,
                Some("尚需保存"),
                &Author::approver("approver"),
            )
            .await
            .expect("refuse");
        assert_eq!(
            code(destroy(refused_request.id.clone()).await),
            "approval_refused"
        );

        // The superior approves only what is due by its own clock.
        let province_late = ManualClock::at_date(day_before(s.due));
        let not_yet = s
            .province
            .decide_destruction(
                &request.id,
                true,
                &province_key,
                province_late.as_ref(),
                YEARS,
                30,
                None,
                &Author::approver("approver"),
            )
            .await;
        assert_eq!(code(not_yet), "record_not_due");

        // 3. An approval for other records: the first request approved, its approval copied
        // into another request.
        let approved = s
            .province
            .decide_destruction(
                &request.id,
                true,
                &province_key,
                province_clock.as_ref(),
                YEARS,
                30,
                None,
                &Author::approver("approver"),
            )
            .await
            .expect("approve");
        assert_eq!(approved.data["decision"], "approved");
        let approval = approved.data["approval"]
            .as_str()
            .expect("approval")
            .to_owned();
        let other = s
            .county
            .request_destruction(
                Some(std::slice::from_ref(&s.licence_id)),
                county_clock.as_ref(),
                YEARS,
                None,
                &Author::clerk("clerk"),
            )
            .await
            .expect("request");
        patch(
            &s.county,
            &other.id,
            json!({"approval": approval, "decision": "approved"}),
        )
        .await;
        assert_eq!(
            code(destroy(other.id.clone()).await),
            "approval_for_other_records"
        );

        // 4. Tampered: the signed payload edited (a later expiry), or the signature replaced by
        // the county's own (a forgery by a node that is not a superior).
        let mut signed: Value = serde_json::from_str(&approval).expect("json");
        let payload = signed["payload"].as_str().expect("payload").to_owned();
        let mut decision: Value = serde_json::from_str(&payload).expect("payload json");
        decision["expires_at_ms"] = json!(decision["expires_at_ms"].as_i64().unwrap() + 1);
        signed["payload"] = json!(decision.to_string());
        let tampered_request = s
            .county
            .request_destruction(
                None,
                county_clock.as_ref(),
                YEARS,
                None,
                &Author::clerk("clerk"),
            )
            .await
            .expect("request");
        decision["request_id"] = json!(tampered_request.id);
        signed["payload"] = json!(decision.to_string());
        patch(
            &s.county,
            &tampered_request.id,
            json!({"approval": signed.to_string(), "decision": "approved"}),
        )
        .await;
        assert_eq!(
            code(destroy(tampered_request.id.clone()).await),
            "approval_signature_invalid"
        );
        let mut forged_decision = decision.clone();
        forged_decision["approving_node"] = json!(COUNTY);
        let forged = county_key
            .sign(format!("licnode destruction decision v1\n{forged_decision}").as_bytes())
            .expect("sign");
        let mut forged_signed = signed.clone();
        forged_signed["payload"] = json!(forged_decision.to_string());
        forged_signed["signature"] = json!(hex::encode(&forged.signature));
        forged_signed["chain"] = json!([hex::encode(COUNTY)]);
        patch(
            &s.county,
            &tampered_request.id,
            json!({"approval": forged_signed.to_string()}),
        )
        .await;
        assert_eq!(
            code(destroy(tampered_request.id.clone()).await),
            "approval_not_from_a_superior"
        );
        let mut garbage = signed.clone();
        garbage["signature"] = json!("zz");
        patch(
            &s.county,
            &tampered_request.id,
            json!({"approval": garbage.to_string()}),
        )
        .await;
        assert_eq!(
            code(destroy(tampered_request.id.clone()).await),
            "approval_malformed"
        );
        // The request's own list edited after the approval.
        patch(
            &s.county,
            &request.id,
            json!({"record_ids": s.archive_id.clone()}),
        )
        .await;
        assert_eq!(
            code(destroy(request.id.clone()).await),
            "approval_for_other_records"
        );
        patch(
            &s.county,
            &request.id,
            json!({"record_ids": both.join("\n")}),
        )
        .await;

        // 5. Expired (30 days), and signed in this node's future (a clock two days behind).
        county_clock.set_date(s.due.checked_add_days(Days::new(31)).unwrap());
        assert_eq!(code(destroy(request.id.clone()).await), "approval_expired");
        county_clock.set_date(s.due.checked_sub_days(Days::new(2)).unwrap());
        assert_eq!(
            code(destroy(request.id.clone()).await),
            "approval_from_the_future"
        );
        // A clock less than a day behind: the approval is accepted but due-ness is judged on
        // the earlier date, so nothing is destroyed early.
        county_clock.set_ms(licnode_app::clock::start_of_day_ms(s.due) - 3600 * 1000);
        assert_eq!(code(destroy(request.id.clone()).await), "record_not_due");

        // Every refusal changed nothing.
        for id in &both {
            assert!(s.store.get(id).await.expect("get").is_some(), "{backend:?}");
            assert!(!s.store.is_destroyed(id).await.expect("tombstone"));
        }
        assert!(
            s.store
                .destruction_certificates()
                .await
                .expect("certificates")
                .is_empty()
        );

        // Old changes, kept to replay after the destruction.
        let mut old_changes = Vec::new();
        for id in &both {
            for row in s.store.record_changes(id).await.expect("changes") {
                old_changes.push(LoggedChange {
                    record_id: row.record_id,
                    collection: row.collection,
                    jurisdiction: row.jurisdiction,
                    author_user: row.author_user,
                    at_ms: row.at_ms,
                    origin: PROVINCE.into(),
                    bytes: row.bytes,
                    ..LoggedChange::default()
                });
            }
        }
        assert!(!old_changes.is_empty());

        // 6. Valid.
        county_clock.set_date(s.due);
        let certificate = destroy(request.id.clone()).await.expect("destroy");
        assert_eq!(certificate.request_id, request.id);
        assert_eq!(certificate.approving_node, PROVINCE);
        assert_eq!(certificate.approver, "approver");
        assert_eq!(certificate.destroyed_by, "approver");
        let mut destroyed: Vec<String> = certificate.records.iter().map(|r| r.id.clone()).collect();
        destroyed.sort();
        let mut expected = both.clone();
        expected.sort();
        assert_eq!(destroyed, expected);
        assert!(certificate.records.iter().all(|r| r.changes >= 1));

        for id in &both {
            assert!(s.store.get(id).await.expect("get").is_none(), "{backend:?}");
            assert!(s.store.document(id).await.expect("doc").is_none());
            assert!(
                s.store
                    .record_changes(id)
                    .await
                    .expect("changes")
                    .is_empty()
            );
            assert!(s.store.is_destroyed(id).await.expect("tombstone"));
        }
        let search = s
            .store
            .search(&SearchQuery {
                name: Some("恒远".into()),
                limit: 20,
                ..SearchQuery::default()
            })
            .await
            .expect("search");
        assert!(search.items.is_empty(), "{backend:?}: {:?}", search.items);
        let mut public = PublicQuery::new(licnode_model::collection("licences").unwrap(), 20);
        public.name = Some("恒远".into());
        assert!(
            s.store
                .public_records(&public)
                .await
                .expect("public")
                .rows
                .is_empty(),
            "{backend:?}"
        );
        assert!(
            s.county
                .due_records(county_clock.today(), YEARS)
                .await
                .expect("due")
                .is_empty()
        );
        let kept = s.store.destruction_certificates().await.expect("list");
        assert_eq!(kept, vec![certificate.clone()]);
        // The audit log records each destruction, and its chain is intact.
        let mut audited: Vec<String> = s
            .store
            .audit_entries(0, 10_000)
            .await
            .expect("audit")
            .into_iter()
            .filter(|entry| entry.kind == licnode_store::AuditKind::Destruction)
            .filter_map(|entry| entry.record_id)
            .collect();
        audited.sort();
        assert_eq!(audited, expected, "{backend:?}");
        assert!(s.store.audit_verify().await.expect("verify").is_clean());
        // The request notes it was carried out (and travels up with that).
        let noted = s.store.get(&request.id).await.expect("get").expect("kept");
        assert!(noted.data.contains_key("destroyed_at"));

        // No resurrection: the old changes delivered again are dropped.
        let outcome = s.store.apply_remote(&old_changes).await.expect("apply");
        assert!(outcome.applied.is_empty(), "{backend:?}");
        assert_eq!(outcome.duplicates, old_changes.len());
        for id in &both {
            assert!(s.store.get(id).await.expect("get").is_none());
        }
        // The same through a sync batch (the path offline bundles take too): dropped, and not
        // quarantined either, since the quarantine would keep the destroyed bytes.
        let batch = licnode_app::replication::ReceivedBatch {
            cursor_move: Default::default(),
            peer: PROVINCE.into(),
            stream: licnode_store::SyncStream::Pull,
            cursor: 1_000,
            changes: old_changes.clone(),
        };
        let outcome = licnode_app::replication::store_batch(&s.store, batch, |_, _| Ok(()))
            .await
            .expect("batch");
        assert!(outcome.applied.is_empty() && outcome.refused.is_empty());
        assert_eq!(s.store.quarantine_count().await.expect("quarantine"), 0);
        for id in &both {
            assert!(s.store.get(id).await.expect("get").is_none(), "{backend:?}");
        }
        // Carrying it out twice is refused.
        assert_eq!(code(destroy(request.id.clone()).await), "already_destroyed");
        // A new request cannot name a destroyed record.
        assert_eq!(
            code(
                s.county
                    .request_destruction(
                        Some(std::slice::from_ref(&s.archive_id)),
                        county_clock.as_ref(),
                        YEARS,
                        None,
                        &Author::clerk("clerk"),
                    )
                    .await
            ),
            "record_unknown"
        );
    }
}

async fn patch(archive: &Archive, id: &str, values: Value) {
    archive
        .update(
            id,
            values.as_object().expect("object"),
            &Author::clerk("clerk"),
        )
        .await
        .expect("patch");
}
