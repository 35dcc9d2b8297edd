#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs a raw system call that returns `-1` and sets `errno` when it fails (`open`, `read`,
/// `write`, `fsync`, `rename`, `mkdir`, `readlink`, ...): retries it while it is interrupted
/// (`EINTR`) and turns any other failure into a ``CheckpointError`` of kind `.io` that names the
/// call, the reason and the file.
///
/// Every target makes its system calls through this helper (or ``pointerOrErrno(_:file:failure:_:)``),
/// so their errors read alike: `model.safetensors: open failed: No such file or directory`.
///
/// - Parameters:
///   - call: the call's name, as the message says it (`"fsync"`).
///   - file: the file the call is about, if any.
///   - failure: what the message says instead of "`call` failed" (`"cannot create the folder"`).
///   - tolerated: `errno` values that are not failures (`EEXIST` for `mkdir`): the call's `-1`
///     is returned.
///   - body: the call.
/// - Returns: what the call returned.
@discardableResult
public func valueOrErrno<T: FixedWidthInteger>(
  _ call: String, file: String? = nil, failure: String? = nil, tolerating tolerated: [Int32] = [],
  _ body: () -> T
) throws -> T {
  while true {
    let result = body()
    if result != -1 { return result }
    let code = errno
    if code == EINTR { continue }
    if tolerated.contains(code) { return result }
    throw systemCallError(call, file: file, failure: failure, code: code)
  }
}

/// Runs a C call that returns a null pointer and sets `errno` when it fails (`opendir`,
/// `mkdtemp`), as ``valueOrErrno(_:file:failure:tolerating:_:)`` runs one that returns `-1`.
///
/// - Returns: the pointer the call returned.
@discardableResult
public func pointerOrErrno<T>(
  _ call: String, file: String? = nil, failure: String? = nil, _ body: () -> T?
) throws -> T {
  while true {
    if let result = body() { return result }
    let code = errno
    if code == EINTR { continue }
    throw systemCallError(call, file: file, failure: failure, code: code)
  }
}

private func systemCallError(_ call: String, file: String?, failure: String?, code: Int32) -> CheckpointError
{
  CheckpointError(.io, "\(failure ?? call + " failed"): \(String(cString: strerror(code)))", file: file)
}
