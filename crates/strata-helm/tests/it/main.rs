//! The Helm layers' entry points, called as the engine calls them, with stand-in helm and
//! kubectl that behave like the real ones where Strata relies on it: `helm version --short`
//! prints `v3.x.y+g…`, `helm plugin list` prints only its header when no plugin is installed,
//! `helm diff upgrade --detailed-exitcode` exits 2 on changes, `kubectl get --raw /readyz`
//! fails when the API server is down, and `kubectl get … --ignore-not-found` prints nothing
//! (exit 0) when the API server says NotFound and fails with `Error from server (Forbidden)`
//! when the user may not look.

mod business;
mod kubeconfig;
mod platform;
mod support;
