import CheckpointHDF5
import FuzzSupport

// Fuzzes the HDF5 front door: signature detection and the Swift pre-validation
// that runs before libhdf5 sees a file. libhdf5 itself is not fuzzed in-process:
// it is not safe on hostile files, which is why `ckpt` probes files in a child
// process (see Docs/security.md; `Tests/crash/test_hdf5_inspect.py` runs
// `ckpt inspect` on mutated files).

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let input = FuzzHarness.bytes(data, size)
  let path = FuzzHarness.writeInput(input, suffix: "h5")
  let prefix = Array(input.prefix(64))
  for format in HDF5Formats.all { _ = format.matches(prefix: prefix) }
  _ = HDF5Safety.hasSignature(prefix)
  FuzzHarness.expectingCheckpointErrors {
    let size = try HDF5Safety.preValidate(path: path)
    if size != input.count { FuzzHarness.fail("preValidate returned size \(size) for \(input.count) bytes") }
  }
  return 0
}

@_cdecl("fuzz_hdf5_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  FuzzHarness.driver(argc, argv, testOneInput)
}
