//! Everything cycle-check parses that it did not write itself: HTTP
//! responses from the service, probe URLs, /proc/PID/stat lines,
//! /proc/PID/cmdline and status, /proc/net/tcp tables, sock_diag
//! datagrams and pidfiles. None may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // An HTTP response, split at an arbitrary point as reads would split it.
    let cut = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let mut parser = cycle_check::http::ResponseParser::default();
    let done = matches!(parser.feed(&data[..cut]), Ok(Some(_)) | Err(_))
        || matches!(parser.feed(&data[cut..]), Ok(Some(_)) | Err(_));
    if !done {
        let _ = parser.finish_at_eof();
    }
    let mut out = Vec::new();
    let _ = cycle_check::sock_diag::parse(data, &mut out);
    let _ = cycle_check::procfs::join_cmdline(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = cycle_check::procfs::caught_mask(text);
        let _ = cycle_check::pidfile::parse(text);
        let _ = cycle_check::http::Url::parse(text);
        let _ = cycle_check::procfs::parse_stat(text);
        let _ = cycle_check::procfs::parse_net_tcp(text, false);
        let _ = cycle_check::procfs::parse_net_tcp(text, true);
    }
});
