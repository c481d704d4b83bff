//! Review departments and inspection bodies in the tree, end to end over the replication
//! engine's in-memory transport (issue 13 item 5; issue 16): what they file reaches the national
//! node, what is addressed to a review department reaches that department and no other
//! (Art. 22, 23), a body's record that reaches bureaus is edited by the body only, a review plan
//! is filed before its review starts (Art. 21), and an inspection result's 5-day clock is met by
//! its arrival, as the receiving node records it (Art. 23).

use licnode_app::replication::run_session;
use licnode_app::replication::transport::InMemory;
use licnode_app::{Archive, Author, Clock, SystemClock};
use licnode_model::Level;
use licnode_model::date::CalendarDate;
use licnode_model::deadlines::{DeadlineItem, DeadlineState, add_days};
use licnode_store::Store;
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Map, Value, json};

/// National, Zhejiang, two review departments and an inspection body, each its own database.
struct Tree {
    national: Archive,
    zhejiang: Archive,
    department: Archive,
    other_department: Archive,
    inspection_body: Archive,
    _databases: Vec<TestDatabase>,
    _dir: tempfile::TempDir,
}

async fn tree(backend: Backend) -> Tree {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let mut databases = Vec::new();
    let mut open = async |code: &str, level: Level| {
        let path = dir.path().join(code);
        std::fs::create_dir_all(&path).expect("dir");
        let (url, database) = licnode_testkit::database_url(backend, &path)
            .await
            .expect("database");
        databases.extend(database);
        Archive::with_level(Store::open(&url).await.expect("open"), code, level)
    };
    let national = open("100000", Level::National).await;
    let zhejiang = open("330000", Level::Province).await;
    let department = open("RD0001", Level::ReviewDepartment).await;
    let other_department = open("RD0002", Level::ReviewDepartment).await;
    let inspection_body = open("IB0001", Level::InspectionBody).await;
    Tree {
        national,
        zhejiang,
        department,
        other_department,
        inspection_body,
        _databases: databases,
        _dir: dir,
    }
}

impl Tree {
    /// One session of every child with the national node, in the order given.
    async fn sync(&self, children: &[&Archive]) {
        for child in children {
            let mut transport = InMemory {
                parent: self.national.clone(),
                child: child.scope.node_ref(),
            };
            run_session(child, &mut transport, &|_| {})
                .await
                .expect("session");
        }
    }

    /// Two rounds: what one child pushes reaches the others in the second.
    async fn sync_all(&self) {
        for _ in 0..2 {
            self.sync(&[
                &self.zhejiang,
                &self.department,
                &self.other_department,
                &self.inspection_body,
            ])
            .await;
        }
    }
}

/// A generated record of `collection` about an enterprise in Xihu, with `fields` over it,
/// written at `archive` for `jurisdiction`.
async fn create(
    archive: &Archive,
    collection: &str,
    jurisdiction: &str,
    fields: Value,
    seed: u64,
) -> String {
    let model = licnode_model::collection(collection).expect("collection");
    let mut input = licnode_gen::Generator::new(seed).record(model, "330106");
    input.extend(fields.as_object().expect("fields").clone());
    archive
        .create(
            collection,
            Some(jurisdiction),
            &input,
            &Author::clerk("clerk"),
        )
        .await
        .expect("create")
        .record
        .id
}

fn patch(fields: Value) -> Map<String, Value> {
    fields.as_object().expect("fields").clone()
}

async fn field(archive: &Archive, id: &str, name: &str) -> Value {
    archive.get(id).await.expect("held").data[name].clone()
}

async fn holds(archive: &Archive, id: &str) -> bool {
    archive.find(id).await.expect("find").is_some()
}

fn today() -> CalendarDate {
    let date = SystemClock.today().format("%Y-%m-%d").to_string();
    CalendarDate::parse(&date).expect("today")
}

fn day(offset: i64) -> String {
    add_days(today(), offset).expect("date").to_string()
}

