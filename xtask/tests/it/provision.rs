//! `cargo xtask provision`: role images built with stand-in qemu-img and cloud-localds, their
//! records, the up-to-date skip, atomic replacement, list, publish to a directory, bad input.

use std::path::Path;

use strata_testkit::TempDir;

use strata_metadata::output::{
    BuildOutput, BuildResult, Failure, ImageState, ListOutput, PublishOutput,
};

use crate::support::{Run, bump_package, document, read, write, xtask, xtask_env};

const PROVISIONER: &str = "config/packages/core/environments/development.provisioner.json";
const WORKER_IMG: &str = "provisioner/outputs/development/k8s-worker.img";
const WORKER_RECORD: &str = "api/outputs/development/provisioner/k8s-worker.json";
const CP_RECORD: &str = "api/outputs/development/provisioner/k8s-control-plane.json";

/// The first 32 bytes of a qcow2 image of `virtual_size` bytes: all the header Strata reads.
fn qcow2_header(virtual_size: u64) -> Vec<u8> {
    let mut h = b"QFI\xfb".to_vec();
    h.extend(3u32.to_be_bytes());
    h.extend([0u8; 16]);
    h.extend(virtual_size.to_be_bytes());
    h.extend(b"stand-in image content\n");
    h
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A repository whose development roles build from `images/base.qcow2` (64 MiB virtual), with
/// stand-in qemu-img and cloud-localds that record their calls.
struct Setup {
    repo: TempDir,
    bin: TempDir,
}

impl Setup {
    fn new() -> Self {
        let repo = strata_testkit::sample_repo();
        let base = qcow2_header(64 << 20);
        write(repo.path(), "images/base.qcow2", &base);
        let sha = sha256_hex(&base);
        edit_config(repo.path(), |c| {
            for role in c["roles"].as_object_mut().unwrap().values_mut() {
                role["baseImage"] = serde_json::json!({"path": "images/base.qcow2", "sha256": sha});
                role["diskSize"] = "1G".into();
            }
        });
        let bin = TempDir::new("provision-bin");
        let s = Self { repo, bin };
        s.qemu_img("");
        s.stand_in("cloud-localds", "cat \"$2\" \"$3\" > \"$1\"\n");
        s
    }

    /// A stand-in that records its arguments (the build folder's pid made stable) in
    /// `<name>.calls`, then runs `body`.
    fn stand_in(&self, name: &str, body: &str) {
        let calls = self.bin.join(format!("{name}.calls"));
        strata_testkit::script(
            self.bin.path(),
            name,
            &format!(
                "printf '%s\\n' \"$*\" | sed -e 's/build-[0-9]*/build-PID/g' >> '{}'\n{body}",
                calls.display()
            ),
        );
    }

    /// qemu-img: `convert` copies, `resize` does nothing; `extra` runs first.
    fn qemu_img(&self, extra: &str) {
        self.stand_in(
            "qemu-img",
            &format!(
                "{extra}case \"$1\" in\n  --version) echo 'qemu-img version 10.0.2 (stand-in)' ;;\n  convert) cp \"$6\" \"$7\" ;;\nesac\n"
            ),
        );
    }

    fn calls(&self, name: &str) -> String {
        std::fs::read_to_string(self.bin.join(format!("{name}.calls")))
            .unwrap_or_default()
            .replace(&self.repo.path().display().to_string(), "[ROOT]")
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let qemu = self.bin.join("qemu-img").display().to_string();
        let localds = self.bin.join("cloud-localds").display().to_string();
        let mut env = vec![
            ("STRATA_QEMU_IMG", qemu.as_str()),
            ("STRATA_CLOUD_LOCALDS", localds.as_str()),
        ];
        env.extend(extra);
        xtask_env(self.repo.path(), args, &env)
    }
}

/// Edits the development provisioner config, bumps the package, locks and regenerates.
fn edit_config(root: &Path, change: impl FnOnce(&mut serde_json::Value)) {
    let mut config: serde_json::Value = serde_json::from_str(&read(root, PROVISIONER)).unwrap();
    change(&mut config);
    write(
        root,
        PROVISIONER,
        serde_json::to_string_pretty(&config).unwrap(),
    );
    bump_and_generate(root, &[]);
}

fn bump_and_generate(root: &Path, generate_flags: &[&str]) {
    bump_package(root, !generate_flags.contains(&"--skip-validate"));
    let mut args = vec!["generate", "env", "--id", "development", "--config", "core"];
    args.extend(generate_flags);
    let generate = xtask(root, &args);
    assert_eq!(generate.code, 0, "{}", generate.stderr);
}

#[test]
fn build_records_every_role_and_skips_what_is_up_to_date() {
    let s = Setup::new();
    let root = s.repo.path();
    let run = s.run(&["provision", "build", "--env", "development", "--all"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("[k8s-worker       ] converting the base image")
            && run
                .stderr
                .contains("[k8s-control-plane] writing the NoCloud seed (cidata)"),
        "a progress line per role and step: {}",
        run.stderr
    );
    assert!(
        run.stdout.contains("provision build: 2 roles ready"),
        "{}",
        run.stdout
    );
    // Roles build in parallel: the calls are compared in sorted order.
    let sorted = |calls: String| {
        let mut lines: Vec<&str> = calls.lines().collect();
        lines.sort_unstable();
        lines.join("\n")
    };
    insta::assert_snapshot!("provision_build_qemu_img", sorted(s.calls("qemu-img")));
    insta::assert_snapshot!(
        "provision_build_cloud_localds",
        sorted(s.calls("cloud-localds"))
    );

    // The record: every field, readable as the schema's type, vouching for the image.
    let record: strata_metadata::ArtifactRecord =
        serde_json::from_str(&read(root, WORKER_RECORD)).unwrap();
    let image = std::fs::read(root.join(WORKER_IMG)).unwrap();
    assert_eq!(record.sha256, sha256_hex(&image));
    assert_eq!(record.file_size, image.len() as u64);
    assert_eq!(record.virtual_size, 64 << 20, "read from the qcow2 header");
    assert_eq!(record.path, WORKER_IMG);
    assert_eq!(record.builder.version.as_deref(), Some("10.0.2"));
    assert!(record.remote.is_none());
    let seed = record.seed.as_ref().expect("a seed was written");
    assert_eq!(
        seed.path,
        "provisioner/outputs/development/k8s-worker-seed.iso"
    );
    let seed_bytes = read(root, &seed.path);
    assert!(
        seed_bytes.starts_with("#cloud-config\nhostname: dev-worker-1\n"),
        "{seed_bytes}"
    );
    let schema: serde_json::Value = serde_json::from_str(&read(
        &strata_testkit::workspace_root(),
        "api/schemas/provisioner-artifact.schema.json",
    ))
    .unwrap();
    let written: serde_json::Value = serde_json::from_str(&read(root, WORKER_RECORD)).unwrap();
    for key in schema["required"].as_array().unwrap() {
        assert!(
            written.get(key.as_str().unwrap()).is_some(),
            "{key} is written"
        );
    }
    for key in written.as_object().unwrap().keys() {
        assert!(
            schema["properties"].get(key).is_some(),
            "{key} is in the schema"
        );
    }

    // Unchanged inputs, intact image: nothing is built again.
    let converts = |s: &Setup| s.calls("qemu-img").matches("convert").count();
    let again = s.run(&["provision", "build", "--env", "development", "--all"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        again.stdout.matches("up to date").count(),
        2,
        "{}",
        again.stdout
    );
    assert_eq!(converts(&s), 2);
    assert_eq!(
        read(root, WORKER_RECORD),
        serde_json::to_string_pretty(&record).unwrap() + "\n"
    );
    let json = s.run(&[
        "provision",
        "build",
        "--env",
        "development",
        "--all",
        "--output",
        "json",
    ]);
    let doc: BuildOutput = document(&json);
    assert!(doc.ok);
    assert!(
        doc.roles.iter().all(|r| r.result == BuildResult::UpToDate),
        "{doc:#?}"
    );
    let worker = doc.roles.iter().find(|r| r.role == "k8s-worker").unwrap();
    assert_eq!(worker.record.as_ref(), Some(&record));

    // --force rebuilds; a changed input rebuilds only that role.
    let forced = s.run(&[
        "provision",
        "build",
        "--env",
        "development",
        "--role",
        "k8s-worker",
        "--force",
    ]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_eq!(converts(&s), 3);
    edit_config(root, |c| c["roles"]["k8s-worker"]["diskSize"] = "2G".into());
    let changed = s.run(&[
        "provision",
        "build",
        "--env",
        "development",
        "--all",
        "--jobs",
        "1",
    ]);
    assert_eq!(changed.code, 0, "{}", changed.stderr);
    assert_eq!(converts(&s), 4);
    assert!(
        changed.stdout.contains("k8s-control-plane  up to date")
            && changed.stdout.contains("k8s-worker         built"),
        "{}",
        changed.stdout
    );
    assert!(s.calls("qemu-img").contains("resize -f qcow2 [ROOT]/provisioner/outputs/development/.k8s-worker.build-PID/image 2147483648"));
}

#[test]
fn roles_build_at_the_same_time_up_to_jobs() {
    let s = Setup::new();
    // Each convert waits until both roles' converts have started: only a parallel run passes.
    let marks = TempDir::new("marks");
    s.qemu_img(&format!(
        "if [ \"$1\" = convert ]; then touch '{m}'/\"$(basename \"$(dirname \"$7\")\")\"; i=0; while [ \"$(ls -A '{m}' | wc -l)\" -lt 2 ]; do i=$((i+1)); [ $i -gt 100 ] && exit 9; sleep 0.05; done; fi\n",
        m = marks.path().display()
    ));
    let run = s.run(&[
        "provision",
        "build",
        "--env",
        "development",
        "--all",
        "--jobs",
        "2",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_failed_build_leaves_the_previous_image_and_record_untouched() {
    let s = Setup::new();
    let root = s.repo.path();
    assert_eq!(
        s.run(&["provision", "build", "--env", "development", "--all"])
            .code,
        0
    );
    let image = std::fs::read(root.join(WORKER_IMG)).unwrap();
    let record = read(root, WORKER_RECORD);
    s.qemu_img(
        "if [ \"$1\" = resize ]; then echo 'qemu-img: Could not resize image: No space left on device' >&2; exit 1; fi\n",
    );
    let run = s.run(&[
        "provision",
        "build",
        "--env",
        "development",
        "--role",
        "k8s-worker",
        "--force",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("  | qemu-img: Could not resize image: No space left on device")
            && run
                .stderr
                .contains("error: role `k8s-worker`: growing the disk to 1G failed: `")
            && run.stderr.contains("resize -f qcow2")
            && run
                .stderr
                .contains("hint: the full output is in .strata/development/runs/"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(root.join(WORKER_IMG)).unwrap(), image);
    assert_eq!(read(root, WORKER_RECORD), record);
    let leftovers: Vec<_> = std::fs::read_dir(root.join("provisioner/outputs/development"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".build-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "the temporary build folder is gone: {leftovers:?}"
    );
}

#[test]
fn bad_input_is_named_and_nothing_is_written() {
    let s = Setup::new();
    let root = s.repo.path();
    let build = |args: &[&str]| {
        let mut all = vec!["provision", "build", "--env", "development"];
        all.extend(args);
        s.run(&all)
    };

    let unknown = build(&["--role", "k8s-gpu"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown
            .stderr
            .contains("error: role `k8s-gpu` is not in the provisioner config of `development`")
            && unknown
                .stderr
                .contains("hint: the roles of `development` are: k8s-control-plane, k8s-worker"),
        "{}",
        unknown.stderr
    );

    // The base image is not the one the config pins.
    let pinned = sha256_hex(&qcow2_header(64 << 20));
    write(root, "images/base.qcow2", qcow2_header(65 << 20));
    let checksum = build(&["--role", "k8s-worker"]);
    assert_eq!(checksum.code, 2, "{}", checksum.stderr);
    assert!(
        checksum.stderr.contains(&format!(
            "has the wrong checksum: expected sha256 {pinned}, found {}",
            sha256_hex(&qcow2_header(65 << 20))
        )),
        "{}",
        checksum.stderr
    );

    // A disk smaller than the base image.
    let big = qcow2_header(100 << 30);
    write(root, "images/base.qcow2", &big);
    let sha = sha256_hex(&big);
    edit_config(root, |c| {
        c["roles"]["k8s-worker"]["baseImage"]["sha256"] = sha.clone().into();
    });
    let small = build(&["--role", "k8s-worker"]);
    assert_eq!(small.code, 2, "{}", small.stderr);
    assert!(
        small.stderr.contains("disk size 1G (1073741824 bytes) is smaller than the base image's virtual size (107374182400 bytes)"),
        "{}",
        small.stderr
    );

    // A base image given by URL that is not in the cache is downloaded; here curl (a stand-in
    // that fails as curl does without a network) cannot resolve the host.
    let cache = TempDir::new("cache");
    edit_config(root, |c| {
        c["roles"]["k8s-worker"]["baseImage"] = serde_json::json!({
            "url": "https://cloud-images.example/noble/noble-server-cloudimg-amd64.img",
            "sha256": pinned,
        });
    });
    let cache_s = cache.path().display().to_string();
    let curl = strata_testkit::stand_in(
        s.bin.path(),
        "curl",
        "",
        "curl: (6) Could not resolve host: cloud-images.example\n",
        6,
    );
    let curl_s = curl.display().to_string();
    let offline = s.run_env(
        &[
            "provision",
            "build",
            "--env",
            "development",
            "--role",
            "k8s-worker",
        ],
        &[
            ("STRATA_IMAGE_CACHE", cache_s.as_str()),
            ("STRATA_CURL", curl_s.as_str()),
        ],
    );
    assert_eq!(offline.code, 1, "{}", offline.stderr);
    assert!(
        offline.stderr.contains(
            "error: could not reach `https://cloud-images.example/noble/noble-server-cloudimg-amd64.img` to download the base image of role `k8s-worker`"
        ) && offline
            .stderr
            .contains("  | curl: (6) Could not resolve host: cloud-images.example")
            && offline.stderr.contains("https_proxy"),
        "{}",
        offline.stderr
    );
    assert!(
        !cache
            .join(format!("{pinned}/noble-server-cloudimg-amd64.img"))
            .exists()
    );

    // packer without its template folder; a team command that fails.
    edit_config(root, |c| {
        c["roles"]["k8s-worker"] = serde_json::json!({
            "builder": "packer", "diskSize": "1G", "packer": {"templateDir": "provisioner/roles/k8s-worker/packer"}
        });
        c["roles"]["k8s-control-plane"] = serde_json::json!({
            "builder": "command", "diskSize": "1G",
            "command": {"program": "provisioner/roles/k8s-control-plane/build.sh", "args": ["--fast"]}
        });
    });
    write(
        root,
        "provisioner/roles/k8s-control-plane/build.sh",
        "#!/bin/sh\necho \"building $STRATA_ROLE for $STRATA_ENVIRONMENT ($*)\"\necho 'apt: unable to fetch' >&2\nexit 3\n",
    );
    std::fs::set_permissions(
        root.join("provisioner/roles/k8s-control-plane/build.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let packer = strata_testkit::stand_in(s.bin.path(), "packer", "Packer v1.6.6\n", "", 0);
    let packer_s = packer.display().to_string();
    let both = s.run_env(
        &["provision", "build", "--env", "development", "--all"],
        &[("STRATA_PACKER", packer_s.as_str())],
    );
    assert_eq!(
        both.code, 1,
        "a failing command is a failure, not bad input: {}",
        both.stderr
    );
    assert!(
        both.stderr.contains("packer template directory `")
            && both
                .stderr
                .contains("provisioner/roles/k8s-worker/packer` does not exist"),
        "{}",
        both.stderr
    );
    assert!(
        both.stderr
            .contains("  | building k8s-control-plane for development (--fast)")
            && both.stderr.contains("  | apt: unable to fetch")
            && both
                .stderr
                .contains("error: role `k8s-control-plane`: the build command failed: `")
            && both.stderr.contains("exited with status 3"),
        "{}",
        both.stderr
    );
    assert!(!root.join(CP_RECORD).exists() && !root.join(WORKER_RECORD).exists());
    let json = s.run_env(
        &[
            "provision",
            "build",
            "--env",
            "development",
            "--all",
            "--output",
            "json",
        ],
        &[("STRATA_PACKER", packer_s.as_str())],
    );
    assert_eq!(json.code, 1);
    let doc: BuildOutput = document(&json);
    assert!(!doc.ok);
    assert!(
        doc.roles
            .iter()
            .all(|r| r.result == BuildResult::Failed && r.record.is_none() && r.error.is_some()),
        "{doc:#?}"
    );
}

#[test]
fn a_private_key_or_an_unknown_builder_in_the_bundle_is_refused() {
    let s = Setup::new();
    let root = s.repo.path();
    let secret = "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\\n-----END OPENSSH PRIVATE KEY-----";
    let config = read(root, PROVISIONER);
    let first_key = config.find("\"ssh-ed25519 ").unwrap();
    let end = first_key + config[first_key + 1..].find('"').unwrap() + 2;
    write(
        root,
        PROVISIONER,
        format!("{}\"{secret}\"{}", &config[..first_key], &config[end..]),
    );
    bump_and_generate(root, &["--skip-validate"]);
    let run = s.run(&["provision", "build", "--env", "development", "--all"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("authorized key 1 of user `ubuntu` is not an SSH public key (it is a PRIVATE key; it was not copied anywhere)"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("b3BlbnNzaC1rZXktdjEAAAAABG5vbmU"),
        "never shown"
    );
    assert!(
        !root
            .join("provisioner/outputs/development/k8s-control-plane-seed.iso")
            .exists()
    );

    let config = read(root, PROVISIONER).replacen(
        "\"builder\": \"qemu-img\"",
        "\"builder\": \"virt-builder\"",
        1,
    );
    write(root, PROVISIONER, config);
    bump_and_generate(root, &["--skip-validate"]);
    let run = s.run(&["provision", "build", "--env", "development", "--all"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cannot read the bundle's provisioner config `")
            && run.stderr.contains("unknown variant `virt-builder`"),
        "{}",
        run.stderr
    );
}

#[test]
fn list_shows_missing_present_modified_and_stale_images() {
    let s = Setup::new();
    let root = s.repo.path();
    // A role's row, as its whitespace-separated columns: role, state, size, sha256, remote.
    let row = |s: &Setup, role: &str| -> Vec<String> {
        let run = s.run(&["provision", "list", "--env", "development"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let line = run
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(role))
            .unwrap_or_else(|| panic!("no row for {role}: {}", run.stdout))
            .to_owned();
        line.split_whitespace().map(str::to_owned).collect()
    };
    assert_eq!(
        row(&s, "k8s-worker"),
        ["k8s-worker", "missing", "-", "-", "-"]
    );
    assert_eq!(
        s.run(&["provision", "build", "--env", "development", "--all"])
            .code,
        0
    );
    let built = row(&s, "k8s-worker");
    let sha =
        serde_json::from_str::<serde_json::Value>(&read(root, WORKER_RECORD)).unwrap()["sha256"]
            .as_str()
            .unwrap()[..12]
            .to_owned();
    assert_eq!(built, ["k8s-worker", "present", "55", "B", &sha, "-"]);
    let listed: ListOutput = document(&s.run(&[
        "provision",
        "list",
        "--env",
        "development",
        "--output",
        "json",
    ]));
    let worker = listed
        .roles
        .iter()
        .find(|r| r.role == "k8s-worker")
        .unwrap();
    assert_eq!(worker.state, ImageState::Present);
    assert!(worker.record.as_ref().unwrap().sha256.starts_with(&sha));

    let mut image = std::fs::read(root.join(WORKER_IMG)).unwrap();
    image.extend(b"tampered");
    std::fs::write(root.join(WORKER_IMG), image).unwrap();
    assert_eq!(row(&s, "k8s-worker")[1], "modified");

    edit_config(root, |c| {
        c["roles"]["k8s-control-plane"]["diskSize"] = "3G".into()
    });
    assert_eq!(row(&s, "k8s-control-plane")[1], "stale");
    assert_eq!(row(&s, "k8s-worker")[1], "modified");
}

#[test]
fn publish_copies_to_a_directory_and_records_the_uri() {
    let s = Setup::new();
    let root = s.repo.path();
    let target = TempDir::new("published");
    let uri = format!("file://{}/development", target.path().display());

    edit_config(root, |c| {
        c.as_object_mut().unwrap().remove("publish");
    });
    let none = s.run(&[
        "provision",
        "publish",
        "--env",
        "development",
        "--role",
        "k8s-worker",
    ]);
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(
        none.stderr.contains("has no `publish` target"),
        "{}",
        none.stderr
    );

    edit_config(root, |c| c["publish"] = serde_json::json!({"uri": uri}));
    let unbuilt = s.run(&[
        "provision",
        "publish",
        "--env",
        "development",
        "--role",
        "k8s-worker",
    ]);
    assert_eq!(unbuilt.code, 2, "{}", unbuilt.stderr);
    let failure: Failure = document(&s.run(&[
        "provision",
        "publish",
        "--env",
        "development",
        "--role",
        "k8s-worker",
        "--output",
        "json",
    ]));
    assert!(failure.hint.unwrap().starts_with("build it first"));
    assert!(
        unbuilt.stderr.contains("hint: build it first: `cargo xtask provision build --env development --role k8s-worker`"),
        "{}",
        unbuilt.stderr
    );

    assert_eq!(
        s.run(&["provision", "build", "--env", "development", "--all"])
            .code,
        0
    );
    let run = s.run(&[
        "provision",
        "publish",
        "--env",
        "development",
        "--role",
        "k8s-worker",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let published = format!("{uri}/k8s-worker.img");
    assert!(
        run.stdout
            .contains(&format!("provision publish: k8s-worker -> {published}")),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read(target.join("development/k8s-worker.img")).unwrap(),
        std::fs::read(root.join(WORKER_IMG)).unwrap()
    );
    assert!(target.join("development/k8s-worker-seed.iso").is_file());
    let record: serde_json::Value = serde_json::from_str(&read(root, WORKER_RECORD)).unwrap();
    assert_eq!(record["remote"], published);
    let json = s.run(&[
        "provision",
        "publish",
        "--env",
        "development",
        "--role",
        "k8s-worker",
        "--output",
        "json",
    ]);
    let doc: PublishOutput = document(&json);
    assert_eq!(doc.record.remote.as_deref(), Some(published.as_str()));
    let listed = s.run(&["provision", "list", "--env", "development"]);
    assert!(listed.stdout.contains(&published), "{}", listed.stdout);

    // An image changed after its build is never published.
    std::fs::write(root.join(WORKER_IMG), b"not the built image").unwrap();
    let modified = s.run(&[
        "provision",
        "publish",
        "--env",
        "development",
        "--role",
        "k8s-worker",
    ]);
    assert_eq!(modified.code, 2, "{}", modified.stderr);
    assert!(
        modified.stderr.contains("no longer matches its record"),
        "{}",
        modified.stderr
    );
}

#[test]
fn the_images_phase_downloads_the_published_template_image() {
    let s = Setup::new();
    let root = s.repo.path();
    edit_config(root, |c| {
        c["publish"] = serde_json::json!({
            "uri": "https://images.example.internal/development/",
            "templateRole": "k8s-worker"
        });
    });
    let images = [
        "infra",
        "--env",
        "development",
        "--phase",
        "images",
        "--dry-run",
    ];
    let unbuilt = s.run(&images);
    assert_eq!(unbuilt.code, 2, "{}", unbuilt.stderr);
    assert!(
        unbuilt.stderr.contains(
            "the template image of `development` is role `k8s-worker`'s, which has not been built"
        ) && unbuilt
            .stderr
            .contains("cargo xtask provision publish --env development --role k8s-worker"),
        "{}",
        unbuilt.stderr
    );

    assert_eq!(
        s.run(&["provision", "build", "--env", "development", "--all"])
            .code,
        0
    );
    let unpublished = s.run(&images);
    assert_eq!(unpublished.code, 2, "{}", unpublished.stderr);
    assert!(
        unpublished
            .stderr
            .contains("has not been published to an http(s) target"),
        "{}",
        unpublished.stderr
    );

    let curl = strata_testkit::stand_in(s.bin.path(), "curl", "", "", 0);
    let curl_s = curl.display().to_string();
    let publish = s.run_env(
        &[
            "provision",
            "publish",
            "--env",
            "development",
            "--role",
            "k8s-worker",
        ],
        &[("STRATA_CURL", curl_s.as_str())],
    );
    assert_eq!(publish.code, 0, "{}", publish.stderr);
    let puts = strata_testkit::stand_in_calls(s.bin.path(), "curl");
    assert_eq!(puts.len(), 2, "the image and its seed: {puts:?}");
    assert_eq!(
        puts[0].last().map(String::as_str),
        Some("https://images.example.internal/development/k8s-worker.img")
    );

    let staged = s.run(&images);
    assert_eq!(staged.code, 0, "{}", staged.stderr);
    let sha =
        serde_json::from_str::<serde_json::Value>(&read(root, WORKER_RECORD)).unwrap()["sha256"]
            .as_str()
            .unwrap()[..12]
            .to_owned();
    let tfvars = read(
        root,
        "infrastructure/platforms/proxmox/terraform/images/terraform.tfvars",
    );
    assert!(
        tfvars.contains(
            "cloud_image_url = \"https://images.example.internal/development/k8s-worker.img\""
        ) && tfvars.contains(&format!(
            "cloud_image_file_name = \"development-k8s-worker-{sha}.img\""
        )),
        "{tfvars}"
    );
    let full_sha =
        serde_json::from_str::<serde_json::Value>(&read(root, WORKER_RECORD)).unwrap()["sha256"]
            .as_str()
            .unwrap()
            .to_owned();
    assert!(
        tfvars.contains(&format!("cloud_image_sha256 = \"{full_sha}\"")),
        "Proxmox checks the download against the built image's digest:\n{tfvars}"
    );
    let templates = s.run(&[
        "infra",
        "--env",
        "development",
        "--phase",
        "templates",
        "--dry-run",
    ]);
    assert_eq!(templates.code, 0, "{}", templates.stderr);
    assert!(
        read(
            root,
            "infrastructure/platforms/proxmox/terraform/templates/terraform.tfvars"
        )
        .contains(&format!(
            "cloud_image_file_name = \"development-k8s-worker-{sha}.img\""
        )),
        "the template is made from the same file"
    );
    // The role's cloud-init installs qemu-guest-agent, so the template and its clones use it.
    let nodes = s.run(&[
        "infra",
        "--env",
        "development",
        "--phase",
        "nodes",
        "--dry-run",
    ]);
    assert_eq!(nodes.code, 0, "{}", nodes.stderr);
    for module in ["templates", "nodes"] {
        let staged = read(
            root,
            &format!("infrastructure/platforms/proxmox/terraform/{module}/terraform.tfvars"),
        );
        assert!(
            staged.contains("qemu_guest_agent = true"),
            "{module}:\n{staged}"
        );
    }
}

#[test]
fn validate_checks_the_publish_target() {
    let s = Setup::new();
    let root = s.repo.path();
    let mut config: serde_json::Value = serde_json::from_str(&read(root, PROVISIONER)).unwrap();
    config["publish"] =
        serde_json::json!({"uri": "file:///srv/images/dev", "templateRole": "k8s-wroker"});
    write(
        root,
        PROVISIONER,
        serde_json::to_string_pretty(&config).unwrap(),
    );
    let run = xtask(root, &["validate"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("`publish.templateRole` names `k8s-wroker`, which is not a role here")
            && run.stderr.contains("did you mean `k8s-worker`?")
            && run.stderr.contains("needs an `http(s)://` target"),
        "{}",
        run.stderr
    );
    config["publish"] =
        serde_json::json!({"uri": "https://ci:hunter2@images.example.internal/dev"});
    write(
        root,
        PROVISIONER,
        serde_json::to_string_pretty(&config).unwrap(),
    );
    let run = xtask(root, &["validate"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("`publish.uri` holds credentials"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
}
