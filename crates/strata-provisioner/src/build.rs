//! Building one role's image: the inputs digest that decides whether a build is needed, the
//! three builders, and the temporary folder that is renamed into place only on success.

use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest as _, Sha256};
use strata_config::Layout;
use strata_exec::{Command, FoundTool, LineHook, RunOptions, expand_home, run};
use strata_metadata::{
    ARTIFACT_SCHEMA_VERSION, ArtifactRecord, Builder, BuilderInfo, RoleImage, SeedRecord,
};

use crate::error::io;
use crate::image::{format_name, virtual_size};
use crate::{ProvisionError, cloud_init, hash};

/// Bumped when what Strata renders for the same settings changes, so images are rebuilt.
const RENDER_VERSION: u32 = 1;

/// Where one role's files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactPaths {
    /// `provisioner/outputs/<env>/<role>.img`.
    pub image: PathBuf,
    /// `provisioner/outputs/<env>/<role>-seed.iso`.
    pub seed: PathBuf,
    /// `api/outputs/<env>/provisioner/<role>.json`.
    pub record: PathBuf,
}

impl ArtifactPaths {
    /// The paths of `role` in `env`.
    pub fn new(layout: &Layout, env: &str, role: &str) -> Self {
        let out = layout.abs("provisioner/outputs").join(env);
        Self {
            image: out.join(format!("{role}.img")),
            seed: out.join(format!("{role}-seed.iso")),
            record: layout
                .bundle_dir(env)
                .join("provisioner")
                .join(format!("{role}.json")),
        }
    }
}

/// The programs the builders use; each is found only when a role needs it.
#[derive(Debug, Clone, Default)]
pub struct Tools {
    /// qemu-img and its version.
    pub qemu_img: Option<(FoundTool, Option<String>)>,
    /// packer and its version.
    pub packer: Option<(FoundTool, Option<String>)>,
    /// cloud-localds, for the NoCloud seed.
    pub cloud_localds: Option<FoundTool>,
    /// curl, to download a base image given by URL that is not in the cache yet.
    pub curl: Option<FoundTool>,
}

/// Where a build reports what it does.
pub struct Progress<'a> {
    /// A step of the build, or a line of its builder's output.
    pub step: &'a LineHook<'a>,
    /// The base image's download: bytes so far, and the whole size once the server said it.
    pub download: &'a (dyn Fn(u64, Option<u64>) + Sync + 'a),
}

/// Everything a build needs besides the role.
#[derive(Debug, Clone)]
pub struct BuildContext {
    /// The repository.
    pub layout: Layout,
    /// The environment.
    pub env: String,
    /// The programs.
    pub tools: Tools,
    /// Where base images given by URL are cached: `<cache>/<sha256>/<file name>`.
    pub cache: PathBuf,
    /// Where each role's build log goes (`<dir>/provision-<role>.log`), when logging.
    pub log_dir: Option<PathBuf>,
    /// The `builtAt` time to record.
    pub built_at: String,
}

/// What a build did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The image was built and recorded.
    Built(ArtifactRecord),
    /// The recorded image is intact and its inputs are unchanged: nothing was done.
    UpToDate(ArtifactRecord),
}

/// The state of a role's artifact, for `provision list` and the up-to-date check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactState {
    /// No record, or no image.
    Missing,
    /// The image differs from its record (size, or sha256 when verified).
    Modified(ArtifactRecord),
    /// The inputs changed since the build.
    Stale(ArtifactRecord),
    /// Built from the current inputs and intact.
    Current(ArtifactRecord),
}

impl BuildContext {
    /// The version of the builder `image` uses, as far as it is known.
    pub fn builder_version(&self, image: &RoleImage) -> Option<String> {
        match image.builder {
            Builder::QemuImg => self.tools.qemu_img.as_ref().and_then(|(_, v)| v.clone()),
            Builder::Packer => self.tools.packer.as_ref().and_then(|(_, v)| v.clone()),
            Builder::Command => None,
        }
    }

