//! The collections the regulation asks for (Chapter 2: sixteen; Chapter 6: the approvals of
//! destructions, Art. 38; Chapter 3: inspection bodies' change filings, Art. 26), with their fields and how each field is classified (Chapter 5).
//!
//! Classification follows the articles that say what is published: the licence list (Art. 27),
//! the cancellation list (Art. 28), registered reviewers (Art. 30), the contacts of review
//! departments and inspection bodies (Art. 31, 35), laws, the catalogue, implementation rules and
//! each accepting office's guide (Art. 33, 34). What an enterprise's production conditions,
//! processes, raw inspection data and finances reveal is its business or technical secret
//! (Art. 36) and is `Secret`, as are people's identity numbers, home contacts and complaints'
//! contents. Everything else is `Internal`.

use crate::level::Level::{
    County, InspectionBody, National, Prefecture, Province, ReviewDepartment,
};
use crate::schema::{
    Classification::{self, Internal, Public, Secret},
    Collection, Direction, EnumValue, Field, FieldType as T,
};
use crate::status::{EVENT_KIND_VALUES, LICENCE_STATUS_VALUES};

const REQUIRED: bool = true;
const OPTIONAL: bool = false;

const fn field(
    name: &'static str,
    label_zh: &'static str,
    field_type: T,
    required: bool,
    classification: Classification,
) -> Field {
    Field {
        name,
        label_zh,
        field_type,
        required,
        classification,
    }
}

const fn value(value: &'static str, label_zh: &'static str) -> EnumValue {
    EnumValue { value, label_zh }
}

// ---------------------------------------------------------------------------------------------
// Value sets shared by several collections.

/// 发证 / 换证 (Attachment 1, 备注).
pub const ISSUANCE_KIND_VALUES: &[EnumValue] = &[value("new", "发证"), value("renewal", "换证")];

/// Who approves: 国家发证 / 省级发证 (Art. 10, 11).
pub const ISSUING_LEVEL_VALUES: &[EnumValue] = &[
    value("national", "国家发证"),
    value("provincial", "省级发证"),
];

/// The stages of an application's file (Art. 6).
pub const APPLICATION_STAGE_VALUES: &[EnumValue] = &[
    value("submitted", "申请"),
    value("accepted", "受理"),
    value("site_review", "现场审查"),
    value("product_inspection", "产品检验"),
    value("approval", "许可审批"),
    value("approved", "准予许可"),
    value("refused", "不予许可"),
    value("withdrawn_by_applicant", "申请撤回"),
];

/// Pass / fail.
pub const CONFORMITY_VALUES: &[EnumValue] = &[
    value("conforming", "合格"),
    value("nonconforming", "不合格"),
];

/// The outcome of an on-site verification (Art. 8).
pub const VERIFICATION_CONCLUSION_VALUES: &[EnumValue] = &[
    value("pass", "符合"),
    value("pass_after_rectification", "整改后符合"),
    value("fail", "不符合"),
];

/// Roles in a review team (Attachment 2, 组内职务).
pub const TEAM_ROLE_VALUES: &[EnumValue] = &[
    value("leader", "组长"),
    value("member", "组员"),
    value("technical_expert", "技术专家"),
    value("observer", "观察员"),
];

/// Kinds of attached file in a site-verification archive (Art. 8).
pub const ATTACHMENT_KIND_VALUES: &[EnumValue] = &[
    value("verification_record", "实地核查记录"),
    value("verification_report", "企业实地核查报告"),
    value("nonconformity_summary", "实地核查不符合项汇总表"),
    value("sampling_form", "抽样单"),
    value("opening_meeting_sign_in", "首次会议签到表"),
    value("closing_meeting_sign_in", "末次会议签到表"),
    value("other", "其他"),
];

/// Kinds of post-licence supervision (Art. 12, 20, 29).
pub const SUPERVISION_KIND_VALUES: &[EnumValue] = &[
    value("national_spot_check", "国家监督抽查"),
    value("provincial_spot_check", "省级监督抽查"),
    value("patrol_visit", "巡查回访"),
    value("periodic_supervision", "定期监督检查"),
    value("review_finding", "审查发现问题"),
    // Art. 20: the bureau's yearly review of a licensed enterprise (年度审查).
    value("annual_review", "年度审查"),
];

/// An enterprise's quality standing (Art. 12).
pub const QUALITY_STATUS_VALUES: &[EnumValue] = &[
    value("good", "良好"),
    value("fair", "一般"),
    value("poor", "较差"),
];

/// How a letter or visit arrived (Art. 14).
pub const LETTER_CHANNEL_VALUES: &[EnumValue] = &[
    value("online_message", "网上留言"),
    value("letter", "来信"),
    value("visit", "来访"),
    value("phone", "来电"),
];

/// How far a letter or visit has been handled (Art. 14).
pub const LETTER_STATUS_VALUES: &[EnumValue] = &[
    value("registered", "已登记"),
    value("in_progress", "办理中"),
    value("replied", "已答复"),
    value("closed", "已办结"),
];

/// 性别.
pub const SEX_VALUES: &[EnumValue] = &[value("male", "男"), value("female", "女")];

/// Reviewer registration levels (Art. 15, 30).
pub const REVIEWER_LEVEL_VALUES: &[EnumValue] = &[
    value("trainee", "实习审查员"),
    value("reviewer", "审查员"),
    value("senior_reviewer", "高级审查员"),
    value("technical_expert", "技术专家"),
];

/// The standing of a registration or filing (reviewers, review departments, inspection bodies).
pub const REGISTRATION_STATUS_VALUES: &[EnumValue] = &[
    value("active", "有效"),
    value("suspended", "暂停"),
    value("cancelled", "注销"),
    value("expired", "过期"),
];

/// 单位性质 of a review department or inspection body (Art. 16, 17; Attachment 3).
pub const ORGANISATION_NATURE_VALUES: &[EnumValue] = &[
    value("public_institution", "事业单位"),
    value("enterprise", "企业"),
    value("social_organisation", "社会团体"),
    value("government_agency", "机关"),
    value("other", "其他"),
];

/// The items of the inspection-body change filing (Attachment 3, 变更事项).
pub const INSPECTION_BODY_CHANGE_ITEM_VALUES: &[EnumValue] = &[
    value("name", "检验机构名称"),
    value("competent_authority", "主管部门"),
    value("host_unit", "挂靠单位名称"),
    value("nature", "单位性质"),
    value("asset_nature", "资产性质"),
    value("address", "通信地址"),
    value("postcode", "邮政编码"),
    value("phone", "电话"),
    value("fax", "传真"),
    value("email", "电子信箱"),
    value("contact_person", "联系人"),
    value("other", "其他"),
];

/// Kinds of notice (Art. 24, 25).
pub const NOTICE_KIND_VALUES: &[EnumValue] = &[
    value("national_spot_check_failure", "国家监督抽查不合格"),
    value("provincial_spot_check_failure", "省级监督抽查不合格"),
    value("review_problem", "审查发现问题"),
];

/// How far a notice has been handled.
pub const NOTICE_STATUS_VALUES: &[EnumValue] = &[
    value("issued", "已通报"),
    value("received", "已接收"),
    value("handled", "已处理"),
];

/// Kinds of publication (Art. 33, 34).
pub const PUBLICATION_KIND_VALUES: &[EnumValue] = &[
    value("law", "法律法规"),
    value("catalogue", "产品目录"),
    value("implementation_rules", "实施细则"),
    value("application_guide", "办事指南"),
    value("notice", "公告"),
    // Art. 35: the national review centre's own contacts and consultation telephone, published
    // by the national node (its record of jurisdiction 100000 is the one the public pages show).
    value("centre_contacts", "审查中心联系方式"),
];

/// Whether a publication is in force (Art. 33 "现行有效").
pub const PUBLICATION_STATUS_VALUES: &[EnumValue] =
    &[value("in_force", "现行有效"), value("repealed", "已废止")];

/// Monthly or yearly (Art. 18–20).
pub const REPORT_KIND_VALUES: &[EnumValue] = &[value("monthly", "月报"), value("yearly", "年报")];

/// Draft or sent.
pub const REPORT_STATUS_VALUES: &[EnumValue] =
    &[value("draft", "草稿"), value("submitted", "已报送")];

/// The superior's decision on a destruction request (Art. 38).
pub const DESTRUCTION_DECISION_VALUES: &[EnumValue] = &[
    value("pending", "待审批"),
    value("approved", "批准"),
    value("refused", "不予批准"),
];

// ---------------------------------------------------------------------------------------------
// Table row definitions.

