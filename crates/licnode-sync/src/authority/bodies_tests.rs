//! What the authority table sends to review departments and inspection bodies, and what they
//! may edit (issue 13 item 5, issue 16: every node that holds a record receives every later edit
//! of it, or cannot edit it).

use super::*;
use licnode_model::Level::{InspectionBody, Province, ReviewDepartment};

fn national() -> NodeRef {
    NodeRef::national()
}

fn zhejiang() -> NodeRef {
    NodeRef::new("330000", Province)
}

fn review_department() -> NodeRef {
    NodeRef::new("RD0001", ReviewDepartment)
}

fn other_review_department() -> NodeRef {
    NodeRef::new("RD0002", ReviewDepartment)
}

fn inspection_body() -> NodeRef {
    NodeRef::new("IB0001", InspectionBody)
}

/// Whether `national` sends `author`'s change of `collection` for `jurisdiction` down to `body`.
fn national_sends(body: &NodeRef, collection: &str, jurisdiction: &str, author: &NodeRef) -> bool {
    decide(
        &national(),
        body,
        Link::Child,
        Flow::Send,
        collection,
        jurisdiction,
        author,
    )
    .is_allowed()
}

#[test]
fn a_provinces_site_verification_addressed_to_a_review_department_reaches_that_department_only() {
    // Art. 22: 由省级质量技术监督局组织审查，审查部汇总的，…向审查部报送实地核查信息.
    assert!(may_author(&zhejiang(), "site_verifications", "RD0001").is_allowed());
    let up = decide(
        &zhejiang(),
        &national(),
        Link::Parent,
        Flow::Send,
        "site_verifications",
        "RD0001",
        &zhejiang(),
    );
    assert!(up.is_allowed(), "{up:?}");
    assert!(national_sends(
        &review_department(),
        "site_verifications",
        "RD0001",
        &zhejiang()
    ));
    assert!(!national_sends(
        &other_review_department(),
        "site_verifications",
        "RD0001",
        &zhejiang()
    ));
    assert!(!national_sends(
        &inspection_body(),
        "site_verifications",
        "RD0001",
        &zhejiang()
    ));
    // A province's own verifications (of its territory) stay with it and the national node.
    assert!(!national_sends(
        &review_department(),
        "site_verifications",
        "330106",
        &zhejiang()
    ));
    assert!(
        collections_for(&national(), &review_department(), Link::Child, Flow::Send)
            .contains(&"site_verifications")
    );
}

#[test]
fn an_inspection_result_of_a_national_review_reaches_the_organising_review_department_only() {
    // Art. 23: 检验机构…向审查组织单位报送产品检验信息.
    assert!(may_author(&inspection_body(), "inspections", "RD0001").is_allowed());
    assert!(national_sends(
        &review_department(),
        "inspections",
        "RD0001",
        &inspection_body()
    ));
    assert!(!national_sends(
        &other_review_department(),
        "inspections",
        "RD0001",
        &inspection_body()
    ));
    let to_province = decide(
        &national(),
        &zhejiang(),
        Link::Child,
        Flow::Send,
        "inspections",
        "RD0001",
        &inspection_body(),
    );
    assert_eq!(to_province.code(), Some("not_addressed_to_peer"));
    // A provincial review's results go to the enterprise's province, never to a department.
    assert!(!national_sends(
        &review_department(),
        "inspections",
        "330106",
        &inspection_body()
    ));
}

#[test]
fn a_record_is_addressed_only_to_a_body_its_collection_allows_and_never_by_that_body_to_itself() {
    assert_eq!(
        may_author(&zhejiang(), "notices", "RD0001").code(),
        Some("unknown_jurisdiction")
    );
    assert_eq!(
        may_author(&zhejiang(), "site_verifications", "IB0001").code(),
        Some("unknown_jurisdiction")
    );
    assert_eq!(
        may_author(&review_department(), "site_verifications", "RD0001").code(),
        Some("outside_jurisdiction")
    );
    assert_eq!(
        may_author(&inspection_body(), "destructions", "RD0001").code(),
        Some("unknown_jurisdiction")
    );
    // A body's code that names no body is no jurisdiction at all.
    assert_eq!(
        may_author(&zhejiang(), "site_verifications", "RDx").code(),
        Some("unknown_jurisdiction")
    );
}

#[test]
fn a_review_departments_notice_is_edited_by_that_department_only() {
    // Art. 25: the notice goes to the province concerned through the national node; an edit made
    // there would never come back to the department (issue 16, seed 1735665728981595).
    let department = review_department();
    assert!(!edit_reaches_creator(
        &national(),
        &department,
        "notices",
        "330106"
    ));
    assert!(!edit_reaches_creator(
        &zhejiang(),
        &department,
        "notices",
        "330106"
    ));
    assert!(edit_reaches_creator(
        &department,
        &department,
        "notices",
        "330106"
    ));
    // An inspection result for a provincial review: the body's alone too.
    assert!(!edit_reaches_creator(
        &national(),
        &inspection_body(),
        "inspections",
        "330106"
    ));
}

#[test]
fn the_national_decision_on_a_bodys_destruction_request_reaches_the_body() {
    // Art. 38: the superior decides in the request itself; the decision goes back down.
    assert!(edit_reaches_creator(
        &national(),
        &inspection_body(),
        "destructions",
        "100000"
    ));
}

#[test]
fn a_bureaus_records_reach_every_bureau_that_may_edit_them() {
    assert!(edit_reaches_creator(
        &national(),
        &zhejiang(),
        "applications",
        "330106"
    ));
}

#[test]
fn an_inspection_bodys_change_filing_reaches_its_province_and_the_opinion_comes_back_to_the_body() {
    // Art. 26: 检验机构信息发生变更时，要及时向全国许可证审查中心备案（见附件3）, with the
    // provincial bureau's opinion.
    let body = inspection_body();
    assert!(may_author(&body, "inspection_body_filings", "330000").is_allowed());
    let to_zhejiang = decide(
        &national(),
        &zhejiang(),
        Link::Child,
        Flow::Send,
        "inspection_body_filings",
        "330000",
        &body,
    );
    assert!(to_zhejiang.is_allowed(), "{to_zhejiang:?}");
    assert!(!national_sends(
        &review_department(),
        "inspection_body_filings",
        "330000",
        &body
    ));
    // The opinion, addressed to the body, reaches it and no other body.
    assert!(may_author(&zhejiang(), "inspection_body_filings", "IB0001").is_allowed());
    assert!(national_sends(
        &body,
        "inspection_body_filings",
        "IB0001",
        &zhejiang()
    ));
    assert!(!national_sends(
        &NodeRef::new("IB0002", InspectionBody),
        "inspection_body_filings",
        "IB0001",
        &zhejiang()
    ));
    // A body does not address another body of its kind; the filing is not edited elsewhere.
    assert_eq!(
        may_author(&body, "inspection_body_filings", "IB0002").code(),
        Some("outside_jurisdiction")
    );
    assert!(!edit_reaches_creator(
        &zhejiang(),
        &body,
        "inspection_body_filings",
        "330000"
    ));
}
