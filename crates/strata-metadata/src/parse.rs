//! Parsing the files a package and the repository hold, from their text, in this crate.
//!
//! serde's readers are generic: `serde_yaml_ng::from_str::<PlatformConfig>` and the
//! `Deserialize` code derived for `PlatformConfig` are compiled in whichever crate names the
//! concrete type, with that crate's settings. Named here, once per type, they are compiled with
//! this crate, which rarely changes and which the dev profile optimises (the root `Cargo.toml`
//! and docs/performance.md say why), instead of unoptimised in `strata-config`, where
//! validation spent most of its time in them. Errors are the readers' own, unchanged.

use crate::{
    BusinessConfig, EnvironmentDefinitions, Inventory, KubesprayConfig, ModuleSelector,
    PackageManifest, PackagesLock, PlatformConfig, ProvisionerConfig, RoleDefinitions,
};

/// A type read from YAML text.
pub trait FromYaml: Sized {
    /// `serde_yaml_ng::from_str`, compiled in this crate.
    fn from_yaml(text: &str) -> Result<Self, serde_yaml_ng::Error>;
}

/// A type read from JSON text.
pub trait FromJson: Sized {
    /// `serde_json::from_str`, compiled in this crate.
    fn from_json(text: &str) -> Result<Self, serde_json::Error>;
}

// Each impl is a plain (non-generic) function, so its code, with every generic function it
// calls, is generated here and not in the caller.
macro_rules! from_yaml {
    ($($t:ty),* $(,)?) => {$(
        impl FromYaml for $t {
            fn from_yaml(text: &str) -> Result<Self, serde_yaml_ng::Error> {
                serde_yaml_ng::from_str(text)
            }
        }
    )*};
}

macro_rules! from_json {
    ($($t:ty),* $(,)?) => {$(
        impl FromJson for $t {
            fn from_json(text: &str) -> Result<Self, serde_json::Error> {
                serde_json::from_str(text)
            }
        }
    )*};
}

from_yaml!(
    PlatformConfig,
    BusinessConfig,
    Inventory,
    EnvironmentDefinitions,
    RoleDefinitions,
    ModuleSelector,
    serde_yaml_ng::Value,
);

from_json!(
    PackageManifest,
    ProvisionerConfig,
    KubesprayConfig,
    PackagesLock
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_give_what_serde_gives() {
        let yaml = "all:\n  hosts:\n    a: {ansible_host: 10.0.0.1}\n  children:\n    etcd:\n      hosts:\n        a: {}\n";
        assert_eq!(
            serde_yaml_ng::Value::from_yaml(yaml).unwrap(),
            serde_yaml_ng::from_str::<serde_yaml_ng::Value>(yaml).unwrap()
        );
        assert_eq!(
            Inventory::from_yaml(yaml).unwrap().hosts_of("etcd"),
            serde_yaml_ng::from_str::<Inventory>(yaml)
                .unwrap()
                .hosts_of("etcd")
        );
        let bad = "{\"schemaVersion\": 1, \"packages\": {\"core\": {\"version\": \"1.0\"}}}";
        assert_eq!(
            PackagesLock::from_json(bad).unwrap_err().to_string(),
            serde_json::from_str::<PackagesLock>(bad)
                .unwrap_err()
                .to_string()
        );
    }
}
