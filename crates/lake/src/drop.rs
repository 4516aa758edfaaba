//! The drop folders: a department (or its system) copies a delivery into its own folder,
//! `DROP/<department code>/<table>/`, made for every table its catalog entries provide; the
//! bureau may use `DROP/<table>/`. Once a file has stopped growing it is loaded like any other
//! delivery — in a department's folder, as that department, and only into a table whose entry it
//! provides — and moved to `done/` (with a `.report.json`) or `failed/` (with a `.error.txt`).
//! Hidden files and partial uploads (`*.part`, `*.tmp`) are left alone.

use crate::Lake;
use shuju_admin::Caller;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A file waiting in a drop folder: the department folder it is in (if any), its table, its path.
type Waiting = (Option<String>, String, PathBuf);

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(files) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    files
        .flatten()
        .filter_map(|f| {
            let name = f.file_name().to_string_lossy().into_owned();
            let p = f.path();
            (p.is_file()
                && !name.starts_with('.')
                && !name.ends_with(".part")
                && !name.ends_with(".tmp"))
            .then_some(p)
        })
        .collect()
}

fn candidates(root: &Path) -> Vec<Waiting> {
    let mut out = Vec::new();
    let Ok(top) = std::fs::read_dir(root) else {
        return out;
    };
    for t in top.flatten() {
        let name = t.file_name().to_string_lossy().into_owned();
        if !t.path().is_dir() || name.starts_with('.') {
            continue;
        }
        // Files right under a top folder: the bureau's `DROP/<table>/`.
        if crate::spec::valid_name(&name) {
            out.extend(
                files_in(&t.path())
                    .into_iter()
                    .map(|p| (None, name.clone(), p)),
            );
        }
        // Folders under it: a department's `DROP/<code>/<table>/`.
        let Ok(subs) = std::fs::read_dir(t.path()) else {
            continue;
        };
        for sub in subs.flatten() {
            let table = sub.file_name().to_string_lossy().into_owned();
            if sub.path().is_dir()
                && crate::spec::valid_name(&table)
                && table != "done"
                && table != "failed"
            {
                out.extend(
                    files_in(&sub.path())
                        .into_iter()
                        .map(|p| (Some(name.clone()), table.clone(), p)),
                );
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
        let mut loaded = Vec::new();
        let files = candidates(root);
        seen.retain(|p, _| files.iter().any(|(_, _, f)| f == p));
        for (dept, table, path) in files {
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if seen.insert(path.clone(), size) != Some(size) {
                continue; // new or still growing: wait one more pass
            }
            seen.remove(&path);
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let ready = async {
                let spec = self.spec_of(&table).await?;
                let caller = self.drop_caller(dept.as_deref(), &spec).await?;
                Ok::<_, shuju_types::Error>((spec, caller))
            };
            let (spec, caller) = match ready.await {
                Ok(x) => x,
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

    /// Who loads a dropped file: the department whose folder it is in — which must provide the
    /// table's catalog entry — or, in the bureau's `DROP/<table>/`, the drop folder itself.
    async fn drop_caller(
        &self,
        dept: Option<&str>,
        spec: &crate::TableSpec,
    ) -> shuju_types::Result<Caller> {
        let Some(code) = dept else {
            return Ok(Caller {
                username: "drop-folder".into(),
                client: Some("drop-folder".into()),
                ..Caller::system()
            });
        };
        let d = shuju_admin::departments::all(&self.store)
            .await?
            .into_iter()
            .find(|d| d.short_code.as_deref() == Some(code))
            .ok_or_else(|| {
                shuju_types::Error::not_found(format!("a department with the code {code}"))
            })?;
        if spec.provider != Some(d.id) {
            return Err(shuju_types::Error::forbidden(format!(
                "{} does not provide {}; a department delivers only into its own tables",
                d.name, spec.name
            )));
        }
        Ok(Caller {
            username: format!("drop-folder:{code}"),
            display_name: d.name,
            dept_id: Some(d.id),
            client: Some("drop-folder".into()),
            ..Caller::system()
        })
    }

    /// Make each department's folder for every table its catalog entries provide:
    /// `DROP/<department code>/<table>/`.
    pub async fn prepare_drop(&self, root: &Path) -> shuju_types::Result<usize> {
        let depts = shuju_admin::departments::all(&self.store).await?;
        let mut made = 0;
        for spec in self.specs().await? {
            let Some(provider) = spec.provider else {
                continue;
            };
            if let Some(code) = depts
                .iter()
                .find(|d| d.id == provider)
                .and_then(|d| d.short_code.clone())
                .filter(|c| !c.contains(['/', '\\', '.']))
            {
                let dir = root.join(code).join(&spec.name);
                if !dir.is_dir() {
                    std::fs::create_dir_all(&dir).map_err(shuju_types::Error::internal)?;
                    made += 1;
                }
            }
        }
        Ok(made)
    }

    /// Watch the drop folder forever, one pass every `every`. What a load brought is acted on
    /// through the outbox (`lake.loaded`), as for every other delivery.
    pub async fn watch_drop(self, root: PathBuf, every: Duration) {
        let _ = std::fs::create_dir_all(&root);
        let mut seen = HashMap::new();
        let mut pass = 0u64;
        loop {
            // The departments' folders, again every hundred passes (new tables, new codes).
            if pass.is_multiple_of(100)
                && let Err(e) = self.prepare_drop(&root).await
            {
                tracing::warn!(error = %e.report(), "drop folders not prepared");
            }
            pass += 1;
            let loads = self.scan_drop(&root, &mut seen).await;
            if !loads.is_empty() {
                tracing::info!(files = loads.len(), "drop folder deliveries loaded");
            }
            tokio::time::sleep(every).await;
        }
    }
}
