//! Kubeconfigs for the test API server other than its admin's: a user it authenticates but
//! whose RBAC grants nothing, and one for a server that is not there.

use std::path::{Path, PathBuf};

use crate::{KubeApiServer, real_tool, run_tool};

fn kubeconfig(server: &str, ca: &Path, user: &str, crt: &Path, key: &Path) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
  - name: strata-test
    cluster:
      server: {server}
      certificate-authority: {ca}
users:
  - name: {user}
    user:
      client-certificate: {crt}
      client-key: {key}
contexts:
  - name: strata-test
    context:
      cluster: strata-test
      user: {user}
current-context: strata-test
",
        ca = ca.display(),
        crt = crt.display(),
        key = key.display(),
    )
}

/// A kubeconfig in `dir` for `user`, a client certificate the server's CA signs (so the API
/// server knows who it is) in no group, whom RBAC therefore allows nothing: every request is
/// `Forbidden`. `None` (after one line) without openssl, as [`real_tool`].
pub fn unprivileged_kubeconfig(cluster: &KubeApiServer, user: &str, dir: &Path) -> Option<PathBuf> {
    let openssl = real_tool("openssl")?;
    let ca = cluster.dir();
    let s = |p: PathBuf| p.display().to_string();
    let (key, csr, crt) = (
        dir.join(format!("{user}.key")),
        dir.join(format!("{user}.csr")),
        dir.join(format!("{user}.crt")),
    );
    run_tool(
        &openssl,
        &[
            "req",
            "-new",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-keyout",
            &s(key.clone()),
            "-out",
            &s(csr.clone()),
            "-subj",
            &format!("/CN={user}"),
        ],
    );
    run_tool(
        &openssl,
        &[
            "x509",
            "-req",
            "-in",
            &s(csr),
            "-CA",
            &s(ca.join("ca.crt")),
            "-CAkey",
            &s(ca.join("ca.key")),
            "-CAcreateserial",
            "-CAserial",
            &s(dir.join("ca.srl")),
            "-days",
            "2",
            "-extfile",
            &s(ca.join("openssl.cnf")),
            "-extensions",
            "client",
            "-out",
            &s(crt.clone()),
        ],
    );
    let path = dir.join(format!("{user}.conf"));
    std::fs::write(
        &path,
        kubeconfig(&cluster.url, &ca.join("ca.crt"), user, &crt, &key),
    )
    .expect("the kubeconfig is writable");
    Some(path)
}

/// A copy of the admin kubeconfig in `dir` whose server is a loopback port nothing listens on,
/// as a cluster that is down looks to kubectl ("connection refused").
pub fn closed_port_kubeconfig(cluster: &KubeApiServer, dir: &Path) -> PathBuf {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let text = std::fs::read_to_string(&cluster.kubeconfig).expect("the admin kubeconfig reads");
    let path = dir.join("down.conf");
    std::fs::write(
        &path,
        text.replace(&cluster.url, &format!("https://127.0.0.1:{port}")),
    )
    .expect("the kubeconfig is writable");
    path
}
