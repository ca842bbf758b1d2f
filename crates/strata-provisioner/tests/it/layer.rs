//! `build`, `list` and `publish`.

use std::path::{Path, PathBuf};

use strata_bundle::{Bundle, GenerateOptions, generate};
use strata_config::Layout;
use strata_exec::Context;
use strata_metadata::{EnvironmentId, ErrorKind, ImageStatus, PackageId, PhaseDetail};
use strata_provisioner::{
    BuildRequest, Event, ListRequest, ListState, Outcome, ProvisionError, ProvisionTools,
    PublishRequest, build, list, publish,
};
use strata_testkit::{TempDir, read, write};

const PROVISIONER: &str = "config/packages/core/environments/development.provisioner.json";

/// The first bytes of a qcow2 image of `virtual_size` bytes: all the header Strata reads.
fn qcow2(virtual_size: u64) -> Vec<u8> {
    let mut h = b"QFI\xfb".to_vec();
    h.extend(3u32.to_be_bytes());
    h.extend([0u8; 16]);
    h.extend(virtual_size.to_be_bytes());
    h.extend(b"stand-in image content\n");
    h
}

struct Setup {
    repo: TempDir,
    bin: TempDir,
    layout: Layout,
}

impl Setup {
    /// The sample, its development roles built from a 64 MiB qcow2 base into 1G disks;
    /// `convert_fails_for` makes qemu-img's convert fail for that role's image.
    fn new(convert_fails_for: &str, publish: Option<&Path>) -> Self {
        let repo = strata_testkit::sample_repo();
        let root = repo.path();
        let base = qcow2(64 << 20);
        write(root, "images/base.qcow2", &base);
        let (sha, _) = strata_provisioner::sha256_file(&root.join("images/base.qcow2")).unwrap();
        let mut config: serde_json::Value = serde_json::from_str(&read(root, PROVISIONER)).unwrap();
        for role in config["roles"].as_object_mut().unwrap().values_mut() {
            role["baseImage"] = serde_json::json!({"path": "images/base.qcow2", "sha256": sha});
            role["diskSize"] = "1G".into();
        }
        match publish {
            Some(dir) => {
                config["publish"] = serde_json::json!({"uri": format!("file://{}", dir.display())})
            }
            None => {
                config.as_object_mut().unwrap().remove("publish");
            }
        }
        write(
            root,
            PROVISIONER,
            serde_json::to_string_pretty(&config).unwrap(),
        );
        let layout = Layout::new(root);
        // The package changed without a version bump: generate without the lock's rule.
        generate(
            &layout,
            &EnvironmentId::new("development").unwrap(),
            &PackageId::new("core").unwrap(),
            &GenerateOptions {
                skip_validate: true,
                generated_at: Some(1_795_599_715),
            },
        )
        .expect("the bundle generates");
        let bin = TempDir::new("provision-layer-bin");
        strata_testkit::script(
            bin.path(),
            "qemu-img",
            &format!(
                r#"case "$1" in
  --version) echo 'qemu-img version 10.0.2 (stand-in)' ;;
  convert)
    case "$7" in *'{convert_fails_for}'*) echo "qemu-img: Could not open '$6': Permission denied" >&2; exit 1 ;; esac
    cp "$6" "$7" ;;
esac
"#
            ),
        );
        strata_testkit::script(bin.path(), "cloud-localds", "cat \"$2\" \"$3\" > \"$1\"\n");
        Self { repo, bin, layout }
    }

    fn bundle(&self) -> Bundle {
        Bundle::open(&self.layout.bundle_dir("development")).unwrap()
    }

    fn tools(&self) -> ProvisionTools {
        ProvisionTools {
            qemu_img: Some(self.bin.join("qemu-img")),
            cloud_localds: Some(self.bin.join("cloud-localds")),
            ..ProvisionTools::default()
        }
    }

    fn logs(&self) -> PathBuf {
        self.repo.join(".strata/development/runs/test")
    }

    fn request(&self) -> BuildRequest {
        BuildRequest {
            jobs: 2,
            tools: self.tools(),
            ..BuildRequest::default()
        }
    }
}

fn statuses(detail: PhaseDetail) -> Vec<(String, ImageStatus)> {
    let PhaseDetail::Images { images } = detail else {
        panic!("not images: {detail:?}");
    };
    images.into_iter().map(|i| (i.role, i.status)).collect()
}

