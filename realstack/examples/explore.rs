//! Explore one real-stack scenario from the command line (a development aid; the CLI proper is
//! `poolcheck run`):
//!
//! `cargo run -p poolcheck-realstack --example explore -- <file> <random|pct|nondeterminism> <seed> <iterations>`
//! `cargo run -p poolcheck-realstack --example explore -- <file> replay '<case>@pc1:...'`

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, scheduler, rest @ ..] = args.as_slice() else {
        eprintln!("usage: explore <file> <random|pct|nondeterminism> <seed> <iterations> | <file> replay <schedule>");
        std::process::exit(2);
    };
    let sc = poolcheck_realstack::load(file.as_ref()).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let trial = if scheduler == "replay" {
        poolcheck_realstack::replay(&sc, &rest[0])
    } else {
        let seed = rest.first().map_or(Ok(1), |s| s.parse()).expect("a seed");
        let iterations = rest
            .get(1)
            .map_or(Ok(100), |s| s.parse())
            .expect("iterations");
        poolcheck_realstack::run(&sc, scheduler, seed, iterations)
    }
    .unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    print!("{}", trial.render_text());
    let per_sec = trial.executions as f64 * 1000.0 / trial.elapsed_ms.max(1) as f64;
    println!(
        "{per_sec:.0} executions/s; wire digest {}",
        trial.wire_digest
    );
    std::process::exit(if trial.ok { 0 } else { 1 });
}
