//! The synthetic city's deliveries: departments hand over their data as real ones do — each its own
//! files, column names, date formats and encodings (GBK CSV, UTF-8 CSV with a BOM, Excel, JSON
//! lines) — with faults as in life: wrong check digits, variant spellings of names, full-width
//! digits in addresses, missing IDs, duplicate deliveries. The truth behind the noise (which record
//! is which person) is written to `truth.csv` for accuracy tests.
//!
//! Deterministic for a seed.

use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shuju_types::{CitizenId, CreditCode, Error, RegistrationNumber, Result};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

const COUNTIES: &[(&str, &str, u32)] = &[
    ("371502", "东昌府区", 30),
    ("371503", "茌平区", 12),
    ("371521", "阳谷县", 15),
    ("371522", "莘县", 16),
    ("371524", "东阿县", 8),
    ("371525", "冠县", 13),
    ("371526", "高唐县", 10),
    ("371581", "临清市", 14),
];
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";
const GIVEN: &str = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国志强晓东海波春梅文斌宇浩然子涵欣怡思远俊杰佳琪梓轩雨桐一诺";
/// Homophone or look-alike substitutions clerks make when typing names.
const VARIANTS: &[(char, char)] = &[
    ('伟', '玮'),
    ('丽', '莉'),
    ('军', '君'),
    ('静', '婧'),
    ('华', '花'),
    ('芳', '方'),
    ('明', '铭'),
    ('涛', '滔'),
    ('英', '瑛'),
    ('平', '萍'),
    ('刚', '钢'),
    ('杰', '洁'),
];
/// Words enterprises put in their names to tell them apart.
const TRADE_WORDS: &str = "鑫隆盛源泰昌宏达兴顺福祥瑞安康华丰裕恒通嘉";
const XZLX: [&str; 3] = ["110", "310", "210"];
const ROADS: &[&str] = &[
    "柳园路",
    "东昌路",
    "兴华路",
    "振兴路",
    "花园路",
    "光岳路",
    "建设路",
    "湖南路",
    "长江路",
    "黄河路",
    "昌润路",
    "利民路",
];
const AGENCIES: &[(&str, &str)] = &[
    ("01", "公安局"),
    ("04", "交警支队"),
    ("08", "城市管理局"),
    ("09", "生态环境局"),
    ("11", "教育和体育局"),
    ("02", "国家安全局"),
    ("03", "司法局"),
    ("05", "交通运输局"),
    ("06", "水利局"),
    ("07", "应急管理局"),
    ("10", "卫生健康委员会"),
    ("12", "文化和旅游局"),
    ("13", "住房和城乡建设局"),
    ("14", "市场监督管理局"),
];

/// What a run produced.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub persons: usize,
    pub records: usize,
    pub files: Vec<(PathBuf, usize)>,
}

/// A market entity of the registry, for the deliveries that name it.
struct Enterprise {
    /// As registered (1% with a wrong check character, which the lake refuses).
    code: String,
    zch: String,
    name: String,
    address: String,
    /// The legal representative, by person number.
    rep: usize,
    individual: bool,
    county: usize,
}

struct Person {
    id: CitizenId,
    name: String,
    birth: NaiveDate,
    county: usize,
    address: String,
    household: usize,
    phone: String,
}

fn pick(rng: &mut StdRng, s: &str) -> char {
    let n = s.chars().count();
    s.chars().nth(rng.gen_range(0..n)).unwrap_or('王')
}

fn variant(name: &str, rng: &mut StdRng) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out: Vec<char> = chars.clone();
    for (i, c) in chars.iter().enumerate().skip(1) {
        if let Some((_, v)) = VARIANTS.iter().find(|(a, _)| a == c) {
            out[i] = *v;
            return out.into_iter().collect();
        }
    }
    // No look-alike: swap in a homophone-free typo (drop the last character of a 3-character name).
    if out.len() == 3 && rng.gen_bool(0.5) {
        out.pop();
    }
    out.into_iter().collect()
}

/// The registry writes the sub-district (街道, 镇) the others leave out: 聊城市东昌府区古楼街道柳园路….
fn registry_address(address: &str, county: usize, household: usize) -> String {
    const SUBDISTRICTS: &[&str] = &[
        "古楼街道",
        "柳园街道",
        "新区街道",
        "湖西街道",
        "郑家镇",
        "张秋镇",
    ];
    let name = COUNTIES[county].1;
    let sub = SUBDISTRICTS[household % SUBDISTRICTS.len()];
    address.replacen(name, &format!("{name}{sub}"), 1)
}

/// A wrong check character: what a clerk's typo looks like.
fn wrong_check(id: &str) -> String {
    let mut b = id.as_bytes().to_vec();
    b[17] = if b[17] == b'1' { b'2' } else { b'1' };
    if CitizenId::parse(&String::from_utf8_lossy(&b)).is_ok() {
        b[17] = b'3';
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// The ways a clerk gets a citizen ID wrong, as a delivery carries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdFault {
    /// The check character mistyped.
    Check,
    /// Two neighbouring digits swapped.
    Transposed,
    /// The legacy 15-digit form (persons born in the 1900s; others get a wrong check).
    Legacy,
    /// A birth-date part that is no date (month 13 or more, or day 32 or more).
    ImpossibleDate,
}

impl IdFault {
    const ALL: [IdFault; 4] = [
        IdFault::Check,
        IdFault::Transposed,
        IdFault::Legacy,
        IdFault::ImpossibleDate,
    ];

    /// `id` written with this fault (never a valid ID, except the legacy form, which widens).
    pub fn apply(self, id: &CitizenId, rng: &mut StdRng) -> String {
        let s = id.as_str();
        match self {
            IdFault::Check => wrong_check(s),
            IdFault::Legacy if &s[6..8] == "19" => format!("{}{}", &s[..6], &s[8..17]),
            IdFault::Legacy => wrong_check(s),
            IdFault::Transposed => {
                let mut b = s.as_bytes().to_vec();
                // Two different neighbouring digits among the first 17, swapped.
                let spots: Vec<usize> = (0..16).filter(|&i| b[i] != b[i + 1]).collect();
                for _ in 0..8 {
                    let i = spots[rng.gen_range(0..spots.len())];
                    b.swap(i, i + 1);
                    let t = String::from_utf8_lossy(&b).into_owned();
                    if CitizenId::parse(&t).is_err() {
                        return t;
                    }
                    b.swap(i, i + 1);
                }
                wrong_check(s)
            }
            IdFault::ImpossibleDate => {
                let mut b = s.as_bytes().to_vec();
                if rng.gen_bool(0.5) {
                    b[10] = b'1';
                    b[11] = b"3456789"[rng.gen_range(0..7)];
                } else {
                    b[12] = b'3';
                    b[13] = b"23456789"[rng.gen_range(0..8)];
                }
                String::from_utf8_lossy(&b).into_owned()
            }
        }
    }

    /// One of the faults, drawn evenly.
    pub fn any(rng: &mut StdRng) -> IdFault {
        IdFault::ALL[rng.gen_range(0..IdFault::ALL.len())]
    }
}

/// The key a keyed-by-ID table keeps a row under, as the lake does: a valid ID as it is, a
/// legacy one widened, a bad one flagged (`!` and the value as written).
pub fn lake_key(written: &str) -> String {
    if CitizenId::parse(written).is_ok() {
        written.to_owned()
    } else if let Some(id) = CitizenId::widen(written) {
        id.as_str().to_owned()
    } else {
        format!("!{written}")
    }
}

/// A birth date as a clerk may write it wrong: day and month swapped (when both could be a
/// month), or a day off.
fn birth_slip(d: NaiveDate, rng: &mut StdRng) -> NaiveDate {
    use chrono::Datelike;
    if rng.gen_bool(0.5)
        && d.day() <= 12
        && d.day() != d.month()
        && let Some(s) = NaiveDate::from_ymd_opt(d.year(), d.day(), d.month())
    {
        return s;
    }
    d + chrono::Duration::days(if rng.gen_bool(0.5) { 1 } else { -1 })
}

/// A name as another clerk wrote it: a homophone or a dropped character ([`variant`]), the
/// given name's characters swapped, or a traditional form.
fn name_slip(name: &str, rng: &mut StdRng) -> String {
    let c: Vec<char> = name.chars().collect();
    match rng.gen_range(0..3) {
        0 if c.len() == 3 && c[1] != c[2] => [c[0], c[2], c[1]].iter().collect(),
        1 => {
            const TRADITIONAL: &[(char, char)] = &[
                ('伟', '偉'),
                ('华', '華'),
                ('军', '軍'),
                ('丽', '麗'),
                ('东', '東'),
                ('国', '國'),
                ('兰', '蘭'),
                ('涛', '濤'),
                ('杰', '傑'),
                ('陈', '陳'),
                ('刘', '劉'),
                ('张', '張'),
                ('杨', '楊'),
                ('黄', '黃'),
                ('赵', '趙'),
                ('吴', '吳'),
            ];
            let t: String = c
                .iter()
                .map(|ch| {
                    TRADITIONAL
                        .iter()
                        .find(|(s, _)| s == ch)
                        .map_or(*ch, |(_, t)| *t)
                })
                .collect();
            if t != name { t } else { variant(name, rng) }
        }
        _ => variant(name, rng),
    }
}

fn full_width_digits(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

fn writer(path: &Path) -> Result<BufWriter<std::fs::File>> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(Error::internal)?;
    }
    Ok(BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(path).map_err(Error::internal)?,
    ))
}

