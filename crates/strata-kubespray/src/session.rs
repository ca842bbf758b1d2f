//! The layer's entry points: prepare a [`Session`] for one environment, then run an operation,
//! ping every host, or ask the cluster how it is ([`status`]).
//!
//! `cargo xtask kubespray` and the deploy engine both call these, so the two prepare and run
//! Kubespray the same way by construction.

use std::path::{Path, PathBuf};

use strata_bundle::Bundle;
use strata_config::{Layout, Severity, read_inventory};
use strata_exec::{Command, Context, ExecError, FoundTool, expand_home, tool_version};
use strata_metadata::{
    EnvironmentId, FileKind, KUBE_VERSION_SOURCE, KubeVersionSupport, KubesprayConfig,
    KubesprayRuntime, Notice, PhaseDetail,
};
use tracing::instrument;

use crate::run::Extras;
use crate::{
    Artifacts, ClusterStatus, HostReach, Kubeconfig, KubesprayError, KubesprayRun, Operation,
    StagedInventory, artifacts_dir, check_ansible_version, check_private_key, check_staged,
    cluster_status, facts_dir, find_kubeconfig, inventory_drift, inventory_file, lock_staging,
    runtime_tool, settle_artifacts, stage_inventory,
};

/// What a session is asked for: the flags of `cargo xtask kubespray`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionRequest {
    /// The runtime to use instead of the bundle config's (`--runtime`).
    pub runtime: Option<KubesprayRuntime>,
    /// The runtime's program (docker, podman or ansible-playbook), for a caller that has found
    /// it already; otherwise it is looked up through `STRATA_CONTAINER_RUNTIME` or
    /// `STRATA_ANSIBLE_PLAYBOOK`, then `PATH`.
    pub program: Option<PathBuf>,
}

/// One environment's Kubespray, prepared and checked: the bundle's config read, the inventory
/// staged and well-formed, the program found, the key checked. It holds the staging lock (every
/// environment stages into the same folder) until it is dropped.
#[derive(Debug)]
pub struct Session {
    /// How Kubespray runs for this environment.
    pub kubespray: KubesprayRun,
    /// The staged inventory.
    pub staged: StagedInventory,
    /// What preparing found worth telling: the staging, inventory drift against Terraform's
    /// recorded nodes, warnings of the staged inventory's checks.
    pub notices: Vec<Notice>,
    layout: Layout,
    env: String,
    _staging: std::fs::File,
}

/// What [`Session::run`] did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The playbook commands (and a hand-back), in order: run, or only shown in a dry run.
    pub commands: Vec<Command>,
    /// What became of the artifacts the run wrote (`admin.conf`); `None` in a dry run.
    pub artifacts: Artifacts,
    /// Where the artifacts are kept ([`artifacts_dir`]).
    pub artifacts_dir: PathBuf,
    /// What is worth telling: a Kubernetes version the pinned release may not list, artifacts
    /// that could not be kept.
    pub notices: Vec<Notice>,
}

impl RunOutcome {
    /// The typed detail for a deploy report.
    pub fn detail(&self) -> PhaseDetail {
        PhaseDetail::Playbooks {
            commands: self.commands.iter().map(ToString::to_string).collect(),
        }
    }
}

/// What [`Session::validate`] found.
#[derive(Debug, Clone)]
pub struct PingOutcome {
    /// The ping command (run, or only shown in a dry run).
    pub command: Command,
    /// Every inventory host and its answer; empty in a dry run.
    pub hosts: Vec<HostReach>,
}

impl PingOutcome {
    /// The hosts that did not answer.
    pub fn unreachable(&self) -> Vec<&HostReach> {
        self.hosts.iter().filter(|h| !h.ok()).collect()
    }
}

/// The notice that says what staging did.
pub fn staged_notice(layout: &Layout, env: &str, staged: &StagedInventory) -> Notice {
    let dir = strata_util::shown(layout.root(), &staged.dir);
    Notice::info(if staged.unchanged {
        format!("inventory already staged in {dir} ({})", staged.digest)
    } else {
        format!(
            "staged the inventory of api/outputs/{env} into {dir} ({})",
            staged.digest
        )
    })
}

