import CheckpointCore
import CheckpointKit
import CheckpointStorage
import CheckpointTestSupport
import Foundation
import XCTest

/// Runs damaged copies of a file through a reader and checks the one promise
/// every reader makes about hostile bytes: the answer is a checkpoint whose
/// tensors load (or throw a ``CheckpointError``), or a ``CheckpointError``
/// naming the file — never another error, a crash or a huge allocation.
///
/// Memory is bounded by ``MemoryCeiling``: the cases run with the process's
/// data segment limited (`RLIMIT_DATA`), so an allocation sized from a
/// declared length instead of the bytes present fails loudly.
struct CorruptionHarness {
  /// How the damaged files fared.
  struct Outcomes: CustomStringConvertible {
    /// Files read with every tensor loaded.
    var read = 0
    /// Files refused (or with a tensor refused) with a ``CheckpointError``.
    var refused = 0
    var description: String { "\(read) read, \(refused) refused" }
  }

  /// The reader under test.
  let format: any CheckpointFormat.Type
  /// The scratch file the cases are written to.
  let path: String
  /// The tally so far.
  private(set) var outcomes = Outcomes()

  /// A harness for `format` writing its cases to `folder/case.<ext>`.
  init(format identifier: String, folder: String, fileExtension: String) throws {
    self.format = try FormatRegistry.format(named: identifier)
    self.path = folder + "/case." + fileExtension
  }

  /// Writes `bytes` to the scratch file, reads it and loads every tensor.
  ///
  /// - Returns: whether the file was read and all its tensors loaded.
  @discardableResult
  mutating func check(
    _ bytes: [UInt8], _ label: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line
  ) throws -> Bool {
    try TestFixtures.write(bytes, to: path)
    do {
      let checkpoint = try format.read(path: path)
      for tensor in checkpoint.tensors {
        let loaded = try tensor.load()
        XCTAssertEqual(loaded.count, try tensor.info.byteCount(), label(), file: file, line: line)
      }
      outcomes.read += 1
      return true
    } catch let error as CheckpointError {
      XCTAssertEqual(error.file, path, "\(label()): \(error)", file: file, line: line)
      outcomes.refused += 1
      return false
    } catch {
      XCTFail("\(label()): not a CheckpointError: \(error)", file: file, line: line)
      return false
    }
  }

  /// Checks that `bytes` is refused.
  mutating func expectRefusal(
    _ bytes: [UInt8], _ label: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let description = label()
    if try check(bytes, description, file: file, line: line) {
      XCTFail("\(description): was read, expected a CheckpointError", file: file, line: line)
    }
  }
}

extension CorruptionHarness {
  /// Runs `body` with a harness for `format` writing into a scratch folder, under the
  /// memory ceiling, and returns how the damaged files fared.
  static func sweep(
    format: String, fileExtension: String, _ body: (inout CorruptionHarness) throws -> Void
  ) throws -> Outcomes {
    try TestFixtures.withTemporaryFolder { folder in
      var harness = try CorruptionHarness(format: format, folder: folder, fileExtension: fileExtension)
      try MemoryCeiling.run { try body(&harness) }
      return harness.outcomes
    }
  }

  /// Checks every proper prefix of each fixture (each must be refused).
  mutating func checkEveryTruncation(
    of fixtures: [String], file: StaticString = #filePath, line: UInt = #line
  )
    throws
  {
    for fixture in fixtures {
      for (label, bytes) in Corruption.truncations(try TestFixtures.bytes(fixture)) {
        try expectRefusal(bytes, "\(fixture) \(label)", file: file, line: line)
      }
    }
  }

  /// Checks each fixture with every byte before `end(bytes)` set to each boundary value.
  mutating func checkBoundaryValues(
    in fixtures: [String], before end: ([UInt8]) -> Int, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    for fixture in fixtures {
      let original = try TestFixtures.bytes(fixture)
      for (label, bytes) in Corruption.boundaryChanges(original, in: 0..<end(original)) {
        try check(bytes, "\(fixture) \(label)", file: file, line: line)
      }
    }
  }
}

