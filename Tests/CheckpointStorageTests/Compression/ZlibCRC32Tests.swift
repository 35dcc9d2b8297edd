import CheckpointCore
import XCTest

@testable import CheckpointStorage

/// Every CRC-32 path (zlib's tables, PCLMULQDQ, AVX-512 VPCLMULQDQ), each forced, gives zlib's
/// value for every length, alignment and seed.
final class ZlibCRC32Tests: XCTestCase {
  /// Published check values: CRC-32 of "123456789" is 0xCBF43926; of 1 MiB of zeros, 0xA738EA1C.
  func testKnownValues() {
    XCTAssertEqual(Zlib.crc32(Array("123456789".utf8)), 0xCBF4_3926)
    XCTAssertEqual(Zlib.crc32([UInt8](repeating: 0, count: 1 << 20)), 0xA738_EA1C)
    XCTAssertEqual(Zlib.crc32([UInt8]()), 0)
    XCTAssertEqual(Zlib.crc32([UInt8](), seed: 0x1234_5678), 0x1234_5678)
  }

  func testEveryPathEqualsZlibForEveryLengthAlignmentAndSeed() throws {
    let paths = Zlib.CRCPath.allCases.filter(\.isAvailable)
    #if arch(x86_64)
      // Every x86-64 CPU this project meets has PCLMULQDQ; only the AVX-512 fold may be missing.
      XCTAssertTrue(paths.contains(.fold), "this CPU has no PCLMULQDQ")
    #endif
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) }
    bytes.withUnsafeBytes { all in
      let base = all.baseAddress!.assumingMemoryBound(to: UInt8.self)
      for offset in 0..<17 {
        // Up to 300 bytes: the 128-bit fold and zlib; from 1 KiB, the 512-bit fold first.
        let wide = [1023, 1024, 1025, 1039, 1040, 1279, 1280, 1281, 1535, 2047, 2048, 2064, 3001, 3333]
        for length in Array(0..<300) + [511, 512, 513] + wide + [4095, 4096, 4097, 4983 - offset] {
          for seed: UInt32 in [0, 0xFFFF_FFFF, 0xCBF4_3926] {
            let slice = UnsafeRawBufferPointer(start: base + offset, count: length)
            let expected = Zlib.zlibCRC32(base + offset, count: length, seed: UInt(seed))
            for path in paths {
              XCTAssertEqual(
                Zlib.crc32(slice, seed: seed, path: path), expected,
                "\(path): offset \(offset), length \(length), seed \(seed)")
            }
          }
        }
      }
    }
  }

  /// A CRC continued piece by piece equals the CRC of the whole.
  func testContinuationAcrossPieces() {
    let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
    let whole = Zlib.crc32(bytes)
    var crc: UInt32 = 0
    var start = 0
    for size in [1, 63, 64, 65, 1000, 16, 4096, 77] {
      crc = Zlib.crc32(Array(bytes[start..<start + size]), seed: crc)
      start += size
    }
    crc = Zlib.crc32(Array(bytes[start...]), seed: crc)
    XCTAssertEqual(crc, whole)
    XCTAssertEqual(whole, Zlib.zlibCRC32(bytes, count: bytes.count, seed: 0))
    bytes.withUnsafeBytes { raw in
      for path in Zlib.CRCPath.allCases where path.isAvailable {
        XCTAssertEqual(Zlib.crc32(raw, seed: 0, path: path), whole, "\(path)")
      }
    }
  }

  /// The fastest path the CPU has runs, unless `CKPT_SIMD` rules it out.
  func testTheFastestAllowedPathIsUsed() throws {
    #if arch(x86_64) && os(Linux)
      let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
      let has = flags.contains(" pclmulqdq") && flags.contains(" sse4_1")
      XCTAssertEqual(Zlib.CRCPath.fold.isAvailable, has)
      let wide = has && flags.contains(" avx512f") && flags.contains(" vpclmulqdq")
      XCTAssertEqual(Zlib.CRCPath.wideFold.isAvailable, wide)
      let expected: Zlib.CRCPath
      switch SIMDPolicy.current {
      case .auto: expected = wide ? .wideFold : has ? .fold : .table
      case .noAVX512: expected = has ? .fold : .table
      case .off: expected = .table
      }
      XCTAssertEqual(Zlib.crcPath, expected)
    #else
      throw XCTSkip("x86-64 Linux only")
    #endif
  }
}