/// How a department encodes its files.
#[derive(Clone, Copy)]
enum Enc {
    Utf8,
    Utf8Bom,
    Gbk,
}

/// Create a delivery file under `out` with its header line (none when empty).
fn open(
    out: &Path,
    rel: &str,
    enc: Enc,
    header: &str,
) -> Result<(PathBuf, BufWriter<std::fs::File>)> {
    let path = out.join(rel);
    let mut w = writer(&path)?;
    match enc {
        Enc::Gbk => gbk_line(&mut w, header)?,
        Enc::Utf8Bom => io(writeln!(w, "\u{feff}{header}"))?,
        Enc::Utf8 if header.is_empty() => {}
        Enc::Utf8 => io(writeln!(w, "{header}"))?,
    }
    Ok((path, w))
}

impl Summary {
    /// Finish a delivery file of `rows` rows.
    fn add(&mut self, mut w: BufWriter<std::fs::File>, path: PathBuf, rows: usize) -> Result<()> {
        io(w.flush())?;
        self.files.push((path, rows));
        Ok(())
    }
}

/// Write a line in GBK.
fn gbk_line(w: &mut impl Write, line: &str) -> Result<()> {
    let (bytes, _, _) = encoding_rs::GBK.encode(line);
    w.write_all(&bytes)
        .and_then(|()| w.write_all(b"\r\n"))
        .map_err(Error::internal)
}

fn io<T>(r: std::io::Result<T>) -> Result<T> {
    r.map_err(Error::internal)
}

