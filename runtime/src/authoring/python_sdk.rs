//! The Python SDK and the WIT it binds, carried in the binary so `cloudexec build` works
//! outside the repository: they are written next to a project's build output.

use std::path::Path;

use super::{AuthoringError, io_at};

/// The guest ABI, as every language's build reads it.
pub const WIT: &str = include_str!("../../../guest-sdk/wit/runtime.wit");

/// The `cloudexec` Python package, file by file.
const PACKAGE: &[(&str, &str)] = &[
    ("__init__.py", include_str!("../../../guest-sdk/python/cloudexec/__init__.py")),
    ("_errors.py", include_str!("../../../guest-sdk/python/cloudexec/_errors.py")),
    ("_manifest.py", include_str!("../../../guest-sdk/python/cloudexec/_manifest.py")),
    ("_updates.py", include_str!("../../../guest-sdk/python/cloudexec/_updates.py")),
    ("_values.py", include_str!("../../../guest-sdk/python/cloudexec/_values.py")),
    ("_worlds.py", include_str!("../../../guest-sdk/python/cloudexec/_worlds.py")),
    ("functions.py", include_str!("../../../guest-sdk/python/cloudexec/functions.py")),
    ("log.py", include_str!("../../../guest-sdk/python/cloudexec/log.py")),
    ("state_machine.py", include_str!("../../../guest-sdk/python/cloudexec/state_machine.py")),
    ("vars.py", include_str!("../../../guest-sdk/python/cloudexec/vars.py")),
];

/// Writes the WIT to `dir/wit/runtime.wit` and the package to `dir/python/cloudexec/`.
pub fn write(dir: &Path) -> Result<(), AuthoringError> {
    write_file(&dir.join("wit/runtime.wit"), WIT)?;
    for (name, text) in PACKAGE {
        write_file(&dir.join("python/cloudexec").join(name), text)?;
    }
    Ok(())
}

/// Writes `text` to `path` unless it already holds exactly that (keeps mtimes stable).
pub(super) fn write_file(path: &Path, text: &str) -> Result<(), AuthoringError> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_at(parent))?;
    }
    std::fs::write(path, text).map_err(io_at(path))
}

#[cfg(test)]
mod tests {
    use super::PACKAGE;

    /// A module added to the SDK must be carried too, or built guests would miss it.
    #[test]
    fn every_module_of_the_python_sdk_is_carried() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-sdk/python/cloudexec");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        on_disk.retain(|name| name.ends_with(".py"));
        on_disk.sort();
        let carried: Vec<&str> = PACKAGE.iter().map(|(name, _)| *name).collect();
        assert_eq!(on_disk, carried);
    }
}
