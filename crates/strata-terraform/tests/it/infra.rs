//! `run_infra`, called in process as the deploy engine calls it, on the sample repository with
//! a terraform stand-in that answers as terraform does where Strata relies on it: `version`,
//! `plan -detailed-exitcode` (0 no changes, 2 changes), `show -json`, and the lock error text
//! terraform prints when another run holds the state.

use std::path::{Path, PathBuf};

use strata_bundle::{Bundle, GenerateOptions, generate};
use strata_config::Layout;
use strata_exec::Context;
use strata_metadata::{ErrorKind, PhaseDetail, PlanCounts};
use strata_terraform::{
    Action, HookOutcome, InfraEvent, InfraPhase, InfraRequest, PhaseResult, TerraformError,
    run_infra,
};
use strata_testkit::TempDir;

/// terraform 1.11's `-no-color` refusal when the state lock is held; `{message}` is the
/// backend's reason.
const LOCKED: &str = "
Error: Error acquiring the state lock

Error message: {message}
Lock Info:
  ID:        1adb7b20-b02a-a811-684c-877f6659dd06
  Path:      terraform.tfstate
  Operation: OperationTypeApply
  Who:       alice@ci-runner-7
  Version:   1.11.4
  Created:   2026-12-01 23:59:33.911175702 +0000 UTC
  Info:      


Terraform acquires a state lock to protect the state from being written
by multiple users at the same time. Please resolve the issue above and try
again. For most commands, you can disable locking with the \"-lock=false\"
flag, but this is not recommended.
";

struct Repo {
    repo: TempDir,
    bin: TempDir,
}

impl Repo {
    fn new() -> Self {
        let repo = strata_testkit::sample_repo();
        let opts = GenerateOptions {
            skip_validate: false,
            generated_at: Some(0),
        };
        generate(
            &Layout::new(repo.path()),
            &"development".parse().unwrap(),
            &"core".parse().unwrap(),
            &opts,
        )
        .expect("the sample generates");
        Self {
            repo,
            bin: TempDir::new("tf"),
        }
    }

    fn layout(&self) -> Layout {
        Layout::new(self.repo.path())
    }

    fn bundle(&self) -> Bundle {
        Bundle::open(&self.layout().bundle_dir("development")).unwrap()
    }

    /// A terraform whose `plan` exits `plan_exit` (printing `plan_stderr`), whose `show -json`
    /// reports one resource to create, and which records each subcommand.
    fn terraform(&self, plan_exit: i32, plan_stderr: &str) -> PathBuf {
        let calls = self.bin.join("calls");
        let stderr = self.bin.join("plan.stderr");
        std::fs::write(&stderr, plan_stderr).unwrap();
        strata_testkit::script(
            self.bin.path(),
            "terraform",
            &format!(
                r#"if [ "$1" = version ]; then echo "Terraform v1.11.4"; exit 0; fi
echo "$2" >> '{calls}'
case "$2" in
  plan) cat '{stderr}' >&2; exit {plan_exit} ;;
  show) echo '{{"resource_changes":[{{"change":{{"actions":["create"]}}}}]}}' ;;
  output) echo '{{"nodes":{{"sensitive":false,"value":{{}}}}}}' ;;
esac
exit 0
"#,
                calls = calls.display(),
                stderr = stderr.display(),
            ),
        )
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(self.bin.join("calls")).unwrap_or_default()
    }
}

fn request(phase: InfraPhase, action: Action, terraform: &Path) -> InfraRequest {
    InfraRequest {
        phase,
        action,
        force: false,
        lock_timeout: "0s".to_owned(),
        terraform: Some(terraform.to_owned()),
        ansible_playbook: Some(PathBuf::from("ansible-playbook")),
    }
}

#[test]
fn an_apply_reports_each_module_as_it_finishes_and_the_typed_detail() {
    let r = Repo::new();
    let tf = r.terraform(2, "");
    let logs = TempDir::new("logs");
    let ctx = Context {
        logs: Some(logs.path()),
        ..Context::default()
    };
    let mut events = Vec::new();
    // `nodes` needs no SSH on the Proxmox node, so the apply goes through here.
    let outcome = run_infra(
        &r.layout(),
        &r.bundle(),
        &request(InfraPhase::Nodes, Action::Apply, &tf),
        &ctx,
        &mut |e| {
            events.push(match e {
                InfraEvent::Notice(n) => format!("notice: {}", n.message),
                InfraEvent::Started(m) => format!("started {m}"),
                InfraEvent::Module(r) => format!("{}: {:?}", r.module, r.result),
                InfraEvent::Hook(_) => "hook".to_owned(),
            });
        },
    )
    .unwrap();
    assert_eq!(
        events,
        [
            format!("notice: using {} (Terraform v1.11.4)", tf.display()),
            "started nodes".to_owned(),
            "nodes: Applied".to_owned(),
        ]
    );
    assert_eq!(r.calls(), "init\nplan\napply\noutput\n");
    assert!(outcome.hook.is_none(), "a single module runs no hook");
    assert_eq!(
        outcome.detail(),
        PhaseDetail::Terraform {
            plan: None,
            applied: true,
            outputs: vec!["nodes".to_owned()],
        }
    );
    assert!(logs.join("nodes.log").is_file());
}

