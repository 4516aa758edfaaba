//! The drop folder: a department (or its system) copies a delivery into `DROP/<table>/`; once the
//! file has stopped growing it is loaded like any other delivery and moved to `done/` (with a
//! `.report.json`) or `failed/` (with a `.error.txt`). Hidden files and partial uploads
//! (`*.part`, `*.tmp`) are left alone.

use crate::Lake;
use shuju_admin::Caller;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn candidates(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let Ok(tables) = std::fs::read_dir(root) else {
        return out;
    };
    for t in tables.flatten() {
        let table = t.file_name().to_string_lossy().into_owned();
        if !t.path().is_dir() || !crate::spec::valid_name(&table) {
            continue;
        }
        let Ok(files) = std::fs::read_dir(t.path()) else {
            continue;
        };
        for f in files.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            let p = f.path();
            if p.is_file()
                && !name.starts_with('.')
                && !name.ends_with(".part")
                && !name.ends_with(".tmp")
            {
                out.push((table.clone(), p));
            }
        }
    }
    out.sort();
    out
}

fn move_to(p: &Path, sub: &str, note_ext: &str, note: &str) {
    let (Some(dir), Some(name)) = (p.parent(), p.file_name()) else {
        return;
    };
    let target = dir.join(sub);
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let dest = target.join(format!("{stamp}-{}", name.to_string_lossy()));
    if std::fs::create_dir_all(&target).is_ok() && std::fs::rename(p, &dest).is_ok() {
        let mut n = dest.into_os_string();
        n.push(note_ext);
        let _ = std::fs::write(PathBuf::from(n), note);
    }
}

impl Lake {
    /// One pass over the drop folder: load every file whose size did not change since the last
    /// pass (`seen` remembers sizes between passes). Returns the loads.
    pub async fn scan_drop(
        &self,
        root: &Path,
        seen: &mut HashMap<PathBuf, u64>,
    ) -> Vec<crate::LoadReport> {
        let caller = Caller {
            username: "drop-folder".into(),
            client: Some("drop-folder".into()),
            ..Caller::system()
        };
        let mut loaded = Vec::new();
        let files = candidates(root);
        seen.retain(|p, _| files.iter().any(|(_, f)| f == p));
        for (table, path) in files {
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if seen.insert(path.clone(), size) != Some(size) {
                continue; // new or still growing: wait one more pass
            }
            seen.remove(&path);
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let spec = match self.spec_of(&table).await {
                Ok(s) => s,
                Err(e) => {
                    move_to(&path, "failed", ".error.txt", &e.message);
                    continue;
                }
            };
            match self
                .ingest(
                    &caller,
                    &spec.resource_code,
                    &path,
                    &name,
                    Default::default(),
                )
                .await
            {
                Ok(r) => {
                    let report = serde_json::to_string_pretty(&r).unwrap_or_default();
                    move_to(&path, "done", ".report.json", &report);
                    loaded.push(r);
                }
                Err(e) => move_to(&path, "failed", ".error.txt", &e.message),
            }
        }
        loaded
    }

    /// Watch the drop folder forever, one pass every `every`; `landed` is told of each load
    /// (the platform matches the persons and enterprises it brought).
    pub async fn watch_drop<F, Fut>(self, root: PathBuf, every: Duration, landed: F)
    where
        F: Fn(crate::LoadReport) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let _ = std::fs::create_dir_all(&root);
        let mut seen = HashMap::new();
        loop {
            let loads = self.scan_drop(&root, &mut seen).await;
            if !loads.is_empty() {
                tracing::info!(files = loads.len(), "drop folder deliveries loaded");
            }
            for r in loads {
                landed(r).await;
            }
            tokio::time::sleep(every).await;
        }
    }
}
