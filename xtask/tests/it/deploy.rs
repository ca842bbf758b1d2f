//! `cargo xtask deploy`, `status`, `unlock` and `graph`: every phase run through stand-in tools
//! (qemu-img, cloud-localds, terraform, docker, kubectl, helm) that record their calls.

use strata_testkit::TempDir;

use strata_metadata::output::{
    Failure, GraphOutput, Refusal, RunsOutput, StatusOutput, UnlockOutput, UnlockResult,
};
use strata_metadata::{DeployReport, Phase, ReportStatus, RunResult};

use crate::support::{
    Run, bump_package, command, document, read, snapshot_filters, write, xtask, xtask_env,
};

const PROVISIONER: &str = "config/packages/core/environments/development.provisioner.json";
const TFVARS: &str = "config/packages/core/environments/development.terraform.tfvars";

/// A qcow2 header of a 64 MiB image: all of a base image that Strata reads.
fn base_image() -> Vec<u8> {
    let mut h = b"QFI\xfb".to_vec();
    h.extend(3u32.to_be_bytes());
    h.extend([0u8; 16]);
    h.extend((64u64 << 20).to_be_bytes());
    h
}

struct Setup {
    repo: TempDir,
    bin: TempDir,
    home: TempDir,
}

impl Setup {
    /// The sample with images built from a local base image, Kubespray's admin.conf in place,
    /// and every tool a recording stand-in. The bundle is not generated: deploy does it.
    fn new() -> Self {
        let repo = strata_testkit::sample_repo();
        let root = repo.path();
        write(root, "images/base.qcow2", base_image());
        let sha: String = {
            use sha2::Digest as _;
            sha2::Sha256::digest(base_image())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        let mut config: serde_json::Value = serde_json::from_str(&read(root, PROVISIONER)).unwrap();
        for role in config["roles"].as_object_mut().unwrap().values_mut() {
            role["baseImage"] = serde_json::json!({"path": "images/base.qcow2", "sha256": sha});
        }
        write(
            root,
            PROVISIONER,
            serde_json::to_string_pretty(&config).unwrap(),
        );
        // No base image downloads the tfvars' cloud image any more, so the package states its
        // checksum itself (the images module needs one).
        let tfvars = "config/packages/core/environments/development.terraform.tfvars";
        let text = read(root, tfvars);
        write(
            root,
            tfvars,
            text + &format!("cloud_image_sha256 = \"{}\"\n", "0".repeat(64)),
        );
        bump_package(root, true);
        write(
            root,
            ".strata/development/kubespray/artifacts/admin.conf",
            "apiVersion: v1\nkind: Config\n",
        );
        let home = TempDir::new("home");
        write(
            home.path(),
            ".ssh/strata-development",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----\n",
        );
        std::fs::set_permissions(
            home.join(".ssh/strata-development"),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();

        let bin = TempDir::new("deploy-bin");
        let rec = |name: &str| {
            format!(
                "printf '%s\\n' \"$*\" >> '{}'\n",
                bin.join("calls").display()
            ) + &format!("CALLER={name}\n")
        };
        let script = |name: &str, body: &str| {
            strata_testkit::script(bin.path(), name, &(rec(name) + body));
        };
        script(
            "qemu-img",
            "case \"$1\" in --version) echo 'qemu-img version 10.0.2' ;; convert) cp \"$6\" \"$7\" ;; esac\n",
        );
        script("cloud-localds", "cat \"$2\" \"$3\" > \"$1\"\n");
        script(
            "terraform",
            "[ \"$1\" = version ] && { echo 'Terraform v1.11.4'; exit 0; }\ncase \"$2\" in plan) exit 2 ;; esac\n",
        );
        script(
            "docker",
            "if [ -n \"$FAIL_KUBESPRAY\" ]; then echo 'fatal: [dev-cp-1]: UNREACHABLE!' >&2; exit 2; fi\necho 'PLAY RECAP'\n",
        );
        script(
            "kubectl",
            r#"case "$*" in
  *' /readyz') printf ok ;;
  *' /api/v1/nodes') printf '{"items":[{"metadata":{"name":"dev-cp-1"},"status":{"conditions":[{"type":"Ready","status":"True"}]}}]}' ;;
  *'get crd applications.argoproj.io'*) echo customresourcedefinition.apiextensions.k8s.io/applications.argoproj.io ;;
esac
"#,
        );
        script(
            "helm",
            r#"case "$1" in version) echo 'v3.16.2'; exit 0 ;; esac
# A fresh helm has no plugins; helm-diff exits 2 for changes (--detailed-exitcode).
if [ "$1" = plugin ]; then [ -n "$DIFF_PLUGIN" ] && printf 'NAME\tVERSION\tDESCRIPTION\ndiff\t3.9.11\tPreview helm upgrade changes as a diff\n'; exit 0; fi
if [ "$1" = diff ]; then [ "$3" = "$CHANGED" ] && { echo "$3, Deployment (apps) has changed:"; exit 2; }; exit 0; fi
if [ "$1" = upgrade ] && [ "$3" = "$FAIL_RELEASE" ]; then echo 'Error: UPGRADE FAILED' >&2; exit 1; fi
if [ -n "$SLOW" ] && [ "$1" = upgrade ]; then
  trap 'echo interrupted >> "$SLOW"; exit 130' INT
  echo "started $$" >> "$SLOW"; i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
fi
"#,
        );
        Self { repo, bin, home }
    }

    fn env(&self) -> Vec<(String, String)> {
        let b = |n: &str| self.bin.join(n).display().to_string();
        vec![
            ("STRATA_QEMU_IMG".into(), b("qemu-img")),
            ("STRATA_CLOUD_LOCALDS".into(), b("cloud-localds")),
            ("STRATA_TERRAFORM".into(), b("terraform")),
            ("STRATA_CONTAINER_RUNTIME".into(), b("docker")),
            ("STRATA_KUBECTL".into(), b("kubectl")),
            ("STRATA_HELM".into(), b("helm")),
            ("HOME".into(), self.home.path().display().to_string()),
        ]
    }

    fn run(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let env = self.env();
        let mut all: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        all.extend(extra);
        xtask_env(self.repo.path(), args, &all)
    }

    /// How many tool calls the stand-ins recorded.
    fn calls(&self) -> usize {
        std::fs::read_to_string(self.bin.join("calls"))
            .unwrap_or_default()
            .lines()
            .count()
    }
}

