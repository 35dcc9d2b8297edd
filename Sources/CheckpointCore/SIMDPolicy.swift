import Foundation

/// Which of CheckpointKit's own vector code paths may run, from the `CKPT_SIMD` environment
/// variable: `auto` (the default: the best path the CPU has), `no-avx512` (no AVX-512 paths)
/// or `off` (only the portable scalar code).
///
/// Every vector path gives the same bytes as its portable fallback (the tests force each one),
/// so the setting changes speed only; it exists to prove that, and to rule a vector path out
/// when a result is in doubt. The paths: the CRC-32 (table, PCLMULQDQ, AVX-512 VPCLMULQDQ) and
/// the quantization kernels (16-lane blocks, or the scalar loop). The BLAS kernel is OpenBLAS's
/// choice (`OPENBLAS_CORETYPE`); see `Docs/determinism.md`.
public enum SIMDPolicy: String, Sendable, CaseIterable {
  /// The best path the CPU has.
  case auto
  /// Everything but the AVX-512 paths.
  case noAVX512 = "no-avx512"
  /// The portable scalar code only.
  case off

  /// The policy of this process (`CKPT_SIMD`); an unknown value is `auto`, with a warning on stderr.
  public static let current: SIMDPolicy = {
    guard let text = ProcessInfo.processInfo.environment["CKPT_SIMD"], !text.isEmpty else { return .auto }
    if let policy = SIMDPolicy(rawValue: text.lowercased()) { return policy }
    let names = allCases.map(\.rawValue).joined(separator: ", ")
    FileHandle.standardError.write(
      Data("warning: CKPT_SIMD=\(text) is not one of \(names); using auto\n".utf8))
    return .auto
  }()

  /// Whether vector code may run at all.
  public var allowsVectors: Bool { self != .off }

  /// Whether AVX-512 code may run (where the CPU has it).
  public var allowsAVX512: Bool { self == .auto }
}