    /// `sha256:` of everything the role's image depends on: its settings, the environment, the
    /// builder's version, the packer template's files or the command's program file.
    pub fn inputs_digest(&self, role: &str, image: &RoleImage) -> Result<String, ProvisionError> {
        let mut extra = String::new();
        if let (Builder::Packer, Some(p)) = (image.builder, &image.packer) {
            extra = dir_digest(&self.layout.abs(&p.template_dir))?;
        }
        if let (Builder::Command, Some(c)) = (image.builder, &image.command) {
            let program = self.layout.abs(expand_home(&c.program));
            if program.is_file() {
                extra = hash::sha256_file(&program).map_err(io("read", &program))?.0;
            }
        }
        let inputs = json!({
            "render": RENDER_VERSION,
            "environment": self.env,
            "role": role,
            "image": image,
            "builderVersion": self.builder_version(image),
            "sources": extra,
        });
        Ok(format!(
            "sha256:{}",
            hash::hex(&Sha256::digest(inputs.to_string().as_bytes()))
        ))
    }

    /// The state of the role's artifact. With `verify`, the image (and seed) are hashed and
    /// compared with the record; without, only their sizes.
    pub fn state(
        &self,
        role: &str,
        image: &RoleImage,
        verify: bool,
    ) -> Result<ArtifactState, ProvisionError> {
        let paths = ArtifactPaths::new(&self.layout, &self.env, role);
        let Some(record) = read_record(&paths.record)? else {
            return Ok(ArtifactState::Missing);
        };
        let Ok(meta) = std::fs::metadata(&paths.image) else {
            return Ok(ArtifactState::Missing);
        };
        let mut intact = meta.len() == record.file_size;
        if intact && verify {
            intact = hash::sha256_file(&paths.image)
                .map_err(io("read", &paths.image))?
                .0
                == record.sha256;
            if let Some(seed) = &record.seed {
                intact &= hash::sha256_file(&paths.seed).is_ok_and(|(h, _)| h == seed.sha256);
            }
        }
        if !intact {
            return Ok(ArtifactState::Modified(record));
        }
        if record.inputs_digest != self.inputs_digest(role, image)? {
            return Ok(ArtifactState::Stale(record));
        }
        Ok(ArtifactState::Current(record))
    }

    /// Builds the role's image unless it is up to date (or `force`), reporting steps (and a
    /// base image's download) through `progress`. The image, seed and record are replaced only
    /// when everything succeeded.
    pub fn build(
        &self,
        role: &str,
        image: &RoleImage,
        force: bool,
        progress: &Progress<'_>,
    ) -> Result<Outcome, ProvisionError> {
        if !force && let ArtifactState::Current(record) = self.state(role, image, true)? {
            return Ok(Outcome::UpToDate(record));
        }
        let inputs_digest = self.inputs_digest(role, image)?;
        let paths = ArtifactPaths::new(&self.layout, &self.env, role);
        let out_dir = paths.image.parent().expect("the image has a folder");
        std::fs::create_dir_all(out_dir).map_err(io("create", out_dir))?;
        let temp = TempBuild::new(out_dir, role)?;
        let log = self
            .log_dir
            .as_ref()
            .map(|d| d.join(format!("provision-{role}.log")));
        let step = Step {
            role,
            log: log.as_deref(),
            progress,
        };

        match image.builder {
            Builder::QemuImg => self.qemu_img(role, image, &temp, &step, &inputs_digest)?,
            Builder::Packer => self.packer(role, image, &temp, &step)?,
            Builder::Command => self.command(role, image, &temp, &step)?,
        }
        let built = temp.dir.join("image");
        if !built.is_file() {
            return Err(ProvisionError::NoArtifact {
                role: role.to_owned(),
                builder: image.builder.name(),
                hint: None,
            });
        }
        (progress.step)("checking and hashing the image");
        let virtual_size = virtual_size(&built, image.format)?;
        let (sha256, file_size) = hash::sha256_file(&built).map_err(io("read", &built))?;
        let seed_file = temp.dir.join("seed.iso");
        let seed = if seed_file.is_file() {
            let (sha, _) = hash::sha256_file(&seed_file).map_err(io("read", &seed_file))?;
            Some(SeedRecord {
                path: strata_util::shown(self.layout.root(), &paths.seed),
                sha256: sha,
            })
        } else {
            None
        };
        let record = ArtifactRecord {
            schema_version: ARTIFACT_SCHEMA_VERSION,
            role: role.to_owned(),
            environment: self.env.clone(),
            path: strata_util::shown(self.layout.root(), &paths.image),
            format: image.format,
            virtual_size,
            file_size,
            sha256,
            built_at: self.built_at.clone(),
            builder: BuilderInfo {
                name: image.builder,
                version: self.builder_version(image),
            },
            inputs_digest,
            seed,
            // A new image is not where the old one was published.
            remote: None,
        };
        // Into place: the image, then its seed (or the old seed goes: it belonged to the old
        // image), then the record that vouches for both.
        std::fs::rename(&built, &paths.image).map_err(io("move into place", &paths.image))?;
        if record.seed.is_some() {
            std::fs::rename(&seed_file, &paths.seed).map_err(io("move into place", &paths.seed))?;
        } else {
            let _ = std::fs::remove_file(&paths.seed);
        }
        write_record(&paths.record, &record)?;
        Ok(Outcome::Built(record))
    }