#[test]
fn a_plan_tells_changes_from_no_changes() {
    let r = Repo::new();
    let ctx = Context::default();
    let planned = run_infra(
        &r.layout(),
        &r.bundle(),
        &request(InfraPhase::All, Action::Plan, &r.terraform(2, "")),
        &ctx,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(planned.modules.len(), 3);
    assert!(
        planned.hook.is_none(),
        "the hook runs only after a plain apply"
    );
    assert_eq!(
        planned.plan(),
        Some(PlanCounts {
            add: 3,
            change: 0,
            destroy: 0
        })
    );
    assert!(planned.has_changes());

    let unchanged = run_infra(
        &r.layout(),
        &r.bundle(),
        &request(InfraPhase::All, Action::Plan, &r.terraform(0, "")),
        &ctx,
        &mut |_| {},
    )
    .unwrap();
    assert!(
        unchanged
            .modules
            .iter()
            .all(|m| m.result == PhaseResult::NoChanges)
    );
    assert_eq!(unchanged.plan(), Some(PlanCounts::default()));
    assert!(!unchanged.has_changes());
}

#[test]
fn a_state_lock_held_by_another_run_is_locked_and_names_the_holder() {
    let r = Repo::new();
    let tf = r.terraform(
        1,
        &LOCKED.replace("{message}", "resource temporarily unavailable"),
    );
    let err = run_infra(
        &r.layout(),
        &r.bundle(),
        &request(InfraPhase::Nodes, Action::Apply, &tf),
        &Context::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Locked);
    let TerraformError::StateLocked { module, lock, .. } = &err else {
        panic!("not the lock's refusal: {err}");
    };
    assert_eq!(module, "nodes");
    assert_eq!(lock.id, "1adb7b20-b02a-a811-684c-877f6659dd06");
    assert_eq!(
        err.to_string(),
        "the Terraform state of module `nodes` is locked by alice@ci-runner-7"
    );
    assert!(
        err.hint()
            .is_some_and(|h| h.starts_with("alice@ci-runner-7 holds this state's lock")),
        "{:?}",
        err.hint()
    );
    assert_eq!(r.calls(), "init\nplan\n", "nothing was applied");
}

#[test]
fn the_pg_backends_lock_error_does_not_pass_the_asker_off_as_the_holder() {
    let r = Repo::new();
    // The pg backend prints the lock this run asked for: `Who:` is the one asking.
    let tf = r.terraform(
        1,
        &LOCKED.replace("{message}", "Workspace is already locked: default"),
    );
    let err = run_infra(
        &r.layout(),
        &r.bundle(),
        &request(InfraPhase::Nodes, Action::Apply, &tf),
        &Context::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Locked);
    assert_eq!(
        err.to_string(),
        "the Terraform state of module `nodes` is locked by another run"
    );
    assert!(
        !err.hint().unwrap_or_default().contains("alice"),
        "{:?}",
        err.hint()
    );
}

#[test]
fn a_failed_plan_is_a_failure_not_changes() {
    let r = Repo::new();
    let tf = r.terraform(1, "Error: Unsupported argument\n");
    let err = run_infra(
        &r.layout(),
        &r.bundle(),
        &request(InfraPhase::All, Action::Plan, &tf),
        &Context::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert!(
        matches!(err, TerraformError::Command { step: "plan", .. }),
        "{err}"
    );
}

#[test]
fn the_ansible_phase_takes_no_terraform_action_and_skips_without_a_playbook() {
    let r = Repo::new();
    let tf = r.terraform(0, "");
    let err = run_infra(
        &r.layout(),
        &r.bundle(),
        &request(InfraPhase::Ansible, Action::Plan, &tf),
        &Context::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(
        err.hint().as_deref(),
        Some("run `cargo xtask infra --env development --phase ansible` on its own")
    );
    let skipped = run_infra(
        &r.layout(),
        &r.bundle(),
        &request(InfraPhase::Ansible, Action::Apply, &tf),
        &Context::default(),
        &mut |_| {},
    )
    .unwrap();
    assert!(matches!(skipped.hook, Some(HookOutcome::Skipped)));
    assert!(skipped.modules.is_empty());
    assert_eq!(r.calls(), "", "no terraform for the hook");
}
