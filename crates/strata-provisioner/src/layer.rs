//! The provisioner layer's entry points: build an environment's role images, list their state
//! (what a dry run of the layer shows), and publish one. Each reads the bundle's
//! `provisioner.json`, discovers the build context itself (the programs the roles need and
//! their versions, the image cache, the log folder, the build time) and returns a typed outcome.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use strata_bundle::Bundle;
use strata_config::Layout;
use strata_exec::{Context, FoundTool, Tool, tool_version};
use strata_metadata::{
    ArtifactRecord, Builder, ErrorKind, FileKind, ImageOutcome, ImageStatus, Notice, PhaseDetail,
    ProvisionerConfig, RoleImage,
};

use crate::{
    ArtifactState, BuildContext, CLOUD_LOCALDS, CURL, Event, Outcome, PACKER, ProvisionError,
    PublishAuth, QEMU_IMG, RoleResult, Tools, build_all,
};

/// The programs the provisioner runs. `None` finds each through its override variable
/// (`STRATA_QEMU_IMG`, `STRATA_PACKER`, `STRATA_CLOUD_LOCALDS`, `STRATA_CURL`), else on `PATH`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvisionTools {
    /// qemu-img.
    pub qemu_img: Option<PathBuf>,
    /// packer.
    pub packer: Option<PathBuf>,
    /// cloud-localds.
    pub cloud_localds: Option<PathBuf>,
    /// curl.
    pub curl: Option<PathBuf>,
}

/// Where base images given by URL are cached: `STRATA_IMAGE_CACHE` when set (read here, the one
/// place), else `.strata/cache/images` of the repository.
pub fn image_cache(layout: &Layout) -> PathBuf {
    std::env::var_os("STRATA_IMAGE_CACHE")
        .filter(|v| !v.is_empty())
        .map_or_else(|| layout.abs(".strata/cache/images"), PathBuf::from)
}

/// The bundle's provisioner config.
pub fn read_config(bundle: &Bundle) -> Result<ProvisionerConfig, ProvisionError> {
    let path = bundle
        .path(FileKind::Provisioner)
        .unwrap_or_else(|| bundle.dir().join("provisioner.json"));
    std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        .map_err(|message| ProvisionError::Config { path, message })
}

/// The build context of `env` for `roles`: the programs they need, found and asked for their
/// versions (with `best_effort`, whatever is found, and nothing is required), the image cache,
/// this run's log folder and the `builtAt` time (`SOURCE_DATE_EPOCH`, else now).
pub fn build_context(
    layout: &Layout,
    env: &str,
    roles: &[(String, RoleImage)],
    best_effort: bool,
    tools: &ProvisionTools,
    ctx: &Context<'_>,
) -> Result<BuildContext, ProvisionError> {
    let needs = |b: Builder| roles.iter().any(|(_, r)| r.builder == b);
    let find = |given: &Option<PathBuf>, tool: &Tool| match given {
        Some(path) => Ok(FoundTool {
            tool: *tool,
            path: path.clone(),
            from_override: true,
        }),
        None => ctx.find_tool(tool),
    };
    let want = |needed: bool, given: &Option<PathBuf>, tool| match find(given, tool) {
        Ok(found) => Ok(Some(found)),
        Err(_) if best_effort || !needed => Ok(None),
        Err(e) => Err(ProvisionError::Program(e)),
    };
    let versioned = |found: FoundTool| -> Result<(FoundTool, Option<String>), ProvisionError> {
        let (_, version) = tool_version(&found, layout.root())?;
        Ok((found, version))
    };
    let seeds = roles
        .iter()
        .any(|(_, r)| r.builder == Builder::QemuImg && r.cloud_init.is_some());
    let tools = Tools {
        qemu_img: want(needs(Builder::QemuImg), &tools.qemu_img, &QEMU_IMG)?
            .map(versioned)
            .transpose()?,
        packer: want(needs(Builder::Packer), &tools.packer, &PACKER)?
            .map(versioned)
            .transpose()?,
        cloud_localds: want(seeds, &tools.cloud_localds, &CLOUD_LOCALDS)?,
        // Only needed for a base image given by URL that is not in the cache yet; the build
        // says so (NoCurl) when it needs curl and there is none.
        curl: find(&tools.curl, &CURL).ok(),
    };
    let secs = strata_bundle::source_date_epoch()
        .ok()
        .flatten()
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    // Builders run in their temporary folders: every path they get must be absolute.
    let root = std::path::absolute(layout.root()).unwrap_or_else(|_| layout.root().to_owned());
    Ok(BuildContext {
        layout: Layout::new(root),
        env: env.to_owned(),
        tools,
        cache: image_cache(layout),
        log_dir: ctx.logs.map(Path::to_owned),
        built_at: strata_util::rfc3339(secs),
    })
}

