//! What each phase reads, digested: the bundle files it uses, the module, chart or role folders
//! it runs, the tools it calls (by path, size and modification time: no process is started), and
//! the digests of the phases it needs.
//!
//! Which tools a phase calls is the caller's knowledge (strata-deploy knows the tool crates;
//! this crate knows none): they come in as a slice, each recorded under its name.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest as _, Sha256};
use strata_bundle::Bundle;
use strata_config::Layout;
use strata_exec::{Tool, find_tool};
use strata_metadata::FileKind;

use strata_metadata::Phase;

/// The inputs of `phase` (without the phases it needs, which the caller adds), or why the
/// phase does not apply to this environment (no team playbook for `ansible`; a backfilled
/// bundle without the file the phase reads). `tools` are the programs the phase runs, each an
/// input under its [`Tool::name`], identified without running it.
pub fn phase_inputs(
    layout: &Layout,
    bundle: Option<&Bundle>,
    phase: Phase,
    tools: &[Tool],
) -> Result<BTreeMap<String, String>, String> {
    let needed = match phase {
        Phase::Provision => Some(FileKind::Provisioner),
        Phase::Images | Phase::Templates | Phase::Nodes => Some(FileKind::Terraform),
        Phase::Kubespray => Some(FileKind::KubesprayConfig),
        Phase::Platform => Some(FileKind::Platform),
        Phase::Business => Some(FileKind::Business),
        _ => None,
    };
    if let (Some(kind), Some(b)) = (needed, bundle)
        && b.path(kind).is_none()
    {
        return Err(format!("the bundle has no {}", kind.bundle_name()));
    }
    let mut inputs = BTreeMap::new();
    let bundle_file = |inputs: &mut BTreeMap<String, String>, prefix: &str| {
        if let Some(b) = bundle {
            for (path, digest) in &b.metadata().digests {
                if path == prefix || path.starts_with(&format!("{prefix}/")) {
                    inputs.insert(path.clone(), digest.as_str().to_owned());
                }
            }
        }
    };
    let folder = |inputs: &mut BTreeMap<String, String>, rel: &str| {
        inputs.insert(rel.to_owned(), dir_digest(&layout.abs(rel)));
    };
    match phase {
        Phase::Validate => {
            // Everything validate reads: packages (hidden files too: they are scanned for
            // keys) and the lock, the definitions, the module selectors, and the variables of
            // the Terraform modules tfvars are checked against. Each file is read: a package
            // edited since the lock recorded it is a change, which validate then reports.
            folder(&mut inputs, "config");
            folder(&mut inputs, "api/definitions");
            for module in strata_config::MODULES {
                folder(&mut inputs, &format!("{module}/environments"));
            }
            for module in strata_config::TERRAFORM_MODULES {
                let rel = strata_config::module_rel(strata_config::DEFAULT_PLATFORM, module);
                let name = rel.to_string_lossy().into_owned();
                inputs.insert(name, module_digest(&layout.abs(&rel)));
            }
        }
        Phase::Generate => {
            // What validate read comes in as validate's digest (a phase it needs); here only
            // the bundle as it is: a bundle deleted or edited by hand is regenerated.
            inputs.insert(
                "bundle".to_owned(),
                bundle.map_or_else(
                    || "missing".to_owned(),
                    |b| {
                        let mut h = Sha256::new();
                        for (p, d) in &b.metadata().digests {
                            h.update(p.as_bytes());
                            h.update(d.as_str().as_bytes());
                        }
                        hex(&h.finalize())
                    },
                ),
            );
        }
        Phase::Provision => {
            bundle_file(&mut inputs, "provisioner.json");
            folder(&mut inputs, "provisioner/roles");
        }
        Phase::Images | Phase::Templates | Phase::Nodes => {
            bundle_file(&mut inputs, "terraform.tfvars");
            bundle_file(&mut inputs, "terraform-backend.json");
            // The module's own files; what Strata stages into it is covered by the bundle.
            let module = format!(
                "infrastructure/platforms/proxmox/terraform/{}",
                phase.name()
            );
            inputs.insert(module.clone(), module_digest(&layout.abs(&module)));
            if phase != Phase::Nodes {
                // The published template image, when the provisioner config names one.
                bundle_file(&mut inputs, "provisioner.json");
            }
        }
        Phase::Ansible => {
            if !layout.abs("infrastructure/ansible/playbook.yml").is_file() {
                return Err("no infrastructure/ansible/playbook.yml".to_owned());
            }
            folder(&mut inputs, "infrastructure/ansible");
            bundle_file(&mut inputs, "kubespray");
        }
        Phase::Kubespray => {
            bundle_file(&mut inputs, "kubespray");
            bundle_file(&mut inputs, "kubesprayConfig.json");
        }
        Phase::Platform => {
            bundle_file(&mut inputs, "platform.yaml");
            folder(&mut inputs, "platform/charts");
        }
        Phase::Business => {
            bundle_file(&mut inputs, "business.yaml");
            folder(&mut inputs, "business/charts/cluster-apps");
        }
    }
    for t in tools {
        inputs.insert(t.name.to_owned(), tool_identity(t));
    }
    Ok(inputs)
}

