//! The synthetic city's deliveries as catalog entries: each department's file is the data of one
//! published entry, whose information items name the columns the lake stores (the item name is
//! the header a clerk writes, the column the lake's name for it). Base libraries are entries of
//! the big-data bureau built from these.

use crate::catalog::Provider;
use shuju_catalog::model::{
    DataType, Entry, Format, FormatCategory, Item, OpeningKind, Sensitivity, Sharing, SharingKind,
    SharingMethod, UpdateCycle,
};
use shuju_types::{CodingProfile, Library, ResourceAttribute, ResourceCode, Result};

type ItemDef = (
    &'static str,
    &'static str,
    DataType,
    Option<&'static str>,
    Sensitivity,
);

/// One delivery the city makes and the entry it belongs to.
#[derive(Clone, Debug)]
pub struct Source {
    /// The providing department, as named in the demo's department tree.
    pub dept: &'static str,
    pub entry_name: &'static str,
    /// Lake table name.
    pub table: &'static str,
    /// The file under the city's output folder; `None` for a table built from others.
    pub file: Option<&'static str>,
    pub library: Library,
    pub key: &'static [&'static str],
    pub items: &'static [ItemDef],
    pub cycle: UpdateCycle,
    pub sharing: SharingKind,
}

use DataType::{Char, Date, DateTime, Logical, Number};
use Sensitivity::{Internal, Public, Sensitive};

