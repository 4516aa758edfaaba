//! A generated catalog: thousands of realistic entries with Chinese names and information items,
//! spread over the departments given, and the information systems they come from.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use shuju_catalog::model::*;
use shuju_types::{CodingProfile, Library, ResourceAttribute, ResourceCode};

/// A department that registers resources: id, name, and what kind of body it is.
#[derive(Clone, Debug)]
pub struct Provider {
    pub id: i64,
    pub name: String,
}

/// An information system to generate: (owner id, name, hosting).
#[derive(Clone, Debug)]
pub struct System {
    pub owner: i64,
    pub name: String,
    pub hosting: &'static str,
}

type ItemSpec = (
    &'static str,
    &'static str,
    DataType,
    Option<u32>,
    Option<&'static str>,
    Sensitivity,
);

/// A theme of resources: its classification, library, and the items its tables have.
struct Theme {
    keywords: &'static [&'static str],
    class: [&'static str; 3],
    attribute: ResourceAttribute,
    item_code: &'static str,
    library: Library,
    items: &'static [ItemSpec],
}

use DataType::{Char, Date, DateTime, Number};
use Sensitivity::{Internal, Public, Sensitive};

const ID: ItemSpec = (
    "公民身份号码",
    "sfzh",
    Char,
    Some(18),
    Some("GB 11643"),
    Sensitive,
);
const NAME: ItemSpec = ("姓名", "xm", Char, Some(50), None, Sensitive);
const USCC: ItemSpec = (
    "统一社会信用代码",
    "tyshxydm",
    Char,
    Some(18),
    Some("GB 32100"),
    Public,
);
const DIV: ItemSpec = (
    "行政区划代码",
    "xzqhdm",
    Char,
    Some(6),
    Some("GB/T 2260"),
    Public,
);
const ADDR: ItemSpec = ("地址", "dz", Char, Some(200), None, Sensitive);
const PHONE: ItemSpec = ("联系电话", "lxdh", Char, Some(20), None, Sensitive);
const DATE: ItemSpec = ("登记日期", "djrq", Date, None, None, Public);
const UPDATED: ItemSpec = ("更新时间", "gxsj", DateTime, None, None, Internal);