/// The systematic damage the suite applies.
enum Corruption {
  /// Byte values at the edges of signed and unsigned ranges.
  static let boundaryBytes: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF]

  /// Every proper prefix of `bytes` (every truncation length).
  static func truncations(_ bytes: [UInt8]) -> [(label: String, bytes: [UInt8])] {
    (0..<bytes.count).map { ("truncated to \($0) bytes", Array(bytes.prefix($0))) }
  }

  /// `bytes` with each byte in `range` set, one at a time, to each boundary value
  /// (values equal to the original are skipped).
  static func boundaryChanges(_ bytes: [UInt8], in range: Range<Int>) -> [(label: String, bytes: [UInt8])] {
    var cases: [(label: String, bytes: [UInt8])] = []
    for position in range.clamped(to: 0..<bytes.count) {
      for value in boundaryBytes where value != bytes[position] {
        var copy = bytes
        copy[position] = value
        cases.append(("byte \(position) set to 0x\(String(value, radix: 16))", copy))
      }
    }
    return cases
  }

  /// `bytes` with the little-endian integer of `width` bytes at `offset` set to `value`.
  static func settingInteger(_ bytes: [UInt8], at offset: Int, width: Int, to value: UInt64) -> [UInt8] {
    var copy = bytes
    for index in 0..<width { copy[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
    return copy
  }

  /// Little-endian values that overflow naive size arithmetic, for fields of `width` bytes.
  static func hugeValues(width: Int) -> [UInt64] {
    let all: UInt64 = width == 8 ? .max : (1 << (8 * UInt64(width))) - 1
    return [all, all >> 1, (all >> 1) + 1, all - 1, 1 << (8 * UInt64(width) - 2)]
  }

  /// Decimal numbers that overflow 64-bit sizes or are out of range.
  static let hugeDecimals = [
    "9223372036854775807", "18446744073709551615", "9223372036854775808", "4294967296", "-1",
    "340282366920938463463374607431768211456",
  ]

  /// The ranges of runs of ASCII digits in `text` that are not inside a quoted string.
  static func numberRanges(in text: [UInt8], quote: UInt8) -> [Range<Int>] {
    var ranges: [Range<Int>] = []
    var inString = false
    var index = 0
    while index < text.count {
      let byte = text[index]
      if byte == quote {
        inString.toggle()
      } else if byte == UInt8(ascii: "\\"), inString {
        index += 1
      } else if !inString, (0x30...0x39).contains(byte) {
        let start = index
        while index < text.count, (0x30...0x39).contains(text[index]) { index += 1 }
        ranges.append(start..<index)
        continue
      }
      index += 1
    }
    return ranges
  }
}

/// Limits the process's data segment while corruption cases run, so that a
/// reader allocating from a declared size (rather than from the bytes it has)
/// fails the test instead of quietly using gigabytes.
enum MemoryCeiling {
  /// How much the data segment may grow over its size when the body starts.
  static let headroom = 512 << 20

  /// The process's current data segment size (`VmData`), in bytes.
  static func dataSegmentSize() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmData:") {
      let digits = line.filter(\.isNumber)
      return Int(digits).map { $0 * 1024 }
    }
    return nil
  }

  /// Runs `body` with `RLIMIT_DATA` at the current data size plus ``headroom``
  /// (where the platform reports it), then restores the limit.
  static func run<R>(_ body: () throws -> R) rethrows -> R {
    #if os(Linux)
      var saved = rlimit()
      guard let current = dataSegmentSize(), getrlimit(RLIMIT_DATA_ID, &saved) == 0 else { return try body() }
      var limited = saved
      limited.rlim_cur = rlim_t(min(UInt64(current + headroom), UInt64(saved.rlim_max)))
      guard setrlimit(RLIMIT_DATA_ID, &limited) == 0 else { return try body() }
      defer { _ = setrlimit(RLIMIT_DATA_ID, &saved) }
    #endif
    return try body()
  }

  #if os(Linux)
    private static let RLIMIT_DATA_ID = __rlimit_resource_t(RLIMIT_DATA.rawValue)
  #endif
}
