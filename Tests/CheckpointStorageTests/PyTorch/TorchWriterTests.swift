import CheckpointCore
import CheckpointTestSupport
import XCTest

@testable import CheckpointStorage

final class TorchWriterTests: XCTestCase {
  func testFixturesRoundTripExactlyWithSharedStorageWrittenOnce() throws {
    try TestFixtures.withTemporaryFolder { folder in
      for name in ["views", "dtypes", "nested", "transformer"] {
        let source = try TorchFormat.read(path: TestFixtures.path("pytorch/\(name).pt"))
        let output = folder + "/\(name).pt"
        try TorchFormat.write(source, to: output, options: WriteOptions())
        let copy = try TorchFormat.read(path: output)
        XCTAssertEqual(copy.tensors.map(\.name), source.tensors.map(\.name), name)
        for (a, b) in zip(source.tensors, copy.tensors) {
          XCTAssertEqual(a.info, b.info)
          XCTAssertEqual(try a.load(), try b.load(), a.name)
        }
        // Zip layout: stored, 64-byte-aligned records, byteorder first (torch reads the top folder from it).
        let zip = try ZipReader(file: InputFile(path: output))
        XCTAssertEqual(zip.entries.first?.name, "archive/byteorder")
        for entry in zip.entries {
          XCTAssertEqual(entry.method, .stored, entry.name)
          XCTAssertEqual(entry.dataOffset % 64, 0, entry.name)
        }
        if name == "views" {
          // `base` and `alias` are one tensor: one storage record for both.
          let records = zip.entries.filter { $0.name.hasPrefix("archive/data/") }
          XCTAssertEqual(records.count, source.tensors.count - 1)
        }
      }
    }
  }

  /// `.pt` → other lossless format → `.pt` is exact, for every such format registered
  /// (safetensors once it lands; npz now).
  func testRoundTripThroughOtherFormatsIsExact() throws {
    let formats = ["safetensors", "npz"].filter(FormatRegistry.identifiers.contains)
    XCTAssertFalse(formats.isEmpty)
    try TestFixtures.withTemporaryFolder { folder in
      for format in formats {
        for name in ["dtypes", "views", "transformer", "nested"] {
          let source = try FormatRegistry.read(path: TestFixtures.path("pytorch/\(name).pt"))
          let middle = folder + "/\(name).\(format)"
          try FormatRegistry.write(source, to: middle, format: format)
          let back = folder + "/\(name)-\(format).pt"
          try FormatRegistry.write(FormatRegistry.read(path: middle), to: back)
          let copy = try TorchFormat.read(path: back)
          // safetensors orders tensors by name: compare by name.
          XCTAssertEqual(copy.tensors.map(\.name).sorted(), source.tensors.map(\.name).sorted())
          for tensor in source.tensors {
            let other = try XCTUnwrap(copy[tensor.name], "\(name) via \(format): \(tensor.name)")
            XCTAssertEqual(other.info, tensor.info)
            XCTAssertEqual(try other.load(), try tensor.load(), "\(name) via \(format): \(tensor.name)")
          }
        }
      }
    }
  }

