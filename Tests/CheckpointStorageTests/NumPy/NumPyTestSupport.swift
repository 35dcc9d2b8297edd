import CheckpointCore
import CheckpointStorage
import CheckpointTestSupport
import XCTest

/// Helpers shared by the zip and NumPy tests.
enum NumPyTestSupport {
  /// One array of `Fixtures/numpy/expected.json`, as numpy described it.
  struct ExpectedArray {
    var dtype: String
    var shape: [Int]
    /// The C-order little-endian bytes.
    var bytes: [UInt8]
    var values: [JSONValue]
  }

  /// One fixture file of `expected.json`.
  struct ExpectedFile {
    var kind: String
    var order: [String]
    var arrays: [String: ExpectedArray]
  }

  /// Everything `Fixtures/gen/numpy.py` recorded, by file name.
  static func expected() throws -> [String: ExpectedFile] {
    let json = try JSONValue.parse(TestFixtures.bytes("numpy/expected.json"))
    var files: [String: ExpectedFile] = [:]
    for (name, file) in json.objectValue ?? [] {
      var arrays: [String: ExpectedArray] = [:]
      for (tensor, array) in file["tensors"]?.objectValue ?? [] {
        arrays[tensor] = ExpectedArray(
          dtype: array["dtype"]?.stringValue ?? "",
          shape: (array["shape"]?.arrayValue ?? []).compactMap(\.intValue),
          bytes: try bytes(hex: array["hex"]?.stringValue ?? ""),
          values: array["values"]?.arrayValue ?? [])
      }
      let order = (file["order"]?.arrayValue ?? []).compactMap(\.stringValue)
      files[name] = ExpectedFile(
        kind: file["kind"]?.stringValue ?? "", order: order.isEmpty ? Array(arrays.keys) : order,
        arrays: arrays)
    }
    return files
  }

  static func bytes(hex: String) throws -> [UInt8] {
    let digits = Array(hex.utf8)
    guard digits.count % 2 == 0 else { throw CheckpointError(.corrupt, "odd hex") }
    return try stride(from: 0, to: digits.count, by: 2).map { i in
      guard let byte = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else {
        throw CheckpointError(.corrupt, "bad hex")
      }
      return byte
    }
  }

  /// Asserts that `body` throws a ``CheckpointError`` of `kind` whose text contains `text`.
  @discardableResult
  static func assertError<T>(
    _ kind: CheckpointError.Kind, containing text: String? = nil, _ body: () throws -> T,
    file: StaticString = #filePath, line: UInt = #line
  ) -> CheckpointError? {
    do {
      _ = try body()
      XCTFail("expected a \(kind) error, got success", file: file, line: line)
    } catch let error as CheckpointError {
      XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
      if let text {
        XCTAssertTrue(error.description.contains(text), "'\(error)' lacks '\(text)'", file: file, line: line)
      }
      return error
    } catch {
      XCTFail("expected a CheckpointError, got \(error)", file: file, line: line)
    }
    return nil
  }

  /// Writes `bytes` to a file named `name` in `folder` and returns its path.
  static func file(_ bytes: [UInt8], named name: String, in folder: String) throws -> String {
    let path = folder + "/" + name
    try TestFixtures.write(bytes, to: path)
    return path
  }

  /// Reads a checkpoint and loads every tensor (to surface lazy errors).
  static func readAndLoad(_ path: String, format: String? = nil) throws -> [(Tensor, TensorBytes)] {
    let checkpoint = try FormatRegistry.read(path: path, format: format)
    return try checkpoint.tensors.map { ($0, try $0.load()) }
  }

  /// A little-endian integer from `bytes` at `offset`.
  static func readLE<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as _: T.Type = T.self) -> T {
    var value: T = 0
    for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
    return value
  }

  /// Overwrites `bytes` at `offset` with `value` in little-endian order.
  static func writeLE<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8], at offset: Int) {
    for (i, byte) in value.littleEndianBytes.enumerated() { bytes[offset + i] = byte }
  }
}

extension NumPyTestSupport {
  /// A JSON number as `Double`.
  static func double(_ value: JSONValue) -> Double? {
    switch value {
    case .double(let d): return d
    case .integer(let i): return Double(i)
    default: return nil
    }
  }

  /// Decodes little-endian elements of `T` from tensor bytes.
  static func elements<T: FixedWidthInteger>(_ bytes: TensorBytes, as _: T.Type) -> [T] {
    let raw = bytes.array
    let size = MemoryLayout<T>.size
    return stride(from: 0, to: raw.count, by: size).map { readLE(raw, at: $0, as: T.self) }
  }
}
