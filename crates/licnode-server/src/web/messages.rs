//! What refusals and validation problems say in Chinese, by their stable codes: the codes and
//! the decisions stay in the services; here is only how a page words them.

use crate::error::ErrorCode;
/// A refusal of the records service or of a form, in Chinese. `fallback` (the service's own
/// message) is shown for a code not worded here.
pub(crate) fn refusal(code: ErrorCode, fallback: &str) -> String {
    let text = match code {
        ErrorCode::ApprovalRequired => {
            "此项变更须由审批人批准（第13、18—20、28条）：经办人不能直接提交许可证的撤回、撤销、吊销、注销或报表报送"
        }
        ErrorCode::ForbiddenRole => "您的角色只能查看，不能录入或修改",
        ErrorCode::OutsideJurisdiction => "所选行政区划不在本节点的辖区内",
        ErrorCode::InvalidJurisdiction => "所选的不是有效的行政区划代码",
        ErrorCode::ReadOnlyCopy => {
            "这是上级节点发布记录的只读副本，只有发布的节点可以修改（第32条）"
        }
        ErrorCode::LicenceTerminal => "许可证已撤回、撤销、吊销或注销，其状态不能再改变（第28条）",
        ErrorCode::ReportSubmitted => "报表已报送，不再修改；更正请重新生成该期报表的下一版本",
        ErrorCode::UseRetentionApi => "档案销毁申请须通过档案保管功能提出和审批（第38条）",
        ErrorCode::NotFound => "没有这条记录",
        ErrorCode::UnknownCollection => "没有这个数据库",
        ErrorCode::UnknownFilter => "筛选条件不是该数据库的字段",
        ErrorCode::QueryTooShort => "按名称查询至少需要两个字",
        ErrorCode::MissingQuery => "请输入企业名称、证书编号或统一社会信用代码",
        ErrorCode::BadCursor | ErrorCode::BadLimit | ErrorCode::BadQuery => {
            "翻页参数无效，请回到第一页"
        }
        ErrorCode::BadCsrfToken => "表单已失效或不是从本系统的页面提交的：请刷新页面后重新提交",
        ErrorCode::TooManyAttempts => "登录失败次数过多，请稍后再试",
        ErrorCode::ValidationFailed => "有字段未通过校验，请按提示修改",
        ErrorCode::OutsideRegulation => {
            "加工食品、食品相关产品和化妆品不适用本规定（第3条），不能录入"
        }
        ErrorCode::SecretNotForRole => {
            "秘密字段（第36条）只向审批人和管理员显示原值；其他角色看到的是屏蔽后的内容"
        }
        ErrorCode::UnknownReference => {
            "引用的记录本节点没有（例如许可证尚未下发到本节点）：请从本节点持有的记录中选择"
        }
        ErrorCode::ReferenceMismatch => "填写的内容与所选许可证不一致：留空即按许可证填写",
        ErrorCode::Internal => "节点暂时无法完成请求，错误已记入日志",
        ErrorCode::AuthorNotAllowed => "按许可权限表，本节点无权录入或修改这类记录",
        code if super::flow_messages::refusal(code).is_some() => {
            super::flow_messages::refusal(code).unwrap_or_default()
        }
        _ => "",
    };
    if text.is_empty() {
        fallback.to_string()
    } else {
        text.to_string()
    }
}

/// A validation problem of one field, in Chinese, by its code from `licnode_model::codes`.
pub(crate) fn field_problem(code: &str, fallback: &str) -> String {
    use licnode_model::codes;
    let text = match code {
        codes::MISSING_REQUIRED => "必填",
        codes::REQUIRED_FIELD_CLEARED => "必填项不能清空",
        codes::UNKNOWN_FIELD => "没有这个字段",
        codes::WRONG_TYPE => "内容的类型不对",
        codes::TOO_LONG => "内容过长",
        codes::INVALID_TEXT => "含有不能保存的控制字符或不可见字符",
        codes::INVALID_DATE => "不是有效的日期（年-月-日）",
        codes::INVALID_DATETIME => "不是有效的日期时间",
        codes::INVALID_INTEGER => "须为整数",
        codes::INVALID_BOOLEAN => "请选择“是”或“否”",
        codes::INVALID_ENUM_VALUE => "不是可选的值",
        codes::INVALID_CREDIT_CODE => "统一社会信用代码应为18位（GB 32100-2015）",
        codes::CREDIT_CODE_CHECK_FAILED => "统一社会信用代码的校验码不符，已按填写内容保存",
        codes::INVALID_LICENCE_NUMBER => "证书编号格式应如 (苏)XK13-006-00032",
        codes::INVALID_DIVISION_CODE => "不是有效的行政区划代码（GB/T 2260）",
        codes::INVALID_ID_NUMBER => "不是有效的居民身份证号码",
        codes::INVALID_PHONE => "不是有效的电话号码",
        codes::INVALID_EMAIL => "不是有效的电子邮箱地址",
        codes::INVALID_POSTCODE => "邮政编码应为6位数字",
        codes::INVALID_RECORD_REF => "不是有效的记录编号",
        codes::INVALID_PERIOD => "报告期格式不对（月报如 2024-05，年报如 2024）",
        codes::MASKED_VALUE => "这是秘密字段屏蔽后的占位符，不能作为取值保存（第36条）",
        codes::DATES_OUT_OF_ORDER => "日期先后顺序不合理，已按填写内容保存",
        _ => "",
    };
    if text.is_empty() {
        fallback.to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_validation_code_of_the_model_is_worded_in_chinese() {
        for code in licnode_model::codes::ERRORS
            .iter()
            .chain(licnode_model::codes::WARNINGS)
        {
            assert_ne!(
                field_problem(code, "untranslated"),
                "untranslated",
                "{code}"
            );
        }
    }
}
