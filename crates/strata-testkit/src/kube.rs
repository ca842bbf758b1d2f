//! The tools `cargo xtask ci` builds from the Go module proxy (helm 3 and 4, OpenTofu, etcd,
//! kube-apiserver), and a real Kubernetes control plane made of two of them: etcd and
//! kube-apiserver on loopback ports, with generated certificates and a kubeconfig.
//!
//! There is no kubelet, scheduler or controller manager: Node objects are registered through
//! the API (as a kubelet would register itself), and workloads never run. A Deployment
//! therefore never becomes available, which is what a test of a failing release wants.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::{TempDir, real_tool, real_tools_required, workspace_root};

/// Where `cargo xtask ci` links the tools it builds: `target/ci-tools/bin/` of this checkout,
/// or the folder `STRATA_CI_TOOLS` names.
pub fn ci_tools_bin() -> PathBuf {
    std::env::var_os("STRATA_CI_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/ci-tools/bin"))
}

/// A tool `cargo xtask ci` builds (`helm3`, `helm4`, `tofu`, `etcd`, `kube-apiserver`). Without
/// it the test prints one line and is skipped (returns `None`), unless `STRATA_REAL_TOOLS=1`,
/// which makes a missing tool a failure.
pub fn ci_tool(name: &str) -> Option<PathBuf> {
    let path = ci_tools_bin().join(name);
    if path.is_file() {
        return Some(path);
    }
    let why = format!(
        "`{name}` is not in {} (`cargo xtask ci --tools-only` builds it)",
        ci_tools_bin().display()
    );
    if real_tools_required() {
        panic!("{why} and STRATA_REAL_TOOLS=1 requires it");
    }
    eprintln!("skipped: {why} (set STRATA_REAL_TOOLS=1 to make this a failure)");
    None
}

/// helm 3 and helm 4, both required: a test that runs helm runs with each major.
pub fn helms() -> Vec<PathBuf> {
    ["helm3", "helm4"].into_iter().filter_map(ci_tool).collect()
}

/// A Kubernetes API server backed by its own etcd, both on free loopback ports, with a
/// kubeconfig whose user is in `system:masters`. Dropping it stops both (by pid).
#[derive(Debug)]
pub struct KubeApiServer {
    apiserver: Option<Child>,
    etcd: Option<Child>,
    kubectl: PathBuf,
    /// A kubeconfig for the cluster admin, with the certificates beside it.
    pub kubeconfig: PathBuf,
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    dir: TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn run(program: &Path, args: &[&str], cwd: &Path) -> std::process::Output {
    #[expect(
        clippy::disallowed_methods,
        reason = "test support: makes certificates and talks to the test API server"
    )]
    let out = std::process::Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{} runs: {e}", program.display()));
    out
}

pub(crate) fn run_ok(program: &Path, args: &[&str], cwd: &Path) -> String {
    let out = run(program, args, cwd);
    assert!(
        out.status.success(),
        "{} {} failed:\n{}{}",
        program.display(),
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The extensions of the test certificates (an openssl config, our own).
const OPENSSL_CONFIG: &str = "[req]
distinguished_name = dn
prompt = no
[dn]
CN = strata-test
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
";

/// `ca.key` and `ca.crt` in `dir`, a test CA (with the openssl config the others use).
pub(crate) fn make_ca(openssl: &Path, dir: &Path) {
    std::fs::write(dir.join("openssl.cnf"), OPENSSL_CONFIG).expect("the temp dir is writable");
    let mut ca = vec![
        "req",
        "-config",
        "openssl.cnf",
        "-x509",
        "-nodes",
        "-days",
        "2",
    ];
    ca.extend(EC_KEY);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        "/CN=strata-test-ca",
        "-extensions",
        "ca",
    ]);
    run_ok(openssl, &ca, dir);
}

const EC_KEY: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

/// `<name>.key` and `<name>.crt` in `dir`, signed by [`make_ca`]'s CA, with the `extensions`
/// section of the config (`server`: for 127.0.0.1 and localhost; `client`).
pub(crate) fn sign_certificate(
    openssl: &Path,
    dir: &Path,
    name: &str,
    subject: &str,
    extensions: &str,
) {
    let (key, csr, crt) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.crt"),
    );
    let mut req = vec!["req", "-config", "openssl.cnf", "-new", "-nodes"];
    req.extend(EC_KEY);
    req.extend(["-keyout", &key, "-out", &csr, "-subj", subject]);
    run_ok(openssl, &req, dir);
    run_ok(
        openssl,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "openssl.cnf",
            "-extensions",
            extensions,
            "-out",
            &crt,
        ],
        dir,
    );
}

