//! Word lists the generator builds names, addresses and texts from.

/// Common surnames with their pinyin, most common first (the generator favours the front).
pub const SURNAMES: &[(&str, &str)] = &[
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
    ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"),
    ("郭", "guo"), ("何", "he"), ("高", "gao"), ("林", "lin"), ("罗", "luo"),
    ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"),
    ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
    ("彭", "peng"), ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"), ("董", "dong"),
    ("袁", "yuan"), ("潘", "pan"), ("于", "yu"), ("蒋", "jiang"), ("蔡", "cai"),
    ("余", "yu"), ("杜", "du"), ("叶", "ye"), ("程", "cheng"), ("苏", "su"),
    ("魏", "wei"), ("吕", "lv"), ("丁", "ding"), ("任", "ren"), ("沈", "shen"),
    ("姚", "yao"), ("卢", "lu"), ("姜", "jiang"), ("崔", "cui"), ("钟", "zhong"),
    ("谭", "tan"), ("陆", "lu"), ("汪", "wang"), ("范", "fan"), ("金", "jin"),
    ("石", "shi"), ("廖", "liao"), ("贾", "jia"), ("夏", "xia"), ("韦", "wei"),
    ("付", "fu"), ("方", "fang"), ("白", "bai"), ("邹", "zou"), ("孟", "meng"),
    ("熊", "xiong"), ("秦", "qin"), ("邱", "qiu"), ("江", "jiang"), ("尹", "yin"),
    ("薛", "xue"), ("闫", "yan"), ("段", "duan"), ("雷", "lei"), ("侯", "hou"),
    ("龙", "long"), ("史", "shi"), ("陶", "tao"), ("黎", "li"), ("贺", "he"),
    ("顾", "gu"), ("毛", "mao"), ("郝", "hao"), ("龚", "gong"), ("邵", "shao"),
    ("万", "wan"), ("钱", "qian"), ("严", "yan"), ("覃", "qin"), ("武", "wu"),
    ("戴", "dai"), ("莫", "mo"), ("孔", "kong"), ("向", "xiang"), ("汤", "tang"),
    ("欧阳", "ouyang"), ("司马", "sima"), ("上官", "shangguan"), ("诸葛", "zhuge"),
];

/// Characters of given names with their pinyin.
pub const GIVEN_NAME_CHARACTERS: &[(&str, &str)] = &[
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"),
    ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"),
    ("明", "ming"), ("超", "chao"), ("秀", "xiu"), ("霞", "xia"), ("平", "ping"),
    ("刚", "gang"), ("桂", "gui"), ("英", "ying"), ("华", "hua"), ("建", "jian"),
    ("国", "guo"), ("文", "wen"), ("辉", "hui"), ("玲", "ling"), ("斌", "bin"),
    ("宇", "yu"), ("浩", "hao"), ("凯", "kai"), ("健", "jian"), ("俊", "jun"),
    ("帆", "fan"), ("帅", "shuai"), ("旭", "xu"), ("宁", "ning"), ("龙", "long"),
    ("林", "lin"), ("欣", "xin"), ("佳", "jia"), ("怡", "yi"), ("雪", "xue"),
    ("婷", "ting"), ("倩", "qian"), ("晨", "chen"), ("阳", "yang"), ("鹏", "peng"),
    ("飞", "fei"), ("峰", "feng"), ("波", "bo"), ("红", "hong"), ("梅", "mei"),
    ("兰", "lan"), ("春", "chun"), ("志", "zhi"), ("海", "hai"), ("东", "dong"),
    ("亮", "liang"), ("成", "cheng"), ("新", "xin"), ("宏", "hong"), ("晓", "xiao"),
    ("云", "yun"), ("振", "zhen"), ("子", "zi"), ("嘉", "jia"), ("博", "bo"),
    ("睿", "rui"), ("思", "si"), ("雨", "yu"), ("泽", "ze"), ("琳", "lin"),
    ("瑶", "yao"), ("鑫", "xin"), ("婧", "jing"), ("丹", "dan"), ("颖", "ying"),
    ("慧", "hui"), ("莉", "li"), ("燕", "yan"), ("荣", "rong"), ("德", "de"),
    ("永", "yong"), ("利", "li"), ("祥", "xiang"), ("福", "fu"), ("生", "sheng"),
    ("金", "jin"), ("玉", "yu"), ("立", "li"), ("安", "an"), ("家", "jia"),
    ("光", "guang"), ("天", "tian"), ("中", "zhong"), ("正", "zheng"), ("诚", "cheng"),
    ("卫", "wei"), ("民", "min"), ("庆", "qing"), ("昌", "chang"), ("秋", "qiu"),
    ("冬", "dong"), ("琴", "qin"), ("璐", "lu"), ("萍", "ping"), ("玮", "wei"),
    ("轩", "xuan"), ("然", "ran"), ("昊", "hao"), ("宸", "chen"), ("一", "yi"),
    ("梓", "zi"), ("涵", "han"), ("诗", "shi"), ("若", "ruo"), ("晴", "qing"),
    ("悦", "yue"), ("彤", "tong"), ("瑜", "yu"), ("松", "song"), ("柏", "bai"),
];