const REVIEW_TEAM_MEMBER_FIELDS: &[Field] = &[
    field("name", "姓名", T::Text, REQUIRED, Internal),
    field(
        "team_role",
        "组内职务",
        T::Enum(TEAM_ROLE_VALUES),
        REQUIRED,
        Internal,
    ),
    field("employer", "所在单位名称", T::Text, REQUIRED, Internal),
    field("phone", "联系电话", T::Phone, REQUIRED, Internal),
    field(
        "reviewer_registration_number",
        "审查员证书注册号",
        T::Text,
        OPTIONAL,
        Internal,
    ),
];

// Attachment 2 lists several enterprises in one plan, each with its address, contact, units
// and planned review time (Art. 7: 审查企业名称、地址、联系人、电话、申请单元、计划审查时间).
const PLAN_ENTERPRISE_FIELDS: &[Field] = &[
    field("enterprise_name", "企业名称", T::Text, REQUIRED, Internal),
    field(
        "credit_code",
        "统一社会信用代码",
        T::CreditCode,
        OPTIONAL,
        Internal,
    ),
    field(
        "production_address",
        "实际生产地址",
        T::Text,
        REQUIRED,
        Internal,
    ),
    field("postcode", "邮编", T::Postcode, OPTIONAL, Internal),
    field("contact_person", "联系人", T::Text, REQUIRED, Internal),
    field("contact_phone", "电话", T::Phone, REQUIRED, Internal),
    field("application_units", "申请单元", T::Text, REQUIRED, Internal),
    field(
        "planned_review_date",
        "计划审查时间",
        T::Date,
        REQUIRED,
        Internal,
    ),
    field("acceptance_date", "受理时间", T::Date, OPTIONAL, Internal),
];

const SIGN_IN_FIELDS: &[Field] = &[
    field("name", "姓名", T::Text, REQUIRED, Internal),
    field("organisation", "单位/部门", T::Text, REQUIRED, Internal),
    field("position", "职务", T::Text, OPTIONAL, Internal),
];

const ATTACHMENT_FIELDS: &[Field] = &[
    field("title", "文件名称", T::Text, REQUIRED, Internal),
    field(
        "attachment_kind",
        "文件类型",
        T::Enum(ATTACHMENT_KIND_VALUES),
        REQUIRED,
        Internal,
    ),
    field("file_reference", "文件标识", T::Text, REQUIRED, Internal),
];

const INSPECTION_ITEM_FIELDS: &[Field] = &[
    field("item", "检验项目", T::Text, REQUIRED, Internal),
    field("requirement", "标准要求", T::Text, OPTIONAL, Internal),
    field("measured_result", "实测结果", T::Text, REQUIRED, Secret),
    field(
        "verdict",
        "单项判定",
        T::Enum(CONFORMITY_VALUES),
        REQUIRED,
        Internal,
    ),
];

const CHANGE_DETAIL_FIELDS: &[Field] = &[
    field("item", "变更项目", T::Text, REQUIRED, Internal),
    field("value_before", "变更前", T::Text, REQUIRED, Internal),
    field("value_after", "变更后", T::Text, REQUIRED, Internal),
];

const SUPERVISION_RECORD_FIELDS: &[Field] = &[
    field("supervision_date", "日期", T::Date, REQUIRED, Internal),
    field(
        "supervision_kind",
        "监管方式",
        T::Enum(SUPERVISION_KIND_VALUES),
        REQUIRED,
        Internal,
    ),
    field(
        "result",
        "结果",
        T::Enum(CONFORMITY_VALUES),
        REQUIRED,
        Internal,
    ),
    field("findings", "发现问题", T::Text, OPTIONAL, Internal),
    field("handling", "处理情况", T::Text, OPTIONAL, Internal),
];

const INSPECTION_BODY_CHANGE_FIELDS: &[Field] = &[
    field(
        "changed_item",
        "变更事项",
        T::Enum(INSPECTION_BODY_CHANGE_ITEM_VALUES),
        REQUIRED,
        Internal,
    ),
    field("value_before", "变更前", T::Text, REQUIRED, Internal),
    field("value_after", "变更后", T::Text, REQUIRED, Internal),
    field("filing_date", "备案日期", T::Date, REQUIRED, Internal),
    field("body_opinion", "检验机构意见", T::Text, OPTIONAL, Internal),
    field(
        "provincial_opinion",
        "省级质量技术监督局意见",
        T::Text,
        OPTIONAL,
        Internal,
    ),
];

const PROBLEM_ENTERPRISE_FIELDS: &[Field] = &[
    field("enterprise_name", "企业名称", T::Text, REQUIRED, Internal),
    field(
        "licence_number",
        "证书编号",
        T::LicenceNumber,
        OPTIONAL,
        Internal,
    ),
    field("problem", "存在问题", T::Text, REQUIRED, Internal),
    field("handling", "处理情况", T::Text, REQUIRED, Internal),
];

// ---------------------------------------------------------------------------------------------
// The collections.

const APPLICATION_FIELDS: &[Field] = &[
    field("enterprise_name", "企业名称", T::Text, REQUIRED, Internal),
    field(
        "credit_code",
        "统一社会信用代码",
        T::CreditCode,
        REQUIRED,
        Internal,
    ),
    field("residence_address", "住所", T::Text, REQUIRED, Internal),
    field(
        "production_address",
        "生产地址",
        T::Text,
        REQUIRED,
        Internal,
    ),
    field(
        "division_code",
        "所在地行政区划代码",
        T::DivisionCode,
        REQUIRED,
        Internal,
    ),
    field("postcode", "邮政编码", T::Postcode, OPTIONAL, Internal),
    field(
        "legal_representative",
        "法定代表人",
        T::Text,
        OPTIONAL,
        Internal,
    ),
    field("contact_person", "联系人", T::Text, REQUIRED, Internal),
    field("contact_phone", "联系电话", T::Phone, REQUIRED, Internal),
    field("contact_email", "电子邮箱", T::Email, OPTIONAL, Internal),
    field("product_category", "产品类别", T::Text, REQUIRED, Internal),
    field("product_name", "产品名称", T::Text, REQUIRED, Internal),
    field("application_units", "申证单元", T::Text, REQUIRED, Internal),
    field(
        "application_kind",
        "申请类型（发证/换证）",
        T::Enum(ISSUANCE_KIND_VALUES),
        REQUIRED,
        Internal,
    ),
    field(
        "issuing_level",
        "发证级别",
        T::Enum(ISSUING_LEVEL_VALUES),
        REQUIRED,
        Internal,
    ),
    field("application_date", "申请日期", T::Date, REQUIRED, Internal),
    field("accepting_office", "受理单位", T::Text, OPTIONAL, Internal),
    field("acceptance_number", "受理编号", T::Text, OPTIONAL, Internal),
    field("acceptance_date", "受理日期", T::Date, OPTIONAL, Internal),
    // Art. 27: the licence is entered within 10 days of this approval (获批准); written with
    // the stage 准予许可 and never moved by later edits of the file.
    field("approval_date", "批准日期", T::Date, OPTIONAL, Internal),
    field(
        "stage",
        "办理环节",
        T::Enum(APPLICATION_STAGE_VALUES),
        REQUIRED,
        Internal,
    ),
    // Art. 36: production scale and conditions are the enterprise's business/technical secrets.
    field("production_scale", "生产规模", T::Text, OPTIONAL, Secret),
    field(
        "production_conditions",
        "生产条件",
        T::LongText,
        OPTIONAL,
        Secret,
    ),
    field("remarks", "备注", T::LongText, OPTIONAL, Internal),
];

