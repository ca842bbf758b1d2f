//! Every environment variable Strata reads, named once. The tool crates' override variables
//! (`STRATA_TERRAFORM`, ...) are listed with their tools; `doctor` and the generated reference
//! in `docs/reference/` show them all.

/// The repository root when `--root` is not given.
pub const ROOT: &str = "STRATA_ROOT";
/// A run's id, handed by a run to the commands it starts, so their logs share its folder.
pub const RUN_ID: &str = "STRATA_RUN_ID";
/// Where base images are cached (default `.strata/cache/images/`).
pub const IMAGE_CACHE: &str = "STRATA_IMAGE_CACHE";
/// The token that publishes images (a bearer token).
pub const PUBLISH_TOKEN: &str = "STRATA_PUBLISH_TOKEN";
/// The user that publishes images (with [`PUBLISH_PASSWORD`]).
pub const PUBLISH_USER: &str = "STRATA_PUBLISH_USER";
/// The password that publishes images (with [`PUBLISH_USER`]).
pub const PUBLISH_PASSWORD: &str = "STRATA_PUBLISH_PASSWORD";
/// `1`: a test that needs a real tool fails when the tool is missing, instead of skipping.
pub const REAL_TOOLS: &str = "STRATA_REAL_TOOLS";
/// Where `cargo xtask ci` put the tools it built (default `target/ci-tools/bin`).
pub const CI_TOOLS: &str = "STRATA_CI_TOOLS";
/// `SOURCE_DATE_EPOCH`: the `generatedAt` of a bundle, for reproducible builds.
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

/// Each variable above with what it does, for `doctor` and the reference.
pub const ALL: [(&str, &str); 9] = [
    (ROOT, "the repository root when `--root` is not given"),
    (
        RUN_ID,
        "a run's id, so the commands it starts log into its folder",
    ),
    (
        IMAGE_CACHE,
        "where base images are cached (default .strata/cache/images/)",
    ),
    (PUBLISH_TOKEN, "the bearer token that publishes images"),
    (
        PUBLISH_USER,
        "the user that publishes images, with STRATA_PUBLISH_PASSWORD",
    ),
    (PUBLISH_PASSWORD, "the password that publishes images"),
    (
        REAL_TOOLS,
        "1: tests fail instead of skipping when a real tool is missing",
    ),
    (CI_TOOLS, "where `cargo xtask ci` put the tools it built"),
    (
        SOURCE_DATE_EPOCH,
        "the generatedAt of a bundle, for reproducible builds",
    ),
];