/// Generate the city's deliveries for `persons` people into `out`. `progress` is told how many
/// records have been written so far.
pub fn generate(
    persons: usize,
    seed: u64,
    out: &Path,
    mut progress: impl FnMut(usize),
) -> Result<Summary> {
    let mut rng = StdRng::seed_from_u64(seed);
    let total_weight: u32 = COUNTIES.iter().map(|c| c.2).sum();
    let mut people = Vec::with_capacity(persons);
    let mut household = 0usize;
    let mut left_in_household = 0u32;
    let mut household_address = String::new();
    let mut household_county = 0usize;
    let mut seq: std::collections::HashMap<(usize, NaiveDate), u16> =
        std::collections::HashMap::new();
    for _ in 0..persons {
        if left_in_household == 0 {
            household += 1;
            left_in_household = rng.gen_range(1..=5);
            let mut w = rng.gen_range(0..total_weight);
            household_county = COUNTIES
                .iter()
                .position(|c| {
                    if w < c.2 {
                        true
                    } else {
                        w -= c.2;
                        false
                    }
                })
                .unwrap_or(0);
            household_address = format!(
                "聊城市{}{}{}号{}号楼{}单元{}室",
                COUNTIES[household_county].1,
                ROADS[rng.gen_range(0..ROADS.len())],
                rng.gen_range(1..300),
                rng.gen_range(1..30),
                rng.gen_range(1..6),
                rng.gen_range(101..1802)
            );
        }
        left_in_household -= 1;
        let birth = NaiveDate::from_ymd_opt(
            rng.gen_range(1930..2024),
            rng.gen_range(1..=12),
            rng.gen_range(1..=28),
        )
        .unwrap_or_default();
        let s = seq
            .entry((household_county, birth))
            .or_insert_with(|| rng.gen_range(0..200));
        *s += 1;
        let id = CitizenId::from_parts(COUNTIES[household_county].0, birth, *s % 1000)?;
        let given: String = (0..rng.gen_range(1..=2))
            .map(|_| pick(&mut rng, GIVEN))
            .collect();
        people.push(Person {
            name: format!("{}{given}", pick(&mut rng, SURNAMES)),
            id,
            birth,
            county: household_county,
            address: household_address.clone(),
            household,
            phone: format!(
                "1{}{:09}",
                [3, 5, 7, 8, 9][rng.gen_range(0..5)],
                rng.gen_range(0..1_000_000_000u64)
            ),
        });
    }
    let mut summary = Summary {
        persons,
        ..Default::default()
    };
    let mut truth = writer(&out.join("truth.csv"))?;
    io(writeln!(truth, "source,record_key,person_uid"))?;
    let mut written = 0usize;
    let mut tick = |n: &mut usize, by: usize| {
        *n += by;
        if *n % 100_000 < by {
            progress(*n);
        }
    };

    // 公安局: the household registry, GBK CSV, dates YYYYMMDD.
    let (path, mut w) = open(
        out,
        "gongan/hukou_registry.csv",
        Enc::Gbk,
        "公民身份号码,姓名,性别,出生日期,户号,住址,行政区划代码,联系电话",
    )?;
    let mut rows = 0;
    for (uid, p) in people.iter().enumerate() {
        let id = if rng.gen_bool(0.013) {
            IdFault::any(&mut rng).apply(&p.id, &mut rng)
        } else {
            p.id.as_str().to_owned()
        };
        let sex = if matches!(p.id.sex(), shuju_types::Sex::Male) {
            "男"
        } else {
            "女"
        };
        gbk_line(
            &mut w,
            &format!(
                "{id},{},{sex},{},H{:09},{},{},{}",
                p.name,
                p.birth.format("%Y%m%d"),
                p.household,
                registry_address(&p.address, p.county, p.household),
                COUNTIES[p.county].0,
                p.phone
            ),
        )?;
        io(writeln!(truth, "gongan_hukou,{},{uid}", lake_key(&id)))?;
        rows += 1;
        tick(&mut written, 1);
    }
    summary.add(w, path, rows)?;

    // 人社局: social insurance, JSON lines, ISO timestamps; variant names, missing IDs, a duplicate delivery.
    let (path, mut w) = open(out, "rsj/shebao.jsonl", Enc::Utf8, "")?;
    let mut rows = 0;
    let mut dup = Vec::new();
    for (uid, p) in people.iter().enumerate() {
        let age = 2026 - chrono::Datelike::year(&p.birth);
        if !(18..=75).contains(&age) || !rng.gen_bool(0.6) {
            continue;
        }
        // A tenth of the IDs bad, evenly in the four ways; a few missing.
        let id = if rng.gen_bool(0.01) {
            None
        } else if rng.gen_bool(0.10) {
            Some(IdFault::any(&mut rng).apply(&p.id, &mut rng))
        } else {
            Some(p.id.as_str().to_owned())
        };
        let name = if rng.gen_bool(0.04) {
            name_slip(&p.name, &mut rng)
        } else {
            p.name.clone()
        };
        let birth = if rng.gen_bool(0.02) {
            birth_slip(p.birth, &mut rng)
        } else {
            p.birth
        };
        let key = format!("SB{uid:09}");
        let line = serde_json::json!({"cbrybh": key, "sfzh": id, "xm": name, "csrq": birth.format("%Y-%m-%d").to_string(), "xzlx": XZLX[uid % 3],
            "jfjs": rng.gen_range(3000..20000), "cbzt": if rng.gen_bool(0.9) { "1" } else { "2" }, "gxsj": format!("2026-0{}-{:02}T08:00:00+08:00", rng.gen_range(1..10), rng.gen_range(1..29))})
        .to_string();
        io(writeln!(w, "{line}"))?;
        io(writeln!(truth, "rsj_shebao,{key},{uid}"))?;
        if rng.gen_bool(0.01) {
            dup.push(line);
        }
        rows += 1;
        tick(&mut written, 1);
    }
    for line in dup {
        io(writeln!(w, "{line}"))?;
        rows += 1;
    }
    summary.add(w, path, rows)?;

    // 自然资源和规划局: real-estate titles, UTF-8 CSV with a BOM, dates YYYY/MM/DD, full-width digits.
    let (path, mut w) = open(
        out,
        "zrzy/budongchan.csv",
        Enc::Utf8Bom,
        "权利人,证件号码,不动产单元号,坐落,面积,登记日期",
    )?;
    let mut rows = 0;
    let mut last_household = 0;
    for (uid, p) in people.iter().enumerate() {
        if p.household == last_household || !rng.gen_bool(0.45) {
            continue;
        }
        last_household = p.household;
        let addr = if rng.gen_bool(0.05) {
            full_width_digits(&p.address)
        } else {
            p.address.clone()
        };
        let unit = format!(
            "{}{:06}GB{:05}F{:08}",
            COUNTIES[p.county].0,
            rng.gen_range(0..999_999),
            rng.gen_range(0..99_999),
            p.household
        );
        let (area, y, m, d) = (
            rng.gen_range(45.0..180.0),
            rng.gen_range(5..26),
            rng.gen_range(1..13),
            rng.gen_range(1..29),
        );
        io(writeln!(
            w,
            "{},{},{unit},{addr},{area:.2},20{y:02}/{m:02}/{d:02}",
            p.name, p.id
        ))?;
        io(writeln!(truth, "zrzy_budongchan,{unit},{uid}"))?;
        rows += 1;
        tick(&mut written, 1);
    }
    summary.add(w, path, rows)?;

    // 公安局交警支队: vehicles, GBK CSV.
    let (path, mut w) = open(
        out,
        "jiaojing/vehicles.csv",
        Enc::Gbk,
        "号牌号码,号牌种类,所有人,身份证明号码,车辆类型,车辆识别代号,注册登记日期",
    )?;
    let mut rows = 0;
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    for (uid, p) in people.iter().enumerate() {
        if !rng.gen_bool(0.25) {
            continue;
        }
        let plate = format!(
            "鲁P{}{:04}",
            LETTERS[rng.gen_range(0..LETTERS.len())] as char,
            rng.gen_range(0..10_000)
        );
        let vin: String = (0..17)
            .map(|_| LETTERS[rng.gen_range(0..LETTERS.len())] as char)
            .collect();
        gbk_line(
            &mut w,
            &format!(
                "{plate},02,{},{},K33,{vin},{}",
                p.name,
                p.id,
                NaiveDate::from_ymd_opt(
                    rng.gen_range(2005..2026),
                    rng.gen_range(1..13),
                    rng.gen_range(1..29)
                )
                .unwrap_or_default()
            ),
        )?;
        io(writeln!(truth, "gongan_vehicles,{vin},{uid}"))?;
        rows += 1;
        tick(&mut written, 1);
    }
    summary.add(w, path, rows)?;

    // 市场监督管理局: enterprises and individual businesses, Excel.
    let path = out.join("scjg/market_entities.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let heads = [
        "统一社会信用代码",
        "主体名称",
        "主体类型",
        "法定代表人",
        "法定代表人证件号码",
        "注册资本(万元)",
        "成立日期",
        "登记状态",
        "注册号",
        "住所",
    ];
    for (c, h) in heads.iter().enumerate() {
        ws.write_string(0, c as u16, *h).map_err(Error::internal)?;
    }
    let mut rows = 0u32;
    // Their other attributes come from a generator of their own, so the rest of the city stays
    // as it was.
    let mut erng = StdRng::seed_from_u64(seed ^ 0x0E17_E291);
    let mut ents: Vec<Enterprise> = Vec::new();
    let mut names_taken: std::collections::HashSet<String> = Default::default();
    let mut penalised: Vec<String> = Vec::new();
    let mut code_names: std::collections::HashMap<String, String> = Default::default();
    for (uid, p) in people.iter().enumerate().filter(|(i, _)| i % 12 == 0) {
        let individual = rng.gen_bool(0.6);
        let org: String = (0..9)
            .map(|_| shuju_types::credit_code::ALPHABET[rng.gen_range(0..31)] as char)
            .collect();
        let code = CreditCode::complete(&format!(
            "9{}{}{org}",
            if individual { '2' } else { '1' },
            COUNTIES[p.county].0
        ))?;
        let code = if rng.gen_bool(0.01) {
            let mut s = code.as_str().to_owned();
            let last = s.pop().unwrap_or('0');
            s.push(if last == '1' { '2' } else { '1' });
            s
        } else {
            code.as_str().to_owned()
        };
        // Names are unique, as the name registration rules require: a clash gets a trade word.
        let first = if individual {
            String::new()
        } else {
            pick(&mut rng, GIVEN).to_string()
        };
        let mut name = String::new();
        for attempt in 0.. {
            // Two trade characters, one more for every eight clashes: a big city's names do not
            // run out.
            let word: String = if attempt == 0 {
                String::new()
            } else {
                (0..2 + attempt / 8)
                    .map(|_| pick(&mut erng, TRADE_WORDS))
                    .collect()
            };
            name = if individual {
                format!(
                    "{}{}{word}{}店",
                    COUNTIES[p.county].1,
                    p.name,
                    ["百货", "餐饮", "五金", "水果", "理发"][uid % 5]
                )
            } else {
                format!(
                    "聊城{first}{word}{}有限公司",
                    ["科技", "商贸", "建材", "食品", "物流"][uid % 5]
                )
            };
            if names_taken.insert(name.clone()) {
                break;
            }
        }
        let r = rows + 1;
        let vals = [
            code.clone(),
            name,
            if individual {
                "个体工商户".into()
            } else {
                "有限责任公司".into()
            },
            p.name.clone(),
            p.id.to_string(),
            format!("{}", rng.gen_range(1..5000)),
            NaiveDate::from_ymd_opt(
                rng.gen_range(1995..2026),
                rng.gen_range(1..13),
                rng.gen_range(1..29),
            )
            .unwrap_or_default()
            .to_string(),
            if rng.gen_bool(0.9) {
                "存续".into()
            } else {
                "注销".into()
            },
        ];
        // Registered before the 2015 reform: the old registration number is kept.
        let zch = if vals[6].as_str() < "2016" {
            RegistrationNumber::complete(&format!(
                "{}{}{:07}",
                COUNTIES[p.county].0,
                if individual { '6' } else { '1' },
                erng.gen_range(0..10_000_000)
            ))?
            .to_string()
        } else {
            String::new()
        };
        let address = if individual {
            p.address.clone()
        } else {
            format!(
                "聊城市{}{}{}号",
                COUNTIES[p.county].1,
                ROADS[erng.gen_range(0..ROADS.len())],
                erng.gen_range(1..400)
            )
        };
        for (c, v) in vals.iter().chain([&zch, &address]).enumerate() {
            ws.write_string(r, c as u16, v).map_err(Error::internal)?;
        }
        io(writeln!(truth, "scjg_entities,{code},{uid}"))?;
        ents.push(Enterprise {
            code: code.clone(),
            zch,
            name: vals[1].clone(),
            address,
            rep: uid,
            individual,
            county: p.county,
        });
        if rng.gen_bool(0.1) && CreditCode::parse(&code).is_ok() {
            penalised.push(code.clone());
            code_names.insert(code.clone(), vals[1].clone());
        }
        rows += 1;
        tick(&mut written, 1);
    }
    std::fs::create_dir_all(out.join("scjg")).map_err(Error::internal)?;
    wb.save(&path).map_err(Error::internal)?;
    summary.files.push((path, rows as usize));

    // 民政局: marriage and divorce registrations, UTF-8 CSV, dates written 2019年5月1日.
    let (path, mut w) = open(
        out,
        "mzj/marriages.csv",
        Enc::Utf8,
        "登记编号,男方身份证号,男方姓名,女方身份证号,女方姓名,登记类型,登记日期",
    )?;
    let mut rows = 0;
    let mut reg = 0u64;
    // Couples are pairs of adults in one household.
    for (ci, pair) in people.chunks(2).enumerate() {
        let [a, b] = pair else { continue };
        let adult = |p: &Person| 2026 - chrono::Datelike::year(&p.birth) >= 22;
        if a.household != b.household || !adult(a) || !adult(b) || !rng.gen_bool(0.7) {
            continue;
        }
        let ((m, muid), (f, fuid)) = if matches!(a.id.sex(), shuju_types::Sex::Male) {
            ((a, 2 * ci), (b, 2 * ci + 1))
        } else {
            ((b, 2 * ci + 1), (a, 2 * ci))
        };
        let divorced = rng.gen_bool(0.08);
        for (kind, year) in [("结婚", rng.gen_range(1980..2020))]
            .into_iter()
            .chain(divorced.then_some(("离婚", 2021)))
        {
            reg += 1;
            let key = format!("MZ{reg:010}");
            let mid = if rng.gen_bool(0.01) {
                wrong_check(m.id.as_str())
            } else {
                m.id.as_str().to_owned()
            };
            io(writeln!(
                w,
                "{key},{mid},{},{},{},{kind},{year}年{}月{}日",
                m.name,
                f.id,
                f.name,
                rng.gen_range(1..13),
                rng.gen_range(1..29)
            ))?;
            // Each registration names two persons: one record per party.
            io(writeln!(truth, "mzj_marriages,{key}#男方,{muid}"))?;
            io(writeln!(truth, "mzj_marriages,{key}#女方,{fuid}"))?;
            rows += 1;
            tick(&mut written, 1);
        }
    }
    summary.add(w, path, rows)?;

    // 民政局: low-income, extreme-poverty and disability assistance, JSON lines; some without IDs.
    let (path, mut w) = open(out, "mzj/assistance.jsonl", Enc::Utf8, "")?;
    let mut rows = 0;
    for (uid, p) in people.iter().enumerate() {
        if !rng.gen_bool(0.03) {
            continue;
        }
        let key = format!("JZ{uid:09}");
        let id = (!rng.gen_bool(0.05)).then(|| p.id.as_str().to_owned());
        let name = if rng.gen_bool(0.03) {
            variant(&p.name, &mut rng)
        } else {
            p.name.clone()
        };
        let kind = ["低保", "特困供养", "残疾人两项补贴"][rng.gen_range(0..3)];
        let line = serde_json::json!({"jzbh": key, "sfzh": id, "xm": name, "csrq": p.birth.format("%Y%m%d").to_string(), "zz": p.address, "jzlx": kind,
            "ffje": rng.gen_range(300..1200), "ksrq": format!("{}-{:02}-01", rng.gen_range(2015..2026), rng.gen_range(1..13))});
        io(writeln!(w, "{line}"))?;
        io(writeln!(truth, "mzj_assistance,{key},{uid}"))?;
        rows += 1;
        tick(&mut written, 1);
    }
    summary.add(w, path, rows)?;

    // 住房公积金管理中心: housing-fund accounts, GBK CSV, amounts with thousands separators.
    let (path, mut w) = open(
        out,
        "gjj/housing_fund.csv",
        Enc::Gbk,
        "个人账号,身份证号,姓名,单位名称,月缴存额,缴存状态,开户日期",
    )?;
    let mut rows = 0;
    for (uid, p) in people.iter().enumerate() {
        let age = 2026 - chrono::Datelike::year(&p.birth);
        if !(20..=60).contains(&age) || !rng.gen_bool(0.35) {
            continue;
        }
        let key = format!("GJJ{uid:09}");
        let amount = rng.gen_range(300..6000);
        gbk_line(
            &mut w,
            &format!(
                "{key},{},{},聊城{}有限公司,\"{},{:03}\",{},{}",
                p.id,
                p.name,
                pick(&mut rng, GIVEN),
                amount / 1000,
                amount % 1000,
                if rng.gen_bool(0.85) {
                    "正常"
                } else {
                    "封存"
                },
                NaiveDate::from_ymd_opt(rng.gen_range(2000..2026), rng.gen_range(1..13), 1)
                    .unwrap_or_default()
                    .format("%Y%m%d")
            ),
        )?;
        io(writeln!(truth, "gjj_accounts,{key},{uid}"))?;
        rows += 1;
        tick(&mut written, 1);
    }
    summary.add(w, path, rows)?;

    // 市场监督管理局: administrative penalties (互联网+监管), UTF-8 CSV.
    let (path, mut w) = open(
        out,
        "scjg/penalties.csv",
        Enc::Utf8,
        "处罚决定书文号,统一社会信用代码,当事人名称,违法行为类型,罚没款金额,处罚决定日期",
    )?;
    let mut rows = 0;
    for (i, code) in penalised.iter().enumerate() {
        io(writeln!(
            w,
            "聊市监罚〔2026〕{}号,{code},{},{},{}.00,2026-{:02}-{:02}",
            i + 1,
            code_names.get(code).map(String::as_str).unwrap_or(""),
            ["无照经营", "虚假宣传", "食品安全", "价格违法"][i % 4],
            rng.gen_range(1..200) * 500,
            rng.gen_range(1..12),
            rng.gen_range(1..29)
        ))?;
        rows += 1;
        tick(&mut written, 1);
    }
    summary.add(w, path, rows)?;

    // 教育和体育局: schools with their district polygons (WKT, WGS 84).
    let (path, mut w) = open(
        out,
        "jtj/schools.csv",
        Enc::Utf8,
        "学校标识码,学校名称,学段,行政区划代码,经度,纬度,学区范围",
    )?;
    let schools = (persons / 800).max(8);
    for i in 0..schools {
        let county = COUNTIES[i % COUNTIES.len()];
        let (x, y) = (
            115.3 + rng.gen_range(0.0..1.2),
            35.9 + rng.gen_range(0.0..1.0),
        );
        let d = 0.02;
        io(writeln!(
            w,
            "{},{}第{}{},{},{},{x:.6},{y:.6},\"POLYGON(({:.6} {:.6}, {:.6} {:.6}, {:.6} {:.6}, {:.6} {:.6}, {:.6} {:.6}))\"",
            3_137_000_000_u64 + i as u64,
            county.1,
            i / 2 + 1,
            if i % 2 == 0 { "小学" } else { "初级中学" },
            if i % 2 == 0 { "小学" } else { "初中" },
            county.0,
            x - d,
            y - d,
            x + d,
            y - d,
            x + d,
            y + d,
            x - d,
            y + d,
            x - d,
            y - d
        ))?;
    }
    summary.add(w, path, schools)?;

    // 生态环境局: hourly air-quality readings of its stations (key: station and hour).
    let (path, mut w) = open(
        out,
        "shj/air_quality.csv",
        Enc::Utf8,
        "站点编码,监测时间,PM2.5,PM10,AQI",
    )?;
    let stations = 12;
    let hours = (persons / 100).clamp(24, 24 * 365);
    for h in 0..hours {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default()
            + chrono::Duration::hours(h as i64);
        for st in 0..stations {
            let pm25 = rng.gen_range(10..180);
            io(writeln!(
                w,
                "3715{st:04}A,{},{pm25},{},{}",
                t.format("%Y-%m-%d %H:%M:%S"),
                pm25 + rng.gen_range(5..80),
                (pm25 as f64 * 1.3) as u32
            ))?;
        }
    }
    summary.add(w, path, hours * stations)?;
    written += hours * stations;

    // Cameras of 14 agencies, GB/T 28181 IDs: centre (8) + industry (2) + type (3) + network (1) + serial (6).
    let (path, mut w) = open(
        out,
        "cameras/cameras.csv",
        Enc::Utf8,
        "device_id,agency,name,longitude,latitude,network",
    )?;
    let cameras = (persons / 200).max(14);
    for i in 0..cameras {
        let (industry, agency) = AGENCIES[i % AGENCIES.len()];
        let county = COUNTIES[i % COUNTIES.len()];
        let (ty, net) = ([("131", '6'), ("132", '5'), ("132", '7')])[i % 3];
        let id = format!("{}00{industry}{ty}{net}{:06}", county.0, i + 1);
        io(writeln!(
            w,
            "{id},聊城市{agency},{}{}路口,{:.6},{:.6},{net}",
            county.1,
            ROADS[i % ROADS.len()],
            115.25 + rng.gen_range(0.0..1.3),
            35.85 + rng.gen_range(0.0..1.1)
        ))?;
    }
    summary.add(w, path, cameras)?;
    written += cameras;
    written += enterprise_deliveries(out, &people, &ents, &mut erng, &mut truth, &mut summary)?;
    let mut prng = StdRng::seed_from_u64(seed ^ 0x5EED_2E47);
    written += more_person_deliveries(out, &people, &mut prng, &mut truth, &mut summary)?;
    let mut orng = StdRng::seed_from_u64(seed ^ 0x0C17_0B5E);
    written += city_operations(out, persons, &mut orng, &mut summary)?;
    io(truth.flush())?;
    summary.records = written;
    progress(summary.records);
    Ok(summary)
}

