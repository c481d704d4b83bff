//! What the refusals of the work flows (licence actions, reports, retention) say in Chinese,
//! by their stable codes (the codes and the decisions stay in the services), and how their
//! pages write a time.

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
pub(crate) fn refusal(code: &str) -> Option<&'static str> {
    let text = match code {
        "licence_not_active" => "许可证已撤回、撤销、吊销或注销，不再办理其他事项（第28条）",
        "action_not_pending" => "该事项已经审批（批准或退回），不能再次审批",
        "reason_required" => "退回须填写理由",
        "not_a_licence" => "这条记录不是许可证",
        "unknown_event_kind" => "请选择事项类型：变更、撤回、撤销、吊销或注销",
        "period_not_ended" => "该报告期尚未结束，不能生成报表（第18—20条）",
        "report_already_submitted" => "报表已报送；更正请重新生成该期报表，形成下一版本",
        "report_not_own" => "这是其他节点的报表，只有编制报表的节点可以报送",
        "narrative_missing" => "年度报告须先在“备注”中填写工作情况说明，才能报送（第20条）",
        "invalid_period" => "报告期格式不对（月报如 2024-05，年报如 2024）",
        "unknown_report_kind" => "报表类型应为月报或年报",
        "wrong_report_kind" => "附件1由月报生成",
        "nothing_due" => "没有已到保管期限的档案",
        "no_superior" => {
            "国家级节点没有上级：须在配置 [retention] national_approvers 中指定第二审批人后才能申请销毁（第38条）"
        }
        "not_a_designated_approver" => "国家级节点的销毁须由指定的第二审批人批准（第38条）",
        "approver_is_requester" => {
            "销毁申请人不能批准自己的申请，须由另一名指定审批人批准（第38条）"
        }
        "too_many_records" => "一次申请的档案过多，请分批申请",
        "record_not_due" => "所选档案尚未到保管期限（第37条）",
        "record_never_due" => "所选档案尚未办结或须永久保存，不会到期",
        "record_unknown" => "本节点没有所选的档案",
        "not_a_superior" => "只有申请节点的直接上级可以审批销毁申请（第38条）",
        "already_decided" => "该销毁申请已经审批",
        "not_a_destruction_request" => "这条记录不是销毁申请",
        "no_node_key" => "本节点尚无证书，不能签署或验证销毁审批",
        "not_approved" => "销毁申请尚未获上级批准",
        "approval_refused" => "上级未批准该销毁申请",
        "already_destroyed" => "所列档案已经销毁",
        _ => return None,
    };
    Some(text)
}
