use clap::Parser;
use fargate_rtm::{cli::Cli, commands, printer::Printer};

fn main() {
    let cli = Cli::parse();
    let printer = Printer::new(cli.color.into(), cli.quiet, cli.verbose);
    std::process::exit(commands::run(cli, &printer));
}