/// Each phase's status from the summary table on stdout.
fn statuses(run: &Run) -> Vec<(String, String)> {
    run.stdout
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let phase = words.next()?;
            strata_metadata::Phase::from_name(phase)?;
            let rest: Vec<&str> = words.collect();
            let status = if rest.len() >= 3 && rest[..3] == ["up", "to", "date"] {
                "up to date".to_owned()
            } else if rest.len() >= 2 && matches!(rest[0], "not" | "dry") {
                format!("{} {}", rest[0], rest[1])
            } else {
                rest.first()?.to_string()
            };
            Some((phase.to_owned(), status))
        })
        .collect()
}

fn status_of(run: &Run, phase: &str) -> String {
    statuses(run)
        .into_iter()
        .find(|(p, _)| p == phase)
        .unwrap_or_else(|| panic!("no {phase} in {}", run.stdout))
        .1
}

const DEPLOY: [&str; 4] = ["deploy", "--env", "development", "--dry-run"];

#[test]
fn a_plan_that_cannot_be_made_fails_and_changes_are_planned() {
    let s = Setup::new();
    let generate = s.run(
        &["generate", "env", "--id", "development", "--config", "core"],
        &[],
    );
    assert_eq!(generate.code, 0, "{}", generate.stderr);
    let plan = [
        "deploy",
        "--env",
        "development",
        "--plan",
        "--only",
        "platform",
    ];
    // helm has no helm-diff plugin: `platform diff` cannot make the plan.
    let missing = s.run(&plan, &[]);
    assert_eq!(missing.code, 1, "{}\n{}", missing.stdout, missing.stderr);
    assert_eq!(
        status_of(&missing, "platform"),
        "failed",
        "{}",
        missing.stdout
    );
    assert!(
        missing.stderr.contains("needs the helm-diff plugin"),
        "{}",
        missing.stderr
    );
    assert!(!missing.stdout.contains("planned"), "{}", missing.stdout);

    // With the plugin, a release that would change is a plan, not a failure.
    // Exit 4, as `platform diff` and `status --detailed-exitcode` say "changes pending".
    let changed = s.run(&plan, &[("DIFF_PLUGIN", "1"), ("CHANGED", "argo-cd")]);
    assert_eq!(changed.code, 4, "{}\n{}", changed.stdout, changed.stderr);
    assert_eq!(
        status_of(&changed, "platform"),
        "planned",
        "{}",
        changed.stdout
    );
    assert!(
        changed
            .stdout
            .contains("[platform] argo-cd, Deployment (apps) has changed:"),
        "{}",
        changed.stdout
    );

    // No bundle at all: refused as invalid by the layer, so the plan fails too.
    std::fs::remove_dir_all(s.repo.join("api/outputs/development")).unwrap();
    let no_bundle = s.run(&plan, &[("DIFF_PLUGIN", "1")]);
    assert_eq!(
        no_bundle.code, 1,
        "{}\n{}",
        no_bundle.stdout, no_bundle.stderr
    );
    assert_eq!(
        status_of(&no_bundle, "platform"),
        "failed",
        "{}",
        no_bundle.stdout
    );
}