    /// The base image, found (a path, or the cache for a URL) and checked against its sha256.
    fn base_image(
        &self,
        role: &str,
        image: &RoleImage,
        builder: &'static str,
        step: &Step<'_>,
    ) -> Result<PathBuf, ProvisionError> {
        let base = image
            .base_image
            .as_ref()
            .ok_or_else(|| ProvisionError::NoBaseImage {
                role: role.to_owned(),
                builder,
            })?;
        let path = match (&base.path, &base.url) {
            (Some(p), _) => self.layout.abs(expand_home(p)),
            (None, Some(url)) => self.cache.join(&base.sha256).join(url_file_name(url)),
            (None, None) => {
                return Err(ProvisionError::NoBaseImage {
                    role: role.to_owned(),
                    builder,
                });
            }
        };
        if let (None, Some(url)) = (&base.path, &base.url)
            && !path.is_file()
        {
            crate::fetch::Fetch {
                role,
                url,
                sha256: &base.sha256,
                dest: &path,
                curl: self.tools.curl.as_ref(),
                cwd: self.layout.root(),
                log: step.log,
                progress: step.progress,
            }
            .run()?;
            // Checked on its way in: the same bytes need not be hashed twice.
            return Ok(path);
        }
        if !path.is_file() {
            return Err(ProvisionError::BaseImageMissing {
                role: role.to_owned(),
                path,
                url: if base.path.is_none() {
                    base.url.clone()
                } else {
                    None
                },
            });
        }
        (step.progress.step)("verifying the base image's sha256");
        let (actual, _) = hash::sha256_file(&path).map_err(io("read", &path))?;
        if !actual.eq_ignore_ascii_case(&base.sha256) {
            return Err(ProvisionError::BaseImageChecksum {
                path,
                expected: base.sha256.to_lowercase(),
                actual,
            });
        }
        Ok(path)
    }

    /// The verified base image's path for builders that take one optionally (empty without).
    fn optional_base_image(
        &self,
        role: &str,
        image: &RoleImage,
        builder: &'static str,
        step: &Step<'_>,
    ) -> Result<String, ProvisionError> {
        match &image.base_image {
            Some(_) => Ok(self
                .base_image(role, image, builder, step)?
                .display()
                .to_string()),
            None => Ok(String::new()),
        }
    }

    fn disk_bytes(&self, role: &str, image: &RoleImage) -> Result<u64, ProvisionError> {
        strata_config::parse_size(&image.disk_size).ok_or_else(|| ProvisionError::BadDiskSize {
            role: role.to_owned(),
            size: image.disk_size.clone(),
        })
    }

