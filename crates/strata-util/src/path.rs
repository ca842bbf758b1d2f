//! Paths for people.

use std::path::Path;

/// `path` relative to `root` when it is inside it, else as it is: how messages name files.
pub fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_the_root_is_relative() {
        let root = Path::new("/repo");
        assert_eq!(shown(root, Path::new("/repo/.strata/dev")), ".strata/dev");
        assert_eq!(shown(root, Path::new("/elsewhere/x")), "/elsewhere/x");
    }
}