async fn deadlines(archive: &Archive, rule: &str) -> Vec<DeadlineItem> {
    let mut query = archive.deadline_query(&SystemClock);
    query.rule = licnode_model::deadlines::rule(rule);
    archive.deadlines(&query).await.expect("deadlines")
}

fn item<'a>(items: &'a [DeadlineItem], id: &str) -> Option<&'a DeadlineItem> {
    items
        .iter()
        .find(|item| item.record_id.as_deref() == Some(id))
}

#[tokio::test]
async fn a_provinces_site_verification_reaches_the_review_department_that_summarises_it_only() {
    for backend in BACKENDS {
        let tree = tree(backend).await;
        // Art. 22: 由省级质量技术监督局组织审查，审查部汇总的，…向审查部报送实地核查信息.
        let summarised = create(
            &tree.zhejiang,
            "site_verifications",
            "RD0001",
            json!({"conclusion": "pass"}),
            1,
        )
        .await;
        let own = create(&tree.zhejiang, "site_verifications", "330106", json!({}), 2).await;
        tree.sync_all().await;
        assert!(holds(&tree.national, &summarised).await, "{backend}");
        assert!(holds(&tree.department, &summarised).await, "{backend}");
        assert!(
            !holds(&tree.other_department, &summarised).await,
            "{backend}"
        );
        assert!(
            !holds(&tree.inspection_body, &summarised).await,
            "{backend}"
        );
        assert!(!holds(&tree.department, &own).await, "{backend}");

        // The province corrects its results: the correction follows them to the department.
        tree.zhejiang
            .update(
                &summarised,
                &patch(json!({"conclusion": "pass_after_rectification"})),
                &Author::clerk("clerk"),
            )
            .await
            .expect("edit");
        tree.sync_all().await;
        assert_eq!(
            field(&tree.department, &summarised, "conclusion").await,
            json!("pass_after_rectification"),
            "{backend}"
        );
        // The department summarises; it does not rewrite the province's results.
        let refused = tree
            .department
            .update(
                &summarised,
                &patch(json!({"conclusion": "fail"})),
                &Author::clerk("clerk"),
            )
            .await
            .expect_err("the province's results");
        assert_eq!(refused.code(), "outside_jurisdiction", "{backend}");
    }
}

#[tokio::test]
async fn an_inspection_result_reaches_its_organiser_and_its_clock_is_met_by_its_arrival_there() {
    for backend in BACKENDS {
        let tree = tree(backend).await;
        // Art. 23: 检验机构在完成产品检验后5日内向审查组织单位报送产品检验信息. A national
        // review's results go to the department that organised it, a provincial review's to the
        // enterprise's province.
        let dated = |completed: i64| {
            json!({"sampling_date": day(completed - 1), "completion_date": day(completed),
                   "reported_date": day(completed)})
        };
        let late = create(
            &tree.inspection_body,
            "inspections",
            "RD0001",
            dated(-10),
            3,
        )
        .await;
        let on_time = create(&tree.inspection_body, "inspections", "RD0001", dated(-1), 4).await;
        let provincial = create(&tree.inspection_body, "inspections", "330106", dated(-2), 5).await;

        // At the body, before anything left: the typed 报送日期 fulfils nothing.
        let owed = deadlines(&tree.inspection_body, "inspection_result").await;
        let late_item = item(&owed, &late).expect("owed");
        assert_eq!(
            (late_item.state, late_item.days_late),
            (DeadlineState::Late, 5),
            "{backend}"
        );
        assert_eq!(item(&owed, &on_time).expect("owed").days_left, 4);

        tree.sync_all().await;
        assert!(
            deadlines(&tree.inspection_body, "inspection_result")
                .await
                .is_empty(),
            "{backend}: the national node acknowledged every result"
        );
        assert!(holds(&tree.department, &late).await && holds(&tree.department, &on_time).await);
        assert!(!holds(&tree.other_department, &late).await, "{backend}");
        assert!(!holds(&tree.zhejiang, &late).await, "{backend}");
        assert!(holds(&tree.zhejiang, &provincial).await, "{backend}");
        assert!(!holds(&tree.department, &provincial).await, "{backend}");

        // At the organiser the arrival decides: today, five days after the first was due.
        let arrived = deadlines(&tree.department, "inspection_result").await;
        let late_item = item(&arrived, &late).expect("arrived late");
        assert_eq!(
            (
                late_item.state,
                late_item.days_late,
                late_item.due_date.clone()
            ),
            (DeadlineState::Late, 5, day(-5)),
            "{backend}"
        );
        assert!(item(&arrived, &on_time).is_none(), "{backend}: {arrived:?}");
        assert!(
            deadlines(&tree.zhejiang, "inspection_result")
                .await
                .is_empty(),
            "{backend}: arrived within its five days"
        );
    }
}