    /// Converts the base image into a standalone image of the role's format, grows it to the
    /// role's disk size, and renders the NoCloud seed.
    fn qemu_img(
        &self,
        role: &str,
        image: &RoleImage,
        temp: &TempBuild,
        step: &Step<'_>,
        inputs_digest: &str,
    ) -> Result<(), ProvisionError> {
        let (qemu_img, _) = self
            .tools
            .qemu_img
            .as_ref()
            .expect("the caller finds qemu-img for qemu-img roles");
        if let Some(ci) = &image.cloud_init {
            cloud_init::check_public_keys(role, ci)?;
        }
        let bytes = self.disk_bytes(role, image)?;
        let base = self.base_image(role, image, "qemu-img", step)?;
        let (base_format, base_size) = crate::image::probe(&base)?;
        if bytes < base_size {
            return Err(ProvisionError::DiskTooSmall {
                role: role.to_owned(),
                size: image.disk_size.clone(),
                bytes,
                base_bytes: base_size,
            });
        }
        let out = temp.dir.join("image");
        let fmt = format_name(image.format);
        step.run(
            "converting the base image",
            Command::new(&qemu_img.path, &temp.dir)
                .args(["convert", "-f", format_name(base_format), "-O", fmt])
                .arg(&base)
                .arg(&out),
        )?;
        step.run(
            &format!("growing the disk to {}", image.disk_size),
            Command::new(&qemu_img.path, &temp.dir)
                .args(["resize", "-f", fmt])
                .arg(&out)
                .arg(bytes.to_string()),
        )?;
        if let Some(ci) = &image.cloud_init {
            let user_data = temp.dir.join("user-data");
            let meta_data = temp.dir.join("meta-data");
            std::fs::write(&user_data, cloud_init::user_data(role, ci, &self.env)?)
                .map_err(io("write", &user_data))?;
            std::fs::write(
                &meta_data,
                cloud_init::meta_data(role, ci, &self.env, inputs_digest),
            )
            .map_err(io("write", &meta_data))?;
            let localds = self
                .tools
                .cloud_localds
                .as_ref()
                .expect("the caller finds cloud-localds for roles with cloud-init");
            step.run(
                "writing the NoCloud seed (cidata)",
                Command::new(&localds.path, &temp.dir)
                    .arg(temp.dir.join("seed.iso"))
                    .arg(&user_data)
                    .arg(&meta_data),
            )?;
        }
        Ok(())
    }

    /// `packer build -machine-readable` on the role's template with a generated var-file; the
    /// image is the artifact file packer reports, else the one image the template wrote into
    /// `output_dir`.
    fn packer(
        &self,
        role: &str,
        image: &RoleImage,
        temp: &TempBuild,
        step: &Step<'_>,
    ) -> Result<(), ProvisionError> {
        let settings = image
            .packer
            .as_ref()
            .ok_or_else(|| ProvisionError::BuilderSettings {
                role: role.to_owned(),
                builder: "packer",
            })?;
        let dir = self.layout.abs(&settings.template_dir);
        let template = packer_template(role, &dir)?;
        let (packer, _) = self
            .tools
            .packer
            .as_ref()
            .expect("the caller finds packer for packer roles");
        let base = self.optional_base_image(role, image, "packer", step)?;
        let out_dir = temp.dir.join("out");
        std::fs::create_dir_all(&out_dir).map_err(io("create", &out_dir))?;
        let vars = json!({
            "role": role,
            "environment": self.env,
            "base_image": base,
            "output_dir": out_dir.display().to_string(),
            "disk_size": image.disk_size,
            "format": format_name(image.format),
        });
        let var_file = temp.dir.join("vars.json");
        std::fs::write(
            &var_file,
            serde_json::to_string_pretty(&vars).expect("JSON"),
        )
        .map_err(io("write", &var_file))?;
        let cmd = Command::new(&packer.path, &dir)
            .args(["build", "-machine-readable", "-color=false"])
            .arg(format!("-var-file={}", var_file.display()))
            .arg(template)
            .env("CHECKPOINT_DISABLE", "1")
            .env("PACKER_NO_COLOR", "1");
        let on_line = |line: &str| {
            if let Some(msg) = packer_progress(line) {
                (step.progress.step)(&msg);
            }
        };
        let out = step.run_with("packer build", cmd, Some(&on_line))?;
        let artifact = packer_artifact(&out.stdout)
            .map(|p| dir.join(p))
            .or_else(|| single_image(&out_dir))
            .ok_or_else(|| ProvisionError::NoArtifact {
                role: role.to_owned(),
                builder: "packer",
                hint: Some(
                    "the template must report an artifact file, or write one image into the `output_dir` variable's folder"
                        .to_owned(),
                ),
            })?;
        std::fs::rename(&artifact, temp.dir.join("image")).map_err(io("move", &artifact))
    }

