//! Who this client may trust, before it sends anything (docs/protocol.md section 1; the
//! same rules as the daemon and the Python client's `nxuskit.trust`):
//!
//! - **The chain.** Every directory from `/` down to the socket's directory is owned by
//!   this user or root and writable by nobody else, unless it is root-owned and sticky
//!   (`/tmp`). A symlink on the way must be owned by this user or root, and its target
//!   passes the same rules.
//! - **The private directory.** The socket's own directory is a real directory (not a
//!   symlink), owned by this user, with no group or other permission bits.
//! - **The peer.** Once connected, the kernel's word on who serves the socket
//!   (`SO_PEERCRED`; `LOCAL_PEERCRED` on macOS) must be this user.
//!
//! Each failure is a [`ErrorKind::PermissionDenied`] naming the path and its owner.

use std::fs::{self, Metadata};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::os::unix::net::UnixStream;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};
use crate::sys;

const MAX_LINKS: usize = 16;
const FIX: &str = "use a directory only you can write to (set XDG_RUNTIME_DIR, or NXUSKIT_SOCKET)";
const STICKY: u32 = 0o1000;

fn denied(message: String) -> Error {
    Error::new(ErrorKind::PermissionDenied, message)
}

/// `uid 1000 (ada)`, or `uid 1000` when /etc/passwd has no name for it.
pub fn owner_name(uid: u32) -> String {
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    let wanted = uid.to_string();
    let name = passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == wanted).then(|| name.to_owned())
    });
    match name {
        Some(name) => format!("uid {uid} ({name})"),
        None => format!("uid {uid}"),
    }
}

fn is_symlink(metadata: &Metadata) -> bool {
    metadata.file_type().is_symlink()
}

/// Check every directory from `/` down to `directory` (a missing one ends the walk: its
/// parent was checked, and whoever creates it creates it for us).
pub fn check_directory_chain(directory: &Path, uid: u32) -> Result<()> {
    walk(directory, uid, 0)
}

fn walk(path: &Path, uid: u32, links: usize) -> Result<()> {
    let mut current = PathBuf::from("/");
    check_link_or_dir(&current, &lstat(&current)?, uid)?;
    for component in path.components() {
        let name = match component {
            Component::Normal(name) => name,
            _ => continue,
        };
        let step = current.join(name);
        let metadata = match fs::symlink_metadata(&step) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(denied(format!("cannot check {}: {error}", step.display()))),
        };
        check_link_or_dir(&step, &metadata, uid)?;
        if is_symlink(&metadata) {
            if links >= MAX_LINKS {
                return Err(denied(format!("too many symlinks on the way to {}", path.display())));
            }
            let target = match fs::canonicalize(&step) {
                Ok(target) => target,
                Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(error) => {
                    return Err(denied(format!("cannot follow {}: {error}", step.display())))
                }
            };
            walk(&target, uid, links + 1)?;
            current = target;
        } else {
            current = step;
        }
    }
    Ok(())
}

fn lstat(path: &Path) -> Result<Metadata> {
    fs::symlink_metadata(path)
        .map_err(|error| denied(format!("cannot check {}: {error}", path.display())))
}

fn check_link_or_dir(path: &Path, metadata: &Metadata, uid: u32) -> Result<()> {
    let owner = metadata.uid();
    if owner != uid && owner != 0 {
        let kind = if is_symlink(metadata) { "symlink" } else { "directory" };
        return Err(denied(format!(
            "the {kind} {} belongs to {}, who could redirect nxuskit's socket: {FIX}",
            path.display(),
            owner_name(owner)
        )));
    }
    if is_symlink(metadata) {
        return Ok(());
    }
    if !metadata.is_dir() {
        return Err(denied(format!("{} is not a directory", path.display())));
    }
    let mode = metadata.mode();
    if mode & 0o022 != 0 && !(owner == 0 && mode & STICKY != 0) {
        return Err(denied(format!(
            "{} can be written by other users (mode {:04o}, owner {}), who could replace what \
             is in it: {FIX}",
            path.display(),
            mode & 0o7777,
            owner_name(owner)
        )));
    }
    Ok(())
}

/// `directory` (which must exist) is a real directory of `uid`, closed to others.
pub fn check_private_directory(directory: &Path, uid: u32) -> Result<()> {
    let metadata = lstat(directory)?;
    let shown = directory.display();
    if is_symlink(&metadata) {
        return Err(denied(format!(
            "{shown} is a symlink: nxuskit's socket directory must be a real directory; remove \
             the link and let nxuskit create it"
        )));
    }
    if !metadata.is_dir() {
        return Err(denied(format!("{shown} is not a directory: move it away")));
    }
    if metadata.uid() != uid {
        return Err(denied(format!(
            "{shown} belongs to {}, not to you ({}): nxuskit will not use it; {FIX}",
            owner_name(metadata.uid()),
            owner_name(uid)
        )));
    }
    let mode = metadata.mode();
    if mode & 0o077 != 0 {
        let problem = format!("{shown} is open to other users (mode {:04o})", mode & 0o7777);
        // Only nxuskit's own directory may be tightened; /tmp or a home is someone's choice.
        if directory.file_name() == Some(std::ffi::OsStr::new("nxuskit")) && mode & STICKY == 0 {
            return Err(denied(format!("{problem}: run chmod 700 {shown}")));
        }
        return Err(denied(format!(
            "{problem}: the socket needs a directory of its own, like {} or the default in \
             $XDG_RUNTIME_DIR (set it with --socket or NXUSKIT_SOCKET)",
            directory.join("nxuskit").join("nxuskitd.sock").display()
        )));
    }
    Ok(())
}

/// The chain above `directory` passes, and `directory` itself is private.
pub fn check_socket_directory(directory: &Path, uid: u32) -> Result<()> {
    check_directory_chain(directory.parent().unwrap_or(Path::new("/")), uid)?;
    check_private_directory(directory, uid)
}

/// Create `directory` and its missing parents with mode 0700, checking the chain as it
/// goes; an existing directory is checked, never changed.
pub fn make_private_directory(directory: &Path) -> Result<()> {
    let uid = sys::effective_uid();
    check_directory_chain(directory.parent().unwrap_or(Path::new("/")), uid)?;
    let mut missing = Vec::new();
    let mut path = directory;
    while fs::symlink_metadata(path).is_err() {
        missing.push(path);
        match path.parent() {
            Some(parent) => path = parent,
            None => break,
        }
    }
    for path in missing.into_iter().rev() {
        match fs::DirBuilder::new().mode(0o700).create(path) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {} // judged below
            Err(error) => {
                let message = format!("cannot create {}: {error}", path.display());
                return Err(Error::new(ErrorKind::DaemonUnavailable, message));
            }
        }
        check_directory_chain(path.parent().unwrap_or(Path::new("/")), uid)?;
    }
    check_socket_directory(directory, uid)
}

/// Refuse a daemon that is not this user's (call before sending anything).
pub fn check_peer(stream: &UnixStream, path: &Path) -> Result<()> {
    let me = sys::effective_uid();
    let uid = match sys::peer_uid(stream) {
        Ok(uid) => uid,
        Err(_) => {
            return Err(denied(format!(
                "cannot tell who serves {} on this system, so nothing was sent to it",
                path.display()
            )));
        }
    };
    if uid != me {
        return Err(denied(format!(
            "refusing {}: it is served by {}, not by you ({}), so nothing was sent to it; {FIX}",
            path.display(),
            owner_name(uid),
            owner_name(me)
        )));
    }
    Ok(())
}
