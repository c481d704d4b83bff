//! Destruction where the superior is the national node (Art. 37, 38). The national node has no
//! superior, so a second approver designated for that decides its own requests — never the one
//! who made the request, never an approver who is not designated — and the decision is recorded
//! and checked the same way as a superior's (signed into the request, verified again before
//! anything is destroyed). A review department or inspection body asks the national node, as a
//! bureau asks its parent. Both backends.

use chrono::{Days, NaiveDate};
use licnode_app::{Archive, Author, Clock as _, ManualClock};
use licnode_store::retention::{NodeKey, Signature};
use licnode_store::{LoggedChange, Store};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const YEARS: u32 = 5;
const NATIONAL: &str = "100000";

async fn open(backend: Backend, dir: &std::path::Path) -> (Store, Option<TestDatabase>) {
    std::fs::create_dir_all(dir).expect("test directory");
    let (url, database) = licnode_testkit::database_url(backend, dir)
        .await
        .expect("test database");
    (Store::open(&url).await.expect("open store"), database)
}

/// The national node's key: it signs with a secret only it knows; verifying looks the signer's
/// secret up by the code its "chain" names. Any other signer is refused.
struct NationalKey;

fn mac(message: &[u8]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(b"national secret");
    hasher.update(message);
    hasher.finalize().to_vec()
}

impl NodeKey for NationalKey {
    fn sign(&self, message: &[u8]) -> Result<Signature, String> {
        Ok(Signature {
            scheme: 0x0807,
            signature: mac(message),
            chain: vec![NATIONAL.as_bytes().to_vec()],
        })
    }

    fn verify(
        &self,
        chain: &[Vec<u8>],
        message: &[u8],
        _scheme: u16,
        signature: &[u8],
    ) -> Result<String, (String, String)> {
        match chain.first().map(Vec::as_slice) {
            Some(leaf) if leaf == NATIONAL.as_bytes() && mac(message) == signature => {
                Ok(NATIONAL.to_owned())
            }
            _ => Err(("bad_signature".to_owned(), String::new())),
        }
    }
}

fn code<T: std::fmt::Debug>(result: Result<T, licnode_app::retention::RetentionError>) -> String {
    match result {
        Ok(value) => panic!("expected a refusal, got {value:?}"),
        Err(error) => error.code().to_owned(),
    }
}

/// A nationally issued licence that expires 40 days from now, and the day its five years end.
async fn expiring_licence(national: &Archive) -> (String, NaiveDate) {
    let model = licnode_model::collection("licences").expect("collection");
    let mut input = licnode_gen::Generator::new(8).record(model, "330106");
    let start = licnode_app::SystemClock
        .today()
        .checked_add_days(Days::new(40))
        .expect("date");
    input.insert("valid_until".into(), json!(start.to_string()));
    input.insert("status".into(), json!("valid"));
    let id = national
        .create(
            "licences",
            Some("330106"),
            &input,
            &Author::approver("wang"),
        )
        .await
        .expect("licence")
        .record
        .id;
    let due = start
        .checked_add_months(chrono::Months::new(12 * YEARS))
        .expect("date");
    (id, due)
}

#[tokio::test]
async fn a_national_destruction_needs_a_second_designated_approver_recorded_like_a_superiors() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let undesignated = Archive::new(store.clone(), NATIONAL);
        let national = Archive::new(store.clone(), NATIONAL)
            .with_destruction_approvers(vec!["wang".into(), "li".into()]);
        let (licence, due) = expiring_licence(&national).await;
        let clock = ManualClock::at_date(due);
        let ids = [licence.clone()];

        // Nobody designated: the national node has no one to ask.
        let without = undesignated
            .request_destruction(
                Some(&ids),
                clock.as_ref(),
                YEARS,
                None,
                &Author::approver("wang"),
            )
            .await;
        assert_eq!(code(without), "no_superior", "{backend:?}");

        let request = national
            .request_destruction(
                Some(&ids),
                clock.as_ref(),
                YEARS,
                None,
                &Author::approver("wang"),
            )
            .await
            .expect("request")
            .id;
        let decide = |archive: &Archive, user: &'static str| {
            let archive = archive.clone();
            let request = request.clone();
            let clock = clock.clone();
            async move {
                archive
                    .decide_destruction(
                        &request,
                        true,
                        &NationalKey,
                        clock.as_ref(),
                        YEARS,
                        30,
                        None,
                        &Author::approver(user),
                    )
                    .await
            }
        };
        // Not designated; the requester himself: refused, and the request stays pending.
        assert_eq!(
            code(decide(&national, "zhang").await),
            "not_a_designated_approver"
        );
        assert_eq!(
            code(decide(&national, "wang").await),
            "approver_is_requester"
        );
        let pending = national.get(&request).await.expect("request");
        assert_eq!(pending.data["decision"], json!("pending"));
        assert!(!pending.data.contains_key("approval"));

        // The second designated approver decides; the decision is recorded as a superior's.
        let decided = decide(&national, "li").await.expect("approved");
        assert_eq!(decided.data["decision"], json!("approved"));
        assert_eq!(decided.data["approving_node"], json!(NATIONAL));
        assert_eq!(decided.data["approver"], json!("li"));
        let approval: Value =
            serde_json::from_str(decided.data["approval"].as_str().expect("approval"))
                .expect("signed decision");
        let payload: Value =
            serde_json::from_str(approval["payload"].as_str().expect("payload")).expect("payload");
        assert_eq!(payload["approver"], json!("li"));
        assert_eq!(payload["requesting_node"], json!(NATIONAL));

        // Carried out only while the approver is still designated: checked again on destroy.
        let li_withdrawn =
            Archive::new(store.clone(), NATIONAL).with_destruction_approvers(vec!["wang".into()]);
        let refused = li_withdrawn
            .destroy_approved(
                &request,
                &NationalKey,
                clock.as_ref(),
                YEARS,
                &Author::approver("wang"),
            )
            .await;
        assert_eq!(code(refused), "not_a_designated_approver");
        assert!(national.find(&licence).await.expect("find").is_some());

        let certificate = national
            .destroy_approved(
                &request,
                &NationalKey,
                clock.as_ref(),
                YEARS,
                &Author::approver("wang"),
            )
            .await
            .expect("destroyed");
        assert_eq!(certificate.approver, "li");
        assert_eq!(certificate.approving_node, NATIONAL);
        let destroyed: Vec<&str> = certificate.records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(destroyed, vec![licence.as_str()]);
        assert!(
            national.find(&licence).await.expect("find").is_none(),
            "{backend:?}"
        );
        store.close().await;
    }
}