#[test]
fn a_dry_run_works_on_a_fresh_checkout_and_records_nothing_external() {
    let repo = strata_testkit::sample_repo();
    let run = xtask(repo.path(), &DEPLOY);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for phase in [
        "validate",
        "generate",
        "provision",
        "images",
        "templates",
        "nodes",
        "kubespray",
        "platform",
        "business",
    ] {
        assert_eq!(status_of(&run, phase), "dry run", "{phase}: {}", run.stdout);
    }
    assert_eq!(status_of(&run, "ansible"), "not configured");
    assert!(
        run.stdout.contains("[business] cd "),
        "every command is printed: {}",
        run.stdout
    );
    let state = read(repo.path(), ".strata/development/state.json");
    let state: strata_metadata::PipelineState = serde_json::from_str(&state).unwrap();
    let recorded: Vec<&String> = state.phases.keys().collect();
    assert_eq!(
        recorded,
        ["generate", "validate"],
        "only the local steps are recorded"
    );
}

#[test]
fn a_full_deploy_runs_every_phase_and_a_second_one_runs_nothing() {
    let s = Setup::new();
    let args = ["deploy", "--env", "development"];
    let first = s.run(&args, &[]);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    for phase in [
        "validate",
        "generate",
        "provision",
        "images",
        "templates",
        "nodes",
        "kubespray",
        "platform",
        "business",
    ] {
        assert_eq!(
            status_of(&first, phase),
            "succeeded",
            "{phase}: {}",
            first.stdout
        );
    }
    assert!(
        first.stdout.ends_with("deploy development: succeeded\n"),
        "{}",
        first.stdout
    );
    // The run's report.
    let runs = s.repo.join(".strata/development/runs");
    let report_dir = std::fs::read_dir(&runs)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("report.json").is_file())
        .expect("a report");
    let report: strata_metadata::DeployReport =
        serde_json::from_str(&read(&report_dir, "report.json")).unwrap();
    assert_eq!(report.result, strata_metadata::RunResult::Succeeded);
    let nodes = report
        .phases
        .iter()
        .find(|p| p.phase == strata_metadata::Phase::Nodes)
        .unwrap();
    assert_eq!(
        nodes.command.as_deref(),
        Some("cargo xtask infra --env development --phase nodes")
    );
    // The phase ran in process: the command is the one that does the same alone, and no
    // process exit code is recorded for it.
    assert_eq!(nodes.exit_code, None);
    assert_eq!(
        nodes
            .log
            .as_deref()
            .map(|l| l.ends_with("/deploy-nodes.log")),
        Some(true)
    );
    assert!(report_dir.join("deploy-nodes.log").is_file());
    // The layer commands log into the same run folder: terraform's output of each module, and
    // each image build.
    assert!(
        read(&report_dir, "nodes.log").contains("apply"),
        "terraform's log is here"
    );
    assert!(report_dir.join("provision-k8s-worker.log").is_file());

    let before = s.calls();
    let second = s.run(&args, &[]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    for (phase, status) in statuses(&second) {
        assert!(
            status == "up to date" || (phase == "ansible" && status == "not configured"),
            "{phase}: {status}"
        );
    }
    assert_eq!(s.calls(), before, "no external tool ran");

    // --force PHASE runs that one phase again, and what depends on it.
    // --force provision builds the images again (provision build would find them up to date).
    let before_images = s.calls();
    let images = s.run(
        &["deploy", "--env", "development", "--force", "provision"],
        &[],
    );
    assert_eq!(images.code, 0, "{}", images.stderr);
    assert_eq!(status_of(&images, "provision"), "succeeded");
    assert!(s.calls() > before_images, "the builders ran again");
    let forced = s.run(
        &["deploy", "--env", "development", "--force", "business"],
        &[],
    );
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_eq!(status_of(&forced, "business"), "succeeded");
    assert_eq!(status_of(&forced, "platform"), "up to date");
}