#[test]
fn build_reports_each_role_and_a_second_build_is_up_to_date() {
    let s = Setup::new("no-such-role", None);
    let logs = s.logs();
    let ctx = Context {
        logs: Some(&logs),
        ..Context::default()
    };
    // Before any build, the dry run's answer: every role would be built.
    let listed = list(
        &s.layout,
        &s.bundle(),
        &ListRequest { tools: s.tools() },
        &ctx,
    )
    .unwrap();
    assert!(listed.roles.iter().all(|r| r.state == ListState::Missing));
    assert_eq!(
        statuses(listed.detail()),
        [
            ("k8s-control-plane".to_owned(), ImageStatus::WouldBuild),
            ("k8s-worker".to_owned(), ImageStatus::WouldBuild)
        ]
    );

    let mut events = Vec::new();
    let outcome = build(&s.layout, &s.bundle(), &s.request(), &ctx, &mut |e| {
        events.push(match e {
            Event::Started { role } => format!("{role} started"),
            Event::Step { role, message } => format!("{role}: {message}"),
            Event::Download { role, .. } => format!("{role} downloading"),
        });
    })
    .unwrap();
    assert!(!outcome.failed(), "{:?}", outcome.results);
    assert_eq!(outcome.error_kind(), None);
    for role in ["k8s-control-plane", "k8s-worker"] {
        assert!(events.contains(&format!("{role} started")), "{events:?}");
        assert!(
            events.contains(&format!("{role}: writing the NoCloud seed (cidata)")),
            "{events:?}"
        );
    }
    let PhaseDetail::Images { images } = outcome.detail() else {
        unreachable!()
    };
    let Ok(Outcome::Built(record)) = &outcome.results[1].outcome else {
        panic!("{:?}", outcome.results[1]);
    };
    assert_eq!(images[1].status, ImageStatus::Built);
    assert_eq!(images[1].image.as_deref(), Some(record.path.as_str()));
    assert_eq!(images[1].sha256, Some(format!("sha256:{}", record.sha256)));
    assert_eq!(
        record.path,
        "provisioner/outputs/development/k8s-worker.img"
    );
    assert!(outcome.log("k8s-worker").is_some(), "the build logged");

    let again = build(&s.layout, &s.bundle(), &s.request(), &ctx, &mut |_| {}).unwrap();
    assert_eq!(
        statuses(again.detail()),
        [
            ("k8s-control-plane".to_owned(), ImageStatus::UpToDate),
            ("k8s-worker".to_owned(), ImageStatus::UpToDate)
        ]
    );
    let listed = list(
        &s.layout,
        &s.bundle(),
        &ListRequest { tools: s.tools() },
        &ctx,
    )
    .unwrap();
    assert!(listed.roles.iter().all(|r| r.state == ListState::Present));
}

#[test]
fn a_failing_builder_fails_its_role_only_with_its_output_and_log() {
    let s = Setup::new("k8s-worker", None);
    let logs = s.logs();
    let ctx = Context {
        logs: Some(&logs),
        ..Context::default()
    };
    let outcome = build(&s.layout, &s.bundle(), &s.request(), &ctx, &mut |_| {}).unwrap();
    assert!(outcome.failed());
    assert_eq!(outcome.error_kind(), Some(ErrorKind::Failed));
    assert_eq!(
        statuses(outcome.detail()),
        [
            ("k8s-control-plane".to_owned(), ImageStatus::Built),
            ("k8s-worker".to_owned(), ImageStatus::Failed)
        ]
    );
    let err = outcome.results[1].outcome.as_ref().unwrap_err();
    assert!(matches!(err, ProvisionError::Tool { .. }), "{err:?}");
    let strata_exec::ExecError::Failed { stderr_tail, .. } = err.failed_command().unwrap() else {
        panic!("{err:?}");
    };
    assert!(
        stderr_tail[0].contains("Permission denied"),
        "{stderr_tail:?}"
    );
    let log = outcome.log("k8s-worker").expect("the failed build logged");
    assert_eq!(
        err.hint(Some(&log)),
        Some(format!("the full output is in {}", log.display()))
    );
    assert!(
        !s.repo
            .join("provisioner/outputs/development/k8s-worker.img")
            .exists(),
        "nothing half-built is left"
    );
}

#[test]
fn an_unknown_role_is_bad_input_naming_the_roles() {
    let s = Setup::new("no-such-role", None);
    let request = BuildRequest {
        roles: Some(vec!["k8s-gpu".to_owned()]),
        ..s.request()
    };
    let err = build(
        &s.layout,
        &s.bundle(),
        &request,
        &Context::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(
        err.hint(None).as_deref(),
        Some("the roles of `development` are: k8s-control-plane, k8s-worker")
    );
}

#[test]
fn publish_copies_to_the_target_and_records_where_the_image_went() {
    let target = TempDir::new("provision-target");
    let s = Setup::new("no-such-role", Some(target.path()));
    let ctx = Context::default();
    let request = PublishRequest {
        role: "k8s-worker".to_owned(),
        tools: s.tools(),
        ..PublishRequest::default()
    };
    // Not built yet: bad input, with the command that builds it.
    let err = publish(&s.layout, &s.bundle(), &request, &ctx, &mut |_| {}).unwrap_err();
    assert!(matches!(err, ProvisionError::NotBuilt { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Invalid);

    build(&s.layout, &s.bundle(), &s.request(), &ctx, &mut |_| {}).unwrap();
    let mut notes = Vec::new();
    let outcome = publish(&s.layout, &s.bundle(), &request, &ctx, &mut |n| {
        notes.push(n.message.clone());
    })
    .unwrap();
    let uri = format!("file://{}", target.path().display());
    assert_eq!(
        notes,
        [format!("publishing k8s-worker of development to {uri}")]
    );
    assert_eq!(outcome.record.remote, Some(format!("{uri}/k8s-worker.img")));
    assert_eq!(
        std::fs::read(target.join("k8s-worker.img")).unwrap(),
        std::fs::read(
            s.repo
                .join("provisioner/outputs/development/k8s-worker.img")
        )
        .unwrap()
    );

    let none = Setup::new("no-such-role", None);
    let err = publish(&none.layout, &none.bundle(), &request, &ctx, &mut |_| {}).unwrap_err();
    assert!(
        matches!(err, ProvisionError::NoPublishTarget { .. }),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Invalid);
}
