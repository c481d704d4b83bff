//! What the refusals of the work flows (licence actions, reports, retention) say in Chinese,
//! by their stable codes (the codes and the decisions stay in the services), and how their
//! pages write a time.

use crate::error::ErrorCode;
/// A time as the work-flow pages show it: China time to the minute (`2026-12-06 08:45`).
pub(crate) fn china_time(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|time| {
            time.with_timezone(&licnode_app::clock::china())
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// The Chinese wording of a work-flow refusal, if `code` is one.
pub(crate) fn refusal(code: ErrorCode) -> Option<&'static str> {
    let text = match code {
        ErrorCode::LicenceNotActive => "许可证已撤回、撤销、吊销或注销，不再办理其他事项（第28条）",
        ErrorCode::ActionNotPending => "该事项已经审批（批准或退回），不能再次审批",
        ErrorCode::ReasonRequired => "退回须填写理由",
        ErrorCode::NotALicence => "这条记录不是许可证",
        ErrorCode::UnknownEventKind => "请选择事项类型：变更、撤回、撤销、吊销或注销",
        ErrorCode::PeriodNotEnded => "该报告期尚未结束，不能生成报表（第18—20条）",
        ErrorCode::ReportAlreadySubmitted => "报表已报送；更正请重新生成该期报表，形成下一版本",
        ErrorCode::ReportNotOwn => "这是其他节点的报表，只有编制报表的节点可以报送",
        ErrorCode::NarrativeMissing => {
            "年度报告须先填写年度审查、巡查回访、定期监督和问题企业处理四部分情况说明，才能报送（第20条）"
        }
        ErrorCode::InvalidPeriod => "报告期格式不对（月报如 2024-05，年报如 2024）",
        ErrorCode::UnknownReportKind => "报表类型应为月报或年报",
        ErrorCode::WrongReportKind => "附件1由月报生成",
        ErrorCode::BadFillDate => "填报日期只能取报表的填报日期（report）或留空手写（blank）",
        ErrorCode::NothingDue => "没有已到保管期限的档案",
        ErrorCode::NoSuperior => {
            "国家级节点没有上级：须在配置 [retention] national_approvers 中指定第二审批人后才能申请销毁（第38条）"
        }
        ErrorCode::NotADesignatedApprover => "国家级节点的销毁须由指定的第二审批人批准（第38条）",
        ErrorCode::ApproverIsRequester => {
            "销毁申请人不能批准自己的申请，须由另一名指定审批人批准（第38条）"
        }
        ErrorCode::TooManyRecords => "一次申请的档案过多，请分批申请",
        ErrorCode::RecordNotDue => "所选档案尚未到保管期限（第37条）",
        ErrorCode::RecordNeverDue => "所选档案尚未办结或须永久保存，不会到期",
        ErrorCode::RecordUnknown => "本节点没有所选的档案",
        ErrorCode::NotASuperior => "只有申请节点的直接上级可以审批销毁申请（第38条）",
        ErrorCode::AlreadyDecided => "该销毁申请已经审批",
        ErrorCode::NotADestructionRequest => "这条记录不是销毁申请",
        ErrorCode::NoNodeKey => "本节点尚无证书，不能签署或验证销毁审批",
        ErrorCode::NotApproved => "销毁申请尚未获上级批准",
        ErrorCode::ApprovalRefused => "上级未批准该销毁申请",
        ErrorCode::AlreadyDestroyed => "所列档案已经销毁",
        _ => return None,
    };
    Some(text)
}