impl Session {
    /// Prepares `bundle`'s environment: reads the bundle's Kubespray config, takes the staging
    /// lock, stages the inventory and checks it as validation would ([`check_staged`]; errors
    /// are [`KubesprayError::StagedInvalid`]), compares it with the nodes Terraform recorded,
    /// finds the runtime's program (a dry run does without), checks a local ansible-core
    /// against the checkout's range and, unless it is a dry run, the SSH key.
    #[instrument(skip_all, fields(env = %bundle.metadata().environment))]
    pub fn prepare(
        layout: &Layout,
        bundle: &Bundle,
        request: &SessionRequest,
        ctx: &Context<'_>,
    ) -> Result<Self, KubesprayError> {
        let env = bundle.metadata().environment.to_string();
        let config = read_config(bundle)?;
        let runtime = request.runtime.unwrap_or(config.runtime);
        let staging = lock_staging(layout)?;
        let staged = stage_inventory(layout, bundle)?;
        let mut notices = vec![staged_notice(layout, &env, &staged)];
        // The same checks validation makes, on what Kubespray will actually read.
        let diagnostics = check_staged(layout, &staged.dir);
        if diagnostics.iter().any(|d| d.severity == Severity::Error) {
            return Err(KubesprayError::StagedInvalid {
                staged,
                diagnostics,
            });
        }
        notices.extend(
            diagnostics
                .iter()
                .map(|d| Notice::warning(d.to_string(), d.hint.clone())),
        );
        notices.extend(drift(layout, &env, &staged.dir));

        let found = match &request.program {
            Some(path) => Ok(FoundTool {
                tool: if runtime == KubesprayRuntime::Local {
                    crate::ANSIBLE_PLAYBOOK
                } else {
                    crate::CONTAINER_RUNTIME
                },
                path: path.clone(),
                from_override: true,
            }),
            None => runtime_tool(runtime, ctx),
        };
        let program = match found {
            Ok(found) => {
                if runtime == KubesprayRuntime::Local && !ctx.dry_run {
                    let (_, version) =
                        tool_version(&found, layout.root()).map_err(KubesprayError::Tool)?;
                    let checkout =
                        expand_home(config.kubespray_path.as_deref().unwrap_or_default());
                    check_ansible_version(&checkout, version.as_deref().unwrap_or_default())?;
                }
                found.path
            }
            // A dry run only shows commands, so it works on a machine without the runtime.
            Err(ExecError::ToolNotFound { .. }) if ctx.dry_run => {
                PathBuf::from(runtime_name(runtime))
            }
            Err(e) => return Err(KubesprayError::Tool(e)),
        };
        let kubespray = KubesprayRun {
            runtime,
            program,
            root: layout.root().to_owned(),
            config,
            inventory: staged.dir.clone(),
            facts: facts_dir(layout, &env),
        };
        if !ctx.dry_run {
            check_private_key(&kubespray.key())?;
        }
        Ok(Self {
            kubespray,
            staged,
            notices,
            layout: layout.clone(),
            env,
            _staging: staging,
        })
    }

    /// Checks the Kubernetes version `op` would install (the upgrade's own, else the config's
    /// `kubeVersion`): a form Kubespray refuses or a version outside the pinned release's range
    /// is [`KubesprayError::KubeVersion`]; a release Strata has no range for gives a notice.
    /// [`Session::run`] checks the same before it starts anything.
    pub fn check(&self, op: &Operation) -> Result<Vec<Notice>, KubesprayError> {
        let config = &self.kubespray.config;
        let (version, setting) = match op {
            Operation::Upgrade { kube_version, .. } => (kube_version.as_str(), "--kube-version"),
            _ => match config.kube_version.as_deref() {
                Some(v) => (v, "kubeVersion"),
                None => return Ok(Vec::new()),
            },
        };
        let release = config.version.as_str();
        if let Some(problem) = strata_metadata::kube_version_problem(release, version) {
            return Err(KubesprayError::KubeVersion {
                setting,
                problem,
                unsupported: false,
            });
        }
        match strata_metadata::kube_version_support(release, version) {
            KubeVersionSupport::Supported => Ok(Vec::new()),
            KubeVersionSupport::Unsupported(problem) => Err(KubesprayError::KubeVersion {
                setting,
                problem,
                unsupported: true,
            }),
            KubeVersionSupport::Unknown(p) => Ok(vec![Notice::warning(
                format!("{setting}: {p}"),
                Some(format!(
                    "check that the release lists it in `{KUBE_VERSION_SOURCE}` (`kubelet_checksums`)"
                )),
            )]),
        }
    }

    /// Runs `op` (after [`Session::check`]), logging to `kubespray.log` in the context's run
    /// folder. After a real run, whether or not it got to the end, the artifacts Kubespray wrote
    /// into the staged inventory (which the next staging replaces) are kept with the
    /// environment, or dropped after a successful reset ([`settle_artifacts`]); a failed run's
    /// [`KubesprayError::Run`] says which.
    #[instrument(skip_all, fields(env = %self.env))]
    pub fn run(
        &self,
        op: &Operation,
        extras: &Extras,
        ctx: &Context<'_>,
    ) -> Result<RunOutcome, KubesprayError> {
        let mut notices = self.check(op)?;
        let log = ctx.log("kubespray.log");
        let result = self.kubespray.run(op, extras, ctx, log.as_deref());
        let artifacts = if ctx.dry_run {
            Artifacts::None
        } else {
            match settle_artifacts(
                &self.layout,
                &self.env,
                &self.staged.dir,
                op,
                result.is_ok(),
            ) {
                Ok(a) => a,
                Err(e) => {
                    notices.push(Notice::warning(chain(&e), None));
                    Artifacts::None
                }
            }
        };
        let commands = match result {
            Ok(c) => c,
            Err(KubesprayError::Run {
                playbook, source, ..
            }) => {
                return Err(KubesprayError::Run {
                    playbook,
                    source,
                    artifacts,
                });
            }
            Err(e) => return Err(e),
        };
        Ok(RunOutcome {
            commands,
            artifacts,
            artifacts_dir: artifacts_dir(&self.layout, &self.env),
            notices,
        })
    }

