fn main() { eprintln!("demo-service: not built yet"); std::process::exit(2) }
