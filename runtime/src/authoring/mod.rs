//! The author's loop: a project directory with a `cloudexec.toml`, built into a component
//! (`build`), written from a template (`new`) and checked against the cases its project
//! file lists (`cases`), the same in every guest language.
//!
//! ```toml
//! name = "hello"
//! lang = "python"     # rust | python | js
//! kind = "function"   # function | bin
//!
//! [[test]]
//! input = '{"name": "Ada"}'
//! output = '{"greeting": "Hello, Ada!"}'
//! ```

pub mod build;
pub mod cases;
pub mod new;
mod sdk_files;
mod templates;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use cases::TestCase;

/// The name of a project's file.
pub const PROJECT_FILE: &str = "cloudexec.toml";

/// A guest language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Rust with the `cloudexec-sdk` crate, built by cargo.
    Rust,
    /// Python with the `cloudexec` package, built by componentize-py.
    Python,
    /// JavaScript with the `cloudexec` module, bundled by esbuild and built by componentize-js.
    Js,
}

impl Lang {
    /// The name `cloudexec.toml` and `--lang` use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rust => "rust",
            Self::Python => "python",
            Self::Js => "js",
        }
    }
}

/// What a project builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A cloud function (`world function`).
    Function,
    /// A stateful bin (`world bin`).
    Bin,
}

impl Kind {
    /// The WIT world of this kind.
    pub fn world(self) -> &'static str {
        match self {
            Self::Function => "function",
            Self::Bin => "bin",
        }
    }
}

/// A project: its directory and what its `cloudexec.toml` says.
#[derive(Debug, Clone)]
pub struct Project {
    /// The directory holding `cloudexec.toml`.
    pub dir: PathBuf,
    /// What the file says.
    pub spec: ProjectSpec,
}

/// The contents of `cloudexec.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSpec {
    /// The function's or bin's name (also the name `deploy` uses).
    pub name: String,
    /// The guest language.
    pub lang: Lang,
    /// Function or bin.
    pub kind: Kind,
    /// The module holding the function or bin (default `app`: `app.py`, `app.js`).
    #[serde(default)]
    pub module: Option<String>,
    /// Cases `cloudexec test` runs.
    #[serde(default, rename = "test")]
    pub tests: Vec<TestCase>,
}

/// Why a project could not be read, built or written.
#[derive(Debug, thiserror::Error)]
pub enum AuthoringError {
    /// No project file where one was expected.
    #[error("no {PROJECT_FILE} in {0} (make a project with `cloudexec new NAME --lang rust|python|js`)")]
    NoProject(PathBuf),
    /// The project file is not valid.
    #[error("{path}: {message}")]
    InvalidProject {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A build tool is not installed.
    #[error("{tool} is not installed or not on PATH; install it with: {install}")]
    MissingTool {
        /// The program.
        tool: &'static str,
        /// The command that installs it.
        install: &'static str,
    },
    /// The build tool ran and failed.
    #[error("{tool} failed ({status}); its output is above")]
    BuildFailed {
        /// The program.
        tool: &'static str,
        /// Its exit status.
        status: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// `new` would overwrite something.
    #[error("{0} already exists")]
    Exists(PathBuf),
}

/// `std::io::Error` with the path it concerns.
pub(crate) fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> AuthoringError + '_ {
    move |source| AuthoringError::Io { path: path.to_path_buf(), source }
}

impl Project {
    /// The project in `dir` (its `cloudexec.toml`).
    pub fn load(dir: &Path) -> Result<Self, AuthoringError> {
        let path = dir.join(PROJECT_FILE);
        if !path.is_file() {
            return Err(AuthoringError::NoProject(dir.to_path_buf()));
        }
        let text = std::fs::read_to_string(&path).map_err(io_at(&path))?;
        let spec: ProjectSpec = toml::from_str(&text)
            .map_err(|e| AuthoringError::InvalidProject { path: path.clone(), message: e.to_string() })?;
        if spec.name.is_empty() || !spec.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            let message = format!("name {:?} must be letters, digits, '-' and '_'", spec.name);
            return Err(AuthoringError::InvalidProject { path, message });
        }
        Ok(Self { dir: dir.to_path_buf(), spec })
    }

    /// Where `build` puts the component.
    pub fn output(&self) -> PathBuf {
        self.dir.join("target").join(format!("{}.wasm", self.spec.name.replace('-', "_")))
    }
}