    /// The team's own program, with the build's variables in its environment; it writes the
    /// image to `STRATA_OUTPUT`.
    fn command(
        &self,
        role: &str,
        image: &RoleImage,
        temp: &TempBuild,
        step: &Step<'_>,
    ) -> Result<(), ProvisionError> {
        let settings = image
            .command
            .as_ref()
            .ok_or_else(|| ProvisionError::BuilderSettings {
                role: role.to_owned(),
                builder: "command",
            })?;
        let base = self.optional_base_image(role, image, "command", step)?;
        let program = expand_home(&settings.program);
        // A path is the repository's; a bare name is looked up on PATH.
        let program = if program.components().count() > 1 {
            self.layout.abs(program)
        } else {
            program
        };
        let output = temp.dir.join("image");
        let cmd = Command::new(program, self.layout.root())
            .args(settings.args.iter().cloned())
            .env("STRATA_ROLE", role)
            .env("STRATA_ENVIRONMENT", &self.env)
            .env("STRATA_BASE_IMAGE", base)
            .env("STRATA_OUTPUT", &output)
            .env("STRATA_OUTPUT_DIR", &temp.dir)
            .env("STRATA_DISK_SIZE", &image.disk_size)
            .env("STRATA_FORMAT", format_name(image.format));
        let on_line = |line: &str| (step.progress.step)(line);
        step.run_with("the build command", cmd, Some(&on_line))?;
        if !output.is_file() {
            return Err(ProvisionError::NoArtifact {
                role: role.to_owned(),
                builder: "command",
                hint: Some("it must write the image to the path in STRATA_OUTPUT".to_owned()),
            });
        }
        Ok(())
    }
}

/// One build's running commands: logged per role, their failures named by step.
struct Step<'a> {
    role: &'a str,
    log: Option<&'a Path>,
    progress: &'a Progress<'a>,
}

impl Step<'_> {
    fn run(&self, what: &str, cmd: Command) -> Result<strata_exec::Output, ProvisionError> {
        self.run_with(what, cmd, None)
    }

    fn run_with(
        &self,
        what: &str,
        cmd: Command,
        on_line: Option<&LineHook<'_>>,
    ) -> Result<strata_exec::Output, ProvisionError> {
        (self.progress.step)(what);
        let opts = RunOptions {
            log: self.log,
            capture_stdout: true,
            tail_lines: 20,
            on_line,
            ..RunOptions::default()
        };
        run(&cmd, &opts).map_err(|source| ProvisionError::Tool {
            role: self.role.to_owned(),
            step: what.to_owned(),
            source: Box::new(source),
        })
    }
}

/// A build's temporary folder beside the outputs (same filesystem, so the final step is a
/// rename), removed when dropped: a failed or interrupted build leaves nothing behind.
struct TempBuild {
    dir: PathBuf,
}