/// How a clerk elsewhere writes an enterprise's name: 聊城 or 聊城市 in front, 有限责任公司 for
/// 有限公司, the city in brackets, the county left off a shop's name, a homophone in the owner's.
fn enterprise_name_variant(e: &Enterprise, owner: &str, rng: &mut StdRng) -> String {
    if e.individual {
        let shop = e.name.strip_prefix(COUNTIES[e.county].1).unwrap_or(&e.name);
        return match rng.gen_range(0..3) {
            0 => shop.to_owned(),
            1 => shop.replacen(owner, &variant(owner, rng), 1),
            _ => e.name.clone(),
        };
    }
    let core = e
        .name
        .strip_prefix("聊城")
        .and_then(|n| n.strip_suffix("有限公司"))
        .unwrap_or(&e.name);
    match rng.gen_range(0..5) {
        0 => format!("聊城市{core}有限公司"),
        1 => format!("聊城{core}有限责任公司"),
        2 => format!("{core}（聊城）有限公司"),
        3 => format!("聊城 {core} 有限公司"),
        _ => e.name.clone(),
    }
}

/// The deliveries that name enterprises besides the registry: shareholders (for companies),
/// administrative licences (双公示), and inspections and enforcement (互联网+监管) in which the
/// enterprise is written as the inspector found it — by credit code, by its old registration
/// number or organisation code, or by name and address alone; a few inspected stalls are not
/// registered at all. Which record is which enterprise goes to `truth_enterprises.csv`.
fn enterprise_deliveries(
    out: &Path,
    people: &[Person],
    ents: &[Enterprise],
    rng: &mut StdRng,
    person_truth: &mut BufWriter<std::fs::File>,
    summary: &mut Summary,
) -> Result<usize> {
    let mut truth = writer(&out.join("truth_enterprises.csv"))?;
    io(writeln!(truth, "source,record_key,enterprise"))?;
    for (i, e) in ents.iter().enumerate() {
        io(writeln!(truth, "scjg_entities,{},{i}", e.code))?;
    }
    let mut written = 0;
    let valid = |e: &Enterprise| CreditCode::parse(&e.code).is_ok();

    // 市场监督管理局: shareholders of companies, natural persons.
    let (path, mut w) = open(
        out,
        "scjg/shareholders.csv",
        Enc::Utf8,
        "股东出资编号,统一社会信用代码,股东名称,股东证件号码,认缴出资额(万元),出资比例(%)",
    )?;
    let mut rows = 0;
    for e in ents.iter().filter(|e| !e.individual && valid(e)) {
        let n = rng.gen_range(1..=3usize);
        let mut left = 100u32;
        for k in 0..n {
            let uid = if k == 0 {
                e.rep
            } else {
                rng.gen_range(0..people.len())
            };
            let p = &people[uid];
            let share = if k + 1 == n {
                left
            } else {
                rng.gen_range(1..left.max(2))
            };
            left -= share.min(left);
            rows += 1;
            let key = format!("GD{rows:08}");
            io(writeln!(
                w,
                "{key},{},{},{},{},{share}",
                e.code,
                p.name,
                p.id,
                rng.gen_range(10..2000)
            ))?;
            io(writeln!(person_truth, "scjg_shareholders,{key},{uid}"))?;
        }
    }
    summary.add(w, path, rows)?;
    written += rows;

    // 市场监督管理局: administrative licences, published under 双公示, UTF-8 with a BOM.
    let (path, mut w) = open(
        out,
        "scjg/licences.csv",
        Enc::Utf8Bom,
        "行政许可决定文书号,行政相对人名称,统一社会信用代码,许可证书名称,许可编号,许可决定日期,有效期自,有效期至,许可机关",
    )?;
    let mut rows = 0;
    for (i, e) in ents.iter().enumerate().filter(|(_, e)| valid(e)) {
        if !rng.gen_bool(0.4) {
            continue;
        }
        rows += 1;
        let key = format!("聊市监许〔2025〕{rows}号");
        let year = rng.gen_range(2021..2026);
        let (m, d) = (rng.gen_range(1..13), rng.gen_range(1..29));
        let kind = [
            "食品经营许可证",
            "公共场所卫生许可证",
            "特种设备使用登记证",
            "药品经营许可证",
        ][rng.gen_range(0..4)];
        io(writeln!(
            w,
            "{key},{},{},{kind},JY{}{:08},{year}-{m:02}-{d:02},{year}-{m:02}-{d:02},{}-{m:02}-{d:02},聊城市市场监督管理局",
            e.name,
            e.code,
            COUNTIES[e.county].0,
            rng.gen_range(0..100_000_000),
            year + 5
        ))?;
        io(writeln!(truth, "scjg_licences,{key},{i}"))?;
    }
    summary.add(w, path, rows)?;
    written += rows;

    // 生态环境局: inspections and enforcement (互联网+监管), GBK, the subject as found.
    let (path, mut w) = open(
        out,
        "shj/inspections.csv",
        Enc::Gbk,
        "检查编号,检查对象名称,检查对象证照号码,检查对象地址,法定代表人(负责人),检查日期,检查结果,实施机关",
    )?;
    let mut rows = 0;
    let results = ["未发现问题", "未发现问题", "责令限期整改", "立案查处"];
    let mut line = |w: &mut BufWriter<std::fs::File>,
                    rng: &mut StdRng,
                    name: &str,
                    code: &str,
                    address: &str,
                    rep: &str,
                    who: usize|
     -> Result<()> {
        rows += 1;
        let key = format!("SHJ-JC-{rows:07}");
        gbk_line(
            w,
            &format!(
                "{key},{name},{code},{address},{rep},2026-{:02}-{:02},{},聊城市生态环境局",
                rng.gen_range(1..12),
                rng.gen_range(1..29),
                results[rng.gen_range(0..results.len())]
            ),
        )?;
        io(writeln!(truth, "shj_inspections,{key},{who}"))
    };
    for (i, e) in ents.iter().enumerate() {
        if !rng.gen_bool(0.5) {
            continue;
        }
        let owner = &people[e.rep].name;
        for _ in 0..rng.gen_range(1..=2) {
            let code = match rng.gen_range(0..100) {
                0..55 => e.code.clone(),
                55..75 if !e.zch.is_empty() => e.zch.clone(),
                55..85 => {
                    let org = e.code.get(8..17).unwrap_or_default();
                    format!(
                        "{}-{}",
                        &org[..8.min(org.len())],
                        org.get(8..).unwrap_or("")
                    )
                }
                _ => String::new(),
            };
            let name = enterprise_name_variant(e, owner, rng);
            let address = match rng.gen_range(0..10) {
                0..3 => String::new(),
                3..5 => full_width_digits(&e.address),
                5..7 => e
                    .address
                    .strip_prefix("聊城市")
                    .unwrap_or(&e.address)
                    .to_owned(),
                _ => e.address.clone(),
            };
            let rep = if rng.gen_bool(0.7) {
                owner.clone()
            } else {
                String::new()
            };
            line(&mut w, rng, &name, &code, &address, &rep, i)?;
        }
    }
    // Stalls nobody registered: no code; some inspected twice.
    for k in 0..(ents.len() / 30).max(2) {
        let p = &people[rng.gen_range(0..people.len())];
        let name = format!("{}{}摊点", p.name, ["水果", "早餐", "烧烤"][k % 3]);
        let address = format!(
            "聊城市{}{}{}号",
            COUNTIES[p.county].1,
            ROADS[rng.gen_range(0..ROADS.len())],
            rng.gen_range(1..400)
        );
        for _ in 0..if k % 3 == 0 { 2 } else { 1 } {
            line(&mut w, rng, &name, "", &address, &p.name, 1_000_000 + k)?;
        }
    }
    summary.add(w, path, rows)?;
    written += rows;
    io(truth.flush())?;
    Ok(written)
}

