internal import CHDF5
import CheckpointCore
import Foundation

/// The one gate to libhdf5.
///
/// Every call into the C library goes through ``call(_:_:)``, which
///
/// - holds a single process-wide lock, so libhdf5 is never entered from two
///   threads at once (Debian's build is thread-safe, but other builds are not,
///   and the error stack is per thread anyway);
/// - turns a negative return value (`hid_t`, `herr_t`, `htri_t`, `ssize_t`)
///   into a ``CheckpointError`` that carries HDF5's own error stack, walked
///   from the innermost failing function outwards.
///
/// libhdf5's automatic printing of the error stack to stderr is switched off
/// the first time the library is used.
enum HDF5Library {
  /// The lock around every libhdf5 call. Recursive, so a helper that holds it
  /// may call other helpers.
  private static let lock = NSRecursiveLock()

  /// Whether `H5open` ran and automatic error printing is off.
  nonisolated(unsafe) private static var initialized = false

  /// Runs `body` under the lock.
  static func locked<R>(_ body: () throws -> R) rethrows -> R {
    lock.lock()
    defer { lock.unlock() }
    if !initialized {
      initialized = true
      H5open()
      H5Eset_auto2(ckh5_E_DEFAULT(), nil, nil)
    }
    return try body()
  }

  /// Calls `body` (one libhdf5 function) under the lock; a negative result
  /// becomes an error naming `function` and carrying HDF5's error stack.
  @discardableResult
  static func call<T: BinaryInteger>(
    _ function: String, kind: CheckpointError.Kind = .corrupt, _ body: () -> T
  ) throws -> T {
    try locked {
      let result = body()
      if result < 0 {
        throw CheckpointError(kind, "\(function) failed\(errorStackText())")
      }
      return result
    }
  }

  /// The current thread's HDF5 error stack as `: innermost; …; outermost`,
  /// or an empty string when it is empty. Clears the stack.
  private static func errorStackText() -> String {
    let stack = H5Eget_current_stack()
    guard stack >= 0 else { return "" }
    defer { H5Eclose_stack(stack) }
    final class Collector { var lines: [String] = [] }
    let collector = Collector()
    let walker: H5E_walk2_t = { _, entry, context in
      guard let entry, let context else { return 0 }
      let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
      let function = entry.pointee.func_name.map { String(cString: $0) } ?? "?"
      var text = entry.pointee.desc.map { String(cString: $0) } ?? ""
      var minor = [CChar](repeating: 0, count: 256)
      if H5Eget_msg(entry.pointee.min_num, nil, &minor, 256) > 0 {
        let minorText = String(cString: minor)
        if !minorText.isEmpty { text += text.isEmpty ? minorText : " (\(minorText))" }
      }
      collector.lines.append("\(function): \(text)")
      return 0
    }
    let context = Unmanaged.passUnretained(collector).toOpaque()
    withExtendedLifetime(collector) {
      _ = H5Ewalk2(stack, H5E_WALK_UPWARD, walker, context)
    }
    guard !collector.lines.isEmpty else { return "" }
    // Keep the message readable: the innermost causes matter most.
    return ": " + collector.lines.prefix(4).joined(separator: "; ")
  }
}