/// `sha256:` over a phase's inputs.
pub fn inputs_digest(inputs: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for (k, v) in inputs {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    }
    format!("sha256:{}", hex(&h.finalize()))
}

/// The names of the inputs that differ between two input maps (added, removed or changed).
pub fn changed_inputs(
    before: &BTreeMap<String, String>,
    now: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut out: Vec<String> = now
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    out.extend(before.keys().filter(|k| !now.contains_key(*k)).cloned());
    out.sort();
    out.dedup();
    out
}

/// A tool by where it is and what file it is, without running it.
fn tool_identity(t: &Tool) -> String {
    match find_tool(t) {
        Ok(found) => {
            let meta = std::fs::metadata(&found.path).ok();
            let mtime = meta
                .as_ref()
                .and_then(|m| m.modified().ok())
                .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            format!(
                "{} {} {mtime}",
                found.path.display(),
                meta.map_or(0, |m| m.len())
            )
        }
        Err(_) => "missing".to_owned(),
    }
}

fn dir_digest(dir: &Path) -> String {
    digest_files(dir, |_| true)
}

/// A module folder without what runs leave in it (`.terraform/`, staged tfvars, overrides,
/// lock files of Terraform's own).
fn module_digest(dir: &Path) -> String {
    digest_files(dir, |rel| {
        !rel.starts_with(".terraform")
            && rel != "terraform.tfvars"
            && !rel.ends_with("_override.tf")
            && !rel.starts_with('.')
    })
}

/// SHA-256 over each kept file's path (relative, `/`-separated), a NUL byte and the SHA-256 of
/// its bytes (nothing when it cannot be read), in path order; `missing` when a folder cannot be
/// listed. Symlinks are not followed into folders: a link is a file, read through the link.
fn digest_files(dir: &Path, keep: impl Fn(&str) -> bool + Sync) -> String {
    let Some(mut files) = walk_and_hash(dir, &keep) else {
        return "missing".to_owned();
    };
    // Workers finish folders in any order; the digest is over the sorted paths, as it always
    // was (`list_files`' order), so recorded state stays valid.
    files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut h = Sha256::new();
    for (rel, digest) in &files {
        h.update(rel.as_bytes());
        h.update([0]);
        if let Some(digest) = digest {
            h.update(digest);
        }
    }
    hex(&h.finalize())
}

/// Every kept file under `dir` with the SHA-256 of its bytes (`None` when it cannot be read),
/// in no particular order; `None` when a folder cannot be listed.
///
/// `config/` holds thousands of small files in hundreds of folders, and listing and reading
/// them, one system call after another, is most of planning a deploy. So folders are listed
/// and their files read and hashed on every CPU: each worker takes a folder from a shared queue,
/// queues the folders in it and hashes its files.
fn walk_and_hash(dir: &Path, keep: &(impl Fn(&str) -> bool + Sync)) -> Option<Vec<FileDigest>> {
    let queue = Queue {
        state: std::sync::Mutex::new(QueueState {
            dirs: vec![String::new()],
            busy: 0,
            waiting: 0,
            failed: false,
        }),
        ready: std::sync::Condvar::new(),
    };
    let worker = || {
        let (mut out, mut found) = (Vec::new(), Vec::new());
        let mut buf = vec![0; 64 * 1024];
        let mut next = queue.take();
        while let Some(rel_dir) = next {
            let listed = list_dir(dir, &rel_dir, keep, &mut buf, &mut found, &mut out);
            next = queue.next(&mut found, listed.is_err());
        }
        out
    };
    let workers = strata_util::default_workers();
    let files: Vec<FileDigest> = std::thread::scope(|s| {
        let others: Vec<_> = (1..workers).map(|_| s.spawn(worker)).collect();
        let mut files = worker();
        for o in others {
            files.extend(o.join().expect("hashing a file does not panic"));
        }
        files
    });
    let failed = queue.state.lock().map_or(true, |q| q.failed);
    (!failed).then_some(files)
}

type FileDigest = (String, Option<[u8; 32]>);

