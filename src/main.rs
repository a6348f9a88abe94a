use clap::Parser;
use fargate_rtm::{app, cli::Cli, printer::Printer};

fn main() {
    let cli = Cli::parse();
    let printer = Printer::new(cli.color, cli.quiet);
    std::process::exit(app::run(cli, &printer));
}