pub const SOURCES: &[Source] = &[
    Source {
        dept: "聊城市公安局",
        entry_name: "聊城市常住人口户籍登记信息",
        table: "gongan_hukou",
        file: Some("gongan/hukou_registry.csv"),
        library: Library::Business,
        key: &["sfzh"],
        items: &[
            ("公民身份号码", "sfzh", Char, Some("GB 11643"), Sensitive),
            ("姓名", "xm", Char, None, Sensitive),
            ("性别", "xb", Char, None, Internal),
            ("出生日期", "csrq", Date, None, Sensitive),
            ("户号", "hh", Char, None, Internal),
            ("住址", "zz", Char, None, Sensitive),
            ("行政区划代码", "xzqh", Char, Some("GB/T 2260"), Public),
            ("联系电话", "lxdh", Char, None, Sensitive),
        ],
        cycle: UpdateCycle::Daily,
        sharing: SharingKind::Conditional,
    },
    Source {
        dept: "聊城市人力资源和社会保障局",
        entry_name: "聊城市社会保险参保信息",
        table: "rsj_shebao",
        file: Some("rsj/shebao.jsonl"),
        library: Library::Business,
        key: &["cbrybh"],
        items: &[
            ("参保人员编号", "cbrybh", Char, None, Internal),
            ("公民身份号码", "sfzh", Char, Some("GB 11643"), Sensitive),
            ("姓名", "xm", Char, None, Sensitive),
            ("出生日期", "csrq", Date, None, Sensitive),
            ("险种类型", "xzlx", Char, None, Internal),
            ("缴费基数", "jfjs", Number, None, Sensitive),
            ("参保状态", "cbzt", Char, None, Internal),
            ("更新时间", "gxsj", DateTime, None, Public),
        ],
        cycle: UpdateCycle::Monthly,
        sharing: SharingKind::Conditional,
    },
    Source {
        dept: "聊城市自然资源和规划局",
        entry_name: "聊城市不动产登记信息",
        table: "zrzy_budongchan",
        file: Some("zrzy/budongchan.csv"),
        library: Library::Business,
        key: &["bdcdyh"],
        items: &[
            ("权利人", "qlr", Char, None, Sensitive),
            ("证件号码", "zjhm", Char, Some("GB 11643"), Sensitive),
            ("不动产单元号", "bdcdyh", Char, None, Internal),
            ("坐落", "zl", Char, None, Sensitive),
            ("面积", "mj", Number, None, Internal),
            ("登记日期", "djrq", Date, None, Internal),
        ],
        cycle: UpdateCycle::Weekly,
        sharing: SharingKind::Conditional,
    },
    Source {
        dept: "聊城市公安局",
        entry_name: "聊城市机动车登记信息",
        table: "gongan_vehicles",
        file: Some("jiaojing/vehicles.csv"),
        library: Library::Business,
        key: &["clsbdh"],
        items: &[
            ("号牌号码", "hphm", Char, None, Internal),
            ("号牌种类", "hpzl", Char, None, Public),
            ("所有人", "syr", Char, None, Sensitive),
            ("身份证明号码", "sfzmhm", Char, Some("GB 11643"), Sensitive),
            ("车辆类型", "cllx", Char, None, Public),
            ("车辆识别代号", "clsbdh", Char, None, Internal),
            ("注册登记日期", "ccdjrq", Date, None, Internal),
        ],
        cycle: UpdateCycle::Daily,
        sharing: SharingKind::Conditional,
    },
    Source {
        dept: "聊城市市场监督管理局",
        entry_name: "聊城市市场主体登记信息",
        table: "scjg_entities",
        file: Some("scjg/market_entities.xlsx"),
        library: Library::Business,
        key: &["tyshxydm"],
        items: &[
            (
                "统一社会信用代码",
                "tyshxydm",
                Char,
                Some("GB 32100"),
                Public,
            ),
            ("主体名称", "ztmc", Char, None, Public),
            ("主体类型", "ztlx", Char, None, Public),
            ("法定代表人", "fddbr", Char, None, Public),
            (
                "法定代表人证件号码",
                "fddbrzjhm",
                Char,
                Some("GB 11643"),
                Sensitive,
            ),
            ("注册资本(万元)", "zczb", Number, None, Public),
            ("成立日期", "clrq", Date, None, Public),
            ("登记状态", "djzt", Char, None, Public),
            ("注册号", "zch", Char, None, Public),
            ("住所", "zs", Char, None, Public),
        ],
        cycle: UpdateCycle::Daily,
        sharing: SharingKind::Unconditional,
    },
    Source {
        dept: "聊城市公安局",
        entry_name: "聊城市视频监控设备目录",
        table: "cameras",
        file: Some("cameras/cameras.csv"),
        library: Library::Business,
        key: &["device_id"],
        items: &[
            ("设备编码", "device_id", Char, Some("GB/T 28181"), Internal),
            ("所属单位", "agency", Char, None, Public),
            ("设备名称", "name", Char, None, Internal),
            ("经度", "longitude", Number, None, Internal),
            ("纬度", "latitude", Number, None, Internal),
            ("网络标识", "network", Char, None, Internal),
        ],
        cycle: UpdateCycle::Monthly,
        sharing: SharingKind::Conditional,
    },
    Source {
        dept: "聊城市民政局",
        entry_name: "聊城市婚姻登记信息",
        table: "mzj_marriages",
        file: Some("mzj/marriages.csv"),
        library: Library::Business,
        key: &["djbh"],
        items: &[
            ("登记编号", "djbh", Char, None, Internal),
            ("男方身份证号", "nfsfzh", Char, Some("GB 11643"), Sensitive),
            ("男方姓名", "nfxm", Char, None, Sensitive),
            ("女方身份证号", "vfsfzh", Char, Some("GB 11643"), Sensitive),
            ("女方姓名", "vfxm", Char, None, Sensitive),
            ("登记类型", "djlx", Char, None, Internal),
            ("登记日期", "djrq", Date, None, Internal),
        ],
        cycle: UpdateCycle::Daily,
        sharing: SharingKind::Conditional,
    },
    Source {
        dept: "聊城市民政局",
        entry_name: "聊城市社会救助对象信息",
        table: "mzj_assistance",
        file: Some("mzj/assistance.jsonl"),
        library: Library::Business,
        key: &["jzbh"],
        items: &[
            ("救助编号", "jzbh", Char, None, Internal),
            ("公民身份号码", "sfzh", Char, Some("GB 11643"), Sensitive),
            ("姓名", "xm", Char, None, Sensitive),
            ("出生日期", "csrq", Date, None, Sensitive),
            ("住址", "zz", Char, None, Sensitive),
            ("救助类型", "jzlx", Char, None, Sensitive),
            ("发放金额", "ffje", Number, None, Sensitive),
            ("开始日期", "ksrq", Date, None, Internal),
        ],
        cycle: UpdateCycle::Monthly,
        sharing: SharingKind::Conditional,
    },
    Source {
        dept: "聊城市住房公积金管理中心",
        entry_name: "聊城市住房公积金缴存信息",
        table: "gjj_accounts",
        file: Some("gjj/housing_fund.csv"),
        library: Library::Business,
        key: &["grzh"],
        items: &[
            ("个人账号", "grzh", Char, None, Internal),
            ("身份证号", "sfzh", Char, Some("GB 11643"), Sensitive),
            ("姓名", "xm", Char, None, Sensitive),
            ("单位名称", "dwmc", Char, None, Internal),
            ("月缴存额", "yjce", Number, None, Sensitive),
            ("缴存状态", "jczt", Char, None, Internal),
            ("开户日期", "khrq", Date, None, Internal),
        ],
        cycle: UpdateCycle::Monthly,
        sharing: SharingKind::Conditional,
    },
    Source {
        dept: "聊城市市场监督管理局",
        entry_name: "聊城市行政处罚信息",
        table: "scjg_penalties",
        file: Some("scjg/penalties.csv"),
        library: Library::Business,
        key: &["cfjdswh"],
        items: &[
            ("处罚决定书文号", "cfjdswh", Char, None, Public),
            (
                "统一社会信用代码",
                "tyshxydm",
                Char,
                Some("GB 32100"),
                Public,
            ),
            ("当事人名称", "dsrmc", Char, None, Public),
            ("违法行为类型", "wfxwlx", Char, None, Public),
            ("罚没款金额", "fmkje", Number, None, Public),
            ("处罚决定日期", "cfjdrq", Date, None, Public),
        ],
        cycle: UpdateCycle::Weekly,
        sharing: SharingKind::Unconditional,
    },
    Source {
        dept: "聊城市公安局",
        entry_name: "聊城市出租房屋及承租人登记信息",
        table: "gongan_rentals",
        file: Some("gongan/rentals.csv"),
        library: Library::Business,
        key: &["djbh"],
        items: &[
            ("登记编号", "djbh", Char, None, Internal),
            ("承租人姓名", "czrxm", Char, None, Sensitive),
            (
                "承租人身份证号",
                "czrsfzh",
                Char,
                Some("GB 11643"),
                Sensitive,
            ),
            ("出租房屋地址", "fwdz", Char, None, Sensitive),
            ("出租人姓名", "czrxm2", Char, None, Sensitive),
            ("租赁起始日期", "zlqsrq", Date, None, Internal),
            ("租赁截止日期", "zljzrq", Date, None, Internal),
        ],
        cycle: UpdateCycle::Daily,
        sharing: SharingKind::Conditional,
    },
    Source {
        dept: "聊城市民政局",
        entry_name: "聊城市残疾人证信息",
        table: "mzj_disability",
        file: Some("mzj/disability.csv"),
        library: Library::Business,
        key: &["cjrzh"],
        items: &[
            ("残疾人证号", "cjrzh", Char, None, Sensitive),
            ("公民身份号码", "sfzh", Char, Some("GB 11643"), Sensitive),
            ("姓名", "xm", Char, None, Sensitive),
            ("残疾类别", "cjlb", Char, None, Sensitive),
            ("残疾等级", "cjdj", Char, None, Sensitive),
            ("发证日期", "fzrq", Date, None, Internal),
        ],
        cycle: UpdateCycle::Daily,
        sharing: SharingKind::Conditional,
    },
    Source {
        dept: "聊城市市场监督管理局",
        entry_name: "聊城市市场主体股东及出资信息",
        table: "scjg_shareholders",
        file: Some("scjg/shareholders.csv"),
        library: Library::Business,
        key: &["gdczbh"],
        items: &[
            ("股东出资编号", "gdczbh", Char, None, Internal),
            (
                "统一社会信用代码",
                "tyshxydm",
                Char,
                Some("GB 32100"),
                Public,
            ),
            ("股东名称", "gdmc", Char, None, Public),
            ("股东证件号码", "gdzjhm", Char, Some("GB 11643"), Sensitive),
            ("认缴出资额(万元)", "rjcze", Number, None, Public),
            ("出资比例(%)", "czbl", Number, None, Public),
        ],
        cycle: UpdateCycle::Daily,
        sharing: SharingKind::Conditional,
    },
    Source {
        dept: "聊城市市场监督管理局",
        entry_name: "聊城市行政许可信息（双公示）",
        table: "scjg_licences",
        file: Some("scjg/licences.csv"),
        library: Library::Business,
        key: &["xkjdswh"],
        items: &[
            ("行政许可决定文书号", "xkjdswh", Char, None, Public),
            ("行政相对人名称", "xdrmc", Char, None, Public),
            (
                "统一社会信用代码",
                "tyshxydm",
                Char,
                Some("GB 32100"),
                Public,
            ),
            ("许可证书名称", "xkzsmc", Char, None, Public),
            ("许可编号", "xkbh", Char, None, Public),
            ("许可决定日期", "xkjdrq", Date, None, Public),
            ("有效期自", "yxqz", Date, None, Public),
            ("有效期至", "yxqzz", Date, None, Public),
            ("许可机关", "xkjg", Char, None, Public),
        ],
        cycle: UpdateCycle::Daily,
        sharing: SharingKind::Unconditional,
    },
    Source {
        dept: "聊城市生态环境局",
        entry_name: "聊城市生态环境监管检查及执法信息",
        table: "shj_inspections",
        file: Some("shj/inspections.csv"),
        library: Library::Business,
        key: &["jcbh"],
        items: &[
            ("检查编号", "jcbh", Char, None, Internal),
            ("检查对象名称", "jcdxmc", Char, None, Public),
            ("检查对象证照号码", "jcdxzzhm", Char, None, Public),
            ("检查对象地址", "jcdxdz", Char, None, Public),
            ("法定代表人(负责人)", "fddbr", Char, None, Internal),
            ("检查日期", "jcrq", Date, None, Public),
            ("检查结果", "jcjg", Char, None, Public),
            ("实施机关", "ssjg", Char, None, Public),
        ],
        cycle: UpdateCycle::Weekly,
        sharing: SharingKind::Conditional,
    },
    Source {
        dept: "聊城市教育和体育局",
        entry_name: "聊城市中小学校及学区信息",
        table: "jtj_schools",
        file: Some("jtj/schools.csv"),
        library: Library::Business,
        key: &["xxbsm"],
        items: &[
            ("学校标识码", "xxbsm", Char, None, Public),
            ("学校名称", "xxmc", Char, None, Public),
            ("学段", "xd", Char, None, Public),
            ("行政区划代码", "xzqh", Char, Some("GB/T 2260"), Public),
            ("经度", "jd", Number, None, Public),
            ("纬度", "wd", Number, None, Public),
            ("学区范围", "xqfw", Char, None, Public),
        ],
        cycle: UpdateCycle::Yearly,
        sharing: SharingKind::Unconditional,
    },
    Source {
        dept: "聊城市生态环境局",
        entry_name: "聊城市空气质量监测小时数据",
        table: "shj_air_quality",
        file: Some("shj/air_quality.csv"),
        library: Library::Business,
        key: &["zdbm", "jcsj"],
        items: &[
            ("站点编码", "zdbm", Char, None, Public),
            ("监测时间", "jcsj", DateTime, None, Public),
            ("PM2.5", "pm25", Number, None, Public),
            ("PM10", "pm10", Number, None, Public),
            ("AQI", "aqi", Number, None, Public),
        ],
        cycle: UpdateCycle::Realtime,
        sharing: SharingKind::Unconditional,
    },
    Source {
        dept: "聊城市城市管理局",
        entry_name: "聊城市数字城管案件信息",
        table: "cgj_cases",
        file: Some("cgj/cases.csv"),
        library: Library::Business,
        key: &["ajbh"],
        items: &[
            ("案件编号", "ajbh", Char, None, Public),
            ("案件类型", "ajlx", Char, None, Public),
            ("所属区县", "ssqx", Char, Some("GB/T 2260"), Public),
            ("经度", "jd", Number, None, Public),
            ("纬度", "wd", Number, None, Public),
            ("上报时间", "sbsj", DateTime, None, Public),
            ("处置状态", "czzt", Char, None, Public),
            ("结案时间", "jasj", DateTime, None, Public),
        ],
        cycle: UpdateCycle::Realtime,
        sharing: SharingKind::Unconditional,
    },
    Source {
        dept: "聊城市交通运输局",
        entry_name: "聊城市交通流量检测数据",
        table: "jtys_traffic_flow",
        file: Some("jtys/traffic_flow.jsonl"),
        library: Library::Business,
        key: &["jcqbh", "tjsj"],
        items: &[
            ("检测器编号", "jcqbh", Char, None, Public),
            ("统计时间", "tjsj", DateTime, None, Public),
            ("车流量", "cll", Number, None, Public),
            ("平均速度", "pjsd", Number, None, Public),
            ("占有率", "zyl", Number, None, Public),
        ],
        cycle: UpdateCycle::Realtime,
        sharing: SharingKind::Unconditional,
    },
    Source {
        dept: "聊城市大数据局",
        entry_name: "聊城市人口基础信息库",
        table: "population",
        file: None,
        library: Library::BasePopulation,
        key: &["citizen_id"],
        items: &[
            (
                "公民身份号码",
                "citizen_id",
                Char,
                Some("GB 11643"),
                Sensitive,
            ),
            ("姓名", "name", Char, None, Sensitive),
            ("性别", "sex", Char, None, Internal),
            ("出生日期", "birth_date", Date, None, Sensitive),
            ("住址", "address", Char, None, Sensitive),
            (
                "行政区划代码",
                "division_code",
                Char,
                Some("GB/T 2260"),
                Public,
            ),
            ("联系电话", "phone", Char, None, Sensitive),
            ("参保状态", "insured", Logical, None, Internal),
            ("机动车数", "vehicles", Number, None, Internal),
            ("不动产数", "properties", Number, None, Internal),
            (
                "住房公积金正常缴存",
                "housing_fund",
                Logical,
                None,
                Internal,
            ),
            ("社会救助类型", "assistance", Char, None, Sensitive),
        ],
        cycle: UpdateCycle::Daily,
        sharing: SharingKind::Conditional,
    },
    Source {
        dept: "聊城市大数据局",
        entry_name: "聊城市法人单位基础信息库",
        table: "legal_entity",
        file: None,
        library: Library::BaseLegalEntity,
        key: &["credit_code"],
        items: &[
            (
                "统一社会信用代码",
                "credit_code",
                Char,
                Some("GB 32100"),
                Public,
            ),
            ("名称", "name", Char, None, Public),
            ("主体类型", "kind", Char, None, Public),
            ("法定代表人", "legal_rep", Char, None, Public),
            (
                "法定代表人证件号码",
                "legal_rep_id",
                Char,
                Some("GB 11643"),
                Sensitive,
            ),
            ("注册资本(万元)", "registered_capital", Number, None, Public),
            ("成立日期", "founded", Date, None, Public),
            ("登记状态", "status", Char, None, Public),
        ],
        cycle: UpdateCycle::Daily,
        sharing: SharingKind::Unconditional,
    },
];