#[test]
fn a_changed_tfvars_value_reruns_what_reads_it_and_what_follows() {
    let s = Setup::new();
    let args = ["deploy", "--env", "development"];
    assert_eq!(s.run(&args, &[]).code, 0);
    crate::support::edit(
        s.repo.path(),
        TFVARS,
        "vlan_id            = 110",
        "vlan_id            = 111",
    );
    bump_package(s.repo.path(), true);
    let status = s.run(
        &["status", "--env", "development", "--detailed-exitcode"],
        &[],
    );
    assert_eq!(status.code, 4, "{}", status.stdout);
    assert!(
        status.stdout.contains("validate    succeeded"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("changed: api/definitions, config")
            || status.stdout.contains("changed: config"),
        "{}",
        status.stdout
    );
    let json = s.run(
        &[
            "status",
            "--env",
            "development",
            "--detailed-exitcode",
            "--output",
            "json",
        ],
        &[],
    );
    assert_eq!(json.code, 4);
    let forecast: StatusOutput = document(&json);
    assert!(forecast.changed);
    let phases: Vec<Phase> = forecast.phases.iter().map(|p| p.phase).collect();
    assert_eq!(phases, Phase::ALL);
    assert_eq!(forecast.phases[0].last, "succeeded");
    assert!(
        forecast.phases[0].inputs.starts_with("changed"),
        "{forecast:#?}"
    );

    // Skipping generate after a package change: the old bundle is used, and the run says so.
    let stale = s.run(
        &[
            "deploy",
            "--env",
            "development",
            "--only",
            "validate",
            "--dry-run",
        ],
        &[],
    );
    assert!(
        stale
            .stderr
            .contains("the bundle of `development` is older than its package"),
        "{}",
        stale.stderr
    );
    let run = s.run(&args, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(status_of(&run, "generate"), "succeeded");
    assert_eq!(
        status_of(&run, "provision"),
        "up to date",
        "it does not read tfvars"
    );
    for phase in [
        "images",
        "templates",
        "nodes",
        "kubespray",
        "platform",
        "business",
    ] {
        assert_eq!(status_of(&run, phase), "succeeded", "{phase}");
    }
    let after = s.run(
        &["status", "--env", "development", "--detailed-exitcode"],
        &[],
    );
    assert_eq!(after.code, 0, "{}", after.stdout);
    let json = s.run(&["status", "--env", "development", "--output", "json"], &[]);
    assert!(!document::<StatusOutput>(&json).changed);
}

#[test]
fn a_failure_names_the_resume_command_and_a_rerun_starts_there() {
    let s = Setup::new();
    let args = ["deploy", "--env", "development"];
    let failed = s.run(&args, &[("FAIL_KUBESPRAY", "1")]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert_eq!(status_of(&failed, "nodes"), "succeeded");
    assert_eq!(status_of(&failed, "kubespray"), "failed");
    assert_eq!(status_of(&failed, "platform"), "not run");
    assert!(
        failed.stderr.contains("fatal: [dev-cp-1]: UNREACHABLE!")
            && failed
                .stderr
                .contains("resume with: cargo xtask deploy --env development --from kubespray"),
        "{}",
        failed.stderr
    );
    // The resume command, as printed.
    let resumed = s.run(
        &["deploy", "--env", "development", "--from", "kubespray"],
        &[],
    );
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert_eq!(status_of(&resumed, "nodes"), "not selected");
    assert_eq!(status_of(&resumed, "kubespray"), "succeeded");
    assert_eq!(status_of(&resumed, "business"), "succeeded");
    // A plain re-run finds everything up to date.
    let rerun = s.run(&args, &[]);
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    assert!(
        statuses(&rerun)
            .iter()
            .all(|(p, st)| st == "up to date" || p == "ansible"),
        "{}",
        rerun.stdout
    );
    // A failure in a plain run: the next plain run starts at the failed phase.
    let platform_fails = s.run(
        &["deploy", "--env", "development", "--force", "platform"],
        &[("FAIL_RELEASE", "cluster-issuers")],
    );
    assert_eq!(platform_fails.code, 1);
    let plain = s.run(&args, &[]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert_eq!(status_of(&plain, "kubespray"), "up to date");
    assert_eq!(status_of(&plain, "platform"), "succeeded");

    let only = s.run(
        &[
            "deploy",
            "--env",
            "development",
            "--only",
            "images,nodes",
            "--force",
        ],
        &[],
    );
    assert_eq!(only.code, 0, "{}", only.stderr);
    assert_eq!(status_of(&only, "images"), "succeeded");
    assert_eq!(status_of(&only, "templates"), "not selected");
    assert_eq!(status_of(&only, "nodes"), "succeeded");
}

#[test]
fn one_deploy_per_environment_and_unlock() {
    let s = Setup::new();
    let state = s.repo.join(".strata/development");
    std::fs::create_dir_all(&state).unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned();
    let holder = |pid: u32| {
        serde_json::json!({"pid": pid, "host": host, "user": "ops", "startedAt": "2026-11-25T09:00:00Z", "command": "cargo xtask deploy --env development"})
            .to_string()
    };
    // A running deploy holds the kernel's lock on the file; this test holds it for one.
    let hold = || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(state.join("lock"))
            .unwrap();
        file.lock().unwrap();
        std::fs::write(state.join("lock"), holder(std::process::id())).unwrap();
        file
    };
    let lock = hold();
    let held = s.run(&DEPLOY, &[]);
    assert_eq!(held.code, 3, "{}", held.stderr);
    assert!(
        held.stderr.contains(&format!(
            "environment `development` is locked by pid {} on {host} by ops since 2026-11-25T09:00:00Z: cargo xtask deploy --env development",
            std::process::id()
        )),
        "{}",
        held.stderr
    );
    let refused = s.run(&["unlock", "--env", "development"], &[]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    let json = s.run(&["unlock", "--env", "development", "--output", "json"], &[]);
    assert_eq!(json.code, 3);
    let failure: Failure = document(&json);
    assert!(
        failure.error.contains("is held by a running process: pid "),
        "{failure:#?}"
    );
    let status = s.run(&["status", "--env", "development"], &[]);
    assert!(
        status.stderr.contains("locked by pid "),
        "{}",
        status.stderr
    );
    drop(lock);

    // Nobody holds the lock any more, though the pid it names runs (a pid reused after the
    // holder died): the kernel says it is free, so it is taken over, and released at the end.
    let status = s.run(&["status", "--env", "development"], &[]);
    assert!(
        status.stderr.contains("a stale lock is left by pid "),
        "{}",
        status.stderr
    );
    let taken = s.run(&DEPLOY, &[]);
    assert_eq!(taken.code, 0, "{}", taken.stderr);
    assert!(
        taken
            .stderr
            .contains("warning: took over a lock left by a process that is gone"),
        "{}",
        taken.stderr
    );
    assert!(!state.join("lock").exists());

    let lock = hold();
    let forced = s.run(&["unlock", "--env", "development", "--force"], &[]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert!(!state.join("lock").exists());
    drop(lock);

    let free = s.run(&["unlock", "--env", "development", "--output", "json"], &[]);
    assert_eq!(
        document::<UnlockOutput>(&free),
        UnlockOutput {
            ok: true,
            environment: "development".to_owned(),
            result: UnlockResult::NotLocked,
            holder: None,
        }
    );

    // A stale lock is removed without --force.
    std::fs::write(state.join("lock"), holder(std::process::id())).unwrap();
    let json = s.run(&["unlock", "--env", "development", "--output", "json"], &[]);
    let removed: UnlockOutput = document(&json);
    assert_eq!(removed.result, UnlockResult::Removed);
    assert!(
        removed
            .holder
            .unwrap()
            .ends_with("by ops since 2026-11-25T09:00:00Z: cargo xtask deploy --env development")
    );
    std::fs::write(state.join("lock"), holder(std::process::id())).unwrap();
    let stale = s.run(&["unlock", "--env", "development"], &[]);
    assert_eq!(stale.code, 0, "{}", stale.stderr);
    assert!(
        stale
            .stdout
            .contains("removed the lock of `development` (pid "),
        "{}",
        stale.stdout
    );
    assert!(!state.join("lock").exists());
}

#[test]
fn ctrl_c_stops_the_running_command_and_records_the_interruption() {
    let s = Setup::new();
    assert_eq!(
        s.run(
            &["deploy", "--env", "development", "--to", "kubespray"],
            &[]
        )
        .code,
        0
    );
    let marks = TempDir::new("slow");
    let slow = marks.join("helm.log");
    #[expect(
        clippy::disallowed_methods,
        reason = "the test interrupts a running deploy"
    )]
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    let child = {
        cmd.args(["deploy", "--env", "development", "--root"])
            .arg(s.repo.path())
            .env("NO_COLOR", "1")
            .env("SLOW", &slow)
            .envs(s.env())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().unwrap()
    };
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&slow).is_ok_and(|t| t.contains("started")) {
        assert!(start.elapsed().as_secs() < 30, "helm never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    #[expect(clippy::disallowed_methods, reason = "the test sends Ctrl-C")]
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(
        read(marks.path(), "helm.log").contains("interrupted"),
        "helm got SIGINT"
    );
    assert!(stdout.contains("platform    interrupted"), "{stdout}");
    assert!(
        stderr.contains("resume with: cargo xtask deploy --env development --from platform"),
        "{stderr}"
    );
    assert!(
        !s.repo.join(".strata/development/lock").exists(),
        "the lock is released"
    );
    let pid = read(marks.path(), "helm.log")
        .lines()
        .find_map(|l| l.strip_prefix("started ").map(str::to_owned))
        .unwrap();
    // Gone, or a zombie waiting for whoever adopted it: not running either way.
    let running = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(") ")
            .next()
            .is_some_and(|rest| !rest.starts_with('Z'))
    });
    assert!(!running, "no child is left running");
    let state: strata_metadata::PipelineState =
        serde_json::from_str(&read(s.repo.path(), ".strata/development/state.json")).unwrap();
    assert_eq!(
        state.phases["platform"].status,
        strata_metadata::PhaseStatus::Interrupted
    );
    assert_eq!(
        state.phases["kubespray"].status,
        strata_metadata::PhaseStatus::Succeeded
    );
}

#[test]
fn two_deploys_of_one_environment_the_second_exits_3() {
    let s = Setup::new();
    assert_eq!(
        s.run(
            &["deploy", "--env", "development", "--to", "kubespray"],
            &[]
        )
        .code,
        0
    );
    let marks = TempDir::new("slow");
    let slow = marks.join("helm.log");
    #[expect(clippy::disallowed_methods, reason = "two real deploys at once")]
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    let mut first = first
        .args(["deploy", "--env", "development", "--root"])
        .arg(s.repo.path())
        .env("NO_COLOR", "1")
        .env("SLOW", &slow)
        .envs(s.env())
        // As under cron or in a container: the holder's user comes from the password file.
        .env_remove("USER")
        .env_remove("LOGNAME")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&slow).is_ok_and(|t| t.contains("started")) {
        assert!(
            start.elapsed().as_secs() < 30,
            "the first deploy never reached helm"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let second = s.run(&DEPLOY, &[]);
    #[expect(clippy::disallowed_methods, reason = "the real `id` names the user")]
    let user = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    let user = String::from_utf8(user.stdout).unwrap().trim().to_owned();
    assert_eq!(second.code, 3, "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains(&format!("is locked by pid {} on ", first.id()))
            && second.stderr.contains(&format!(" by {user} since "))
            && second
                .stderr
                .contains("cargo xtask unlock --env development"),
        "{}",
        second.stderr
    );

    // SIGKILL: no cleanup runs, but the kernel releases the lock with the process, so the
    // next deploy takes it over at once.
    first.kill().unwrap();
    first.wait().unwrap();
    let helm = read(marks.path(), "helm.log")
        .lines()
        .find_map(|l| l.strip_prefix("started ").map(str::to_owned))
        .unwrap();
    #[expect(
        clippy::disallowed_methods,
        reason = "the orphaned stand-in is stopped"
    )]
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &helm])
        .status();
    let next = s.run(&["deploy", "--env", "development"], &[]);
    assert_eq!(next.code, 0, "{}", next.stderr);
    assert!(
        next.stderr.contains(&format!(
            "warning: took over a lock left by a process that is gone (pid {} on ",
            first.id()
        )),
        "{}",
        next.stderr
    );
    // Another environment is not affected.
    let staging = s.run(&["deploy", "--env", "staging", "--dry-run"], &[]);
    assert_eq!(staging.code, 0, "{}", staging.stderr);
}