/// Deliveries that complete a person's file: rented homes registered with the police (出租房屋登记,
/// the tenant named by ID), and disability certificates (残疾人证, whose number is the citizen ID
/// followed by the category and the grade).
/// 城市管理局: city-management cases (数字城管) reported in the counties, GBK as its old system
/// exports them, some with the closing time missing; 交通运输局: traffic-flow sensors' 15-minute
/// counts as JSON lines, a few readings delivered twice.
fn city_operations(
    out: &Path,
    persons: usize,
    rng: &mut StdRng,
    summary: &mut Summary,
) -> Result<usize> {
    const KINDS: &[&str] = &[
        "占道经营",
        "暴露垃圾",
        "违章停车",
        "井盖缺失",
        "乱贴广告",
        "道路破损",
    ];
    const STATES: &[&str] = &["已结案", "已结案", "已结案", "处置中", "待派遣"];
    let (path, mut w) = open(out, "cgj/cases.csv", Enc::Gbk, "")?;
    gbk_line(
        &mut w,
        "案件编号,案件类型,所属区县,经度,纬度,上报时间,处置状态,结案时间",
    )?;
    let cases = (persons / 20).max(20);
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    for i in 0..cases {
        let county = COUNTIES[i % COUNTIES.len()];
        let reported = start + chrono::Duration::minutes(rng.gen_range(0..60 * 24 * 300));
        let state = STATES[rng.gen_range(0..STATES.len())];
        let closed = if state == "已结案" && rng.gen_range(0..20) > 0 {
            (reported + chrono::Duration::minutes(rng.gen_range(30..60 * 72)))
                .format("%Y/%m/%d %H:%M")
                .to_string()
        } else {
            String::new()
        };
        gbk_line(
            &mut w,
            &format!(
                "CG{}{:06},{},{},{:.6},{:.6},{},{state},{closed}",
                county.0,
                i + 1,
                KINDS[rng.gen_range(0..KINDS.len())],
                county.0,
                115.25 + rng.gen_range(0.0..1.3),
                35.85 + rng.gen_range(0.0..1.1),
                reported.format("%Y/%m/%d %H:%M"),
            ),
        )?;
    }
    summary.add(w, path, cases)?;

    let (path, mut w) = open(out, "jtys/traffic_flow.jsonl", Enc::Utf8, "")?;
    let slots = ((persons / 50).clamp(96, 96 * 365) / 96) * 96;
    let rows = traffic_readings(&mut w, 20, start, slots, rng)?;
    summary.add(w, path, rows)?;
    Ok(cases + rows)
}