/// The data element (and party) each of the city's columns holds: what its catalog items name.
pub const ELEMENTS: &[(&str, &str, &str, Option<&str>)] = &[
    ("gongan_hukou", "sfzh", "citizen_id", None),
    ("gongan_hukou", "xm", "person_name", None),
    ("gongan_hukou", "xb", "sex", None),
    ("gongan_hukou", "csrq", "birth_date", None),
    ("gongan_hukou", "hh", "household_number", None),
    ("gongan_hukou", "zz", "address", None),
    ("gongan_hukou", "xzqh", "division_code", None),
    ("gongan_hukou", "lxdh", "phone", None),
    ("rsj_shebao", "cbrybh", "social_security_number", None),
    ("rsj_shebao", "sfzh", "citizen_id", None),
    ("rsj_shebao", "xm", "person_name", None),
    ("rsj_shebao", "csrq", "birth_date", None),
    ("rsj_shebao", "xzlx", "insurance_type", None),
    ("rsj_shebao", "jfjs", "contribution_base", None),
    ("rsj_shebao", "cbzt", "insurance_status", None),
    ("rsj_shebao", "gxsj", "update_time", None),
    ("zrzy_budongchan", "qlr", "person_name", None),
    ("zrzy_budongchan", "zjhm", "citizen_id", None),
    ("zrzy_budongchan", "bdcdyh", "property_unit_number", None),
    ("zrzy_budongchan", "zl", "property_location", None),
    ("zrzy_budongchan", "mj", "property_area", None),
    ("zrzy_budongchan", "djrq", "registration_date", None),
    ("gongan_vehicles", "hphm", "vehicle_plate", None),
    ("gongan_vehicles", "hpzl", "plate_type", None),
    ("gongan_vehicles", "syr", "person_name", None),
    ("gongan_vehicles", "sfzmhm", "citizen_id", None),
    ("gongan_vehicles", "cllx", "vehicle_type", None),
    ("gongan_vehicles", "clsbdh", "vehicle_vin", None),
    ("gongan_vehicles", "ccdjrq", "registration_date", None),
    ("scjg_entities", "tyshxydm", "credit_code", None),
    ("scjg_entities", "ztmc", "enterprise_name", None),
    ("scjg_entities", "ztlx", "enterprise_type", None),
    ("scjg_entities", "fddbr", "person_name", Some("法定代表人")),
    (
        "scjg_entities",
        "fddbrzjhm",
        "citizen_id",
        Some("法定代表人"),
    ),
    ("scjg_entities", "zczb", "registered_capital", None),
    ("scjg_entities", "clrq", "established_date", None),
    ("scjg_entities", "djzt", "registration_status", None),
    ("scjg_entities", "zch", "business_registration_number", None),
    ("scjg_entities", "zs", "business_address", None),
    ("mzj_marriages", "djbh", "registration_number", None),
    ("mzj_marriages", "nfsfzh", "citizen_id", Some("男方")),
    ("mzj_marriages", "nfxm", "person_name", Some("男方")),
    ("mzj_marriages", "vfsfzh", "citizen_id", Some("女方")),
    ("mzj_marriages", "vfxm", "person_name", Some("女方")),
    ("mzj_marriages", "djlx", "marriage_registration_type", None),
    ("mzj_marriages", "djrq", "registration_date", None),
    ("mzj_assistance", "jzbh", "assistance_number", None),
    ("mzj_assistance", "sfzh", "citizen_id", None),
    ("mzj_assistance", "xm", "person_name", None),
    ("mzj_assistance", "csrq", "birth_date", None),
    ("mzj_assistance", "zz", "address", None),
    ("mzj_assistance", "jzlx", "assistance_type", None),
    ("mzj_assistance", "ffje", "assistance_amount", None),
    ("mzj_assistance", "ksrq", "start_date", None),
    ("gjj_accounts", "grzh", "housing_fund_account", None),
    ("gjj_accounts", "sfzh", "citizen_id", None),
    ("gjj_accounts", "xm", "person_name", None),
    ("gjj_accounts", "dwmc", "employer_name", None),
    ("gjj_accounts", "yjce", "housing_fund_deposit", None),
    ("gjj_accounts", "jczt", "housing_fund_status", None),
    ("gjj_accounts", "khrq", "start_date", None),
    ("scjg_penalties", "cfjdswh", "penalty_decision_number", None),
    ("scjg_penalties", "tyshxydm", "credit_code", None),
    ("scjg_penalties", "fmkje", "fine_amount", None),
    ("scjg_penalties", "dsrmc", "enterprise_name", None),
    ("gongan_rentals", "djbh", "registration_number", None),
    ("gongan_rentals", "czrxm", "person_name", Some("承租人")),
    ("gongan_rentals", "czrsfzh", "citizen_id", Some("承租人")),
    ("gongan_rentals", "fwdz", "rental_address", None),
    ("gongan_rentals", "zlqsrq", "rental_start_date", None),
    ("gongan_rentals", "zljzrq", "rental_end_date", None),
    (
        "mzj_disability",
        "cjrzh",
        "disability_certificate_number",
        None,
    ),
    ("mzj_disability", "sfzh", "citizen_id", None),
    ("mzj_disability", "xm", "person_name", None),
    ("mzj_disability", "cjlb", "disability_category", None),
    ("mzj_disability", "cjdj", "disability_grade", None),
    ("scjg_shareholders", "tyshxydm", "credit_code", None),
    ("scjg_shareholders", "gdmc", "person_name", Some("股东")),
    ("scjg_shareholders", "gdzjhm", "citizen_id", Some("股东")),
    ("scjg_shareholders", "rjcze", "capital_contribution", None),
    ("scjg_licences", "xkjdswh", "licence_decision_number", None),
    ("scjg_licences", "xdrmc", "enterprise_name", None),
    ("scjg_licences", "tyshxydm", "credit_code", None),
    ("shj_inspections", "jcbh", "inspection_number", None),
    ("shj_inspections", "jcdxmc", "enterprise_name", None),
    ("shj_inspections", "jcjg", "inspection_result", None),
    ("shj_inspections", "jcdxzzhm", "subject_code", None),
    ("shj_inspections", "jcdxdz", "business_address", None),
    (
        "shj_inspections",
        "fddbr",
        "person_name",
        Some("法定代表人"),
    ),
    ("population", "citizen_id", "citizen_id", None),
    ("population", "name", "person_name", None),
    ("population", "sex", "sex", None),
    ("population", "birth_date", "birth_date", None),
    ("population", "address", "address", None),
    ("population", "division_code", "division_code", None),
    ("population", "phone", "phone", None),
    ("legal_entity", "credit_code", "credit_code", None),
    ("legal_entity", "name", "enterprise_name", None),
    ("legal_entity", "kind", "enterprise_type", None),
    (
        "legal_entity",
        "legal_rep",
        "person_name",
        Some("法定代表人"),
    ),
    (
        "legal_entity",
        "legal_rep_id",
        "citizen_id",
        Some("法定代表人"),
    ),
    (
        "legal_entity",
        "registered_capital",
        "registered_capital",
        None,
    ),
    ("legal_entity", "founded", "established_date", None),
    ("legal_entity", "status", "registration_status", None),
];