const THEMES: &[Theme] = &[
    Theme {
        keywords: &[
            "户籍人口",
            "常住人口",
            "流动人口",
            "出生登记",
            "死亡登记",
            "户口迁移",
        ],
        class: ["基础信息资源", "人口", "人口基本信息"],
        attribute: ResourceAttribute::Base,
        item_code: "01",
        library: Library::BasePopulation,
        items: &[
            ID,
            NAME,
            ("性别", "xb", Char, Some(1), Some("GB/T 2261.1"), Public),
            ("出生日期", "csrq", Date, None, None, Sensitive),
            ("民族", "mz", Char, Some(2), Some("GB/T 3304"), Public),
            ADDR,
            DIV,
            UPDATED,
        ],
    },
    Theme {
        keywords: &[
            "企业登记",
            "个体工商户",
            "农民专业合作社",
            "企业年报",
            "股东出资",
            "企业变更",
        ],
        class: ["基础信息资源", "法人单位", "市场主体"],
        attribute: ResourceAttribute::Base,
        item_code: "02",
        library: Library::BaseLegalEntity,
        items: &[
            USCC,
            ("企业名称", "qymc", Char, Some(200), None, Public),
            ("法定代表人", "fddbr", Char, Some(50), None, Public),
            ("注册资本", "zczb", Number, Some(18), None, Public),
            ("成立日期", "clrq", Date, None, None, Public),
            ("登记状态", "djzt", Char, Some(2), None, Public),
            DIV,
            UPDATED,
        ],
    },
    Theme {
        keywords: &[
            "地名地址",
            "土地利用现状",
            "国土空间规划",
            "基础测绘",
            "地理实体",
            "建筑物",
        ],
        class: ["基础信息资源", "自然资源和空间地理", "空间地理"],
        attribute: ResourceAttribute::Base,
        item_code: "03",
        library: Library::BaseSpatial,
        items: &[
            ("要素编码", "ysbm", Char, Some(32), None, Public),
            ("要素名称", "ysmc", Char, Some(100), None, Public),
            ("经度", "jd", Number, Some(12), Some("CGCS2000"), Public),
            ("纬度", "wd", Number, Some(12), Some("CGCS2000"), Public),
            DIV,
            UPDATED,
        ],
    },
    Theme {
        keywords: &[
            "行政许可",
            "行政处罚",
            "守信激励",
            "失信惩戒",
            "信用评价",
            "双随机检查",
        ],
        class: ["基础信息资源", "社会信用", "公共信用"],
        attribute: ResourceAttribute::Base,
        item_code: "04",
        library: Library::BaseEconomy,
        items: &[
            USCC,
            ("相对人名称", "xdrmc", Char, Some(200), None, Public),
            ("决定文书号", "jdwsh", Char, Some(64), None, Public),
            ("决定日期", "jdrq", Date, None, None, Public),
            ("处理结果", "cljg", Char, Some(500), None, Public),
            UPDATED,
        ],
    },
    Theme {
        keywords: &[
            "社会保险参保",
            "养老保险缴费",
            "医疗保险结算",
            "失业保险待遇",
            "工伤认定",
            "就业登记",
        ],
        class: ["主题信息资源", "社会保障", "社会保险"],
        attribute: ResourceAttribute::Theme,
        item_code: "03",
        library: Library::Theme,
        items: &[
            ID,
            NAME,
            ("参保单位", "cbdw", Char, Some(200), None, Internal),
            ("险种类型", "xzlx", Char, Some(3), None, Public),
            ("缴费基数", "jfjs", Number, Some(12), None, Sensitive),
            ("参保状态", "cbzt", Char, Some(2), None, Internal),
            UPDATED,
        ],
    },
    Theme {
        keywords: &[
            "住房公积金缴存",
            "公积金贷款",
            "公积金提取",
            "不动产登记",
            "商品房预售",
            "房屋租赁备案",
        ],
        class: ["主题信息资源", "城乡建设", "住房"],
        attribute: ResourceAttribute::Theme,
        item_code: "09",
        library: Library::Theme,
        items: &[
            ID,
            NAME,
            ("不动产单元号", "bdcdyh", Char, Some(28), None, Internal),
            ("坐落", "zl", Char, Some(200), None, Sensitive),
            ("面积", "mj", Number, Some(10), None, Internal),
            DATE,
            UPDATED,
        ],
    },
    Theme {
        keywords: &[
            "中小学学籍",
            "学校基本信息",
            "招生入学",
            "教师资格",
            "学区划分",
            "校车管理",
        ],
        class: ["主题信息资源", "公共服务", "教育"],
        attribute: ResourceAttribute::Theme,
        item_code: "01",
        library: Library::Topic,
        items: &[
            ("学校标识码", "xxbsm", Char, Some(10), None, Public),
            ("学校名称", "xxmc", Char, Some(100), None, Public),
            ID,
            NAME,
            ("年级", "nj", Char, Some(2), None, Internal),
            ADDR,
            UPDATED,
        ],
    },
    Theme {
        keywords: &[
            "最低生活保障",
            "特困人员供养",
            "残疾人证",
            "婚姻登记",
            "养老机构",
            "临时救助",
        ],
        class: ["主题信息资源", "社会保障", "社会救助"],
        attribute: ResourceAttribute::Theme,
        item_code: "03",
        library: Library::Theme,
        items: &[
            ID,
            NAME,
            ("救助类别", "jzlb", Char, Some(4), None, Sensitive),
            ("保障金额", "bzje", Number, Some(10), None, Sensitive),
            ("家庭人口", "jtrk", Number, Some(2), None, Sensitive),
            DIV,
            UPDATED,
        ],
    },
    Theme {
        keywords: &[
            "空气质量监测",
            "水质自动监测",
            "排污许可",
            "环境执法",
            "噪声监测",
            "危险废物转移",
        ],
        class: ["主题信息资源", "生态环保", "环境质量"],
        attribute: ResourceAttribute::Theme,
        item_code: "11",
        library: Library::Theme,
        items: &[
            ("监测点位编码", "jcdwbm", Char, Some(20), None, Public),
            ("监测时间", "jcsj", DateTime, None, None, Public),
            (
                "空气质量指数",
                "aqi",
                Number,
                Some(4),
                Some("HJ 633"),
                Public,
            ),
            ("首要污染物", "sywrw", Char, Some(20), None, Public),
            DIV,
        ],
    },
    Theme {
        keywords: &[
            "机动车登记",
            "驾驶证",
            "交通违法",
            "道路运输许可",
            "城市交通流量",
            "停车泊位",
        ],
        class: ["部门信息资源", "公安", "交通管理"],
        attribute: ResourceAttribute::Department,
        item_code: "05",
        library: Library::Business,
        items: &[
            ("号牌号码", "hphm", Char, Some(15), None, Sensitive),
            ("号牌种类", "hpzl", Char, Some(2), Some("GA 24.7"), Public),
            ID,
            ("车辆类型", "cllx", Char, Some(3), None, Public),
            ("登记日期", "djrq", Date, None, None, Internal),
            UPDATED,
        ],
    },
    Theme {
        keywords: &[
            "城市管理案件",
            "市容环卫",
            "数字城管部件",
            "占道经营",
            "公共视频点位",
            "网格事件",
        ],
        class: ["部门信息资源", "城市管理", "城市运行"],
        attribute: ResourceAttribute::Department,
        item_code: "08",
        library: Library::Business,
        items: &[
            ("案件编号", "ajbh", Char, Some(32), None, Internal),
            ("案件类型", "ajlx", Char, Some(10), None, Public),
            ("发生地址", "fsdz", Char, Some(200), None, Internal),
            ("上报时间", "sbsj", DateTime, None, None, Internal),
            PHONE,
            ("处置状态", "czzt", Char, Some(2), None, Public),
        ],
    },
    Theme {
        keywords: &[
            "政务服务事项",
            "办件信息",
            "好差评",
            "一件事",
            "电子证照",
            "证明材料",
        ],
        class: ["部门信息资源", "政务服务", "审批服务"],
        attribute: ResourceAttribute::Department,
        item_code: "10",
        library: Library::Business,
        items: &[
            ("事项编码", "sxbm", Char, Some(36), None, Public),
            ("事项名称", "sxmc", Char, Some(200), None, Public),
            (
                "申请人证件号码",
                "sqrzjhm",
                Char,
                Some(18),
                Some("GB 11643"),
                Sensitive,
            ),
            ("受理时间", "slsj", DateTime, None, None, Internal),
            ("办结时间", "bjsj", DateTime, None, None, Internal),
            USCC,
        ],
    },
];

