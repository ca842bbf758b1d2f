//! Tier 2: `cargo xtask provision` with the real qemu-img, cloud-localds, packer and curl. The
//! images are read back with `qemu-img info` and `isoinfo`, and published to a loopback HTTP
//! server the test serves.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use strata_testkit::{TempDir, real_tool};

use crate::support::{read, write, xtask, xtask_env};

const PROVISIONER: &str = "config/packages/core/environments/development.provisioner.json";

fn output(program: &Path, args: &[&str]) -> String {
    #[expect(
        clippy::disallowed_methods,
        reason = "the test reads the results back with real tools"
    )]
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .expect("the tool runs");
    assert!(
        out.status.success(),
        "{program:?} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The sample with the development roles changed by `change`, bumped, locked and generated.
fn repo_with(change: impl FnOnce(&Path, &mut serde_json::Value)) -> TempDir {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    let mut config: serde_json::Value = serde_json::from_str(&read(root, PROVISIONER)).unwrap();
    change(root, &mut config);
    write(
        root,
        PROVISIONER,
        serde_json::to_string_pretty(&config).unwrap(),
    );
    crate::support::edit(
        root,
        "config/packages/core/package.json",
        "\"0.2.0\"",
        "\"0.2.1\"",
    );
    assert_eq!(xtask(root, &["config", "lock"]).code, 0);
    let generate = xtask(
        root,
        &["generate", "env", "--id", "development", "--config", "core"],
    );
    assert_eq!(generate.code, 0, "{}", generate.stderr);
    repo
}

#[test]
fn qemu_img_builds_real_images_and_a_cidata_seed() {
    let (Some(qemu_img), Some(_), Some(isoinfo)) = (
        real_tool("qemu-img"),
        real_tool("cloud-localds"),
        real_tool("isoinfo"),
    ) else {
        return;
    };
    let repo = repo_with(|root, c| {
        let base = root.join("images/noble-tiny.qcow2");
        std::fs::create_dir_all(base.parent().unwrap()).unwrap();
        output(
            &qemu_img,
            &["create", "-q", "-f", "qcow2", base.to_str().unwrap(), "64M"],
        );
        let sha = sha256_hex(&base);
        for role in c["roles"].as_object_mut().unwrap().values_mut() {
            role["baseImage"] =
                serde_json::json!({"path": "images/noble-tiny.qcow2", "sha256": sha});
            role["diskSize"] = "1G".into();
        }
        // One role as a raw disk, grown to 96 MiB.
        c["roles"]["k8s-worker"]["format"] = "raw".into();
        c["roles"]["k8s-worker"]["diskSize"] = "96M".into();
    });
    let root = repo.path();
    let run = xtask_env(
        root,
        &["provision", "build", "--env", "development", "--all"],
        &[],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    for (role, format, size) in [
        ("k8s-control-plane", "qcow2", 1u64 << 30),
        ("k8s-worker", "raw", 96 << 20),
    ] {
        let image = root.join(format!("provisioner/outputs/development/{role}.img"));
        let info: serde_json::Value = serde_json::from_str(&output(
            &qemu_img,
            &["info", "--output=json", image.to_str().unwrap()],
        ))
        .unwrap();
        assert_eq!(info["format"], format, "{role}");
        assert_eq!(info["virtual-size"], size, "{role}");
        let record: strata_metadata::ArtifactRecord = serde_json::from_str(&read(
            root,
            &format!("api/outputs/development/provisioner/{role}.json"),
        ))
        .unwrap();
        assert_eq!(record.virtual_size, size);
        assert_eq!(record.sha256, sha256_hex(&image));
        // The version this qemu-img reports (`qemu-img version 7.2.22 (Debian …)` on one
        // machine, `10.0.2` on another), not one hard-coded here.
        let reported = output(&qemu_img, &["--version"]);
        let version = record.builder.version.as_deref().unwrap_or_default();
        assert!(
            !version.is_empty() && reported.lines().next().unwrap_or("").contains(version),
            "recorded `{version}`, qemu-img says {reported}"
        );

        // The seed: an ISO9660 volume `cidata` holding exactly what Strata renders.
        let seed = root.join(format!("provisioner/outputs/development/{role}-seed.iso"));
        let seed_s = seed.to_str().unwrap();
        let volume = output(&isoinfo, &["-d", "-i", seed_s]);
        assert!(volume.contains("Volume id: cidata"), "{volume}");
        let user_data = output(&isoinfo, &["-J", "-i", seed_s, "-x", "/user-data"]);
        let config: strata_metadata::ProvisionerConfig =
            serde_json::from_str(&read(root, "api/outputs/development/provisioner.json")).unwrap();
        let ci = config.roles[role].cloud_init.as_ref().unwrap();
        assert_eq!(
            user_data,
            strata_provisioner::user_data(role, ci, "development").unwrap()
        );
        let meta_data = output(&isoinfo, &["-J", "-i", seed_s, "-x", "/meta-data"]);
        assert_eq!(
            meta_data,
            strata_provisioner::meta_data(role, ci, "development", &record.inputs_digest)
        );
    }
}

#[test]
fn packer_runs_a_null_builder_template() {
    let (Some(_), Some(_)) = (real_tool("packer"), real_tool("qemu-img")) else {
        return;
    };
    let repo = repo_with(|root, c| {
        write(
            root,
            "provisioner/roles/k8s-worker/packer/template.json",
            r#"{
  "variables": {"role": "", "environment": "", "base_image": "", "output_dir": "", "disk_size": "", "format": ""},
  "builders": [{"type": "null", "communicator": "none"}],
  "provisioners": [{
    "type": "shell-local",
    "inline": [
      "echo building {{user `role`}} for {{user `environment`}}",
      "qemu-img create -q -f {{user `format`}} {{user `output_dir`}}/{{user `role`}}.qcow2 {{user `disk_size`}}"
    ]
  }]
}
"#,
        );
        c["roles"]["k8s-worker"] = serde_json::json!({
            "builder": "packer",
            "diskSize": "2G",
            "packer": {"templateDir": "provisioner/roles/k8s-worker/packer"}
        });
        c["roles"]
            .as_object_mut()
            .unwrap()
            .remove("k8s-control-plane");
    });
    let root = repo.path();
    let run = xtask_env(
        root,
        &[
            "provision",
            "build",
            "--env",
            "development",
            "--role",
            "k8s-worker",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("[k8s-worker] null: building k8s-worker for development"),
        "packer's progress is shown: {}",
        run.stderr
    );
    let record: strata_metadata::ArtifactRecord = serde_json::from_str(&read(
        root,
        "api/outputs/development/provisioner/k8s-worker.json",
    ))
    .unwrap();
    assert_eq!(record.builder.name, strata_metadata::Builder::Packer);
    assert_eq!(record.builder.version.as_deref(), Some("1.6.6"));
    assert_eq!(record.virtual_size, 2 << 30);
    assert!(record.seed.is_none());
}

/// What the loopback server received: path, headers (lowercased names), body.
type Received = Arc<Mutex<Vec<(String, Vec<(String, String)>, Vec<u8>)>>>;

/// A loopback server that accepts PUT (answering `Expect: 100-continue`) with the bearer
/// `token`, 401 otherwise, and keeps what it got.
fn put_server(token: &'static str) -> (u16, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received: Received = Arc::default();
    let keep = Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).unwrap_or(0) == 0 {
                continue;
            }
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    headers.push((k.trim().to_lowercase(), v.trim().to_owned()));
                }
            }
            let header = |name: &str| {
                headers
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            };
            if header("authorization").as_deref() != Some(&format!("Bearer {token}")) {
                let _ = stream.write_all(
                    b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                continue;
            }
            if header("expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue")) {
                let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
            }
            let len: usize = header("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let path = request.split_whitespace().nth(1).unwrap_or("").to_owned();
            keep.lock().unwrap().push((path, headers, body));
            let _ = stream.write_all(
                b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (port, received)
}

#[test]
fn publish_puts_the_image_to_an_http_server_with_credentials_from_the_environment() {
    let (Some(qemu_img), Some(_), Some(_)) = (
        real_tool("qemu-img"),
        real_tool("cloud-localds"),
        real_tool("curl"),
    ) else {
        return;
    };
    let (port, received) = put_server("s3cr3t-publish-token");
    let repo = repo_with(|root, c| {
        let base = root.join("images/base.qcow2");
        std::fs::create_dir_all(base.parent().unwrap()).unwrap();
        output(
            &qemu_img,
            &["create", "-q", "-f", "qcow2", base.to_str().unwrap(), "32M"],
        );
        let sha = sha256_hex(&base);
        for role in c["roles"].as_object_mut().unwrap().values_mut() {
            role["baseImage"] = serde_json::json!({"path": "images/base.qcow2", "sha256": sha});
            role["diskSize"] = "1G".into();
        }
        c["publish"] =
            serde_json::json!({"uri": format!("http://127.0.0.1:{port}/images/development/")});
    });
    let root = repo.path();
    let build = xtask_env(
        root,
        &[
            "provision",
            "build",
            "--env",
            "development",
            "--role",
            "k8s-worker",
        ],
        &[],
    );
    assert_eq!(build.code, 0, "{}", build.stderr);
    let publish = [
        "provision",
        "publish",
        "--env",
        "development",
        "--role",
        "k8s-worker",
    ];

    let refused = xtask_env(root, &publish, &[]);
    assert_eq!(
        refused.code, 1,
        "no credentials: the server refuses: {}",
        refused.stderr
    );
    assert!(refused.stderr.contains("401"), "{}", refused.stderr);

    let run = xtask_env(
        root,
        &publish,
        &[("STRATA_PUBLISH_TOKEN", "s3cr3t-publish-token")],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let url = format!("http://127.0.0.1:{port}/images/development/k8s-worker.img");
    assert!(
        run.stdout.contains(&format!("k8s-worker -> {url}")),
        "{}",
        run.stdout
    );

    let got = received.lock().unwrap().clone();
    let image_path = root.join("provisioner/outputs/development/k8s-worker.img");
    let (path, headers, body) = got
        .iter()
        .find(|(p, _, _)| p.ends_with("/k8s-worker.img"))
        .expect("the image was PUT");
    assert_eq!(path, "/images/development/k8s-worker.img");
    assert_eq!(body, &std::fs::read(&image_path).unwrap());
    assert!(headers.contains(&("x-checksum-sha256".into(), sha256_hex(&image_path))));
    assert!(
        got.iter()
            .any(|(p, _, _)| p.ends_with("/k8s-worker-seed.iso")),
        "the seed too"
    );
    let record = read(root, "api/outputs/development/provisioner/k8s-worker.json");
    assert!(
        record.contains(&format!("\"remote\": \"{url}\"")),
        "{record}"
    );

    // The token is nowhere: not in the output, the record, the logs or a leftover curl config.
    let mut seen = run.stdout.clone() + &run.stderr + &record;
    for file in strata_testkit::read_tree(&root.join(".strata")).values() {
        seen.push_str(&String::from_utf8_lossy(file));
    }
    assert!(!seen.contains("s3cr3t-publish-token"));
    let leftovers = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("strata-curl-"))
        .count();
    assert_eq!(leftovers, 0, "the curl config with the token was removed");
}
