//! The command line, as data. Every command and flag a user can type is declared here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use strata_metadata::{EnvironmentId, PackageId};

/// Strata runs an infrastructure monorepo end to end: validate config packages, render
/// environment bundles, and deploy every layer from them.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    version,
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct Global {
    /// The repository root [default: STRATA_ROOT, else this checkout]
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) root: Option<PathBuf>,

    /// How results are printed on stdout
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Human)]
    pub(crate) output: OutputFormat,

    /// Show more detail (repeat for more); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,

    /// Print only errors
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// Text for people
    Human,
    /// One JSON document on stdout
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check definitions, config packages, the packages lock and module selectors
    Validate(ValidateArgs),
    /// Render bundles from config packages
    #[command(subcommand)]
    Generate(GenerateCommand),
    /// Inspect generated bundles
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// Manage config packages
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run the infrastructure phases (Terraform on Proxmox) for an environment
    Infra(InfraArgs),
    /// Build, list and publish the VM images of an environment's roles
    #[command(subcommand)]
    Provision(ProvisionCommand),
    /// Run Kubespray's lifecycle playbooks against an environment's cluster
    #[command(subcommand)]
    Kubespray(KubesprayCommand),
    /// Deploy, render or diff the platform's Helm releases (ordered by their `needs`)
    #[command(subcommand)]
    Platform(PlatformCommand),
    /// Deploy the ArgoCD app-of-apps of the business applications
    #[command(subcommand)]
    Business(BusinessCommand),
    /// Draw the phase graph and the platform release graph as Mermaid or DOT
    Graph(GraphArgs),
    /// Run every phase in order (validate … business), skipping what is up to date
    Deploy(DeployArgs),
    /// Each phase's last result, and whether its inputs changed since
    Status(StatusArgs2),
    /// Build a bundle for an environment that predates config packages, from its existing files
    Backfill(BackfillArgs),
    /// Print a shell completion script (bash, zsh or fish) on stdout
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: ShellArg,
    },
    /// Remove an environment's deploy lock on purpose
    Unlock {
        /// The environment, such as `development`
        #[arg(long, value_name = "ENV")]
        env: EnvironmentId,
        /// Remove it even though its process still runs (on PostgreSQL, with `--yes`: end
        /// the holder's database session, which fails its deploy)
        #[arg(long)]
        force: bool,
        /// Confirm `--force` on the PostgreSQL backend
        #[arg(long, requires = "force")]
        yes: bool,
    },
    /// List an environment's runs, newest first: when, who, from where, the result and each
    /// phase's status and duration
    Runs(RunsArgs),
    /// Manage Strata's run state in the configured backend (config/state-backend.json)
    #[command(subcommand)]
    State(StateCommand),
    /// List the external tools Strata drives, found or not, with versions
    Doctor,
    /// Run every check CI runs: formatting, clippy, all tests, the README's main command
    Ci(CiArgs),
    /// Measure validate, generate and planning on a synthetic repository of many packages, in the
    /// binary `cargo xtask` runs and an optimised build, or (--hash) SHA-256 of a large image
    /// against openssl
    Bench(BenchArgs),
}

