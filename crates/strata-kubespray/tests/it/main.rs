//! The Kubespray layer's entry points, called in process as the deploy engine calls them, with
//! a stand-in container runtime.

mod session;
