//! The NoCloud seed files rendered from the sample package's provisioner configs: what a VM
//! built from each role's image is told on first boot.

use strata_metadata::ProvisionerConfig;

fn sample(env: &str) -> ProvisionerConfig {
    let path = strata_testkit::workspace_root().join(format!(
        "config/packages/core/environments/{env}.provisioner.json"
    ));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_sample_roles_render_cloud_config_user_data_and_meta_data() {
    for env in ["development", "production"] {
        for (role, image) in sample(env).roles {
            let ci = image
                .cloud_init
                .as_ref()
                .expect("the sample roles have cloud-init");
            let user_data = strata_provisioner::user_data(&role, ci, env).unwrap();
            // Valid YAML that cloud-init reads as cloud-config.
            assert!(user_data.starts_with("#cloud-config\n"));
            let parsed: serde_yaml_ng::Value = serde_yaml_ng::from_str(&user_data).unwrap();
            assert!(parsed.as_mapping().is_some(), "{user_data}");
            let meta_data = strata_provisioner::meta_data(
                &role,
                ci,
                env,
                "sha256:5f1e0c2a9d7b3e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7",
            );
            insta::assert_snapshot!(
                format!("{env}-{role}"),
                format!("--- user-data\n{user_data}--- meta-data\n{meta_data}")
            );
        }
    }
}
