//! Command-line arguments (clap derive structs only).

//! Its value enums are mapped onto the core's types here, so the core never names clap.

use crate::check::EcrPolicy;
use crate::model::Applicability;
use crate::printer::ColorChoice;
use crate::render::Format;
use crate::render::text::DiffMode;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "fargate-rtm",
    version,
    about = "Find and fix what keeps GuardDuty Runtime Monitoring off your ECS tasks on AWS Fargate"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// When to colour output
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Print only data and errors
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print the cause of each error
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

impl From<ColorArg> for ColorChoice {
    fn from(c: ColorArg) -> Self {
        match c {
            ColorArg::Auto => ColorChoice::Auto,
            ColorArg::Always => ColorChoice::Always,
            ColorArg::Never => ColorChoice::Never,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Patch,
    Sarif,
    Html,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Patch => Format::Patch,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Html => Format::Html,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffArg {
    /// Every diff up to 20 changed documents; past that, none (the summary says how to see them)
    Auto,
    All,
    None,
}

impl From<DiffArg> for DiffMode {
    fn from(d: DiffArg) -> Self {
        match d {
            DiffArg::Auto => DiffMode::Auto,
            DiffArg::All => DiffMode::All,
            DiffArg::None => DiffMode::None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnlyArg {
    /// Fixes that change no cost and restart nothing
    Safe,
}

impl From<OnlyArg> for Applicability {
    fn from(o: OnlyArg) -> Self {
        match o {
            OnlyArg::Safe => Applicability::Safe,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum EcrPolicyArg {
    #[default]
    Scoped,
    Managed,
}

impl From<EcrPolicy> for EcrPolicyArg {
    fn from(p: EcrPolicy) -> Self {
        match p {
            EcrPolicy::Scoped => EcrPolicyArg::Scoped,
            EcrPolicy::Managed => EcrPolicyArg::Managed,
        }
    }
}

impl From<EcrPolicyArg> for EcrPolicy {
    fn from(p: EcrPolicyArg) -> Self {
        match p {
            EcrPolicyArg::Scoped => EcrPolicy::Scoped,
            EcrPolicyArg::Managed => EcrPolicy::Managed,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read-only: findings and the planned fixes as a diff
    Plan(PlanArgs),
    /// Apply the planned fixes after confirmation
    Apply(ApplyArgs),
    /// Undo a live apply from its journal, newest step first
    Rollback(RollbackArgs),
    /// What a check means, why GuardDuty needs it, and how it is fixed
    Explain(ExplainArgs),
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The journal `apply --live` wrote, or the folder of journals `apply --live --org` wrote
    #[arg(value_name = "JOURNAL")]
    pub journal: PathBuf,
    /// Roll back without asking
    #[arg(long)]
    pub auto_approve: bool,
    /// Also deregister the task-definition revisions the apply registered
    #[arg(long)]
    pub deregister: bool,
    /// The run to undo, when the journal holds several
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    /// Undo steps whose resource changed since the apply, too
    #[arg(long)]
    pub force: bool,
    /// Named profile from the AWS config files
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// A run's folder (`apply --live --org`): the roles assumed in its accounts
    #[command(flatten)]
    pub roles: RoleArgs,
}

/// The role assumed in each account of an organization.
#[derive(Debug, Args, Clone, Default)]
pub struct RoleArgs {
    /// Role assumed in each account [default: OrganizationAccountAccessRole]
    #[arg(long, value_name = "NAME")]
    pub role_name: Option<String>,
    /// Role ARN per account, `{account}` replaced (`arn:aws:iam::{account}:role/Audit`)
    #[arg(long, value_name = "TEMPLATE")]
    pub role_arn_template: Option<String>,
    /// External id for the assumed roles
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct FixArgs {
    /// Execution role to set where `executionRoleArn` is missing
    #[arg(long, value_name = "ARN")]
    pub execution_role_arn: Option<String>,
    /// Platform version to set where it is below 1.4.0 [default: LATEST]
    #[arg(long, value_name = "VERSION")]
    pub platform_version: Option<String>,
    /// Strip describe-only fields and unwrap `taskDefinition` so the output feeds `register-task-definition --cli-input-json`
    #[arg(long)]
    pub registerable: bool,
    /// A CloudFormation parameter value, as deploy takes it (repeatable)
    #[arg(long = "parameter", value_name = "NAME=VALUE")]
    pub parameters: Vec<String>,
}

/// What a directory walk takes.
#[derive(Debug, Args, Clone, Default)]
pub struct WalkArgs {
    /// In directories, only files whose path below the directory matches GLOB (repeatable)
    #[arg(long = "include", value_name = "GLOB")]
    pub include: Vec<String>,
    /// In directories, leave out files whose path below the directory matches GLOB (repeatable)
    #[arg(long = "exclude", value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Ignore named files that are not ECS documents too, as a walk does (for hooks that pass
    /// every changed `*.json`)
    #[arg(long)]
    pub ignore_non_ecs: bool,
}

impl From<&WalkArgs> for crate::input::files::Filter {
    fn from(w: &WalkArgs) -> Self {
        crate::input::files::Filter {
            include: w.include.clone(),
            exclude: w.exclude.clone(),
            named_like_walked: w.ignore_non_ecs,
        }
    }
}

/// Where `--live` reads (and `apply --live` changes).
#[derive(Debug, Args, Clone, Default)]
pub struct LiveArgs {
    /// Read a real AWS account (read-only calls) instead of files
    #[arg(long)]
    pub live: bool,
    /// Region to scan (repeatable) [default: the profile's or environment's region]
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// Only this cluster (name or ARN; repeatable)
    #[arg(long = "cluster", value_name = "NAME")]
    pub clusters: Vec<String>,
    /// Only this service (name or ARN; repeatable)
    #[arg(long = "service", value_name = "NAME")]
    pub services: Vec<String>,
    /// Named profile from the AWS config files
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Profile for reading Organizations SCPs (management or delegated administrator account)
    #[arg(long, value_name = "PROFILE")]
    pub org_profile: Option<String>,
    /// How the ECR fix grants access: a scoped inline policy, or the managed policy
    #[arg(long, value_enum, default_value_t = EcrPolicyArg::Scoped)]
    pub ecr_policy: EcrPolicyArg,
    /// Scan every active account of the organization (listed with `--org-profile`, or the
    /// current identity)
    #[arg(long)]
    pub org: bool,
    /// Scan these accounts (comma-separated ids), assuming a role in each
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub accounts: Vec<String>,
    /// Scan the accounts of a c7n-org `accounts.yml` (`accounts: [{account_id, name, role,
    /// regions, tags}]`)
    #[arg(long, value_name = "FILE")]
    pub accounts_file: Option<PathBuf>,
    #[command(flatten)]
    pub roles: RoleArgs,
    /// Accounts × regions scanned at once, across the organization
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub concurrency: usize,
    /// Print the number of AWS calls per API on stderr at the end
    #[arg(long, hide = true)]
    pub call_stats: bool,
}

impl LiveArgs {
    /// True when more than the current identity's account is scanned.
    pub fn many_accounts(&self) -> bool {
        self.org || !self.accounts.is_empty() || self.accounts_file.is_some()
    }
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Task or service definition files, directories (every `*.json` below that `.gitignore`
    /// leaves; other JSON is ignored), or `-` for stdin
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub walk: WalkArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Which diffs text output shows: all up to 20 changed documents (auto), all, or none
    #[arg(long, value_enum, default_value_t = DiffArg::Auto)]
    pub diff: DiffArg,
    /// Save the plan to apply it later with `fargate-rtm apply PLAN_FILE`
    #[arg(long, value_name = "PLAN_FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub fix: FixArgs,
    #[command(flatten)]
    pub live: LiveArgs,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Files, directories, `-` for stdin, or one plan file saved by `plan --out`
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub walk: WalkArgs,
    /// Apply without asking
    #[arg(long)]
    pub auto_approve: bool,
    /// Rewrite the input files (atomically)
    #[arg(long, conflicts_with = "out_dir")]
    pub in_place: bool,
    /// Write patched copies under DIR, with the same relative paths
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Where `apply --live` writes its journal [default: .fargate-rtm/journal-TIME.jsonl]
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// Account changes: carry out only the fixes of this class (safe: no cost, no redeploy)
    #[arg(long, value_enum, value_name = "CLASS")]
    pub only: Option<OnlyArg>,
    #[command(flatten)]
    pub fix: FixArgs,
    #[command(flatten)]
    pub live: LiveArgs,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A check's slug (all checks when omitted)
    pub check: Option<String>,
}