impl Command {
    /// The environment a command acts on, when it must be one the repository knows. `generate
    /// env` checks its own (against the package), `backfill` makes a new one, and `unlock`
    /// may remove the lock of one that is no longer defined.
    pub(crate) fn known_environment(&self) -> Option<&EnvironmentId> {
        use KubesprayCommand as K;
        match self {
            Command::Infra(InfraArgs { env, .. })
            | Command::Provision(
                ProvisionCommand::Build(ProvisionBuildArgs { env, .. })
                | ProvisionCommand::List { env }
                | ProvisionCommand::Publish { env, .. },
            )
            | Command::Bundle(BundleCommand::Verify(EnvArgs { env }))
            | Command::Platform(
                PlatformCommand::Deploy(PlatformDeployArgs { env, .. })
                | PlatformCommand::Template { env }
                | PlatformCommand::Diff { env, .. },
            )
            | Command::Business(BusinessCommand::Deploy { env, .. })
            | Command::Graph(GraphArgs { env, .. })
            | Command::Deploy(DeployArgs { env, .. })
            | Command::Status(StatusArgs2 { env, .. })
            | Command::Runs(RunsArgs { env, .. })
            | Command::State(StateCommand::Push(EnvArgs { env }))
            | Command::Unlock { env, .. } => Some(env),
            Command::Kubespray(k) => Some(match k {
                K::Deploy { common: c, .. }
                | K::Recover { common: c, .. }
                | K::Reset { common: c, .. }
                | K::Scale { common: c, .. }
                | K::Upgrade { common: c, .. }
                | K::RemoveNode { common: c, .. } => &c.target.env,
                K::Validate(t) => &t.env,
                K::Status(s) => &s.env,
            }),
            Command::Validate(_)
            | Command::Generate(_)
            | Command::Config(_)
            | Command::Backfill(_)
            | Command::Completions { .. }
            | Command::Doctor
            | Command::Ci(_)
            | Command::Bench(_) => None,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Check only one part of the repository
    #[arg(long, value_enum)]
    pub(crate) target: Option<ValidateTarget>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ValidateTarget {
    /// api/definitions/
    Definitions,
    /// config/packages/ and config/packages.lock
    Packages,
    /// <module>/environments/<env>.yaml selectors
    Environments,
}

#[derive(Debug, Subcommand)]
pub(crate) enum GenerateCommand {
    /// Render one environment of a package into api/outputs/<env>/
    Env(GenerateEnvArgs),
}

#[derive(Debug, Args)]
pub(crate) struct GenerateEnvArgs {
    /// The environment, such as `development`
    #[arg(long, value_name = "ENV")]
    pub(crate) id: EnvironmentId,
    /// The config package, such as `core`
    #[arg(long, value_name = "PACKAGE")]
    pub(crate) config: PackageId,
    /// Render without validating first
    #[arg(long)]
    pub(crate) skip_validate: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BundleCommand {
    /// Recompute every digest of a bundle and report drift or tampering (exit 1)
    Verify(EnvArgs),
}

#[derive(Debug, Args)]
pub(crate) struct EnvArgs {
    /// The environment, such as `development`
    #[arg(long, value_name = "ENV")]
    pub(crate) env: EnvironmentId,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Record package versions and content digests in config/packages.lock
    Lock(LockArgs),
}

#[derive(Debug, Args)]
pub(crate) struct LockArgs {
    /// Only report what would change; exit 1 when the lock is out of date
    #[arg(long)]
    pub(crate) check: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InfraArgs {
    /// The environment, such as `development`
    #[arg(long, value_name = "ENV")]
    pub(crate) env: EnvironmentId,
    /// Which phase to run; `all` runs bootstrap, images, templates, nodes and ansible in order
    #[arg(long, value_enum, default_value_t = InfraPhase::All)]
    pub(crate) phase: InfraPhase,
    /// Stage the tfvars, then print each terraform command instead of running it
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Overwrite a staged terraform.tfvars that was edited by hand
    #[arg(long)]
    pub(crate) force: bool,
    /// How long terraform waits for a state lock held by someone else
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub(crate) lock_timeout: String,
    /// Stop after planning: save each plan under .strata/<env>/plans/ and show what it would do
    #[arg(long, group = "action")]
    pub(crate) plan: bool,
    /// Apply exactly the plans --plan saved; refused when the bundle or a module changed since
    #[arg(long, group = "action")]
    pub(crate) apply_plan: bool,
    /// Destroy what the modules manage, in reverse order (nodes, templates, images)
    #[arg(long, group = "action", requires = "yes")]
    pub(crate) destroy: bool,
    /// Confirm --destroy (there is never a prompt)
    #[arg(long)]
    pub(crate) yes: bool,
    /// Print the nodes module's outputs (names and addresses) and record them for later phases
    #[arg(long, group = "action", conflicts_with = "phase")]
    pub(crate) outputs: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum InfraPhase {
    /// Generate the bundle when it is missing or older than its package
    Bootstrap,
    /// Cloud images downloaded onto the Proxmox nodes
    Images,
    /// The VM template built from the image
    Templates,
    /// The cluster's VMs, cloned from the template
    Nodes,
    /// The team's own playbook (infrastructure/ansible/playbook.yml), when there is one
    Ansible,
    /// bootstrap, images, templates, nodes, then ansible when configured
    All,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProvisionCommand {
    /// Build role images (qemu-img, packer or a command); up-to-date images are left alone
    Build(ProvisionBuildArgs),
    /// Every role's image: present, missing, stale or modified, its size and sha256
    List {
        /// The environment, such as `development`
        #[arg(long, value_name = "ENV")]
        env: EnvironmentId,
    },
    /// Copy a built image to the environment's storage target and record where it went
    Publish {
        /// The environment, such as `development`
        #[arg(long, value_name = "ENV")]
        env: EnvironmentId,
        /// The role whose image is published
        #[arg(long, value_name = "ROLE")]
        role: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ProvisionBuildArgs {
    /// The environment, such as `development`
    #[arg(long, value_name = "ENV")]
    pub(crate) env: EnvironmentId,
    /// The role to build
    #[arg(
        long,
        value_name = "ROLE",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub(crate) role: Option<String>,
    /// Build every role of the environment
    #[arg(long)]
    pub(crate) all: bool,
    /// How many roles are built at once [default: the number of CPUs]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) jobs: Option<u16>,
    /// Rebuild even when the image is up to date
    #[arg(long)]
    pub(crate) force: bool,
}

fn parse_phase(s: &str) -> Result<strata_metadata::Phase, String> {
    strata_metadata::Phase::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = strata_metadata::Phase::ALL
            .iter()
            .map(|p| p.name())
            .collect();
        format!("`{s}` is not a phase; the phases are: {}", names.join(", "))
    })
}

#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    /// The environment, such as `development`
    #[arg(long, value_name = "ENV")]
    pub(crate) env: EnvironmentId,
    /// Start at this phase (the earlier ones are neither run nor checked)
    #[arg(long, value_name = "PHASE", value_parser = parse_phase, conflicts_with = "only")]
    pub(crate) from: Option<strata_metadata::Phase>,
    /// Stop after this phase
    #[arg(long, value_name = "PHASE", value_parser = parse_phase, conflicts_with = "only")]
    pub(crate) to: Option<strata_metadata::Phase>,
    /// Run only these phases, comma-separated
    #[arg(long, value_name = "PHASES", value_parser = parse_phase, value_delimiter = ',')]
    pub(crate) only: Vec<strata_metadata::Phase>,
    /// Run phases even when up to date: all of them, or the one named
    #[arg(long, value_name = "PHASE", num_args = 0..=1, default_missing_value = "all")]
    pub(crate) force: Option<String>,
    /// Run the local, reversible steps (validate, generate, staging) and print every other
    /// command instead of running it
    #[arg(long, conflicts_with = "plan")]
    pub(crate) dry_run: bool,
    /// Run each phase's own plan (terraform plan, helm diff) without applying anything
    #[arg(long)]
    pub(crate) plan: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ShellArg {
    /// bash: `source <(cargo xtask completions bash)`
    Bash,
    /// zsh: write it to a file named `_xtask` on your `$fpath`
    Zsh,
    /// fish: write it to `~/.config/fish/completions/xtask.fish`
    Fish,
}

#[derive(Debug, Args)]
pub(crate) struct BackfillArgs {
    /// The environment, such as `legacy-prod`
    #[arg(long, value_name = "ENV")]
    pub(crate) env: EnvironmentId,
    /// Its Terraform variables (a .tfvars file)
    #[arg(long, value_name = "FILE")]
    pub(crate) terraform: PathBuf,
    /// Its Kubespray inventory folder (with hosts.yaml)
    #[arg(long, value_name = "DIR")]
    pub(crate) inventory: PathBuf,
    /// Its ArgoCD app-of-apps values (business.yaml)
    #[arg(long, value_name = "FILE")]
    pub(crate) business: PathBuf,
    /// Its Helm platform releases (platform.yaml)
    #[arg(long, value_name = "FILE")]
    pub(crate) platform: Option<PathBuf>,
    /// How its images are built (provisioner.json)
    #[arg(long, value_name = "FILE")]
    pub(crate) provisioner: Option<PathBuf>,
    /// How Kubespray runs for it (kubespray.json)
    #[arg(long, value_name = "FILE")]
    pub(crate) kubespray_config: Option<PathBuf>,
    /// Also write the files into this package as the environment, bump its version and lock it
    #[arg(long, value_name = "PACKAGE")]
    pub(crate) to_package: Option<PackageId>,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs2 {
    /// The environment, such as `development`
    #[arg(long, value_name = "ENV")]
    pub(crate) env: EnvironmentId,
    /// Exit 4 when any phase's inputs changed since its last success (or it never ran)
    #[arg(long)]
    pub(crate) detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RunsArgs {
    /// The environment, such as `development`
    #[arg(long, value_name = "ENV")]
    pub(crate) env: EnvironmentId,
    /// How many runs are listed at most
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) limit: u32,
}

#[derive(Debug, Subcommand)]
pub(crate) enum StateCommand {
    /// Copy this checkout's local phase records and run reports (.strata/ENV/) to the shared
    /// backend, keeping any shared record that finished later
    Push(EnvArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum PlatformCommand {
    /// Gate on the cluster, then `helm upgrade --install` every release in `needs` order
    Deploy(PlatformDeployArgs),
    /// Render every release offline into .strata/<env>/rendered/<release>/
    Template {
        /// The environment, such as `development`
        #[arg(long, value_name = "ENV")]
        env: EnvironmentId,
    },
    /// Show what a deploy would change (the helm-diff plugin); exit 4 when anything would
    Diff {
        /// The environment, such as `development`
        #[arg(long, value_name = "ENV")]
        env: EnvironmentId,
        /// The cluster's kubeconfig [default: the admin.conf Kubespray wrote for ENV, else KUBECONFIG]
        #[arg(long, value_name = "FILE")]
        kubeconfig: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct PlatformDeployArgs {
    /// The environment, such as `development`
    #[arg(long, value_name = "ENV")]
    pub(crate) env: EnvironmentId,
    /// The cluster's kubeconfig [default: the admin.conf Kubespray wrote for ENV, else KUBECONFIG]
    #[arg(long, value_name = "FILE")]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// How many independent releases are deployed at once
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) jobs: u16,
    /// Deploy without first checking that the cluster answers (a warning says so)
    #[arg(long)]
    pub(crate) skip_gate: bool,
    /// Print each helm command instead of running it (no cluster needed)
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BusinessCommand {
    /// Check that ArgoCD is installed, then `helm upgrade --install cluster-apps` with the bundle's business.yaml
    Deploy {
        /// The environment, such as `development`
        #[arg(long, value_name = "ENV")]
        env: EnvironmentId,
        /// The cluster's kubeconfig [default: the admin.conf Kubespray wrote for ENV, else KUBECONFIG]
        #[arg(long, value_name = "FILE")]
        kubeconfig: Option<PathBuf>,
        /// Print the helm command instead of running it (no cluster needed)
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct GraphArgs {
    /// The environment, such as `development`
    #[arg(long, value_name = "ENV")]
    pub(crate) env: EnvironmentId,
    /// The drawing format
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub(crate) format: GraphFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum GraphFormat {
    /// A Mermaid flowchart (renders in GitHub and GitLab Markdown)
    Mermaid,
    /// Graphviz DOT (`dot -Tsvg`)
    Dot,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KubesprayCommand {
    /// Install or converge the cluster (cluster.yml)
    Deploy {
        #[command(flatten)]
        common: KubesprayArgs,
        /// Only these hosts, such as `etcd,kube_control_plane`; facts are gathered for every host
        /// first (playbooks/facts.yml)
        #[arg(long, value_name = "HOSTS")]
        limit: Option<String>,
    },
    /// Tear the cluster down (reset.yml); needs --yes
    Reset {
        #[command(flatten)]
        common: KubesprayArgs,
        /// Confirm the reset (there is never a prompt)
        #[arg(long, required = true)]
        yes: bool,
    },
    /// Add worker nodes (scale.yml)
    Scale {
        #[command(flatten)]
        common: KubesprayArgs,
        /// Only these hosts; facts are gathered for every host first (playbooks/facts.yml)
        #[arg(long, value_name = "HOSTS")]
        limit: Option<String>,
    },
    /// Upgrade Kubernetes (upgrade-cluster.yml)
    Upgrade {
        #[command(flatten)]
        common: KubesprayArgs,
        /// The Kubernetes version to upgrade to, such as 1.33.5 (`v1.33.5` before Kubespray v2.28)
        #[arg(long, value_name = "VERSION")]
        kube_version: String,
        /// How many nodes are upgraded at a time (wins over `serial` in the config's extraVars)
        #[arg(long, value_name = "N")]
        serial: Option<u32>,
        /// Only these hosts (a node-by-node upgrade); facts are gathered for every host first
        /// (playbooks/facts.yml)
        #[arg(long, value_name = "HOSTS")]
        limit: Option<String>,
    },
    /// Drain and remove nodes (remove-node.yml)
    RemoveNode {
        #[command(flatten)]
        common: KubesprayArgs,
        /// The nodes to remove, by inventory name, comma-separated
        #[arg(long, value_name = "NODES", value_delimiter = ',', required = true)]
        node: Vec<String>,
        /// Remove the first member of kube_control_plane or etcd all the same (Kubespray's
        /// procedure moves it down the list first)
        #[arg(long)]
        force: bool,
    },
    /// Recover the control plane (recover-control-plane.yml)
    Recover {
        #[command(flatten)]
        common: KubesprayArgs,
        /// Only these hosts, as Kubespray's procedure documents: `etcd,kube_control_plane`
        #[arg(long, value_name = "HOSTS")]
        limit: Option<String>,
    },
    /// Preflight before a long run: the staged inventory is well-formed, the SSH key is usable,
    /// and every host answers over SSH (an Ansible ping)
    Validate(TargetArgs),
    /// Whether the cluster answers: the API server's readiness and every node's Ready state
    Status(StatusArgs),
}

/// Which environment, where Ansible runs, and whether only to show the commands.
#[derive(Debug, Args)]
pub(crate) struct TargetArgs {
    /// The environment, such as `development`
    #[arg(long, value_name = "ENV")]
    pub(crate) env: EnvironmentId,
    /// Where Ansible runs [default: the bundle's Kubespray config]
    #[arg(long, value_enum)]
    pub(crate) runtime: Option<RuntimeArg>,
    /// Stage and check the inventory, then print each command instead of running it
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// The environment, such as `development`
    #[arg(long, value_name = "ENV")]
    pub(crate) env: EnvironmentId,
    /// The kubeconfig to use [default: the admin.conf Kubespray wrote for ENV, else KUBECONFIG]
    #[arg(long, value_name = "FILE")]
    pub(crate) kubeconfig: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct KubesprayArgs {
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    /// Extra variables for ansible-playbook, `key=value` (repeatable)
    #[arg(short = 'e', long = "extra-var", value_name = "KEY=VALUE")]
    pub(crate) extra_vars: Vec<String>,
    /// Only run tasks with these tags
    #[arg(long)]
    pub(crate) tags: Option<String>,
    /// Skip tasks with these tags
    #[arg(long)]
    pub(crate) skip_tags: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RuntimeArg {
    /// The pinned Kubespray image under docker
    Docker,
    /// The pinned Kubespray image under podman
    Podman,
    /// ansible-playbook from the Kubespray checkout the config names
    Local,
}

#[derive(Debug, Args)]
pub(crate) struct CiArgs {
    /// Let real-tool tests skip when their tool is missing instead of failing
    #[arg(long)]
    pub(crate) allow_missing_tools: bool,
    /// Only install and build the real tools (into target/ci-tools/), then stop
    #[arg(long)]
    pub(crate) tools_only: bool,
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// The largest repository measured, in packages (each with 3 environments)
    #[arg(long, default_value_t = 300)]
    pub(crate) packages: usize,
    /// Measure SHA-256 of a large file in this binary (sha256_file against openssl and
    /// sha256sum) instead of the repository; STRATA_BENCH_HASH_GIB sets the size, 2 GiB by default
    #[arg(long, conflicts_with = "packages")]
    pub(crate) hash: bool,
}
