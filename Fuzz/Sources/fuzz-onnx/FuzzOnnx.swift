import FuzzSupport

// Fuzzes the 'onnx' reader through the format registry: read the file, then load every tensor.

private let format = FuzzHarness.format(named: "onnx")

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  FuzzHarness.fuzzFormat(data, size, format: format, suffix: "onnx")
}

@_cdecl("fuzz_onnx_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  _ = format
  return FuzzHarness.driver(argc, argv, testOneInput)
}