/// The roles of `config` a request names (all of them when `None`), in the config's order.
fn select(
    config: &ProvisionerConfig,
    env: &str,
    names: Option<&[String]>,
) -> Result<Vec<(String, RoleImage)>, ProvisionError> {
    let Some(names) = names else {
        return Ok(config
            .roles
            .iter()
            .map(|(r, i)| (r.clone(), i.clone()))
            .collect());
    };
    names
        .iter()
        .map(|role| match config.roles.get(role) {
            Some(image) => Ok((role.clone(), image.clone())),
            None => Err(ProvisionError::UnknownRole {
                role: role.clone(),
                env: env.to_owned(),
                known: config.roles.keys().cloned().collect(),
            }),
        })
        .collect()
}

/// What `provision build` is asked to do, beyond the bundle.
#[derive(Debug, Clone, Default)]
pub struct BuildRequest {
    /// The roles to build; every role of the environment when `None`.
    pub roles: Option<Vec<String>>,
    /// Build even when the image is up to date.
    pub force: bool,
    /// How many roles are built at once (at least 1).
    pub jobs: usize,
    /// The programs to run.
    pub tools: ProvisionTools,
}

/// What a provision build did.
#[derive(Debug)]
pub struct ProvisionOutcome {
    /// Each role, in the order asked for: built, up to date, or why not.
    pub results: Vec<RoleResult>,
    /// This run's log folder, when it logged.
    pub log_dir: Option<PathBuf>,
}

impl ProvisionOutcome {
    /// Whether any role failed.
    pub fn failed(&self) -> bool {
        self.results.iter().any(|r| r.outcome.is_err())
    }

    /// The kind of the run's failure, when a role failed: `Invalid` when every failure is the
    /// input's fault, else `Failed`.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        let kinds: Vec<ErrorKind> = self
            .results
            .iter()
            .filter_map(|r| r.outcome.as_ref().err().map(ProvisionError::kind))
            .collect();
        if kinds.is_empty() {
            None
        } else if kinds.iter().all(|k| *k == ErrorKind::Invalid) {
            Some(ErrorKind::Invalid)
        } else {
            Some(ErrorKind::Failed)
        }
    }

    /// The build log of `role` in this run (`provision-<role>.log`), when one was written.
    pub fn log(&self, role: &str) -> Option<PathBuf> {
        self.log_dir
            .as_ref()
            .map(|d| d.join(format!("provision-{role}.log")))
            .filter(|l| l.is_file())
    }

    /// The typed detail for the run's report.
    pub fn detail(&self) -> PhaseDetail {
        PhaseDetail::Images {
            images: self
                .results
                .iter()
                .map(|r| {
                    let seconds = r.took.as_secs_f64();
                    match &r.outcome {
                        Ok(Outcome::Built(rec)) => {
                            image_outcome(&r.role, ImageStatus::Built, Some(rec), seconds)
                        }
                        Ok(Outcome::UpToDate(rec)) => {
                            image_outcome(&r.role, ImageStatus::UpToDate, Some(rec), seconds)
                        }
                        Err(e) => ImageOutcome {
                            error: Some(error_chain(e)),
                            ..image_outcome(&r.role, ImageStatus::Failed, None, seconds)
                        },
                    }
                })
                .collect(),
        }
    }
}