const REVIEW_PLAN_FIELDS: &[Field] = &[
    field("plan_number", "编号", T::Text, REQUIRED, Internal),
    field("product_name", "产品名称", T::Text, REQUIRED, Internal),
    field("product_category", "产品类别", T::Text, OPTIONAL, Internal),
    field(
        "application",
        "申请记录",
        T::RecordRef("applications"),
        OPTIONAL,
        Internal,
    ),
    field("enterprise_name", "企业名称", T::Text, REQUIRED, Internal),
    field(
        "credit_code",
        "统一社会信用代码",
        T::CreditCode,
        OPTIONAL,
        Internal,
    ),
    field(
        "production_address",
        "实际生产地址",
        T::Text,
        REQUIRED,
        Internal,
    ),
    field("postcode", "邮编", T::Postcode, REQUIRED, Internal),
    field("contact_person", "联系人", T::Text, REQUIRED, Internal),
    field("contact_phone", "电话", T::Phone, REQUIRED, Internal),
    field("application_units", "申请单元", T::Text, REQUIRED, Internal),
    field(
        "planned_review_date",
        "计划审查时间",
        T::Date,
        REQUIRED,
        Internal,
    ),
    field("acceptance_date", "受理时间", T::Date, REQUIRED, Internal),
    // Attachment 2: the further enterprises of the same plan (the fields above are the first).
    field(
        "further_enterprises",
        "其他审查企业",
        T::Table(PLAN_ENTERPRISE_FIELDS),
        OPTIONAL,
        Internal,
    ),
    field(
        "team_members",
        "审查组成员",
        T::Table(REVIEW_TEAM_MEMBER_FIELDS),
        REQUIRED,
        Internal,
    ),
    field("basis", "依据", T::LongText, OPTIONAL, Internal),
    field("requirements", "要求", T::LongText, OPTIONAL, Internal),
    field(
        "organiser_name",
        "审查组织单位名称",
        T::Text,
        REQUIRED,
        Internal,
    ),
    field(
        "organiser_address",
        "审查组织单位地址",
        T::Text,
        OPTIONAL,
        Internal,
    ),
    field(
        "organiser_postcode",
        "审查组织单位邮编",
        T::Postcode,
        OPTIONAL,
        Internal,
    ),
    field(
        "organiser_contact_person",
        "审查组织单位联系人",
        T::Text,
        OPTIONAL,
        Internal,
    ),
    field(
        "organiser_phone",
        "审查组织单位联系电话",
        T::Phone,
        OPTIONAL,
        Internal,
    ),
    field(
        "organiser_fax",
        "审查组织单位传真",
        T::Phone,
        OPTIONAL,
        Internal,
    ),
    field(
        "organiser_email",
        "审查组织单位电子邮箱",
        T::Email,
        OPTIONAL,
        Internal,
    ),
    field("prepared_by", "编制", T::Text, OPTIONAL, Internal),
    field("approved_by", "审批", T::Text, OPTIONAL, Internal),
    field("plan_date", "编制日期", T::Date, OPTIONAL, Internal),
    // Art. 21: filed before the review starts (the deadline rule `review_plan_filing`).
    field("filing_date", "备案日期", T::Date, OPTIONAL, Internal),
];