const QUALIFIERS: &[&str] = &[
    "", "基本", "变更", "统计", "汇总", "明细", "历史", "年度", "月度", "专项",
];
const AREAS: &[&str] = &[
    "",
    "全市",
    "东昌府区",
    "茌平区",
    "阳谷县",
    "莘县",
    "东阿县",
    "冠县",
    "高唐县",
    "临清市",
    "经开区",
    "高新区",
    "度假区",
];
const KINDS: &[&str] = &["信息", "数据", "目录", "台账", "名录"];

/// Generate `n` entries over the providers, and the systems they come from.
pub fn generate(
    n: usize,
    providers: &[Provider],
    seed: u64,
    profile: &CodingProfile,
) -> (Vec<(Entry, Option<String>)>, Vec<System>) {
    assert!(
        !providers.is_empty(),
        "the catalog needs at least one provider"
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let hosting = [
        "gov_cloud",
        "gov_cloud",
        "gov_cloud",
        "gov_cloud",
        "self_hosted",
    ];
    let systems: Vec<System> = providers
        .iter()
        .flat_map(|p| {
            let short = p
                .name
                .trim_start_matches("聊城市")
                .trim_end_matches("管理局")
                .trim_end_matches('局')
                .to_owned();
            [
                format!("{short}业务管理系统"),
                format!("{short}数据共享平台"),
            ]
            .into_iter()
            .enumerate()
            .map(|(i, name)| System {
                owner: p.id,
                name,
                hosting: hosting[(p.id as usize + i) % hosting.len()],
            })
            .collect::<Vec<_>>()
        })
        .collect();
    let mut seq: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut names = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    let mut i = 0usize;
    while out.len() < n {
        i += 1;
        let theme = &THEMES[rng.gen_range(0..THEMES.len())];
        let provider = &providers[rng.gen_range(0..providers.len())];
        let kw = theme.keywords[rng.gen_range(0..theme.keywords.len())];
        let area = AREAS[rng.gen_range(0..AREAS.len())];
        let qual = QUALIFIERS[rng.gen_range(0..QUALIFIERS.len())];
        let kind = KINDS[rng.gen_range(0..KINDS.len())];
        let mut name = format!("{area}{kw}{qual}{kind}");
        if !names.insert(name.clone()) {
            name = format!("{name}（{}）", 2000 + (i % 26));
            if !names.insert(name.clone()) {
                name = format!("{area}{kw}{qual}{kind}-{i}");
                names.insert(name.clone());
            }
        }
        let target = format!("{:03}", 1 + rng.gen_range(0..20));
        let front = match theme.attribute {
            ResourceAttribute::Department => format!("3{:02}{target}", provider.id % 100),
            a => format!("{}{}{target}", a.digit(), theme.item_code),
        };
        let s = seq.entry(front.clone()).or_insert(0);
        *s += 1;
        let code = match ResourceCode::from_parts(&front, *s, profile) {
            Ok(c) => c.to_string(),
            Err(_) => continue,
        };
        let sharing_kind = match rng.gen_range(0..10) {
            0..=4 => SharingKind::Unconditional,
            5..=8 => SharingKind::Conditional,
            _ => SharingKind::NotShared,
        };
        let mut specs: Vec<&ItemSpec> = theme.items.iter().collect();
        specs.shuffle(&mut rng);
        let keep = rng.gen_range(3..=specs.len());
        let mut specs: Vec<&ItemSpec> = specs.into_iter().take(keep).collect();
        specs.sort_by_key(|s| theme.items.iter().position(|x| x.1 == s.1));
        let items: Vec<Item> = specs
            .iter()
            .map(|(iname, col, dt, len, std, sens)| {
                let sharing = if *sens == Sensitive {
                    sharing_kind.min(SharingKind::Conditional)
                } else {
                    sharing_kind
                };
                Item {
                    name: (*iname).into(),
                    column: (*col).into(),
                    data_type: *dt,
                    length: *len,
                    code_standard: std.map(Into::into),
                    sensitivity: *sens,
                    sharing,
                    opening: OpeningKind::NotOpen,
                    element: None,
                    role: None,
                }
            })
            .collect();
        // Opened to the public: a resource shared without condition, some of the time; without
        // condition (无条件开放) when every item is public (a list of facilities, a policy
        // register), otherwise on conditions, its public items only.
        let opening = if sharing_kind == SharingKind::Unconditional && rng.gen_bool(0.3) {
            if items.iter().all(|it| it.sensitivity == Public) {
                OpeningKind::Open
            } else {
                OpeningKind::Conditional
            }
        } else {
            OpeningKind::NotOpen
        };
        let mut items = items;
        if opening != OpeningKind::NotOpen {
            for it in items.iter_mut().filter(|it| it.sensitivity == Public) {
                it.opening = opening;
            }
        }
        let cycles = [
            UpdateCycle::Realtime,
            UpdateCycle::Daily,
            UpdateCycle::Weekly,
            UpdateCycle::Monthly,
            UpdateCycle::Quarterly,
            UpdateCycle::Yearly,
            UpdateCycle::Irregular,
        ];
        let formats = [
            (FormatCategory::Database, "PostgreSQL"),
            (FormatCategory::Database, "MySQL"),
            (FormatCategory::Database, "达梦"),
            (FormatCategory::Spreadsheet, "xlsx"),
            (FormatCategory::Api, "REST/JSON"),
            (FormatCategory::Document, "PDF"),
        ];
        let (fcat, fdetail) = formats[rng.gen_range(0..formats.len())];
        let methods = match fcat {
            FormatCategory::Api => vec![SharingMethod::Api],
            FormatCategory::Document | FormatCategory::Spreadsheet => vec![SharingMethod::File],
            _ => vec![SharingMethod::Table, SharingMethod::Api],
        };
        let sharing = Sharing {
            kind: sharing_kind,
            condition: (sharing_kind == SharingKind::Conditional)
                .then(|| "仅用于政务服务办理和监管执法，使用方须具备相应职责".to_owned()),
            legal_basis: (sharing_kind == SharingKind::NotShared)
                .then(|| "《中华人民共和国个人信息保护法》第三十四条".to_owned()),
            methods: if sharing_kind == SharingKind::NotShared {
                vec![]
            } else {
                methods
            },
        };
        let related = if out.len() > 10 && rng.gen_bool(0.1) {
            let (other, _): &(Entry, Option<String>) = &out[rng.gen_range(0..out.len())];
            vec![other.code.clone()]
        } else {
            vec![]
        };
        let system = systems
            .iter()
            .filter(|s| s.owner == provider.id)
            .nth(rng.gen_range(0..2))
            .map(|s| s.name.clone());
        let entry = Entry {
            classification: theme.class.iter().map(|s| (*s).to_owned()).collect(),
            name: name.clone(),
            code,
            provider_dept_id: provider.id,
            provider_name: provider.name.clone(),
            provider_code: String::new(),
            summary: format!(
                "{}{}的{}，记录{}，供相关部门在履职和政务服务中使用。",
                area,
                provider.name,
                name,
                specs.iter().map(|s| s.0).collect::<Vec<_>>().join("、")
            ),
            format: Format {
                category: fcat,
                detail: fdetail.into(),
            },
            items,
            sharing,
            opening,
            update_cycle: cycles[rng.gen_range(0..cycles.len())],
            publish_date: Some(format!(
                "20{:02}-{:02}-{:02}",
                18 + rng.gen_range(0..8),
                1 + rng.gen_range(0..12),
                1 + rng.gen_range(0..28)
            )),
            related,
            system_id: None,
            library: theme.library,
            attribute: theme.attribute,
            secret: false,
        };
        out.push((entry, system));
    }
    (out, systems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_valid() {
        let providers: Vec<Provider> = (1..=5)
            .map(|i| Provider {
                id: i,
                name: format!("聊城市第{i}局"),
            })
            .collect();
        let p = CodingProfile::default();
        let (a, systems) = generate(500, &providers, 7, &p);
        let (b, _) = generate(500, &providers, 7, &p);
        assert_eq!(a.len(), 500);
        assert_eq!(systems.len(), 10);
        assert!(
            a.iter().zip(&b).all(|(x, y)| x.0 == y.0),
            "same seed, same catalog"
        );
        let codes: std::collections::HashSet<_> = a.iter().map(|(e, _)| e.code.clone()).collect();
        assert_eq!(codes.len(), 500, "codes are unique");
        for (e, _) in &a {
            shuju_catalog::rules::check(e, &p).unwrap_or_else(|err| panic!("{}: {err}", e.name));
        }
    }
}