fn image_outcome(
    role: &str,
    status: ImageStatus,
    record: Option<&ArtifactRecord>,
    seconds: f64,
) -> ImageOutcome {
    ImageOutcome {
        role: role.to_owned(),
        status,
        image: record.map(|r| r.path.clone()),
        sha256: record.map(|r| format!("sha256:{}", r.sha256)),
        seconds,
        error: None,
    }
}

/// An error and each of its causes, joined with `: `.
fn error_chain(err: &dyn std::error::Error) -> String {
    strata_util::error_chain(err)
}

/// `provision build`: builds every role the request names (all of them by default) that is
/// not up to date (or every one with `force`), at most `jobs` at a time; a failing role does
/// not stop the others, and the outcome says which failed. `on_event` hears each role start,
/// its steps and its base image's download progress as they happen, from the build threads
/// (one at a time). An error means nothing was built: no such role, an unreadable config, or a
/// program a role needs is missing.
#[tracing::instrument(skip_all, fields(env = %bundle.metadata().environment))]
pub fn build(
    layout: &Layout,
    bundle: &Bundle,
    request: &BuildRequest,
    ctx: &Context<'_>,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> Result<ProvisionOutcome, ProvisionError> {
    let env = bundle.metadata().environment.as_str();
    let config = read_config(bundle)?;
    let roles = select(&config, env, request.roles.as_deref())?;
    let context = build_context(layout, env, &roles, false, &request.tools, ctx)?;
    let on_event = Mutex::new(on_event);
    let events = |e: Event<'_>| (on_event.lock().unwrap_or_else(|p| p.into_inner()))(e);
    let results = build_all(
        &context,
        &roles,
        request.jobs.max(1),
        request.force,
        &events,
    );
    Ok(ProvisionOutcome {
        results,
        log_dir: context.log_dir,
    })
}

/// What `provision list` is asked to do, beyond the bundle.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    /// The programs to ask for their versions.
    pub tools: ProvisionTools,
}

/// A role's image as `provision list` sees it (sizes only, no hashing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListState {
    /// No record, or no image.
    Missing,
    /// The image's size differs from its record.
    Modified,
    /// Built from other inputs.
    Stale,
    /// Built from the current inputs, as far as is known (without the builder installed here,
    /// its version is unknown, so an image whose other inputs are unchanged is present).
    Present,
}

impl ListState {
    /// The word `provision list` shows.
    pub fn name(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Modified => "modified",
            Self::Stale => "stale",
            Self::Present => "present",
        }
    }
}

/// One role of `provision list`.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleListing {
    /// The role.
    pub role: String,
    /// Its state.
    pub state: ListState,
    /// Its record, when there is one.
    pub record: Option<ArtifactRecord>,
}

/// What `provision list` found.
#[derive(Debug, Clone)]
pub struct ListOutcome {
    /// Every role of the environment, in the config's order.
    pub roles: Vec<RoleListing>,
    /// What could not be checked (the role is then shown missing).
    pub notices: Vec<Notice>,
}

impl ListOutcome {
    /// The typed detail a dry run of the layer records: a present image is up to date, every
    /// other would be built.
    pub fn detail(&self) -> PhaseDetail {
        PhaseDetail::Images {
            images: self
                .roles
                .iter()
                .map(|r| {
                    let status = if r.state == ListState::Present {
                        ImageStatus::UpToDate
                    } else {
                        ImageStatus::WouldBuild
                    };
                    image_outcome(&r.role, status, r.record.as_ref(), 0.0)
                })
                .collect(),
        }
    }
}

