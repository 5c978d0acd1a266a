//! The few C library calls that `std` does not offer, declared here so that the crate has
//! no dependencies (the `libc` crate would declare the same). Constants are those of the
//! kernel headers for each OS; the macOS and BSD ones are designed, not run in CI.

use std::fs::File;
use std::io;
use std::os::raw::{c_int, c_long, c_void};
use std::os::unix::io::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};

extern "C" {
    fn geteuid() -> u32;
    fn getuid() -> u32;
    fn flock(fd: c_int, operation: c_int) -> c_int;
    fn getsockopt(fd: c_int, level: c_int, name: c_int, value: *mut c_void, len: *mut u32)
        -> c_int;
    fn send(fd: c_int, buf: *const c_void, len: usize, flags: c_int) -> isize;
    fn recv(fd: c_int, buf: *mut c_void, len: usize, flags: c_int) -> isize;
    fn setsid() -> c_int;
    // off_t is a C long for mmap on Linux (32 and 64 bit) and on 64-bit macOS and BSDs.
    fn mmap(
        address: *mut c_void,
        length: usize,
        protection: c_int,
        flags: c_int,
        fd: c_int,
        offset: c_long,
    ) -> *mut c_void;
    fn munmap(address: *mut c_void, length: usize) -> c_int;
}

const PROT_READ: c_int = 1;
const MAP_SHARED: c_int = 1; // the same on Linux, macOS and the BSDs

const LOCK_EX: c_int = 2;
const MSG_PEEK: c_int = 2;

#[cfg(target_os = "linux")]
const MSG_DONTWAIT: c_int = 0x40;
#[cfg(not(target_os = "linux"))]
const MSG_DONTWAIT: c_int = 0x80;

// A write to a closed peer must come back as EPIPE, not kill the process with SIGPIPE
// (Rust programs ignore SIGPIPE, but a C program embedding this crate may not).
#[cfg(target_os = "linux")]
const SEND_FLAGS: c_int = 0x4000; // MSG_NOSIGNAL
#[cfg(not(target_os = "linux"))]
const SEND_FLAGS: c_int = 0; // SO_NOSIGPIPE is set on the socket instead (no_sigpipe)

/// `O_NOFOLLOW` for `OpenOptionsExt::custom_flags`: its value differs between platforms.
#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "powerpc",
        target_arch = "powerpc64"
    )
))]
pub const O_NOFOLLOW: c_int = 0o100000;
#[cfg(all(target_os = "linux", any(target_arch = "mips", target_arch = "mips64")))]
pub const O_NOFOLLOW: c_int = 0x20000;
#[cfg(all(
    target_os = "linux",
    not(any(
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "powerpc",
        target_arch = "powerpc64",
        target_arch = "mips",
        target_arch = "mips64"
    ))
))]
pub const O_NOFOLLOW: c_int = 0o400000;
#[cfg(not(target_os = "linux"))]
pub const O_NOFOLLOW: c_int = 0x100;

/// `O_NONBLOCK` for `OpenOptionsExt::custom_flags` (opening a FIFO must not wait).
#[cfg(all(target_os = "linux", any(target_arch = "mips", target_arch = "mips64")))]
pub const O_NONBLOCK: c_int = 0x80;
#[cfg(all(target_os = "linux", target_arch = "sparc64"))]
pub const O_NONBLOCK: c_int = 0x4000;
#[cfg(all(
    target_os = "linux",
    not(any(target_arch = "mips", target_arch = "mips64", target_arch = "sparc64"))
))]
pub const O_NONBLOCK: c_int = 0o4000;
#[cfg(not(target_os = "linux"))]
pub const O_NONBLOCK: c_int = 0x4;

/// The effective uid of this process (whose daemon we may talk to).
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid takes nothing and cannot fail.
    unsafe { geteuid() }
}

/// The real uid (the runtime directory `/run/user/<uid>` is named by it).
pub fn real_uid() -> u32 {
    // SAFETY: getuid takes nothing and cannot fail.
    unsafe { getuid() }
}

/// Wait for an exclusive `flock` on `file` (released when the file is closed).
pub fn lock_exclusive(file: &File) -> io::Result<()> {
    loop {
        // SAFETY: the descriptor is open for as long as `file` lives.
        if unsafe { flock(file.as_raw_fd(), LOCK_EX) } == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// The uid of the process that serves the other end of a connected Unix socket.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn peer_uid(stream: &UnixStream) -> io::Result<u32> {
    #[cfg(any(target_arch = "mips", target_arch = "mips64"))]
    const LEVEL_NAME: (c_int, c_int) = (0xffff, 18);
    #[cfg(any(target_arch = "powerpc", target_arch = "powerpc64"))]
    const LEVEL_NAME: (c_int, c_int) = (1, 21);
    #[cfg(target_arch = "sparc64")]
    const LEVEL_NAME: (c_int, c_int) = (0xffff, 0x40);
    #[cfg(not(any(
        target_arch = "mips",
        target_arch = "mips64",
        target_arch = "powerpc",
        target_arch = "powerpc64",
        target_arch = "sparc64"
    )))]
    const LEVEL_NAME: (c_int, c_int) = (1, 17); // SOL_SOCKET, SO_PEERCRED
    let mut credentials = [0u32; 3]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
    read_option(stream, LEVEL_NAME, &mut credentials)?;
    Ok(credentials[1])
}

