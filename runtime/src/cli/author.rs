//! `cloudexec new`, `build` and `test`: the author's loop on a project directory
//! (`cloudexec.toml`), the same for every guest language.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{CliError, ExitCode};
use crate::authoring::build::{BuildOptions, build};
use crate::authoring::{AuthoringError, Kind, Lang, Project, cases, new};
use crate::engine::testing::TestRuntime;
use crate::engine::{Engine, EngineConfig};

impl From<AuthoringError> for CliError {
    fn from(error: AuthoringError) -> Self {
        let code = match error {
            AuthoringError::Io { .. } => ExitCode::Internal,
            _ => ExitCode::Input,
        };
        Self { message: error.to_string(), code }
    }
}

/// Arguments of `cloudexec new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The project's directory, created; its last component names the function or bin.
    pub name: PathBuf,
    /// The guest language.
    #[arg(long, value_enum)]
    pub lang: Lang,
    /// What to make.
    #[arg(long, value_enum, default_value = "function")]
    pub kind: Kind,
    /// The Rust SDK's directory (`guest-sdk` of a cloudexec checkout); Rust projects
    /// depend on it by path. Default: the checkout this binary was built from.
    #[arg(long, env = "CLOUDEXEC_RUST_SDK")]
    pub sdk_path: Option<PathBuf>,
}

/// Arguments of `cloudexec build` and `cloudexec test`.
#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// The project's directory (holding `cloudexec.toml`).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

pub(super) fn create(args: NewArgs) -> Result<ExitCode, CliError> {
    let sdk = args.sdk_path.or_else(new::default_rust_sdk);
    new::create(&args.name, args.lang, args.kind, sdk.as_deref())?;
    let dir = args.name.display();
    println!("created {dir}");
    println!("next: cd {dir} && cloudexec build && cloudexec test");
    Ok(ExitCode::Ok)
}

pub(super) fn build_project(args: ProjectArgs) -> Result<ExitCode, CliError> {
    let project = Project::load(&args.dir)?;
    let wasm = build(&project, &BuildOptions::default())?;
    println!("built {}", wasm.display());
    Ok(ExitCode::Ok)
}

/// Builds the project in `dir` when it is one; the component's path and the project.
pub(in crate::cli) fn built_component(path: &Path) -> Result<(PathBuf, Option<Project>), CliError> {
    if !path.is_dir() {
        return Ok((path.to_path_buf(), None));
    }
    let project = Project::load(path)?;
    let wasm = build(&project, &BuildOptions { quiet: true, ..BuildOptions::default() })?;
    Ok((wasm, Some(project)))
}

pub(super) fn test(args: ProjectArgs) -> Result<ExitCode, CliError> {
    let project = Project::load(&args.dir)?;
    let wasm = build(&project, &BuildOptions { quiet: true, ..BuildOptions::default() })?;
    let cache = project.dir.join("target/cache");
    let rt = TestRuntime::with_engine(Engine::new(EngineConfig { cache_dir: Some(cache), ..EngineConfig::default() })?);
    let outcomes = cases::run_all(&rt, &wasm, project.spec.kind == Kind::Bin, &project.spec.tests);
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    for outcome in &outcomes {
        match &outcome.failure {
            None => println!("ok     {}", outcome.name),
            Some(why) => println!("FAILED {}: {why}", outcome.name),
        }
    }
    println!("{} passed, {failed} failed", outcomes.len() - failed);
    Ok(if failed == 0 { ExitCode::Ok } else { ExitCode::GuestError })
}
