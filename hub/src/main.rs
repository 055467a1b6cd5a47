//! `jemput-hub`: the kelurahan hub server (being built in the sync issue).
fn main() {
    eprintln!("jemput-hub: server belum tersedia di versi ini");
    std::process::exit(2);
}