/// Copies every change `from` has after `cursor` into `to`, as replication does; returns the
/// new cursor. The authority table lets each of these changes cross the link
/// (`licnode-sync`'s matrix: destructions between national and a review department).
async fn ship(from: &Store, to: &Store, origin: &str, cursor: i64) -> i64 {
    let rows = from
        .changes_after(cursor, None, 10_000)
        .await
        .expect("changes");
    let last = rows.last().map_or(cursor, |row| row.seq);
    let remote: Vec<LoggedChange> = rows
        .into_iter()
        .map(|row| LoggedChange {
            record_id: row.record_id,
            collection: row.collection,
            jurisdiction: row.jurisdiction,
            author_user: row.author_user,
            at_ms: row.at_ms,
            origin: origin.to_string(),
            bytes: row.bytes,
            ..LoggedChange::default()
        })
        .collect();
    let outcome = to.apply_remote(&remote).await.expect("apply");
    assert!(outcome.refused.is_empty(), "refused: {:?}", outcome.refused);
    last
}

#[tokio::test]
async fn a_review_department_asks_the_national_node_to_approve_a_destruction_and_carries_it_out() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (department_store, _db1) = open(backend, &dir.path().join("department")).await;
        let (national_store, _db2) = open(backend, &dir.path().join("national")).await;
        let department = Archive::with_level(
            department_store.clone(),
            "RD0001",
            licnode_model::Level::ReviewDepartment,
        );
        let national = Archive::new(national_store.clone(), NATIONAL);
        // A review plan the department keeps (Art. 7, 21), planned 40 days from now.
        let model = licnode_model::collection("review_plans").expect("collection");
        let mut plan = licnode_gen::Generator::new(21).record(model, "330106");
        let start = licnode_app::SystemClock
            .today()
            .checked_add_days(Days::new(40))
            .expect("date");
        for field in ["plan_date", "acceptance_date", "planned_review_date"] {
            plan.insert(field.into(), json!(start.to_string()));
        }
        let plan_id = department
            .create(
                "review_plans",
                Some("330106"),
                &plan,
                &Author::clerk("clerk"),
            )
            .await
            .expect("plan")
            .record
            .id;
        let due = start
            .checked_add_months(chrono::Months::new(12 * YEARS))
            .expect("date");
        let clock = ManualClock::at_date(due);

        // The request carries the national division and goes up to the national node.
        let request = department
            .request_destruction(None, clock.as_ref(), YEARS, None, &Author::clerk("clerk"))
            .await
            .expect("request");
        assert_eq!(request.jurisdiction, NATIONAL, "{backend:?}");
        assert_eq!(request.data["requesting_node"], json!("RD0001"));
        ship(&department_store, &national_store, "RD0001", 0).await;

        // National is the department's superior: its approver decides, signed by its key.
        national
            .decide_destruction(
                &request.id,
                true,
                &NationalKey,
                clock.as_ref(),
                YEARS,
                30,
                None,
                &Author::approver("li"),
            )
            .await
            .expect("approved at national");
        // A province is not the department's superior.
        let province = Archive::new(national_store.clone(), "330000");
        let not_superior = province
            .decide_destruction(
                &request.id,
                true,
                &NationalKey,
                clock.as_ref(),
                YEARS,
                30,
                None,
                &Author::approver("zhao"),
            )
            .await;
        assert_eq!(code(not_superior), "not_a_superior");

        // The decision comes back down; the department destroys the plan.
        ship(&national_store, &department_store, NATIONAL, 0).await;
        let certificate = department
            .destroy_approved(
                &request.id,
                &NationalKey,
                clock.as_ref(),
                YEARS,
                &Author::approver("wang"),
            )
            .await
            .expect("destroyed");
        assert_eq!(certificate.approving_node, NATIONAL);
        assert_eq!(certificate.node, "RD0001");
        assert!(
            department.find(&plan_id).await.expect("find").is_none(),
            "{backend:?}"
        );
        department_store.close().await;
        national_store.close().await;
    }
}