  func testOnlyTensorsOnTheSameMemoryShareAStorage() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let shared = TensorBytes([1, 0, 0, 0, 2, 0, 0, 0])
      let tensors = [
        try Tensor(name: "a", dtype: .i32, shape: [2], bytes: shared),
        try Tensor(name: "tied", dtype: .i32, shape: [2], bytes: shared),  // same memory: one storage
        // Equal values in other memory: its own record (no aliasing after torch.load).
        try Tensor(name: "equal", dtype: .i32, shape: [2], bytes: TensorBytes(shared.array)),
        try Tensor(name: "reshaped", dtype: .i32, shape: [1, 2], bytes: shared),  // other shape: own record
      ]
      let path = folder + "/tied.pt"
      try TorchFormat.write(Checkpoint(tensors: tensors), to: path, options: WriteOptions())
      let zip = try ZipReader(file: InputFile(path: path))
      XCTAssertEqual(zip.entries.filter { $0.name.hasPrefix("archive/data/") }.count, 3)
      let copy = try TorchFormat.read(path: path)
      for tensor in tensors { XCTAssertEqual(try copy[tensor.name]?.load(), shared, tensor.name) }
    }
  }

  func testStorageSizesAreCheckedAgainstRecords() throws {
    try TestFixtures.withTemporaryFolder { folder in
      // A pickle declaring 16 elements for a record of 4 floats (CVE-2026-24747's storage size lesson).
      let path = folder + "/short.pt"
      try writeArchive(
        path: path,
        entries: [.init(name: "w", storageKey: "0", dtype: .f32, storageCount: 16, shape: [16])],
        records: ["0": [UInt8](repeating: 0, count: 16)])
      XCTAssertThrowsError(try TorchFormat.read(path: path)) {
        let error = $0 as? CheckpointError
        XCTAssertEqual(error?.kind, .corrupt)
        XCTAssertTrue(error?.message.contains("declares 16 F32 elements (64 bytes)") ?? false, "\($0)")
        XCTAssertNotNil(error?.offset)
      }
      // A missing record.
      let missing = folder + "/missing.pt"
      try writeArchive(
        path: missing, entries: [.init(name: "w", storageKey: "7", dtype: .f32, storageCount: 1, shape: [])],
        records: [:])
      XCTAssertThrowsError(try TorchFormat.read(path: missing)) {
        XCTAssertEqual(($0 as? CheckpointError)?.kind, .notFound)
      }
      // Two declarations of one storage that disagree.
      let mixed = folder + "/mixed.pt"
      try writeArchive(
        path: mixed,
        entries: [
          .init(name: "a", storageKey: "0", dtype: .f32, storageCount: 2, shape: [2]),
          .init(name: "b", storageKey: "0", dtype: .i32, storageCount: 2, shape: [2]),
        ], records: ["0": [UInt8](repeating: 0, count: 8)])
      XCTAssertThrowsError(try TorchFormat.read(path: mixed)) {
        XCTAssertTrue(($0 as? CheckpointError)?.message.contains("declared as") ?? false, "\($0)")
      }
    }
  }

  func testTopFolderComesFromTheEntries() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/renamed.pt"
      try writeArchive(
        path: path, top: "my_model-v2",
        entries: [.init(name: "w", storageKey: "0", dtype: .i16, storageCount: 2, shape: [2])],
        records: ["0": [1, 0, 0xFF, 0xFF]])
      let checkpoint = try TorchFormat.read(path: path)
      XCTAssertEqual(try checkpoint["w"]?.load().array, [1, 0, 0xFF, 0xFF])
    }
  }

  func testUnsupportedDTypesAreRefusedBeforeWriting() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let tensor = try Tensor(name: "q", dtype: .u16, shape: [1], bytes: TensorBytes([0, 0]))
      let path = folder + "/u16.pt"
      XCTAssertThrowsError(
        try TorchFormat.write(Checkpoint(tensors: [tensor]), to: path, options: WriteOptions())
      ) {
        XCTAssertEqual(($0 as? CheckpointError)?.kind, .unsupportedDType)
      }
      XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
  }

  func testDeflatedRecordsAreRead() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/deflated.pt"
      let values = (0..<64).map { UInt8($0 % 4) }
      try writeArchive(
        path: path,
        entries: [.init(name: "w", storageKey: "0", dtype: .u8, storageCount: 64, shape: [8, 8])],
        records: ["0": values], method: .deflate(level: 6))
      let tensor = try XCTUnwrap(TorchFormat.read(path: path)["w"])
      XCTAssertEqual(try tensor.load().array, values)
      XCTAssertNotNil(tensor.storedByteCount)
    }
  }

  func testZip64ArchivesAreRead() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/zip64.pt"
      try writeArchive(
        path: path, entries: [.init(name: "w", storageKey: "0", dtype: .u8, storageCount: 3, shape: [3])],
        records: ["0": [7, 8, 9]], zip64: true)
      XCTAssertEqual(try TorchFormat.read(path: path)["w"]?.load().array, [7, 8, 9])
    }
  }

  func testDeepAndCyclicPicklesAreRefusedWithoutCrashing() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let x: [UInt8] = [0x8C, 1, 0x78]  // SHORT_BINUNICODE 'x'
      let depth = 200_000
      let cases: [(String, [UInt8], String)] = [
        // {'x': [[[[...]]]]} 200,000 lists deep.
        (
          "lists",
          [0x80, 2, 0x7D] + x + [UInt8](repeating: 0x5D, count: depth)
            + [UInt8](repeating: 0x61, count: depth - 1)
            + [0x73, 0x2E], "nested deeper than 64"
        ),
        // {'x': (((None,),),)} 200,000 tuples deep.
        (
          "tuples", [0x80, 2, 0x7D] + x + [0x4E] + [UInt8](repeating: 0x85, count: depth) + [0x73, 0x2E],
          "deeper than 64"
        ),
        // {'x': l} where l contains itself.
        ("cycle", [0x80, 2, 0x7D] + x + [0x5D, 0x32, 0x61, 0x73, 0x2E], "cycle"),
      ]
      for (name, pickle, phrase) in cases {
        let path = folder + "/\(name).pt"
        try AtomicFile.write(to: path) { file in
          let zip = ZipWriter(file: file)
          try pickle.withUnsafeBytes { try zip.add(name: "archive/data.pkl", bytes: $0) }
          try zip.finish()
        }
        XCTAssertThrowsError(try TorchFormat.read(path: path), name) {
          XCTAssertTrue(($0 as? CheckpointError)?.message.contains(phrase) ?? false, "\(name): \($0)")
        }
      }
    }
  }

  /// A torch-like archive with a pickle from ``PickleWriter`` and the given records.
  private func writeArchive(
    path: String, top: String = "archive", entries: [PickleWriter.Entry], records: [String: [UInt8]],
    zip64: Bool = false, method: ZipMethod = .stored
  ) throws {
    try AtomicFile.write(to: path) { file in
      let zip = ZipWriter(file: file, forceZip64: zip64)
      let pickle = try PickleWriter.stateDict(entries)
      try pickle.withUnsafeBytes { try zip.add(name: top + "/data.pkl", bytes: $0) }
      for (key, bytes) in records.sorted(by: { $0.key < $1.key }) {
        try bytes.withUnsafeBytes {
          try zip.add(name: top + "/data/" + key, bytes: $0, method: method, alignment: 64)
        }
      }
      try zip.finish()
    }
  }
}
