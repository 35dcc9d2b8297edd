#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Facts about the machine.
enum System {
  /// The number of processors online.
  static var activeProcessorCount: Int {
    max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
  }
}

extension System {
  /// The base-2 logarithm of `value` (from the C library).
  static func log2(_ value: Double) -> Double {
    #if canImport(Glibc)
      return Glibc.log2(value)
    #else
      return Darwin.log2(value)
    #endif
  }
}