/// The data element a column of the city holds, and the party it is about.
pub fn element_of(table: &str, column: &str) -> Option<(&'static str, Option<&'static str>)> {
    ELEMENTS
        .iter()
        .find(|(t, c, _, _)| *t == table && *c == column)
        .map(|x| (x.2, x.3))
}

/// How a source's table is set up: its key. The reference city writes the elements' codes or
/// their written forms (男/女 for sex), so it needs no code map of its own; the other city of
/// [`crate::profile`] does.
pub fn setup(s: &Source) -> shuju_catalog::lake::Setup {
    shuju_catalog::lake::Setup {
        key: s.key.iter().map(|k| (*k).to_owned()).collect(),
        ..Default::default()
    }
}

/// The SQL that builds each base table from the cleaned sources.
pub fn base_sql(table: &str) -> Option<&'static str> {
    Some(match table {
        "population" => {
            "SELECT h.sfzh AS citizen_id, h.xm AS name, h.xb AS sex, h.csrq AS birth_date, \
             h.zz AS address, h.xzqh AS division_code, h.lxdh AS phone, \
             coalesce(s.insured, false) AS insured, \
             CAST(coalesce(v.n, 0) AS DOUBLE) AS vehicles, CAST(coalesce(b.n, 0) AS DOUBLE) AS properties, \
             coalesce(g.active, false) AS housing_fund, a.jzlx AS assistance \
             FROM gongan_hukou h \
             LEFT JOIN (SELECT sfzh, bool_or(cbzt = '1') AS insured FROM rsj_shebao WHERE sfzh IS NOT NULL GROUP BY sfzh) s ON s.sfzh = h.sfzh \
             LEFT JOIN (SELECT sfzmhm, count(*) AS n FROM gongan_vehicles GROUP BY sfzmhm) v ON v.sfzmhm = h.sfzh \
             LEFT JOIN (SELECT zjhm, count(*) AS n FROM zrzy_budongchan GROUP BY zjhm) b ON b.zjhm = h.sfzh \
             LEFT JOIN (SELECT sfzh, bool_or(jczt = '正常') AS active FROM gjj_accounts GROUP BY sfzh) g ON g.sfzh = h.sfzh \
             LEFT JOIN (SELECT sfzh, max(jzlx) AS jzlx FROM mzj_assistance WHERE sfzh IS NOT NULL GROUP BY sfzh) a ON a.sfzh = h.sfzh"
        }
        "legal_entity" => {
            "SELECT tyshxydm AS credit_code, ztmc AS name, ztlx AS kind, fddbr AS legal_rep, \
             fddbrzjhm AS legal_rep_id, zczb AS registered_capital, clrq AS founded, djzt AS status \
             FROM scjg_entities"
        }
        _ => return None,
    })
}

