//! Progress bars for long jobs on the command line.

use shuju_admin::Caller;
use shuju_lake::{Lake, LoadReport};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Load one file with a bar of bytes read; the bar is cleared when done (hidden when stderr is
/// not a terminal).
pub async fn ingest(
    lake: &Lake,
    caller: &Caller,
    resource: &str,
    path: &Path,
    label: &str,
) -> shuju_types::Result<LoadReport> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let style = indicatif::ProgressStyle::with_template(
        "  {msg:<28} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {elapsed}",
    )
    .map_err(shuju_types::Error::internal)?
    .progress_chars("=> ");
    let bar = indicatif::ProgressBar::new(size).with_style(style);
    bar.set_message(label.to_owned());
    let count = Arc::new(AtomicU64::new(0));
    let ticker = {
        let (bar, count) = (bar.clone(), count.clone());
        tokio::spawn(async move {
            loop {
                bar.set_position(count.load(Ordering::Relaxed));
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        })
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let r = lake.ingest(caller, resource, path, &name, count).await;
    ticker.abort();
    bar.finish_and_clear();
    r
}