/// A CA, the server's and the admin's certificates, and the service-account key pair.
fn make_certificates(openssl: &Path, dir: &Path) {
    make_ca(openssl, dir);
    for (name, subject, extensions) in [
        ("server", "/CN=kube-apiserver", "server"),
        ("admin", "/O=system:masters/CN=strata-admin", "client"),
    ] {
        sign_certificate(openssl, dir, name, subject, extensions);
    }
    run_ok(
        openssl,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "sa.key",
        ],
        dir,
    );
    run_ok(
        openssl,
        &["ec", "-in", "sa.key", "-pubout", "-out", "sa.pub"],
        dir,
    );
}

fn spawn(program: &Path, args: &[String], log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("the log is writable");
    #[expect(
        clippy::disallowed_methods,
        reason = "test support: starts a test control plane"
    )]
    let child = std::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("the log handle clones"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("{} starts: {e}", program.display()));
    child
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

impl KubeApiServer {
    /// Starts etcd and kube-apiserver and waits until `/readyz` answers `ok`, or returns `None`
    /// (printing why) when a tool is missing and `STRATA_REAL_TOOLS` is not set.
    pub fn start() -> Option<Self> {
        let etcd = ci_tool("etcd")?;
        let apiserver = ci_tool("kube-apiserver")?;
        let kubectl = real_tool("kubectl")?;
        let openssl = real_tool("openssl")?;
        let dir = TempDir::new("kube");
        let d = dir.path();
        make_certificates(&openssl, d);
        let (client, peer, secure) = (free_port(), free_port(), free_port());
        let path = |name: &str| d.join(name).display().to_string();
        let etcd_args: Vec<String> = vec![
            "--name=strata".into(),
            format!("--data-dir={}", path("etcd")),
            format!("--listen-client-urls=http://127.0.0.1:{client}"),
            format!("--advertise-client-urls=http://127.0.0.1:{client}"),
            format!("--listen-peer-urls=http://127.0.0.1:{peer}"),
            format!("--initial-advertise-peer-urls=http://127.0.0.1:{peer}"),
            format!("--initial-cluster=strata=http://127.0.0.1:{peer}"),
            "--unsafe-no-fsync".into(),
            "--log-level=warn".into(),
        ];
        let apiserver_args: Vec<String> = vec![
            format!("--etcd-servers=http://127.0.0.1:{client}"),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={secure}"),
            format!("--cert-dir={}", path("apiserver-certs")),
            format!("--tls-cert-file={}", path("server.crt")),
            format!("--tls-private-key-file={}", path("server.key")),
            format!("--client-ca-file={}", path("ca.crt")),
            "--service-account-issuer=https://kubernetes.default.svc".into(),
            format!("--service-account-key-file={}", path("sa.pub")),
            format!("--service-account-signing-key-file={}", path("sa.key")),
            "--service-cluster-ip-range=10.96.0.0/16".into(),
            "--authorization-mode=RBAC".into(),
            // No controller manager makes the endpoints or the namespaces' service accounts.
            "--endpoint-reconciler-type=none".into(),
            "--disable-admission-plugins=ServiceAccount".into(),
            "--enable-priority-and-fairness=false".into(),
            "--profiling=false".into(),
        ];
        let etcd_log = d.join("etcd.log");
        let apiserver_log = d.join("apiserver.log");
        let kubeconfig_text = format!(
            "apiVersion: v1
kind: Config
clusters:
  - name: strata-test
    cluster:
      server: https://127.0.0.1:{secure}
      certificate-authority: {ca}
users:
  - name: strata-admin
    user:
      client-certificate: {crt}
      client-key: {key}
contexts:
  - name: strata-test
    context:
      cluster: strata-test
      user: strata-admin
current-context: strata-test
",
            ca = path("ca.crt"),
            crt = path("admin.crt"),
            key = path("admin.key"),
        );
        let mut server = Self {
            apiserver: None,
            etcd: Some(spawn(&etcd, &etcd_args, &etcd_log)),
            kubectl,
            kubeconfig: d.join("admin.conf"),
            url: format!("https://127.0.0.1:{secure}"),
            dir,
        };
        server.apiserver = Some(spawn(&apiserver, &apiserver_args, &apiserver_log));
        std::fs::write(&server.kubeconfig, kubeconfig_text).expect("the kubeconfig is writable");
        server.wait_until_ready();
        Some(server)
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let out = self.kubectl_output(&["get", "--raw", "/readyz"]);
            if out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok" {
                return;
            }
            let exited = [&mut self.etcd, &mut self.apiserver]
                .into_iter()
                .flatten()
                .any(|c| c.try_wait().ok().flatten().is_some());
            if exited || Instant::now() > deadline {
                panic!(
                    "the test API server did not become ready{}\n--- apiserver.log\n{}\n--- etcd.log\n{}",
                    if exited { " (a process exited)" } else { "" },
                    tail(&self.dir.join("apiserver.log")),
                    tail(&self.dir.join("etcd.log")),
                );
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Runs kubectl against the server and returns what it did.
    pub fn kubectl_output(&self, args: &[&str]) -> std::process::Output {
        let kubeconfig = self.kubeconfig.display().to_string();
        let mut all = vec!["--kubeconfig", &kubeconfig, "--request-timeout=20s"];
        all.extend(args);
        run(&self.kubectl, &all, self.dir.path())
    }

    /// Runs kubectl against the server, which must succeed; its standard output.
    pub fn kubectl(&self, args: &[&str]) -> String {
        let out = self.kubectl_output(args);
        assert!(
            out.status.success(),
            "kubectl {} failed:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Creates (or updates) the objects in `manifest` with `kubectl apply`.
    pub fn apply(&self, manifest: &str) {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let file = self.dir.join(format!("manifest-{n}.yaml"));
        std::fs::write(&file, manifest).expect("the manifest is writable");
        self.kubectl(&["apply", "-f", &file.display().to_string()]);
    }

    /// Registers a Node as its kubelet would, with `roles` as `node-role.kubernetes.io/` labels,
    /// and sets its `Ready` condition through the status subresource.
    pub fn register_node(&self, name: &str, roles: &[&str], ready: bool) {
        let labels: String = roles
            .iter()
            .map(|r| format!("\n    node-role.kubernetes.io/{r}: \"\""))
            .collect();
        self.apply(&format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels:\n    kubernetes.io/hostname: {name}{labels}\n"
        ));
        let status = node_status_patch(ready);
        self.kubectl(&[
            "patch",
            "node",
            name,
            "--subresource=status",
            "--type=merge",
            "-p",
            &status,
        ]);
    }

    /// Installs minimal CustomResourceDefinitions of ArgoCD's `Application` and `AppProject`
    /// (our own: the names ArgoCD uses, any spec accepted) and waits until they are served.
    pub fn install_argocd_crds(&self) {
        let crd = |kind: &str, plural: &str| {
            format!(
                "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.argoproj.io
spec:
  group: argoproj.io
  scope: Namespaced
  names: {{kind: {kind}, listKind: {kind}List, plural: {plural}, singular: {singular}}}
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}
",
                singular = kind.to_lowercase()
            )
        };
        self.apply(&format!(
            "{}---\n{}",
            crd("Application", "applications"),
            crd("AppProject", "appprojects")
        ));
        self.kubectl(&[
            "wait",
            "--for=condition=Established",
            "crd/applications.argoproj.io",
            "crd/appprojects.argoproj.io",
        ]);
    }

    /// The server's folder (certificates, logs, kubeconfig).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// A node status patch: the `Ready` condition and the kubelet's version.
fn node_status_patch(ready: bool) -> String {
    let (status, reason) = if ready {
        ("True", "KubeletReady")
    } else {
        ("False", "KubeletNotReady")
    };
    format!(
        r#"{{"status":{{"conditions":[{{"type":"Ready","status":"{status}","reason":"{reason}","message":"registered by a Strata test","lastHeartbeatTime":"2026-11-25T09:41:55Z","lastTransitionTime":"2026-11-25T09:41:55Z"}}],"nodeInfo":{{"kubeletVersion":"v1.33.5","kubeProxyVersion":"v1.33.5","machineID":"","systemUUID":"","bootID":"","kernelVersion":"","osImage":"","containerRuntimeVersion":"","operatingSystem":"linux","architecture":"amd64"}}}}}}"#
    )
}

impl Drop for KubeApiServer {
    fn drop(&mut self) {
        for child in [self.apiserver.take(), self.etcd.take()]
            .into_iter()
            .flatten()
        {
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The Terraform engines a Terraform-layer test runs with: `terraform` when it is on `PATH`
/// (it cannot be built from the Go module proxy, so a machine may lack it, and then the tests
/// say so and run with OpenTofu alone), then `tofu` as `cargo xtask ci` builds it (required
/// under `STRATA_REAL_TOOLS=1`, like every built tool).
pub fn terraform_engines() -> Vec<PathBuf> {
    let terraform = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("terraform"))
            .find(|p| p.is_file())
    });
    if terraform.is_none() {
        eprintln!("note: `terraform` is not on PATH: this test runs with OpenTofu only");
    }
    terraform.into_iter().chain(ci_tool("tofu")).collect()
}
