//! Files into documents: command-line paths expanded (directories walked as ripgrep walks them:
//! every `*.json` below that `.gitignore`, `.ignore`, `node_modules` and `.git` leave, hidden
//! folders included, sorted), bytes read (standard input at most once). This is an
//! edge module: it reads the file system; parsing is `model::document::parse`.

use crate::model::{InputError, Origin};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::io::Read;
use std::path::{Path, PathBuf};

/// ECS caps a task definition at 64 KiB; anything far larger is not one.
pub const MAX_INPUT_BYTES: u64 = 32 * 1024 * 1024;

/// What a directory walk takes: `--include` and `--exclude` globs on each file's path below
/// the directory (`**/task-definition*.json`, `examples/**`).
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Named files too are ignored when they are not ECS documents (`--ignore-non-ecs`).
    pub named_like_walked: bool,
}

/// The inputs of a command.
#[derive(Debug, Default)]
pub struct Expanded {
    pub origins: Vec<Origin>,
    pub errors: Vec<InputError>,
    /// For each origin, whether a directory walk found it (it was not named on the command
    /// line): one that is not an ECS document is ignored, not an error.
    pub walked: Vec<bool>,
}

fn globs(patterns: &[String], flag: &str) -> Result<Option<GlobSet>, String> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).map_err(|e| format!("`{flag} {p}`: {e}"))?);
    }
    b.build().map(Some).map_err(|e| format!("`{flag}`: {e}"))
}

/// Expands the command-line paths into the list of inputs, in order. Directories are walked as
/// ripgrep walks them (`.gitignore` and `.ignore` are respected, symlinked directories are not
/// followed) but for hidden folders, which are walked (`.aws/task-definition.json`) except
/// version control ones; `node_modules` is skipped. Every `*.json` left is an input.
pub fn expand(args: &[String], filter: &Filter) -> Result<Expanded, String> {
    let include = globs(&filter.include, "--include")?;
    let exclude = globs(&filter.exclude, "--exclude")?;
    let mut out = Expanded::default();
    for arg in args {
        if arg == "-" {
            out.origins.push(Origin::Stdin);
            out.walked.push(false);
            continue;
        }
        let path = PathBuf::from(arg);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => {
                let mut found = Vec::new();
                // A folder that cannot be read is an error; the rest of the walk goes on.
                for e in walk(&path, &mut found) {
                    out.errors.push(InputError::new(
                        arg.clone(),
                        format!("cannot read the directory: {e}"),
                        None,
                    ));
                }
                found.retain(|f| {
                    let rel = f.strip_prefix(&path).unwrap_or(f);
                    include.as_ref().is_none_or(|g| g.is_match(rel))
                        && !exclude.as_ref().is_some_and(|g| g.is_match(rel))
                });
                found.sort();
                if found.is_empty() {
                    out.errors.push(InputError::new(
                        arg.clone(),
                        "no `*.json`, `*.yaml` or `*.yml` file in this directory",
                        Some("give the files or a directory that holds them"),
                    ));
                }
                for f in found {
                    let relative = f
                        .strip_prefix(&path)
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|_| f.clone());
                    out.walked.push(true);
                    out.origins.push(Origin::File { path: f, relative });
                }
            }
            Ok(_) => {
                let relative = path
                    .file_name()
                    .map(PathBuf::from)
                    .unwrap_or_else(|| path.clone());
                out.origins.push(Origin::File { path, relative });
                out.walked.push(filter.named_like_walked);
            }
            Err(e) => out.errors.push(InputError::new(
                arg.clone(),
                format!("cannot read: {}", io_reason(&e)),
                None,
            )),
        }
    }
    relative_to_cwd(&mut out.origins);
    Ok(out)
}

