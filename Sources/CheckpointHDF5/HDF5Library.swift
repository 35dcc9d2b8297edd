internal import CHDF5
import CheckpointCore
import Foundation

/// The one gate to libhdf5.
///
/// Every call into the C library goes through ``call(_:kind:_:)`` (or its
/// siblings ``size(_:_:)`` and ``enumeration(_:_:)`` for functions that signal
/// failure with 0 or a negative enum), which
///
/// - holds a single process-wide lock, so libhdf5 is never entered from two
///   threads at once (Debian's build is thread-safe, but other builds are not,
///   and the error stack is per thread anyway);
/// - turns a negative return value (`hid_t`, `herr_t`, `htri_t`, `ssize_t`)
///   into a ``CheckpointError`` that carries HDF5's own error stack, walked
///   from the innermost failing function outwards.
///
/// Only closes (in ``HDF5Object``'s `deinit`) and `H5Dget_storage_size`
/// (whose 0 means "nothing allocated" as well as failure) use ``locked(_:)``
/// directly.
///
/// libhdf5's automatic printing of the error stack to stderr is switched off.
///
/// libhdf5 is loaded on first use, not linked (see `CHDF5.h`): ``load(for:)``
/// runs at the start of every file open or create, and `call`, `size` and
/// `enumeration` check it too, so a machine without libhdf5 gets an error
/// naming what was tried, and commands that never read HDF5 do not pay for
/// loading it and the libraries it depends on.
enum HDF5Library {
  /// Why libhdf5 could not be loaded, or `nil` once it is (tried once per process).
  private static let loadFailure: String? = ckh5_load().map { String(cString: $0) }

  /// Loads libhdf5 if it is not yet loaded; throws `unsupported` naming
  /// `file` (when given) and every library tried when it cannot be loaded.
  static func load(for file: String? = nil) throws {
    if let loadFailure {
      throw CheckpointError(.unsupported, "cannot load libhdf5: \(loadFailure)", file: file)
    }
  }

  /// The lock around every libhdf5 call. Recursive, so a helper that holds it
  /// may call other helpers.
  private static let lock = NSRecursiveLock()

  /// Runs `body` under the lock, with automatic error printing off.
  ///
  /// libhdf5 must already be loaded: every caller holds an object that a
  /// ``call(_:kind:_:)`` opened.
  ///
  /// A thread-safe libhdf5 keeps one error stack, and one auto-print setting,
  /// per thread, so printing is switched off on every entry (a cheap field store).
  static func locked<R>(_ body: () throws -> R) rethrows -> R {
    lock.lock()
    defer { lock.unlock() }
    H5Eset_auto2(ckh5_E_DEFAULT(), nil, nil)
    return try body()
  }

  /// Calls `body` (one libhdf5 function) under the lock; a negative result
  /// becomes an error naming `function` and carrying HDF5's error stack.
  @discardableResult
  static func call<T: BinaryInteger>(
    _ function: String, kind: CheckpointError.Kind = .corrupt, _ body: () -> T
  ) throws -> T {
    try load()
    return try locked {
      let result = body()
      if result < 0 {
        throw CheckpointError(kind, "\(function) failed\(errorStackText())")
      }
      return result
    }
  }

  /// Calls a libhdf5 function that returns a size, where 0 means failure
  /// (`H5Tget_size`, `H5Tget_precision`, `H5Tget_ebias`).
  static func size(_ function: String, _ body: () -> Int) throws -> Int {
    try load()
    return try locked {
      let result = body()
      if result <= 0 { throw CheckpointError(.corrupt, "\(function) failed\(errorStackText())") }
      return result
    }
  }

  /// Calls a libhdf5 function that returns a C enum whose negative value means
  /// failure (`H5Tget_class`, `H5Tget_order`, `H5Sget_simple_extent_type`, ...).
  static func enumeration<E: RawRepresentable>(_ function: String, _ body: () -> E) throws -> E
  where E.RawValue: BinaryInteger {
    try load()
    return try locked {
      let result = body()
      if result.rawValue < 0 { throw CheckpointError(.corrupt, "\(function) failed\(errorStackText())") }
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