    /// `kubespray validate`: an Ansible ping of every inventory host over SSH (in a dry run,
    /// only its command), logged to `kubespray-validate.log`. A host that does not answer is an
    /// answer ([`PingOutcome::unreachable`]), not an error.
    #[instrument(skip_all, fields(env = %self.env))]
    pub fn validate(&self, ctx: &Context<'_>) -> Result<PingOutcome, KubesprayError> {
        let Some(file) = inventory_file(&self.staged.dir) else {
            return Err(KubesprayError::NoInventory {
                dir: self.staged.dir.clone(),
            });
        };
        let inventory =
            read_inventory(&file).map_err(|diagnostic| KubesprayError::Inventory { diagnostic })?;
        if ctx.dry_run {
            return Ok(PingOutcome {
                command: self.kubespray.ping_command(),
                hosts: Vec::new(),
            });
        }
        let log = ctx.log("kubespray-validate.log");
        let (command, hosts) = self.kubespray.ping(&inventory, ctx, log.as_deref())?;
        Ok(PingOutcome { command, hosts })
    }
}

/// What [`status`] is asked: `--kubeconfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusRequest {
    /// The kubeconfig to use instead of the environment's own.
    pub kubeconfig: Option<PathBuf>,
}

/// What [`status`] found.
#[derive(Debug, Clone)]
pub struct StatusOutcome {
    /// The kubeconfig asked, and where it came from.
    pub kubeconfig: Kubeconfig,
    /// The cluster's answer.
    pub status: ClusterStatus,
}

/// `kubespray status`: the API server's readiness and every node, through the environment's
/// kubeconfig ([`find_kubeconfig`]: `--kubeconfig`, the kept `admin.conf`, else a single-file
/// `KUBECONFIG`, read here and nowhere else) and kubectl (`STRATA_KUBECTL`, else `PATH`).
#[instrument(skip_all, fields(env = %env))]
pub fn status(
    layout: &Layout,
    env: &EnvironmentId,
    request: &StatusRequest,
    ctx: &Context<'_>,
) -> Result<StatusOutcome, KubesprayError> {
    let kubeconfig = find_kubeconfig(
        layout,
        env.as_str(),
        request.kubeconfig.as_deref(),
        ctx.var("KUBECONFIG").as_deref(),
    )?;
    let kubectl = ctx
        .find_tool(&crate::KUBECTL)
        .map_err(KubesprayError::Tool)?;
    let status = cluster_status(&kubectl.path, &kubeconfig, layout.root(), ctx.interrupt)?;
    Ok(StatusOutcome { kubeconfig, status })
}

/// The name of a runtime's program, as a dry run shows it without one.
pub fn runtime_name(runtime: KubesprayRuntime) -> &'static str {
    match runtime {
        KubesprayRuntime::Docker => "docker",
        KubesprayRuntime::Podman => "podman",
        KubesprayRuntime::Local => "ansible-playbook",
    }
}

/// The bundle's Kubespray config.
fn read_config(bundle: &Bundle) -> Result<KubesprayConfig, KubesprayError> {
    let path = bundle
        .path(FileKind::KubesprayConfig)
        .unwrap_or_else(|| bundle.dir().join("kubesprayConfig.json"));
    std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        .map_err(|message| KubesprayError::Config { path, message })
}

/// The inventory's differences from the nodes Terraform recorded, when the infrastructure
/// phases ran here: a host whose address moved is the classic cause of a run that hangs on SSH
/// for an hour.
fn drift(layout: &Layout, env: &str, staged: &Path) -> Vec<Notice> {
    let Ok(text) = std::fs::read_to_string(layout.terraform_outputs(env, "nodes")) else {
        return Vec::new();
    };
    let outputs: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let Some(inventory) = inventory_file(staged).and_then(|f| read_inventory(&f).ok()) else {
        return Vec::new();
    };
    inventory_drift(&inventory, &outputs)
        .into_iter()
        .map(|d| {
            Notice::warning(
                format!("inventory drift: {d}"),
                Some("make the package's inventory and tfvars describe the same machines, then regenerate the bundle".to_owned()),
            )
        })
        .collect()
}

/// An error and each of its causes, joined with `: `.
fn chain(err: &dyn std::error::Error) -> String {
    strata_util::error_chain(err)
}