#[tokio::test]
async fn a_review_departments_notice_reaches_the_province_and_only_the_department_edits_it() {
    for backend in BACKENDS {
        let tree = tree(backend).await;
        // Art. 25: 审查中发现的问题 … 通报 the province concerned, through the national node.
        let notice = create(
            &tree.department,
            "notices",
            "330000",
            json!({"notice_kind": "review_problem"}),
            6,
        )
        .await;
        tree.sync_all().await;
        assert!(holds(&tree.zhejiang, &notice).await, "{backend}");
        // An edit at national or at the province would never reach the department (issue 16).
        for editor in [&tree.national, &tree.zhejiang] {
            let refused = editor
                .update(
                    &notice,
                    &patch(json!({"status": "handled"})),
                    &Author::clerk("clerk"),
                )
                .await
                .expect_err("the department's notice");
            assert_eq!(refused.code(), "read_only_copy", "{backend}");
        }
        tree.department
            .update(
                &notice,
                &patch(json!({"status": "received"})),
                &Author::clerk("clerk"),
            )
            .await
            .expect("the department edits its notice");
        tree.sync_all().await;
        for holder in [&tree.national, &tree.zhejiang, &tree.department] {
            assert_eq!(
                field(holder, &notice, "status").await,
                json!("received"),
                "{backend}"
            );
        }
    }
}

#[tokio::test]
async fn a_review_plan_lists_several_enterprises_and_is_filed_before_its_review_starts() {
    for backend in BACKENDS {
        let tree = tree(backend).await;
        let enterprise = |name: &str, offset: i64| {
            json!({"enterprise_name": name, "production_address": "杭州市西湖区文三路1号",
                   "contact_person": "王经理", "contact_phone": "0571-88001234",
                   "application_units": "电线电缆", "planned_review_date": day(offset)})
        };
        // Attachment 2: one plan, several enterprises; not filed yet, its review in 3 days.
        let plan = create(
            &tree.department,
            "review_plans",
            "330106",
            json!({"planned_review_date": day(3), "acceptance_date": day(-20),
                   "filing_date": null,
                   "further_enterprises": [enterprise("杭州甲电缆有限公司", 4),
                                           enterprise("杭州乙电缆有限公司", 5)]}),
            7,
        )
        .await;
        // Filed only on the day its review began, two days ago: late by a day.
        let filed_late = create(
            &tree.department,
            "review_plans",
            "330106",
            json!({"planned_review_date": day(-2), "acceptance_date": day(-20),
                   "filing_date": day(-2)}),
            8,
        )
        .await;

        // Art. 21: 在实施审查前…备案 — due the day before the review.
        let owed = deadlines(&tree.department, "review_plan_filing").await;
        let open = item(&owed, &plan).expect("not filed");
        assert_eq!(
            (open.state, open.days_left, open.due_date.clone()),
            (DeadlineState::Due, 2, day(2)),
            "{backend}"
        );
        let late = item(&owed, &filed_late).expect("filed late");
        assert_eq!((late.state, late.days_late), (DeadlineState::Late, 1));

        tree.department
            .update(
                &plan,
                &patch(json!({"filing_date": day(0)})),
                &Author::clerk("clerk"),
            )
            .await
            .expect("filed");
        assert!(
            item(
                &deadlines(&tree.department, "review_plan_filing").await,
                &plan
            )
            .is_none(),
            "{backend}: filed before the review"
        );
        tree.sync_all().await;
        let rows = field(&tree.national, &plan, "further_enterprises").await;
        assert_eq!(rows.as_array().map(Vec::len), Some(2), "{backend}: {rows}");
        assert_eq!(rows[1]["enterprise_name"], json!("杭州乙电缆有限公司"));
        assert!(!holds(&tree.zhejiang, &plan).await, "{backend}");
        assert!(!holds(&tree.other_department, &plan).await, "{backend}");
    }
}

