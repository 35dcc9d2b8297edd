#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs a raw system call and turns a failure (`-1` with `errno`) into a
/// ``CheckpointError`` of kind `.io` naming the call and the file.
@discardableResult
@usableFromInline
func valueOrErrno<T: FixedWidthInteger>(
  _ call: String, file: String, _ body: () -> T
) throws -> T {
  while true {
    let result = body()
    if result != -1 { return result }
    let code = errno
    if code == EINTR { continue }
    throw CheckpointError(.io, "\(call) failed: \(String(cString: strerror(code)))", file: file)
  }
}