/// The catalog entry of a source, provided by `provider`, numbered `seq` under the department.
pub fn entry(s: &Source, provider: &Provider, seq: u64, profile: &CodingProfile) -> Result<Entry> {
    let front = format!("3{:02}099", provider.id % 100);
    let code = ResourceCode::from_parts(&front, seq, profile)?.to_string();
    let items = s
        .items
        .iter()
        .map(|(name, column, dt, std, sens)| Item {
            name: (*name).into(),
            column: (*column).into(),
            data_type: *dt,
            length: None,
            code_standard: std.map(Into::into),
            sensitivity: *sens,
            sharing: s.sharing,
            opening: OpeningKind::NotOpen,
            element: element_of(s.table, column).map(|(e, _)| e.to_owned()),
            role: element_of(s.table, column).and_then(|(_, r)| r.map(str::to_owned)),
        })
        .collect();
    let (category, detail) = match s.file {
        Some(f) if f.ends_with(".xlsx") => (FormatCategory::Spreadsheet, "xlsx"),
        Some(f) if f.ends_with(".jsonl") => (FormatCategory::Api, "JSON lines"),
        Some(_) => (FormatCategory::Spreadsheet, "CSV"),
        None => (FormatCategory::Database, "Delta Lake"),
    };
    Ok(Entry {
        classification: match s.library {
            Library::BaseLegalEntity => {
                vec!["基础信息资源".into(), "法人单位".into(), "市场主体".into()]
            }
            _ => vec!["基础信息资源".into(), "人口".into(), "人口基本信息".into()],
        },
        name: s.entry_name.into(),
        code,
        provider_dept_id: provider.id,
        provider_name: provider.name.clone(),
        provider_code: String::new(),
        summary: format!(
            "{}提供的{}，记录{}。",
            s.dept,
            s.entry_name,
            s.items.iter().map(|i| i.0).collect::<Vec<_>>().join("、")
        ),
        format: Format {
            category,
            detail: detail.into(),
        },
        items,
        sharing: Sharing {
            kind: s.sharing,
            condition: (s.sharing == SharingKind::Conditional)
                .then(|| "仅用于政务服务办理和监管执法，使用方须具备相应职责".to_owned()),
            legal_basis: None,
            methods: vec![SharingMethod::Table, SharingMethod::Api],
        },
        opening: OpeningKind::NotOpen,
        update_cycle: s.cycle,
        publish_date: Some("2026-01-01".into()),
        related: vec![],
        system_id: None,
        library: s.library,
        attribute: ResourceAttribute::Department,
        secret: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_is_a_valid_entry() {
        let p = CodingProfile::default();
        for (i, s) in SOURCES.iter().enumerate() {
            let e = entry(
                s,
                &Provider {
                    id: 3,
                    name: s.dept.into(),
                },
                i as u64 + 1,
                &p,
            )
            .unwrap();
            shuju_catalog::rules::check(&e, &p).unwrap_or_else(|err| panic!("{}: {err}", s.table));
            assert!(s.file.is_some() || base_sql(s.table).is_some());
            for k in s.key {
                assert!(s.items.iter().any(|i| i.1 == *k), "{}: key {k}", s.table);
            }
        }
    }
}