/// Each file's path for `--out-dir`: relative to the current directory when it is below it;
/// the files outside it keep their path below their nearest common ancestor. Two inputs never
/// share one.
fn relative_to_cwd(origins: &mut [Origin]) {
    let cwd = std::env::current_dir().ok();
    let absolute = |p: &Path| match &cwd {
        Some(c) if p.is_relative() => c.join(p),
        _ => p.to_path_buf(),
    };
    // Lexically: `a/./b` and `a/../a/b` are one path.
    let clean = |p: PathBuf| -> PathBuf {
        let mut out = PathBuf::new();
        for c in p.components() {
            match c {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    out.pop();
                }
                other => out.push(other),
            }
        }
        out
    };
    let mut outside: Vec<(usize, PathBuf)> = Vec::new();
    let mut all: Vec<PathBuf> = Vec::new();
    for (i, o) in origins.iter_mut().enumerate() {
        let Origin::File { path, relative } = o else {
            continue;
        };
        let abs = clean(absolute(path));
        all.push(abs.clone());
        match cwd
            .as_ref()
            .and_then(|c| abs.strip_prefix(clean(c.clone())).ok())
        {
            Some(rel) if !rel.as_os_str().is_empty() => *relative = rel.to_path_buf(),
            _ => outside.push((i, abs)),
        }
    }
    if outside.is_empty() {
        return;
    }
    // The nearest common ancestor of every input.
    let mut common: PathBuf = all[0].parent().map(Path::to_path_buf).unwrap_or_default();
    for p in &all {
        while !p.starts_with(&common) {
            if !common.pop() {
                break;
            }
        }
    }
    for (i, abs) in outside {
        if let Origin::File { relative, .. } = &mut origins[i] {
            *relative = abs
                .strip_prefix(&common)
                .map_or_else(|_| abs.components().skip(1).collect(), Path::to_path_buf);
        }
    }
}

/// A `.tf` document with the files of its module (what its values are read from and its fixes
/// may edit); any other document as it is.
pub fn with_module(mut doc: crate::model::Document) -> crate::model::Document {
    if doc.shape == crate::model::Shape::Terraform
        && let crate::model::Origin::File { path, .. } = &doc.origin
    {
        doc.module = module_files(path);
    }
    doc
}

/// The files of the Terraform module `tf` is in: its `.tf`, `.tfvars` and `.json` files (what
/// `var.`, `local.` and `file()` read). A file that cannot be read is left out.
pub fn module_files(tf: &Path) -> Vec<crate::model::tf::File> {
    let dir = tf
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<crate::model::tf::File> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|e| e == "tf" || e == "tfvars" || e == "json")
        })
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            Some(crate::model::tf::File {
                name: p.file_name()?.to_string_lossy().into_owned(),
                text: text
                    .strip_prefix('\u{feff}')
                    .map_or(text.clone(), str::to_string),
            })
        })
        .collect();
    // Files `file("...")` reads from folders below (`file("${path.module}/defs/app.json")`).
    let mut referenced = Vec::new();
    for f in out.iter().filter(|f| f.name.ends_with(".tf")) {
        for (i, _) in f.text.match_indices("file(\"") {
            let rest = &f.text[i + 6..];
            if let Some(end) = rest.find("\")") {
                let name = rest[..end]
                    .trim_start_matches("${path.module}/")
                    .trim_start_matches("./");
                if name.contains('/')
                    && !name.starts_with('/')
                    && !name.contains("..")
                    && !name.contains("${")
                    && let Ok(text) = std::fs::read_to_string(dir.join(name))
                {
                    referenced.push(crate::model::tf::File {
                        name: name.to_string(),
                        text,
                    });
                }
            }
        }
    }
    out.extend(referenced);
    out.extend(module_calls(dir));
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    out
}

/// A `module` block calling a local module: the module's folder (canonical), the calling
/// file, and the inputs it sets.
struct Call {
    target: PathBuf,
    caller: PathBuf,
    inputs: Vec<String>,
}

/// The local module calls (`source = "./..."` or `"../..."`) in the `.tf` file `path`.
fn calls_in(path: &Path, out: &mut Vec<Call>) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    if !text.contains("module") {
        return;
    }
    let Ok(body) = crate::model::tf::parse(text.trim_start_matches('\u{feff}')) else {
        return;
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    for b in body.get_blocks("module") {
        let Some(source) = b
            .body
            .get_attribute("source")
            .and_then(|a| a.value.as_str().map(str::to_string))
        else {
            continue;
        };
        if !source.starts_with('.') {
            continue;
        }
        let Ok(target) = std::fs::canonicalize(dir.join(&source)) else {
            continue;
        };
        let inputs: Vec<String> = b
            .body
            .attributes()
            .map(|a| a.key.value().to_string())
            .filter(|k| {
                !matches!(
                    k.as_str(),
                    "source" | "version" | "providers" | "count" | "for_each" | "depends_on"
                )
            })
            .collect();
        out.push(Call {
            target,
            caller: path.to_path_buf(),
            inputs,
        });
    }
}