/// Traffic-flow readings as the detectors' vendor exports them (JSON lines, times with their
/// offset): `sensors` detectors every 15 minutes for `slots` slots from `start`, three times the
/// traffic in the rush hours; one reading in 500 is sent twice. Returns the readings written.
fn traffic_readings(
    w: &mut impl Write,
    sensors: usize,
    start: chrono::NaiveDateTime,
    slots: usize,
    rng: &mut StdRng,
) -> Result<usize> {
    let mut rows = 0;
    let mut line = String::with_capacity(128);
    for t in 0..slots {
        let at = (start + chrono::Duration::minutes(15 * t as i64))
            .format("%Y-%m-%dT%H:%M:%S+08:00")
            .to_string();
        let hour = (t / 4) % 24;
        let peak = if (7..9).contains(&hour) || (17..19).contains(&hour) {
            3
        } else {
            1
        };
        for s in 0..sensors {
            let flow: u32 = rng.gen_range(20..120) * peak;
            let speed = rng.gen_range(15.0..70.0_f64).round();
            let occupancy = (f64::from(flow) / 10.0).round() / 100.0;
            line.clear();
            use std::fmt::Write as _;
            let _ = writeln!(
                line,
                "{{\"jcqbh\":\"JT3715{s:04}\",\"tjsj\":\"{at}\",\"cll\":{flow},\"pjsd\":{speed:.1},\"zyl\":{occupancy}}}"
            );
            io(w.write_all(line.as_bytes()))?;
            rows += 1;
            if rng.gen_range(0..500) == 0 {
                io(w.write_all(line.as_bytes()))?;
            }
        }
    }
    Ok(rows)
}

