//! `hilo_dump`: a readable table of every known thread, for a stuck program
//! (a `jstack` for C). It never waits long on a record another thread holds.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use crate::error::{Error, Result};
use crate::joins;
use crate::os;
use crate::registry::{
    registry, Word, DAEMON, DUMMY, FINISHED, MAIN, RELEASED, RUNNING, UNSTARTED,
};

fn state_text(word: Word) -> String {
    let mut text = match word.state() {
        UNSTARTED => "unstarted",
        RUNNING => "running",
        FINISHED => "finished",
        _ => "free",
    }
    .to_string();
    for (flag, label) in [(MAIN, "main"), (DUMMY, "dummy"), (RELEASED, "released")] {
        if word.has(flag) {
            text.push_str(", ");
            text.push_str(label);
        }
    }
    text
}

/// The table as text.
pub fn table() -> String {
    let mut rows = Vec::new();
    registry().for_each(|handle, slot, word| {
        let joining = match joins::blocked_on(handle) {
            Some(target) => format!("{target:#x} ({})", joins::name_for_message(target)),
            None => "-".to_string(),
        };
        rows.push([
            format!("{handle:#x}"),
            joins::name_for_message(handle),
            if word.has(DAEMON) { "yes" } else { "no" }.to_string(),
            state_text(word),
            slot.native_id.load(Ordering::Acquire).to_string(),
            joining,
        ]);
    });
    let header = ["HANDLE", "NAME", "DAEMON", "STATE", "NATIVE_ID", "JOINING"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let pid = os::getpid();
    let mut out = format!("hilo thread dump: pid {pid}, {} threads\n", rows.len());
    let header = header.map(String::from);
    for row in std::iter::once(&header).chain(&rows) {
        let last = row.len() - 1;
        for (i, cell) in row.iter().enumerate() {
            if i == last {
                let _ = writeln!(out, "{cell}");
            } else {
                let _ = write!(out, "{cell:<width$}  ", width = widths[i]);
            }
        }
    }
    out
}

/// Writes the table to `fd`.
pub fn dump(fd: i32) -> Result<()> {
    if !os::is_open_fd(fd) {
        return Err(Error::invalid(format!(
            "fd {fd} is not an open file descriptor"
        )));
    }
    os::write_all(fd, table().as_bytes())
        .map_err(|err| Error::invalid(format!("cannot write the dump to fd {fd}: {err}")))
}
