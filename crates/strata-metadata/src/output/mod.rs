//! The documents `--output json` prints on stdout, one type per document.
//!
//! Each command prints exactly one of them: its own document when it ran, [`Failure`] when it
//! failed before it had one, [`Refusal`] when it refused invalid input with diagnostics. Their
//! spellings are what scripts read, so they change only as the file formats do: a removed or
//! renamed field is a change to DESIGN.md. Their schemas are rendered under
//! `api/schemas/output/`.

mod config;
mod deploy;
mod doctor;
mod envelope;
mod infra;
mod kubespray;
mod platform;
mod provision;

pub use config::{
    BackfillBundleOutput, BackfillOutput, BackfillPackageOutput, Checked, DriftEntry,
    GenerateOutput, LockOutput, ValidateOutput, VerifyOutput,
};
pub use deploy::{
    PhaseForecast, PushOutput, PushRefused, PushReport, RunPhase, RunSummary, RunsOutput,
    StatusOutput, UnlockOutput, UnlockResult,
};
pub use doctor::{DoctorOutput, ToolRow, ToolStatus};
pub use envelope::{Diagnostic, Failure, Refusal, Severity};
pub use infra::{InfraFailure, InfraOutput, ModuleEntry, Staged};
pub use kubespray::{
    HostAnswer, InventoryRef, KubesprayOutput, KubesprayValidateOutput, NodeStatus,
    StatusOutput as KubesprayStatusOutput,
};
pub use platform::{
    BusinessOutput, DiffOutput, GraphOutput, PlatformDeployOutput, ReleaseEntry, ReleaseResult,
    TemplateOutput,
};
pub use provision::{
    BuildOutput, BuildResult, BuiltRole, ImageState, ListOutput, ListedRole, PublishOutput,
};