/// Lists `root/rel_dir`: its folders into `found`, its kept files hashed into `out`.
fn list_dir(
    root: &Path,
    rel_dir: &str,
    keep: &impl Fn(&str) -> bool,
    buf: &mut [u8],
    found: &mut Vec<String>,
    out: &mut Vec<FileDigest>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(root.join(rel_dir))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if rel_dir.is_empty() {
            name
        } else {
            format!("{rel_dir}/{name}")
        };
        if entry.file_type()?.is_dir() {
            found.push(rel);
        } else if keep(&rel) {
            out.push((rel, hash_file(&entry.path(), buf)));
        }
    }
    Ok(())
}

/// The SHA-256 of a file's bytes, read through `buf` (one buffer per worker: no allocation and
/// no `stat` per file, unlike `std::fs::read`); `None` when it cannot be read.
fn hash_file(path: &Path, buf: &mut [u8]) -> Option<[u8; 32]> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path).ok()?;
    let mut h = Sha256::new();
    loop {
        match file.read(buf) {
            Ok(0) => return Some(h.finalize().into()),
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

/// The folders still to list, shared by the workers of [`walk_and_hash`].
struct Queue {
    state: std::sync::Mutex<QueueState>,
    ready: std::sync::Condvar,
}

struct QueueState {
    dirs: Vec<String>,
    /// Workers listing a folder (which may queue more).
    busy: usize,
    /// Workers waiting for a folder.
    waiting: usize,
    failed: bool,
}

impl Queue {
    /// The first folder to list.
    fn take(&self) -> Option<String> {
        self.take_locked(self.state.lock().ok()?)
    }

    /// A worker finished a folder, in which it `found` more (`failed`: it could not be
    /// listed); queues them and takes the next, under one lock. `None` when all are done.
    fn next(&self, found: &mut Vec<String>, failed: bool) -> Option<String> {
        let mut q = self.state.lock().ok()?;
        q.busy -= 1;
        q.failed |= failed;
        let queued = !found.is_empty();
        q.dirs.append(found);
        if q.waiting > 0 && (queued || q.busy == 0 || q.failed) {
            self.ready.notify_all();
        }
        self.take_locked(q)
    }

    /// The next folder, waiting while other workers may still find one.
    fn take_locked(&self, mut q: std::sync::MutexGuard<'_, QueueState>) -> Option<String> {
        loop {
            if q.failed {
                return None;
            }
            if let Some(d) = q.dirs.pop() {
                q.busy += 1;
                return Some(d);
            }
            if q.busy == 0 {
                return None;
            }
            q.waiting += 1;
            q = self.ready.wait(q).ok()?;
            q.waiting -= 1;
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tool no machine has: its identity is `missing`, found without running anything.
    const ABSENT: Tool = Tool {
        name: "absent tool",
        env_var: "STRATA_TEST_ABSENT_TOOL_UNSET",
        candidates: &["strata-test-no-such-program"],
        version_args: &["--version"],
    };

    #[test]
    fn a_phase_records_the_tools_its_caller_names_and_no_others() {
        let layout = Layout::new(Path::new("/nonexistent/strata-repo"));
        let with = phase_inputs(&layout, None, Phase::Platform, &[ABSENT]).unwrap();
        assert_eq!(with["absent tool"], "missing");
        let without = phase_inputs(&layout, None, Phase::Platform, &[]).unwrap();
        assert!(!without.contains_key("absent tool") && !without.contains_key("helm"));
        assert_eq!(with.len(), without.len() + 1);
    }

    #[test]
    fn a_folder_digest_is_the_same_however_it_is_read() {
        // Enough files to be split between workers: the digest must still be the one a single
        // pass in path order gives (state recorded by earlier versions stays valid).
        let dir = strata_testkit::TempDir::new("digest");
        for i in 0..150 {
            let sub = dir.join(format!("p{:03}", i % 7));
            std::fs::create_dir_all(&sub).unwrap();
            std::fs::write(sub.join(format!("f{i}.json")), format!("{{\"n\": {i}}}")).unwrap();
        }
        // Folders whose names sort around `/` (`a-b/x` comes before `a/x`, `a.b/x` after it):
        // the order is the paths', not the folders'.
        for (sub, file) in [
            ("a", "x"),
            ("a-b", "x"),
            ("a.b", "x"),
            ("a/b", "y"),
            ("a0", "z"),
        ] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
            std::fs::write(dir.join(sub).join(file), sub).unwrap();
        }
        let mut h = Sha256::new();
        for rel in strata_bundle::list_files(dir.path()).unwrap() {
            h.update(rel.as_bytes());
            h.update([0]);
            h.update(Sha256::digest(std::fs::read(dir.join(&rel)).unwrap()));
        }
        assert_eq!(dir_digest(dir.path()), hex(&h.finalize()));
        assert_eq!(dir_digest(&dir.join("absent")), "missing");
    }
}