#[test]
fn the_report_follows_its_schema_and_the_summary_reads_well() {
    let s = Setup::new();
    let args = ["deploy", "--env", "development"];
    assert_eq!(s.run(&args, &[]).code, 0);
    let second = s.run(&args, &[]);
    insta::assert_snapshot!("deploy_up_to_date_summary", second.stdout);
    let runs = s.repo.join(".strata/development/runs");
    let schema: serde_json::Value = serde_json::from_str(&read(
        &strata_testkit::workspace_root(),
        "api/schemas/deploy-report.schema.json",
    ))
    .unwrap();
    let mut reports = 0;
    for run in std::fs::read_dir(&runs).unwrap().flatten() {
        let Ok(text) = std::fs::read_to_string(run.path().join("report.json")) else {
            continue;
        };
        reports += 1;
        let report: serde_json::Value = serde_json::from_str(&text).unwrap();
        for key in schema["required"].as_array().unwrap() {
            assert!(report.get(key.as_str().unwrap()).is_some(), "{key}");
        }
        for key in report.as_object().unwrap().keys() {
            assert!(
                schema["properties"].get(key).is_some(),
                "{key} is in the schema"
            );
        }
        // And it reads back as the type the schema is generated from.
        let _: strata_metadata::DeployReport = serde_json::from_str(&text).unwrap();
    }
    assert_eq!(reports, 2);
    let json = s.run(&["--output", "json", "deploy", "--env", "development"], &[]);
    let doc: DeployReport = document(&json);
    assert_eq!(doc.result, RunResult::Succeeded);
    assert_eq!(doc.phases[0].status, ReportStatus::UpToDate);
}