/// Characters of enterprises' trade names (字号) with their pinyin; a trade name is two of them.
pub const TRADE_NAME_CHARACTERS: &[(&str, &str)] = &[
    ("恒", "heng"), ("华", "hua"), ("鑫", "xin"), ("宏", "hong"), ("瑞", "rui"),
    ("永", "yong"), ("金", "jin"), ("泰", "tai"), ("盛", "sheng"), ("汇", "hui"),
    ("中", "zhong"), ("天", "tian"), ("新", "xin"), ("东", "dong"), ("远", "yuan"),
    ("兴", "xing"), ("富", "fu"), ("佳", "jia"), ("宇", "yu"), ("晨", "chen"),
    ("海", "hai"), ("博", "bo"), ("正", "zheng"), ("信", "xin"), ("诚", "cheng"),
    ("嘉", "jia"), ("德", "de"), ("荣", "rong"), ("安", "an"), ("广", "guang"),
    ("明", "ming"), ("光", "guang"), ("大", "da"), ("长", "chang"), ("百", "bai"),
    ("万", "wan"), ("联", "lian"), ("通", "tong"), ("润", "run"), ("振", "zhen"),
    ("隆", "long"), ("昌", "chang"), ("达", "da"), ("凯", "kai"), ("创", "chuang"),
    ("力", "li"), ("科", "ke"), ("捷", "jie"), ("康", "kang"), ("立", "li"),
    ("伟", "wei"), ("益", "yi"), ("和", "he"), ("美", "mei"), ("亚", "ya"),
    ("欧", "ou"), ("环", "huan"), ("宝", "bao"), ("神", "shen"), ("龙", "long"),
    ("腾", "teng"), ("飞", "fei"), ("鸿", "hong"), ("锦", "jin"), ("卓", "zhuo"),
    ("银", "yin"), ("峰", "feng"), ("江", "jiang"), ("山", "shan"), ("蓝", "lan"),
    ("佰", "bai"), ("恩", "en"), ("航", "hang"), ("铭", "ming"), ("晟", "sheng"),
    ("毅", "yi"), ("骏", "jun"), ("旭", "xu"), ("豪", "hao"), ("源", "yuan"),
    ("丰", "feng"), ("顺", "shun"), ("祥", "xiang"), ("星", "xing"), ("合", "he"),
];

/// Legal forms of a company (组织形式), with weights.
pub const COMPANY_FORMS: &[(&str, u32)] = &[
    ("有限公司", 55),
    ("有限责任公司", 15),
    ("股份有限公司", 14),
    ("集团有限公司", 6),
    ("科技有限公司", 6),
    ("厂", 4),
];

/// Stems of road names.
pub const ROAD_STEMS: &[&str] = &[
    "人民", "解放", "建设", "中山", "文化", "工业", "科技", "新华", "长江", "黄河",
    "东风", "胜利", "和平", "友谊", "迎宾", "滨江", "兴业", "创业", "发展", "环城",
    "振兴", "朝阳", "光明", "幸福", "富民", "青年", "五一", "世纪", "开元", "金桥",
    "纬一", "经二", "学院", "育才", "凤凰", "龙泉", "府前", "车站", "复兴", "新港",
];

