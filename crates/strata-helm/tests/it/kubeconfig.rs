//! Which kubeconfig the Helm layers use: explicit, else Kubespray's kept one, else KUBECONFIG.

use std::ffi::OsStr;

use strata_config::Layout;
use strata_helm::{HelmError, KubeconfigSource, find_kubeconfig};
use strata_metadata::ErrorKind;
use strata_testkit::{TempDir, write};

#[test]
fn explicit_then_kept_then_the_variable() {
    let repo = TempDir::new("kubeconfig");
    let root = repo.path();
    let layout = Layout::new(root);
    write(root, "given.conf", "kind: Config\n");
    write(root, "var.conf", "kind: Config\n");
    let var = root.join("var.conf");
    let var = Some(var.as_os_str());

    // Nothing kept: the variable.
    let k = find_kubeconfig(&layout, "development", None, var).unwrap();
    assert_eq!(
        (k.path, k.source),
        (root.join("var.conf"), KubeconfigSource::Variable)
    );

    // Kept by Kubespray for this environment: it wins over the variable, and only for it.
    write(
        root,
        ".strata/development/kubespray/artifacts/admin.conf",
        "kind: Config\n",
    );
    let k = find_kubeconfig(&layout, "development", None, var).unwrap();
    assert_eq!(k.path, layout.kubespray_kubeconfig("development"));
    assert_eq!(k.source, KubeconfigSource::Kubespray);
    assert_eq!(
        find_kubeconfig(&layout, "staging", None, var)
            .unwrap()
            .source,
        KubeconfigSource::Variable
    );

    // Explicit wins over both.
    let given = root.join("given.conf");
    let k = find_kubeconfig(&layout, "development", Some(&given), var).unwrap();
    assert_eq!((k.path, k.source), (given, KubeconfigSource::Explicit));
}

#[test]
fn none_missing_or_ambiguous_is_bad_input_with_a_hint() {
    let repo = TempDir::new("kubeconfig");
    let layout = Layout::new(repo.path());
    let none = find_kubeconfig(&layout, "development", None, None).unwrap_err();
    assert!(matches!(none, HelmError::NoKubeconfig { .. }), "{none:?}");
    assert_eq!(none.kind(), ErrorKind::Invalid);
    assert!(
        none.hint()
            .unwrap()
            .contains("`cargo xtask kubespray deploy --env development` keeps its admin.conf"),
        "{:?}",
        none.hint()
    );
    let missing =
        find_kubeconfig(&layout, "development", Some(&repo.join("nope.conf")), None).unwrap_err();
    assert!(matches!(missing, HelmError::KubeconfigMissing { .. }));
    assert_eq!(missing.kind(), ErrorKind::Invalid);
    let two = find_kubeconfig(&layout, "development", None, Some(OsStr::new("/a:/b"))).unwrap_err();
    assert!(matches!(two, HelmError::KubeconfigAmbiguous { .. }));
    assert_eq!(two.kind(), ErrorKind::Invalid);
}
