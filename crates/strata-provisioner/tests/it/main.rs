//! The provisioner layer's entry points, called as the engine calls them, with stand-in
//! qemu-img and cloud-localds that behave like the real ones where Strata relies on it:
//! `qemu-img --version` names its version, `convert` writes the output image (a copy of the
//! qcow2 base here), `resize` changes nothing Strata reads, a failure exits non-zero with its
//! message on stderr; `cloud-localds SEED USER META` writes the seed file.

mod layer;