impl TempBuild {
    fn new(out_dir: &Path, role: &str) -> Result<Self, ProvisionError> {
        let dir = out_dir.join(format!(".{role}.build-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        Ok(Self { dir })
    }
}

impl Drop for TempBuild {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Reads a role's record, if there is one.
pub fn read_record(path: &Path) -> Result<Option<ArtifactRecord>, ProvisionError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ProvisionError::Config {
                path: path.to_owned(),
                message: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", path)(e)),
    }
}

/// Writes a record whole (a temporary file renamed over the old one).
pub fn write_record(path: &Path, record: &ArtifactRecord) -> Result<(), ProvisionError> {
    let mut text = serde_json::to_string_pretty(record).expect("a record serializes");
    text.push('\n');
    strata_util::write_atomic(path, text.as_bytes()).map_err(io("write", path))
}

/// The last path segment of a URL, without query or fragment.
fn url_file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    // `.` and `..` are no file names: the cache entry would land beside or above its folder.
    path.rsplit('/')
        .find(|s| !s.is_empty() && *s != "." && *s != "..")
        .unwrap_or("image")
        .to_owned()
}

/// `sha256` over the relative paths and contents of every file below `dir`.
fn dir_digest(dir: &Path) -> Result<String, ProvisionError> {
    let Ok(files) = strata_bundle::list_files(dir) else {
        return Ok(String::new());
    };
    let mut h = Sha256::new();
    for rel in files {
        let (sha, _) = hash::sha256_file(&dir.join(&rel)).map_err(io("read", &dir.join(&rel)))?;
        h.update(rel.as_bytes());
        h.update(sha.as_bytes());
    }
    Ok(hash::hex(&h.finalize()))
}

/// What to hand `packer build`: the folder when it holds `*.pkr.hcl` or `*.pkr.json` files,
/// else its one JSON template.
fn packer_template(role: &str, dir: &Path) -> Result<String, ProvisionError> {
    let err = |problem| ProvisionError::PackerTemplate {
        role: role.to_owned(),
        dir: dir.to_owned(),
        problem,
    };
    let entries = std::fs::read_dir(dir).map_err(|_| err("does not exist"))?;
    let names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if names
        .iter()
        .any(|n| n.ends_with(".pkr.hcl") || n.ends_with(".pkr.json"))
    {
        return Ok(".".to_owned());
    }
    let json: Vec<&String> = names.iter().filter(|n| n.ends_with(".json")).collect();
    match json.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(err(
            "holds no packer template (`*.pkr.hcl`, or one `*.json`)",
        )),
        _ => Err(err("holds several JSON files; keep one template there")),
    }
}

/// A progress message from one `-machine-readable` line (`time,target,ui,say|message,text`).
fn packer_progress(line: &str) -> Option<String> {
    let mut fields = line.splitn(5, ',');
    let (_, _, kind, sub, text) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    if kind != "ui" || !matches!(sub, "say" | "message") {
        return None;
    }
    let text = unescape(text);
    let text = text.trim();
    (!text.is_empty()).then(|| text.lines().last().unwrap_or(text).trim().to_owned())
}

/// The first artifact file packer reports (`time,target,artifact,N,file,M,path`).
fn packer_artifact(stdout: &str) -> Option<String> {
    stdout.lines().find_map(|l| {
        let f: Vec<&str> = l.splitn(7, ',').collect();
        (f.len() == 7 && f[2] == "artifact" && f[4] == "file").then(|| unescape(f[6]))
    })
}

fn unescape(s: &str) -> String {
    s.replace("%!(PACKER_COMMA)", ",")
        .replace("\\n", "\n")
        .replace("\\r", "")
}

/// The one image file (`.img`, `.qcow2`, `.raw`) in `dir`.
fn single_image(dir: &Path) -> Option<PathBuf> {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("img" | "qcow2" | "raw")
                )
        })
        .collect();
    match found.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packer_machine_readable_lines_give_progress_and_the_artifact() {
        assert_eq!(
            packer_progress("1795633741,,ui,message,    null: building r1"),
            Some("null: building r1".into())
        );
        assert_eq!(
            packer_progress(
                "1795633742,,ui,say,\\n==> Builds finished. The artifacts of successful builds are:"
            ),
            Some("==> Builds finished. The artifacts of successful builds are:".into())
        );
        assert_eq!(packer_progress("1795633742,null,artifact-count,2"), None);
        let out = "1,qemu,artifact,0,builder-id,transcend.qemu\n1,qemu,artifact,0,file,0,output/dev%!(PACKER_COMMA)1.qcow2\n";
        assert_eq!(packer_artifact(out), Some("output/dev,1.qcow2".into()));
        assert_eq!(
            url_file_name("https://x.example/a/b/noble.img?sig=1"),
            "noble.img"
        );
        // Never a name that climbs out of the cache entry's folder.
        assert_eq!(url_file_name("https://x.example/img/.."), "img");
        assert_eq!(url_file_name("https://x.example/.."), "x.example");
        assert_eq!(url_file_name("https://x.example/./"), "x.example");
    }
}
