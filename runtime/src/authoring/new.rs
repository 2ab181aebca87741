//! `cloudexec new`: a ready project from a template.

use std::path::{Path, PathBuf};

use super::sdk_files::write_file;
use super::{AuthoringError, Kind, Lang, templates};

/// Where the Rust SDK is when this binary was built from a checkout (the SDK is not on
/// crates.io yet): a Rust project's `cloudexec-sdk` path dependency points there.
pub fn default_rust_sdk() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-sdk");
    path.join("Cargo.toml").is_file().then(|| path.canonicalize().unwrap_or(path))
}

/// Writes a new project named after the last component of `dir` into `dir`, which must
/// not exist yet. `rust_sdk` is the Rust SDK's directory (Rust projects only).
pub fn create(dir: &Path, lang: Lang, kind: Kind, rust_sdk: Option<&Path>) -> Result<(), AuthoringError> {
    if dir.exists() {
        return Err(AuthoringError::Exists(dir.to_path_buf()));
    }
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        let message = format!("a project name is letters, digits, '-' and '_', not {name:?}");
        return Err(AuthoringError::InvalidProject { path: dir.to_path_buf(), message });
    }
    let sdk = match (lang, rust_sdk) {
        (Lang::Rust, Some(sdk)) => sdk.display().to_string(),
        (Lang::Rust, None) => {
            return Err(AuthoringError::MissingTool {
                tool: "the Rust SDK (cloudexec-sdk)",
                install: "pass --sdk-path to a checkout's guest-sdk directory",
            });
        }
        (Lang::Python | Lang::Js, _) => String::new(),
    };
    for (path, template) in templates::files(lang, kind) {
        let text = template
            .replace("@NAME@", &name)
            .replace("@CRATE@", &name.replace('-', "_"))
            .replace("@SDK@", &sdk.replace('\\', "/"))
            .replace("@LANG@", lang.name());
        write_file(&dir.join(path), &text)?;
    }
    Ok(())
}