/// The uid of the process that serves the other end of a connected Unix socket
/// (`LOCAL_PEERCRED`, a `struct xucred`; designed from the headers, not run in CI).
#[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd", target_os = "dragonfly"))]
pub fn peer_uid(stream: &UnixStream) -> io::Result<u32> {
    // struct xucred { u_int cr_version; uid_t cr_uid; short cr_ngroups; gid_t cr_groups[16]; }
    let mut credentials = [0u32; 19];
    read_option(stream, (0, 1), &mut credentials)?; // SOL_LOCAL, LOCAL_PEERCRED
    Ok(credentials[1])
}

/// Other systems: the peer cannot be checked, so nothing may be sent (the caller refuses).
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "dragonfly"
)))]
pub fn peer_uid(_stream: &UnixStream) -> io::Result<u32> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "no peer credentials on this system"))
}

#[allow(dead_code)] // unused on systems without peer credentials
fn read_option(
    stream: &UnixStream,
    (level, name): (c_int, c_int),
    out: &mut [u32],
) -> io::Result<()> {
    let mut length = std::mem::size_of_val(out) as u32;
    // SAFETY: `out` is valid for `length` bytes, and the kernel writes at most that many.
    let status = unsafe {
        getsockopt(stream.as_raw_fd(), level, name, out.as_mut_ptr().cast(), &mut length)
    };
    if status != 0 {
        return Err(io::Error::last_os_error());
    }
    if (length as usize) < 2 * std::mem::size_of::<u32>() {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "short peer credentials"));
    }
    Ok(())
}

/// Where `send(2)` cannot be told to skip SIGPIPE, tell the socket (macOS: SO_NOSIGPIPE).
#[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd", target_os = "dragonfly"))]
pub fn no_sigpipe(stream: &UnixStream) -> io::Result<()> {
    extern "C" {
        fn setsockopt(
            fd: c_int,
            level: c_int,
            name: c_int,
            value: *const c_void,
            len: u32,
        ) -> c_int;
    }
    let on: c_int = 1;
    // SAFETY: `on` is a valid c_int for the duration of the call.
    let status =
        unsafe { setsockopt(stream.as_raw_fd(), 0xffff, 0x1022, (&on as *const c_int).cast(), 4) };
    if status != 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Linux passes MSG_NOSIGNAL with every send instead.
#[cfg(not(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "dragonfly"
)))]
pub fn no_sigpipe(_stream: &UnixStream) -> io::Result<()> {
    Ok(())
}

/// Write all of `bytes`, honouring the socket's send timeout; EPIPE is an error, never a
/// signal.
pub fn send_all(stream: &UnixStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is valid for its length; the descriptor is open.
        let sent =
            unsafe { send(stream.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), SEND_FLAGS) };
        if sent < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        bytes = &bytes[sent as usize..];
    }
    Ok(())
}

/// True when the peer has closed the connection, or sent something nobody asked for,
/// while it sat idle (checked without blocking and without consuming anything).
pub fn closed_or_unasked(stream: &UnixStream) -> bool {
    let mut byte = 0u8;
    // SAFETY: one byte of valid memory; MSG_DONTWAIT never blocks.
    let got = unsafe {
        recv(stream.as_raw_fd(), (&mut byte as *mut u8).cast(), 1, MSG_PEEK | MSG_DONTWAIT)
    };
    if got >= 0 {
        return true; // 0: end of stream; 1: bytes nobody asked for
    }
    let error = io::Error::last_os_error();
    !matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted)
}

/// Start a new session (for a detached daemon): call only between fork and exec.
pub fn new_session() -> io::Result<()> {
    // SAFETY: setsid is async-signal-safe and takes nothing.
    if unsafe { setsid() } < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A read-only shared mapping of the start of a file, read only by aligned atomic 64-bit
/// loads (another process writes it while we read). Unmapped when dropped.
pub struct Mapping {
    address: *mut c_void,
    length: usize,
}

// SAFETY: the mapping is read-only memory of this process, read only by atomic loads, and
// unmapped only by `drop`, which takes it by value: no thread can still be reading it.
unsafe impl Send for Mapping {}
unsafe impl Sync for Mapping {}

impl Mapping {
    /// The first `length` bytes of `file` (at least 8), mapped shared and read-only.
    pub fn read_only(file: &File, length: usize) -> io::Result<Mapping> {
        assert!(length >= 8, "a mapping holds at least one 64-bit word");
        // SAFETY: a fresh mapping of an open descriptor; the kernel picks the address.
        let address = unsafe {
            mmap(std::ptr::null_mut(), length, PROT_READ, MAP_SHARED, file.as_raw_fd(), 0)
        };
        if address as isize == -1 || address.is_null() {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping { address, length })
    }

    /// The 64-bit word at byte `offset` (a multiple of 8), in the file's byte order
    /// (little-endian), read with one atomic load.
    pub fn load_u64_le(&self, offset: usize) -> u64 {
        assert!(offset % 8 == 0 && offset + 8 <= self.length, "an aligned word inside the map");
        // SAFETY: in bounds (checked above) and 8-aligned (mmap returns a page boundary);
        // AtomicU64 has the layout of u64, and only loads are made through it.
        let word = unsafe { &*(self.address.cast::<u8>().add(offset).cast::<AtomicU64>()) };
        u64::from_le(word.load(Ordering::Acquire))
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: mapped by `read_only` with this length, and unmapped only here.
        unsafe { munmap(self.address, self.length) };
    }
}
