import CheckpointCore
import CheckpointHDF5
import CheckpointTestSupport
import Foundation
import XCTest

/// Malformed files give errors, never a crash.
final class HDF5SafetyTests: XCTestCase {
  override func setUp() { HDF5Expected.enableProbe() }

  /// Reads `bytes` as HDF5 and loads every tensor; returns the error, if any.
  private func readAll(_ bytes: [UInt8], in folder: String, name: String = "bad.h5") -> Error? {
    let path = folder + "/" + name
    do {
      try TestFixtures.write(bytes, to: path)
      let checkpoint = try HDF5Format.read(path: path)
      for tensor in checkpoint.tensors { _ = try tensor.load() }
      return nil
    } catch {
      return error
    }
  }

  func testNotHDF5() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let error = readAll(Array("not an hdf5 file at all".utf8), in: folder)
      XCTAssertEqual((error as? CheckpointError)?.kind, .badFormat)
    }
  }

  func testTruncatedCopiesAreRefusedBeforeLibhdf5() throws {
    let original = try TestFixtures.bytes("hdf5/keras2_weights.h5")
    try TestFixtures.withTemporaryFolder { folder in
      for length in [10, 60, 100, 2048, original.count / 2, original.count - 1] {
        let error = readAll(Array(original.prefix(length)), in: folder)
        XCTAssertNotNil(error, "length \(length)")
        XCTAssertTrue(error is CheckpointError, "length \(length): \(String(describing: error))")
        if length >= 100 { XCTAssertEqual((error as? CheckpointError)?.kind, .truncated, "length \(length)") }
      }
    }
  }

  func testBadSuperblockVersion() throws {
    var bytes = try TestFixtures.bytes("hdf5/h5py_types.h5")
    bytes[8] = 9
    try TestFixtures.withTemporaryFolder { folder in
      let error = readAll(bytes, in: folder) as? CheckpointError
      XCTAssertEqual(error?.kind, .badFormat)
      XCTAssertEqual(error?.offset, 8)
    }
  }

  /// Overwrites runs of bytes all over real files: every outcome is a clean
  /// read or a ``CheckpointError``; libhdf5 crashes are caught by the probe.
  func testCorruptedCopiesNeverCrash() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var errors = 0
      for fixture in ["keras2_weights.h5", "h5py_types.h5"] {
        let original = try TestFixtures.bytes("hdf5/" + fixture)
        let step = max(original.count / 25, 1)
        for (index, offset) in stride(from: 96, to: original.count - 16, by: step).enumerated() {
          var bytes = original
          for k in 0..<16 {
            bytes[offset + k] = index % 2 == 0 ? 0xFF : UInt8(truncatingIfNeeded: offset &* 31 &+ k)
          }
          if let error = readAll(bytes, in: folder, name: "\(fixture)-\(offset).h5") {
            XCTAssertTrue(error is CheckpointError, "\(fixture) at \(offset): \(error)")
            errors += 1
          }
        }
      }
      XCTAssertGreaterThan(errors, 0)
    }
  }

  /// Sixteen bytes overwritten in an object header of keras2_weights.h5 make
  /// libhdf5 1.10.8 dereference a bad pointer (SIGSEGV) while walking the file;
  /// found by fuzzing. The probe takes the crash, `ckpt` reports an error. (If
  /// the fixture is regenerated the offset may need finding again.)
  func testFileThatCrashesLibhdf5IsAnError() throws {
    var bytes = try TestFixtures.bytes("hdf5/keras2_weights.h5")
    let patch: [UInt8] = [23, 239, 117, 120, 35, 111, 130, 123, 97, 132, 70, 95, 18, 130, 86, 23]
    bytes.replaceSubrange(25757..<25773, with: patch)
    try TestFixtures.withTemporaryFolder { folder in
      let error = readAll(bytes, in: folder) as? CheckpointError
      XCTAssertEqual(error?.kind, .corrupt, "\(String(describing: error))")
    }
  }

  func testProbeReportsCrashAsError() throws {
    // A probe command that dies from a signal stands in for a libhdf5 crash.
    try TestFixtures.withTemporaryFolder { folder in
      let script = folder + "/crash.sh"
      try TestFixtures.write(Array("#!/bin/sh\nkill -SEGV $$\n".utf8), to: script)
      chmod(script, 0o755)
      HDF5Safety.probeCommand = [script]
      defer { HDF5Expected.enableProbe() }
      let error = readAll(try TestFixtures.bytes("hdf5/keras2_weights.h5"), in: folder) as? CheckpointError
      XCTAssertEqual(error?.kind, .corrupt)
      XCTAssertTrue(
        error?.message.contains("crashed with signal 11") ?? false, "\(String(describing: error))")
    }
  }
}