/// One month of traffic-flow readings from `sensors` detectors, as the monthly delivery
/// `jtys/traffic_flow_YYYYMM.jsonl` (the city's bulk of records: a detector reports 2,880 times
/// a month). Deterministic for a seed. Returns the file and the readings in it.
pub fn traffic_month(
    out: &Path,
    sensors: usize,
    year: i32,
    month: u32,
    seed: u64,
) -> Result<(PathBuf, usize)> {
    let mut rng = StdRng::seed_from_u64(seed ^ (u64::from(month) << 32) ^ year as u64);
    let first = NaiveDate::from_ymd_opt(year, month, 1)
        .ok_or_else(|| Error::invalid("month", "no such month"))?;
    let next = first + chrono::Months::new(1);
    let days = next.signed_duration_since(first).num_days() as usize;
    let name = format!("jtys/traffic_flow_{year}{month:02}.jsonl");
    let (path, mut w) = open(out, &name, Enc::Utf8, "")?;
    let start = first.and_hms_opt(0, 0, 0).unwrap_or_default();
    let rows = traffic_readings(&mut w, sensors.min(10_000), start, days * 96, &mut rng)?;
    io(w.flush())?;
    Ok((path, rows))
}

fn more_person_deliveries(
    out: &Path,
    people: &[Person],
    rng: &mut StdRng,
    truth: &mut BufWriter<std::fs::File>,
    summary: &mut Summary,
) -> Result<usize> {
    let mut written = 0;
    let (path, mut w) = open(
        out,
        "gongan/rentals.csv",
        Enc::Utf8,
        "登记编号,承租人姓名,承租人身份证号,出租房屋地址,出租人姓名,租赁起始日期,租赁截止日期",
    )?;
    let mut rows = 0;
    for (uid, p) in people.iter().enumerate() {
        if 2026 - chrono::Datelike::year(&p.birth) < 18 || !rng.gen_bool(0.08) {
            continue;
        }
        rows += 1;
        let key = format!("CZ{rows:09}");
        let landlord = &people[rng.gen_range(0..people.len())];
        let county = rng.gen_range(0..COUNTIES.len());
        let start = NaiveDate::from_ymd_opt(rng.gen_range(2022..2027), rng.gen_range(1..13), 1)
            .unwrap_or_default();
        io(writeln!(
            w,
            "{key},{},{},聊城市{}{}{}号{}号楼{}单元{}室,{},{},{}",
            p.name,
            p.id,
            COUNTIES[county].1,
            ROADS[rng.gen_range(0..ROADS.len())],
            rng.gen_range(1..300),
            rng.gen_range(1..30),
            rng.gen_range(1..6),
            rng.gen_range(101..1802),
            landlord.name,
            start,
            start + chrono::Months::new(12)
        ))?;
        io(writeln!(truth, "gongan_rentals,{key},{uid}"))?;
    }
    summary.add(w, path, rows)?;
    written += rows;

    let (path, mut w) = open(
        out,
        "mzj/disability.csv",
        Enc::Utf8,
        "残疾人证号,公民身份号码,姓名,残疾类别,残疾等级,发证日期",
    )?;
    let mut rows = 0;
    const KINDS: [&str; 7] = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"];
    const GRADES: [&str; 4] = ["一级", "二级", "三级", "四级"];
    for (uid, p) in people.iter().enumerate() {
        if !rng.gen_bool(0.015) {
            continue;
        }
        rows += 1;
        let (k, g) = (rng.gen_range(0..7), rng.gen_range(0..4));
        let cert = format!("{}{}{}", p.id, k + 1, g + 1);
        io(writeln!(
            w,
            "{cert},{},{},{},{},{}-{:02}-{:02}",
            p.id,
            p.name,
            KINDS[k],
            GRADES[g],
            rng.gen_range(2005..2026),
            rng.gen_range(1..13),
            rng.gen_range(1..29)
        ))?;
        io(writeln!(truth, "mzj_disability,{cert},{uid}"))?;
    }
    summary.add(w, path, rows)?;
    written += rows;
    Ok(written)
}

