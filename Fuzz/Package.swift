// swift-tools-version:6.0
// libFuzzer targets for every CheckpointKit parser. Built only by `make fuzz`
// (release, `-sanitize=fuzzer,address`), never by `swift build` of the root package.
import PackageDescription

/// One libFuzzer executable per parser: `fuzz-<name>` with sources in `Sources/fuzz-<name>`.
let parsers = ["safetensors", "npy", "npz", "pytorch", "pickle", "hdf5", "ckz", "gguf", "onnx"]

let package = Package(
  name: "CheckpointFuzz",
  dependencies: [.package(name: "CheckpointKit", path: "..")],
  targets: [
    // FuzzSupport's StoredZip.swift is a symlink to the root package's test-support copy, which
    // is not a product (test support is no API): one source, compiled into both.
    .target(
      name: "FuzzSupport",
      dependencies: [
        .product(name: "CheckpointCore", package: "CheckpointKit"),
        .product(name: "CheckpointStorage", package: "CheckpointKit"),
        .product(name: "CheckpointHDF5", package: "CheckpointKit"),
        .product(name: "CheckpointKit", package: "CheckpointKit"),
      ]
    )
  ]
    + parsers.map { name in
      .executableTarget(name: "fuzz-\(name)", dependencies: ["FuzzSupport"])
    },
  swiftLanguageModes: [.v5]
)
