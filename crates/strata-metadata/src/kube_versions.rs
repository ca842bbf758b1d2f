//! Which Kubernetes versions each Kubespray release can install, kept as data.
//!
//! A release installs only the Kubernetes versions it has checksums for: its `kubelet_checksums`
//! for `amd64` list them, newest first. From v2.28 the default `kube_version` is the first key
//! and `kube_version_min_required` the last (`roles/kubespray_defaults/defaults/main/main.yml`);
//! before v2.28 both are written out in `roles/kubespray-defaults/defaults/main/main.yml`. A
//! version outside the list passes Kubespray's first checks and fails on the nodes, after
//! `kubernetes/preinstall` has already changed them: refusing it at validation is cheaper.

/// The Kubernetes versions one Kubespray release supports: every patch from `min` to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KubeVersionRange {
    /// The Kubespray release tag, such as `v2.29.0`.
    pub release: &'static str,
    /// The oldest supported Kubernetes version (`kube_version_min_required`), in the form the
    /// release takes.
    pub min: &'static str,
    /// The newest supported Kubernetes version (the release's default `kube_version`).
    pub max: &'static str,
}

/// Where each row of [`KUBE_VERSION_RANGES`] was read: the keys of `kubelet_checksums.amd64` in
/// this file of the release's git tag (v2.26 and v2.27 keep it under
/// `roles/kubespray-defaults/defaults/main/checksums.yml`).
pub const KUBE_VERSION_SOURCE: &str = "roles/kubespray_defaults/vars/main/checksums.yml";

/// Every release Strata knows, oldest first. Each row was read from the release's tag in
/// github.com/kubernetes-sigs/kubespray (the checksum lists are contiguous from `min` to `max`).
/// A release newer than the last row is not checked: add its row from [`KUBE_VERSION_SOURCE`].
pub const KUBE_VERSION_RANGES: &[KubeVersionRange] = &[
    KubeVersionRange {
        release: "v2.26.0",
        min: "v1.28.0",
        max: "v1.30.4",
    },
    KubeVersionRange {
        release: "v2.26.1",
        min: "v1.28.0",
        max: "v1.30.6",
    },
    KubeVersionRange {
        release: "v2.27.0",
        min: "v1.29.0",
        max: "v1.31.4",
    },
    KubeVersionRange {
        release: "v2.27.1",
        min: "v1.29.0",
        max: "v1.31.9",
    },
    KubeVersionRange {
        release: "v2.28.0",
        min: "1.30.0",
        max: "1.32.5",
    },
    KubeVersionRange {
        release: "v2.28.1",
        min: "1.30.0",
        max: "1.32.8",
    },
    KubeVersionRange {
        release: "v2.29.0",
        min: "1.31.0",
        max: "1.33.5",
    },
    KubeVersionRange {
        release: "v2.29.1",
        min: "1.31.0",
        max: "1.33.7",
    },
    KubeVersionRange {
        release: "v2.30.0",
        min: "1.32.0",
        max: "1.34.3",
    },
    KubeVersionRange {
        release: "v2.31.0",
        min: "1.33.0",
        max: "1.35.4",
    },
];

/// What the table says about one Kubernetes version for one Kubespray release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeVersionSupport {
    /// The release supports it.
    Supported,
    /// The release does not; the message says its range.
    Unsupported(String),
    /// The release is not in the table, so the range was not checked; the message says so.
    Unknown(String),
}

/// Whether Kubespray `release` can install Kubernetes `kube_version` (either form, `v` or not).
pub fn kube_version_support(release: &str, kube_version: &str) -> KubeVersionSupport {
    let Some(row) = KUBE_VERSION_RANGES.iter().find(|r| r.release == release) else {
        let last = KUBE_VERSION_RANGES
            .last()
            .expect("the table has rows")
            .release;
        let newer = triple(release)
            .zip(triple(last))
            .is_some_and(|(r, l)| r > l);
        return KubeVersionSupport::Unknown(if newer {
            format!(
                "Kubespray {release} is newer than Strata's table of supported Kubernetes versions (which ends at {last}), so `{kube_version}` was not checked against its range"
            )
        } else {
            format!(
                "Kubespray {release} is not in Strata's table of supported Kubernetes versions, so `{kube_version}` was not checked against its range"
            )
        });
    };
    // Only full versions have checksums: `1.33` is as unsupported as `1.40.0`.
    let inside = triple(kube_version).is_some_and(|v| {
        triple(row.min).is_some_and(|m| v >= m) && triple(row.max).is_some_and(|m| v <= m)
    });
    if !inside {
        KubeVersionSupport::Unsupported(format!(
            "Kubespray {release} installs Kubernetes {} to {}, not {kube_version}",
            row.min, row.max
        ))
    } else {
        KubeVersionSupport::Supported
    }
}

fn triple(v: &str) -> Option<(u64, u64, u64)> {
    let mut parts = v.strip_prefix('v').unwrap_or(v).split('.');
    let mut next = || parts.next()?.parse().ok();
    let t = (next()?, next()?, next()?);
    parts.next().is_none().then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_releases_range_decides() {
        assert_eq!(
            kube_version_support("v2.29.0", "1.33.5"),
            KubeVersionSupport::Supported
        );
        assert_eq!(
            kube_version_support("v2.29.0", "1.31.0"),
            KubeVersionSupport::Supported
        );
        assert_eq!(
            kube_version_support("v2.29.0", "1.34.1"),
            KubeVersionSupport::Unsupported(
                "Kubespray v2.29.0 installs Kubernetes 1.31.0 to 1.33.5, not 1.34.1".into()
            )
        );
        assert!(matches!(
            kube_version_support("v2.29.0", "1.30.14"),
            KubeVersionSupport::Unsupported(_)
        ));
        assert!(matches!(
            kube_version_support("v2.29.0", "1.33"),
            KubeVersionSupport::Unsupported(_)
        ));
        assert!(matches!(
            kube_version_support("v2.27.1", "v1.31.10"),
            KubeVersionSupport::Unsupported(_)
        ));
        assert_eq!(
            kube_version_support("v2.31.0", "1.35.4"),
            KubeVersionSupport::Supported
        );
    }

    #[test]
    fn a_release_the_table_lacks_is_said_not_checked() {
        let KubeVersionSupport::Unknown(m) = kube_version_support("v2.32.0", "1.36.0") else {
            panic!("a newer release is not checked")
        };
        assert!(
            m.contains("newer than Strata's table") && m.contains("ends at v2.31.0"),
            "{m}"
        );
        let KubeVersionSupport::Unknown(m) = kube_version_support("v2.25.0", "1.30.0") else {
            panic!("an older release is not checked")
        };
        assert!(m.contains("is not in Strata's table"), "{m}");
    }

    #[test]
    fn the_table_is_ordered_and_each_row_is_a_range() {
        for pair in KUBE_VERSION_RANGES.windows(2) {
            assert!(
                triple(pair[0].release) < triple(pair[1].release),
                "{pair:?}"
            );
        }
        for row in KUBE_VERSION_RANGES {
            assert!(triple(row.min) < triple(row.max), "{row:?}");
            // The form each release takes: bare from v2.28 (kube_version_problem agrees).
            assert!(
                crate::kube_version_problem(row.release, row.max).is_none(),
                "{row:?}"
            );
        }
    }
}