/// `provision list`: every role's image state (present, missing, stale or modified) and
/// record, without building or hashing anything; what `deploy --dry-run` shows for the layer.
/// A missing builder is not an error here: its version is then unknown.
#[tracing::instrument(skip_all, fields(env = %bundle.metadata().environment))]
pub fn list(
    layout: &Layout,
    bundle: &Bundle,
    request: &ListRequest,
    ctx: &Context<'_>,
) -> Result<ListOutcome, ProvisionError> {
    let env = bundle.metadata().environment.as_str();
    let config = read_config(bundle)?;
    let roles = select(&config, env, None)?;
    let context = build_context(layout, env, &roles, true, &request.tools, ctx)?;
    let mut notices = Vec::new();
    let mut listed = Vec::new();
    for (role, image) in &roles {
        let tool_known = match image.builder {
            Builder::QemuImg => context.tools.qemu_img.is_some(),
            Builder::Packer => context.tools.packer.is_some(),
            Builder::Command => true,
        };
        let state = context.state(role, image, false).unwrap_or_else(|e| {
            notices.push(Notice::warning(error_chain(&e), None));
            ArtifactState::Missing
        });
        let (state, record) = match state {
            ArtifactState::Missing => (ListState::Missing, None),
            ArtifactState::Modified(r) => (ListState::Modified, Some(r)),
            ArtifactState::Stale(r) if !tool_known => (ListState::Present, Some(r)),
            ArtifactState::Stale(r) => (ListState::Stale, Some(r)),
            ArtifactState::Current(r) => (ListState::Present, Some(r)),
        };
        listed.push(RoleListing {
            role: role.clone(),
            state,
            record,
        });
    }
    Ok(ListOutcome {
        roles: listed,
        notices,
    })
}

/// What `provision publish` is asked to do, beyond the bundle.
#[derive(Debug, Clone, Default)]
pub struct PublishRequest {
    /// The role whose image is published.
    pub role: String,
    /// Credentials for an HTTP(S) target ([`PublishAuth::from_env`]).
    pub auth: PublishAuth,
    /// The programs to run.
    pub tools: ProvisionTools,
}

/// What a publish did.
#[derive(Debug, Clone)]
pub struct PublishOutcome {
    /// The target the image went to.
    pub target: String,
    /// The role's record, with its `remote`.
    pub record: ArtifactRecord,
    /// Its log (`publish-<role>.log`), when one was written.
    pub log: Option<PathBuf>,
}

/// `provision publish`: copies the role's built image (and seed) to the environment's
/// `publish.uri` and records where it went. `on_notice` hears where it is going before the
/// copy starts. A failed upload is [`ProvisionError::Tool`]; its log is
/// [`publish_log`].
#[tracing::instrument(skip_all, fields(env = %bundle.metadata().environment))]
pub fn publish(
    layout: &Layout,
    bundle: &Bundle,
    request: &PublishRequest,
    ctx: &Context<'_>,
    on_notice: &mut dyn FnMut(&Notice),
) -> Result<PublishOutcome, ProvisionError> {
    let env = bundle.metadata().environment.as_str();
    let role = request.role.as_str();
    let config = read_config(bundle)?;
    select(&config, env, Some(std::slice::from_ref(&request.role)))?;
    let Some(target) = config.publish else {
        return Err(ProvisionError::NoPublishTarget {
            env: env.to_owned(),
        });
    };
    let context = build_context(layout, env, &[], true, &request.tools, ctx)?;
    let curl = if target.uri.starts_with("http") {
        Some(match &request.tools.curl {
            Some(path) => FoundTool {
                tool: CURL,
                path: path.clone(),
                from_override: true,
            },
            None => ctx.find_tool(&CURL)?,
        })
    } else {
        None
    };
    on_notice(&Notice::info(format!(
        "publishing {role} of {env} to {}",
        target.uri
    )));
    let record = crate::publish_image(&context, role, &target, curl.as_ref(), &request.auth)?;
    Ok(PublishOutcome {
        target: target.uri,
        record,
        log: publish_log(ctx, role),
    })
}

/// The log of a publish of `role` in this run, when one was written.
pub fn publish_log(ctx: &Context<'_>, role: &str) -> Option<PathBuf> {
    ctx.log(&format!("publish-{role}.log"))
        .filter(|l| l.is_file())
}