#[test]
fn graph_draws_the_phases_and_the_releases() {
    let s = Setup::new();
    assert_eq!(s.run(&DEPLOY, &[]).code, 0);
    let run = s.run(&["graph", "--env", "development"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(
            "flowchart LR\n  subgraph phases[\"deploy phases\"]\n    validate --> generate\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("    nodes --> kubespray\n")
            && run
                .stdout
                .contains("    release_cert_manager --> release_cluster_issuers\n")
    );
    let json = s.run(&["graph", "--env", "development", "--output", "json"], &[]);
    let graph: GraphOutput = document(&json);
    assert_eq!(graph.graph.trim_end(), run.stdout.trim_end());
}

#[test]
fn an_invalid_repository_stops_at_validate_with_exit_2() {
    let repo = strata_testkit::sample_repo();
    crate::support::edit(
        repo.path(),
        PROVISIONER,
        "\"diskSize\": \"40G\"",
        "\"diskSize\": \"forty\"",
    );
    let run = xtask(repo.path(), &DEPLOY);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("development.provisioner.json:")
            && run.stderr.contains("disk size `forty` does not parse"),
        "the diagnostic names the file and line: {}",
        run.stderr
    );
    assert_eq!(status_of(&run, "validate"), "failed");
    assert_eq!(status_of(&run, "generate"), "not run");
    assert!(
        !repo.join("api/outputs/development").exists(),
        "nothing generated"
    );
}

#[test]
fn the_generate_phase_honours_source_date_epoch() {
    let repo = strata_testkit::sample_repo();
    let run = xtask(
        repo.path(),
        &["deploy", "--env", "development", "--to", "generate"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let made_by_deploy = read(repo.path(), "api/outputs/development/metadata.json");
    let metadata: serde_json::Value = serde_json::from_str(&made_by_deploy).unwrap();
    // support::EPOCH, as `generate env` writes it.
    assert_eq!(metadata["generatedAt"], "2026-11-25T09:41:55Z");
    // Byte for byte what `generate env` makes from the same package.
    let other = strata_testkit::sample_repo();
    let generated = xtask(
        other.path(),
        &["generate", "env", "--id", "development", "--config", "core"],
    );
    assert_eq!(generated.code, 0, "{}", generated.stderr);
    assert_eq!(
        made_by_deploy,
        read(other.path(), "api/outputs/development/metadata.json")
    );

    // A value that is not a time is bad input: refused before any state is written.
    let bad = crate::support::xtask_env(
        other.path(),
        &["deploy", "--env", "development"],
        &[("SOURCE_DATE_EPOCH", "yesterday")],
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("SOURCE_DATE_EPOCH"), "{}", bad.stderr);
    assert!(
        !other.join(".strata/development").exists(),
        "nothing written: {}",
        bad.stderr
    );
}

#[test]
fn an_unknown_environment_is_refused_before_anything_is_written() {
    let repo = strata_testkit::sample_repo();
    let args = ["deploy", "--env", "developmnet"];
    let _filters = snapshot_filters(repo.path());
    insta_cmd::assert_cmd_snapshot!("deploy_unknown_environment", command(repo.path(), &args));
    assert!(
        !repo.join(".strata").exists(),
        "no state, lock or run folder"
    );
    assert!(!repo.join("api/outputs").exists(), "no bundle");

    // With --output json, one document on stdout.
    let json = xtask(
        repo.path(),
        &["--output", "json", "deploy", "--env", "nosuch"],
    );
    assert_eq!(json.code, 2);
    let doc: Refusal = document(&json);
    assert!(!doc.ok);
    assert_eq!(doc.diagnostics[0].code, "unknown-environment");

    // Every command that acts on an environment refuses it the same way.
    for args in [
        &["status", "--env", "nosuch"][..],
        &["unlock", "--env", "nosuch"],
        &["graph", "--env", "nosuch"],
        &["infra", "--env", "nosuch", "--phase", "bootstrap"],
        &["provision", "list", "--env", "nosuch"],
        &["provision", "build", "--env", "nosuch", "--all"],
        &["bundle", "verify", "--env", "nosuch"],
        &["kubespray", "validate", "--env", "nosuch"],
        &["kubespray", "status", "--env", "nosuch"],
        &["platform", "template", "--env", "nosuch"],
        &["business", "deploy", "--env", "nosuch", "--dry-run"],
    ] {
        let run = xtask(repo.path(), args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with(
                "error: api/definitions/environments.yaml:1:1: environment `nosuch` is not defined\n"
            ) && run.stderr.contains("the known environments: `development`, `production`, `staging`"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert!(!repo.join(".strata").exists());
}

/// Two checkouts (two roots, standing for two machines) deploying one environment against one
/// PostgreSQL state backend: the lock, the records and the history are shared.
#[test]
fn two_checkouts_share_the_lock_the_records_and_the_history_on_postgres() {
    let Some(pg) = strata_testkit::Postgres::start() else {
        return;
    };
    let a = Setup::new();
    let b = Setup::new();
    let url = pg.conn_str();
    let backend = "{\n  \"schemaVersion\": 1,\n  \"backend\": \"postgres\"\n}\n";
    for s in [&a, &b] {
        write(s.repo.path(), "config/state-backend.json", backend);
    }
    // The same tools at the same paths, as on two runners built from one image: B runs A's.
    let on = |root: &std::path::Path, args: &[&str], extra: &[(&str, &str)]| {
        let env = a.env();
        let mut all: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        all.push(("STRATA_STATE_DATABASE_URL", &url));
        all.extend(extra);
        xtask_env(root, args, &all)
    };
    let deploy = ["deploy", "--env", "development"];

    // A deploys and is stuck in `platform`; B is refused at once, told who holds the lock.
    let marks = TempDir::new("slow");
    let slow = marks.join("helm.log");
    #[expect(clippy::disallowed_methods, reason = "a deploy to kill mid-phase")]
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    let mut first = first
        .args(["deploy", "--env", "development", "--root"])
        .arg(a.repo.path())
        .env("NO_COLOR", "1")
        .env("SLOW", &slow)
        .env("STRATA_STATE_DATABASE_URL", &url)
        .envs(crate::support::PROXMOX_SSH)
        .envs(a.env())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(marks.join("a.err")).unwrap())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&slow).is_ok_and(|t| t.contains("started")) {
        assert!(
            start.elapsed().as_secs() < 60,
            "A never reached helm: {}",
            read(marks.path(), "a.err")
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let refused_at = std::time::Instant::now();
    let refused = on(b.repo.path(), &deploy, &[]);
    assert_eq!(refused.code, 3, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused_at.elapsed().as_secs() < 10,
        "refused at once, not after waiting"
    );
    assert!(
        refused
            .stderr
            .contains(&format!("is locked by pid {} on ", first.id())),
        "{}",
        refused.stderr
    );
    let status = on(b.repo.path(), &["status", "--env", "development"], &[]);
    assert!(
        status.stderr.contains("locked by pid "),
        "{}",
        status.stderr
    );
    assert!(
        status.stdout.contains("kubespray   succeeded"),
        "B sees what A recorded: {}",
        status.stdout
    );

    // A dies without a word; its session, and with it the lock, goes with the process.
    first.kill().unwrap();
    first.wait().unwrap();
    let run = on(b.repo.path(), &deploy, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("ended without releasing the lock"),
        "{}",
        run.stderr
    );
    for phase in [
        "validate",
        "provision",
        "images",
        "templates",
        "nodes",
        "kubespray",
    ] {
        assert_eq!(
            status_of(&run, phase),
            "up to date",
            "{phase}: {}",
            run.stdout
        );
    }
    // B has no bundle of its own yet; A's killed phase and the one after run here.
    assert_eq!(status_of(&run, "generate"), "succeeded");
    assert_eq!(status_of(&run, "platform"), "succeeded");
    assert_eq!(status_of(&run, "business"), "succeeded");

    // Back on A, everything is up to date, and either checkout lists both runs.
    let again = on(a.repo.path(), &deploy, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(status_of(&again, "platform"), "up to date");
    let runs = on(
        a.repo.path(),
        &["runs", "--env", "development", "--output", "json"],
        &[],
    );
    assert_eq!(runs.code, 0, "{}", runs.stderr);
    let listed: RunsOutput = document(&runs);
    assert_eq!(listed.backend, strata_metadata::StateBackendKind::Postgres);
    let results: Vec<RunResult> = listed.runs.iter().map(|r| r.result).collect();
    assert_eq!(
        results,
        [RunResult::Succeeded, RunResult::Succeeded],
        "{}",
        runs.stdout
    );

    // The connection string is in no file Strata wrote.
    for s in [&a, &b] {
        for (path, bytes) in strata_testkit::read_tree(s.repo.path()) {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(&url),
                "{path} holds the connection string"
            );
        }
    }
}

/// A deploy whose database session ends while a phase runs: that phase is not recorded as
/// succeeded (its record cannot be written), the run fails, and the next deploy runs it again.
#[test]
fn a_deploy_that_loses_its_state_database_fails_and_the_phase_runs_again() {
    let Some(pg) = strata_testkit::Postgres::start() else {
        return;
    };
    let s = Setup::new();
    let url = pg.conn_str();
    write(
        s.repo.path(),
        "config/state-backend.json",
        "{\n  \"schemaVersion\": 1,\n  \"backend\": \"postgres\"\n}\n",
    );
    let db = [("STRATA_STATE_DATABASE_URL", url.as_str())];
    let to_kubespray = s.run(
        &["deploy", "--env", "development", "--to", "kubespray"],
        &db,
    );
    assert_eq!(to_kubespray.code, 0, "{}", to_kubespray.stderr);

    let marks = TempDir::new("slow");
    let slow = marks.join("helm.log");
    #[expect(
        clippy::disallowed_methods,
        reason = "a deploy whose database goes away"
    )]
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    let first = first
        .args(["deploy", "--env", "development", "--root"])
        .arg(s.repo.path())
        .env("NO_COLOR", "1")
        .env("SLOW", &slow)
        .env("STRATA_STATE_DATABASE_URL", &url)
        .envs(crate::support::PROXMOX_SSH)
        .envs(s.env())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&slow).is_ok_and(|t| t.contains("started")) {
        assert!(
            start.elapsed().as_secs() < 60,
            "the deploy never reached helm"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The server ends every other session: the deploy's lock goes with it.
    pg.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'",
    );
    let out = first.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("platform    failed"), "{stdout}");
    assert!(stderr.contains("could not be recorded"), "{stderr}");
    assert!(!stderr.contains(&url), "{stderr}");

    let again = s.run(&["deploy", "--env", "development"], &db);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(status_of(&again, "kubespray"), "up to date");
    assert_eq!(
        status_of(&again, "platform"),
        "succeeded",
        "{}",
        again.stdout
    );
}