const SITE_VERIFICATION_FIELDS: &[Field] = &[
    field("enterprise_name", "企业名称", T::Text, REQUIRED, Internal),
    field(
        "credit_code",
        "统一社会信用代码",
        T::CreditCode,
        OPTIONAL,
        Internal,
    ),
    field("product_name", "产品名称", T::Text, REQUIRED, Internal),
    field("application_units", "申证单元", T::Text, OPTIONAL, Internal),
    field(
        "application",
        "申请记录",
        T::RecordRef("applications"),
        OPTIONAL,
        Internal,
    ),
    field(
        "review_plan",
        "核查计划",
        T::RecordRef("review_plans"),
        OPTIONAL,
        Internal,
    ),
    field(
        "organiser_name",
        "审查组织单位",
        T::Text,
        REQUIRED,
        Internal,
    ),
    field("team_leader", "审查组组长", T::Text, REQUIRED, Internal),
    field("verification_date", "核查日期", T::Date, REQUIRED, Internal),
    field(
        "conclusion",
        "核查结论",
        T::Enum(VERIFICATION_CONCLUSION_VALUES),
        REQUIRED,
        Internal,
    ),
    // Art. 36: the record describes the enterprise's processes and premises.
    field(
        "verification_record",
        "实地核查记录",
        T::LongText,
        REQUIRED,
        Secret,
    ),
    field(
        "verification_report",
        "企业实地核查报告",
        T::LongText,
        REQUIRED,
        Internal,
    ),
    field(
        "nonconformity_count",
        "不符合项数",
        T::Integer,
        OPTIONAL,
        Internal,
    ),
    field(
        "nonconformity_summary",
        "实地核查不符合项汇总表",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field(
        "sampling_form_number",
        "抽样单编号",
        T::Text,
        OPTIONAL,
        Internal,
    ),
    field("sampling_form", "抽样单", T::LongText, OPTIONAL, Internal),
    field(
        "opening_meeting_sign_in",
        "首次会议签到表",
        T::Table(SIGN_IN_FIELDS),
        OPTIONAL,
        Internal,
    ),
    field(
        "closing_meeting_sign_in",
        "末次会议签到表",
        T::Table(SIGN_IN_FIELDS),
        OPTIONAL,
        Internal,
    ),
    field(
        "attachments",
        "附件",
        T::Table(ATTACHMENT_FIELDS),
        OPTIONAL,
        Internal,
    ),
];

const INSPECTION_FIELDS: &[Field] = &[
    field("report_number", "检验报告编号", T::Text, REQUIRED, Internal),
    field(
        "inspection_body_name",
        "检验机构名称",
        T::Text,
        REQUIRED,
        Internal,
    ),
    field(
        "inspection_body",
        "检验机构记录",
        T::RecordRef("inspection_bodies"),
        OPTIONAL,
        Internal,
    ),
    field("enterprise_name", "企业名称", T::Text, REQUIRED, Internal),
    field(
        "credit_code",
        "统一社会信用代码",
        T::CreditCode,
        OPTIONAL,
        Internal,
    ),
    field(
        "application",
        "申请记录",
        T::RecordRef("applications"),
        OPTIONAL,
        Internal,
    ),
    field("product_name", "产品名称", T::Text, REQUIRED, Internal),
    field("product_model", "规格型号", T::Text, OPTIONAL, Internal),
    field("application_units", "申证单元", T::Text, OPTIONAL, Internal),
    field(
        "organiser_name",
        "审查组织单位",
        T::Text,
        REQUIRED,
        Internal,
    ),
    field(
        "sampling_form_number",
        "抽样单编号",
        T::Text,
        REQUIRED,
        Internal,
    ),
    field("sampling_date", "抽样日期", T::Date, REQUIRED, Internal),
    field("sampler", "抽样人员", T::Text, OPTIONAL, Internal),
    field(
        "sample_quantity",
        "样品数量",
        T::Integer,
        OPTIONAL,
        Internal,
    ),
    field("sampling_form", "抽样单", T::LongText, OPTIONAL, Internal),
    // Art. 36: raw measurements reveal the enterprise's technology.
    field("raw_records", "检验原始记录", T::LongText, REQUIRED, Secret),
    field(
        "inspection_items",
        "检验项目",
        T::Table(INSPECTION_ITEM_FIELDS),
        OPTIONAL,
        Internal,
    ),
    field(
        "conclusion",
        "检验结论",
        T::Enum(CONFORMITY_VALUES),
        REQUIRED,
        Internal,
    ),
    field(
        "completion_date",
        "检验完成日期",
        T::Date,
        REQUIRED,
        Internal,
    ),
    // Art. 23: reported to the organiser within 5 days of completion.
    field(
        "reported_date",
        "报送审查组织单位日期",
        T::Date,
        OPTIONAL,
        Internal,
    ),
    field(
        "inspection_report",
        "产品检验报告",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field("body_head", "检验机构负责人", T::Text, OPTIONAL, Internal),
];

const REFUSAL_FIELDS: &[Field] = &[
    field("enterprise_name", "企业名称", T::Text, REQUIRED, Internal),
    field(
        "credit_code",
        "统一社会信用代码",
        T::CreditCode,
        OPTIONAL,
        Internal,
    ),
    field("residence_address", "住所", T::Text, REQUIRED, Internal),
    field(
        "production_address",
        "生产地址",
        T::Text,
        REQUIRED,
        Internal,
    ),
    field(
        "division_code",
        "所在地行政区划代码",
        T::DivisionCode,
        OPTIONAL,
        Internal,
    ),
    field("product_category", "产品类别", T::Text, REQUIRED, Internal),
    field("product_name", "产品名称", T::Text, REQUIRED, Internal),
    field("application_units", "申证单元", T::Text, REQUIRED, Internal),
    field(
        "application",
        "申请记录",
        T::RecordRef("applications"),
        OPTIONAL,
        Internal,
    ),
    field(
        "issuing_level",
        "发证级别",
        T::Enum(ISSUING_LEVEL_VALUES),
        REQUIRED,
        Internal,
    ),
    field(
        "refusal_reason",
        "不予许可原因",
        T::LongText,
        REQUIRED,
        Internal,
    ),
    field("refusal_date", "不予许可日期", T::Date, REQUIRED, Internal),
    field(
        "decision_number",
        "不予许可决定书编号",
        T::Text,
        OPTIONAL,
        Internal,
    ),
    field(
        "application_kind",
        "备注（发证/换证）",
        T::Enum(ISSUANCE_KIND_VALUES),
        REQUIRED,
        Internal,
    ),
];

// Art. 27: the published licence list is 企业名称, 获证产品, 许可证编号, 批准日期, 有效期 "等".
const LICENCE_FIELDS: &[Field] = &[
    field("enterprise_name", "企业名称", T::Text, REQUIRED, Public),
    // Public: the code identifies the enterprise beyond its name and is public registration data.
    field(
        "credit_code",
        "统一社会信用代码",
        T::CreditCode,
        REQUIRED,
        Public,
    ),
    field("residence_address", "住所", T::Text, REQUIRED, Internal),
    field(
        "production_address",
        "生产地址",
        T::Text,
        REQUIRED,
        Internal,
    ),
    field(
        "division_code",
        "所在地行政区划代码",
        T::DivisionCode,
        REQUIRED,
        Internal,
    ),
    field("product_category", "产品类别", T::Text, REQUIRED, Public),
    field("product_name", "产品名称", T::Text, REQUIRED, Public),
    field("application_units", "申证单元", T::Text, REQUIRED, Public),
    field(
        "licence_number",
        "证书编号",
        T::LicenceNumber,
        REQUIRED,
        Public,
    ),
    field(
        "issuing_level",
        "发证级别",
        T::Enum(ISSUING_LEVEL_VALUES),
        REQUIRED,
        Public,
    ),
    field("issuing_authority", "发证机关", T::Text, REQUIRED, Public),
    field("approval_date", "批准日期", T::Date, REQUIRED, Public),
    field("issue_date", "发证日期", T::Date, REQUIRED, Public),
    field("valid_until", "有效期", T::Date, REQUIRED, Public),
    field(
        "issuance_kind",
        "备注（发证/换证）",
        T::Enum(ISSUANCE_KIND_VALUES),
        REQUIRED,
        Internal,
    ),
    // Absent means valid; changed by licence_events (Art. 13, 19, 28).
    field(
        "status",
        "证书状态",
        T::Enum(LICENCE_STATUS_VALUES),
        OPTIONAL,
        Public,
    ),
    field(
        "application",
        "申请记录",
        T::RecordRef("applications"),
        OPTIONAL,
        Internal,
    ),
    field("remarks", "备注", T::LongText, OPTIONAL, Internal),
];

// Art. 28: the published cancellation list is 企业名称, 获证产品, 许可证编号, 获证日期, 注销原因.
const LICENCE_EVENT_FIELDS: &[Field] = &[
    field(
        "licence",
        "许可证记录",
        T::RecordRef("licences"),
        REQUIRED,
        Internal,
    ),
    field(
        "licence_number",
        "证书编号",
        T::LicenceNumber,
        REQUIRED,
        Public,
    ),
    field(
        "event_kind",
        "类型",
        T::Enum(EVENT_KIND_VALUES),
        REQUIRED,
        Public,
    ),
    field("enterprise_name", "企业名称", T::Text, REQUIRED, Public),
    field(
        "credit_code",
        "统一社会信用代码",
        T::CreditCode,
        OPTIONAL,
        Public,
    ),
    field("residence_address", "住所", T::Text, OPTIONAL, Internal),
    field(
        "production_address",
        "生产地址",
        T::Text,
        OPTIONAL,
        Internal,
    ),
    field("product_category", "产品类别", T::Text, REQUIRED, Public),
    field("product_name", "产品名称", T::Text, REQUIRED, Public),
    field("application_units", "申证单元", T::Text, OPTIONAL, Public),
    field("licence_date", "获证日期", T::Date, REQUIRED, Public),
    field("valid_until", "有效期", T::Date, OPTIONAL, Internal),
    field("reason", "原因（注销原因）", T::LongText, REQUIRED, Public),
    field(
        "event_date",
        "日期（变更日期/注销时间）",
        T::Date,
        REQUIRED,
        Public,
    ),
    // Required for a change (变更事项, Attachment 1 table 3); see `validate`.
    field("change_items", "变更事项", T::Text, OPTIONAL, Internal),
    field(
        "change_details",
        "变更明细",
        T::Table(CHANGE_DETAIL_FIELDS),
        OPTIONAL,
        Internal,
    ),
    field("decision_number", "决定文号", T::Text, OPTIONAL, Internal),
    field("remarks", "备注", T::LongText, OPTIONAL, Internal),
];

const QUALITY_ARCHIVE_FIELDS: &[Field] = &[
    field(
        "licence",
        "许可证记录",
        T::RecordRef("licences"),
        OPTIONAL,
        Internal,
    ),
    field(
        "licence_number",
        "证书编号",
        T::LicenceNumber,
        REQUIRED,
        Internal,
    ),
    field("enterprise_name", "企业名称", T::Text, REQUIRED, Internal),
    field(
        "credit_code",
        "统一社会信用代码",
        T::CreditCode,
        REQUIRED,
        Internal,
    ),
    field(
        "division_code",
        "所在地行政区划代码",
        T::DivisionCode,
        REQUIRED,
        Internal,
    ),
    field("product_category", "产品类别", T::Text, REQUIRED, Internal),
    field("product_name", "产品名称", T::Text, REQUIRED, Internal),
    field(
        "valid_until",
        "生产许可证有效期",
        T::Date,
        REQUIRED,
        Internal,
    ),
    // Art. 36: scale, output and conditions are business/technical secrets.
    field("production_scale", "生产规模", T::Text, OPTIONAL, Secret),
    field(
        "annual_output_value",
        "年产值（万元）",
        T::Integer,
        OPTIONAL,
        Secret,
    ),
    field("employee_count", "从业人数", T::Integer, OPTIONAL, Internal),
    field("products_made", "生产品种", T::LongText, OPTIONAL, Internal),
    field(
        "production_conditions",
        "生产条件",
        T::LongText,
        OPTIONAL,
        Secret,
    ),
    field(
        "quality_status",
        "产品质量状况",
        T::Enum(QUALITY_STATUS_VALUES),
        OPTIONAL,
        Internal,
    ),
    field(
        "quality_notes",
        "产品质量情况说明",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field(
        "supervision_records",
        "证后监管情况",
        T::Table(SUPERVISION_RECORD_FIELDS),
        OPTIONAL,
        Internal,
    ),
    field(
        "handling_summary",
        "处理情况",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field("remarks", "备注", T::LongText, OPTIONAL, Internal),
];

const LETTER_VISIT_FIELDS: &[Field] = &[
    field("case_number", "编号", T::Text, REQUIRED, Internal),
    field(
        "channel",
        "来源",
        T::Enum(LETTER_CHANNEL_VALUES),
        REQUIRED,
        Internal,
    ),
    field("received_date", "收到日期", T::Date, REQUIRED, Internal),
    // Personal data of the petitioner and the content of the complaint.
    field("petitioner_name", "来信来访人", T::Text, OPTIONAL, Secret),
    field("petitioner_phone", "联系电话", T::Phone, OPTIONAL, Secret),
    field("petitioner_address", "联系地址", T::Text, OPTIONAL, Secret),
    field("subject", "事由", T::Text, REQUIRED, Internal),
    field(
        "content",
        "留言及来信来访内容",
        T::LongText,
        REQUIRED,
        Secret,
    ),
    field("enterprise_name", "涉及企业", T::Text, OPTIONAL, Internal),
    field(
        "credit_code",
        "涉及企业统一社会信用代码",
        T::CreditCode,
        OPTIONAL,
        Internal,
    ),
    field(
        "licence_number",
        "涉及证书编号",
        T::LicenceNumber,
        OPTIONAL,
        Internal,
    ),
    field(
        "leader_instructions",
        "领导批示",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field(
        "investigation",
        "调查处理情况",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field("reply", "答复情况", T::LongText, OPTIONAL, Internal),
    field("reply_date", "答复日期", T::Date, OPTIONAL, Internal),
    field(
        "handling_status",
        "办理状态",
        T::Enum(LETTER_STATUS_VALUES),
        REQUIRED,
        Internal,
    ),
];

// Art. 30: the published list of registered reviewers and technical experts.
const REVIEWER_FIELDS: &[Field] = &[
    field("name", "姓名", T::Text, REQUIRED, Public),
    field("sex", "性别", T::Enum(SEX_VALUES), REQUIRED, Internal),
    // Art. 15: 出生年月, a year and month.
    field("birth_date", "出生年月", T::YearMonth, REQUIRED, Internal),
    field("id_number", "身份证号码", T::IdNumber, REQUIRED, Secret),
    field("recommending_unit", "推荐单位", T::Text, REQUIRED, Internal),
    field("employer", "工作单位", T::Text, REQUIRED, Public),
    // Art. 30: the qualification is approved first (资质批准日期); registering it — the
    // registration number and date — must follow within 5 days.
    field("approval_date", "资质批准日期", T::Date, OPTIONAL, Internal),
    field("registration_number", "注册编号", T::Text, OPTIONAL, Public),
    field("registration_date", "注册日期", T::Date, OPTIONAL, Public),
    field(
        "registration_level",
        "注册级别",
        T::Enum(REVIEWER_LEVEL_VALUES),
        REQUIRED,
        Public,
    ),
    field("valid_until", "有效期", T::Date, REQUIRED, Public),
    field(
        "approval_document_number",
        "批准文号",
        T::Text,
        REQUIRED,
        Internal,
    ),
    field(
        "products_qualified",
        "可审查产品",
        T::Text,
        OPTIONAL,
        Internal,
    ),
    field("phone", "联系电话", T::Phone, OPTIONAL, Internal),
    field("email", "电子邮箱", T::Email, OPTIONAL, Internal),
    field(
        "status",
        "注册状态",
        T::Enum(REGISTRATION_STATUS_VALUES),
        OPTIONAL,
        Public,
    ),
];

// Art. 31, 35: the published current contacts of review departments.
const REVIEW_DEPARTMENT_FIELDS: &[Field] = &[
    field("name", "单位名称", T::Text, REQUIRED, Public),
    field(
        "credit_code",
        "统一社会信用代码",
        T::CreditCode,
        OPTIONAL,
        Public,
    ),
    field(
        "products_reviewed",
        "负责审查产品",
        T::Text,
        OPTIONAL,
        Public,
    ),
    field(
        "nature",
        "性质",
        T::Enum(ORGANISATION_NATURE_VALUES),
        REQUIRED,
        Internal,
    ),
    field("affiliation", "隶属关系", T::Text, REQUIRED, Internal),
    field(
        "internal_rules",
        "内部管理制度",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field(
        "organisation_structure",
        "机构设置",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field("qualifications", "资质", T::LongText, OPTIONAL, Internal),
    field(
        "main_work_and_experience",
        "主要工作内容和经验",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field("staff_count", "人员数量", T::Integer, OPTIONAL, Internal),
    field("staff", "人员", T::LongText, OPTIONAL, Internal),
    field(
        "office_conditions",
        "办公条件",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field("address", "通信地址", T::Text, REQUIRED, Public),
    field("postcode", "邮政编码", T::Postcode, OPTIONAL, Public),
    field("contact_person", "联系人", T::Text, REQUIRED, Public),
    field("phone", "联系电话", T::Phone, REQUIRED, Public),
    field("consultation_phone", "咨询电话", T::Phone, OPTIONAL, Public),
    field("fax", "传真", T::Phone, OPTIONAL, Public),
    field("email", "电子信箱", T::Email, OPTIONAL, Public),
    field("website", "网站", T::Text, OPTIONAL, Public),
    field("filing_date", "备案日期", T::Date, OPTIONAL, Internal),
    // Art. 31: the filing is registered in the database (备案编号) within 5 days of it.
    field("filing_number", "备案编号", T::Text, OPTIONAL, Public),
    field(
        "status",
        "备案状态",
        T::Enum(REGISTRATION_STATUS_VALUES),
        OPTIONAL,
        Public,
    ),
];

// Art. 17, 26, 31, 35; the change filing of Attachment 3.
const INSPECTION_BODY_FIELDS: &[Field] = &[
    field("name", "检验机构名称", T::Text, REQUIRED, Public),
    field(
        "credit_code",
        "统一社会信用代码",
        T::CreditCode,
        OPTIONAL,
        Public,
    ),
    field(
        "products_inspected",
        "承检产品名称",
        T::Text,
        REQUIRED,
        Public,
    ),
    field(
        "competent_authority",
        "主管部门",
        T::Text,
        OPTIONAL,
        Internal,
    ),
    field("host_unit", "挂靠单位名称", T::Text, OPTIONAL, Internal),
    field(
        "nature",
        "单位性质",
        T::Enum(ORGANISATION_NATURE_VALUES),
        REQUIRED,
        Internal,
    ),
    field("asset_nature", "资产性质", T::Text, OPTIONAL, Internal),
    field("affiliation", "隶属关系", T::Text, REQUIRED, Internal),
    field(
        "internal_rules",
        "内部管理制度",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field(
        "organisation_structure",
        "机构设置",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field("qualifications", "资质", T::LongText, OPTIONAL, Internal),
    field(
        "main_work_and_experience",
        "主要工作内容和经历",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field("staff_count", "人员数量", T::Integer, OPTIONAL, Internal),
    field("staff", "人员", T::LongText, OPTIONAL, Internal),
    field(
        "office_conditions",
        "办公条件",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field(
        "inspection_equipment",
        "检验设备",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field("address", "通信地址", T::Text, REQUIRED, Public),
    field("postcode", "邮政编码", T::Postcode, OPTIONAL, Public),
    field("contact_person", "联系人", T::Text, REQUIRED, Public),
    field("phone", "电话", T::Phone, REQUIRED, Public),
    field("consultation_phone", "咨询电话", T::Phone, OPTIONAL, Public),
    field("fax", "传真", T::Phone, OPTIONAL, Public),
    field("email", "电子信箱", T::Email, OPTIONAL, Public),
    field("website", "网站", T::Text, OPTIONAL, Public),
    field("filing_date", "备案日期", T::Date, OPTIONAL, Internal),
    // Art. 31: the filing is registered in the database (备案编号) within 5 days of it.
    field("filing_number", "备案编号", T::Text, OPTIONAL, Public),
    field(
        "change_filings",
        "信息变更备案",
        T::Table(INSPECTION_BODY_CHANGE_FIELDS),
        OPTIONAL,
        Internal,
    ),
    field(
        "status",
        "备案状态",
        T::Enum(REGISTRATION_STATUS_VALUES),
        OPTIONAL,
        Public,
    ),
];

const NOTICE_FIELDS: &[Field] = &[
    field("notice_number", "通报编号", T::Text, REQUIRED, Internal),
    field(
        "notice_kind",
        "通报类型",
        T::Enum(NOTICE_KIND_VALUES),
        REQUIRED,
        Internal,
    ),
    field("issuing_unit", "通报单位", T::Text, REQUIRED, Internal),
    // Art. 24: the province (or prefecture) the notice is addressed to; Art. 25: the province.
    field(
        "addressed_division",
        "通报对象",
        T::DivisionCode,
        REQUIRED,
        Internal,
    ),
    field("issue_date", "通报日期", T::Date, REQUIRED, Internal),
    field("enterprise_name", "企业名称", T::Text, REQUIRED, Internal),
    field(
        "credit_code",
        "统一社会信用代码",
        T::CreditCode,
        OPTIONAL,
        Internal,
    ),
    field(
        "licence_number",
        "证书编号",
        T::LicenceNumber,
        OPTIONAL,
        Internal,
    ),
    field(
        "licence",
        "许可证记录",
        T::RecordRef("licences"),
        OPTIONAL,
        Internal,
    ),
    field("product_name", "产品名称", T::Text, REQUIRED, Internal),
    field("product_model", "规格型号", T::Text, OPTIONAL, Internal),
    field("spot_check_batch", "抽查批次", T::Text, OPTIONAL, Internal),
    field(
        "problem_description",
        "不合格项目或发现的问题",
        T::LongText,
        REQUIRED,
        Internal,
    ),
    field(
        "required_action",
        "处理要求",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field("response_deadline", "反馈期限", T::Date, OPTIONAL, Internal),
    field(
        "handling_result",
        "处理结果",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field(
        "status",
        "办理状态",
        T::Enum(NOTICE_STATUS_VALUES),
        REQUIRED,
        Internal,
    ),
];

// Art. 33: laws, the catalogue and implementation rules; Art. 34: each accepting office's guide.
const PUBLICATION_FIELDS: &[Field] = &[
    field("title", "标题", T::Text, REQUIRED, Public),
    field(
        "publication_kind",
        "类型",
        T::Enum(PUBLICATION_KIND_VALUES),
        REQUIRED,
        Public,
    ),
    field("document_number", "文号", T::Text, OPTIONAL, Public),
    field("issuing_authority", "发布机关", T::Text, REQUIRED, Public),
    field("publish_date", "发布日期", T::Date, REQUIRED, Public),
    field("effective_date", "施行日期", T::Date, OPTIONAL, Public),
    field(
        "status",
        "效力状态",
        T::Enum(PUBLICATION_STATUS_VALUES),
        REQUIRED,
        Public,
    ),
    field("product_name", "适用产品", T::Text, OPTIONAL, Public),
    field("body_text", "正文", T::LongText, OPTIONAL, Public),
    field("url", "链接", T::Text, OPTIONAL, Public),
    field("accepting_office", "受理单位", T::Text, OPTIONAL, Public),
    field(
        "accepting_division",
        "受理单位行政区划",
        T::DivisionCode,
        OPTIONAL,
        Public,
    ),
    field("legal_basis", "法律依据", T::LongText, OPTIONAL, Public),
    field("conditions", "条件", T::LongText, OPTIONAL, Public),
    field("procedure", "程序", T::LongText, OPTIONAL, Public),
    field("time_limits", "期限", T::LongText, OPTIONAL, Public),
    field("fees", "收费", T::LongText, OPTIONAL, Public),
    field(
        "required_documents",
        "需要提交的全部材料目录",
        T::LongText,
        OPTIONAL,
        Public,
    ),
    field(
        "sample_application",
        "申请书示范文本",
        T::LongText,
        OPTIONAL,
        Public,
    ),
    field("complaint_phone", "投诉电话", T::Phone, OPTIONAL, Public),
    field("consultation_phone", "咨询电话", T::Phone, OPTIONAL, Public),
    // Art. 35: contacts (审查中心联系方式; also an accepting office's, Art. 34).
    field("address", "通信地址", T::Text, OPTIONAL, Public),
    field("postcode", "邮政编码", T::Postcode, OPTIONAL, Public),
    field("contact_phone", "联系电话", T::Phone, OPTIONAL, Public),
    field("fax", "传真", T::Phone, OPTIONAL, Public),
    field("email", "电子信箱", T::Email, OPTIONAL, Public),
];

const SUPERVISION_REPORT_FIELDS: &[Field] = &[
    field("year", "年度", T::Integer, REQUIRED, Internal),
    field("reporting_unit", "报送单位", T::Text, REQUIRED, Internal),
    field(
        "reporting_division",
        "报送单位行政区划",
        T::DivisionCode,
        REQUIRED,
        Internal,
    ),
    field("addressed_to", "报送对象", T::Text, OPTIONAL, Internal),
    field("report_date", "报送日期", T::Date, REQUIRED, Internal),
    field(
        "licensed_enterprise_count",
        "获证企业数量",
        T::Integer,
        REQUIRED,
        Internal,
    ),
    field(
        "review_count",
        "年度审查企业数",
        T::Integer,
        OPTIONAL,
        Internal,
    ),
    field(
        "patrol_visit_count",
        "巡查回访企业数",
        T::Integer,
        OPTIONAL,
        Internal,
    ),
    field(
        "periodic_supervision_count",
        "定期监督企业数",
        T::Integer,
        OPTIONAL,
        Internal,
    ),
    field(
        "problem_enterprise_count",
        "存在问题企业数",
        T::Integer,
        OPTIONAL,
        Internal,
    ),
    field(
        "annual_review_summary",
        "年度审查情况",
        T::LongText,
        REQUIRED,
        Internal,
    ),
    field(
        "patrol_visit_summary",
        "巡查回访情况",
        T::LongText,
        REQUIRED,
        Internal,
    ),
    field(
        "periodic_supervision_summary",
        "定期监督情况",
        T::LongText,
        REQUIRED,
        Internal,
    ),
    field(
        "problem_handling_summary",
        "对存在问题的企业处理情况",
        T::LongText,
        REQUIRED,
        Internal,
    ),
    field(
        "problem_enterprises",
        "存在问题企业",
        T::Table(PROBLEM_ENTERPRISE_FIELDS),
        OPTIONAL,
        Internal,
    ),
    field(
        "status",
        "状态",
        T::Enum(REPORT_STATUS_VALUES),
        REQUIRED,
        Internal,
    ),
];

const REPORT_FIELDS: &[Field] = &[
    field(
        "report_kind",
        "报表类型",
        T::Enum(REPORT_KIND_VALUES),
        REQUIRED,
        Internal,
    ),
    // `2024-05` for a monthly report, `2024` for a yearly one; see `validate`.
    field("period", "报告期", T::Text, REQUIRED, Internal),
    field("revision", "修订版次", T::Integer, REQUIRED, Internal),
    field(
        "status",
        "状态",
        T::Enum(REPORT_STATUS_VALUES),
        REQUIRED,
        Internal,
    ),
    field("reporting_unit", "填报单位", T::Text, REQUIRED, Internal),
    field(
        "reporting_division",
        "填报单位行政区划",
        T::DivisionCode,
        REQUIRED,
        Internal,
    ),
    field("fill_date", "填报日期", T::Date, REQUIRED, Internal),
    field("generated_at", "生成时间", T::DateTime, OPTIONAL, Internal),
    field("submitted_at", "报送时间", T::DateTime, OPTIONAL, Internal),
    field(
        "applicant_count",
        "申请企业数",
        T::Integer,
        OPTIONAL,
        Internal,
    ),
    field(
        "granted_count",
        "准予许可数",
        T::Integer,
        OPTIONAL,
        Internal,
    ),
    field(
        "refused_count",
        "不予许可数",
        T::Integer,
        OPTIONAL,
        Internal,
    ),
    field("changed_count", "变更数", T::Integer, OPTIONAL, Internal),
    field(
        "terminated_count",
        "撤回、撤销、吊销和注销数",
        T::Integer,
        OPTIONAL,
        Internal,
    ),
    field("content", "内容", T::LongText, REQUIRED, Internal),
    // Art. 20: the yearly report's four contents, each a narrative beside the figures the
    // report computes (年度审查、巡查回访、定期监督、问题企业处理); required before a yearly
    // report is submitted, empty in a monthly one.
    field(
        "annual_review_narrative",
        "年度审查情况",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field(
        "patrol_visit_narrative",
        "巡查回访情况",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field(
        "periodic_supervision_narrative",
        "定期监督情况",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field(
        "problem_handling_narrative",
        "对存在问题的企业处理情况",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field(
        "supersedes",
        "替代报告",
        T::RecordRef("reports"),
        OPTIONAL,
        Internal,
    ),
    field("remarks", "备注", T::LongText, OPTIONAL, Internal),
];

// Art. 37, 38: a node asks its superior to approve destroying records whose five years are
// over; the superior's signed decision comes back in the same record (`approval`: the signed
// payload, the signature and the signer's certificate chain), and the node destroys only what a
// valid approval names.
// Art. 26, Attachment 3: an inspection body files the change of its details with the national
// centre from its own node; the provincial bureau gives its opinion in a record of its own,
// addressed to the body (`filing` names the filing it answers). Both reach the national centre,
// which applies the change to the registry (Art. 31).
const INSPECTION_BODY_FILING_FIELDS: &[Field] = &[
    field("body_name", "检验机构名称", T::Text, REQUIRED, Internal),
    field(
        "products_inspected",
        "承检产品名称",
        T::Text,
        OPTIONAL,
        Internal,
    ),
    field(
        "changes",
        "变更事项",
        T::Table(INSPECTION_BODY_FILING_CHANGE_FIELDS),
        OPTIONAL,
        Internal,
    ),
    field("filing_date", "备案日期", T::Date, OPTIONAL, Internal),
    field(
        "body_opinion",
        "检验机构意见",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field(
        "filing",
        "所答复的变更备案",
        T::RecordRef("inspection_body_filings"),
        OPTIONAL,
        Internal,
    ),
    field(
        "provincial_opinion",
        "省级质量技术监督局意见",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field("opinion_date", "意见日期", T::Date, OPTIONAL, Internal),
];

const INSPECTION_BODY_FILING_CHANGE_FIELDS: &[Field] = &[
    field(
        "changed_item",
        "变更事项",
        T::Enum(INSPECTION_BODY_CHANGE_ITEM_VALUES),
        REQUIRED,
        Internal,
    ),
    field("value_before", "变更前", T::Text, REQUIRED, Internal),
    field("value_after", "变更后", T::Text, REQUIRED, Internal),
];

const DESTRUCTION_FIELDS: &[Field] = &[
    field("record_ids", "待销毁记录", T::LongText, REQUIRED, Internal),
    field(
        "requesting_node",
        "申请单位代码",
        T::Text,
        REQUIRED,
        Internal,
    ),
    field("requested_date", "申请日期", T::Date, REQUIRED, Internal),
    field("reason", "销毁理由", T::LongText, OPTIONAL, Internal),
    field(
        "decision",
        "审批结果",
        T::Enum(DESTRUCTION_DECISION_VALUES),
        REQUIRED,
        Internal,
    ),
    field(
        "approving_node",
        "审批单位代码",
        T::Text,
        OPTIONAL,
        Internal,
    ),
    field("approver", "审批人", T::Text, OPTIONAL, Internal),
    field("approved_at", "审批时间", T::DateTime, OPTIONAL, Internal),
    field(
        "expires_at",
        "批准有效期至",
        T::DateTime,
        OPTIONAL,
        Internal,
    ),
    field(
        "decision_remarks",
        "审批意见",
        T::LongText,
        OPTIONAL,
        Internal,
    ),
    field("approval", "审批签名", T::LongText, OPTIONAL, Internal),
    field("destroyed_at", "销毁时间", T::DateTime, OPTIONAL, Internal),
];

static COLLECTIONS: [Collection; 18] = [
    Collection {
        name: "applications",
        label_zh: "申请许可证企业",
        articles: &[5, 6, 18],
        direction: Direction::Up,
        // Art. 34: a county or prefecture may be entrusted with acceptance.
        authoring_levels: &[National, Province, Prefecture, County],
        public: false,
        fields: APPLICATION_FIELDS,
        enterprise_name_field: Some("enterprise_name"),
        licence_number_field: None,
        credit_code_field: Some("credit_code"),
        status_field: Some("stage"),
    },
    Collection {
        name: "review_plans",
        label_zh: "企业审查计划（实地核查计划）",
        articles: &[7, 21],
        direction: Direction::Up,
        authoring_levels: &[ReviewDepartment, Province],
        public: false,
        fields: REVIEW_PLAN_FIELDS,
        enterprise_name_field: Some("enterprise_name"),
        licence_number_field: None,
        credit_code_field: Some("credit_code"),
        status_field: None,
    },
    Collection {
        name: "site_verifications",
        label_zh: "企业实地核查档案",
        articles: &[8, 22],
        direction: Direction::Up,
        authoring_levels: &[Province, ReviewDepartment],
        public: false,
        fields: SITE_VERIFICATION_FIELDS,
        enterprise_name_field: Some("enterprise_name"),
        licence_number_field: None,
        credit_code_field: Some("credit_code"),
        status_field: None,
    },
    Collection {
        name: "inspections",
        label_zh: "产品检验档案",
        articles: &[9, 23],
        direction: Direction::Up,
        authoring_levels: &[InspectionBody],
        public: false,
        fields: INSPECTION_FIELDS,
        enterprise_name_field: Some("enterprise_name"),
        licence_number_field: None,
        credit_code_field: Some("credit_code"),
        status_field: None,
    },
    Collection {
        name: "refusals",
        label_zh: "不予许可企业",
        articles: &[10, 19],
        direction: Direction::Up,
        authoring_levels: &[National, Province],
        public: false,
        fields: REFUSAL_FIELDS,
        enterprise_name_field: Some("enterprise_name"),
        licence_number_field: None,
        credit_code_field: Some("credit_code"),
        status_field: None,
    },
    Collection {
        name: "licences",
        label_zh: "获证企业",
        articles: &[11, 19, 27],
        direction: Direction::Both,
        authoring_levels: &[National, Province],
        public: true,
        fields: LICENCE_FIELDS,
        enterprise_name_field: Some("enterprise_name"),
        licence_number_field: Some("licence_number"),
        credit_code_field: Some("credit_code"),
        status_field: Some("status"),
    },
    Collection {
        name: "licence_events",
        label_zh: "许可证变更、撤回、撤销、吊销和注销",
        articles: &[13, 19, 28],
        direction: Direction::Both,
        authoring_levels: &[National, Province],
        public: true,
        fields: LICENCE_EVENT_FIELDS,
        enterprise_name_field: Some("enterprise_name"),
        licence_number_field: Some("licence_number"),
        credit_code_field: Some("credit_code"),
        status_field: None,
    },
    Collection {
        name: "quality_archives",
        label_zh: "获证企业质量档案",
        articles: &[12, 29],
        direction: Direction::Up,
        authoring_levels: &[National, Province, Prefecture, County],
        public: false,
        fields: QUALITY_ARCHIVE_FIELDS,
        enterprise_name_field: Some("enterprise_name"),
        licence_number_field: Some("licence_number"),
        credit_code_field: Some("credit_code"),
        status_field: None,
    },
    Collection {
        name: "letters_visits",
        label_zh: "人民来信来访处理答复档案",
        articles: &[14],
        direction: Direction::Up,
        authoring_levels: &[National, Province],
        public: false,
        fields: LETTER_VISIT_FIELDS,
        enterprise_name_field: Some("enterprise_name"),
        licence_number_field: Some("licence_number"),
        credit_code_field: Some("credit_code"),
        status_field: Some("handling_status"),
    },
    Collection {
        name: "reviewers",
        label_zh: "生产许可证审查员",
        articles: &[15, 30, 32],
        direction: Direction::Down,
        authoring_levels: &[National],
        public: true,
        fields: REVIEWER_FIELDS,
        enterprise_name_field: Some("name"),
        licence_number_field: None,
        credit_code_field: None,
        status_field: Some("status"),
    },
    Collection {
        name: "review_departments",
        label_zh: "审查部",
        articles: &[16, 31, 32, 35],
        direction: Direction::Down,
        authoring_levels: &[National],
        public: true,
        fields: REVIEW_DEPARTMENT_FIELDS,
        enterprise_name_field: Some("name"),
        licence_number_field: None,
        credit_code_field: Some("credit_code"),
        status_field: Some("status"),
    },
    Collection {
        name: "inspection_bodies",
        label_zh: "检验机构",
        articles: &[17, 26, 31, 32, 35],
        direction: Direction::Down,
        authoring_levels: &[National],
        public: true,
        fields: INSPECTION_BODY_FIELDS,
        enterprise_name_field: Some("name"),
        licence_number_field: None,
        credit_code_field: Some("credit_code"),
        status_field: Some("status"),
    },
    Collection {
        name: "notices",
        label_zh: "监督抽查不合格及审查问题通报",
        articles: &[24, 25],
        direction: Direction::Both,
        authoring_levels: &[National, Province, ReviewDepartment],
        public: false,
        fields: NOTICE_FIELDS,
        enterprise_name_field: Some("enterprise_name"),
        licence_number_field: Some("licence_number"),
        credit_code_field: Some("credit_code"),
        status_field: Some("status"),
    },
    Collection {
        name: "publications",
        label_zh: "公开信息",
        articles: &[33, 34],
        direction: Direction::Down,
        authoring_levels: &[National, Province, Prefecture, County],
        public: true,
        fields: PUBLICATION_FIELDS,
        enterprise_name_field: Some("title"),
        licence_number_field: None,
        credit_code_field: None,
        status_field: Some("status"),
    },
    Collection {
        name: "supervision_reports",
        label_zh: "获证企业后续监管报告",
        articles: &[20],
        direction: Direction::Up,
        authoring_levels: &[Province, Prefecture, County],
        public: false,
        fields: SUPERVISION_REPORT_FIELDS,
        enterprise_name_field: None,
        licence_number_field: None,
        credit_code_field: None,
        status_field: Some("status"),
    },
    Collection {
        name: "reports",
        label_zh: "月报和年报",
        articles: &[18, 19, 20],
        direction: Direction::Up,
        authoring_levels: &[National, Province, Prefecture, County],
        public: false,
        fields: REPORT_FIELDS,
        enterprise_name_field: None,
        licence_number_field: None,
        credit_code_field: None,
        status_field: Some("status"),
    },
    Collection {
        name: "destructions",
        label_zh: "档案销毁审批",
        articles: &[37, 38],
        direction: Direction::Both,
        // Review departments and inspection bodies keep archives too; the national node
        // decides their requests (Art. 37, 38).
        authoring_levels: &[
            National,
            Province,
            Prefecture,
            County,
            ReviewDepartment,
            InspectionBody,
        ],
        public: false,
        fields: DESTRUCTION_FIELDS,
        enterprise_name_field: None,
        licence_number_field: None,
        credit_code_field: None,
        status_field: Some("decision"),
    },
    Collection {
        name: "inspection_body_filings",
        label_zh: "检验机构信息变更备案",
        articles: &[26, 31],
        direction: Direction::Both,
        authoring_levels: &[InspectionBody, Province],
        public: false,
        fields: INSPECTION_BODY_FILING_FIELDS,
        enterprise_name_field: Some("body_name"),
        licence_number_field: None,
        credit_code_field: None,
        status_field: None,
    },
];

/// All eighteen collections.
pub fn collections() -> &'static [Collection] {
    &COLLECTIONS
}

/// The collection with this name.
pub fn collection(name: &str) -> Option<&'static Collection> {
    COLLECTIONS
        .iter()
        .find(|collection| collection.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn is_field_name(name: &str) -> bool {
        !name.is_empty()
            && !name.starts_with('_')
            && !name.ends_with('_')
            && !name.contains("__")
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
    }

    fn all_fields(fields: &'static [Field]) -> Vec<&'static Field> {
        let mut found = Vec::new();
        for field in fields {
            found.push(field);
            if let T::Table(sub_fields) = field.field_type {
                found.extend(all_fields(sub_fields));
            }
        }
        found
    }

    #[test]
    fn there_are_eighteen_collections_with_unique_snake_case_names() {
        assert_eq!(collections().len(), 18);
        let names: HashSet<_> = collections().iter().map(|c| c.name).collect();
        assert_eq!(names.len(), 18);
        for collection in collections() {
            assert!(is_field_name(collection.name), "{}", collection.name);
            assert!(!collection.label_zh.is_empty());
            assert!(!collection.articles.is_empty());
            assert!(
                collection
                    .articles
                    .iter()
                    .all(|article| (1..=40).contains(article))
            );
            assert!(!collection.authoring_levels.is_empty());
            assert_eq!(super::collection(collection.name), Some(collection));
        }
        assert!(super::collection("nonexistent").is_none());
    }

    #[test]
    fn the_brief_names_every_collection() {
        for name in [
            "applications",
            "review_plans",
            "site_verifications",
            "inspections",
            "refusals",
            "licences",
            "licence_events",
            "quality_archives",
            "letters_visits",
            "reviewers",
            "review_departments",
            "inspection_bodies",
            "notices",
            "publications",
            "supervision_reports",
            "reports",
        ] {
            assert!(super::collection(name).is_some(), "{name}");
        }
    }

    #[test]
    fn field_names_are_snake_case_ascii_unique_and_never_start_with_an_underscore() {
        for collection in collections() {
            let check = |fields: &'static [Field], context: &str| {
                let mut seen = HashSet::new();
                for field in fields {
                    assert!(is_field_name(field.name), "{context}.{}", field.name);
                    assert!(
                        seen.insert(field.name),
                        "duplicate {context}.{}",
                        field.name
                    );
                    assert!(!field.label_zh.is_empty(), "{context}.{}", field.name);
                }
            };
            check(collection.fields, collection.name);
            for field in collection.fields {
                if let T::Table(sub_fields) = field.field_type {
                    check(sub_fields, field.name);
                    assert!(
                        sub_fields
                            .iter()
                            .all(|sub| !matches!(sub.field_type, T::Table(_))),
                        "tables do not nest"
                    );
                }
            }
        }
    }

    #[test]
    fn the_search_fields_exist_and_have_the_right_types() {
        for collection in collections() {
            if let Some(name) = collection.enterprise_name_field {
                assert_eq!(collection.field(name).map(|f| f.field_type), Some(T::Text));
            }
            if let Some(name) = collection.licence_number_field {
                assert_eq!(
                    collection.field(name).map(|f| f.field_type),
                    Some(T::LicenceNumber),
                    "{}",
                    collection.name
                );
            }
            if let Some(name) = collection.credit_code_field {
                assert_eq!(
                    collection.field(name).map(|f| f.field_type),
                    Some(T::CreditCode)
                );
            }
            if let Some(name) = collection.status_field {
                assert!(
                    matches!(
                        collection.field(name).map(|f| f.field_type),
                        Some(T::Enum(_))
                    ),
                    "{}",
                    collection.name
                );
            }
        }
    }

    #[test]
    fn enum_values_are_unique_snake_case_with_labels() {
        for collection in collections() {
            for field in all_fields(collection.fields) {
                if let T::Enum(values) = field.field_type {
                    assert!(!values.is_empty());
                    let mut seen_values = HashSet::new();
                    let mut seen_labels = HashSet::new();
                    for enum_value in values {
                        assert!(is_field_name(enum_value.value), "{}", enum_value.value);
                        assert!(seen_values.insert(enum_value.value));
                        assert!(seen_labels.insert(enum_value.label_zh));
                    }
                }
            }
        }
    }

    #[test]
    fn record_references_name_existing_collections() {
        for collection in collections() {
            for field in all_fields(collection.fields) {
                if let T::RecordRef(target) = field.field_type {
                    assert!(
                        super::collection(target).is_some(),
                        "{} -> {target}",
                        field.name
                    );
                }
            }
        }
    }

    #[test]
    fn collections_that_are_not_public_publish_nothing() {
        for collection in collections().iter().filter(|c| !c.public) {
            assert_eq!(collection.public_fields().count(), 0, "{}", collection.name);
        }
        for name in [
            "applications",
            "inspections",
            "site_verifications",
            "letters_visits",
            "reports",
            "review_plans",
            "refusals",
            "quality_archives",
            "supervision_reports",
            "notices",
        ] {
            assert!(super::collection(name).is_some_and(|c| !c.public), "{name}");
        }
    }

    #[test]
    fn public_collections_publish_at_least_something_and_hold_no_secret_in_public() {
        for collection in collections().iter().filter(|c| c.public) {
            assert!(
                collection.public_fields().count() > 0,
                "{}",
                collection.name
            );
            assert!(
                collection
                    .public_fields()
                    .all(|f| f.classification == Public)
            );
        }
    }

    fn public_names(name: &str) -> HashSet<&'static str> {
        super::collection(name)
            .map(|c| c.public_fields().map(|f| f.name).collect())
            .unwrap_or_default()
    }

    #[test]
    fn the_licence_list_publishes_what_art_27_names_and_not_the_addresses() {
        let public = public_names("licences");
        for name in [
            "enterprise_name",
            "product_name",
            "licence_number",
            "approval_date",
            "valid_until",
        ] {
            assert!(public.contains(name), "{name}");
        }
        for name in [
            "residence_address",
            "production_address",
            "application",
            "remarks",
        ] {
            assert!(!public.contains(name), "{name}");
        }
    }

    #[test]
    fn the_cancellation_list_publishes_what_art_28_names() {
        let public = public_names("licence_events");
        for name in [
            "enterprise_name",
            "product_name",
            "licence_number",
            "licence_date",
            "reason",
        ] {
            assert!(public.contains(name), "{name}");
        }
        assert!(!public.contains("licence"));
    }

    #[test]
    fn reviewers_publish_registration_but_never_identity_birth_date_or_phone() {
        let public = public_names("reviewers");
        for name in [
            "name",
            "registration_number",
            "registration_level",
            "valid_until",
        ] {
            assert!(public.contains(name), "{name}");
        }
        for name in ["id_number", "birth_date", "phone", "email", "sex"] {
            assert!(!public.contains(name), "{name}");
        }
        let id_number = super::collection("reviewers").and_then(|c| c.field("id_number"));
        assert_eq!(id_number.map(|f| f.classification), Some(Secret));
    }

    #[test]
    fn review_departments_and_inspection_bodies_publish_their_contacts_only() {
        for collection_name in ["review_departments", "inspection_bodies"] {
            let public = public_names(collection_name);
            for name in ["name", "address", "contact_person", "phone"] {
                assert!(public.contains(name), "{collection_name}.{name}");
            }
            for name in ["internal_rules", "staff", "office_conditions", "nature"] {
                assert!(!public.contains(name), "{collection_name}.{name}");
            }
        }
    }

    #[test]
    fn enterprise_secrets_are_classified_secret() {
        for (collection_name, field_name) in [
            ("applications", "production_conditions"),
            ("quality_archives", "production_conditions"),
            ("quality_archives", "annual_output_value"),
            ("inspections", "raw_records"),
            ("site_verifications", "verification_record"),
            ("letters_visits", "content"),
            ("letters_visits", "petitioner_phone"),
        ] {
            let classification = super::collection(collection_name)
                .and_then(|c| c.field(field_name))
                .map(|f| f.classification);
            assert_eq!(
                classification,
                Some(Secret),
                "{collection_name}.{field_name}"
            );
        }
    }

    #[test]
    fn directions_follow_chapter_3() {
        let direction = |name| super::collection(name).map(|c| c.direction);
        for name in [
            "applications",
            "refusals",
            "quality_archives",
            "supervision_reports",
            "reports",
            "letters_visits",
            "review_plans",
            "site_verifications",
            "inspections",
        ] {
            assert_eq!(direction(name), Some(Direction::Up), "{name}");
        }
        for name in [
            "reviewers",
            "review_departments",
            "inspection_bodies",
            "publications",
        ] {
            assert_eq!(direction(name), Some(Direction::Down), "{name}");
        }
        assert_eq!(direction("notices"), Some(Direction::Both));
        // Art. 12, 29: licences and their events also go down into the enterprise's territory.
        assert_eq!(direction("licences"), Some(Direction::Both));
        assert_eq!(direction("licence_events"), Some(Direction::Both));
        // Art. 38: the request goes up to the superior, its decision comes back down.
        assert_eq!(direction("destructions"), Some(Direction::Both));
    }

    #[test]
    fn licence_status_and_event_kinds_use_the_shared_value_sets() {
        let licences = super::collection("licences");
        assert_eq!(
            licences
                .and_then(|c| c.field("status"))
                .map(|f| f.field_type),
            Some(T::Enum(LICENCE_STATUS_VALUES))
        );
        let events = super::collection("licence_events");
        assert_eq!(
            events
                .and_then(|c| c.field("event_kind"))
                .map(|f| f.field_type),
            Some(T::Enum(EVENT_KIND_VALUES))
        );
    }
}