/// Every local module call in the `.tf` files of the git repository at `root` (what
/// `.gitignore` leaves, hidden folders such as `.terraform` left out), read once per run.
fn repository_calls(root: &Path) -> std::sync::Arc<Vec<Call>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Vec<Call>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(c) = cache.lock().ok().and_then(|m| m.get(root).cloned()) {
        return c;
    }
    let mut calls = Vec::new();
    for entry in ignore::WalkBuilder::new(root)
        .hidden(true)
        .require_git(false)
        .build()
        .filter_map(Result::ok)
    {
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "tf")
            && entry.file_type().is_some_and(|t| t.is_file())
        {
            calls_in(p, &mut calls);
        }
    }
    let calls = Arc::new(calls);
    if let Ok(mut m) = cache.lock() {
        m.insert(root.to_path_buf(), calls.clone());
    }
    calls
}

/// The calls of the module in `dir`: from any `.tf` file of its git repository (a root module
/// in `envs/prod` calling `../../modules/svc`), or outside a repository from `.tf` files in up
/// to four parent folders. For each, a `(module call) PATH` file listing the inputs it sets, one
/// per line.
fn module_calls(dir: &Path) -> Vec<crate::model::tf::File> {
    let Ok(target) = std::fs::canonicalize(dir) else {
        return Vec::new();
    };
    let mut calls = Vec::new();
    let repository = target.ancestors().find(|a| a.join(".git").exists());
    let from_repo;
    let found: &[Call] = match repository {
        Some(root) => {
            from_repo = repository_calls(root);
            &from_repo
        }
        None => {
            for p in target.ancestors().skip(1).take(4) {
                if let Ok(entries) = std::fs::read_dir(p) {
                    for e in entries.filter_map(Result::ok) {
                        let path = e.path();
                        if path.extension().is_some_and(|x| x == "tf") {
                            calls_in(&path, &mut calls);
                        }
                    }
                }
            }
            &calls
        }
    };
    found
        .iter()
        .filter(|c| c.target == target)
        .map(|c| crate::model::tf::File {
            name: format!("(module call) {}", c.caller.display()),
            text: c.inputs.join("\n"),
        })
        .collect()
}

/// `yaml`/`yml`: a CloudFormation template may be YAML.
pub fn is_yaml(ext: &std::ffi::OsStr) -> bool {
    ext == "yaml" || ext == "yml"
}

/// The `*.json`, `*.yaml` and `*.yml` files below `dir` (unsorted), walked on every core; returns what could not be
/// read (sorted, so the report is the same on every run).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Vec<String> {
    use ignore::WalkState;
    use std::sync::Mutex;
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(8);
    let walker = ignore::WalkBuilder::new(dir)
        .standard_filters(true)
        // Hidden folders are walked: GitHub's ECS deploy workflow keeps the task definition in
        // `.aws/task-definition.json`. Version control folders are not.
        .hidden(false)
        // `.gitignore` counts outside a git checkout too (a downloaded tree, a CI workspace).
        .require_git(false)
        .follow_links(false)
        .threads(threads)
        .filter_entry(|e| {
            !matches!(
                e.file_name().to_str(),
                Some("node_modules" | ".git" | ".hg" | ".svn")
            )
        })
        .build_parallel();
    let found = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    walker.run(|| {
        let found = &found;
        let errors = &errors;
        Box::new(move |entry| match entry {
            Ok(entry) => {
                let path = entry.path();
                let is_file = entry.file_type().is_some_and(|t| t.is_file())
                    || (entry.path_is_symlink() && path.is_file());
                if is_file
                    && path
                        .extension()
                        .is_some_and(|e| e == "json" || e == "tf" || is_yaml(e))
                {
                    found
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(path.to_path_buf());
                }
                WalkState::Continue
            }
            Err(e) => {
                errors
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(e.to_string());
                WalkState::Continue
            }
        })
    });
    out.extend(
        found
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    let mut errors = errors
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    errors.sort();
    errors
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Reads the bytes of an input (standard input at most once).
pub fn read(origin: &Origin) -> Result<Vec<u8>, InputError> {
    let name = origin.display();
    let mut buf = Vec::new();
    let res = match origin {
        Origin::File { path, .. } => std::fs::File::open(path)
            .and_then(|f| f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut buf)),
        Origin::Stdin => std::io::stdin()
            .lock()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut buf),
        Origin::Account { .. } => Err(std::io::Error::other(
            "a live resource is read through AWS, not as a file",
        )),
    };
    res.map_err(|e| {
        InputError::new(
            name.clone(),
            format!("cannot read: {}", io_reason(&e)),
            None,
        )
    })?;
    if buf.len() as u64 > MAX_INPUT_BYTES {
        return Err(InputError::new(
            name,
            "file is larger than 32 MiB: not a task or service definition",
            None,
        ));
    }
    Ok(buf)
}
