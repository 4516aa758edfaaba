use shuju_identity::{Decisions, accuracy, febrl, resolve};
use std::path::Path;
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let d = Path::new(&dir);
    for (name, files, link) in [
        (
            "febrl4",
            vec![d.join("dataset4a.csv"), d.join("dataset4b.csv")],
            true,
        ),
        ("febrl3", vec![d.join("dataset3.csv")], false),
    ] {
        let f: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
        let (recs, truth) = febrl::read(&f).unwrap();
        let t = std::time::Instant::now();
        let r = resolve(&recs, &febrl::settings(link), &Decisions::default(), None).unwrap();
        let a = accuracy(&r.cluster, &truth);
        println!("{name}: {:?} {:?} {:?}", t.elapsed(), a, r.stats);
        for row in r.model.table(&recs) {
            println!("  {row:?}");
        }
        println!("  lambda {}", r.model.lambda);
    }
}