/// Endings of road names.
pub const ROAD_SUFFIXES: &[&str] = &["路", "大道", "街", "东路", "西路", "南路", "北路", "中路"];

/// Kinds of industrial area a production site may be in.
pub const INDUSTRIAL_AREAS: &[&str] = &[
    "经济开发区",
    "工业园区",
    "高新技术产业园",
    "工业集中区",
    "产业园",
    "临港工业区",
];

/// Job titles of enterprise staff at review meetings.
pub const ENTERPRISE_POSITIONS: &[&str] = &[
    "总经理",
    "副总经理",
    "质量负责人",
    "技术负责人",
    "生产部经理",
    "质检部主管",
    "检验员",
    "办公室主任",
];

/// Common free e-mail domains.
pub const EMAIL_DOMAINS: &[&str] = &["163.com", "126.com", "qq.com", "sina.com", "aliyun.com"];

/// Mobile number prefixes in use.
pub const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "191", "198", "199",
];

/// Items inspected in product tests.
pub const INSPECTION_ITEMS: &[&str] = &[
    "外观",
    "尺寸偏差",
    "标志",
    "抗拉强度",
    "屈服强度",
    "断后伸长率",
    "导体电阻",
    "绝缘电阻",
    "电压试验",
    "比表面积",
    "凝结时间",
    "安定性",
    "抗压强度",
    "有效成分含量",
    "水分",
    "粒度",
    "跌落试验",
    "气密试验",
    "冲击吸收性能",
    "耐穿刺性能",
];

/// Licence items an enterprise may change (变更事项).
pub const CHANGE_ITEMS: &[&str] = &["企业名称", "住所", "生产地址", "法定代表人", "产品型号规格"];

/// Reasons for withdrawing, revoking or cancelling a licence, by event kind value.
pub const TERMINATION_REASONS: &[(&str, &[&str])] = &[
    (
        "withdrawal",
        &["许可所依据的法律法规修改", "准予许可所依据的客观情况发生重大变化"],
    ),
    (
        "revocation",
        &["以欺骗、贿赂等不正当手段取得生产许可证", "超越法定职权作出准予许可决定"],
    ),
    (
        "penalty_revocation",
        &["监督抽查产品质量不合格且逾期未整改", "生产条件严重不符合要求拒不整改", "出租、出借生产许可证"],
    ),
    (
        "cancellation",
        &["生产许可证有效期届满未申请延续", "企业依法终止", "企业申请注销", "生产许可证依法被撤销、撤回或者吊销"],
    ),
];

/// Reasons for refusing a licence (Art. 10).
pub const REFUSAL_REASONS: &[&str] = &[
    "实地核查不合格",
    "产品检验不合格",
    "申请材料弄虚作假",
    "企业生产条件不符合实施细则要求",
    "企业未在规定期限内提交补正材料",
];

/// Problems found at enterprises (Art. 24, 25, 29).
pub const PROBLEMS: &[&str] = &[
    "监督抽查产品不合格，不合格项目为导体电阻",
    "出厂检验记录不完整",
    "关键原材料进货验证缺失",
    "生产设备与申证时不一致",
    "检验设备未按期检定",
    "质量管理制度未有效运行",
    "产品标志不符合标准要求",
];

/// How problems were handled (Art. 20, 29).
pub const HANDLINGS: &[&str] = &[
    "已责令限期整改，复查合格",
    "已责令停产整改",
    "已立案调查",
    "已约谈企业负责人并跟踪整改",
    "已移交稽查部门处理",
];

/// Subjects of letters and visits (Art. 14).
pub const LETTER_SUBJECTS: &[&str] = &[
    "举报无证生产",
    "咨询生产许可证办理程序",
    "投诉产品质量问题",
    "反映审查人员工作作风",
    "咨询许可证延续办理",
    "举报冒用许可证编号",
];

/// Nature of assets of an inspection body (Attachment 3, 资产性质).
pub const ASSET_NATURES: &[&str] = &["国有", "集体", "民营", "混合所有制"];