/// Two files of the same people for a linkage benchmark: `a.csv` holds `n` persons as the
/// registry has them; `b.csv` holds `n` records of another department — 70% of them persons of
/// `a.csv` written with the faults clerks make (homophone names, a mistyped or swapped birth
/// date, another flat in the building, full-width digits, missing phone or sex), 30% persons who
/// are not in `a.csv`. Columns: rec_id, name, sex, birth, address, phone; the person behind a
/// record is the number in its rec_id (`a17`, `b17`).
pub fn linkage(n: usize, seed: u64, out: &Path) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut a = writer(&out.join("a.csv"))?;
    let mut b = writer(&out.join("b.csv"))?;
    io(writeln!(a, "rec_id,name,sex,birth,address,phone"))?;
    io(writeln!(b, "rec_id,name,sex,birth,address,phone"))?;
    let person = |rng: &mut StdRng| {
        let c = rng.gen_range(0..COUNTIES.len());
        let given: String = (0..rng.gen_range(1..=2))
            .map(|_| pick(rng, GIVEN))
            .collect();
        let name = format!("{}{given}", pick(rng, SURNAMES));
        let birth = NaiveDate::from_ymd_opt(
            rng.gen_range(1930..2024),
            rng.gen_range(1..=12),
            rng.gen_range(1..=28),
        )
        .unwrap_or_default();
        let sex = if rng.gen_bool(0.5) { "男" } else { "女" };
        let road = ROADS[rng.gen_range(0..ROADS.len())];
        let (no, bld, unit, room) = (
            rng.gen_range(1..300),
            rng.gen_range(1..30),
            rng.gen_range(1..6),
            rng.gen_range(101..1802),
        );
        let phone = format!(
            "1{}{:09}",
            [3, 5, 7, 8, 9][rng.gen_range(0..5)],
            rng.gen_range(0..1_000_000_000u64)
        );
        (name, sex, birth, c, road, no, bld, unit, room, phone)
    };
    let addr = |c: usize, road: &str, no: u32, bld: u32, unit: u32, room: u32| {
        format!(
            "聊城市{}{road}{no}号{bld}号楼{unit}单元{room}室",
            COUNTIES[c].1
        )
    };
    let mut in_b = 0;
    for uid in 0..n {
        let (name, sex, birth, c, road, no, bld, unit, room, phone) = person(&mut rng);
        io(writeln!(
            a,
            "a{uid},{name},{sex},{},{},{phone}",
            birth.format("%Y-%m-%d"),
            addr(c, road, no, bld, unit, room)
        ))?;
        if in_b >= n * 7 / 10 || !rng.gen_bool(0.7) {
            continue;
        }
        in_b += 1;
        let name = if rng.gen_bool(0.05) {
            variant(&name, &mut rng)
        } else {
            name
        };
        let mut birth = birth.format("%Y%m%d").to_string();
        if rng.gen_bool(0.02) {
            let mut d = birth.into_bytes();
            let i = rng.gen_range(4..8);
            d[i] = b'0' + ((d[i] - b'0' + 1) % 10);
            birth = String::from_utf8_lossy(&d).into_owned();
        }
        let (bld, room) = if rng.gen_bool(0.1) {
            (rng.gen_range(1..30), rng.gen_range(101..1802))
        } else {
            (bld, room)
        };
        let mut address = addr(c, road, no, bld, unit, room);
        if rng.gen_bool(0.03) {
            address = full_width_digits(&address);
        }
        let phone = if rng.gen_bool(0.3) {
            String::new()
        } else {
            phone
        };
        let sex = if rng.gen_bool(0.1) { "" } else { sex };
        io(writeln!(b, "b{uid},{name},{sex},{birth},{address},{phone}"))?;
    }
    for uid in n..(n + n - in_b) {
        let (name, sex, birth, c, road, no, bld, unit, room, phone) = person(&mut rng);
        io(writeln!(
            b,
            "b{uid},{name},{sex},{},{},{phone}",
            birth.format("%Y%m%d"),
            addr(c, road, no, bld, unit, room)
        ))?;
    }
    io(a.flush())?;
    io(b.flush())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_of_readings_is_every_detector_every_quarter_hour() {
        let a = tempfile::tempdir().expect("tmp");
        let b = tempfile::tempdir().expect("tmp");
        let (pa, n) = traffic_month(a.path(), 3, 2025, 2, 7).expect("month");
        assert_eq!(n, 3 * 28 * 96);
        let (pb, _) = traffic_month(b.path(), 3, 2025, 2, 7).expect("month");
        let text = std::fs::read_to_string(&pa).expect("read");
        assert_eq!(
            text,
            std::fs::read_to_string(&pb).expect("read"),
            "deterministic"
        );
        let mut keys = std::collections::HashSet::new();
        let mut lines = 0;
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("a JSON object per line");
            let at = v["tjsj"].as_str().expect("time");
            assert!(at.starts_with("2025-02-") && at.ends_with("+08:00"), "{at}");
            keys.insert((v["jcqbh"].to_string(), at.to_owned()));
            lines += 1;
        }
        assert_eq!(keys.len(), n, "every reading once");
        assert!(lines > n, "some readings sent twice");
    }

    fn digest(dir: &Path) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = [
            "gongan/hukou_registry.csv",
            "rsj/shebao.jsonl",
            "zrzy/budongchan.csv",
            "jiaojing/vehicles.csv",
            "cameras/cameras.csv",
            "mzj/marriages.csv",
            "mzj/assistance.jsonl",
            "gjj/housing_fund.csv",
            "scjg/penalties.csv",
            "jtj/schools.csv",
            "shj/air_quality.csv",
            "truth.csv",
        ]
        .iter()
        .map(|f| {
            let b = std::fs::read(dir.join(f)).unwrap();
            (
                f.to_string(),
                b.iter().fold(0xcbf29ce484222325u64, |h, x| {
                    (h ^ u64::from(*x)).wrapping_mul(0x100000001b3)
                }),
            )
        })
        .collect();
        v.sort();
        v
    }

    #[test]
    fn deterministic_with_faults_as_in_life() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let s = generate(5000, 9, a.path(), |_| {}).unwrap();
        generate(5000, 9, b.path(), |_| {}).unwrap();
        assert_eq!(digest(a.path()), digest(b.path()), "same seed, same city");
        assert!(s.records > 8000, "{}", s.records);
        // The registry is GBK and about 1% of its IDs have a wrong check character.
        let bytes = std::fs::read(a.path().join("gongan/hukou_registry.csv")).unwrap();
        assert!(std::str::from_utf8(&bytes).is_err(), "GBK, not UTF-8");
        let (text, _, bad) = encoding_rs::GBK.decode(&bytes);
        assert!(!bad);
        let ids: Vec<&str> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap())
            .collect();
        assert_eq!(ids.len(), 5000);
        let wrong = ids
            .iter()
            .filter(|id| CitizenId::parse(id).is_err())
            .count();
        assert!((20..=90).contains(&wrong), "{wrong} wrong IDs of 5000");
        // Social insurance has records without IDs and variant names, and duplicates.
        let sb = std::fs::read_to_string(a.path().join("rsj/shebao.jsonl")).unwrap();
        let lines: Vec<serde_json::Value> = sb
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(lines.iter().any(|l| l["sfzh"].is_null()));
        let keys: std::collections::HashSet<&str> = lines
            .iter()
            .map(|l| l["cbrybh"].as_str().unwrap())
            .collect();
        assert!(keys.len() < lines.len(), "a duplicate delivery");
        // Cameras carry 20-digit GB/T 28181 IDs.
        let cams = std::fs::read_to_string(a.path().join("cameras/cameras.csv")).unwrap();
        assert!(
            cams.lines()
                .skip(1)
                .all(|l| l.split(',').next().unwrap().len() == 20)
        );
    }
}
