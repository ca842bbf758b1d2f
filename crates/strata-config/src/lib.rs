//! Config packages: loading, validation, content digests and the version-bump rule.
//!
//! [`validate`] checks a repository — definitions, packages and the files they reference, the
//! packages lock, and the module selectors — and returns every problem as a [`Diagnostic`] with
//! a file, a line and column, and a hint where the fix is clear. [`load_package`] gives
//! `strata-bundle` a package whose files were read once and digested.
//!
//! This crate only reads, except for `config/packages.lock` (written by the caller from
//! [`plan_lock`]). It never writes bundles, spawns processes or prints.

#![warn(missing_docs)]

mod adopt;
mod definitions;
mod diagnostic;
mod environment;
mod kinds;
mod layout;
mod locate;
mod lock;
mod package;
mod secrets;
mod selectors;
mod source;
mod terraform;
mod tftype;
mod validate;
mod walk;

pub use adopt::{AdoptError, add_environment, package_path};
pub use definitions::{Definitions, load_definitions};
pub use diagnostic::{Checked, Diagnostic, Report, Severity};
pub use environment::check_environment;
pub use kinds::{
    check_inventory, check_source, find_cycle, group_order, parse_size, read_inventory,
};
pub use layout::{Layout, MODULES};
pub use lock::{LockChange, check_lock, plan_lock, plan_lock_for, read_lock, render_lock};
pub use package::{Depth, Package, load_package, package_folders};
pub use selectors::{Selector, check_selectors, selected_package};
pub use source::MAX_FILE_BYTES;
pub use terraform::{
    DEFAULT_PLATFORM, IMAGE_CHECKSUM_VARIABLE, ModuleVariables, TERRAFORM_MODULES, load_modules,
    module_rel, module_variables,
};
pub use tftype::{ObjectAttribute, TypeConstraint};
pub use validate::{Target, check_for_generate, load_all_packages, validate};
pub use walk::{list_files, sha256};
