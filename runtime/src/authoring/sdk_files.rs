//! The Python and JavaScript SDKs and the WIT they bind, carried in the binary so
//! `cloudexec build` works outside the repository: they are written next to a project's
//! build output.

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

/// The JavaScript package (`cloudexec`, one module and its types).
const JS_PACKAGE: &[(&str, &str)] = &[
    ("package.json", include_str!("../../../guest-sdk/js/package.json")),
    ("index.js", include_str!("../../../guest-sdk/js/index.js")),
    ("index.d.ts", include_str!("../../../guest-sdk/js/index.d.ts")),
];

/// Writes the WIT to `dir/wit/runtime.wit` and the Python package to `dir/python/cloudexec/`.
pub fn write_python(dir: &Path) -> Result<(), AuthoringError> {
    write_file(&dir.join("wit/runtime.wit"), WIT)?;
    for (name, text) in PACKAGE {
        write_file(&dir.join("python/cloudexec").join(name), text)?;
    }
    Ok(())
}

/// Writes the WIT to `dir/wit/runtime.wit` and the JavaScript package to `dir/js/`.
pub fn write_js(dir: &Path) -> Result<(), AuthoringError> {
    write_file(&dir.join("wit/runtime.wit"), WIT)?;
    for (name, text) in JS_PACKAGE {
        write_file(&dir.join("js").join(name), text)?;
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
    use super::{JS_PACKAGE, PACKAGE};

    /// The names of the files in the repository's `guest-sdk/<dir>` ending in `suffix`, sorted.
    fn files_in(dir: &str, suffix: &str) -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-sdk").join(dir);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.retain(|name| name.ends_with(suffix));
        names.sort();
        names
    }

    fn carried(package: &[(&str, &str)]) -> Vec<String> {
        let mut names: Vec<String> = package.iter().map(|(name, _)| (*name).to_owned()).collect();
        names.sort();
        names
    }

    /// A file added to an SDK must be carried too, or built guests would miss it.
    #[test]
    fn every_file_of_the_python_and_js_sdks_is_carried() {
        assert_eq!(files_in("python/cloudexec", ".py"), carried(PACKAGE));
        assert_eq!(files_in("js", ""), carried(JS_PACKAGE));
    }
}