#[tokio::test]
async fn an_inspection_body_files_its_change_the_province_adds_its_opinion_and_national_holds_both()
{
    for backend in BACKENDS {
        let tree = tree(backend).await;
        // Art. 26, Attachment 3: filed from the body's own node, for its provincial bureau.
        let filing = create(
            &tree.inspection_body,
            "inspection_body_filings",
            "330000",
            json!({"body_name": "浙江省电线电缆检验所", "filing_date": day(0),
                   "changes": [{"changed_item": "address", "value_before": "杭州市文三路1号",
                                "value_after": "杭州市文一路9号"}],
                   "body_opinion": "情况属实，申请备案。"}),
            9,
        )
        .await;
        tree.sync_all().await;
        assert!(holds(&tree.national, &filing).await, "{backend}");
        assert!(holds(&tree.zhejiang, &filing).await, "{backend}");
        assert!(!holds(&tree.department, &filing).await, "{backend}");

        // The province answers with its opinion, addressed to the body; its edit of the body's
        // filing would never reach the body and is refused.
        let refused = tree
            .zhejiang
            .update(
                &filing,
                &patch(json!({"provincial_opinion": "同意。"})),
                &Author::clerk("clerk"),
            )
            .await
            .expect_err("the body's filing");
        assert_eq!(refused.code(), "read_only_copy", "{backend}");
        let opinion = tree
            .zhejiang
            .create(
                "inspection_body_filings",
                Some("IB0001"),
                &patch(
                    json!({"body_name": "浙江省电线电缆检验所", "filing": filing,
                              "provincial_opinion": "同意备案。", "opinion_date": day(0)}),
                ),
                &Author::clerk("clerk"),
            )
            .await
            .expect("opinion")
            .record
            .id;
        tree.sync_all().await;
        // The filing, with the province's opinion, has reached the national centre (Art. 31
        // then updates the registry); the body sees the opinion.
        assert_eq!(
            field(&tree.national, &opinion, "filing").await,
            json!(filing),
            "{backend}"
        );
        assert_eq!(
            field(&tree.inspection_body, &opinion, "provincial_opinion").await,
            json!("同意备案。"),
            "{backend}"
        );
        assert!(!holds(&tree.department, &opinion).await, "{backend}");

        // The national centre prints the filing as Attachment 3: the changed item before and
        // after, the body's opinion and the province's, each over its signature line.
        let (_, sheets) = tree
            .national
            .official_form(
                licnode_reports::FormName::Attachment3,
                &filing,
                None,
                licnode_reports::FillDate::Report,
            )
            .await
            .expect("attachment 3 of the filing");
        let csv = String::from_utf8(licnode_reports::to_csv(&sheets).expect("csv")).expect("utf-8");
        for printed in [
            "浙江省电线电缆检验所",
            "杭州市文三路1号",
            "杭州市文一路9号",
            "情况属实，申请备案。",
            "同意备案。",
            "负责人签字",
        ] {
            assert!(csv.contains(printed), "{backend}: {printed} in {csv}");
        }
        // The province's answer is no filing of its own.
        let answer = tree
            .national
            .official_form(
                licnode_reports::FormName::Attachment3,
                &opinion,
                None,
                licnode_reports::FillDate::Report,
            )
            .await;
        assert!(
            matches!(
                answer,
                Err(licnode_app::official_forms::OfficialFormError::NotFound { .. })
            ),
            "{backend}: {answer:?}"
        );
    }
}
